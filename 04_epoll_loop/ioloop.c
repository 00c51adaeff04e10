/* ioloop — see ioloop.h. */
#include "ioloop.h"

#include "future.h"
#include "loop_internal.h"
#include "trace.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define WAKER_TAG UINT64_MAX  /* epoll data of the eventfd, which is not a handler */
#define MAX_POLL_MS (24 * 3600 * 1000) /* asyncio's cap on a poll's timeout */

struct callback {
    ioloop_cb *cb;
    ioloop_cb *drop; /* releases arg if the loop is freed first; NULL if nothing to do */
    void *arg;
    const char *name;
};

/* The ready queue: a ring that doubles when full, so queueing a callback allocates
 * nothing in the steady state. */
struct ring {
    struct callback *items;
    size_t cap, head, count; /* cap is a power of two */
};

struct timer {
    int64_t when;  /* CLOCK_MONOTONIC nanoseconds */
    uint64_t seq;  /* creation order: equal deadlines run FIFO */
    ioloop_cb *cb, *drop;
    void *arg;
    const char *name;
    uint32_t gen;  /* bumped when the slot is freed: stale handles do not match */
    uint32_t pos;  /* index in the heap, or NOT_IN_HEAP */
    bool live;
    bool cancelled; /* removed after it was taken off the heap as due */
    uint32_t next_free;
};
#define NOT_IN_HEAP UINT32_MAX

struct handler {
    ioloop_handler *fn;
    void *arg;
    int events;
    uint32_t gen; /* bumped on every add: an event for an earlier registration is stale */
    bool active;
};

struct ioloop {
    int epfd, wakefd;
    pthread_t owner; /* the thread that may run it; others only add callbacks */
    bool running, stopping;
    bool in_iteration;
    int64_t now; /* read once an iteration, after the poll: call_later's base */
    uint64_t iterations;

    struct ring ready;

    pthread_mutex_t remote_mu; /* callbacks added from other threads */
    struct callback *remote;
    size_t remote_count, remote_cap; /* written under remote_mu, read without it too */
    bool woken; /* a wake-up is in the eventfd and not yet read */

    struct timer *timers; /* slots; a handle is (gen << 32) | (index + 1) */
    uint32_t ntimers, timers_cap, free_timer;
    uint32_t *heap; /* slot indexes, ordered by (when, seq) */
    uint32_t heap_len;
    uint64_t timer_seq;
    uint32_t *due;  /* timers taken off the heap in this iteration */
    uint32_t due_len, due_cap;

    struct handler *handlers; /* by fd */
    int handlers_cap;
    struct epoll_event *events;
    int events_cap;

    struct coro *coros;
};

static __thread ioloop_t *current_loop;

/* ---- memory ---------------------------------------------------------------------- */

__attribute__((noreturn)) void loop_out_of_memory(size_t size)
{
    fprintf(stderr, "%s: out of memory (%zu bytes)\n", program_invocation_short_name, size);
    abort();
}

void *loop_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        loop_out_of_memory(size);
    return p;
}

void *loop_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        loop_out_of_memory(n * size);
    return p;
}

void *loop_xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p)
        loop_out_of_memory(size);
    return p;
}

char *loop_xvasprintf(const char *fmt, va_list ap)
{
    char *s;
    if (vasprintf(&s, fmt, ap) < 0)
        loop_out_of_memory(strlen(fmt));
    return s;
}

char *loop_xstrdup(const char *s)
{
    return s ? loop_xstrndup(s, strlen(s)) : NULL;
}

char *loop_xstrndup(const char *s, size_t n)
{
    char *p = loop_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- time ------------------------------------------------------------------------ */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t seconds_to_ns(double s)
{
    if (!(s > -9e9)) /* NaN or far past */
        return INT64_MIN / 2;
    if (s > 9e9)
        return INT64_MAX / 2;
    return (int64_t)llround(s * 1e9);
}

double ioloop_time(const ioloop_t *loop)
{
    (void)loop;
    return (double)now_ns() / 1e9;
}

/* ---- the ready queue ------------------------------------------------------------- */

static void ring_push(struct ring *r, struct callback cb)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct callback *items = loop_xmalloc(cap * sizeof *items);
        for (size_t i = 0; i < r->count; i++)
            items[i] = r->items[(r->head + i) & (r->cap - 1)];
        free(r->items);
        r->items = items;
        r->cap = cap;
        r->head = 0;
    }
    r->items[(r->head + r->count) & (r->cap - 1)] = cb;
    r->count++;
}

