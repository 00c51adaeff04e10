/* Unit tests for 04_epoll_loop/future and coro: Tornado's scheduling rules (eager start,
 * done futures do not suspend, resolution never resumes inline), errors reaching the
 * awaiter, sleep and moment, multi over arrays and names, with_timeout, spawn_callback,
 * and the misuses: awaiting outside a coroutine, a loop freed with coroutines waiting,
 * a stack overflow. Order is asserted on a log of events. */
#include "coro.h"
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char log_buf[2048];
static double base;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    size_t len = strlen(log_buf);
    if (len)
        log_buf[len++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(log_buf + len, sizeof log_buf - len, fmt, ap);
    va_end(ap);
}

static ioloop_t *fresh(void)
{
    log_buf[0] = 0;
    ioloop_t *loop = ioloop_create();
    ck_assert_ptr_nonnull(loop);
    ioloop_make_current(loop);
    base = ioloop_time(loop);
    return loop;
}

static void run_until_done(ioloop_t *loop, future_t *f)
{
    for (int i = 0; i < 10000 && !future_done(f); i++)
        ck_assert_int_eq(ioloop_run_once(loop), 0);
    ck_assert(future_done(f));
}

static future_t *done_future(void *value)
{
    future_t *f = future_new("done");
    future_set_result(f, value);
    return f;
}

/* ---- the scheduling rules ---------------------------------------------------------- */

static void *three_done(void *arg)
{
    (void)arg;
    for (intptr_t i = 0; i < 3; i++) {
        void *v;
        ck_assert_int_eq(coro_await(done_future((void *)i), &v), 0);
        ck_assert_ptr_eq(v, (void *)i);
        note("done-%d", (int)i);
    }
    note("returned");
    return "r";
}

/* Probe T5: awaiting done futures never suspends; the coroutine ends inside spawn. */
START_TEST(done_futures_do_not_suspend)
{
    ioloop_t *loop = fresh();
    future_t *f = coro_spawn("g", three_done, NULL);
    note("after-spawn");
    ck_assert(future_done(f));
    ck_assert_str_eq(future_result(f), "r");
    ck_assert_str_eq(log_buf, "done-0 done-1 done-2 returned after-spawn");
    future_unref(f);
    ioloop_free(loop);
}
END_TEST

static void *wait_on(void *arg)
{
    note("body-start");
    void *v;
    future_ref(arg);
    ck_assert_int_eq(coro_await(arg, &v), 0);
    note("resumed:%s", (char *)v);
    return NULL;
}

static void noted(void *arg)
{
    note("%s", (char *)arg);
}

/* Probe T3/T4: the body starts inside spawn; set_result schedules, never resumes inline;
 * the resumption runs before a callback added after set_result. */
START_TEST(resolution_resumes_a_turn_later)
{
    ioloop_t *loop = fresh();
    future_t *shared = future_new("shared");
    future_t *f = coro_spawn("waiter", wait_on, shared);
    note("after-spawn");
    future_set_result(shared, "1");
    note("after-set_result");
    ioloop_add_callback(loop, noted, "cb-added-after-set");
    run_until_done(loop, f);
    ck_assert_str_eq(log_buf, "body-start after-spawn after-set_result resumed:1 cb-added-after-set");
    future_unref(f);
    future_unref(shared);
    ioloop_free(loop);
}
END_TEST

static void *named_waiter(void *arg)
{
    future_t *shared = arg;
    future_ref(shared);
    coro_await(shared, NULL);
    note("%s", coro_name(coro_current()));
    return NULL;
}

/* Several coroutines on one future wake in the order they began to wait. */
START_TEST(several_waiters_wake_fifo)
{
    ioloop_t *loop = fresh();
    future_t *shared = future_new("shared");
    future_t *w[3] = {coro_spawn("w0", named_waiter, shared), coro_spawn("w1", named_waiter, shared),
                      coro_spawn("w2", named_waiter, shared)};
    future_t *all = coro_multi(w, 3);
    future_set_result(shared, NULL);
    run_until_done(loop, all);
    ck_assert_str_eq(log_buf, "w0 w1 w2");
    future_unref(all);
    future_unref(shared);
    ioloop_free(loop);
}
END_TEST

