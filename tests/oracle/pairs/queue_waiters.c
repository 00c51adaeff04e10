/* Pair queue_waiters: what queue_get_nowait does for a waiting putter, and a getter that
 * gives up at its deadline.
 *
 * A full queue of 1 holding "a" and a putter waiting with "b": get_nowait returns "a"
 * and moves "b" in at once, so the queue is full again before the putter even resumes.
 * Then two getters wait on an empty queue, the first with a deadline 10 ms away; main
 * sleeps past it (a later deadline, so the order cannot race), the first getter times
 * out, and an item put afterwards goes to the second one: expired getters are skipped. */
#include <errno.h>

#include "pair.h"
#include "queue.h"

struct getter_arg {
    const char *name;
    queue_t *q;
    double deadline;
};

static void *putter(void *arg)
{
    queue_t *q = arg;
    printf("putter: put b (full: %s)\n", yes_no(queue_full(q)));
    if (coro_await(queue_put(q, "b", 0), NULL))
        return coro_fail_again();
    printf("putter: b is in\n");
    return NULL;
}

static void *getter(void *arg)
{
    struct getter_arg *g = arg;
    void *item;
    printf("%s: get\n", g->name);
    int err = coro_await(queue_get(g->q, g->deadline), &item);
    if (err == ETIMEDOUT)
        printf("%s: timed out\n", g->name);
    else if (err)
        return coro_fail_again();
    else
        printf("%s: got %s\n", g->name, (char *)item);
    return NULL;
}

static void get_now(queue_t *q)
{
    void *item = NULL;
    int rc = queue_get_nowait(q, &item);
    printf("main: get_nowait gives %s; qsize %zu\n", rc ? "nothing" : (char *)item,
           queue_qsize(q));
}

static int pull_from_putter(void)
{
    queue_t *q = queue_new(QUEUE_FIFO, 1);
    queue_put_nowait(q, "a");
    future_t *p = coro_spawn("putter", putter, q);
    get_now(q);
    int err = coro_await(p, NULL);
    if (!err)
        get_now(q);
    queue_free(q);
    return err;
}

static int expired_getter(void)
{
    queue_t *q = queue_new(QUEUE_FIFO, 0);
    struct getter_arg args[] = {{"g0", q, ioloop_time(ioloop_current()) + 0.01},
                                {"g1", q, 0}};
    future_t *getters[] = {coro_spawn("g0", getter, &args[0]),
                           coro_spawn("g1", getter, &args[1])};
    int err = coro_await(coro_sleep(0.03), NULL);
    printf("main: put x\n");
    queue_put_nowait(q, "x");
    err = coro_await(coro_multi(getters, 2), NULL) || err;
    queue_free(q);
    return err;
}

static void *body(void *arg)
{
    (void)arg;
    if (pull_from_putter() || expired_getter())
        return coro_fail_again();
    printf("main: done\n");
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
