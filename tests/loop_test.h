/* loop_test.h — what the Check suites of lesson 04's queue, locks and executor share:
 * a trail of what happened, in order, a fresh loop per test, and a main coroutine run
 * to its end. Tests compare the trail with the order Tornado prints. */
#ifndef LOOP_TEST_H
#define LOOP_TEST_H

#include "coro.h"
#include "ioloop.h"
#include "unit.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ITEM(i) ((void *)(intptr_t)(i))
#define INT(p) ((int)(intptr_t)(p))

/* What happened, in order: "putting 0, got: 0, ...". */
static char trail[4096];

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void note(const char *fmt, ...)
{
    if (trail[0])
        strncat(trail, ", ", sizeof trail - strlen(trail) - 1);
    size_t len = strlen(trail);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(trail + len, sizeof trail - len, fmt, ap);
    va_end(ap);
}

static ioloop_t *loop;

/* A fresh loop, current on this thread, and an empty trail. */
static inline void loop_test_setup(void)
{
    loop = ioloop_create();
    ck_assert_ptr_nonnull(loop);
    ioloop_make_current(loop);
    trail[0] = '\0';
}

static inline void loop_test_teardown(void)
{
    ioloop_free(loop);
}

struct loop_test_task {
    coro_fn *fn;
    void *arg;
};

static inline future_t *loop_test_spawn(void *arg)
{
    struct loop_test_task *t = arg;
    return coro_spawn("main", t->fn, t->arg);
}

/* Runs fn(arg) as the coroutine "main" until it ends, and requires it to succeed. */
static inline void run_main(coro_fn *fn, void *arg)
{
    struct loop_test_task t = {fn, arg};
    future_t *r = ioloop_run_sync(loop, loop_test_spawn, &t, 0);
    ck_assert_msg(!future_failed(r), "main failed: %s", future_error_message(r));
    future_unref(r);
}

#endif
