/* Pair eager_start (reference probe T3): a coroutine runs synchronously until its first
 * wait on a future that is not done.
 *
 * Spawning "g" runs its body at once: it passes an await on a resolved future without
 * stopping and stops only at coro_moment, so its first lines come before the caller's
 * next line. A coroutine that never waits ("h") is finished when coro_spawn returns. */
#include "pair.h"

static void *g(void *arg)
{
    (void)arg;
    printf("g: body starts\n");
    future_t *ready = future_new("ready");
    future_set_result(ready, "ready");
    void *value;
    if (coro_await(ready, &value))
        return coro_fail_again();
    printf("g: resolved future gave %s, no suspension\n", (char *)value);
    if (coro_await(coro_moment(), NULL))
        return coro_fail_again();
    printf("g: after the moment\n");
    return "g";
}

static void *h(void *arg)
{
    (void)arg;
    printf("h: body runs to the end\n");
    return "h";
}

static void *body(void *arg)
{
    (void)arg;
    printf("main: starting g\n");
    future_t *fg = coro_spawn("g", g, NULL);
    printf("main: g returned, done: %s\n", yes_no(future_done(fg)));
    future_t *fh = coro_spawn("h", h, NULL);
    printf("main: h returned, done: %s, result %s\n", yes_no(future_done(fh)),
           (char *)future_result(fh));
    future_unref(fh);
    void *value;
    if (coro_await(fg, &value))
        return coro_fail_again();
    printf("main: g gave %s\n", (char *)value);
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
