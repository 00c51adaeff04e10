/* gil — see gil.h. Every field of G is guarded by G.mu. */
#include "gil.h"

#include "trace.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gil_thread {
    const char *lane;
    void (*fn)(void *arg);
    void *arg;
    pthread_t tid;
    pthread_cond_t turn;       /* signalled when this thread should look again */
    int64_t wake_doc;          /* while asleep: deadline on the document's clock, ns */
    struct timespec wake_real; /* while asleep: not before this (CLOCK_MONOTONIC) */
    uint64_t seq;              /* equal deadlines: who went to sleep first */
    bool ended;
    struct gil_thread *joiner;       /* waits for this thread to end */
    struct gil_thread *next;         /* in the ready queue or the sleeper list */
    struct gil_thread *next_started; /* in the not-yet-joined list */
};

static struct {
    pthread_mutex_t mu;
    bool free_threads;
    double speed;
    struct gil_thread *running; /* whose turn it is; NULL between turns */
    struct gil_thread *ready, **ready_tail;
    struct gil_thread *sleepers; /* by (wake_doc, seq) */
    struct gil_thread *started, **started_tail;
    int64_t doc_now; /* the document's clock, ns: the deadline of the last sleep that ended */
    uint64_t seq;
    struct gil_thread main;
} G = {.mu = PTHREAD_MUTEX_INITIALIZER, .speed = 1};

/* Out of line for the reason given in trace.c: code may change threads under a generator. */
static __thread struct gil_thread *tls_self;

__attribute__((noinline)) static struct gil_thread *self_get(void)
{
    __asm__ volatile("");
    return tls_self;
}

__attribute__((noinline)) static void self_set(struct gil_thread *t)
{
    __asm__ volatile("");
    tls_self = t;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(err));
    exit(1);
}

static void cond_init(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

/* Seconds as nanoseconds, clamped to a year so that sums cannot overflow. */
static int64_t ns_of(double seconds)
{
    double ns = seconds * 1e9;
    return ns <= 0 ? 0 : ns > 3.2e16 ? (int64_t)3.2e16 : (int64_t)ns;
}

static struct timespec real_deadline(int64_t ns)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    ns += t.tv_nsec;
    t.tv_sec += ns / 1000000000;
    t.tv_nsec = ns % 1000000000;
    return t;
}

static bool reached(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void queue_ready(struct gil_thread *t)
{
    t->next = NULL;
    *G.ready_tail = t;
    G.ready_tail = &t->next;
}

static void queue_sleeper(struct gil_thread *t)
{
    struct gil_thread **p = &G.sleepers;
    while (*p && ((*p)->wake_doc < t->wake_doc ||
                  ((*p)->wake_doc == t->wake_doc && (*p)->seq < t->seq)))
        p = &(*p)->next;
    t->next = *p;
    *p = t;
}

/* Ends the running thread's turn: the first queued thread runs next; with none queued,
 * the earliest sleeper is told to watch its clock. */
static void give_up_turn(void)
{
    struct gil_thread *t = G.ready;
    G.running = NULL;
    if (t) {
        G.ready = t->next;
        if (!G.ready)
            G.ready_tail = &G.ready;
        G.running = t;
        pthread_cond_signal(&t->turn);
    } else if (G.sleepers) {
        pthread_cond_signal(&G.sleepers->turn);
    }
}

/* Blocks until self's turn. A sleeper takes the turn itself, when it is the earliest
 * sleeper, nobody runs or is queued, and its real deadline has passed. */
static void wait_turn(struct gil_thread *self)
{
    while (G.running != self) {
        bool next_sleeper = !G.running && !G.ready && G.sleepers == self;
        if (!next_sleeper) {
            pthread_cond_wait(&self->turn, &G.mu);
        } else if (reached(&self->wake_real)) {
            G.sleepers = self->next;
            G.doc_now = self->wake_doc;
            G.running = self;
        } else {
            pthread_cond_timedwait(&self->turn, &G.mu, &self->wake_real);
        }
    }
}

void gil_init(bool free_threads, double speed)
{
    G.free_threads = free_threads;
    G.speed = speed;
    G.ready_tail = &G.ready;
    G.started_tail = &G.started;
    G.main.lane = "main";
    cond_init(&G.main.turn);
    self_set(&G.main);
    trace_set_thread("main");
    G.running = free_threads ? NULL : &G.main;
}

static void *thread_main(void *p)
{
    struct gil_thread *self = p;
    self_set(self);
    trace_set_thread(self->lane);
    pthread_mutex_lock(&G.mu);
    if (!G.free_threads)
        wait_turn(self);
    pthread_mutex_unlock(&G.mu);

    TRACE(TRACE_LANE_START, NULL, "thread");
    self->fn(self->arg);
    TRACE(TRACE_LANE_END, NULL, "%s", "");

    pthread_mutex_lock(&G.mu);
    self->ended = true;
    if (!G.free_threads) {
        if (self->joiner)
            queue_ready(self->joiner);
        give_up_turn();
    }
    pthread_mutex_unlock(&G.mu);
    return NULL;
}

void gil_thread_start(const char *lane, void (*fn)(void *arg), void *arg)
{
    struct gil_thread *t = calloc(1, sizeof *t);
    if (!t)
        die("cannot start a thread", errno);
    t->lane = lane;
    t->fn = fn;
    t->arg = arg;
    cond_init(&t->turn);
    TRACE(TRACE_SPAWN, lane, "thread");

    /* Created under the lock, so whoever joins it reads a complete t->tid. */
    pthread_mutex_lock(&G.mu);
    *G.started_tail = t;
    G.started_tail = &t->next_started;
    if (!G.free_threads)
        queue_ready(t);
    int err = pthread_create(&t->tid, NULL, thread_main, t);
    pthread_mutex_unlock(&G.mu);
    if (err)
        die("cannot start a thread", err);
}

void gil_join_all(void)
{
    struct gil_thread *self = self_get();
    for (;;) {
        pthread_mutex_lock(&G.mu);
        struct gil_thread *t = G.started;
        if (t) {
            G.started = t->next_started;
            if (!G.started)
                G.started_tail = &G.started;
        }
        pthread_mutex_unlock(&G.mu);
        if (!t)
            return;

        TRACE(TRACE_JOIN_BEGIN, t->lane, "%s", "");
        pthread_mutex_lock(&G.mu);
        if (!G.free_threads && self && !t->ended) {
            t->joiner = self;
            give_up_turn();
            wait_turn(self);
        }
        pthread_mutex_unlock(&G.mu);
        pthread_join(t->tid, NULL);
        TRACE(TRACE_JOIN_END, t->lane, "%s", "");
        pthread_cond_destroy(&t->turn);
        free(t);
    }
}

static void plain_sleep(int64_t ns)
{
    struct timespec left = {ns / 1000000000, ns % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR)
        continue;
}

void gil_sleep(double seconds)
{
    struct gil_thread *self = self_get();
    TRACE(TRACE_SLEEP_BEGIN, NULL, "%g", seconds);
    if (G.free_threads || !self) {
        plain_sleep(ns_of(seconds / G.speed));
    } else {
        pthread_mutex_lock(&G.mu);
        self->wake_doc = G.doc_now + ns_of(seconds);
        self->wake_real = real_deadline(ns_of(seconds / G.speed));
        self->seq = G.seq++;
        queue_sleeper(self);
        give_up_turn();
        wait_turn(self);
        pthread_mutex_unlock(&G.mu);
    }
    TRACE(TRACE_SLEEP_END, NULL, "%g", seconds);
}
