/* Orders we promise where Tornado 6 promises none, so no oracle pair can check them
 * (tornado-semantics.md §1a and §3): timers with equal deadlines fire in the order they
 * were made (asyncio's heap compares deadlines only: the probe saw 7,4,3,2,6,1,5,0),
 * and Event waiters wake oldest first (Tornado keeps them in a set). */
#include "coro.h"
#include "ioloop.h"
#include "locks.h"
#include "unit.h"

#include <stdbool.h>
#include <stdint.h>

#define MAXLOG 64

/* What fired, in order. */
static struct {
    int seen[MAXLOG];
    int n;
    int stop_at;
} order;

static void note(void *arg)
{
    ck_assert_int_lt(order.n, MAXLOG);
    order.seen[order.n++] = (int)(intptr_t)arg;
    if (order.n == order.stop_at)
        ioloop_stop(ioloop_current());
}

static void expect_order(const int *want, int n)
{
    ck_assert_int_eq(order.n, n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(order.seen[i] == want[i], "position %d: got %d, want %d", i,
                      order.seen[i], want[i]);
}

START_TEST(equal_deadlines_fire_fifo)
{
    ioloop_t *loop = ioloop_current();
    order.n = 0;
    order.stop_at = 8;
    double deadline = ioloop_time(loop) + 0.01;
    for (intptr_t i = 0; i < 8; i++)
        ck_assert_uint_ne(ioloop_call_at(loop, deadline, "tie", note, (void *)i), 0);
    ck_assert_int_eq(ioloop_start(loop), 0);
    expect_order((const int[]){0, 1, 2, 3, 4, 5, 6, 7}, 8);
    ioloop_free(loop);
}
END_TEST

/* Three deadlines, interleaved, 48 timers: the heap reshuffles a lot, and within each
 * deadline the order of creation must survive it. The deadline added first is the
 * latest, so insertion order and deadline order disagree. */
START_TEST(ties_stay_fifo_among_other_deadlines)
{
    ioloop_t *loop = ioloop_current();
    order.n = 0;
    order.stop_at = 48;
    double base = ioloop_time(loop) + 0.01;
    const double offset[3] = {0.002, 0.0, 0.001};
    for (intptr_t i = 0; i < 48; i++)
        ioloop_call_at(loop, base + offset[i % 3], "tie", note, (void *)i);
    ck_assert_int_eq(ioloop_start(loop), 0);
    const int by_deadline[3] = {1, 2, 0}; /* i % 3, earliest deadline first */
    int want[48], k = 0;
    for (int g = 0; g < 3; g++)
        for (int i = by_deadline[g]; i < 48; i += 3)
            want[k++] = i;
    expect_order(want, 48);
    ioloop_free(loop);
}
END_TEST

START_TEST(zero_delays_fire_fifo)
{
    ioloop_t *loop = ioloop_current();
    order.n = 0;
    order.stop_at = 8;
    for (intptr_t i = 0; i < 8; i++)
        ioloop_call_later(loop, 0, "zero", note, (void *)i);
    ck_assert_int_eq(ioloop_start(loop), 0);
    expect_order((const int[]){0, 1, 2, 3, 4, 5, 6, 7}, 8);
    ioloop_free(loop);
}
END_TEST

struct waiter_arg {
    event_t *event;
    intptr_t index;
    double deadline;
};

static void *event_waiter(void *arg)
{
    struct waiter_arg *w = arg;
    if (coro_await(event_wait(w->event, w->deadline), NULL))
        return coro_fail_again();
    note((void *)w->index);
    return NULL;
}

#define NWAIT 8

/* Which waiters wait with a deadline (a far one, never reached). */
enum deadlines { NONE, ALL, ODD };

/* Eight waiters, then one event_set. */
static void *event_main(void *arg)
{
    enum deadlines which = (enum deadlines)(intptr_t)arg;
    event_t *e = event_new();
    struct waiter_arg args[NWAIT];
    future_t *waiters[NWAIT];
    double far = ioloop_time(ioloop_current()) + 60;
    for (int i = 0; i < NWAIT; i++) {
        bool timed = which == ALL || (which == ODD && i % 2);
        args[i] = (struct waiter_arg){e, i, timed ? far : 0};
        waiters[i] = coro_spawn("waiter", event_waiter, &args[i]);
    }
    ck_assert_int_eq(order.n, 0);
    event_set(e);
    ck_assert_int_eq(order.n, 0); /* told in a later iteration, not inside set */
    int err = coro_await(coro_multi(waiters, NWAIT), NULL);
    event_free(e);
    return err ? coro_fail_again() : NULL;
}

static future_t *start_event_main(void *arg)
{
    return coro_spawn("main", event_main, arg);
}

static void run_event_waiters(enum deadlines which)
{
    ioloop_t *loop = ioloop_current();
    order.n = 0;
    order.stop_at = -1;
    future_t *f = ioloop_run_sync(loop, start_event_main, (void *)(intptr_t)which, 5);
    ck_assert_msg(!future_failed(f), "%s", future_error_message(f));
    future_unref(f);
    ioloop_free(loop);
}

START_TEST(event_waiters_wake_fifo)
{
    run_event_waiters(NONE);
    expect_order((const int[]){0, 1, 2, 3, 4, 5, 6, 7}, NWAIT);
}
END_TEST

START_TEST(event_waiters_with_deadlines_wake_fifo)
{
    run_event_waiters(ALL);
    expect_order((const int[]){0, 1, 2, 3, 4, 5, 6, 7}, NWAIT);
}
END_TEST

/* A wait with a deadline is Tornado's with_timeout around the waiter: a second future,
 * chained, so it wakes one iteration after the waits without one (locks.c, event_wait).
 * FIFO holds within each kind. */
START_TEST(event_waits_with_a_deadline_wake_a_turn_later)
{
    run_event_waiters(ODD);
    expect_order((const int[]){0, 2, 4, 6, 1, 3, 5, 7}, NWAIT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fifo_rules");
    TCase *tc = tcase_create("fifo_rules");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, equal_deadlines_fire_fifo);
    tcase_add_test(tc, ties_stay_fifo_among_other_deadlines);
    tcase_add_test(tc, zero_delays_fire_fifo);
    tcase_add_test(tc, event_waiters_wake_fifo);
    tcase_add_test(tc, event_waiters_with_deadlines_wake_fifo);
    tcase_add_test(tc, event_waits_with_a_deadline_wake_a_turn_later);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
