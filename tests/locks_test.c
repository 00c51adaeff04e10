/* Unit tests for 04_epoll_loop/locks: Tornado's wake-up orders (each expected trail is
 * what Tornado 6 prints for the same program), deadlines, bad input, and freeing a
 * primitive that is waited on. */
#include "coro.h"
#include "ioloop.h"
#include "locks.h"
#include "loop_test.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Awaits n children, passing on the first failure. */
static void *await_all(future_t **children, size_t n)
{
    return coro_await(coro_multi(children, n), NULL) ? coro_fail_again() : NULL;
}

/* ---- Condition ----------------------------------------------------------------------- */

static condition_t *cond;

static void *cond_waiter(void *arg)
{
    note("c%d waits", INT(arg));
    void *notified;
    ck_assert_int_eq(coro_await(condition_wait(cond, 0), &notified), 0);
    note("c%d woke %s", INT(arg), notified ? "True" : "False");
    return NULL;
}

static void *notify_main(void *arg)
{
    (void)arg;
    future_t *w[3];
    for (int i = 0; i < 3; i++)
        w[i] = coro_spawn("waiter", cond_waiter, ITEM(i));
    note("notify 2");
    condition_notify(cond, 2);
    coro_await(coro_moment(), NULL);
    note("notify_all");
    condition_notify_all(cond);
    return await_all(w, 3);
}

START_TEST(condition_notify_two_then_all)
{
    cond = condition_new();
    run_main(notify_main, NULL);
    ck_assert_str_eq(trail, "c0 waits, c1 waits, c2 waits, notify 2, c0 woke True, "
                            "c1 woke True, notify_all, c2 woke True");
    condition_free(cond);
}
END_TEST

static void *doc_waiter(void *arg)
{
    (void)arg;
    note("I'll wait right here");
    coro_await(condition_wait(cond, 0), NULL);
    note("I'm done waiting");
    return NULL;
}

static void *doc_notifier(void *arg)
{
    (void)arg;
    note("About to notify");
    condition_notify(cond, 1);
    note("Done notifying");
    return NULL;
}

static void *condition_doc_main(void *arg)
{
    (void)arg;
    future_t *both[2] = {coro_spawn("waiter", doc_waiter, NULL),
                         coro_spawn("notifier", doc_notifier, NULL)};
    return await_all(both, 2);
}

START_TEST(condition_docstring)
{
    cond = condition_new();
    run_main(condition_doc_main, NULL);
    ck_assert_str_eq(trail, "I'll wait right here, About to notify, Done notifying, "
                            "I'm done waiting");
    condition_free(cond);
}
END_TEST

static void *condition_deadline_main(void *arg)
{
    (void)arg;
    future_t *early = condition_wait(cond, ioloop_time(loop) + 0.01);
    future_t *patient = condition_wait(cond, 0);
    void *notified = ITEM(1);
    ck_assert_int_eq(coro_await(early, &notified), 0); /* not an error */
    ck_assert_ptr_null(notified);                        /* false */
    condition_notify(cond, 1); /* skips the expired waiter */
    ck_assert_int_eq(coro_await(patient, &notified), 0);
    ck_assert_ptr_nonnull(notified);
    return NULL;
}

START_TEST(condition_deadline_resolves_false)
{
    cond = condition_new();
    run_main(condition_deadline_main, NULL);
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0);
    condition_free(cond);
}
END_TEST

START_TEST(condition_notify_without_waiters_and_free)
{
    condition_t *c = condition_new();
    condition_notify(c, 3); /* nobody: nothing remembered */
    future_t *w = condition_wait(c, 0);
    future_t *timed = condition_wait(c, ioloop_time(loop) + 60);
    ck_assert(!future_done(w));
    condition_free(c);
    ck_assert(future_done(w) && !future_failed(w));
    ck_assert_ptr_null(future_result(w));
    ck_assert_ptr_null(future_result(timed));
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0);
    future_unref(w);
    future_unref(timed);
    condition_free(NULL);
}
END_TEST

/* ---- Event --------------------------------------------------------------------------- */

static event_t *event;

static void *event_waiter(void *arg)
{
    (void)arg;
    note("Waiting for event");
    coro_await(event_wait(event, 0), NULL);
    note("Not waiting this time");
    coro_await(event_wait(event, 0), NULL);
    note("Done");
    return NULL;
}

static void *event_setter(void *arg)
{
    (void)arg;
    note("About to set the event");
    event_set(event);
    return NULL;
}

static void *event_doc_main(void *arg)
{
    (void)arg;
    future_t *both[2] = {coro_spawn("waiter", event_waiter, NULL),
                         coro_spawn("setter", event_setter, NULL)};
    return await_all(both, 2);
}

