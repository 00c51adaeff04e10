/* Unit tests for 04_epoll_loop/queue: the orders of Tornado's queues (each expected
 * trail below is what Tornado 6 prints for the same program), deadlines, task counting,
 * the three kinds, and freeing a queue that is waited on. */
#include "coro.h"
#include "ioloop.h"
#include "queue.h"
#include "loop_test.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- the documents' producer and consumer ------------------------------------------ */

struct pc {
    queue_t *q;
    int n;
};

static void *producer(void *arg)
{
    struct pc *pc = arg;
    for (int i = 0; i < pc->n; i++) {
        note("putting %d", i);
        ck_assert_int_eq(coro_await(queue_put(pc->q, ITEM(i), 0), NULL), 0);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    struct pc *pc = arg;
    for (int i = 0; i < pc->n; i++) {
        void *item;
        ck_assert_int_eq(coro_await(queue_get(pc->q, 0), &item), 0);
        note("got: %d", INT(item));
    }
    return NULL;
}

/* Tornado's `yield [producer(q, n), consumer(q, n)]`: the producer starts first. */
static void *producer_and_consumer(void *arg)
{
    future_t *both[2] = {coro_spawn("producer", producer, arg),
                         coro_spawn("consumer", consumer, arg)};
    return coro_await(coro_multi(both, 2), NULL) ? coro_fail_again() : NULL;
}

static const char *hand_off(size_t maxsize, int n)
{
    struct pc pc = {queue_new(QUEUE_FIFO, maxsize), n};
    trail[0] = '\0';
    run_main(producer_and_consumer, &pc);
    ck_assert_uint_eq(queue_qsize(pc.q), 0);
    queue_free(pc.q);
    return trail;
}

START_TEST(hand_off_follows_maxsize)
{
    ck_assert_str_eq(hand_off(0, 4), "putting 0, putting 1, putting 2, putting 3, "
                                     "got: 0, got: 1, got: 2, got: 3");
    ck_assert_str_eq(hand_off(1, 4), "putting 0, putting 1, got: 0, got: 1, "
                                     "putting 2, putting 3, got: 2, got: 3");
    ck_assert_str_eq(hand_off(2, 4), "putting 0, putting 1, putting 2, got: 0, got: 1, "
                                     "got: 2, putting 3, got: 3");
}
END_TEST

START_TEST(document_producer_consumer)
{
    ck_assert_str_eq(hand_off(1, 5), "putting 0, putting 1, got: 0, got: 1, putting 2, "
                                     "putting 3, putting 4, got: 2, got: 3, got: 4");
}
END_TEST

/* ---- the docstring of tornado.queues.Queue ----------------------------------------- */

static void *docstring_consumer(void *arg)
{
    queue_t *q = arg;
    void *item;
    while (coro_await(queue_get(q, 0), &item) == 0) {
        note("Doing work on %d", INT(item));
        ck_assert_int_eq(coro_await(coro_sleep(0.01), NULL), 0);
        ck_assert_int_eq(queue_task_done(q), 0);
    }
    ck_assert_int_eq(coro_error_code(), ECANCELED); /* the queue was freed */
    return NULL;
}

static void *docstring_main(void *arg)
{
    queue_t *q = arg;
    coro_spawn_callback("consumer", docstring_consumer, q);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(coro_await(queue_put(q, ITEM(i), 0), NULL), 0);
        note("Put %d", i);
    }
    ck_assert_int_eq(coro_await(queue_join(q, 0), NULL), 0);
    note("Done");
    return NULL;
}

START_TEST(docstring_trace)
{
    queue_t *q = queue_new(QUEUE_FIFO, 2);
    run_main(docstring_main, q);
    ck_assert_str_eq(trail, "Put 0, Put 1, Doing work on 0, Put 2, Doing work on 1, Put 3, "
                            "Doing work on 2, Put 4, Doing work on 3, Doing work on 4, Done");
    queue_free(q);
    ioloop_run_once(loop); /* the consumer sees ECANCELED and ends */
    ck_assert_uint_eq(coro_suspended_count(), 0);
}
END_TEST

/* ---- waiters are served oldest first ------------------------------------------------ */

static queue_t *shared_q;

static void *getter(void *arg)
{
    void *item;
    ck_assert_int_eq(coro_await(queue_get(shared_q, 0), &item), 0);
    note("g%d<-%s", INT(arg), (char *)item);
    return NULL;
}