static struct callback ring_pop(struct ring *r)
{
    struct callback cb = r->items[r->head];
    r->head = (r->head + 1) & (r->cap - 1);
    r->count--;
    return cb;
}

/* ---- creation -------------------------------------------------------------------- */

static int open_fds(ioloop_t *loop)
{
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0)
        return -1;
    loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->wakefd < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKER_TAG};
    return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev);
}

ioloop_t *ioloop_create(void)
{
    ioloop_t *loop = loop_xcalloc(1, sizeof *loop);
    loop->epfd = loop->wakefd = -1;
    if (open_fds(loop) < 0) {
        int err = errno;
        if (loop->epfd >= 0)
            close(loop->epfd);
        if (loop->wakefd >= 0)
            close(loop->wakefd);
        free(loop);
        errno = err;
        return NULL;
    }
    pthread_mutex_init(&loop->remote_mu, NULL);
    loop->owner = pthread_self();
    loop->free_timer = UINT32_MAX;
    loop->events_cap = 64;
    loop->events = loop_xmalloc((size_t)loop->events_cap * sizeof *loop->events);
    if (!current_loop)
        current_loop = loop;
    return loop;
}

ioloop_t *ioloop_current(void)
{
    if (!current_loop && !ioloop_create()) {
        fprintf(stderr, "%s: cannot create an event loop: %s\n", program_invocation_short_name,
                strerror(errno));
        abort();
    }
    return current_loop;
}

void ioloop_make_current(ioloop_t *loop)
{
    current_loop = loop;
}

struct coro **loop_coro_list(ioloop_t *loop)
{
    return &loop->coros;
}

static void drop_callback(struct callback *cb)
{
    if (cb->drop)
        cb->drop(cb->arg);
}

void ioloop_free(ioloop_t *loop)
{
    if (!loop)
        return;
    coro_abandon_all(loop);
    while (loop->ready.count) {
        struct callback cb = ring_pop(&loop->ready);
        drop_callback(&cb);
    }
    for (size_t i = 0; i < loop->remote_count; i++)
        drop_callback(&loop->remote[i]);
    for (uint32_t i = 0; i < loop->ntimers; i++)
        if (loop->timers[i].live && loop->timers[i].drop)
            loop->timers[i].drop(loop->timers[i].arg);
    close(loop->epfd);
    pthread_mutex_lock(&loop->remote_mu); /* a thread still in add_remote finishes first */
    close(loop->wakefd);
    pthread_mutex_unlock(&loop->remote_mu);
    pthread_mutex_destroy(&loop->remote_mu);
    free(loop->ready.items);
    free(loop->remote);
    free(loop->timers);
    free(loop->heap);
    free(loop->due);
    free(loop->handlers);
    free(loop->events);
    if (current_loop == loop)
        current_loop = NULL;
    free(loop);
}

/* ---- handlers -------------------------------------------------------------------- */

static uint32_t to_epoll(int events)
{
    return (events & IOLOOP_READ ? EPOLLIN | EPOLLRDHUP : 0) | (events & IOLOOP_WRITE ? EPOLLOUT : 0);
}

static struct handler *handler_of(ioloop_t *loop, int fd)
{
    if (fd < 0 || fd >= loop->handlers_cap || !loop->handlers[fd].active)
        return NULL;
    return &loop->handlers[fd];
}

int ioloop_add_handler(ioloop_t *loop, int fd, int events, ioloop_handler *h, void *arg)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if (handler_of(loop, fd)) {
        errno = EEXIST;
        return -1;
    }
    if (fd >= loop->handlers_cap) {
        int cap = loop->handlers_cap ? loop->handlers_cap : 64;
        while (cap <= fd)
            cap *= 2;
        loop->handlers = loop_xrealloc(loop->handlers, (size_t)cap * sizeof *loop->handlers);
        memset(loop->handlers + loop->handlers_cap, 0,
               (size_t)(cap - loop->handlers_cap) * sizeof *loop->handlers);
        loop->handlers_cap = cap;
    }
    struct handler *hd = &loop->handlers[fd];
    struct epoll_event ev = {.events = to_epoll(events),
                             .data.u64 = (uint64_t)(hd->gen + 1) << 32 | (uint32_t)fd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    hd->gen++;
    hd->fn = h;
    hd->arg = arg;
    hd->events = events;
    hd->active = true;
    return 0;
}

