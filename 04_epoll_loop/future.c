/* future — see future.h. */
#include "future.h"

#include "loop_internal.h"
#include "trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

enum future_state { PENDING, DONE, FAILED };

/* A done-callback: waits in the future's list, then in the loop's ready queue. */
struct waiter {
    future_cb *cb;
    void *arg;
    const char *lane; /* the coroutine it resumes, for the trace; NULL otherwise */
    future_t *future; /* holds a reference while scheduled */
    struct waiter *next;
};

struct future {
    int refs;
    enum future_state state;
    bool moment;
    void *value;
    void (*value_free)(void *);
    future_t *value_owner; /* chain_future: from, kept alive while we share its value */
    int err;
    char *msg;
    const char *name;
    ioloop_t *loop;
    struct waiter *head, **tail;
};

future_t *future_new(const char *name)
{
    future_t *f = loop_xcalloc(1, sizeof *f);
    f->refs = 1;
    f->name = name ? name : "future";
    f->loop = ioloop_current();
    f->tail = &f->head;
    return f;
}

void future_ref(future_t *f)
{
    f->refs++;
}

void future_unref(future_t *f)
{
    if (!f || --f->refs > 0)
        return;
    for (struct waiter *w = f->head, *next; w; w = next) {
        next = w->next;
        free(w);
    }
    if (f->value_free)
        f->value_free(f->value);
    future_unref(f->value_owner);
    free(f->msg);
    free(f);
}

void future_release(void *f)
{
    future_unref(f);
}

/* ---- telling the waiters ---------------------------------------------------------- */

static void waiter_run(void *arg)
{
    struct waiter *w = arg;
    future_t *f = w->future;
    w->cb(f, w->arg);
    free(w);
    future_unref(f);
}

/* If the loop is freed first, the waiter never runs. */
static void waiter_drop(void *arg)
{
    struct waiter *w = arg;
    future_unref(w->future);
    free(w);
}

static void waiter_schedule(future_t *f, struct waiter *w)
{
    w->future = f;
    future_ref(f);
    if (w->lane)
        TRACE(TRACE_WAKE, w->lane, "%s", f->name);
    loop_add_callback_owned(f->loop, NULL, waiter_run, w, waiter_drop);
}

/* Resolution hands every waiter to the loop, oldest first; none runs here. */
static void resolve(future_t *f)
{
    struct waiter *w = f->head;
    f->head = NULL;
    f->tail = &f->head;
    while (w) {
        struct waiter *next = w->next;
        waiter_schedule(f, w);
        w = next;
    }
}

int future_set_result_owned(future_t *f, void *value, void (*free_fn)(void *))
{
    if (f->state != PENDING) {
        errno = EALREADY;
        return -1;
    }
    f->state = DONE;
    f->value = value;
    f->value_free = free_fn;
    resolve(f);
    return 0;
}

int future_set_result(future_t *f, void *value)
{
    return future_set_result_owned(f, value, NULL);
}

static int set_error_v(future_t *f, int code, const char *fmt, va_list ap)
{
    if (f->state != PENDING) {
        errno = EALREADY;
        return -1;
    }
    f->state = FAILED;
    f->err = code ? code : EIO;
    f->msg = loop_xvasprintf(fmt, ap);
    resolve(f);
    return 0;
}

int future_set_error(future_t *f, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = set_error_v(f, code, fmt, ap);
    va_end(ap);
    return r;
}

/* ---- reading ----------------------------------------------------------------------- */

bool future_done(const future_t *f)
{
    return f->state != PENDING;
}

bool future_failed(const future_t *f)
{
    return f->state == FAILED;
}

void *future_result(const future_t *f)
{
    return f->state == DONE ? f->value : NULL;
}

int future_error(const future_t *f)
{
    return f->state == FAILED ? f->err : 0;
}

const char *future_error_message(const future_t *f)
{
    return f->state == FAILED ? f->msg : "";
}

const char *future_name(const future_t *f)
{
    return f->name;
}

ioloop_t *future_loop(const future_t *f)
{
    return f->loop;
}

/* ---- callbacks --------------------------------------------------------------------- */

void future_add_waiter(future_t *f, future_cb *cb, void *arg, const char *lane)
{
    struct waiter *w = loop_xcalloc(1, sizeof *w);
    w->cb = cb;
    w->arg = arg;
    w->lane = lane;
    if (f->state != PENDING) {
        waiter_schedule(f, w);
        return;
    }
    *f->tail = w;
    f->tail = &w->next;
}

void future_add_done_callback(future_t *f, future_cb *cb, void *arg)
{
    future_add_waiter(f, cb, arg, NULL);
}

bool future_remove_done_callback(future_t *f, future_cb *cb, void *arg)
{
    for (struct waiter **p = &f->head; *p; p = &(*p)->next) {
        struct waiter *w = *p;
        if (w->cb == cb && w->arg == arg) {
            *p = w->next;
            if (f->tail == &w->next)
                f->tail = p;
            free(w);
            return true;
        }
    }
    return false;
}

void future_on_done(future_t *f, future_cb *cb, void *arg)
{
    if (f->state != PENDING)
        cb(f, arg);
    else
        future_add_done_callback(f, cb, arg);
}

void future_mark_moment(future_t *f)
{
    f->moment = true;
}

bool future_is_moment(const future_t *f)
{
    return f->moment;
}

/* ---- chaining ---------------------------------------------------------------------- */

static void chain_copy(future_t *from, void *arg)
{
    future_t *to = arg;
    if (to->state == PENDING) {
        if (from->state == FAILED) {
            future_set_error(to, from->err, "%s", from->msg);
        } else {
            if (from->value_free) { /* the value stays from's: keep from alive */
                future_ref(from);
                to->value_owner = from;
            }
            future_set_result(to, from->value);
        }
    }
    future_unref(to);
}

void future_chain(future_t *from, future_t *to)
{
    future_ref(to);
    future_on_done(from, chain_copy, to);
}
