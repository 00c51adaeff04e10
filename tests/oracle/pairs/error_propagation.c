/* Pair error_propagation: a coroutine's failure reaches its awaiter at the await.
 *
 * inner fails after one turn of the loop; middle does not handle it, so its own future
 * fails with the same error; main gets it at its await and goes on. A coroutine that
 * fails before its first wait has a failed future by the time coro_spawn returns, and
 * awaiting it fails at once, without suspending. */
#include "pair.h"

#define VALUE_ERROR 1

static void *inner(void *arg)
{
    (void)arg;
    if (coro_await(coro_moment(), NULL))
        return coro_fail_again();
    printf("inner: failing\n");
    return coro_fail(VALUE_ERROR, "disk on fire");
}

static void *middle(void *arg)
{
    (void)arg;
    printf("middle: awaiting inner\n");
    if (coro_await(coro_spawn("inner", inner, NULL), NULL))
        return coro_fail_again();
    printf("middle: not reached\n");
    return NULL;
}

static void *at_once(void *arg)
{
    (void)arg;
    printf("at_once: failing before any wait\n");
    return coro_fail(VALUE_ERROR, "refused");
}

static void say(void *arg)
{
    printf("%s\n", (const char *)arg);
}

static void *body(void *arg)
{
    (void)arg;
    if (coro_await(coro_spawn("middle", middle, NULL), NULL) == VALUE_ERROR)
        printf("main: caught %s\n", coro_error());
    future_t *f = coro_spawn("at_once", at_once, NULL);
    printf("main: at_once returned, failed: %s\n", yes_no(future_failed(f)));
    ioloop_add_callback(ioloop_current(), say, "callback queued before the await");
    if (coro_await(f, NULL) == VALUE_ERROR)
        printf("main: caught %s\n", coro_error());
    if (coro_await(coro_moment(), NULL))
        return coro_fail_again();
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