int ioloop_update_handler(ioloop_t *loop, int fd, int events)
{
    struct handler *hd = handler_of(loop, fd);
    if (!hd) {
        errno = ENOENT;
        return -1;
    }
    struct epoll_event ev = {.events = to_epoll(events),
                             .data.u64 = (uint64_t)hd->gen << 32 | (uint32_t)fd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return -1;
    hd->events = events;
    return 0;
}

int ioloop_remove_handler(ioloop_t *loop, int fd)
{
    struct handler *hd = handler_of(loop, fd);
    if (!hd) {
        errno = ENOENT;
        return -1;
    }
    hd->active = false;
    /* The fd may already be closed, which removed it from the set: not an error. */
    if (epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF && errno != ENOENT)
        return -1;
    return 0;
}

/* ---- callbacks ------------------------------------------------------------------- */

/* owner changes if the loop is started on another thread than the one that made it,
 * while other threads may be adding callbacks: hence atomic. */
static bool on_loop_thread(const ioloop_t *loop)
{
    return pthread_equal(pthread_self(), __atomic_load_n(&loop->owner, __ATOMIC_ACQUIRE));
}

static void add_remote(ioloop_t *loop, struct callback cb)
{
    pthread_mutex_lock(&loop->remote_mu);
    if (loop->remote_count == loop->remote_cap) {
        loop->remote_cap = loop->remote_cap ? loop->remote_cap * 2 : 16;
        loop->remote = loop_xrealloc(loop->remote, loop->remote_cap * sizeof *loop->remote);
    }
    loop->remote[loop->remote_count] = cb;
    __atomic_store_n(&loop->remote_count, loop->remote_count + 1, __ATOMIC_RELEASE);
    /* The wake-up is written under the lock: once the lock is released, the loop's thread
     * may run the callback, stop and free the loop (ioloop_free takes the lock before it
     * closes the eventfd), and a write after that would hit a closed descriptor. */
    if (!loop->woken) {
        loop->woken = true;
        uint64_t one = 1;
        /* Only EAGAIN can fail here (the counter is full), and then it is readable anyway. */
        if (write(loop->wakefd, &one, sizeof one) < 0 && errno != EAGAIN)
            perror("ioloop_add_callback: eventfd");
    }
    pthread_mutex_unlock(&loop->remote_mu);
}

void loop_add_callback_owned(ioloop_t *loop, const char *name, ioloop_cb *cb, void *arg,
                             ioloop_cb *drop)
{
    struct callback c = {.cb = cb, .drop = drop, .arg = arg, .name = name};
    if (on_loop_thread(loop))
        ring_push(&loop->ready, c);
    else
        add_remote(loop, c);
}

void ioloop_add_callback(ioloop_t *loop, ioloop_cb *cb, void *arg)
{
    loop_add_callback_owned(loop, NULL, cb, arg, NULL);
}

void ioloop_add_callback_named(ioloop_t *loop, const char *name, ioloop_cb *cb, void *arg)
{
    loop_add_callback_owned(loop, name, cb, arg, NULL);
}

/* How many callbacks other threads have added. Read without the lock: every iteration
 * asks, and almost always the answer is none. One added just after the check is not
 * lost: its eventfd write makes the next poll return. */
static size_t remote_waiting(const ioloop_t *loop)
{
    return __atomic_load_n(&loop->remote_count, __ATOMIC_ACQUIRE);
}

/* Moves callbacks from other threads into the ready queue, and empties the eventfd
 * (woken is only ever set together with a callback, so none means nothing to read). */
static void take_remote(ioloop_t *loop)
{
    if (!remote_waiting(loop))
        return;
    pthread_mutex_lock(&loop->remote_mu);
    for (size_t i = 0; i < loop->remote_count; i++)
        ring_push(&loop->ready, loop->remote[i]);
    __atomic_store_n(&loop->remote_count, 0, __ATOMIC_RELEASE);
    if (loop->woken) {
        uint64_t n;
        if (read(loop->wakefd, &n, sizeof n) < 0 && errno != EAGAIN)
            perror("ioloop: eventfd");
        loop->woken = false;
    }
    pthread_mutex_unlock(&loop->remote_mu);
}

/* ---- timers: a binary heap of slots ---------------------------------------------- */

static bool timer_before(const ioloop_t *loop, uint32_t a, uint32_t b)
{
    const struct timer *x = &loop->timers[a], *y = &loop->timers[b];
    return x->when < y->when || (x->when == y->when && x->seq < y->seq);
}

static void heap_place(ioloop_t *loop, uint32_t pos, uint32_t slot)
{
    loop->heap[pos] = slot;
    loop->timers[slot].pos = pos;
}

static void heap_up(ioloop_t *loop, uint32_t pos)
{
    uint32_t slot = loop->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!timer_before(loop, slot, loop->heap[parent]))
            break;
        heap_place(loop, pos, loop->heap[parent]);
        pos = parent;
    }
    heap_place(loop, pos, slot);
}

