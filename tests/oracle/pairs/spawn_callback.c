/* Pair spawn_callback: coro_spawn_callback (IOLoop.spawn_callback) starts a coroutine in
 * the next iteration; coro_spawn starts it now.
 *
 * main hands "later" to coro_spawn_callback and then spawns "now": "now" runs at once,
 * up to its first wait, before main goes on; "later" starts only when main yields, as
 * the first thing of the next iteration, ahead of the moment main queued after it. */
#include "pair.h"

struct finished {
    const char *names[2];
    int n;
};

struct worker_arg {
    const char *name;
    struct finished *done;
};

static void *worker(void *arg)
{
    struct worker_arg *w = arg;
    printf("%s starts\n", w->name);
    if (coro_await(coro_moment(), NULL))
        return coro_fail_again();
    printf("%s resumes\n", w->name);
    w->done->names[w->done->n++] = w->name;
    return NULL;
}

static void *body(void *arg)
{
    (void)arg;
    struct finished done = {.n = 0};
    struct worker_arg later = {"later", &done}, now = {"now", &done};
    printf("main: spawn_callback(later)\n");
    coro_spawn_callback("later", worker, &later);
    printf("main: call now\n");
    future_t *f = coro_spawn("now", worker, &now);
    printf("main: yields\n");
    int err = coro_await(coro_moment(), NULL);
    printf("main: resumed\n");
    err = coro_await(f, NULL) || err;
    while (!err && done.n < 2)
        err = coro_await(coro_moment(), NULL);
    if (err)
        return coro_fail_again();
    printf("main: finished in order %s, %s\n", done.names[0], done.names[1]);
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
