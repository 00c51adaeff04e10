/* 01_two_slow_requests — exercise 1, after lesson 01: two slow requests, one after the other.
 *
 * This is 01_blocking_io: req_a waits 5 seconds for its I/O, and req_b has to wait with
 * it. Now req_b gets slow I/O of its own (3 seconds), and the program measures how long
 * the two requests take together, in the document's seconds.
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

/* TODO(exercise): req_b's own slow I/O, 3 seconds, with the lines the README lists. */

static void req_b(void)
{
    lesson_say("Start handling request req_b", "开始处理请求req_b");
    /* TODO(exercise): call req_b's slow I/O here and print its result. */
    lesson_say("Finish handling request req_b", "完成处理请求req_b");
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "two slow requests, one after the other: their waits add up.\n"
                 "req_a waits 5 s, req_b 3 s, and the program prints the total.",
    };
    lesson_init(argc, argv, &info);
    /* TODO(exercise): note the time before the two requests... */
    req_a();
    req_b();
    /* TODO(exercise): ...and after them, and print the total in the document's seconds. */
    return lesson_exit();
}