static void heap_down(ioloop_t *loop, uint32_t pos)
{
    uint32_t slot = loop->heap[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= loop->heap_len)
            break;
        if (child + 1 < loop->heap_len && timer_before(loop, loop->heap[child + 1], loop->heap[child]))
            child++;
        if (!timer_before(loop, loop->heap[child], slot))
            break;
        heap_place(loop, pos, loop->heap[child]);
        pos = child;
    }
    heap_place(loop, pos, slot);
}

static void heap_remove(ioloop_t *loop, uint32_t pos)
{
    uint32_t slot = loop->heap[pos];
    loop->timers[slot].pos = NOT_IN_HEAP;
    uint32_t last = loop->heap[--loop->heap_len];
    if (pos == loop->heap_len)
        return;
    heap_place(loop, pos, last);
    heap_up(loop, pos);
    heap_down(loop, loop->timers[last].pos);
}

static uint32_t timer_slot_new(ioloop_t *loop)
{
    if (loop->free_timer != UINT32_MAX) {
        uint32_t slot = loop->free_timer;
        loop->free_timer = loop->timers[slot].next_free;
        return slot;
    }
    if (loop->ntimers == loop->timers_cap) {
        loop->timers_cap = loop->timers_cap ? loop->timers_cap * 2 : 64;
        loop->timers = loop_xrealloc(loop->timers, loop->timers_cap * sizeof *loop->timers);
        loop->heap = loop_xrealloc(loop->heap, loop->timers_cap * sizeof *loop->heap);
    }
    loop->timers[loop->ntimers].gen = 0;
    return loop->ntimers++;
}

static void timer_slot_free(ioloop_t *loop, uint32_t slot)
{
    struct timer *t = &loop->timers[slot];
    t->live = false;
    t->gen++;
    t->next_free = loop->free_timer;
    loop->free_timer = slot;
}

static ioloop_timeout_t timer_add(ioloop_t *loop, int64_t when, const char *name, ioloop_cb *cb,
                                  void *arg, ioloop_cb *drop)
{
    uint32_t slot = timer_slot_new(loop);
    struct timer *t = &loop->timers[slot];
    t->when = when;
    t->seq = loop->timer_seq++;
    t->cb = cb;
    t->drop = drop;
    t->arg = arg;
    t->name = name ? name : "timer";
    t->live = true;
    t->cancelled = false;
    loop->heap[loop->heap_len++] = slot;
    heap_up(loop, loop->heap_len - 1);
    return (uint64_t)t->gen << 32 | (slot + 1);
}

ioloop_timeout_t loop_call_at_owned(ioloop_t *loop, double when, const char *name,
                                    ioloop_cb *cb, void *arg, ioloop_cb *drop)
{
    return timer_add(loop, seconds_to_ns(when), name, cb, arg, drop);
}

ioloop_timeout_t loop_call_later_owned(ioloop_t *loop, double delay, const char *name,
                                       ioloop_cb *cb, void *arg, ioloop_cb *drop)
{
    int64_t base = loop->in_iteration ? loop->now : now_ns();
    return timer_add(loop, base + (delay > 0 ? seconds_to_ns(delay) : 0), name, cb, arg, drop);
}

ioloop_timeout_t ioloop_call_at(ioloop_t *loop, double when, const char *name, ioloop_cb *cb,
                                void *arg)
{
    return timer_add(loop, seconds_to_ns(when), name, cb, arg, NULL);
}

ioloop_timeout_t ioloop_call_later(ioloop_t *loop, double delay, const char *name,
                                   ioloop_cb *cb, void *arg)
{
    return loop_call_later_owned(loop, delay, name, cb, arg, NULL);
}

