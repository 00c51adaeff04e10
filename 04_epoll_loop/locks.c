/* locks — Condition, Event, Semaphore, BoundedSemaphore and Lock, after tornado.locks.
 *
 * Each primitive is a little state (a flag, a counter) and a FIFO of waiting futures. A
 * wait that can be granted now returns a future that is already done, so the coroutine
 * that awaits it goes on without a pause; otherwise the future joins the list and is
 * resolved later by notify, set or release, oldest first. The list (struct waitlist,
 * shared with queue.c through loop_internal.h) also runs the deadlines: a timer per
 * waiter, removed when the waiter is served, which expires it and takes it off the list
 * at once. Tornado leaves expired waiters in place and skips them later; nobody can tell
 * the difference, except that a loop of short waits here does not grow the list.
 */
#include "locks.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "loop_internal.h"

/* ---- the waiter list ------------------------------------------------------------- */

static void waitlist_unlink(struct waitlist_entry *w)
{
    struct waitlist *l = w->list;
    *(w->prev ? &w->prev->next : &l->head) = w->next;
    *(w->next ? &w->next->prev : &l->tail) = w->prev;
    w->prev = w->next = NULL;
}

/* A deadline's error, worded as Tornado's with_timeout words it. */
static void fail_timeout(future_t *f)
{
    future_set_error(f, ETIMEDOUT, "Timeout");
}

static void expire_with_timeout(struct waitlist_entry *w)
{
    fail_timeout(w->f);
}

void waitlist_init(struct waitlist *l, waitlist_expire_fn *expire)
{
    l->head = l->tail = NULL;
    l->expire = expire ? expire : expire_with_timeout;
}

/* The deadline came first: the waiter leaves the line with its kind's outcome. */
static void waitlist_expired(void *arg)
{
    struct waitlist_entry *w = arg;
    w->timer = 0; /* it ran: nothing to remove */
    waitlist_unlink(w);
    if (!future_done(w->f))
        w->list->expire(w);
    waitlist_drop(w);
}

struct waitlist_entry *waitlist_push(struct waitlist *l, future_t *f, double deadline)
{
    struct waitlist_entry *w = loop_xcalloc(1, sizeof *w);
    w->list = l;
    w->f = f;
    future_ref(f);
    w->prev = l->tail;
    *(l->tail ? &l->tail->next : &l->head) = w;
    l->tail = w;
    if (deadline != 0)
        w->timer = ioloop_call_at(future_loop(f), deadline, future_name(f), waitlist_expired, w);
    return w;
}

struct waitlist_entry *waitlist_pop(struct waitlist *l)
{
    struct waitlist_entry *w;
    while ((w = l->head)) {
        waitlist_unlink(w);
        if (!future_done(w->f))
            return w;
        waitlist_drop(w); /* resolved by its owner meanwhile: Tornado's cancelled waiter */
    }
    return NULL;
}

void waitlist_drop(struct waitlist_entry *w)
{
    if (w->timer)
        ioloop_remove_timeout(future_loop(w->f), w->timer);
    future_unref(w->f);
    if (w->outer)
        future_unref(w->outer);
    free(w);
}

/* ---- Condition ------------------------------------------------------------------- */

struct condition {
    struct waitlist waiters;
};

#define AS_BOOL(b) ((void *)(uintptr_t)(b))

/* Tornado's rule: a condition wait that reaches its deadline is not an error. */
static void condition_expire(struct waitlist_entry *w)
{
    future_set_result(w->f, AS_BOOL(false));
}

condition_t *condition_new(void)
{
    condition_t *c = loop_xmalloc(sizeof *c);
    waitlist_init(&c->waiters, condition_expire);
    return c;
}

void condition_free(condition_t *c)
{
    if (!c)
        return;
    struct waitlist_entry *w;
    while ((w = waitlist_pop(&c->waiters))) {
        future_set_result(w->f, AS_BOOL(false));
        waitlist_drop(w);
    }
    free(c);
}

future_t *condition_wait(condition_t *c, double deadline)
{
    future_t *f = future_new("Condition.wait");
    waitlist_push(&c->waiters, f, deadline);
    return f;
}

void condition_notify(condition_t *c, size_t n)
{
    struct waitlist_entry *w;
    while (n > 0 && (w = waitlist_pop(&c->waiters))) {
        future_set_result(w->f, AS_BOOL(true));
        waitlist_drop(w);
        n--;
    }
}

void condition_notify_all(condition_t *c)
{
    condition_notify(c, SIZE_MAX);
}

/* ---- Event ----------------------------------------------------------------------- */

struct event {
    bool value;
    struct waitlist waiters;
};

/* The caller's future fails at the deadline; the private one it was chained from is
 * resolved quietly, so the chain lets go of both (Tornado cancels it). */
