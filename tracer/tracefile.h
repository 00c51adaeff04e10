/* tracefile — reads a lesson's trace (lessons/TRACE_FORMAT.md) into memory.
 *
 * The whole file is read at once and parsed in place: fields are cut with NULs and
 * unescaped where they lie, lanes and threads are interned to small numbers, so that a
 * million-event trace loads in a fraction of a second. The reader is forgiving, as the
 * format asks: unknown kinds, unknown header keys and comment lines are skipped;
 * malformed lines are skipped and counted; a last line without its newline (a trace cut
 * short) is dropped and reported. Only a file without the header, or of a newer version,
 * is refused.
 */
#ifndef TRACER_TRACEFILE_H
#define TRACER_TRACEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACEFILE_VERSION 1

enum event_kind {
    EV_LANE_START,
    EV_LANE_END,
    EV_PRINT,
    EV_SLEEP_BEGIN,
    EV_SLEEP_END,
    EV_JOIN_BEGIN,
    EV_JOIN_END,
    EV_CALLBACK,
    EV_RESUME,
    EV_YIELD,
    EV_ERROR,
    EV_SPAWN,
    EV_LOOP_ITERATION,
    EV_POLL_BEGIN,
    EV_POLL_END,
    EV_LOOP_PHASE,
    EV_IO,
    EV_TIMER,
    EV_WAIT,
    EV_WAKE,
    EV_KIND_COUNT
};

#define TRACEFILE_NO_PEER UINT32_MAX

struct trace_event {
    int64_t time;     /* microseconds since the trace began */
    uint32_t thread;  /* index into tracefile.threads */
    uint32_t lane;    /* index into tracefile.lanes */
    uint32_t peer;    /* a lane, or TRACEFILE_NO_PEER */
    enum event_kind kind;
    const char *text; /* unescaped; never NULL */
};

struct tracefile {
    /* The header; strings are "" when the header lacks the key, speed 1. */
    int version;
    const char *program, *lang, *threads_mode;
    double speed;

    struct trace_event *events;
    size_t n_events;
    const char **lanes; /* by first mention, as lane or as peer */
    size_t n_lanes;
    const char **threads;
    size_t n_threads;

    /* What the reader skipped. */
    size_t malformed;     /* lines that are not six fields, or bad times */
    size_t unknown_kinds; /* events of kinds this reader does not know */
    size_t time_back;     /* events whose time went back (kept, at the previous time) */
    bool truncated;       /* the last line had no newline */

    char *buf; /* the file, cut in place */
    size_t buf_len;
    struct intern *lane_names, *thread_names;
};

/* Reads PATH. Returns 0, or -1 with a reason in ERR (of size ERRSZ), nothing held. */
int tracefile_load(struct tracefile *tf, const char *path, char *err, size_t errsz);

/* Parses BUF (LEN bytes, malloc'd, not NUL-terminated): the tracefile owns it from now.
 * Returns 0, or -1 with a reason in ERR, everything freed (BUF too). */
int tracefile_parse(struct tracefile *tf, char *buf, size_t len, char *err, size_t errsz);

void tracefile_free(struct tracefile *tf);

/* The kind's name in the format ("lane_start"). */
const char *tracefile_kind_name(enum event_kind kind);

/* Document seconds at time T: the trace's microseconds times the speed. */
double tracefile_doc_seconds(const struct tracefile *tf, int64_t t);

/* Whether the reader met anything wrong (not unknown kinds: skipping those is the
 * format's rule); writes a one-line summary into OUT if so. */
bool tracefile_problems(const struct tracefile *tf, char *out, size_t outsz);

#endif
