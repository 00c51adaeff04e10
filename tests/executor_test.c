/* Unit tests for 04_epoll_loop/executor: results come back on the loop's thread, jobs
 * start in the order they were submitted, the pool really runs in parallel, shutdown
 * drains and then refuses, and the loop goes on while a job blocks. Every order below
 * is forced by the test (barriers, conditions), never left to the scheduler. */
#include "coro.h"
#include "executor.h"
#include "ioloop.h"
#include "loop_test.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static pthread_t loop_thread;
static executor_t *pool;

/* Under mu: what the pool's jobs did, and the loop's ticks they wait for. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ticked = PTHREAD_COND_INITIALIZER;
static int started[64];
static int nstarted;
static int ticks;

static void setup(void)
{
    loop_test_setup();
    loop_thread = pthread_self();
    nstarted = 0;
    ticks = 0;
}

/* ---- where results arrive ------------------------------------------------------------ */

static void *where_am_i(void *arg)
{
    pthread_t *ran_on = arg;
    *ran_on = pthread_self();
    return "answer";
}

static pthread_t resolved_on;

static void note_resolver(future_t *f, void *arg)
{
    (void)f;
    (void)arg;
    resolved_on = pthread_self();
}

static void *thread_main(void *arg)
{
    (void)arg;
    pthread_t ran_on;
    future_t *f = executor_submit(pool, "where_am_i", where_am_i, &ran_on);
    ck_assert_str_eq(future_name(f), "where_am_i");
    future_add_done_callback(f, note_resolver, NULL);
    void *answer;
    ck_assert_int_eq(coro_await(f, &answer), 0);
    ck_assert_str_eq(answer, "answer");
    ck_assert(!pthread_equal(ran_on, loop_thread));
    ck_assert(pthread_equal(pthread_self(), loop_thread));
    ck_assert(pthread_equal(resolved_on, loop_thread));
    return NULL;
}

START_TEST(results_arrive_on_the_loop_thread)
{
    pool = executor_new(2);
    ck_assert_ptr_nonnull(pool);
    run_main(thread_main, NULL);
    executor_free(pool);
}
END_TEST

/* ---- order and parallelism ----------------------------------------------------------- */

static void *record_start(void *arg)
{
    pthread_mutex_lock(&mu);
    started[nstarted++] = INT(arg);
    pthread_mutex_unlock(&mu);
    return arg;
}

static void *in_order_main(void *arg)
{
    (void)arg;
    future_t *jobs[8];
    for (int i = 0; i < 8; i++)
        jobs[i] = executor_submit(pool, "record_start", record_start, ITEM(i));
    future_t *all = coro_multi(jobs, 8);
    void *results;
    if (coro_await(all, &results))
        return coro_fail_again();
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(INT(((void **)results)[i]), i);
    return NULL;
}

START_TEST(one_thread_runs_jobs_in_submission_order)
{
    pool = executor_new(1);
    run_main(in_order_main, NULL);
    pthread_mutex_lock(&mu);
    ck_assert_int_eq(nstarted, 8);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(started[i], i);
    pthread_mutex_unlock(&mu);
    executor_free(pool);
}
END_TEST

static void *square(void *arg)
{
    return ITEM(INT(arg) * INT(arg));
}

static void *many_main(void *arg)
{
    (void)arg;
    enum { N = 500 };
    future_t *jobs[N];
    for (int i = 0; i < N; i++)
        jobs[i] = executor_submit(pool, "square", square, ITEM(i));
    void *results;
    if (coro_await(coro_multi(jobs, N), &results))
        return coro_fail_again();
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(INT(((void **)results)[i]), i * i);
    return NULL;
}

static pthread_barrier_t four;

/* Returns only once four jobs are running at the same time. */
static void *meet(void *arg)
{
    pthread_barrier_wait(&four);
    return arg;
}

static void *parallel_main(void *arg)
{
    (void)arg;
    future_t *jobs[4];
    for (int i = 0; i < 4; i++)
        jobs[i] = executor_submit(pool, "meet", meet, ITEM(i));
    return coro_await(coro_multi(jobs, 4), NULL) ? coro_fail_again() : NULL;
}

START_TEST(four_threads_many_jobs)
{
    pool = executor_new(4);
    run_main(many_main, NULL);
    pthread_barrier_init(&four, NULL, 4);
    run_main(parallel_main, NULL);
    pthread_barrier_destroy(&four);
    executor_free(pool);
}
END_TEST

/* ---- shutdown ------------------------------------------------------------------------ */

START_TEST(shutdown_drains_then_refuses)
{
    pool = executor_new(1);
    future_t *jobs[3];
    for (int i = 0; i < 3; i++)
        jobs[i] = executor_submit(pool, "record_start", record_start, ITEM(i));
    executor_shutdown(pool); /* waits for all three */
    pthread_mutex_lock(&mu);
    ck_assert_int_eq(nstarted, 3);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < 3; i++) {
        while (!future_done(jobs[i])) /* delivered by the loop, not by shutdown */
            ioloop_run_once(loop);
        ck_assert_int_eq(INT(future_result(jobs[i])), i);
        future_unref(jobs[i]);
    }

    future_t *late = executor_submit(pool, "record_start", record_start, ITEM(9));
    ck_assert(future_failed(late));
    ck_assert_int_eq(future_error(late), ECANCELED);
    future_unref(late);
    executor_shutdown(pool); /* twice is harmless */
    executor_free(pool);
    ck_assert_int_eq(nstarted, 3);
}
END_TEST

START_TEST(bad_input)
{
    errno = 0;
    ck_assert_ptr_null(executor_new(0));
    ck_assert_int_eq(errno, EINVAL);
    executor_free(NULL);

    pool = executor_new(1);
    future_t *f = executor_submit(pool, "nothing", NULL, NULL);
    ck_assert_int_eq(future_error(f), EINVAL);
    future_unref(f);
    executor_free(pool);
}
END_TEST

/* ---- the loop goes on while a job blocks ---------------------------------------------- */

/* Blocks its pool thread until the loop's timer has run three times. */
static void *wait_for_three_ticks(void *arg)
{
    pthread_mutex_lock(&mu);
    while (ticks < 3)
        pthread_cond_wait(&ticked, &mu);
    pthread_mutex_unlock(&mu);
    return arg;
}

static void tick(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    int n = ++ticks;
    pthread_cond_signal(&ticked);
    pthread_mutex_unlock(&mu);
    note("tick %d", n);
    if (n < 3)
        ioloop_call_later(loop, 0.001, "tick", tick, NULL);
}

static void *blocking_main(void *arg)
{
    (void)arg;
    future_t *job = executor_submit(pool, "wait_for_three_ticks", wait_for_three_ticks, NULL);
    ioloop_call_later(loop, 0.001, "tick", tick, NULL);
    ck_assert_int_eq(coro_await(job, NULL), 0);
    note("job done");
    return NULL;
}

START_TEST(loop_runs_timers_while_a_job_blocks)
{
    pool = executor_new(1);
    run_main(blocking_main, NULL);
    ck_assert_str_eq(trail, "tick 1, tick 2, tick 3, job done");
    executor_free(pool);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("executor");
    TCase *tc = tcase_create("executor");
    tcase_add_checked_fixture(tc, setup, loop_test_teardown);
    tcase_add_test(tc, results_arrive_on_the_loop_thread);
    tcase_add_test(tc, one_thread_runs_jobs_in_submission_order);
    tcase_add_test(tc, four_threads_many_jobs);
    tcase_add_test(tc, shutdown_drains_then_refuses);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, loop_runs_timers_while_a_job_blocks);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
