/* 01_two_slow_requests — exercise 1, after lesson 01: two slow requests, one after the other.
 *
 * This is 01_blocking_io: req_a waits 5 seconds for its I/O, and req_b has to wait with
 * it. Now req_b gets slow I/O of its own (3 seconds), and the program measures how long
 * the two requests take together, in the document's seconds.
 */
#include "gil.h"
#include "lesson.h"

#include <time.h>

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

static const char *long_io_b(void)
{
    lesson_say("Start the I/O operation of req_b", "开始执行req_b的IO操作");
    gil_sleep(3);
    lesson_say("I/O operation of req_b done", "完成req_b的IO操作");
    return "io result b";
}

static void req_b(void)
{
    lesson_say("Start handling request req_b", "开始处理请求req_b");
    const char *ret = long_io_b();
    lesson_sayf("ret: %s", "ret: %s", ret);
    lesson_say("Finish handling request req_b", "完成处理请求req_b");
}

/* Seconds on a clock that only goes forward: the wall clock may jump while we wait. */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "two slow requests, one after the other: their waits add up.\n"
                 "req_a waits 5 s, req_b 3 s, and the program prints the total.",
    };
    lesson_init(argc, argv, &info);
    double start = now();
    req_a();
    req_b();
    /* Real seconds divided by the real length of one document second: the same total
     * at every --speed. */
    double total = (now() - start) / lesson_seconds(1);
    lesson_sayf("Total time: %.1f s", "总耗时:%.1f秒", total);
    return lesson_exit();
}
