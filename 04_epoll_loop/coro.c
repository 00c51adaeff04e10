/* coro — see coro.h. A coroutine is a lesson 03 generator plus Tornado's Runner: the
 * body yields when it must wait, and step() resumes it when what it waits for is done. */
#include "coro.h"

#include "gen.h"
#include "loop_internal.h"
#include "trace.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct coro {
    gen_t *gen;
    future_t *future; /* what the body's end resolves; spawn's caller has its own ref */
    const char *name;
    coro_fn *fn;
    void *arg;
    ioloop_t *loop;
    future_t *awaiting; /* while suspended: the future it waits on */
    future_t *last;     /* the last future awaited: its result and error stay readable */
    int fail_code;      /* set by coro_fail: the body's end fails the future */
    char *fail_msg;
    struct coro *prev, *next; /* the loop's list of live coroutines */
};

static __thread coro_t *running;
static size_t default_stack = CORO_STACK_DEFAULT;
static __thread int outside_code; /* coro_await's error outside any coroutine */
static __thread const char *outside_msg = "";

/* ---- lanes: in a trace every coroutine needs a name of its own --------------------- */

struct lane_use {
    const char *base;
    unsigned uses;
};

static struct lane_use *lane_uses;
static size_t nlane_uses;
static char **lane_names; /* the names made here, freed at exit */
static size_t nlane_names;

static void lanes_free(void)
{
    for (size_t i = 0; i < nlane_names; i++)
        free(lane_names[i]);
    free(lane_names);
    free(lane_uses);
}

/* name the first time, then name#2, name#3...: only when tracing, so nothing is spent
 * otherwise. A server's thousand handlers are a thousand lanes. Lanes are the process's,
 * and loops on several threads name theirs at once (05_sync_vs_async): one lock. */
static pthread_mutex_t lanes_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *lane_name_locked(const char *name)
{
    for (size_t i = 0; i < nlane_uses; i++) {
        if (strcmp(lane_uses[i].base, name) != 0)
            continue;
        char *unique;
        if (asprintf(&unique, "%s#%u", name, ++lane_uses[i].uses) < 0)
            return name;
        lane_names = loop_xrealloc(lane_names, (nlane_names + 1) * sizeof *lane_names);
        return lane_names[nlane_names++] = unique;
    }
    if (!lane_uses)
        atexit(lanes_free);
    lane_uses = loop_xrealloc(lane_uses, (nlane_uses + 1) * sizeof *lane_uses);
    lane_uses[nlane_uses++] = (struct lane_use){.base = name, .uses = 1};
    return name;
}

static const char *lane_name(const char *name)
{
    if (!trace_enabled)
        return name;
    pthread_mutex_lock(&lanes_lock);
    const char *lane = lane_name_locked(name);
    pthread_mutex_unlock(&lanes_lock);
    return lane;
}

static void *body(gen_t *g)
{
    coro_t *c = gen_arg(g);
    return c->fn(c->arg);
}

static void list_add(coro_t *c)
{
    struct coro **head = loop_coro_list(c->loop);
    c->next = *head;
    if (*head)
        (*head)->prev = c;
    *head = c;
}

