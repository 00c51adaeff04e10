/* trace — the event recorder behind every lesson's --trace FILE.
 *
 * The printed lines of a lesson only hint at who ran when; the tracer (tracer/) draws it.
 * This module records what the tracer needs: one line per event, appended to a file, each
 * naming the OS thread it happened on, the lane (thread or coroutine) that was running,
 * the kind of event, the lane it points at (if any) and a text. The file format is
 * documented in lessons/TRACE_FORMAT.md; later lessons add kinds, never change existing ones.
 *
 * Cost when off: TRACE() tests one global flag and does nothing else.
 * Threads: trace_emit is safe from any thread; a line is written whole, in time order.
 * Lanes: each thread names itself once (trace_set_thread); code that switches stacks on a
 * thread (gen.c) changes the current lane around the switch (trace_set_lane). A thread
 * that never names itself is "unnamed".
 */
#ifndef LESSON_TRACE_H
#define LESSON_TRACE_H

#include <stdbool.h>

enum trace_kind {
    TRACE_LANE_START,  /* a lane begins running: text "main", "thread" or "generator" */
    TRACE_LANE_END,    /* a lane is over; peer = the lane that continues (a generator's resumer) */
    TRACE_PRINT,       /* a line the program printed; text = the line */
    TRACE_SLEEP_BEGIN, /* text = the document's seconds, e.g. "5" */
    TRACE_SLEEP_END,   /* the sleeper runs again; text as in sleep_begin */
    TRACE_SPAWN,       /* peer = the new thread's lane */
    TRACE_JOIN_BEGIN,  /* waiting for the thread named by peer to end */
    TRACE_JOIN_END,
    TRACE_CALLBACK,    /* a callback is invoked; text = its name */
    TRACE_RESUME,      /* the lane hands control to generator peer; text "next" or "send" */
    TRACE_YIELD,       /* a generator hands control back to peer */
    TRACE_ERROR,       /* something the program tolerated went wrong; peer = its subject */
    /* Lesson 04: the event loop and its coroutines. */
    TRACE_LOOP_ITERATION, /* the loop begins an iteration; text = its number, from 1 */
    TRACE_POLL_BEGIN,  /* epoll_wait: text "0", "timer" (until the next timer) or "forever" */
    TRACE_POLL_END,    /* epoll_wait returned; text = the number of ready fds */
    TRACE_LOOP_PHASE,  /* text "callbacks N", "io N" or "timers N": N items run now */
    TRACE_IO,          /* an I/O handler runs; text "fd N read", "fd N write", ... */
    TRACE_TIMER,       /* a due timer runs; text = its name */
    TRACE_WAIT,        /* a coroutine suspends; text = the future it waits on */
    TRACE_WAKE,        /* a future is resolved; peer = the coroutine it wakes; text = the future */
    TRACE_KIND_COUNT
};

/* True while a trace file is open. Read it through TRACE(), not directly. */
extern bool trace_enabled;

#define TRACE(kind, peer, ...)                                                 \
    do {                                                                       \
        if (__builtin_expect(trace_enabled, 0))                                \
            trace_emit((kind), (peer), __VA_ARGS__);                           \
    } while (0)

/* Replaces PATH with a new trace whose first line carries HEADER (key=value words).
 * Returns 0, or -1 with errno set. Call before any thread starts. */
int trace_open(const char *path, const char *header);
/* Closes the file. Returns 0, or -1 with errno set to the first error any event met
 * (a full disk, say): events are never silently lost. Call after every thread ended. */
int trace_close(void);

/* Appends one event; peer may be NULL; text is a printf format. */
void trace_emit(enum trace_kind kind, const char *peer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const char *trace_kind_name(enum trace_kind kind);

/* Names the calling OS thread; it also becomes the thread's current lane. */
void trace_set_thread(const char *name);
void trace_set_lane(const char *lane);
const char *trace_lane(void);

#endif
