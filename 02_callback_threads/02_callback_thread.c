/* 02_callback_thread — lesson 02: the slow call moves to a thread; a callback brings the
 * result back.
 *
 * long_io no longer does the I/O: it starts a thread that does it, and returns at once.
 * req_a is cut in two: the part before the I/O, and on_finish, which the I/O thread calls
 * with the result. req_b runs while the I/O is under way.
 */
#include "gil.h"
#include "lesson.h"

/* A C function pointer carries no name; the trace wants one, so it travels beside it. */
struct callback {
    void (*fn)(const char *ret);
    const char *name;
};

static void fun(void *arg) /* the slow part, on the I/O thread */
{
    struct callback *cb = arg;
    lesson_say("Start the I/O operation", "开始执行IO操作");
    gil_sleep(5);
    lesson_say("I/O done, run the callback", "完成IO操作,并执行回调函数");
    lesson_callback(cb->name);
    cb->fn("io result");
}

static void long_io(struct callback *callback)
{
    gil_thread_start("io", fun, callback);
}

static void on_finish(const char *ret)
{
    lesson_say("Start the callback on_finish", "开始执行回调函数on_finish");
    lesson_sayf("ret: %s", "ret: %s", ret);
    lesson_say("Finish the callback on_finish", "完成执行回调函数on_finish");
}

static struct callback on_finish_cb = {on_finish, "on_finish"};

static void req_a(void)
{
    lesson_say("Start handling request req_a", "开始处理请求req_a");
    long_io(&on_finish_cb);
    lesson_say("Leave request req_a", "离开处理请求req_a");
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
        .about = "the slow call moves to a thread; a callback brings the result back.\n"
                 "req_b runs while req_a's I/O is under way: 5 s in all, not 7.",
        .threads = true,
    };
    lesson_init(argc, argv, &info);
    req_a();
    req_b();
    gil_join_all(); /* the document spins in `while 1: pass`; we wait for the thread */
    return lesson_exit();
}
