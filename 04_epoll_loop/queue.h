/* queue — a queue between coroutines on one loop: Tornado's tornado.queues.
 *
 * A producer awaits queue_put, which waits while the queue is full; a consumer awaits
 * queue_get, which waits while it is empty. With maxsize 1 they take turns, which is
 * document 001's producer/consumer:
 *
 *     queue_t *q = queue_new(QUEUE_FIFO, 1);
 *     coro_await(queue_put(q, item, 0), NULL);     // in the producer
 *     coro_await(queue_get(q, 0), &item);          // in the consumer
 *
 * Waiting getters and putters are served oldest first. A getter that finds items gets
 * one at once (a done future: no suspension); a put into a queue with room is done at
 * once. An item put while getters wait goes straight to the oldest getter. These are
 * exactly Tornado's rules, so the order of a program's lines is Tornado's too.
 *
 * Deadlines are absolute, on ioloop_time()'s scale, 0 for none (Tornado's timeout
 * argument is a deadline too). A wait that reaches its deadline fails with ETIMEDOUT.
 *
 * task_done and join count unfinished items: every put adds one, every task_done takes
 * one away, and join's future resolves when the count is zero.
 *
 * Items are pointers; the queue does not own them. One loop, one thread; free a queue
 * before its loop (freeing fails its waiters and removes their timers on it).
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "future.h"

typedef struct queue queue_t;

enum queue_kind {
    QUEUE_FIFO,     /* Queue */
    QUEUE_LIFO,     /* LifoQueue: last put, first got */
    QUEUE_PRIORITY, /* PriorityQueue: lowest priority first; equal priorities FIFO */
};

/* maxsize 0: unbounded. */
queue_t *queue_new(enum queue_kind kind, size_t maxsize);
/* Frees the queue; waiters still pending fail with ECANCELED. */
void queue_free(queue_t *q);

/* A future resolved (with NULL) once item is in the queue. */
future_t *queue_put(queue_t *q, void *item, double deadline);
/* PriorityQueue: put with a priority (queue_put uses 0). */
future_t *queue_put_priority(queue_t *q, void *item, long priority, double deadline);
/* Returns 0, or -1 with errno EAGAIN when the queue is full (QueueFull). */
int queue_put_nowait(queue_t *q, void *item);
int queue_put_priority_nowait(queue_t *q, void *item, long priority);

/* A future resolved with the next item. */
future_t *queue_get(queue_t *q, double deadline);
/* Returns 0 with *item set, or -1 with errno EAGAIN when the queue is empty (QueueEmpty). */
int queue_get_nowait(queue_t *q, void **item);

/* Returns 0, or -1 with errno EINVAL if called more times than items were put. */
int queue_task_done(queue_t *q);
/* A future resolved when every item put has been marked done; ETIMEDOUT at deadline. */
future_t *queue_join(queue_t *q, double deadline);

size_t queue_qsize(const queue_t *q);
bool queue_empty(const queue_t *q);
bool queue_full(const queue_t *q);
size_t queue_maxsize(const queue_t *q);

#endif
