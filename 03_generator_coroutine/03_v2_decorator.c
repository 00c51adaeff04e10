/* 03_v2_decorator — lesson 03, version 2: a wrapper hides create-and-start.
 *
 * Version 1 made main treat req_a as a generator. The document wraps req_a in a
 * decorator, gen_coroutine, that creates the generator, keeps it in the global and
 * starts it; main then calls req_a() like any function. C has no decorators: the macro
 * GEN_COROUTINE is the nearest honest thing.
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

/* What the document's decorator does when req_a() is called. */
static void gen_coroutine(const char *name, gen_fn *body)
{
    gen = gen_create(name, body, NULL);
    gen_next(gen); /* runs the body up to its yield */
}

/* GEN_COROUTINE(req_a) { ... } defines the generator body req_a_body and a plain
 * function req_a() that hands it to gen_coroutine: callers just call req_a(). */
#define GEN_COROUTINE(name)                                                    \
    static void *name##_body(gen_t *self);                                     \
    static void name(void)                                                     \
    {                                                                          \
        gen_coroutine(#name, name##_body);                                     \
    }                                                                          \
    static void *name##_body(gen_t *self)

GEN_COROUTINE(req_a)
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
        .about = "a wrapper hides create-and-start, as the document's decorator does.\n"
                 "main calls req_a() like a plain function; the global generator stays.",
        .threads = true,
    };
    lesson_init(argc, argv, &info);
    req_a();
    req_b();
    gil_join_all(); /* the document spins in `while 1: pass`; we wait for the thread */
    gen_free(gen);
    return lesson_exit();
}