START_TEST(event_docstring)
{
    event = event_new();
    run_main(event_doc_main, NULL);
    ck_assert_str_eq(trail, "Waiting for event, About to set the event, "
                            "Not waiting this time, Done");
    event_free(event);
}
END_TEST

START_TEST(event_set_clear_wait)
{
    event_t *e = event_new();
    ck_assert(!event_is_set(e));
    future_t *w = event_wait(e, 0);
    ck_assert(!future_done(w));
    event_set(e);
    ck_assert(event_is_set(e));
    ck_assert(future_done(w) && !future_failed(w));
    future_unref(w);

    w = event_wait(e, ioloop_time(loop) + 60);
    ck_assert(future_done(w)); /* set: done at once, no timer */
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0);
    future_unref(w);

    event_clear(e);
    ck_assert(!event_is_set(e));
    w = event_wait(e, 0);
    ck_assert(!future_done(w));
    event_free(e);
    ck_assert_int_eq(future_error(w), ECANCELED);
    future_unref(w);
    event_free(NULL);
}
END_TEST

static void *event_plain(void *arg)
{
    (void)arg;
    coro_await(event_wait(event, 0), NULL);
    note("plain");
    return NULL;
}

static void *event_timed(void *arg)
{
    (void)arg;
    coro_await(event_wait(event, ioloop_time(loop) + 60), NULL);
    note("timed");
    return NULL;
}

static void *ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        note("tick %d", i);
        coro_await(coro_moment(), NULL);
    }
    return NULL;
}

static void *event_hop_main(void *arg)
{
    (void)arg;
    future_t *timed = coro_spawn("timed", event_timed, NULL);
    future_t *plain = coro_spawn("plain", event_plain, NULL);
    note("set");
    event_set(event);
    future_t *all[3] = {coro_spawn("ticker", ticker, NULL), timed, plain};
    return await_all(all, 3);
}

/* Tornado wraps a wait with a deadline in with_timeout: it wakes one iteration later. */
START_TEST(event_wait_with_deadline_wakes_one_iteration_later)
{
    event = event_new();
    run_main(event_hop_main, NULL);
    ck_assert_str_eq(trail, "set, tick 0, plain, tick 1, timed, tick 2");
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0);
    event_free(event);
}
END_TEST

static void *event_deadline_main(void *arg)
{
    (void)arg;
    ck_assert_int_eq(coro_await(event_wait(event, ioloop_time(loop) + 0.01), NULL),
                     ETIMEDOUT);
    ck_assert_str_eq(coro_error(), "Timeout");
    return NULL;
}

START_TEST(event_deadline_fails_with_etimedout)
{
    event = event_new();
    run_main(event_deadline_main, NULL);
    future_t *later = event_wait(event, 0);
    event_set(event); /* the expired waiter is gone; the new one is served */
    ck_assert(future_done(later));
    future_unref(later);
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0);
    event_free(event);
}
END_TEST

/* ---- Semaphore, Lock ----------------------------------------------------------------- */

static semaphore_t *sem;
static lock_t *lock;

static void *sem_worker(void *arg)
{
    future_t *acquired = sem ? semaphore_acquire(sem, 0) : lock_acquire(lock, 0);
    ck_assert_int_eq(coro_await(acquired, NULL), 0);
    note("s%d-in", INT(arg));
    coro_await(coro_moment(), NULL);
    note("s%d-out", INT(arg));
    ck_assert_int_eq(sem ? semaphore_release(sem) : lock_release(lock), 0);
    return NULL;
}

static void *workers_main(void *arg)
{
    int n = INT(arg);
    future_t *w[8];
    for (int i = 0; i < n; i++)
        w[i] = coro_spawn("worker", sem_worker, ITEM(i));
    return await_all(w, (size_t)n);
}

START_TEST(semaphore_fifo)
{
    sem = semaphore_new(1);
    run_main(workers_main, ITEM(3));
    ck_assert_str_eq(trail, "s0-in, s0-out, s1-in, s1-out, s2-in, s2-out");
    semaphore_free(sem);

    trail[0] = '\0';
    sem = semaphore_new(2);
    run_main(workers_main, ITEM(4));
    ck_assert_str_eq(trail, "s0-in, s1-in, s0-out, s1-out, s2-in, s3-in, s2-out, s3-out");
    ck_assert_int_eq(semaphore_value(sem), 2);
    semaphore_free(sem);
}
END_TEST

START_TEST(semaphore_deadline_and_skipped_waiter)
{
    semaphore_t *s = semaphore_new(0);
    future_t *early = semaphore_acquire(s, ioloop_time(loop) - 1); /* due next iteration */
    future_t *patient = semaphore_acquire(s, ioloop_time(loop) + 60);
    ioloop_run_once(loop);
    ck_assert_int_eq(future_error(early), ETIMEDOUT);
    ck_assert_int_eq(semaphore_release(s), 0);
    ck_assert(future_done(patient) && !future_failed(patient));
    ck_assert_int_eq(semaphore_value(s), 0); /* the unit went to the waiter */
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0);
    ck_assert_int_eq(semaphore_release(s), 0);
    ck_assert_int_eq(semaphore_value(s), 1);
    future_unref(early);
    future_unref(patient);
    semaphore_free(s);
}
END_TEST