static void list_remove(coro_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        *loop_coro_list(c->loop) = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

static void coro_destroy(coro_t *c)
{
    list_remove(c);
    gen_free(c->gen);
    future_unref(c->last);
    future_unref(c->awaiting);
    future_unref(c->future);
    free(c->fail_msg);
    free(c);
}

/* The body returned: its value or its coro_fail error goes to its future. */
static void finish(coro_t *c, void *value)
{
    if (c->fail_code)
        future_set_error(c->future, c->fail_code, "%s", c->fail_msg);
    else
        future_set_result(c->future, value);
    coro_destroy(c);
}

static void resume(future_t *f, void *arg);
static void resume_later(void *arg);

/* Runs c until it waits on a pending future or returns: Tornado's Runner.run. */
static void step(coro_t *c)
{
    coro_t *outer = running;
    running = c;
    void *out;
    gen_status st = gen_send(c->gen, NULL, &out);
    running = outer;
    if (st == GEN_RETURNED) {
        finish(c, out);
    } else if (st == GEN_YIELDED) {
        if (future_is_moment(c->awaiting)) /* gen.moment: exactly one turn of the loop */
            loop_add_callback_owned(c->loop, "moment", resume_later, c, NULL);
        else
            future_add_waiter(c->awaiting, resume, c, c->name);
    } else {
        fprintf(stderr, "coro: cannot resume %s: %s\n", c->name, gen_strerror(st));
        abort();
    }
}

static void resume(future_t *f, void *arg)
{
    (void)f;
    step(arg);
}

static void resume_later(void *arg)
{
    step(arg);
}

future_t *coro_spawn_stack(const char *name, coro_fn *fn, void *arg, size_t stack_size)
{
    coro_t *c = loop_xcalloc(1, sizeof *c);
    c->name = lane_name(name ? name : "coroutine");
    c->fn = fn;
    c->arg = arg;
    c->loop = ioloop_current();
    c->future = future_new(c->name);
    future_t *f = c->future;
    future_ref(f); /* one for the caller, one for the coroutine */
    c->gen = gen_create_stack(c->name, body, c, stack_size);
    if (!c->gen) {
        future_set_error(f, ENOMEM, "coro_spawn: no stack for coroutine %s: %s%s", c->name,
                         strerror(errno),
                         errno == ENOMEM ? " (out of memory, or of mappings: each stack takes two,"
                                           " and vm.max_map_count caps them)" : "");
        future_unref(f);
        free(c);
        return f;
    }
    list_add(c);
    TRACE(TRACE_SPAWN, c->name, "coroutine");
    step(c);
    return f;
}

future_t *coro_spawn(const char *name, coro_fn *fn, void *arg)
{
    return coro_spawn_stack(name, fn, arg, default_stack);
}

void coro_set_default_stack(size_t stack_size)
{
    default_stack = stack_size;
}

/* ---- spawn_callback: start next turn, nobody waits, errors are printed ------------ */

struct spawn_later {
    const char *name;
    coro_fn *fn;
    void *arg;
};

static void report_failure(future_t *f, void *arg)
{
    (void)arg;
    if (future_failed(f))
        fprintf(stderr, "Exception in callback %s: %s\n", future_name(f), future_error_message(f));
}

static void spawn_later_run(void *arg)
{
    struct spawn_later *s = arg;
    future_t *f = coro_spawn(s->name, s->fn, s->arg);
    free(s);
    future_add_done_callback(f, report_failure, NULL);
    future_unref(f);
}

void coro_spawn_callback(const char *name, coro_fn *fn, void *arg)
{
    struct spawn_later *s = loop_xmalloc(sizeof *s);
    *s = (struct spawn_later){.name = name, .fn = fn, .arg = arg};
    loop_add_callback_owned(ioloop_current(), name, spawn_later_run, s, free);
}

/* ---- waiting ----------------------------------------------------------------------- */

int coro_await(future_t *f, void **result)
{
    coro_t *c = running;
    if (!c) {
        future_unref(f);
        outside_code = EPERM;
        outside_msg = "coro_await: not inside a coroutine";
        return EPERM;
    }
    future_unref(c->last); /* the previous result's lifetime ends here (coro.h) */
    c->last = NULL;
    if (!future_done(f) || future_is_moment(f)) {
        c->awaiting = f;
        TRACE(TRACE_WAIT, NULL, "%s", future_name(f));
        gen_yield(c->gen, NULL);
        c->awaiting = NULL;
    }
    c->last = f;
    if (result)
        *result = future_result(f);
    return future_error(f);
}

coro_t *coro_current(void)
{
    return running;
}

const char *coro_name(const coro_t *c)
{
    return c->name;
}

const char *coro_error(void)
{
    coro_t *c = running;
    if (!c)
        return outside_code ? outside_msg : "";
    return c->last ? future_error_message(c->last) : "";
}

int coro_error_code(void)
{
    coro_t *c = running;
    if (!c)
        return outside_code;
    return c->last ? future_error(c->last) : 0;
}

void *coro_fail(int code, const char *fmt, ...)
{
    coro_t *c = running;
    va_list ap;
    va_start(ap, fmt);
    char *msg = loop_xvasprintf(fmt, ap);
    va_end(ap);
    if (!c) {
        fprintf(stderr, "coro_fail outside a coroutine: %s\n", msg);
        free(msg);
        return NULL;
    }
    free(c->fail_msg);
    c->fail_msg = msg;
    c->fail_code = code ? code : EIO;
    return NULL;
}

void *coro_fail_again(void)
{
    return coro_fail(coro_error_code(), "%s", coro_error());
}

size_t coro_suspended_count(void)
{
    size_t n = 0;
    for (coro_t *c = *loop_coro_list(ioloop_current()); c; c = c->next)
        n += c->awaiting != NULL;
    return n;
}

void coro_abandon_all(ioloop_t *loop)
{
    coro_t *c;
    while ((c = *loop_coro_list(loop))) {
        fprintf(stderr, "ioloop_free: coroutine %s never resumed: it waits on %s\n", c->name,
                c->awaiting ? future_name(c->awaiting) : "nothing");
        future_set_error(c->future, ECANCELED, "the loop was freed while %s waited", c->name);
        coro_destroy(c);
    }
}

/* ---- sleep and moment -------------------------------------------------------------- */

static void sleep_done(void *arg)
{
    future_t *f = arg;
    future_set_result(f, NULL);
    future_unref(f);
}

future_t *coro_sleep(double seconds)
{
    future_t *f = future_new("sleep");
    future_ref(f); /* the timer's */
    loop_call_later_owned(ioloop_current(), seconds, "sleep", sleep_done, f, future_release);
    return f;
}

future_t *coro_moment(void)
{
    future_t *f = future_new("moment");
    future_mark_moment(f);
    future_ref(f);
    loop_add_callback_owned(ioloop_current(), "moment", sleep_done, f, future_release);
    return f;
}

/* ---- multi ------------------------------------------------------------------------- */

/* The result: values[n], then the children (kept alive: values may be theirs). */
struct multi_result {
    size_t n;
    const char **names;          /* multi_named only */
    struct coro_named_results named;
    future_t **children;
    void *values[];
};

struct multi {
    future_t *future;
    struct multi_result *res;
    size_t pending;
};

static void multi_result_free(void *values)
{
    struct multi_result *r = (struct multi_result *)((char *)values - offsetof(struct multi_result, values));
    for (size_t i = 0; i < r->n; i++)
        future_unref(r->children[i]);
    free(r->children);
    free(r->names);
    free(r);
}

static void named_result_free(void *named)
{
    struct multi_result *r = (struct multi_result *)((char *)named - offsetof(struct multi_result, named));
    multi_result_free(r->values);
}

/* Every child is done: the first failure in input order, else all the values. */
static void multi_settle(struct multi *m)
{
    struct multi_result *r = m->res;
    for (size_t i = 0; i < r->n; i++) {
        future_t *child = r->children[i];
        if (!future_failed(child)) {
            r->values[i] = future_result(child);
        } else if (future_done(m->future)) {
            fprintf(stderr, "Multiple exceptions in yield list: %s: %s\n", future_name(child),
                    future_error_message(child));
        } else {
            future_set_error(m->future, future_error(child), "%s", future_error_message(child));
        }
    }
    if (future_failed(m->future))
        multi_result_free(r->values);
    else if (r->names)
        future_set_result_owned(m->future, &r->named, named_result_free);
    else
        future_set_result_owned(m->future, r->values, multi_result_free);
    future_unref(m->future);
    free(m);
}

static void multi_child_done(future_t *child, void *arg)
{
    (void)child;
    struct multi *m = arg;
    if (--m->pending == 0)
        multi_settle(m);
}

static future_t *multi_start(const char **names, future_t **children, size_t n)
{
    struct multi_result *r = loop_xcalloc(1, sizeof *r + n * sizeof r->values[0]);
    r->n = n;
    if (names) { /* copied: the caller's array may be on its stack */
        r->names = loop_xmalloc(n * sizeof *names);
        if (n) /* memcpy from NULL is undefined, even for 0 bytes */
            memcpy(r->names, names, n * sizeof *names);
    }
    r->named = (struct coro_named_results){.n = n, .names = r->names, .values = r->values};
    r->children = loop_xmalloc(n * sizeof *r->children);
    if (n)
        memcpy(r->children, children, n * sizeof *children);
    struct multi *m = loop_xmalloc(sizeof *m);
    future_t *f = future_new("multi");
    future_ref(f);
    *m = (struct multi){.future = f, .res = r, .pending = n + 1};
    /* Tornado's rule: a child already done counts at once, not a turn later. */
    for (size_t i = 0; i < n; i++)
        future_on_done(children[i], multi_child_done, m);
    multi_child_done(NULL, m); /* the +1: settles now if every child was done */
    return f;
}

future_t *coro_multi(future_t **children, size_t n)
{
    return multi_start(NULL, children, n);
}

future_t *coro_multi_named(const char **names, future_t **children, size_t n)
{
    static const char *no_names[1];
    if (!names && n == 0) /* Tornado's `yield {}` */
        names = no_names;
    if (!names) {
        future_t *f = future_new("multi");
        future_set_error(f, EINVAL, "coro_multi_named: no names");
        for (size_t i = 0; i < n; i++)
            future_unref(children[i]);
        return f;
    }
    return multi_start(names, children, n);
}

void *coro_named_get(const struct coro_named_results *r, const char *name)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (r->names[i] && strcmp(r->names[i], name) == 0)
            return r->values[i];
    return NULL;
}