static struct timer *timer_of(ioloop_t *loop, ioloop_timeout_t handle)
{
    uint32_t slot = (uint32_t)handle - 1, gen = (uint32_t)(handle >> 32);
    if ((uint32_t)handle == 0 || slot >= loop->ntimers)
        return NULL;
    struct timer *t = &loop->timers[slot];
    return t->live && !t->cancelled && t->gen == gen ? t : NULL;
}

int ioloop_remove_timeout(ioloop_t *loop, ioloop_timeout_t handle)
{
    struct timer *t = timer_of(loop, handle);
    if (!t) {
        errno = ENOENT;
        return -1;
    }
    if (t->drop)
        t->drop(t->arg);
    if (t->pos == NOT_IN_HEAP) { /* due in this iteration: skipped when its turn comes */
        t->cancelled = true;
        return 0;
    }
    heap_remove(loop, t->pos);
    timer_slot_free(loop, (uint32_t)(t - loop->timers));
    return 0;
}

/* Takes every timer due by now off the heap, earliest first. */
static void collect_due(ioloop_t *loop)
{
    int64_t now = loop->now;
    loop->due_len = 0;
    while (loop->heap_len && loop->timers[loop->heap[0]].when <= now) {
        if (loop->due_len == loop->due_cap) {
            loop->due_cap = loop->due_cap ? loop->due_cap * 2 : 64;
            loop->due = loop_xrealloc(loop->due, loop->due_cap * sizeof *loop->due);
        }
        loop->due[loop->due_len++] = loop->heap[0];
        heap_remove(loop, 0);
    }
}

/* ---- one iteration --------------------------------------------------------------- */

/* epoll_wait's timeout: 0 if work is waiting, else until the next timer (rounded up:
 * waking early would cost an empty iteration), else forever. */
static int poll_timeout(ioloop_t *loop, const char **why)
{
    if (loop->ready.count || loop->stopping || remote_waiting(loop)) {
        *why = "0";
        return 0;
    }
    if (!loop->heap_len) {
        *why = "forever";
        return -1;
    }
    *why = "timer";
    int64_t wait = loop->timers[loop->heap[0]].when - now_ns();
    if (wait <= 0)
        return 0;
    int64_t ms = (wait + 999999) / 1000000;
    return ms > MAX_POLL_MS ? MAX_POLL_MS : (int)ms;
}

static int poll_events(ioloop_t *loop)
{
    const char *why;
    int timeout = poll_timeout(loop, &why);
    TRACE(TRACE_POLL_BEGIN, NULL, "%s", why);
    int n = epoll_wait(loop->epfd, loop->events, loop->events_cap, timeout);
    if (n < 0 && errno != EINTR)
        return -1;
    n = n < 0 ? 0 : n;
    TRACE(TRACE_POLL_END, NULL, "%d", n);
    return n;
}

static void run_callbacks(ioloop_t *loop, size_t n)
{
    if (n)
        TRACE(TRACE_LOOP_PHASE, NULL, "callbacks %zu", n);
    while (n--) {
        struct callback cb = ring_pop(&loop->ready);
        if (cb.name)
            TRACE(TRACE_CALLBACK, NULL, "%s", cb.name);
        cb.cb(cb.arg);
    }
}

static int events_of(uint32_t ep)
{
    int ev = 0;
    if (ep & (EPOLLIN | EPOLLRDHUP))
        ev |= IOLOOP_READ;
    if (ep & EPOLLOUT)
        ev |= IOLOOP_WRITE;
    if (ep & (EPOLLERR | EPOLLHUP))
        ev |= IOLOOP_READ | IOLOOP_WRITE | IOLOOP_ERROR;
    return ev;
}

/* Runs the handlers of the n events epoll reported, skipping any removed (or replaced)
 * since: their events are stale. */
static void run_handlers(ioloop_t *loop, int n, int nio)
{
    if (nio)
        TRACE(TRACE_LOOP_PHASE, NULL, "io %d", nio);
    for (int i = 0; i < n; i++) {
        uint64_t data = loop->events[i].data.u64;
        if (data == WAKER_TAG)
            continue;
        int fd = (int)(uint32_t)data;
        struct handler *hd = handler_of(loop, fd);
        if (!hd || hd->gen != (uint32_t)(data >> 32))
            continue;
        int ev = events_of(loop->events[i].events) & (hd->events | IOLOOP_ERROR);
        if (!ev)
            continue;
        TRACE(TRACE_IO, NULL, "fd %d%s%s%s", fd, ev & IOLOOP_READ ? " read" : "",
              ev & IOLOOP_WRITE ? " write" : "", (ev & IOLOOP_ERROR) == IOLOOP_ERROR ? " error" : "");
        hd->fn(fd, ev, hd->arg);
    }
}

