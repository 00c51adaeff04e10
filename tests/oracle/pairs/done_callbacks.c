/* Pair done_callbacks: future_add_done_callback runs its callback on the loop, never
 * inline, even on a future that is already resolved.
 *
 * Two callbacks are added while the future is pending, one after it is resolved; a
 * plain callback is queued in between. All run in the next iteration, in the order they
 * were scheduled: the two early ones when the future was resolved, then the plain one,
 * then the late one. */
#include "pair.h"

static void done(future_t *f, void *arg)
{
    printf("%s sees %s\n", (const char *)arg, (char *)future_result(f));
}

static void say(void *arg)
{
    printf("%s\n", (const char *)arg);
}

static void *body(void *arg)
{
    (void)arg;
    future_t *f = future_new("f");
    future_add_done_callback(f, done, "early1");
    future_add_done_callback(f, done, "early2");
    future_set_result(f, "value");
    printf("main: resolved\n");
    ioloop_add_callback(ioloop_current(), say, "plain callback");
    future_add_done_callback(f, done, "late");
    printf("main: late callback added\n");
    future_unref(f); /* the pending callbacks hold their own references */
    if (coro_await(coro_moment(), NULL))
        return coro_fail_again();
    printf("main: after one turn\n");
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
