/* Exercise 5's checks: the semaphore in your file, on a real loop.
 *
 * Three small tests look at one rule each (a free unit is granted at once, waiters are
 * served oldest first, a deadline fails the waiter and release skips it); the last runs
 * six coroutines and compares the order of their lines with oracle.txt, what real
 * Tornado 6 prints for the same program (oracle.py).
 *
 * Run as: test [ORACLE]  (ORACLE: oracle.txt; default $EXERCISE_DIR/oracle.txt)
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro.h"
#include "ex_semaphore.h"
#include "ioloop.h"

#define UNIT 0.1 /* seconds: the scenario's tick, as in oracle.py (wide enough for a loaded machine) */
#define MAX_LINES 64

static const char *oracle_path;

/* ---- one rule at a time ------------------------------------------------------------- */

/* What a future says about itself, for a failure message. */
static const char *state(future_t *f)
{
    if (!future_done(f))
        return "still pending";
    return future_failed(f) ? future_error_message(f) : "done";
}

START_TEST(free_unit_at_once)
{
    ioloop_t *loop = ioloop_current();
    ex_semaphore_t *s = ex_semaphore_new(2);
    future_t *a = ex_semaphore_acquire(s, 0);
    ck_assert_msg(future_done(a) && !future_failed(a),
                  "Semaphore(2): the first acquire should be done at once, with no error "
                  "(a unit is free), but it is %s", state(a));
    future_t *b = ex_semaphore_acquire(s, 0);
    ck_assert_msg(future_done(b) && !future_failed(b),
                  "Semaphore(2): the second acquire should be done at once too, but it is %s",
                  state(b));
    ck_assert_msg(ex_semaphore_value(s) == 0,
                  "after two acquires on Semaphore(2) the value should be 0, not %ld",
                  ex_semaphore_value(s));
    future_t *c = ex_semaphore_acquire(s, 0);
    ck_assert_msg(!future_done(c), "with no unit free, acquire should wait, but it is %s",
                  state(c));
    ex_semaphore_release(s);
    ck_assert_msg(future_done(c) && ex_semaphore_value(s) == 0,
                  "release should hand the unit to the waiter (its future done, value 0); "
                  "the waiter is %s, the value %ld", state(c), ex_semaphore_value(s));
    future_unref(a);
    future_unref(b);
    future_unref(c);
    ex_semaphore_free(s);
    ioloop_free(loop);
}
END_TEST

START_TEST(waiters_oldest_first)
{
    ioloop_t *loop = ioloop_current();
    ex_semaphore_t *s = ex_semaphore_new(0);
    future_t *w[3];
    for (int i = 0; i < 3; i++)
        w[i] = ex_semaphore_acquire(s, 0);
    for (int i = 0; i < 3; i++) {
        ex_semaphore_release(s);
        for (int j = 0; j < 3; j++)
            ck_assert_msg(future_done(w[j]) == (j <= i),
                          "Semaphore(0), three waiters, %d release(s): waiter %d should be %s, "
                          "but it is %s", i + 1, j + 1, j <= i ? "done" : "still pending",
                          state(w[j]));
    }
    for (int i = 0; i < 3; i++)
        future_unref(w[i]);
    ex_semaphore_free(s);
    ioloop_free(loop);
}
END_TEST

/* Awaits an acquire with a deadline 1 tick away; its result is the error code. */
static void *await_with_deadline(void *arg)
{
    future_t *f = ex_semaphore_acquire(arg, ioloop_time(ioloop_current()) + UNIT);
    return (void *)(long)coro_await(f, NULL);
}

static future_t *spawn_waiter(void *arg)
{
    return coro_spawn("waiter", await_with_deadline, arg);
}

static future_t *spawn_sleep(void *arg)
{
    (void)arg;
    return coro_sleep(2 * UNIT);
}

START_TEST(deadline_fails_and_release_skips)
{
    ioloop_t *loop = ioloop_current();
    ex_semaphore_t *s = ex_semaphore_new(0);
    future_t *run = ioloop_run_sync(loop, spawn_waiter, s, 20 * UNIT);
    ck_assert_msg(!future_failed(run),
                  "Semaphore(0): an acquire with a deadline %.0f ms away was still waiting "
                  "%.0f ms later: a deadline should end the wait", UNIT * 1000, 20 * UNIT * 1000);
    long code = (long)future_result(run);
    ck_assert_msg(code == ETIMEDOUT,
                  "at its deadline the acquire should fail with ETIMEDOUT (%d, \"Timeout\"), "
                  "not with code %ld", ETIMEDOUT, code);
    future_unref(run);
    ex_semaphore_release(s);
    ck_assert_msg(ex_semaphore_value(s) == 1,
                  "release after the only waiter timed out should keep the unit (value 1), "
                  "not give it to the waiter that gave up: the value is %ld",
                  ex_semaphore_value(s));

    ex_semaphore_t *t = ex_semaphore_new(0);
    future_t *f = ex_semaphore_acquire(t, ioloop_time(loop) + UNIT);
    ex_semaphore_release(t);
    future_unref(ioloop_run_sync(loop, spawn_sleep, NULL, 0));
    ck_assert_msg(future_done(f) && !future_failed(f),
                  "a waiter served before its deadline should stay served once the deadline "
                  "has passed, but it is %s", state(f));
    future_unref(f);
    ex_semaphore_free(t);
    ex_semaphore_free(s);
    ioloop_free(loop);
}
END_TEST

