/* Pair lock_order (reference probe T7): a lock taken in turn, oldest waiter first.
 *
 * L0 takes the free lock without suspending; L1, L2, L3 queue up, and each release hands
 * the lock to the oldest of them. A fifth contender gives up at a deadline: its wait
 * fails with ETIMEDOUT while L0 still holds the lock (L0 holds it across a sleep whose
 * end is later than that deadline; timers fire in deadline order, so this cannot race),
 * and the release that follows skips it. */
#include <errno.h>

#include "locks.h"
#include "pair.h"

#define NWORK 4

static const char *const names[NWORK] = {"L0", "L1", "L2", "L3"};

struct worker_arg {
    const char *name;
    lock_t *lock;
    double hold; /* seconds to sleep with the lock; 0: one turn of the loop */
};

static void *worker(void *arg)
{
    struct worker_arg *w = arg;
    printf("%s acquires\n", w->name);
    if (coro_await(lock_acquire(w->lock, 0), NULL))
        return coro_fail_again();
    printf("%s has the lock\n", w->name);
    int err = coro_await(w->hold > 0 ? coro_sleep(w->hold) : coro_moment(), NULL);
    printf("%s releases\n", w->name);
    lock_release(w->lock);
    return err ? coro_fail_again() : NULL;
}

static void *impatient(void *arg)
{
    lock_t *lock = arg;
    printf("T acquires with a deadline\n");
    double deadline = ioloop_time(ioloop_current()) + 0.01;
    int err = coro_await(lock_acquire(lock, deadline), NULL);
    if (err == ETIMEDOUT) {
        printf("T timed out\n");
        return NULL;
    }
    if (err)
        return coro_fail_again();
    printf("T got the lock (wrong)\n");
    lock_release(lock);
    return NULL;
}

static void *body(void *arg)
{
    (void)arg;
    lock_t *lock = lock_new();
    struct worker_arg args[NWORK];
    future_t *all[NWORK + 1];
    for (int i = 0; i < NWORK; i++) {
        args[i] = (struct worker_arg){names[i], lock, i == 0 ? 0.05 : 0};
        all[i] = coro_spawn(names[i], worker, &args[i]);
    }
    all[NWORK] = coro_spawn("T", impatient, lock);
    int err = coro_await(coro_multi(all, NWORK + 1), NULL);
    lock_free(lock);
    if (err)
        return coro_fail_again();
    printf("main: all done\n");
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
