/* loop_internal — what the modules of 04_epoll_loop share and programs do not see.
 *
 * Allocation that cannot fail (out of memory aborts with a message, as in Redis), and
 * the hooks between the loop, futures and coroutines: callbacks and timers that own
 * something (a future reference) and must release it if the loop is freed before they
 * run, and the list of coroutines a loop reports when it is freed with some suspended.
 */
#ifndef LOOP_INTERNAL_H
#define LOOP_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "future.h"
#include "ioloop.h"

/* Says "PROG: out of memory (N bytes)" on stderr and aborts. */
__attribute__((noreturn)) void loop_out_of_memory(size_t size);
void *loop_xmalloc(size_t size);
void *loop_xcalloc(size_t n, size_t size);
void *loop_xrealloc(void *p, size_t size);
char *loop_xvasprintf(const char *fmt, va_list ap);
/* strdup (NULL gives NULL) and strndup that abort when memory runs out. */
char *loop_xstrdup(const char *s);
char *loop_xstrndup(const char *s, size_t n);

/* A callback or timer whose arg needs releasing if the loop is freed first: drop(arg). */
void loop_add_callback_owned(ioloop_t *loop, const char *name, ioloop_cb *cb, void *arg,
                             ioloop_cb *drop);
ioloop_timeout_t loop_call_at_owned(ioloop_t *loop, double when, const char *name,
                                    ioloop_cb *cb, void *arg, ioloop_cb *drop);
ioloop_timeout_t loop_call_later_owned(ioloop_t *loop, double delay, const char *name,
                                       ioloop_cb *cb, void *arg, ioloop_cb *drop);

/* Like future_add_done_callback; lane (a coroutine's name, or NULL) is the lane the
 * trace's wake event points at when f resolves. */
void future_add_waiter(future_t *f, future_cb *cb, void *arg, const char *lane);
/* Tornado's future_add_done_callback: runs cb now if f is already resolved, else as
 * future_add_done_callback does. */
void future_on_done(future_t *f, future_cb *cb, void *arg);
/* future_unref as an ioloop_cb, for callbacks and timers that hold a future. */
void future_release(void *f);
/* Takes back a done-callback that has not been scheduled yet; false if there is none. */
bool future_remove_done_callback(future_t *f, future_cb *cb, void *arg);
/* Marks f as gen.moment: coro_await resumes after exactly one iteration. */
void future_mark_moment(future_t *f);
bool future_is_moment(const future_t *f);

/* The coroutines suspended on a loop: coro.c keeps the list, the loop holds its head. */
struct coro;
struct coro **loop_coro_list(ioloop_t *loop);
/* Called by ioloop_free: reports and frees the coroutines still suspended on loop. */
void coro_abandon_all(ioloop_t *loop);

/* The waiters of a queue or a lock (locks.c): a FIFO of futures, each with the list's
 * own reference and, given a deadline, a timer that expires it. A waiter whose future
 * was resolved by someone else is skipped when its turn comes, as Tornado skips them. */
struct waitlist_entry;
typedef void waitlist_expire_fn(struct waitlist_entry *w);
struct waitlist {
    struct waitlist_entry *head, *tail;
    waitlist_expire_fn *expire; /* resolves a pending waiter at its deadline; NULL: ETIMEDOUT */
};
struct waitlist_entry {
    struct waitlist_entry *prev, *next;
    struct waitlist *list;
    future_t *f;            /* what serving it resolves */
    future_t *outer;        /* NULL, or the future f is chained to (Event.wait's deadline) */
    ioloop_timeout_t timer; /* 0 without a deadline */
    void *item;             /* a waiting putter's item and priority (queue.c) */
    long priority;
};
void waitlist_init(struct waitlist *l, waitlist_expire_fn *expire);
/* Appends a waiter for f (taking a reference); deadline 0 is none. */
struct waitlist_entry *waitlist_push(struct waitlist *l, future_t *f, double deadline);
/* Unlinks and returns the oldest waiter still pending, dropping resolved ones; or NULL. */
struct waitlist_entry *waitlist_pop(struct waitlist *l);
/* Frees a waiter taken off its list: cancels its timer, drops its references. */
void waitlist_drop(struct waitlist_entry *w);

#endif
