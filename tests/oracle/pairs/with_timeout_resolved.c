/* Pair with_timeout_resolved: coro_with_timeout around a future already resolved.
 *
 * The result is resolved at once (Tornado's chain_future copies a done future inline),
 * so the wait does not suspend: a callback queued just before it runs after the wait's
 * line. */
#include "pair.h"

static void say(void *arg)
{
    printf("%s\n", (const char *)arg);
}

static void *body(void *arg)
{
    (void)arg;
    ioloop_t *loop = ioloop_current();
    future_t *f = future_new("ready");
    future_set_result(f, "ready");
    ioloop_add_callback(loop, say, "callback queued before the wait");
    void *value;
    if (coro_await(coro_with_timeout(ioloop_time(loop) + 1, f), &value))
        return coro_fail_again();
    printf("main: resolved future gave %s\n", (char *)value);
    if (coro_await(coro_moment(), NULL))
        return coro_fail_again();
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
