/* 01_sync — lesson 01, step 1: two requests, handled one after the other.
 *
 * The document's first program: main stands in for the server and handles req_a, then
 * req_b. Each line runs after the one before it; nothing is slow yet, so that is fine.
 */
#include "lesson.h"

static void req_a(void)
{
    lesson_say("Start handling request req_a", "开始处理请求req_a");
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
        .about = "two requests, handled one after the other.\n"
                 "Synchronous code runs each step after the one before; nothing is slow yet.",
    };
    lesson_init(argc, argv, &info);
    req_a();
    req_b();
    return lesson_exit();
}