static void run_timers(ioloop_t *loop)
{
    if (loop->due_len)
        TRACE(TRACE_LOOP_PHASE, NULL, "timers %u", loop->due_len);
    for (uint32_t i = 0; i < loop->due_len; i++) {
        uint32_t slot = loop->due[i];
        struct timer t = loop->timers[slot];
        timer_slot_free(loop, slot); /* before the call: removing it now is ENOENT */
        if (t.cancelled)
            continue;
        TRACE(TRACE_TIMER, NULL, "%s", t.name);
        t.cb(t.arg);
    }
    loop->due_len = 0;
}

/* Grows the event array when epoll filled it, so a busy loop sees every fd each turn. */
static void grow_events(ioloop_t *loop, int n)
{
    if (n < loop->events_cap)
        return;
    loop->events_cap *= 2;
    loop->events = loop_xrealloc(loop->events, (size_t)loop->events_cap * sizeof *loop->events);
}

static int iterate(ioloop_t *loop)
{
    loop->iterations++;
    TRACE(TRACE_LOOP_ITERATION, NULL, "%llu", (unsigned long long)loop->iterations);
    int n = poll_events(loop);
    if (n < 0)
        return -1;
    take_remote(loop);
    loop->now = now_ns();
    loop->in_iteration = true;
    size_t ncallbacks = loop->ready.count; /* what arrives from now on waits a turn */
    int nio = 0;
    for (int i = 0; i < n; i++)
        nio += loop->events[i].data.u64 != WAKER_TAG;
    collect_due(loop);
    run_callbacks(loop, ncallbacks);
    run_handlers(loop, n, nio);
    run_timers(loop);
    loop->in_iteration = false;
    grow_events(loop, n);
    return 0;
}

int ioloop_run_once(ioloop_t *loop)
{
    if (loop->running) {
        errno = EBUSY;
        return -1;
    }
    loop->running = true;
    int r = iterate(loop);
    loop->running = false;
    return r;
}

int ioloop_start(ioloop_t *loop)
{
    if (loop->running) {
        errno = EBUSY;
        return -1;
    }
    loop->running = true;
    __atomic_store_n(&loop->owner, pthread_self(), __ATOMIC_RELEASE);
    ioloop_t *prev = current_loop;
    current_loop = loop;
    int r = 0;
    while (!loop->stopping && r == 0)
        r = iterate(loop);
    loop->stopping = false;
    loop->running = false;
    current_loop = prev ? prev : loop;
    return r;
}

void ioloop_stop(ioloop_t *loop)
{
    loop->stopping = true;
}

bool ioloop_running(const ioloop_t *loop)
{
    return loop->running;
}

uint64_t ioloop_iterations(const ioloop_t *loop)
{
    return loop->iterations;
}

size_t ioloop_pending_callbacks(const ioloop_t *loop)
{
    return loop->ready.count + remote_waiting(loop);
}

size_t ioloop_pending_timers(const ioloop_t *loop)
{
    return loop->heap_len;
}

/* ---- run_sync -------------------------------------------------------------------- */

struct run_sync {
    ioloop_t *loop;
    future_t *(*fn)(void *);
    void *arg;
    future_t *future;
    bool timed_out;
    bool done_ran; /* run_sync_done stopped the loop */
    bool detached; /* run_sync returned first: whichever callback runs frees this */
};

static void run_sync_done(future_t *f, void *arg)
{
    (void)f;
    struct run_sync *rs = arg;
    if (rs->detached) {
        free(rs);
        return;
    }
    rs->done_ran = true;
    ioloop_stop(rs->loop);
}

/* Tornado calls fn from the loop's first iteration, not before it starts. */
static void run_sync_start(void *arg)
{
    struct run_sync *rs = arg;
    if (rs->detached) {
        free(rs);
        return;
    }
    rs->future = rs->fn(rs->arg);
    if (!rs->future) {
        rs->future = future_new("run_sync");
        future_set_result(rs->future, NULL);
    }
    future_add_done_callback(rs->future, run_sync_done, rs);
}

