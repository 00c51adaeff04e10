/* trace — see trace.h. */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool trace_enabled;

static int trace_fd = -1;
static int trace_errno; /* the first write error, reported by trace_close */
static struct timespec trace_t0;
static pthread_mutex_t trace_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const kind_names[TRACE_KIND_COUNT] = {
    [TRACE_LANE_START] = "lane_start",   [TRACE_LANE_END] = "lane_end",
    [TRACE_PRINT] = "print",             [TRACE_SLEEP_BEGIN] = "sleep_begin",
    [TRACE_SLEEP_END] = "sleep_end",     [TRACE_SPAWN] = "spawn",
    [TRACE_JOIN_BEGIN] = "join_begin",   [TRACE_JOIN_END] = "join_end",
    [TRACE_CALLBACK] = "callback",       [TRACE_RESUME] = "resume",
    [TRACE_YIELD] = "yield",             [TRACE_ERROR] = "error",
    [TRACE_LOOP_ITERATION] = "loop_iteration", [TRACE_POLL_BEGIN] = "poll_begin",
    [TRACE_POLL_END] = "poll_end",       [TRACE_LOOP_PHASE] = "loop_phase",
    [TRACE_IO] = "io",                   [TRACE_TIMER] = "timer",
    [TRACE_WAIT] = "wait",               [TRACE_WAKE] = "wake",
};

/* Thread-locals are read only through these out-of-line functions: a generator can stop on
 * one thread and continue on another, and an inlined access could reuse the first
 * thread's address after the switch. The empty asm keeps the compiler from caching. */
static __thread const char *tls_thread = "unnamed";
static __thread const char *tls_lane = "unnamed";

__attribute__((noinline)) const char *trace_lane(void)
{
    __asm__ volatile("");
    return tls_lane;
}

__attribute__((noinline)) void trace_set_lane(const char *lane)
{
    __asm__ volatile("");
    tls_lane = lane;
}

__attribute__((noinline)) static const char *thread_name(void)
{
    __asm__ volatile("");
    return tls_thread;
}

__attribute__((noinline)) void trace_set_thread(const char *name)
{
    __asm__ volatile("");
    tls_thread = name;
    tls_lane = name;
}

const char *trace_kind_name(enum trace_kind kind)
{
    return (unsigned)kind < TRACE_KIND_COUNT ? kind_names[kind] : "unknown";
}

int trace_open(const char *path, const char *header)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    char line[512];
    int n = snprintf(line, sizeof line, "#asynctrace 1 %s\n", header);
    if (n < 0 || (size_t)n >= sizeof line || write(fd, line, (size_t)n) != n) {
        int err = n >= 0 && (size_t)n >= sizeof line ? ENAMETOOLONG : errno;
        close(fd);
        errno = err;
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &trace_t0);
    trace_fd = fd;
    trace_enabled = true;
    return 0;
}

int trace_close(void)
{
    if (!trace_enabled)
        return 0;
    trace_enabled = false;
    int err = trace_errno;
    if (close(trace_fd) < 0 && !err)
        err = errno;
    trace_fd = -1;
    trace_errno = 0;
    errno = err;
    return err ? -1 : 0;
}

/* A line under construction; put() never writes past end, so an overlong event is cut
 * short rather than overflowing (texts are printed lines: a few dozen bytes). */
struct line {
    char buf[4096];
    char *p;
};

/* Appends s, escaping what would break the one-line, tab-separated format. */
static void put(struct line *l, const char *s)
{
    char *end = l->buf + sizeof l->buf - 1; /* room for the newline */
    for (; *s; s++) {
        char c = *s, esc = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\\' ? '\\' : 0;
        if (l->p + (esc ? 2 : 1) > end)
            break;
        if (esc)
            *l->p++ = '\\';
        *l->p++ = esc ? esc : c;
    }
}

static void put_field(struct line *l, const char *s)
{
    if (l->p < l->buf + sizeof l->buf - 1)
        *l->p++ = '\t';
    put(l, s);
}

static long long micros_since_open(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - trace_t0.tv_sec) * 1000000LL + (now.tv_nsec - trace_t0.tv_nsec) / 1000;
}

void trace_emit(enum trace_kind kind, const char *peer, const char *fmt, ...)
{
    char text[2048], micros[24];
    struct line l;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);

    pthread_mutex_lock(&trace_mu);
    if (trace_fd >= 0) {
        l.p = l.buf;
        snprintf(micros, sizeof micros, "%lld", micros_since_open());
        put(&l, micros);
        put_field(&l, thread_name());
        put_field(&l, trace_lane());
        put_field(&l, trace_kind_name(kind));
        put_field(&l, peer ? peer : "-");
        put_field(&l, text);
        *l.p++ = '\n';
        /* One write per line on an O_APPEND file: lines never interleave. */
        ssize_t n = write(trace_fd, l.buf, (size_t)(l.p - l.buf));
        if (n != l.p - l.buf && !trace_errno)
            trace_errno = n < 0 ? errno : ENOSPC;
    }
    pthread_mutex_unlock(&trace_mu);
}