static void *fails(void *arg)
{
    return coro_fail(EDOM, "bad %s", (char *)arg);
}

static void *passes_it_on(void *arg)
{
    (void)arg;
    int err = coro_await(coro_spawn("inner", fails, "input"), NULL);
    note("caught %d %s", err, coro_error());
    return coro_fail_again();
}

START_TEST(errors_reach_the_awaiter)
{
    ioloop_t *loop = fresh();
    future_t *f = coro_spawn("outer", passes_it_on, NULL);
    ck_assert(future_failed(f));
    ck_assert_int_eq(future_error(f), EDOM);
    ck_assert_str_eq(future_error_message(f), "bad input");
    ck_assert_str_eq(log_buf, "caught 33 bad input");
    future_unref(f);
    ioloop_free(loop);
}
END_TEST

/* Sleeps until base + offset: deadlines from one base do not depend on how long the
 * spawns between them took (valgrind is slow). */
static future_t *sleep_until(double offset)
{
    return coro_sleep(base + offset - ioloop_time(ioloop_current()));
}

static void *sleeper(void *arg)
{
    note("%s sleeps", (char *)arg);
    coro_await(sleep_until(strcmp(arg, "a") == 0 ? 0.06 : 0.03), NULL);
    note("%s wakes", (char *)arg);
    return arg;
}

START_TEST(sleeps_end_in_deadline_order)
{
    ioloop_t *loop = fresh();
    future_t *kids[2] = {coro_spawn("a", sleeper, "a"), coro_spawn("b", sleeper, "b")};
    future_t *all = coro_multi(kids, 2);
    run_until_done(loop, all);
    ck_assert_str_eq(log_buf, "a sleeps b sleeps b wakes a wakes");
    void **values = future_result(all);
    ck_assert_str_eq(values[0], "a");
    ck_assert_str_eq(values[1], "b");
    future_unref(all);
    ioloop_free(loop);
}
END_TEST

static void *taker(void *arg)
{
    for (int i = 0; i < 3; i++) {
        note("%s%d", (char *)arg, i);
        coro_await(coro_moment(), NULL);
    }
    return NULL;
}

/* gen.moment: one turn each, so two coroutines alternate. */
START_TEST(moment_gives_one_turn)
{
    ioloop_t *loop = fresh();
    future_t *kids[2] = {coro_spawn("x", taker, "x"), coro_spawn("y", taker, "y")};
    future_t *all = coro_multi(kids, 2);
    uint64_t before = ioloop_iterations(loop);
    run_until_done(loop, all);
    ck_assert_str_eq(log_buf, "x0 y0 x1 y1 x2 y2");
    ck_assert_uint_le(ioloop_iterations(loop) - before, 5);
    future_unref(all);
    ioloop_free(loop);
}
END_TEST

/* ---- multi ------------------------------------------------------------------------- */

struct job {
    const char *name;
    double delay;
    int fail;
};

static void *timed_job(void *arg)
{
    const struct job *j = arg;
    coro_await(sleep_until(j->delay), NULL);
    note("%s", j->name);
    return j->fail ? coro_fail(j->fail, "%s failed", j->name) : (void *)j->name;
}

/* Probe T6: multi waits for every child, then raises the first failure in input order. */
START_TEST(multi_waits_for_all_and_fails_in_input_order)
{
    ioloop_t *loop = fresh();
    static const struct job jobs[] = {{"ok1", 0.06, 0}, {"bad2", 0.03, EIO}, {"bad3", 0.09, EPIPE}};
    future_t *kids[3];
    for (int i = 0; i < 3; i++)
        kids[i] = coro_spawn(jobs[i].name, timed_job, (void *)&jobs[i]);
    future_t *all = coro_multi(kids, 3);
    run_until_done(loop, all);
    ck_assert_str_eq(log_buf, "bad2 ok1 bad3");
    ck_assert_int_eq(future_error(all), EIO);
    ck_assert_str_eq(future_error_message(all), "bad2 failed");
    future_unref(all);
    ioloop_free(loop);
}
END_TEST