START_TEST(semaphore_bad_input)
{
    errno = 0;
    ck_assert_ptr_null(semaphore_new(-1));
    ck_assert_int_eq(errno, EINVAL);
    errno = 0;
    ck_assert_ptr_null(bounded_semaphore_new(-5));
    ck_assert_int_eq(errno, EINVAL);
    semaphore_free(NULL);

    semaphore_t *b = bounded_semaphore_new(1);
    ck_assert_int_eq(semaphore_release(b), -1);
    ck_assert_int_eq(errno, EINVAL);
    future_t *f = semaphore_acquire(b, 0);
    ck_assert(future_done(f));
    future_unref(f);
    ck_assert_int_eq(semaphore_value(b), 0);
    ck_assert_int_eq(semaphore_release(b), 0);
    ck_assert_int_eq(semaphore_release(b), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(semaphore_value(b), 1);
    semaphore_free(b);

    semaphore_t *unbounded = semaphore_new(0);
    ck_assert_int_eq(semaphore_release(unbounded), 0);
    ck_assert_int_eq(semaphore_release(unbounded), 0);
    ck_assert_int_eq(semaphore_value(unbounded), 2);
    semaphore_free(unbounded);
}
END_TEST

START_TEST(lock_fifo)
{
    sem = NULL;
    lock = lock_new();
    run_main(workers_main, ITEM(4));
    ck_assert_str_eq(trail, "s0-in, s0-out, s1-in, s1-out, s2-in, s2-out, s3-in, s3-out");
    ck_assert(!lock_locked(lock));
    lock_free(lock);
}
END_TEST

START_TEST(lock_release_unlocked)
{
    lock_t *l = lock_new();
    ck_assert_int_eq(lock_release(l), -1);
    ck_assert_int_eq(errno, EPERM);
    future_t *f = lock_acquire(l, 0);
    ck_assert(future_done(f) && lock_locked(l));
    future_unref(f);
    f = lock_acquire(l, ioloop_time(loop) + 60);
    ck_assert(!future_done(f));
    ck_assert_int_eq(lock_release(l), 0); /* straight to the waiter: still locked */
    ck_assert(future_done(f) && lock_locked(l));
    future_unref(f);
    ck_assert_int_eq(lock_release(l), 0);
    ck_assert(!lock_locked(l));
    ck_assert_int_eq(lock_release(l), -1);
    ck_assert_int_eq(errno, EPERM);
    lock_free(l);
    lock_free(NULL);
}
END_TEST

START_TEST(free_with_waiters_pending)
{
    semaphore_t *s = semaphore_new(0);
    lock_t *l = lock_new();
    future_t *held = lock_acquire(l, 0);
    future_t *fs = semaphore_acquire(s, ioloop_time(loop) + 60);
    future_t *fl = lock_acquire(l, 0);
    event_t *e = event_new();
    future_t *fe = event_wait(e, ioloop_time(loop) + 60);
    semaphore_free(s);
    lock_free(l);
    event_free(e);
    ck_assert_int_eq(future_error(fs), ECANCELED);
    ck_assert_int_eq(future_error(fl), ECANCELED);
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0);
    ioloop_run_once(loop); /* the deadline's chained future hears it */
    ck_assert_int_eq(future_error(fe), ECANCELED);
    future_unref(held);
    future_unref(fs);
    future_unref(fl);
    future_unref(fe);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("locks");
    TCase *tc = tcase_create("locks");
    tcase_add_checked_fixture(tc, loop_test_setup, loop_test_teardown);
    tcase_add_test(tc, condition_notify_two_then_all);
    tcase_add_test(tc, condition_docstring);
    tcase_add_test(tc, condition_deadline_resolves_false);
    tcase_add_test(tc, condition_notify_without_waiters_and_free);
    tcase_add_test(tc, event_docstring);
    tcase_add_test(tc, event_set_clear_wait);
    tcase_add_test(tc, event_wait_with_deadline_wakes_one_iteration_later);
    tcase_add_test(tc, event_deadline_fails_with_etimedout);
    tcase_add_test(tc, semaphore_fifo);
    tcase_add_test(tc, semaphore_deadline_and_skipped_waiter);
    tcase_add_test(tc, semaphore_bad_input);
    tcase_add_test(tc, lock_fifo);
    tcase_add_test(tc, lock_release_unlocked);
    tcase_add_test(tc, free_with_waiters_pending);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