static void event_expire(struct waitlist_entry *w)
{
    if (!future_done(w->outer))
        fail_timeout(w->outer);
    future_set_result(w->f, NULL);
}

event_t *event_new(void)
{
    event_t *e = loop_xmalloc(sizeof *e);
    e->value = false;
    waitlist_init(&e->waiters, event_expire);
    return e;
}

void event_free(event_t *e)
{
    if (!e)
        return;
    struct waitlist_entry *w;
    while ((w = waitlist_pop(&e->waiters))) {
        future_set_error(w->f, ECANCELED, "Event freed while waited for");
        waitlist_drop(w);
    }
    free(e);
}

bool event_is_set(const event_t *e)
{
    return e->value;
}

void event_set(event_t *e)
{
    if (e->value)
        return;
    e->value = true;
    struct waitlist_entry *w;
    while ((w = waitlist_pop(&e->waiters))) {
        future_set_result(w->f, NULL);
        waitlist_drop(w);
    }
}

void event_clear(event_t *e)
{
    e->value = false;
}

/* With a deadline Tornado returns with_timeout(deadline, the waiter), a second future
 * chained to the first; so does this, and the wake-up comes one iteration later, as
 * there. */
future_t *event_wait(event_t *e, double deadline)
{
    future_t *f = future_new("Event.wait");
    if (e->value) {
        future_set_result(f, NULL);
        return f;
    }
    if (deadline == 0) {
        waitlist_push(&e->waiters, f, 0);
        return f;
    }
    future_t *outer = future_new("Event.wait");
    future_chain(f, outer);
    struct waitlist_entry *w = waitlist_push(&e->waiters, f, deadline);
    future_unref(f); /* the waiter holds it now */
    future_ref(outer);
    w->outer = outer;
    return outer;
}

/* ---- Semaphore, BoundedSemaphore --------------------------------------------------- */

struct semaphore {
    long value;
    long limit; /* the initial value if bounded; LONG_MAX, where counting stops, if not */
    const char *acquire_name;
    struct waitlist waiters;
};

static void semaphore_init(semaphore_t *s, long value, long limit, const char *acquire_name)
{
    s->value = value;
    s->limit = limit;
    s->acquire_name = acquire_name;
    waitlist_init(&s->waiters, NULL);
}

static semaphore_t *semaphore_make(long value, long limit)
{
    if (value < 0) {
        errno = EINVAL;
        return NULL;
    }
    semaphore_t *s = loop_xmalloc(sizeof *s);
    semaphore_init(s, value, limit, "Semaphore.acquire");
    return s;
}

semaphore_t *semaphore_new(long value)
{
    return semaphore_make(value, LONG_MAX);
}

semaphore_t *bounded_semaphore_new(long value)
{
    return semaphore_make(value, value);
}

static void semaphore_cancel_waiters(semaphore_t *s)
{
    struct waitlist_entry *w;
    while ((w = waitlist_pop(&s->waiters))) {
        future_set_error(w->f, ECANCELED, "%s: freed while waited for", s->acquire_name);
        waitlist_drop(w);
    }
}

void semaphore_free(semaphore_t *s)
{
    if (!s)
        return;
    semaphore_cancel_waiters(s);
    free(s);
}

future_t *semaphore_acquire(semaphore_t *s, double deadline)
{
    future_t *f = future_new(s->acquire_name);
    if (s->value > 0) {
        s->value--;
        future_set_result(f, NULL);
    } else {
        waitlist_push(&s->waiters, f, deadline);
    }
    return f;
}

/* The unit goes straight to the oldest waiter still waiting, if there is one. */
int semaphore_release(semaphore_t *s)
{
    if (s->value >= s->limit) {
        errno = EINVAL;
        return -1;
    }
    s->value++;
    struct waitlist_entry *w = waitlist_pop(&s->waiters);
    if (w) {
        s->value--;
        future_set_result(w->f, NULL);
        waitlist_drop(w);
    }
    return 0;
}

long semaphore_value(const semaphore_t *s)
{
    return s->value;
}

/* ---- Lock -------------------------------------------------------------------------- */

/* Tornado's Lock is a BoundedSemaphore(1) with its own error for a bad release. */
struct lock {
    struct semaphore sem;
};

lock_t *lock_new(void)
{
    lock_t *l = loop_xmalloc(sizeof *l);
    semaphore_init(&l->sem, 1, 1, "Lock.acquire");
    return l;
}

void lock_free(lock_t *l)
{
    if (!l)
        return;
    semaphore_cancel_waiters(&l->sem);
    free(l);
}

future_t *lock_acquire(lock_t *l, double deadline)
{
    return semaphore_acquire(&l->sem, deadline);
}

int lock_release(lock_t *l)
{
    if (semaphore_release(&l->sem) < 0) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

bool lock_locked(const lock_t *l)
{
    return l->sem.value == 0;
}