START_TEST(multi_of_nothing_or_done_is_done_at_once)
{
    ioloop_t *loop = fresh();
    future_t *none = coro_multi(NULL, 0);
    ck_assert(future_done(none) && !future_failed(none));
    future_t *kids[2] = {done_future("p"), done_future("q")};
    future_t *both = coro_multi(kids, 2);
    ck_assert(future_done(both));
    ck_assert_str_eq(((void **)future_result(both))[1], "q");
    future_unref(none);
    future_unref(both);
    ioloop_free(loop);
}
END_TEST

START_TEST(multi_named_keeps_the_names)
{
    ioloop_t *loop = fresh();
    static const struct job a = {"a", 0.06, 0}, b = {"b", 0.03, 0};
    const char *names[] = {"first", "second"};
    future_t *kids[2] = {coro_spawn("a", timed_job, (void *)&a), coro_spawn("b", timed_job, (void *)&b)};
    future_t *all = coro_multi_named(names, kids, 2);
    run_until_done(loop, all);
    const struct coro_named_results *r = future_result(all);
    ck_assert_uint_eq(r->n, 2);
    ck_assert_str_eq(r->names[0], "first");
    ck_assert_str_eq(coro_named_get(r, "first"), "a");
    ck_assert_str_eq(coro_named_get(r, "second"), "b");
    ck_assert_ptr_null(coro_named_get(r, "third"));
    future_unref(all);
    future_t *empty = coro_multi_named(NULL, NULL, 0);
    ck_assert_uint_eq(((const struct coro_named_results *)future_result(empty))->n, 0);
    future_unref(empty);
    future_t *unnamed[1] = {done_future("x")};
    future_t *bad = coro_multi_named(NULL, unnamed, 1);
    ck_assert_int_eq(future_error(bad), EINVAL);
    future_unref(bad);
    ioloop_free(loop);
}
END_TEST

/* ---- with_timeout ------------------------------------------------------------------ */

/* Probe T9: the wait times out; the inner future is not cancelled and ends later. */
START_TEST(with_timeout_does_not_cancel)
{
    ioloop_t *loop = fresh();
    static const struct job slow = {"slow", 0.2, 0};
    future_t *inner = coro_spawn("slow", timed_job, (void *)&slow);
    future_ref(inner);
    future_t *f = coro_with_timeout(base + 0.05, inner);
    run_until_done(loop, f);
    ck_assert_int_eq(future_error(f), ETIMEDOUT);
    ck_assert_str_eq(future_error_message(f), "Timeout");
    ck_assert(!future_done(inner));
    run_until_done(loop, inner);
    ioloop_run_once(loop); /* delivers inner's end to with_timeout, which lets go */
    ck_assert_str_eq(future_result(inner), "slow");
    future_unref(inner);
    future_unref(f);

    f = coro_with_timeout(ioloop_time(loop) + 10, done_future("quick"));
    ck_assert_str_eq(future_result(f), "quick");
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0);
    future_unref(f);
    ioloop_free(loop);
}
END_TEST

/* ---- spawn_callback ---------------------------------------------------------------- */

static void *say_started(void *arg)
{
    note("%s", (char *)arg);
    return NULL;
}

START_TEST(spawn_callback_starts_next_turn)
{
    ioloop_t *loop = fresh();
    coro_spawn_callback("later", say_started, "later");
    future_t *now = coro_spawn("now", say_started, "now");
    note("spawned");
    ioloop_run_once(loop);
    ck_assert_str_eq(log_buf, "now spawned later");
    future_unref(now);
    coro_spawn_callback("failing", fails, "x");
    ioloop_run_once(loop);
    ioloop_run_once(loop);
    ioloop_free(loop);
}
END_TEST

/* ---- misuse ------------------------------------------------------------------------ */

START_TEST(await_outside_a_coroutine_is_an_error)
{
    ioloop_t *loop = fresh();
    void *v = "untouched";
    ck_assert_int_eq(coro_await(future_new("f"), &v), EPERM);
    ck_assert_str_eq(v, "untouched");
    ck_assert_str_eq(coro_error(), "coro_await: not inside a coroutine");
    ck_assert_ptr_null(coro_current());
    ioloop_free(loop);
}
END_TEST

static void *forever(void *arg)
{
    coro_await(arg, NULL);
    ck_abort_msg("resumed after its loop was freed");
    return NULL;
}