static void run_sync_timeout(void *arg)
{
    struct run_sync *rs = arg;
    rs->timed_out = true;
    ioloop_stop(rs->loop);
}

/* What run_sync returns when the task's future is not done. */
static future_t *run_sync_failure(int r, const struct run_sync *rs, double timeout)
{
    future_t *failed = future_new("run_sync");
    if (r < 0)
        future_set_error(failed, errno, "epoll_wait: %s", strerror(errno));
    else if (rs->timed_out)
        future_set_error(failed, ETIMEDOUT, "Operation timed out after %g seconds", timeout);
    else
        future_set_error(failed, ECANCELED, "Event loop stopped before Future completed.");
    return failed;
}

/* After the loop stopped: frees rs unless a callback of ours is still queued. */
static void run_sync_release(struct run_sync *rs)
{
    if (!rs->future || (!rs->done_ran && !future_remove_done_callback(rs->future, run_sync_done, rs)))
        rs->detached = true;
    else
        free(rs);
}

future_t *ioloop_run_sync(ioloop_t *loop, future_t *(*fn)(void *arg), void *arg, double timeout)
{
    struct run_sync *rs = loop_xcalloc(1, sizeof *rs);
    *rs = (struct run_sync){.loop = loop, .fn = fn, .arg = arg};
    loop_add_callback_owned(loop, "run_sync", run_sync_start, rs, free);
    ioloop_timeout_t t = timeout > 0 ? ioloop_call_later(loop, timeout, "run_sync timeout",
                                                         run_sync_timeout, rs)
                                     : 0;
    ioloop_t *prev = current_loop;
    current_loop = loop;
    int r = ioloop_start(loop);
    current_loop = prev ? prev : loop;
    if (t)
        ioloop_remove_timeout(loop, t);
    future_t *result = rs->future;
    bool timed_out = rs->timed_out;
    run_sync_release(rs);
    if (result && future_done(result))
        return result;
    struct run_sync why = {.timed_out = timed_out};
    if (result)
        future_unref(result);
    return run_sync_failure(r, &why, timeout);
}

/* ---- PeriodicCallback ------------------------------------------------------------ */

struct ioloop_periodic {
    ioloop_t *loop;
    int64_t period, next;
    ioloop_cb *cb;
    void *arg;
    ioloop_timeout_t timer;
    bool running;
};

ioloop_periodic_t *ioloop_periodic_new(ioloop_t *loop, double period, ioloop_cb *cb, void *arg)
{
    if (!(period > 0)) {
        errno = EINVAL;
        return NULL;
    }
    ioloop_periodic_t *p = loop_xcalloc(1, sizeof *p);
    p->loop = loop;
    p->period = seconds_to_ns(period);
    p->period = p->period > 0 ? p->period : 1;
    p->cb = cb;
    p->arg = arg;
    return p;
}

static void periodic_run(void *arg);

static void periodic_schedule(ioloop_periodic_t *p)
{
    p->timer = timer_add(p->loop, p->next, "periodic", periodic_run, p, NULL);
}

/* Tornado's rule: stay on the grid start + k * period; after an overrun, skip to the
 * first slot still in the future rather than running the missed ones late. */
static void periodic_advance(ioloop_periodic_t *p)
{
    int64_t now = now_ns();
    if (p->next <= now)
        p->next += ((now - p->next) / p->period + 1) * p->period;
    else /* ran before its slot (a clock step): still move on by one period */
        p->next += p->period;
}

static void periodic_run(void *arg)
{
    ioloop_periodic_t *p = arg;
    p->timer = 0;
    p->cb(p->arg);
    if (!p->running)
        return;
    periodic_advance(p);
    periodic_schedule(p);
}

void ioloop_periodic_start(ioloop_periodic_t *p)
{
    if (p->running)
        return;
    p->running = true;
    p->next = now_ns() + p->period;
    periodic_schedule(p);
}

void ioloop_periodic_stop(ioloop_periodic_t *p)
{
    p->running = false;
    if (p->timer)
        ioloop_remove_timeout(p->loop, p->timer);
    p->timer = 0;
}

bool ioloop_periodic_running(const ioloop_periodic_t *p)
{
    return p->running;
}

void ioloop_periodic_free(ioloop_periodic_t *p)
{
    if (!p)
        return;
    ioloop_periodic_stop(p);
    free(p);
}
