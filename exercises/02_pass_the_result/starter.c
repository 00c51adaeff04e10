/* 02_pass_the_result — exercise 2, after lesson 02: req_b needs req_a's result.
 *
 * This is 02_callback_thread, with one change of plan: req_b cannot start before req_a's
 * I/O is done, because it uses req_a's result. The I/O still runs on a thread, and its
 * result only exists once the thread calls on_finish back.
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

static const char *result_a; /* req_a's result: NULL until on_finish has it */

static void req_b(void)
{
    lesson_say("Start handling request req_b", "开始处理请求req_b");
    lesson_sayf("req_b uses req_a's result: %s", "req_b使用req_a的结果: %s",
                result_a ? result_a : lesson_text("(not there yet)", "(还没有)"));
    gil_sleep(2); /* req_b's own work */
    lesson_say("Finish handling request req_b", "完成处理请求req_b");
}

static void on_finish(const char *ret)
{
    lesson_say("Start the callback on_finish", "开始执行回调函数on_finish");
    lesson_sayf("ret: %s", "ret: %s", ret);
    /* TODO(exercise): req_b needs ret: hand it over, so that req_b runs with it. */
    lesson_say("Finish the callback on_finish", "完成执行回调函数on_finish");
}

static struct callback on_finish_cb = {on_finish, "on_finish"};

static void req_a(void)
{
    lesson_say("Start handling request req_a", "开始处理请求req_a");
    long_io(&on_finish_cb);
    lesson_say("Leave request req_a", "离开处理请求req_a");
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "req_b needs req_a's result: the callback hands it over.\n"
                 "req_b starts only once req_a's I/O is done, on the I/O thread.",
        .threads = true,
    };
    lesson_init(argc, argv, &info);
    req_a();
    req_b(); /* TODO(exercise): too early: req_a's result does not exist yet */
    gil_join_all(); /* the document spins in `while 1: pass`; we wait for the thread */
    return lesson_exit();
}