/* ---- with_timeout ------------------------------------------------------------------ */

struct timeout_race {
    future_t *inner, *result;
    ioloop_timeout_t timer;
    bool expired;
    int refs; /* the inner future's callback and the timer each hold one */
};

static void race_release(struct timeout_race *t)
{
    if (--t->refs > 0)
        return;
    future_unref(t->inner);
    future_unref(t->result);
    free(t);
}

static void race_drop(void *arg)
{
    race_release(arg);
}

static void race_inner_done(future_t *inner, void *arg)
{
    struct timeout_race *t = arg;
    if (t->expired) {
        if (future_failed(inner) && future_error(inner) != ECANCELED)
            fprintf(stderr, "Exception in Future %s after timeout: %s\n", future_name(inner),
                    future_error_message(inner));
    } else {
        ioloop_remove_timeout(future_loop(inner), t->timer); /* drops the timer's reference */
    }
    race_release(t);
}

static void race_timeout(void *arg)
{
    struct timeout_race *t = arg;
    t->expired = true;
    if (!future_done(t->result))
        future_set_error(t->result, ETIMEDOUT, "Timeout");
    race_release(t);
}

future_t *coro_with_timeout(double deadline, future_t *f)
{
    struct timeout_race *t = loop_xcalloc(1, sizeof *t);
    t->inner = f;
    t->result = future_new("with_timeout");
    future_ref(t->result);
    t->refs = 2;
    future_chain(f, t->result);
    t->timer = loop_call_at_owned(future_loop(f), deadline, "timeout", race_timeout, t,
                                  race_drop);
    future_t *result = t->result; /* t may be gone once on_done returns */
    future_on_done(f, race_inner_done, t);
    return result;
}
