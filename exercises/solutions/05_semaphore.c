/* 05_semaphore — exercise 5: Semaphore.acquire on top of futures (tornado/locks.py).
 *
 * A semaphore is a counter and a line of waiting futures. acquire hands out a future:
 * already done when a unit is free (so the coroutine that awaits it goes straight on),
 * else pending at the end of the line. release gives the unit to the oldest waiter that
 * is still waiting and resolves its future; that coroutine runs on the loop's next turn.
 * A waiter whose deadline passed has already failed with a timeout: it stays in line,
 * as in Tornado, and release skips it.
 */
#include "ex_semaphore.h"

#include <errno.h>
#include <stdlib.h>

#include "ioloop.h"

/* One acquire in line: its future (the line holds a reference) and its deadline's
 * timer (0 for none). */
struct waiter {
    future_t *f;
    ioloop_timeout_t timer;
    struct waiter *next;
};

struct ex_semaphore {
    long value;                 /* free units */
    struct waiter *head, *tail; /* the line, oldest first */
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        abort(); /* as the loop does: out of memory is not a case to handle here */
    return p;
}

/* ---- the line of waiters ------------------------------------------------------------ */

/* Puts f at the end of the line. */
static struct waiter *waiters_push(ex_semaphore_t *s, future_t *f)
{
    struct waiter *w = xcalloc(1, sizeof *w);
    w->f = f;
    future_ref(f);
    *(s->tail ? &s->tail->next : &s->head) = w;
    s->tail = w;
    return w;
}

/* Takes the oldest waiter out of the line, or returns NULL if the line is empty. */
static struct waiter *waiters_pop(ex_semaphore_t *s)
{
    struct waiter *w = s->head;
    if (w) {
        s->head = w->next;
        if (!s->head)
            s->tail = NULL;
    }
    return w;
}

/* A waiter out of the line: its timer goes (a stale handle is harmless), and so does
 * the line's reference to its future. */
static void waiter_free(struct waiter *w)
{
    if (w->timer)
        ioloop_remove_timeout(future_loop(w->f), w->timer);
    future_unref(w->f);
    free(w);
}

/* The oldest waiter still waiting; the ones already done (timed out) are dropped. */
static struct waiter *waiters_pop_waiting(ex_semaphore_t *s)
{
    struct waiter *w;
    while ((w = waiters_pop(s)) && future_done(w->f))
        waiter_free(w);
    return w;
}

/* ---- the semaphore ------------------------------------------------------------------ */

ex_semaphore_t *ex_semaphore_new(long value)
{
    ex_semaphore_t *s = xcalloc(1, sizeof *s);
    s->value = value;
    return s;
}

void ex_semaphore_free(ex_semaphore_t *s)
{
    struct waiter *w;
    while ((w = waiters_pop_waiting(s))) {
        future_set_error(w->f, ECANCELED, "Semaphore freed while waited for");
        waiter_free(w);
    }
    free(s);
}

/* The deadline came before a unit: the waiter fails as with Tornado's gen.TimeoutError.
 * It stays in line; release skips it, as it is done. */
static void waiter_timed_out(void *arg)
{
    struct waiter *w = arg;
    w->timer = 0; /* it ran: nothing left to remove */
    if (!future_done(w->f))
        future_set_error(w->f, ETIMEDOUT, "Timeout");
}

future_t *ex_semaphore_acquire(ex_semaphore_t *s, double deadline)
{
    future_t *f = future_new("Semaphore.acquire");
    if (s->value > 0) {
        s->value--;
        future_set_result(f, NULL); /* done already: the awaiter does not even pause */
        return f;
    }
    struct waiter *w = waiters_push(s, f);
    if (deadline != 0)
        w->timer = ioloop_call_at(future_loop(f), deadline, "Semaphore.acquire",
                                  waiter_timed_out, w);
    return f;
}

/* The unit goes straight to the oldest waiter still waiting, if there is one. */
void ex_semaphore_release(ex_semaphore_t *s)
{
    s->value++;
    struct waiter *w = waiters_pop_waiting(s);
    if (w) {
        s->value--;
        future_set_result(w->f, NULL);
        waiter_free(w);
    }
}

long ex_semaphore_value(const ex_semaphore_t *s)
{
    return s->value;
}
