/* Pair semaphore_order (reference probe T7): a semaphore of 2 shared by five workers.
 *
 * s0 and s1 get a unit at once (an acquire that can succeed does not suspend); s2, s3,
 * s4 queue up. Each holder keeps its unit for one turn of the loop, then releases it,
 * and a release hands the unit to the oldest waiter, which runs in the next iteration. */
#include "locks.h"
#include "pair.h"

#define NWORK 5

static const char *const names[NWORK] = {"s0", "s1", "s2", "s3", "s4"};

struct worker_arg {
    const char *name;
    semaphore_t *sem;
};

static void *worker(void *arg)
{
    struct worker_arg *w = arg;
    printf("%s acquires\n", w->name);
    if (coro_await(semaphore_acquire(w->sem, 0), NULL))
        return coro_fail_again();
    printf("%s in\n", w->name);
    int err = coro_await(coro_moment(), NULL);
    printf("%s out\n", w->name);
    semaphore_release(w->sem);
    return err ? coro_fail_again() : NULL;
}

static void *body(void *arg)
{
    (void)arg;
    semaphore_t *sem = semaphore_new(2);
    struct worker_arg args[NWORK];
    future_t *workers[NWORK];
    for (int i = 0; i < NWORK; i++) {
        args[i] = (struct worker_arg){names[i], sem};
        workers[i] = coro_spawn(names[i], worker, &args[i]);
    }
    int err = coro_await(coro_multi(workers, NWORK), NULL);
    semaphore_free(sem);
    if (err)
        return coro_fail_again();
    printf("main: all done\n");
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
