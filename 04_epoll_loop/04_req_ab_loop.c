/* 04_req_ab_loop — lesson 04: one thread, one epoll loop, no threads at all.
 *
 * Lesson 03's final version still needed a thread to wait for the I/O. Here long_io is
 * real non-blocking I/O: it sends a request down a socket and waits, as a coroutine, for
 * epoll to say the answer has come. The other end of the socket is a slow device that
 * answers 5 seconds after it reads the request; it lives on the same loop. req_b waits
 * with the loop's sleep, so while both wait the loop just sits in epoll_wait.
 *
 * The order differs from 03_v3_final: a coroutine starts running at once, when called,
 * so long_io begins before req_b does.
 */
#include "coro.h"
#include "lesson.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int sock[2]; /* sock[0]: long_io's end; sock[1]: the device's */

/* ---- the slow device: reads a request, answers 5 seconds later ---------------------- */

static void device_answer(void *arg)
{
    (void)arg;
    if (write(sock[1], "io result", 9) != 9)
        abort(); /* an empty socket buffer always takes 9 bytes */
}

static void device_read(int fd, int events, void *arg)
{
    (void)events, (void)arg;
    char req[16];
    if (read(fd, req, sizeof req) <= 0)
        abort();
    ioloop_remove_handler(ioloop_current(), fd);
    lesson_say("(the device got the request)", "(IO设备收到了请求)");
    ioloop_call_later(ioloop_current(), lesson_seconds(5), "device answers", device_answer, NULL);
}

/* ---- waiting for epoll, as a future -------------------------------------------------- */

static void readable(int fd, int events, void *arg)
{
    (void)events;
    ioloop_remove_handler(ioloop_current(), fd);
    future_set_result(arg, NULL);
    future_unref(arg);
}

static future_t *wait_readable(int fd)
{
    future_t *f = future_new("socket readable");
    future_ref(f); /* the handler's */
    ioloop_add_handler(ioloop_current(), fd, IOLOOP_READ, readable, f);
    return f;
}

/* ---- the document's requests ------------------------------------------------------- */

static void *long_io(void *arg)
{
    (void)arg;
    lesson_say("Start the I/O operation", "开始执行IO操作");
    if (write(sock[0], "request", 7) != 7)
        abort();
    coro_await(wait_readable(sock[0]), NULL); /* the loop runs others meanwhile */
    static char answer[16];
    ssize_t n = read(sock[0], answer, sizeof answer - 1);
    answer[n > 0 ? n : 0] = 0;
    lesson_say("I/O done, yield the result back", "完成IO操作,yield回操作结果");
    return answer;
}

static void *req_a(void *arg)
{
    (void)arg;
    lesson_say("Start handling request req_a", "开始处理请求req_a");
    void *ret;
    coro_await(coro_spawn("long_io", long_io, NULL), &ret);
    lesson_sayf("ret: %s", "ret: %s", (char *)ret);
    lesson_say("Finish handling request req_a", "完成处理请求req_a");
    return NULL;
}

static void *req_b(void *arg)
{
    (void)arg;
    lesson_say("Start handling request req_b", "开始处理请求req_b");
    coro_await(coro_sleep(lesson_seconds(2)), NULL); /* the loop's sleep: others run */
    lesson_say("Finish handling request req_b", "完成处理请求req_b");
    return NULL;
}

static future_t *start(void *arg)
{
    (void)arg;
    future_t *both[] = {coro_spawn("req_a", req_a, NULL), coro_spawn("req_b", req_b, NULL)};
    return coro_multi(both, 2);
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "one thread and an epoll loop: long_io is a coroutine waiting on a socket.\n"
                 "req_a and req_b wait at the same time; nothing blocks.",
    };
    lesson_init(argc, argv, &info);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sock) < 0)
        abort();
    ioloop_t *loop = ioloop_current();
    ioloop_add_handler(loop, sock[1], IOLOOP_READ, device_read, NULL);
    future_unref(ioloop_run_sync(loop, start, NULL, 0));
    ioloop_free(loop);
    close(sock[0]);
    close(sock[1]);
    return lesson_exit();
}
