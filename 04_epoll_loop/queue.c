/* queue — Queue, LifoQueue and PriorityQueue between coroutines, after tornado.queues.
 *
 * The items sit in one binary heap for all three kinds, ordered by (priority, order):
 * a FIFO queue numbers its items upwards, a LIFO queue downwards, a priority queue
 * takes the caller's priority first and numbers equal ones upwards, so they leave
 * in the order they came. Getters and putters that must wait are futures in two
 * FIFO waiter lists (loop_internal.h), which also run their deadlines.
 *
 * The hand-offs follow Tornado step by step, because the order of a program's lines
 * depends on them: put_nowait gives the item to the oldest waiting getter (through the
 * heap, so task counting and ordering stay the same); get_nowait first lets the oldest
 * waiting putter's item in, resolves that putter, then takes the head. A put or get
 * that succeeds at once returns a future that is already done.
 */
#include "queue.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "locks.h"
#include "loop_internal.h"

struct entry {
    void *item;
    long priority;
    uint64_t order;
};

struct queue {
    enum queue_kind kind;
    size_t maxsize;
    struct entry *heap;
    size_t len, cap;
    uint64_t puts; /* items ever put: their order numbers */
    struct waitlist getters, putters;
    size_t unfinished;
    event_t *finished; /* set while unfinished is 0: what join waits on */
};

/* ---- the heap ---------------------------------------------------------------------- */

static bool entry_before(const struct entry *a, const struct entry *b)
{
    if (a->priority != b->priority)
        return a->priority < b->priority;
    return a->order < b->order;
}

static void entry_swap(struct entry *a, struct entry *b)
{
    struct entry t = *a;
    *a = *b;
    *b = t;
}

static void heap_push(queue_t *q, struct entry e)
{
    if (q->len == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 8;
        q->heap = loop_xrealloc(q->heap, q->cap * sizeof *q->heap);
    }
    size_t i = q->len++;
    q->heap[i] = e;
    while (i > 0 && entry_before(&q->heap[i], &q->heap[(i - 1) / 2])) {
        entry_swap(&q->heap[i], &q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

static void *heap_pop(queue_t *q)
{
    void *item = q->heap[0].item;
    q->heap[0] = q->heap[--q->len];
    for (size_t i = 0;;) {
        size_t least = i, l = 2 * i + 1, r = l + 1;
        if (l < q->len && entry_before(&q->heap[l], &q->heap[least]))
            least = l;
        if (r < q->len && entry_before(&q->heap[r], &q->heap[least]))
            least = r;
        if (least == i)
            return item;
        entry_swap(&q->heap[i], &q->heap[least]);
        i = least;
    }
}

/* Tornado's __put_internal: every item that enters counts as a task not yet done. */
static void queue_add(queue_t *q, void *item, long priority)
{
    q->unfinished++;
    event_clear(q->finished);
    uint64_t n = q->puts++;
    struct entry e = {
        .item = item,
        .priority = q->kind == QUEUE_PRIORITY ? priority : 0,
        .order = q->kind == QUEUE_LIFO ? UINT64_MAX - n : n,
    };
    heap_push(q, e);
}

/* ---- life -------------------------------------------------------------------------- */

queue_t *queue_new(enum queue_kind kind, size_t maxsize)
{
    if (kind != QUEUE_FIFO && kind != QUEUE_LIFO && kind != QUEUE_PRIORITY) {
        errno = EINVAL;
        return NULL;
    }
    queue_t *q = loop_xcalloc(1, sizeof *q);
    q->kind = kind;
    q->maxsize = maxsize;
    waitlist_init(&q->getters, NULL); /* both time out with ETIMEDOUT */
    waitlist_init(&q->putters, NULL);
    q->finished = event_new();
    event_set(q->finished);
    return q;
}

static void queue_cancel(struct waitlist *l, const char *what)
{
    struct waitlist_entry *w;
    while ((w = waitlist_pop(l))) {
        future_set_error(w->f, ECANCELED, "%s: queue freed while waited for", what);
        waitlist_drop(w);
    }
}

void queue_free(queue_t *q)
{
    if (!q)
        return;
    queue_cancel(&q->getters, "Queue.get");
    queue_cancel(&q->putters, "Queue.put");
    event_free(q->finished);
    free(q->heap);
    free(q);
}

/* ---- put ----------------------------------------------------------------------------- */

int queue_put_priority_nowait(queue_t *q, void *item, long priority)
{
    struct waitlist_entry *getter = waitlist_pop(&q->getters);
    if (getter) {
        /* Getters wait only on an empty queue, so the getter gets this very item. */
        queue_add(q, item, priority);
        future_set_result(getter->f, heap_pop(q));
        waitlist_drop(getter);
        return 0;
    }
    if (queue_full(q)) {
        errno = EAGAIN;
        return -1;
    }
    queue_add(q, item, priority);
    return 0;
}

int queue_put_nowait(queue_t *q, void *item)
{
    return queue_put_priority_nowait(q, item, 0);
}

future_t *queue_put_priority(queue_t *q, void *item, long priority, double deadline)
{
    future_t *f = future_new("Queue.put");
    if (queue_put_priority_nowait(q, item, priority) == 0) {
        future_set_result(f, NULL);
        return f;
    }
    struct waitlist_entry *w = waitlist_push(&q->putters, f, deadline);
    w->item = item;
    w->priority = priority;
    return f;
}

future_t *queue_put(queue_t *q, void *item, double deadline)
{
    return queue_put_priority(q, item, 0, deadline);
}

/* ---- get ----------------------------------------------------------------------------- */

int queue_get_nowait(queue_t *q, void **item)
{
    struct waitlist_entry *putter = waitlist_pop(&q->putters);
    if (putter) {
        /* Putters wait only on a full queue: the oldest one's item goes in first. */
        queue_add(q, putter->item, putter->priority);
        future_set_result(putter->f, NULL);
        waitlist_drop(putter);
    } else if (q->len == 0) {
        errno = EAGAIN;
        return -1;
    }
    *item = heap_pop(q);
    return 0;
}

future_t *queue_get(queue_t *q, double deadline)
{
    future_t *f = future_new("Queue.get");
    void *item;
    if (queue_get_nowait(q, &item) == 0)
        future_set_result(f, item);
    else
        waitlist_push(&q->getters, f, deadline);
    return f;
}

/* ---- tasks ----------------------------------------------------------------------------- */

int queue_task_done(queue_t *q)
{
    if (q->unfinished == 0) {
        errno = EINVAL; /* Tornado: "task_done() called too many times" */
        return -1;
    }
    if (--q->unfinished == 0)
        event_set(q->finished);
    return 0;
}

future_t *queue_join(queue_t *q, double deadline)
{
    return event_wait(q->finished, deadline);
}

/* ---- size ------------------------------------------------------------------------------ */

size_t queue_qsize(const queue_t *q)
{
    return q->len;
}

bool queue_empty(const queue_t *q)
{
    return q->len == 0;
}

bool queue_full(const queue_t *q)
{
    return q->maxsize != 0 && q->len >= q->maxsize;
}

size_t queue_maxsize(const queue_t *q)
{
    return q->maxsize;
}
