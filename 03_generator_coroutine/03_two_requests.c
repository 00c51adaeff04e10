/* 03_two_requests — lesson 03, aside: version 1 with two requests in flight.
 *
 * Version 1 keeps the request to resume in one global. Start two requests and the global
 * holds only the second: both I/O threads send their result to it. req_a#2 gets the
 * first result, the second result is sent to a finished generator and lost, and req_a#1
 * never finishes. That is why the final version gets rid of the global.
 */
#include "gen.h"
#include "gil.h"
#include "lesson.h"

#include <stdint.h>

static gen_t *gen; /* the global generator long_io resumes: the last request started */

static const char *const results[] = {"io result #1", "io result #2"};

static void fun(void *arg) /* the slow part, on the I/O thread */
{
    int n = (int)(intptr_t)arg; /* which I/O this is: 1 or 2 */
    lesson_sayf("Start the I/O operation #%d", "开始执行IO操作#%d", n);
    gil_sleep(5);
    lesson_sayf("I/O #%d done, send its result to the global generator, %s",
                "完成IO操作#%d,并send结果给全局生成器%s", n, gen_name(gen));
    if (gen_send(gen, (void *)results[n - 1], NULL) < 0) /* req_a goes on here, on this thread */
        lesson_sayf("The send failed: %s has already finished, so %s is lost",
                    "send失败:%s已经结束,%s丢失了", gen_name(gen), results[n - 1]);
}

static void *long_io(void)
{
    static const char *const lanes[] = {"io-1", "io-2"};
    static int started;
    int n = started++ % 2 + 1;
    gil_thread_start(lanes[n - 1], fun, (void *)(intptr_t)n);
    return NULL;
}

static void *req_a(gen_t *self)
{
    lesson_sayf("Start handling request %s", "开始处理请求%s", gen_name(self));
    const char *ret = gen_yield(self, long_io());
    lesson_sayf("ret: %s", "ret: %s", ret);
    lesson_sayf("Finish handling request %s", "完成处理请求%s", gen_name(self));
    return NULL;
}

static void req_b(void)
{
    lesson_say("Start handling request req_b", "开始处理请求req_b");
    gil_sleep(2); /* makes the interleaving visible */
    lesson_say("Finish handling request req_b", "完成处理请求req_b");
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "version 1 with two requests in flight: why the global has to go.\n"
                 "Both results go to the last request started; the first never finishes.",
        .threads = true,
    };
    lesson_init(argc, argv, &info);
    gen_t *first = gen = gen_create("req_a#1", req_a, NULL);
    gen_next(gen); /* runs req_a#1 up to its yield */
    gen = gen_create("req_a#2", req_a, NULL); /* the global now holds the second request */
    gen_next(gen);
    req_b();
    gil_join_all(); /* the document spins in `while 1: pass`; we wait for the threads */
    if (gen_get_state(first) == GEN_SUSPENDED)
        lesson_say("req_a#1 never finished: it still waits at its yield, and no thread will "
                   "resume it",
                   "req_a#1永远不会完成:它仍挂起在yield处,没有线程会再唤醒它");
    gen_free(first);
    gen_free(gen);
    return lesson_exit();
}
