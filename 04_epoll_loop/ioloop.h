/* ioloop — one thread, one epoll set, timers and a queue of callbacks: Tornado's IOLoop.
 *
 * Everything in lessons 04–06 runs on this loop. It never blocks on anything but
 * epoll_wait, and it does three kinds of work, in this order in every iteration (the
 * order of Tornado 6, which runs on asyncio's loop):
 *
 *     1. epoll_wait: timeout 0 if callbacks are waiting, else until the next timer is
 *        due, else forever;
 *     2. the callbacks that were queued before this iteration began (FIFO);
 *     3. the I/O handlers whose file descriptors epoll reported ready;
 *     4. the timers now due, earliest first, equal deadlines in the order they were made
 *        (Tornado 6 leaves ties unordered; we promise FIFO).
 *
 * Whatever a callback, handler or timer schedules waits for the next iteration, so no
 * task can starve the others by rescheduling itself.
 *
 *     ioloop_t *loop = ioloop_current();
 *     ioloop_call_later(loop, 1.5, say_hello, "world");
 *     ioloop_start(loop);                // until something calls ioloop_stop(loop)
 *
 * Threads: a loop belongs to the thread that runs it. Only ioloop_add_callback may be
 * called from other threads; it wakes the loop through an eventfd. Everything else, and
 * every future, coroutine, queue and lock on the loop, is for the loop's thread only.
 *
 * Time: ioloop_time() is CLOCK_MONOTONIC in seconds (Tornado uses the wall clock, which
 * can jump). Deadlines for call_at, queues and locks are on that scale.
 *
 * Memory: running out of memory prints a message and aborts, as in Redis; every other
 * failure is returned (-1 and errno, or a failed future).
 *
 * Tracing: iterations, polls, phases, handlers and timers are recorded (trace.h).
 */
#ifndef IOLOOP_H
#define IOLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ioloop ioloop_t;
struct future;

/* Events, with epoll's values as in Tornado. A handler gets READ and/or WRITE, plus
 * ERROR when the fd reported an error or hang-up (together with whichever of READ and
 * WRITE it watches, so a handler that reads will see the EOF or the error). Tornado 6
 * instead calls the reader and the writer separately; one call with a mask is how C
 * loops do it. epoll reports errors and hang-ups even on an fd watched for no events:
 * to stop hearing from an fd, remove its handler. */
enum { IOLOOP_READ = 0x001, IOLOOP_WRITE = 0x004, IOLOOP_ERROR = 0x018 };

typedef void ioloop_cb(void *arg);
typedef void ioloop_handler(int fd, int events, void *arg);

/* A timer's handle: never 0 for a live timer; stale handles are harmless. */
typedef uint64_t ioloop_timeout_t;

/* A new loop. The first loop made on a thread becomes that thread's current loop.
 * Returns NULL with errno set if epoll or eventfd cannot be had. */
ioloop_t *ioloop_create(void);
/* The calling thread's current loop, made on first use (aborts if none can be made). */
ioloop_t *ioloop_current(void);
/* Makes loop the calling thread's current loop. */
void ioloop_make_current(ioloop_t *loop);
/* Frees the loop. Pending callbacks and timers are dropped without running; coroutines
 * still suspended on it are reported on stderr ("never resumed") and their stacks freed
 * (their bodies cannot be unwound). Handlers' fds are not closed. */
void ioloop_free(ioloop_t *loop);

/* Watches fd for events (IOLOOP_READ | IOLOOP_WRITE). -1 with errno EEXIST if fd is
 * already watched ("fd added twice"), or epoll's errno (EBADF, EPERM for regular files). */
int ioloop_add_handler(ioloop_t *loop, int fd, int events, ioloop_handler *h, void *arg);
/* Changes the events watched. -1 with errno ENOENT if fd is not watched. */
int ioloop_update_handler(ioloop_t *loop, int fd, int events);
/* Stops watching fd. -1 with errno ENOENT for an unknown fd (Tornado ignores it silently;
 * callers that do not care may ignore the result). A handler removed while its event is
 * pending in this iteration does not run. */
int ioloop_remove_handler(ioloop_t *loop, int fd);

/* Runs cb(arg) in the next iteration. The one thread-safe entry: from another thread it
 * also wakes the loop. name (static, may be NULL) labels it in the trace. */
void ioloop_add_callback(ioloop_t *loop, ioloop_cb *cb, void *arg);
void ioloop_add_callback_named(ioloop_t *loop, const char *name, ioloop_cb *cb, void *arg);

/* Runs cb(arg) once, delay seconds from now (negative counts as 0) or at the absolute
 * time when. name labels it in the trace. Inside an iteration "now" is the time the
 * iteration's poll returned (libuv does the same): timers made in one iteration fire in
 * the order of their delays, however long the code between them took. */
ioloop_timeout_t ioloop_call_later(ioloop_t *loop, double delay, const char *name,
                                   ioloop_cb *cb, void *arg);
ioloop_timeout_t ioloop_call_at(ioloop_t *loop, double when, const char *name, ioloop_cb *cb,
                                void *arg);
/* Cancels a timer. Returns 0, or -1 with errno ENOENT if it already ran or was removed. */
int ioloop_remove_timeout(ioloop_t *loop, ioloop_timeout_t timeout);

/* CLOCK_MONOTONIC, in seconds. */
double ioloop_time(const ioloop_t *loop);

/* Runs iterations until ioloop_stop. Returns 0, or -1 with errno if epoll_wait failed.
 * Not reentrant: -1 with errno EBUSY if the loop is already running. */
int ioloop_start(ioloop_t *loop);
/* Makes ioloop_start return once the current iteration is over. Loop thread only; from
 * another thread, add a callback that calls it. */
void ioloop_stop(ioloop_t *loop);
bool ioloop_running(const ioloop_t *loop);
/* Runs exactly one iteration; for tests that look at the order of events. */
int ioloop_run_once(ioloop_t *loop);

/* Tornado's run_sync: starts fn(arg) (usually a coro_spawn) and runs the loop until the
 * future it returns is done, or until timeout seconds passed (0: no limit). Returns that
 * future, done or failed, and the caller's to unref: on timeout it is a failed future
 * with code ETIMEDOUT (the task keeps its own future and goes on if the loop runs
 * again); if something stopped the loop first, one failed with code ECANCELED, "Event
 * loop stopped before Future completed." */
struct future *ioloop_run_sync(ioloop_t *loop, struct future *(*fn)(void *arg), void *arg,
                               double timeout);

/* How many iterations the loop ran, and how many callbacks and timers are pending. */
uint64_t ioloop_iterations(const ioloop_t *loop);
size_t ioloop_pending_callbacks(const ioloop_t *loop);
size_t ioloop_pending_timers(const ioloop_t *loop);

/* Tornado's PeriodicCallback: cb every period seconds (> 0), the first call one period
 * after start. The schedule stays on a fixed grid measured start to start: a run that
 * overruns skips the slots it missed instead of running late ones back to back. */
typedef struct ioloop_periodic ioloop_periodic_t;
ioloop_periodic_t *ioloop_periodic_new(ioloop_t *loop, double period, ioloop_cb *cb, void *arg);
void ioloop_periodic_start(ioloop_periodic_t *p);
void ioloop_periodic_stop(ioloop_periodic_t *p);
bool ioloop_periodic_running(const ioloop_periodic_t *p);
void ioloop_periodic_free(ioloop_periodic_t *p);

#endif
