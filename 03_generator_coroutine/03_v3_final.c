/* 03_v3_final — lesson 03, final version: no global; long_io is itself a generator.
 *
 * Version 2 still needs the global gen so that long_io can find req_a. Here req_a yields
 * the long_io generator itself, and gen_coroutine does the rest: a new thread runs
 * long_io and sends what it yields back into req_a. Nothing is global any more, and any
 * number of requests can be in flight. This is the smallest model of Tornado's coroutines
 * (which run on an event loop, not on threads: lesson 04).
 */
#include "gen.h"
#include "gil.h"
#include "lesson.h"

#include <stdlib.h>

/* What the document's closure holds: the request and the I/O it waits for. */
struct task {
    gen_t *req;
    gen_t *io;
};

static void fun(void *arg) /* on the I/O thread: run the I/O, send its result to req */
{
    struct task *t = arg;
    void *ret = gen_next(t->io);
    gen_send(t->req, ret, NULL); /* req_a goes on here, on this thread, to its end */
    gen_free(t->io);
    gen_free(t->req);
    free(t);
}

static void *long_io(gen_t *self)
{
    lesson_say("Start the I/O operation", "开始执行IO操作");
    gil_sleep(5);
    lesson_say("I/O done, yield the result back", "完成IO操作,yield回操作结果");
    gen_yield(self, "io result");
    return NULL;
}

/* What the document's decorator does when req_a() is called. */
static void gen_coroutine(const char *name, gen_fn *body)
{
    struct task *t = lesson_alloc(sizeof *t);
    t->req = gen_create(name, body, NULL);
    t->io = gen_next(t->req); /* runs the body up to its yield: it yields its I/O */
    gil_thread_start("io", fun, t);
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
    const char *ret = gen_yield(self, gen_create("long_io", long_io, NULL));
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
        .about = "no global: long_io is itself a generator, run on the I/O thread.\n"
                 "req_a yields it; its result is sent back into req_a.",
        .threads = true,
    };
    lesson_init(argc, argv, &info);
    req_a();
    req_b();
    gil_join_all(); /* the document spins in `while 1: pass`; we wait for the thread */
    return lesson_exit();
}