static void *getters_main(void *arg)
{
    (void)arg;
    future_t *g[3];
    for (int i = 0; i < 3; i++)
        g[i] = coro_spawn("getter", getter, ITEM(i));
    static const char *items[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(queue_put_nowait(shared_q, (void *)items[i]), 0);
        note("put %s", items[i]);
    }
    return coro_await(coro_multi(g, 3), NULL) ? coro_fail_again() : NULL;
}

START_TEST(getters_are_served_fifo)
{
    shared_q = queue_new(QUEUE_FIFO, 0);
    run_main(getters_main, NULL);
    ck_assert_str_eq(trail, "put a, put b, put c, g0<-a, g1<-b, g2<-c");
    queue_free(shared_q);
}
END_TEST

static void *putter(void *arg)
{
    static const char *items[] = {"p0", "p1", "p2"};
    note("put%d", INT(arg));
    ck_assert_int_eq(coro_await(queue_put(shared_q, (void *)items[INT(arg)], 0), NULL), 0);
    note("put%d done", INT(arg));
    return NULL;
}

static void *putters_main(void *arg)
{
    (void)arg;
    ck_assert_int_eq(queue_put_nowait(shared_q, "x"), 0);
    future_t *p[3];
    for (int i = 0; i < 3; i++)
        p[i] = coro_spawn("putter", putter, ITEM(i));
    for (int i = 0; i < 4; i++) {
        void *item;
        ck_assert_int_eq(coro_await(queue_get(shared_q, 0), &item), 0);
        note("got:%s", (char *)item);
    }
    return coro_await(coro_multi(p, 3), NULL) ? coro_fail_again() : NULL;
}

START_TEST(putters_are_served_fifo)
{
    shared_q = queue_new(QUEUE_FIFO, 1);
    run_main(putters_main, NULL);
    ck_assert_str_eq(trail, "put0, put1, put2, got:x, got:p0, got:p1, got:p2, "
                            "put0 done, put1 done, put2 done");
    queue_free(shared_q);
}
END_TEST

START_TEST(done_at_once_when_possible)
{
    queue_t *q = queue_new(QUEUE_FIFO, 1);
    future_t *put = queue_put(q, ITEM(1), 0);
    ck_assert(future_done(put) && !future_failed(put));
    future_t *get = queue_get(q, 0);
    ck_assert(future_done(get));
    ck_assert_int_eq(INT(future_result(get)), 1);
    future_unref(put);
    future_unref(get);

    /* An item put while a getter waits resolves that getter within the put. */
    get = queue_get(q, 0);
    ck_assert(!future_done(get));
    ck_assert_int_eq(queue_put_nowait(q, ITEM(2)), 0);
    ck_assert(future_done(get));
    ck_assert_int_eq(INT(future_result(get)), 2);
    ck_assert_uint_eq(queue_qsize(q), 0);
    future_unref(get);
    queue_free(q);
}
END_TEST

/* ---- deadlines ----------------------------------------------------------------------- */

static void *deadlines_main(void *arg)
{
    queue_t *q = arg;
    double now = ioloop_time(loop);
    ck_assert_int_eq(coro_await(queue_get(q, now + 0.01), NULL), ETIMEDOUT);
    ck_assert_str_eq(coro_error(), "Timeout");
    /* The expired getter is gone: this item stays in the queue. */
    ck_assert_int_eq(queue_put_nowait(q, ITEM(7)), 0);
    ck_assert_uint_eq(queue_qsize(q), 1);

    ck_assert_int_eq(coro_await(queue_put(q, ITEM(8), now + 0.02), NULL), ETIMEDOUT);
    /* The expired putter's item never enters. */
    void *item;
    ck_assert_int_eq(queue_get_nowait(q, &item), 0);
    ck_assert_int_eq(INT(item), 7);
    ck_assert_int_eq(queue_get_nowait(q, &item), -1);
    ck_assert_int_eq(errno, EAGAIN);
    return NULL;
}

START_TEST(deadlines_fail_with_etimedout)
{
    queue_t *q = queue_new(QUEUE_FIFO, 1);
    run_main(deadlines_main, q);
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0);
    queue_free(q);
}
END_TEST

