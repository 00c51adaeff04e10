/* The program behind the queue_handoff_N pairs: a producer and a consumer share a
 * queue of maxsize N (0: unbounded).
 *
 * The consumer starts first and waits on an empty queue; the producer puts five items,
 * each put waiting while the queue is full; the consumer marks each item done and main
 * joins the queue. Who runs when follows from three rules: a get or put that can finish
 * at once does not suspend, an item put while a getter waits goes straight to it, and a
 * woken waiter runs in the next iteration. */
#ifndef QUEUE_HANDOFF_H
#define QUEUE_HANDOFF_H

#include "pair.h"
#include "queue.h"

#define ITEMS 5

static void *consumer(void *arg)
{
    queue_t *q = arg;
    for (int i = 0; i < ITEMS; i++) {
        void *item;
        printf("consumer: get (qsize %zu)\n", queue_qsize(q));
        if (coro_await(queue_get(q, 0), &item))
            return coro_fail_again();
        printf("consumer: got %d\n", (int)ptr_int(item));
        queue_task_done(q);
        if (coro_await(coro_moment(), NULL))
            return coro_fail_again();
    }
    return NULL;
}

static void *producer(void *arg)
{
    queue_t *q = arg;
    for (int i = 0; i < ITEMS; i++) {
        printf("producer: put %d (qsize %zu)\n", i, queue_qsize(q));
        if (coro_await(queue_put(q, int_ptr(i), 0), NULL))
            return coro_fail_again();
        printf("producer: put %d done\n", i);
    }
    return NULL;
}

static void *handoff_main(void *arg)
{
    size_t maxsize = (size_t)ptr_int(arg);
    queue_t *q = queue_new(QUEUE_FIFO, maxsize);
    printf("maxsize %zu\n", maxsize);
    future_t *both[2];
    both[0] = coro_spawn("consumer", consumer, q);
    both[1] = coro_spawn("producer", producer, q);
    int err = coro_await(queue_join(q, 0), NULL);
    if (!err)
        printf("main: joined\n");
    err = coro_await(coro_multi(both, 2), NULL) || err;
    queue_free(q);
    if (err)
        return coro_fail_again();
    printf("main: done\n");
    return NULL;
}

static inline int queue_handoff_run(size_t maxsize)
{
    return pair_run(handoff_main, int_ptr((intptr_t)maxsize));
}

#endif
