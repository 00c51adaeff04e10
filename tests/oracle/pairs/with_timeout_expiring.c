/* Pair with_timeout_expiring (reference probe T9): coro_with_timeout that expires.
 *
 * The inner coroutine sleeps 50 ms; the deadline is 10 ms away, so the wait fails with
 * ETIMEDOUT "Timeout" while the inner future is still pending: coro_with_timeout does
 * not cancel it, and awaiting it afterwards gives its result. The two deadlines fire in
 * deadline order however late the loop is. */
#include <errno.h>

#include "pair.h"

static void *inner(void *arg)
{
    (void)arg;
    if (coro_await(coro_sleep(0.05), NULL))
        return coro_fail_again();
    printf("inner finishes\n");
    return "late";
}

static void *body(void *arg)
{
    (void)arg;
    future_t *f = coro_spawn("inner", inner, NULL);
    future_ref(f); /* one for with_timeout, one to await afterwards */
    double deadline = ioloop_time(ioloop_current()) + 0.01;
    if (coro_await(coro_with_timeout(deadline, f), NULL) == ETIMEDOUT)
        printf("main: timed out (%s); inner done: %s\n", coro_error(), yes_no(future_done(f)));
    else
        printf("main: no timeout (wrong)\n");
    void *value;
    if (coro_await(f, &value))
        return coro_fail_again();
    printf("main: inner gave %s\n", (char *)value);
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