START_TEST(expired_waiters_are_skipped)
{
    queue_t *q = queue_new(QUEUE_FIFO, 1);
    future_t *g0 = queue_get(q, ioloop_time(loop) - 1); /* due in the next iteration */
    future_t *g1 = queue_get(q, ioloop_time(loop) + 60);
    ioloop_run_once(loop);
    ck_assert_int_eq(future_error(g0), ETIMEDOUT);
    ck_assert(!future_done(g1));
    ck_assert_int_eq(queue_put_nowait(q, ITEM(1)), 0);
    ck_assert_int_eq(INT(future_result(g1)), 1);
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0); /* g1's timer went with it */

    /* A putter whose deadline passed is skipped the same way. */
    ck_assert_int_eq(queue_put_nowait(q, ITEM(2)), 0);
    future_t *p0 = queue_put(q, ITEM(3), ioloop_time(loop) - 1);
    future_t *p1 = queue_put(q, ITEM(4), 0);
    ioloop_run_once(loop);
    ck_assert_int_eq(future_error(p0), ETIMEDOUT);
    void *item;
    ck_assert_int_eq(queue_get_nowait(q, &item), 0);
    ck_assert_int_eq(INT(item), 2);
    ck_assert(future_done(p1) && !future_failed(p1));
    ck_assert_int_eq(queue_get_nowait(q, &item), 0);
    ck_assert_int_eq(INT(item), 4);

    future_unref(g0);
    future_unref(g1);
    future_unref(p0);
    future_unref(p1);
    queue_free(q);
}
END_TEST

START_TEST(waiter_resolved_by_its_owner_is_skipped)
{
    queue_t *q = queue_new(QUEUE_FIFO, 0);
    future_t *g0 = queue_get(q, 0);
    future_t *g1 = queue_get(q, 0);
    future_set_error(g0, ECANCELED, "given up"); /* Tornado's future.cancel() */
    ck_assert_int_eq(queue_put_nowait(q, ITEM(5)), 0);
    ck_assert_int_eq(INT(future_result(g1)), 5);
    ck_assert_int_eq(future_error(g0), ECANCELED);
    future_unref(g0);
    future_unref(g1);
    queue_free(q);
}
END_TEST

/* ---- task_done and join -------------------------------------------------------------- */

START_TEST(task_done_and_join)
{
    queue_t *q = queue_new(QUEUE_FIFO, 0);
    future_t *j = queue_join(q, 0);
    ck_assert(future_done(j)); /* nothing was ever put */
    future_unref(j);

    ck_assert_int_eq(queue_put_nowait(q, ITEM(1)), 0);
    ck_assert_int_eq(queue_put_nowait(q, ITEM(2)), 0);
    j = queue_join(q, 0);
    void *item;
    queue_get_nowait(q, &item);
    queue_get_nowait(q, &item);
    ck_assert_int_eq(queue_task_done(q), 0);
    ck_assert(!future_done(j)); /* one task left, though the queue is empty */
    ck_assert_int_eq(queue_task_done(q), 0);
    ck_assert(future_done(j) && !future_failed(j));
    future_unref(j);

    ck_assert_int_eq(queue_task_done(q), -1);
    ck_assert_int_eq(errno, EINVAL);
    queue_free(q);
}
END_TEST

static void *join_deadline_main(void *arg)
{
    queue_t *q = arg;
    ck_assert_int_eq(coro_await(queue_join(q, ioloop_time(loop) + 0.01), NULL), ETIMEDOUT);
    return NULL;
}

START_TEST(join_deadline_fails_with_etimedout)
{
    queue_t *q = queue_new(QUEUE_FIFO, 0);
    queue_put_nowait(q, ITEM(1));
    run_main(join_deadline_main, q);
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0);
    queue_free(q);
}
END_TEST

/* ---- the kinds ----------------------------------------------------------------------- */

static void drain(queue_t *q)
{
    void *item;
    while (queue_get_nowait(q, &item) == 0)
        note("%s", (char *)item);
}

START_TEST(lifo_order)
{
    queue_t *q = queue_new(QUEUE_LIFO, 0);
    queue_put_nowait(q, "3");
    queue_put_nowait(q, "2");
    queue_put_nowait(q, "1");
    drain(q);
    ck_assert_str_eq(trail, "1, 2, 3");
    queue_free(q);
}
END_TEST

START_TEST(priority_order_lowest_first_ties_fifo)
{
    queue_t *q = queue_new(QUEUE_PRIORITY, 0);
    queue_put_priority_nowait(q, "medium", 1);
    queue_put_priority_nowait(q, "high", 0);
    queue_put_priority_nowait(q, "low", 10);
    queue_put_priority_nowait(q, "a", 5);
    queue_put_priority_nowait(q, "b", 5);
    queue_put_nowait(q, "zero"); /* priority 0, after "high" */
    queue_put_priority_nowait(q, "c", 5);
    drain(q);
    ck_assert_str_eq(trail, "high, zero, medium, a, b, c, low");
    queue_free(q);
}
END_TEST

