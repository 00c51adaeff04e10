/* Pair condition_notify2 (reference probe T7): condition_notify(2), then notify_all.
 *
 * Four coroutines wait, c0 to c3. notify(2) wakes the two oldest, c0 and c1, and they
 * run in the next iteration, not inside notify; notify_all then wakes c2 and c3. A last
 * wait with a deadline that nobody notifies resolves with false instead of failing. */
#include "locks.h"
#include "pair.h"

#define NWAIT 4

static const char *const names[NWAIT] = {"c0", "c1", "c2", "c3"};

struct waiter_arg {
    const char *name;
    condition_t *cond;
};

static void *waiter(void *arg)
{
    struct waiter_arg *w = arg;
    void *notified;
    printf("%s waits\n", w->name);
    if (coro_await(condition_wait(w->cond, 0), &notified))
        return coro_fail_again();
    printf("%s woke, notified: %s\n", w->name, yes_no(notified != NULL));
    return NULL;
}

/* Notifies two, then all, each followed by one turn of the loop. */
static int notify_steps(condition_t *cond)
{
    if (coro_await(coro_moment(), NULL))
        return -1;
    printf("main: notify(2)\n");
    condition_notify(cond, 2);
    printf("main: notify(2) returned\n");
    if (coro_await(coro_moment(), NULL))
        return -1;
    printf("main: notify_all\n");
    condition_notify_all(cond);
    printf("main: notify_all returned\n");
    return 0;
}

static int timed_wait(condition_t *cond)
{
    void *notified;
    printf("main: timed wait\n");
    double deadline = ioloop_time(ioloop_current()) + 0.02;
    if (coro_await(condition_wait(cond, deadline), &notified))
        return -1;
    printf("main: timed wait notified: %s\n", yes_no(notified != NULL));
    return 0;
}

static void *body(void *arg)
{
    (void)arg;
    condition_t *cond = condition_new();
    struct waiter_arg args[NWAIT];
    future_t *waiters[NWAIT];
    for (int i = 0; i < NWAIT; i++) {
        args[i] = (struct waiter_arg){names[i], cond};
        waiters[i] = coro_spawn(names[i], waiter, &args[i]);
    }
    int err = notify_steps(cond);
    err = coro_await(coro_multi(waiters, NWAIT), NULL) || err;
    if (!err)
        err = timed_wait(cond);
    condition_free(cond);
    return err ? coro_fail_again() : NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
