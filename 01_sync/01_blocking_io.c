/* 01_blocking_io — lesson 01, step 2: a slow call blocks everything after it.
 *
 * req_a now waits 5 seconds for some I/O (a sleep stands in for it). Synchronous code
 * waits with it: req_b cannot start before req_a is done.
 */
#include "gil.h"
#include "lesson.h"

static const char *long_io(void)
{
    lesson_say("Start the I/O operation", "开始执行IO操作");
    gil_sleep(5);
    lesson_say("I/O operation done", "完成IO操作");
    return "io result";
}

static void req_a(void)
{
    lesson_say("Start handling request req_a", "开始处理请求req_a");
    const char *ret = long_io();
    lesson_sayf("ret: %s", "ret: %s", ret);
    lesson_say("Finish handling request req_a", "完成处理请求req_a");
}

static void req_b(void)
{
    lesson_say("Start handling request req_b", "开始处理请求req_b");
    lesson_say("Finish handling request req_b", "完成处理请求req_b");
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "a slow call blocks everything after it.\n"
                 "req_a waits 5 s for its I/O, and req_b cannot start until req_a is done.",
    };
    lesson_init(argc, argv, &info);
    req_a();
    req_b();
    return lesson_exit();
}
