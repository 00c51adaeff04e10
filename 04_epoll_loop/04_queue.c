/* 04_queue — lesson 04: document 001's producer and consumer, on a Queue of size 1.
 *
 * The producer puts 5 items, the consumer gets 5. put waits while the queue is full and
 * get while it is empty; both are futures, so neither blocks the loop. The order of the
 * lines comes from three rules: a coroutine runs at once until it must wait, a put or get
 * that need not wait does not suspend, and a woken coroutine runs one loop turn later.
 */
#include "coro.h"
#include "lesson.h"
#include "queue.h"

#include <stdint.h>

enum { QUEUE_SIZE = 1, ITEMS = 5 };

static void *consumer(void *arg)
{
    queue_t *q = arg;
    for (int i = 0; i < ITEMS; i++) {
        void *item;
        coro_await(queue_get(q, 0), &item); /* heavy I/O or network work would go here */
        lesson_sayf("got: %d", "got: %d", (int)(intptr_t)item);
    }
    return NULL;
}

static void *producer(void *arg)
{
    queue_t *q = arg;
    for (intptr_t i = 0; i < ITEMS; i++) {
        lesson_sayf("putting %d", "putting %d", (int)i);
        coro_await(queue_put(q, (void *)i, 0), NULL);
    }
    return NULL;
}

/* The document's main: `yield [producer(q, 5), consumer(q, 5)]`. */
static future_t *start(void *arg)
{
    future_t *both[] = {coro_spawn("producer", producer, arg), coro_spawn("consumer", consumer, arg)};
    return coro_multi(both, 2);
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "document 001's producer and consumer on a Queue(1) of 5 items.\n"
                 "put waits while the queue is full, get while it is empty.",
    };
    lesson_init(argc, argv, &info);
    ioloop_t *loop = ioloop_current();
    queue_t *q = queue_new(QUEUE_FIFO, QUEUE_SIZE);
    future_unref(ioloop_run_sync(loop, start, q, 0));
    queue_free(q);
    ioloop_free(loop);
    return lesson_exit();
}
