/* Pair already_done (reference probes T5 and T4).
 *
 * T5: a coroutine that awaits only futures that are already resolved never suspends,
 * so it has finished before the coro_spawn that started it returns.
 * T4: future_set_result does not run the waiter inside the resolver; the waiter resumes
 * in the next iteration, ahead of a callback added just after the resolve. */
#include "pair.h"

#define NFUT 3

static const char *const values[NFUT] = {"v0", "v1", "v2"};

/* Awaits each future in turn; all are done already. */
static void *drain(void *arg)
{
    future_t **futures = arg;
    for (int i = 0; i < NFUT; i++) {
        void *value;
        if (coro_await(futures[i], &value))
            return coro_fail_again();
        printf("done-fut-%d: %s\n", i, (char *)value);
    }
    return "drained";
}

static void *waiter(void *arg)
{
    void *value;
    printf("waiter: awaiting a pending future\n");
    if (coro_await(arg, &value))
        return coro_fail_again();
    printf("waiter: resumed with %s\n", (char *)value);
    return NULL;
}

static void after_set(void *arg)
{
    (void)arg;
    printf("callback added after set_result\n");
}

/* Resolves the waiter's future, then queues a callback. */
static void resolve(void *arg)
{
    future_t *pending = arg;
    future_set_result(pending, "one");
    printf("resolver: after set_result\n");
    future_unref(pending);
    ioloop_add_callback(ioloop_current(), after_set, NULL);
}

/* T5: spawn a coroutine over three resolved futures; it is done on return. */
static void spawn_drain(void)
{
    static future_t *futures[NFUT]; /* outlives this frame, should drain ever suspend */
    for (int i = 0; i < NFUT; i++) {
        futures[i] = future_new("done");
        future_set_result(futures[i], (void *)values[i]);
    }
    future_t *d = coro_spawn("drain", drain, futures);
    printf("spawn returned; drain done: %s, result %s\n", yes_no(future_done(d)),
           (char *)future_result(d));
    future_unref(d);
}

static void *body(void *arg)
{
    (void)arg;
    spawn_drain();
    future_t *pending = future_new("pending");
    future_ref(pending); /* one for the waiter, one for the resolver */
    future_t *w = coro_spawn("waiter", waiter, pending);
    printf("spawn returned; waiter done: %s\n", yes_no(future_done(w)));
    ioloop_add_callback(ioloop_current(), resolve, pending);
    if (coro_await(w, NULL))
        return coro_fail_again();
    printf("main: waiter finished\n");
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
