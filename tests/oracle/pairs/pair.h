/* pair.h — the frame every C side of an oracle pair shares: run one main coroutine on
 * the current loop (Tornado's IOLoop.current().run_sync(main)), free the loop, and turn
 * the outcome into the exit status. Output is line-buffered so that stdout and stderr
 * interleave as they happen when someone watches a pair by hand. */
#ifndef PAIR_H
#define PAIR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "coro.h"
#include "future.h"
#include "ioloop.h"

/* How the Python twins print a truth value too. */
static inline const char *yes_no(bool flag)
{
    return flag ? "yes" : "no";
}

/* Small integers travel through void * results. */
static inline void *int_ptr(intptr_t n)
{
    return (void *)n;
}

static inline intptr_t ptr_int(void *p)
{
    return (intptr_t)p;
}

struct pair_main {
    coro_fn *body;
    void *arg;
};

static inline future_t *pair_start(void *arg)
{
    struct pair_main *m = arg;
    return coro_spawn("main", m->body, m->arg);
}

/* Runs body(arg) as the coroutine "main" until it is done (at most 5 s) and frees the
 * loop. Returns main's exit status: 0 unless main failed or timed out. */
static inline int pair_run(coro_fn *body, void *arg)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    ioloop_t *loop = ioloop_current();
    struct pair_main m = {body, arg};
    future_t *f = ioloop_run_sync(loop, pair_start, &m, 5.0);
    bool failed = future_failed(f);
    if (failed)
        fprintf(stderr, "main failed: %s\n", future_error_message(f));
    future_unref(f);
    ioloop_free(loop);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
