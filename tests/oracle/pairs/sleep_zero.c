/* Pair sleep_zero: coro_sleep(0) is a timer, coro_moment a callback.
 *
 * A callback chain ("tick") marks the iterations. "M" awaits coro_moment: it resumes in
 * the next iteration with the callbacks. "S" awaits coro_sleep(0): its timer is due in
 * the next iteration, but timers run after callbacks, and resolving the sleep only
 * schedules S, so S resumes one iteration after M. */
#include "pair.h"

static void tick(void *arg)
{
    intptr_t n = ptr_int(arg);
    printf("tick %d\n", (int)n);
    if (n < 3)
        ioloop_add_callback(ioloop_current(), tick, int_ptr(n + 1));
}

static void *by_moment(void *arg)
{
    (void)arg;
    printf("M waits on a moment\n");
    if (coro_await(coro_moment(), NULL))
        return coro_fail_again();
    printf("M resumes\n");
    return NULL;
}

static void *by_sleep(void *arg)
{
    (void)arg;
    printf("S waits on sleep(0)\n");
    if (coro_await(coro_sleep(0), NULL))
        return coro_fail_again();
    printf("S resumes\n");
    return NULL;
}

static void *body(void *arg)
{
    (void)arg;
    ioloop_add_callback(ioloop_current(), tick, int_ptr(0));
    future_t *both[] = {coro_spawn("S", by_sleep, NULL), coro_spawn("M", by_moment, NULL)};
    if (coro_await(coro_multi(both, 2), NULL))
        return coro_fail_again();
    printf("main: done\n");
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