/* A waiting putter's item goes in before the get takes the head, as in Tornado. */
START_TEST(kinds_apply_to_a_waiting_putters_item)
{
    queue_t *pq = queue_new(QUEUE_PRIORITY, 1);
    queue_put_priority_nowait(pq, "x", 5);
    future_t *p = queue_put_priority(pq, "y", 1, 0);
    drain(pq);
    future_unref(p);
    queue_free(pq);

    queue_t *lq = queue_new(QUEUE_LIFO, 1);
    queue_put_nowait(lq, "u");
    p = queue_put(lq, "v", 0);
    drain(lq);
    future_unref(p);
    queue_free(lq);
    ck_assert_str_eq(trail, "y, x, v, u");
}
END_TEST

START_TEST(nowait_and_sizes)
{
    queue_t *q = queue_new(QUEUE_FIFO, 2);
    ck_assert_uint_eq(queue_maxsize(q), 2);
    ck_assert(queue_empty(q) && !queue_full(q));
    void *item;
    ck_assert_int_eq(queue_get_nowait(q, &item), -1);
    ck_assert_int_eq(errno, EAGAIN);
    queue_put_nowait(q, ITEM(1));
    queue_put_nowait(q, ITEM(2));
    ck_assert(queue_full(q) && !queue_empty(q));
    ck_assert_uint_eq(queue_qsize(q), 2);
    ck_assert_int_eq(queue_put_nowait(q, ITEM(3)), -1);
    ck_assert_int_eq(errno, EAGAIN);
    queue_free(q);

    queue_t *unbounded = queue_new(QUEUE_FIFO, 0);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(queue_put_nowait(unbounded, ITEM(i)), 0);
    ck_assert(!queue_full(unbounded));
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(queue_get_nowait(unbounded, &item), 0);
        ck_assert_int_eq(INT(item), i);
    }
    queue_free(unbounded);

    errno = 0;
    ck_assert_ptr_null(queue_new((enum queue_kind)7, 0));
    ck_assert_int_eq(errno, EINVAL);
    queue_free(NULL);
}
END_TEST

/* ---- freeing ------------------------------------------------------------------------- */

START_TEST(free_cancels_waiters)
{
    queue_t *empty = queue_new(QUEUE_FIFO, 1);
    future_t *g = queue_get(empty, ioloop_time(loop) + 60);
    queue_t *full = queue_new(QUEUE_FIFO, 1);
    queue_put_nowait(full, ITEM(1));
    future_t *p = queue_put(full, ITEM(2), ioloop_time(loop) + 60);
    future_t *j = queue_join(full, ioloop_time(loop) + 60);
    queue_free(empty);
    queue_free(full);
    ck_assert_int_eq(future_error(g), ECANCELED);
    ck_assert_int_eq(future_error(p), ECANCELED);
    ck_assert_uint_eq(ioloop_pending_timers(loop), 0);
    ck_assert(!future_done(j)); /* a deadline's join hears it one iteration later */
    ioloop_run_once(loop);
    ck_assert_int_eq(future_error(j), ECANCELED);
    future_unref(g);
    future_unref(p);
    future_unref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("queue");
    tcase_add_checked_fixture(tc, loop_test_setup, loop_test_teardown);
    tcase_add_test(tc, hand_off_follows_maxsize);
    tcase_add_test(tc, document_producer_consumer);
    tcase_add_test(tc, docstring_trace);
    tcase_add_test(tc, getters_are_served_fifo);
    tcase_add_test(tc, putters_are_served_fifo);
    tcase_add_test(tc, done_at_once_when_possible);
    tcase_add_test(tc, deadlines_fail_with_etimedout);
    tcase_add_test(tc, expired_waiters_are_skipped);
    tcase_add_test(tc, waiter_resolved_by_its_owner_is_skipped);
    tcase_add_test(tc, task_done_and_join);
    tcase_add_test(tc, join_deadline_fails_with_etimedout);
    tcase_add_test(tc, lifo_order);
    tcase_add_test(tc, priority_order_lowest_first_ties_fifo);
    tcase_add_test(tc, kinds_apply_to_a_waiting_putters_item);
    tcase_add_test(tc, nowait_and_sizes);
    tcase_add_test(tc, free_cancels_waiters);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