/* ---- the scenario, against Tornado ---------------------------------------------------- */

static char *lines[MAX_LINES];
static int nlines;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (nlines < MAX_LINES && vasprintf(&lines[nlines], fmt, ap) >= 0)
        nlines++;
    va_end(ap);
}

static ex_semaphore_t *sem;

/* One coroutine of oracle.py: acquires (waiting at most timeout ticks, 0: no limit),
 * works for work ticks, releases. oracle.py's `async with` is this same sequence. */
struct worker {
    const char *name;
    int work, timeout;
};

static void *worker(void *arg)
{
    const struct worker *w = arg;
    double deadline = 0;
    if (w->timeout == 0) {
        say("%s acquires", w->name);
    } else {
        say("%s acquires, waits at most %d tick%s", w->name, w->timeout,
            w->timeout > 1 ? "s" : "");
        deadline = ioloop_time(ioloop_current()) + w->timeout * UNIT;
    }
    int err = coro_await(ex_semaphore_acquire(sem, deadline), NULL);
    if (err == ETIMEDOUT) {
        say("%s timed out", w->name);
        return NULL;
    } else if (err) {
        say("%s failed: %s", w->name, coro_error());
        return NULL;
    }
    say("%s has a unit", w->name);
    coro_await(coro_sleep(w->work * UNIT), NULL);
    say("%s done with its work", w->name);
    ex_semaphore_release(sem);
    say("%s released", w->name);
    return NULL;
}

static const struct worker workers[] = {
    {"A", 3, 0}, {"B", 5, 0}, {"C", 0, 1}, {"D", 3, 0}, {"E", 3, 0}, {"F", 1, 10},
};
#define NWORKERS (sizeof workers / sizeof workers[0])

static void *scenario(void *arg)
{
    (void)arg;
    future_t *all[NWORKERS];
    for (size_t i = 0; i < NWORKERS; i++)
        all[i] = coro_spawn(workers[i].name, worker, (void *)&workers[i]);
    coro_await(coro_multi(all, NWORKERS), NULL);
    say("all done");
    return NULL;
}

static future_t *spawn_scenario(void *arg)
{
    return coro_spawn("main", scenario, arg);
}

/* Reads the oracle's lines into want[]; returns how many. */
static int read_oracle(char **want)
{
    FILE *in = fopen(oracle_path, "r");
    ck_assert_msg(in != NULL, "cannot read %s: %s", oracle_path, strerror(errno));
    int n = 0;
    size_t cap = 0;
    char *line = NULL;
    ssize_t len;
    while (n < MAX_LINES && (len = getline(&line, &cap, in)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[len - 1] = '\0';
        want[n++] = strdup(line);
    }
    free(line);
    fclose(in);
    return n;
}

/* Tornado's lines beside ours, up to a few lines after the first difference. */
static void show_both(char **want, int nwant, int upto)
{
    fprintf(stderr, "     %-36s %s\n", "Tornado (oracle.txt)", "your semaphore");
    for (int i = 0; i < upto && (i < nwant || i < nlines); i++)
        fprintf(stderr, "%3d  %-36s %s%s\n", i + 1, i < nwant ? want[i] : "",
                i < nlines ? lines[i] : "", i + 3 == upto ? "   <- first difference" : "");
}

START_TEST(same_order_as_tornado)
{
    ioloop_t *loop = ioloop_current();
    sem = ex_semaphore_new(2);
    future_t *run = ioloop_run_sync(loop, spawn_scenario, NULL, 40 * UNIT);
    bool finished = !future_failed(run);
    future_unref(run);
    char *want[MAX_LINES];
    int nwant = read_oracle(want);
    for (int i = 0; i < nwant || i < nlines; i++) {
        const char *a = i < nwant ? want[i] : "(the end)";
        const char *b = i < nlines ? lines[i] : finished ? "(the end)" : "(nothing: stuck)";
        if (strcmp(a, b) != 0) {
            show_both(want, nwant, i + 3);
            ck_abort_msg("the scenario's order differs from Tornado's (oracle.txt) at "
                         "line %d: expected \"%s\", got \"%s\"", i + 1, a, b);
        }
    }
    ck_assert_msg(finished, "the scenario did not finish within %.0f s", 40 * UNIT);
    ck_assert_msg(ex_semaphore_value(sem) == 2,
                  "after the scenario both units should be free again, but the value is %ld",
                  ex_semaphore_value(sem));
    for (int i = 0; i < nwant; i++)
        free(want[i]);
    for (int i = 0; i < nlines; i++)
        free(lines[i]);
    ex_semaphore_free(sem);
    ioloop_free(loop);
}
END_TEST

int main(int argc, char **argv)
{
    static char path[4096];
    if (argc > 1) {
        oracle_path = argv[1];
    } else {
        const char *dir = getenv("EXERCISE_DIR");
        snprintf(path, sizeof path, "%s/oracle.txt", dir ? dir : ".");
        oracle_path = path;
    }
    Suite *suite = suite_create("semaphore");
    TCase *tc = tcase_create("acquire");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, free_unit_at_once);
    tcase_add_test(tc, waiters_oldest_first);
    tcase_add_test(tc, deadline_fails_and_release_skips);
    tcase_add_test(tc, same_order_as_tornado);
    suite_add_tcase(suite, tc);
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