/* A loop freed with coroutines waiting says which, and frees them (valgrind-clean). */
START_TEST(freeing_the_loop_reports_waiting_coroutines)
{
    ioloop_t *loop = fresh();
    future_t *never = future_new("never");
    future_ref(never);
    future_t *f = coro_spawn("stuck", forever, never);
    future_t *g = coro_spawn("sleepy", forever, coro_sleep(60));
    ck_assert_uint_eq(coro_suspended_count(), 2);
    ioloop_free(loop);
    ck_assert_int_eq(future_error(f), ECANCELED);
    future_unref(f);
    future_unref(g);
    future_unref(never);
}
END_TEST

static void *stopper(void *arg)
{
    (void)arg;
    ioloop_stop(ioloop_current());
    coro_await(coro_sleep(60), NULL);
    return NULL;
}

START_TEST(stopping_with_coroutines_pending)
{
    ioloop_t *loop = fresh();
    future_t *f = coro_spawn("stopper", stopper, NULL);
    ck_assert_int_eq(ioloop_start(loop), 0);
    ck_assert(!future_done(f));
    ck_assert_uint_eq(coro_suspended_count(), 1);
    ioloop_free(loop);
    future_unref(f);
}
END_TEST

static int depth(int n)
{
    volatile char pad[1024];
    pad[0] = (char)n;
    return n == 0 ? pad[0] : depth(n - 1) + pad[0];
}

static void *recurse(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)depth(1000000);
}

/* Overflow faults on the guard page, and the message names the coroutine. */
START_TEST(stack_overflow_is_named)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        fresh();
        coro_spawn_stack("deep", recurse, NULL, 64 * 1024);
        _exit(0);
    }
    close(p[1]);
    char buf[512] = "";
    size_t len = 0;
    for (ssize_t n; len < sizeof buf - 1 && (n = read(p[0], buf + len, sizeof buf - 1 - len)) > 0;)
        len += (size_t)n;
    buf[len] = 0;
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    ck_assert_msg(strstr(buf, "deep") && strstr(buf, "overflow"), "stderr: %s", buf);
}
END_TEST

static void *short_nap(void *arg)
{
    coro_await(coro_sleep(0.001), NULL);
    return arg;
}

START_TEST(ten_thousand_coroutines)
{
    ioloop_t *loop = fresh();
#if defined(__SANITIZE_THREAD__)
    enum { N = 4000 }; /* ThreadSanitizer allows 8128 threads and fibers in all */
#else
    enum { N = 10000 };
#endif
    static future_t *kids[N];
    for (intptr_t i = 0; i < N; i++)
        kids[i] = coro_spawn_stack("nap", short_nap, (void *)i, 16 * 1024);
    future_t *all = coro_multi(kids, N);
    run_until_done(loop, all);
    void **v = future_result(all);
    for (intptr_t i = 0; i < N; i++)
        ck_assert_ptr_eq(v[i], (void *)i);
    future_unref(all);
    ioloop_free(loop);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coro");
    TCase *tc = tcase_create("coro");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, done_futures_do_not_suspend);
    tcase_add_test(tc, resolution_resumes_a_turn_later);
    tcase_add_test(tc, several_waiters_wake_fifo);
    tcase_add_test(tc, errors_reach_the_awaiter);
    tcase_add_test(tc, sleeps_end_in_deadline_order);
    tcase_add_test(tc, moment_gives_one_turn);
    tcase_add_test(tc, multi_waits_for_all_and_fails_in_input_order);
    tcase_add_test(tc, multi_of_nothing_or_done_is_done_at_once);
    tcase_add_test(tc, multi_named_keeps_the_names);
    tcase_add_test(tc, with_timeout_does_not_cancel);
    tcase_add_test(tc, spawn_callback_starts_next_turn);
    tcase_add_test(tc, await_outside_a_coroutine_is_an_error);
    tcase_add_test(tc, freeing_the_loop_reports_waiting_coroutines);
    tcase_add_test(tc, stopping_with_coroutines_pending);
    tcase_add_test(tc, stack_overflow_is_named);
    tcase_add_test(tc, ten_thousand_coroutines);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
