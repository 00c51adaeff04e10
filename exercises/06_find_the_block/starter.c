/* 06_find_the_block — exercise 6: a dashboard that asks three sources at once.
 *
 * The dashboard spawns three coroutines on one loop: news, stocks and weather. Each asks
 * its service and waits for the answer with the loop's sleep, so the three waits overlap
 * and the page should be ready after the longest chain (4 s), not after the sum. stocks
 * first loads its symbol table, which takes 2 s.
 *
 * TODO(exercise): something here stops the whole loop for a while, and the lines come
 * out of order (compare with exercises/06_find_the_block/expected.en.txt). Do not hunt
 * by reading: run this program with --trace, let the tracer (build/bin/asynctrace) tell
 * you which coroutine blocked the loop and from which step, then fix that call so that
 * it waits on the loop like the others.
 */
#include "coro.h"
#include "gil.h"
#include "lesson.h"

/* Asking a service: the answer comes seconds later; the loop runs others meanwhile. */
static void ask(double seconds)
{
    coro_await(coro_sleep(lesson_seconds(seconds)), NULL);
}

/* The symbol table comes from a slow disk: 2 s. */
static void load_symbols(void)
{
    gil_sleep(2);
}

static void *news(void *arg)
{
    (void)arg;
    lesson_say("News: asking the news service", "新闻：正在请求新闻服务");
    ask(1);
    lesson_say("News: 3 headlines", "新闻：3条头条");
    return NULL;
}

static void *stocks(void *arg)
{
    (void)arg;
    lesson_say("Stocks: loading the symbol table", "股票：正在加载代码表");
    load_symbols();
    lesson_say("Stocks: symbols loaded, asking for prices", "股票：代码表已加载，正在请求价格");
    ask(2);
    lesson_say("Stocks: 3 prices", "股票：3个价格");
    return NULL;
}

static void *weather(void *arg)
{
    (void)arg;
    lesson_say("Weather: asking the weather service", "天气：正在请求天气服务");
    ask(3);
    lesson_say("Weather: sunny, 21 degrees", "天气：晴，21度");
    return NULL;
}

static void *dashboard(void *arg)
{
    (void)arg;
    lesson_say("The dashboard asks its three sources at once", "仪表盘同时请求三个数据源");
    future_t *parts[] = {coro_spawn("news", news, NULL), coro_spawn("stocks", stocks, NULL),
                         coro_spawn("weather", weather, NULL)};
    coro_await(coro_multi(parts, 3), NULL);
    lesson_say("The page is ready: news, stocks and weather", "页面已就绪：新闻、股票和天气");
    return NULL;
}

static future_t *start(void *arg)
{
    return coro_spawn("dashboard", dashboard, arg);
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "exercise 6: three sources asked at once on one loop.\n"
                 "Run it with --trace and read the trace with asynctrace.",
    };
    lesson_init(argc, argv, &info);
    ioloop_t *loop = ioloop_current();
    future_unref(ioloop_run_sync(loop, start, NULL, 0));
    ioloop_free(loop);
    return lesson_exit();
}
