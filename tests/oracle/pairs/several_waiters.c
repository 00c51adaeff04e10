/* Pair several_waiters: three coroutines and one done-callback wait on one future.
 *
 * They are told in the order they started waiting, all in the iteration after the
 * resolve, never inside it (DESIGN.md's scheduling rules); a coroutine that starts
 * waiting after the resolve does not suspend at all. What each woken waiter schedules
 * runs one iteration later still. */
#include "pair.h"

struct waiter_arg {
    const char *name;
    future_t *f; /* a reference of the waiter's own */
};

static void later(void *arg)
{
    printf("callback from %s\n", (const char *)arg);
}

static void *waiter(void *arg)
{
    struct waiter_arg *w = arg;
    void *value;
    printf("%s waits\n", w->name);
    if (coro_await(w->f, &value))
        return coro_fail_again();
    printf("%s got %s\n", w->name, (char *)value);
    ioloop_add_callback(ioloop_current(), later, (void *)w->name);
    return NULL;
}

static future_t *spawn_waiter(struct waiter_arg *w, const char *name, future_t *f)
{
    w->name = name;
    w->f = f;
    future_ref(f);
    return coro_spawn(name, waiter, w);
}

static void done_callback(future_t *f, void *arg)
{
    (void)arg;
    printf("done-callback sees %s\n", (char *)future_result(f));
}

struct shared {
    future_t *f;
    struct waiter_arg args[4];
    future_t *waiters[4];
};

/* Resolves f, then starts a fourth waiter on the now resolved future. */
static void resolve(void *arg)
{
    struct shared *s = arg;
    future_set_result(s->f, "42");
    printf("resolver: after set_result\n");
    s->waiters[3] = spawn_waiter(&s->args[3], "w3", s->f);
    printf("resolver: returns\n");
}

static void *body(void *arg)
{
    (void)arg;
    struct shared s;
    s.f = future_new("shared");
    s.waiters[0] = spawn_waiter(&s.args[0], "w0", s.f);
    future_add_done_callback(s.f, done_callback, NULL);
    s.waiters[1] = spawn_waiter(&s.args[1], "w1", s.f);
    s.waiters[2] = spawn_waiter(&s.args[2], "w2", s.f);
    ioloop_add_callback(ioloop_current(), resolve, &s);
    int err = coro_await(coro_multi(s.waiters, 3), NULL);
    if (!err)
        printf("main: first three done\n");
    err = coro_await(s.waiters[3], NULL) || err;
    future_unref(s.f);
    if (err)
        return coro_fail_again();
    printf("main: done\n");
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
