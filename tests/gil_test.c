/* Unit tests for lessons/gil: one thread runs at a time, sleepers wake in the order of
 * the document's clock whatever the real clock says, joins, free threads. */
#include "gil.h"
#include "unit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The order in which the threads reached their marks, as a string like "B C A". */
static char order[256];
static pthread_mutex_t order_mu = PTHREAD_MUTEX_INITIALIZER;

static void mark(const char *what)
{
    pthread_mutex_lock(&order_mu);
    if (*order)
        strcat(order, " ");
    strcat(order, what);
    pthread_mutex_unlock(&order_mu);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void busy(double seconds)
{
    for (double end = now() + seconds; now() < end;)
        continue;
}

static void sleeps_3(void *arg) { (void)arg; gil_sleep(3); mark("A3"); }
static void sleeps_1_1(void *arg) { (void)arg; gil_sleep(1); mark("B1"); gil_sleep(1); mark("B2"); }
static void sleeps_2(void *arg) { (void)arg; gil_sleep(2); mark("C2"); }

START_TEST(sleepers_wake_in_document_order)
{
    gil_init(false, 200);
    gil_thread_start("A", sleeps_3, NULL);
    gil_thread_start("B", sleeps_1_1, NULL);
    gil_thread_start("C", sleeps_2, NULL);
    gil_join_all();
    /* B2 and C2 both end at 2 s: C went to sleep first. */
    ck_assert_str_eq(order, "B1 C2 B2 A3");
}
END_TEST

/* A is busy (in real time, not document time) long after B's real deadline, then sleeps
 * a little: on the document's clock A still wakes first. */
static void busy_then_short(void *arg)
{
    (void)arg;
    gil_sleep(1);
    busy(0.2);
    gil_sleep(0.2);
    mark("A1.2");
}

static void sleeps_1_5(void *arg) { (void)arg; gil_sleep(1.5); mark("B1.5"); }

START_TEST(order_follows_the_document_clock_not_the_real_one)
{
    gil_init(false, 100);
    gil_thread_start("A", busy_then_short, NULL);
    gil_thread_start("B", sleeps_1_5, NULL);
    gil_join_all();
    ck_assert_str_eq(order, "A1.2 B1.5");
}
END_TEST

static void marks_t(void *arg) { (void)arg; mark("T"); }

START_TEST(new_thread_waits_until_the_running_one_blocks)
{
    gil_init(false, 100);
    gil_thread_start("T", marks_t, NULL);
    busy(0.05); /* plenty of real time for T to run, were it free to */
    mark("M");
    gil_join_all();
    ck_assert_str_eq(order, "M T");
}
END_TEST

START_TEST(sleep_zero_lets_queued_threads_run)
{
    gil_init(false, 100);
    gil_thread_start("T", marks_t, NULL);
    gil_sleep(0);
    mark("M");
    gil_join_all();
    ck_assert_str_eq(order, "T M");
}
END_TEST

static void starts_another(void *arg) { (void)arg; mark("outer"); gil_thread_start("inner", sleeps_2, NULL); }

START_TEST(join_all_waits_for_threads_started_by_threads)
{
    gil_init(false, 200);
    gil_thread_start("outer", starts_another, NULL);
    gil_join_all();
    ck_assert_str_eq(order, "outer C2");
}
END_TEST

START_TEST(a_sleep_never_ends_before_its_real_deadline)
{
    gil_init(false, 50);
    double start = now();
    gil_sleep(1); /* 20 ms */
    ck_assert_double_ge(now() - start, 0.02);
}
END_TEST

/* With free threads, a thread runs while main waits on something other than a sleep:
 * under the GIL's rules this would never end. */
static pthread_mutex_t flag_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flag_cv = PTHREAD_COND_INITIALIZER;
static bool flag;

static void raises_flag(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&flag_mu);
    flag = true;
    pthread_cond_signal(&flag_cv);
    pthread_mutex_unlock(&flag_mu);
}

START_TEST(free_threads_run_in_parallel)
{
    gil_init(true, 100);
    gil_thread_start("T", raises_flag, NULL);
    pthread_mutex_lock(&flag_mu);
    while (!flag)
        pthread_cond_wait(&flag_cv, &flag_mu);
    pthread_mutex_unlock(&flag_mu);
    gil_join_all();
}
END_TEST

static void *plain_thread(void *arg)
{
    (void)arg;
    gil_sleep(1); /* not a gil thread: a plain 10 ms sleep that takes no turn */
    return NULL;
}

START_TEST(other_threads_sleep_plainly)
{
    gil_init(false, 100);
    pthread_t t;
    pthread_create(&t, NULL, plain_thread, NULL);
    pthread_join(t, NULL); /* main keeps its turn throughout */
    gil_thread_start("T", marks_t, NULL);
    gil_join_all();
    ck_assert_str_eq(order, "T");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gil");
    TCase *tc = tcase_create("gil");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, sleepers_wake_in_document_order);
    tcase_add_test(tc, order_follows_the_document_clock_not_the_real_one);
    tcase_add_test(tc, new_thread_waits_until_the_running_one_blocks);
    tcase_add_test(tc, sleep_zero_lets_queued_threads_run);
    tcase_add_test(tc, join_all_waits_for_threads_started_by_threads);
    tcase_add_test(tc, a_sleep_never_ends_before_its_real_deadline);
    tcase_add_test(tc, free_threads_run_in_parallel);
    tcase_add_test(tc, other_threads_sleep_plainly);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
