/* 04_parallel — lesson 04: waiting for several coroutines at once (document 003, 并行).
 *
 * A coroutine may wait for a list of futures, or for named ones (the documents'
 * `yield [...]` and `yield {...}`): all of them run at the same time, and the results
 * come back in the order asked for (or under the names given), not in the order they
 * finished. fetch stands in for the documents' http_client.fetch: it takes as many
 * seconds as its URL says; lesson 05 makes it a real HTTP request.
 */
#include "coro.h"
#include "lesson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct url {
    const char *name;
    double seconds;
};

static const struct url url1 = {"url1", 2}, url2 = {"url2", 1};

static void *fetch(void *arg)
{
    const struct url *u = arg;
    lesson_sayf("fetch %s: start", "开始获取 %s", u->name);
    coro_await(coro_sleep(lesson_seconds(u->seconds)), NULL);
    lesson_sayf("fetch %s: done after %g s", "获取 %s 完成, 用时 %g 秒", u->name, u->seconds);
    char *body = lesson_alloc(32);
    snprintf(body, 32, "<%s body>", u->name);
    return body;
}

static future_t *fetch_async(const struct url *u)
{
    return coro_spawn(u->name, fetch, (void *)u);
}

static void *parallel_fetch(void *arg)
{
    (void)arg;
    void *r;
    future_t *list[] = {fetch_async(&url1), fetch_async(&url2)};
    coro_await(coro_multi(list, 2), &r); /* resp1, resp2 = yield [fetch(url1), fetch(url2)] */
    char **resp = r;
    lesson_sayf("list: [%s, %s]", "列表结果: [%s, %s]", resp[0], resp[1]);
    free(resp[0]);
    free(resp[1]);

    const char *names[] = {"url1", "url2"};
    future_t *dict[] = {fetch_async(&url1), fetch_async(&url2)};
    coro_await(coro_multi_named(names, dict, 2), &r); /* yield {url: fetch(url) ...} */
    const struct coro_named_results *named = r;
    for (size_t i = 0; i < named->n; i++) {
        lesson_sayf("dict[%s] = %s", "字典结果[%s] = %s", named->names[i], (char *)named->values[i]);
        free(named->values[i]);
    }
    return NULL;
}

static future_t *start(void *arg)
{
    return coro_spawn("parallel_fetch", parallel_fetch, arg);
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "yielding a list and a dict of coroutines (document 003): all run at once.\n"
                 "The results come back in the order asked for, not the order they finished.",
    };
    lesson_init(argc, argv, &info);
    ioloop_t *loop = ioloop_current();
    future_unref(ioloop_run_sync(loop, start, NULL, 0));
    ioloop_free(loop);
    return lesson_exit();
}
