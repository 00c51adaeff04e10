/* 03_v1_global_gen — lesson 03, version 1: req_a as a generator, resumed through a global.
 *
 * Callbacks cut req_a in two. A generator keeps it in one piece: req_a yields where it
 * waits, and the I/O thread sends the result back in through the global gen, so req_a
 * goes on from its yield as if long_io had returned. main still has to start req_a as
 * a generator (create it, then next) rather than call it.
 */
#include "gen.h"
#include "gil.h"
#include "lesson.h"

static gen_t *gen; /* the global generator long_io resumes */

static void fun(void *arg) /* the slow part, on the I/O thread */
{
    (void)arg;
    lesson_say("Start the I/O operation", "开始执行IO操作");
    gil_sleep(5);
    lesson_say("I/O done, send the result to wake the suspended request",
               "完成IO操作,并send结果唤醒挂起程序继续执行");
    gen_send(gen, "io result", NULL); /* req_a goes on here, on this thread, to its end */
}

static void *long_io(void)
{
    gil_thread_start("io", fun, NULL);
    return NULL;
}

static void *req_a(gen_t *self)
{
    lesson_say("Start handling request req_a", "开始处理请求req_a");
    const char *ret = gen_yield(self, long_io());
    lesson_sayf("ret: %s", "ret: %s", ret);
    lesson_say("Finish handling request req_a", "完成处理请求req_a");
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
        .about = "req_a as a generator, resumed through a global.\n"
                 "It yields where it waits; the I/O thread sends the result back in.",
        .threads = true,
    };
    lesson_init(argc, argv, &info);
    gen = gen_create("req_a", req_a, NULL);
    gen_next(gen); /* runs req_a up to its yield */
    req_b();
    gil_join_all(); /* the document spins in `while 1: pass`; we wait for the thread */
    gen_free(gen);
    return lesson_exit();
}
