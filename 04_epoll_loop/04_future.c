/* 04_future — lesson 04: document 003's Future example: one coroutine sets a result,
 * another awaits it.
 *
 * coro2 awaits a future nobody has resolved yet, so it suspends and the loop runs on.
 * coro1 sleeps 1 second, then sets the future's result; coro2 resumes on the loop's next
 * turn and prints it. A future is just that: a result that is not there yet.
 */
#include "coro.h"
#include "lesson.h"

static void *coro1(void *arg)
{
    coro_await(coro_sleep(lesson_seconds(1)), NULL);
    future_set_result(arg, "data");
    return NULL;
}

static void *coro2(void *arg)
{
    void *data;
    future_ref(arg); /* coro_await takes a reference: main keeps its own */
    coro_await(arg, &data);
    lesson_sayf("%s", "%s", (char *)data);
    return NULL;
}

/* The document's asyncio.wait([coro1(), coro2()]). */
static future_t *start(void *arg)
{
    future_t *both[] = {coro_spawn("coro1", coro1, arg), coro_spawn("coro2", coro2, arg)};
    return coro_multi(both, 2);
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "document 003's Future: coro1 sets a result, coro2 awaits it.\n"
                 "coro2 waits while the loop runs; it prints the result a second later.",
    };
    lesson_init(argc, argv, &info);
    ioloop_t *loop = ioloop_current();
    future_t *future = future_new("future");
    future_unref(ioloop_run_sync(loop, start, future, 0));
    future_unref(future);
    ioloop_free(loop);
    return lesson_exit();
}
