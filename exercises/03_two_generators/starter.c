/* 03_two_generators — exercise 3, after lesson 03: two requests, each with its own state.
 *
 * This is 03_two_requests: version 1 of lesson 03 with two requests in flight. The
 * request to resume is kept in one global, so starting req_a#2 overwrites req_a#1: both
 * I/O threads send their result to req_a#2, and req_a#1 never finishes. The exercise:
 * get rid of the global, as 03_v3_final does, so that each result goes to its request.
 */
#include "gen.h"
#include "gil.h"
#include "lesson.h"

#include <stdint.h>

/* TODO(exercise): the global holds one request, and a server has many in flight. Give
 * each request its own state instead, as 03_v3_final does. */
static gen_t *gen; /* the global generator long_io resumes: the last request started */

static const char *const results[] = {"io result #1", "io result #2"};

static void fun(void *arg) /* the slow part, on the I/O thread */
{
    int n = (int)(intptr_t)arg; /* which I/O this is: 1 or 2 */
    lesson_sayf("Start the I/O operation #%d", "开始执行IO操作#%d", n);
    gil_sleep(5);
    lesson_sayf("I/O #%d done, send its result to %s", "完成IO操作#%d,并send结果给%s", n,
                gen_name(gen));
    if (gen_send(gen, (void *)results[n - 1], NULL) < 0) /* req_a goes on here */
        lesson_sayf("The send failed: %s has already finished, so %s is lost",
                    "send失败:%s已经结束,%s丢失了", gen_name(gen), results[n - 1]);
}

static void *long_io(int n)
{
    static const char *const lanes[] = {"io-1", "io-2"};
    gil_thread_start(lanes[n - 1], fun, (void *)(intptr_t)n);
    return NULL;
}

static void *req_a(gen_t *self)
{
    int n = (int)(intptr_t)gen_arg(self); /* which request this is: 1 or 2 */
    lesson_sayf("Start handling request %s", "开始处理请求%s", gen_name(self));
    const char *ret = gen_yield(self, long_io(n));
    lesson_sayf("ret: %s", "ret: %s", ret);
    lesson_sayf("Finish handling request %s", "完成处理请求%s", gen_name(self));
    return NULL;
}

/* Starts request n: runs it up to its yield. */
static gen_t *start_request(const char *name, int n)
{
    gen = gen_create(name, req_a, (void *)(intptr_t)n); /* the global now holds it */
    gen_next(gen);
    return gen;
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
        .about = "two requests in flight, each with its own state: no global generator.\n"
                 "Each I/O thread sends its result to its own request.",
        .threads = true,
    };
    lesson_init(argc, argv, &info);
    gen_t *reqs[] = {start_request("req_a#1", 1), start_request("req_a#2", 2)};
    req_b();
    gil_join_all(); /* the document spins in `while 1: pass`; we wait for the threads */
    for (int i = 0; i < 2; i++) {
        if (gen_get_state(reqs[i]) == GEN_SUSPENDED)
            lesson_sayf("%s never finished: it still waits at its yield, and no thread will "
                        "resume it",
                        "%s永远不会完成:它仍挂起在yield处,没有线程会再唤醒它",
                        gen_name(reqs[i]));
        gen_free(reqs[i]);
    }
    return lesson_exit();
}
