/* 04_executor — lesson 04: a blocking call moved to a pool of threads.
 *
 * blocking_read is what a coroutine must never call: a read() that blocks until a slow
 * device answers. Called on the loop it would stop everything (04_req_ab_blocking). So
 * req hands it to a thread pool (the documents' ThreadPoolExecutor) and awaits the
 * future the pool gives back. Meanwhile the loop keeps ticking; at the third tick the
 * device answers, the pool thread's read returns, and the loop's thread receives the
 * result and resumes req.
 */
#include "coro.h"
#include "executor.h"
#include "lesson.h"

#include <stdlib.h>
#include <unistd.h>

static int device[2]; /* the pool reads device[0]; the loop writes device[1] */

/* Runs on a pool thread: blocking is allowed here. */
static void *blocking_read(void *arg)
{
    (void)arg;
    static char data[32];
    ssize_t n = read(device[0], data, sizeof data - 1);
    data[n > 0 ? n : 0] = 0;
    lesson_say("blocking_read returns, on a pool thread", "blocking_read 在线程池的线程里返回");
    return data;
}

static void *ticker(void *arg)
{
    (void)arg;
    for (int i = 1; i <= 3; i++) {
        coro_await(coro_sleep(lesson_seconds(1)), NULL);
        lesson_sayf("tick %d: the loop is free", "tick %d: 事件循环没有被阻塞", i);
    }
    lesson_say("the device answers", "IO设备给出了应答");
    if (write(device[1], "device data", 11) != 11)
        abort();
    return NULL;
}

static void *req(void *arg)
{
    lesson_say("req: hand blocking_read to the thread pool", "req: 把 blocking_read 交给线程池");
    void *data;
    coro_await(executor_submit(arg, "blocking_read", blocking_read, NULL), &data);
    lesson_sayf("req: got '%s', back on the loop's thread", "req: 回到事件循环的线程, 得到 '%s'",
                (char *)data);
    return NULL;
}

static future_t *start(void *arg)
{
    future_t *both[] = {coro_spawn("req", req, arg), coro_spawn("ticker", ticker, NULL)};
    return coro_multi(both, 2);
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "a blocking call moved to a thread pool, while the loop keeps ticking.\n"
                 "The coroutine awaits the future the pool resolves on the loop's thread.",
        .pool = true,
    };
    lesson_init(argc, argv, &info);
    if (pipe(device) < 0)
        abort();
    ioloop_t *loop = ioloop_current();
    executor_t *pool = executor_new(4);
    if (!pool)
        abort();
    future_unref(ioloop_run_sync(loop, start, pool, 0));
    executor_free(pool);
    ioloop_free(loop);
    close(device[0]);
    close(device[1]);
    return lesson_exit();
}
