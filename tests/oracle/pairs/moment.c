/* Pair moment: coro_moment (gen.moment) gives the loop exactly one iteration.
 *
 * Two coroutines, A and B, each print and await coro_moment three times, while a plain
 * callback chain ("tick") re-adds itself once per iteration; it was queued before A and
 * B started. Each moment resumes its coroutine in the very next iteration, behind what
 * was queued earlier: tick n, A, B share an iteration. A moment that took two
 * iterations would let the ticks run ahead. */
#include "pair.h"

static void tick(void *arg)
{
    intptr_t n = ptr_int(arg);
    printf("tick %d\n", (int)n);
    if (n < 3)
        ioloop_add_callback(ioloop_current(), tick, int_ptr(n + 1));
}

static void *turns(void *arg)
{
    const char *name = arg;
    for (int i = 0; i < 3; i++) {
        printf("%s%d\n", name, i);
        if (coro_await(coro_moment(), NULL))
            return coro_fail_again();
    }
    printf("%s done\n", name);
    return NULL;
}

static void *body(void *arg)
{
    (void)arg;
    ioloop_add_callback(ioloop_current(), tick, int_ptr(0));
    future_t *both[] = {coro_spawn("A", turns, "A"), coro_spawn("B", turns, "B")};
    if (coro_await(coro_multi(both, 2), NULL))
        return coro_fail_again();
    printf("main: done\n");
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
