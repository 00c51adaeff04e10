/* 06_ws_bench — a WebSocket load generator, for bench/run-ws-bench.
 *
 *     06_ws_bench [--mode echo] [--url ws://HOST:PORT/PATH] [-c N] [-d S] [-s BYTES]
 *                 [--binary] [--pipeline K] [--warmup S] [--threads N]
 *
 * It opens N connections to the URL, does the opening handshake on each (lesson 06's
 * wshandshake for the request and the check, lesson 05's http1 to read the 101), and
 * then runs a mode on all of them for warm-up + D seconds. Only what happens after
 * the warm-up is counted. At the end each connection waits for the answers it still
 * expects, sends a close frame (1000) and waits for the server's close: 5 s in all.
 *
 * Mode echo: each connection keeps K messages of BYTES bytes in flight (text, or
 * binary with --binary) and sends the next one when an echo comes back. Every echo
 * must be, byte for byte, the oldest message still in flight. Two lines go to stdout,
 * one for scripts and one for people:
 *
 *     bench=ws mode=echo connections=50 ... msgs_per_s=41000.0 p50_us=1200.0 ... errors=0
 *     echo: 50 connections x 1 in flight, 64 B text, 5 s: 41000 messages/s ...
 *
 * The modes sit behind a small table (struct mode) so that others fit beside echo:
 * a broadcast fan-out, idle connections for memory.
 *
 * Why not the course's loop: a load tool must not share the code it measures. This is
 * plain epoll, edge-triggered, one thread per --threads, each with its own share of
 * the connections and its own counters, merged at the end. It must cost less than the
 * server: each connection builds its frame once (wsframe_build, masked with a key drawn
 * for the connection) and per message rewrites and re-masks only the 16-byte sequence
 * number at the head of the payload; the replies to one read leave in one send. RFC 6455
 * wants a fresh key per frame, against proxies that could be fooled by chosen bytes;
 * on loopback no proxy sits between, and a server cannot tell.
 *
 * Errors: a refused connect or handshake (with the status), a close frame from the
 * server (with its code), a protocol error, a wrong echo. Each is one line on stderr,
 * ends its connection, and makes the exit status 1; the others go on and the summary
 * still prints. A usage error is status 2.
 */
#include "http1.h"
#include "tool.h"
#include "wsframe.h"
#include "wshandshake.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_MESSAGE (16 * 1024 * 1024) /* the echo servers' limit */
#define SEQ_LEN 16                     /* hex digits of the sequence number in a payload */
#define READ_BUF (256 * 1024)
#define HANDSHAKE_SECONDS 10
#define CLOSE_SECONDS 5 /* for the last answers, then the close handshake */
#define ERRORS_SHOWN 10

/* ---- latency histogram: log-linear, 64 buckets per power of two (1.6% wide) ---- */

#define HIST_SUB 64
#define HIST_BUCKETS (HIST_SUB * 60)

struct hist {
    uint64_t count[HIST_BUCKETS];
    uint64_t total;
};

/* Values below 128 ns have a bucket each; above, the top 7 bits pick it. */
static size_t hist_bucket(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return v;
    unsigned shift = 63 - (unsigned)__builtin_clzll(v) - 6;
    return shift * HIST_SUB + (v >> shift);
}

/* The middle of a bucket, the value it stands for. */
static double hist_value(size_t b)
{
    if (b < 2 * HIST_SUB)
        return (double)b;
    unsigned shift = (unsigned)(b / HIST_SUB) - 1;
    uint64_t top = HIST_SUB + b % HIST_SUB;
    return (double)(top << shift) + (double)(1ull << shift) / 2;
}

static void hist_add(struct hist *h, uint64_t v)
{
    h->count[hist_bucket(v)]++;
    h->total++;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        into->count[i] += h->count[i];
    into->total += h->total;
}

/* The value at quantile q (0.99: p99), or 0 for an empty histogram. */
static double hist_quantile(const struct hist *h, double q)
{
    uint64_t rank = (uint64_t)(q * (double)h->total + 0.999999), seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->count[i];
        if (seen && seen >= rank)
            return hist_value(i);
    }
    return 0;
}

/* ---- the run's settings and the modes ---- */

struct conn;

/* A mode is what the connections do once open. open starts a connection's traffic;
 * message gets each text or binary message, `now` the time it was read (both report
 * trouble with conn_fail); quiet says whether the connection awaits nothing more, so
 * that it may close once the time is up. */
struct mode {
    const char *name;
    void (*open)(struct conn *c, uint64_t now);
    void (*message)(struct conn *c, const struct wsframe_message *m, uint64_t now);
    bool (*quiet)(const struct conn *c);
};

struct config {
    const struct mode *mode;
    const char *url;
    long connections, threads, pipeline;
    double duration, warmup;
    size_t size;
    bool binary;
    struct sockaddr_storage addr; /* the URL's host and port, resolved once */
    socklen_t addrlen;
    char where[300];              /* "HOST:PORT" for messages */
};

static const struct config *cfg;

/* What the threads share: the setup's outcome, and the error lines printed. */
static pthread_barrier_t setup_done;
static atomic_bool setup_failed;
static pthread_mutex_t errors_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_error[512];
static int errors_shown;

/* ---- connections ---- */

enum conn_state { CONN_CONNECTING, CONN_HANDSHAKE, CONN_OPEN, CONN_CLOSING, CONN_DONE };
enum phase { PHASE_SETUP, PHASE_RUN, PHASE_CLOSE };

struct stats {
    uint64_t messages, bytes, errors;
    struct hist rtt; /* nanoseconds */
};

struct worker {
    int epfd;
    struct conn *conns;
    size_t n, opening, live; /* live: not CONN_DONE; opening: not yet CONN_OPEN */
    enum phase phase;
    uint64_t warm_end, end;  /* the counted window, CLOCK_MONOTONIC ns */
    uint8_t *rbuf;
    struct stats st;
    uint64_t cpu_start, cpu_end;
    pthread_t thread;
};

/* Echo mode's state of one connection. */
struct echo {
    uint8_t *payload;   /* the payload unmasked; its head is the last sequence number sent */
    uint8_t *frame;     /* the whole frame as sent: header, then the payload masked */
    size_t frame_len, payload_at;
    uint64_t sent, echoed;
    uint64_t *sent_at;  /* send times, a ring of --pipeline slots */
};

struct conn {
    struct worker *w;
    long id;             /* 1-based, for messages */
    int fd;
    enum conn_state state;
    struct wshs_client hs;
    char *head;          /* the handshake's response head, read so far */
    size_t head_len, head_cap;
    struct wsframe_parser parser;
    uint8_t key[4];      /* this connection's mask key */
    uint8_t *out;        /* bytes the socket did not take yet */
    size_t out_off, out_len, out_cap;
    bool corked;         /* replies wait for the end of the read (conn_send) */
    bool got_close;
    struct echo echo;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void conn_release(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    wshs_client_free(&c->hs);
    wsframe_free(&c->parser);
    free(c->head);
    free(c->out);
    free(c->echo.payload);
    free(c->echo.frame);
    free(c->echo.sent_at);
    c->head = NULL;
    c->out = c->echo.payload = c->echo.frame = NULL;
    c->out_off = c->out_len = c->out_cap = 0;
    c->echo.sent_at = NULL;
}

/* Ends a connection that is done with (an error or not); it no longer counts as live. */
static void conn_end(struct conn *c)
{
    if (c->state == CONN_DONE)
        return;
    if (c->state < CONN_OPEN)
        c->w->opening--;
    c->w->live--;
    c->state = CONN_DONE;
    conn_release(c);
}

/* Prints an error unless it repeats the one before (50 refused connects are one line)
 * or enough were shown. */
static void error_print(long id, const char *msg)
{
    pthread_mutex_lock(&errors_lock);
    if (errors_shown < ERRORS_SHOWN && strcmp(msg, last_error) != 0) {
        fprintf(stderr, "06_ws_bench: connection %ld: %s\n", id, msg);
        snprintf(last_error, sizeof last_error, "%s", msg);
        errors_shown++;
    }
    pthread_mutex_unlock(&errors_lock);
}

/* An error on a connection: say it, count it, end the connection. */
__attribute__((format(printf, 2, 3))) static void conn_fail(struct conn *c, const char *fmt, ...)
{
    if (c->state == CONN_DONE)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_print(c->id, msg);
    c->w->st.errors++;
    if (c->w->phase == PHASE_SETUP)
        atomic_store(&setup_failed, true);
    conn_end(c);
}

/* Writes until done or the socket is full; returns the bytes taken, or -1 after
 * conn_fail. A full socket means an EPOLLOUT edge will come (edge-triggered). */
static ssize_t conn_write(struct conn *c, const uint8_t *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(c->fd, p + done, len - done, MSG_NOSIGNAL);
        if (n > 0)
            done += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        else {
            conn_fail(c, "send to %s: %s", cfg->where, strerror(errno));
            return -1;
        }
    }
    return (ssize_t)done;
}

/* Keeps bytes the socket has not taken, after those already waiting. */
static void conn_queue(struct conn *c, const uint8_t *p, size_t len)
{
    if (c->out_off && c->out_len + len > c->out_cap) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        uint8_t *out = realloc(c->out, cap);
        if (!out) {
            conn_fail(c, "out of memory");
            return;
        }
        c->out = out;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, len);
    c->out_len += len;
}

/* Sends bytes in order after any still waiting: straight from the caller's buffer when
 * nothing waits, copying only what the socket did not take. While corked (the replies
 * to one read), everything waits for conn_flush: one send for them all. */
static void conn_send(struct conn *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (c->out_off == c->out_len && !c->corked) {
        c->out_off = c->out_len = 0;
        ssize_t n = conn_write(c, p, len);
        if (n < 0)
            return;
        p += n;
        len -= (size_t)n;
    }
    if (len)
        conn_queue(c, p, len);
}

static void conn_flush(struct conn *c)
{
    ssize_t n = conn_write(c, c->out + c->out_off, c->out_len - c->out_off);
    if (n > 0)
        c->out_off += (size_t)n;
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
}

/* Sends one frame, masked with the connection's key; control frames are short. */
static void conn_send_control(struct conn *c, uint8_t opcode, const uint8_t *data, size_t len)
{
    uint8_t frame[WSFRAME_MAX_HEADER + WSFRAME_MAX_CONTROL];
    conn_send(c, frame, wsframe_build(frame, sizeof frame, true, opcode, data, len, c->key));
}

/* The time is up and nothing is awaited: the close handshake, code 1000. Only now,
 * because a server may drop what it has not yet written when the close arrives
 * (Tornado closes its stream at once). */
static void conn_close(struct conn *c)
{
    uint8_t frame[WSFRAME_MAX_HEADER + 2];
    c->state = CONN_CLOSING;
    conn_send(c, frame, wsframe_build_close(frame, sizeof frame, 1000, "", 0, c->key));
}

/* ---- echo mode ---- */

/* The payload's head for sequence number seq: its 16 hex digits, or the last BYTES of
 * them for a shorter message. */
static size_t echo_seq(uint64_t seq, char out[SEQ_LEN + 1])
{
    snprintf(out, SEQ_LEN + 1, "%016" PRIx64, seq);
    return cfg->size < SEQ_LEN ? cfg->size : SEQ_LEN;
}

static const char *echo_seq_tail(const char seq[SEQ_LEN + 1], size_t n)
{
    return seq + SEQ_LEN - n;
}

static void echo_send_next(struct conn *c, uint64_t now)
{
    struct echo *e = &c->echo;
    char seq[SEQ_LEN + 1];
    size_t n = echo_seq(e->sent, seq);
    memcpy(e->payload, echo_seq_tail(seq, n), n);
    memcpy(e->frame + e->payload_at, e->payload, n);
    wsframe_mask(e->frame + e->payload_at, n, c->key, 0);
    e->sent_at[e->sent % (uint64_t)cfg->pipeline] = now;
    e->sent++;
    conn_send(c, e->frame, e->frame_len);
}

/* Letters for text; for binary, bytes of every value, so a server that mangles
 * non-UTF-8 or NUL bytes fails the check. */
static void echo_fill(struct conn *c)
{
    for (size_t i = 0; i < cfg->size; i++)
        c->echo.payload[i] = cfg->binary ? (uint8_t)(i * 151 + (size_t)c->id)
                                         : (uint8_t)('a' + (i + (size_t)c->id) % 26);
}

static void echo_open(struct conn *c, uint64_t now)
{
    struct echo *e = &c->echo;
    size_t cap = WSFRAME_MAX_HEADER + cfg->size;
    e->payload = malloc(cfg->size ? cfg->size : 1);
    e->frame = malloc(cap);
    e->sent_at = calloc((size_t)cfg->pipeline, sizeof *e->sent_at);
    if (!e->payload || !e->frame || !e->sent_at) {
        conn_fail(c, "out of memory");
        return;
    }
    echo_fill(c);
    uint8_t opcode = cfg->binary ? WSFRAME_BINARY : WSFRAME_TEXT;
    e->frame_len = wsframe_build(e->frame, cap, true, opcode, e->payload, cfg->size, c->key);
    e->payload_at = e->frame_len - cfg->size;
    for (long i = 0; i < cfg->pipeline && c->state == CONN_OPEN; i++)
        echo_send_next(c, now);
}

/* Where an echo differs from the message it answers, or -1 when it does not. */
static long echo_diff(const struct conn *c, const struct wsframe_message *m)
{
    char seq[SEQ_LEN + 1];
    size_t n = echo_seq(c->echo.echoed, seq);
    const uint8_t *want = (const uint8_t *)echo_seq_tail(seq, n);
    for (size_t i = 0; i < n; i++)
        if (m->data[i] != want[i])
            return (long)i;
    if (memcmp(m->data + n, c->echo.payload + n, cfg->size - n) == 0)
        return -1;
    for (size_t i = n;; i++)
        if (m->data[i] != c->echo.payload[i])
            return (long)i;
}

static void echo_message(struct conn *c, const struct wsframe_message *m, uint64_t now)
{
    struct echo *e = &c->echo;
    uint8_t opcode = cfg->binary ? WSFRAME_BINARY : WSFRAME_TEXT;
    if (e->echoed == e->sent) {
        conn_fail(c, "a message of %zu bytes that echoes nothing sent", m->len);
        return;
    }
    if (m->opcode != opcode) {
        conn_fail(c, "echo %" PRIu64 " is %s, sent as %s", e->echoed,
                  m->opcode == WSFRAME_TEXT ? "text" : "binary",
                  opcode == WSFRAME_TEXT ? "text" : "binary");
        return;
    }
    if (m->len != cfg->size) {
        conn_fail(c, "echo %" PRIu64 " has %zu bytes, not %zu", e->echoed, m->len,
                  cfg->size);
        return;
    }
    long at = cfg->size ? echo_diff(c, m) : -1;
    if (at >= 0) {
        conn_fail(c, "echo %" PRIu64 " differs from the message sent at byte %ld",
                  e->echoed, at);
        return;
    }
    struct worker *w = c->w;
    if (now >= w->warm_end && now < w->end) {
        w->st.messages++;
        w->st.bytes += m->len;
        hist_add(&w->st.rtt, now - e->sent_at[e->echoed % (uint64_t)cfg->pipeline]);
    }
    e->echoed++;
    if (w->phase == PHASE_RUN)
        echo_send_next(c, now);
}

static bool echo_quiet(const struct conn *c)
{
    return c->echo.echoed == c->echo.sent;
}

static const struct mode modes[] = {
    {"echo", echo_open, echo_message, echo_quiet},
};

/* ---- frames in ---- */

static void conn_control(struct conn *c, const struct wsframe_message *m)
{
    if (m->opcode == WSFRAME_PING) {
        conn_send_control(c, WSFRAME_PONG, m->data, m->len);
        return;
    }
    if (m->opcode != WSFRAME_CLOSE)
        return;
    if (c->state == CONN_CLOSING) {
        c->got_close = true; /* now the server closes the TCP connection (RFC 6455 §7.1.1) */
        return;
    }
    conn_fail(c, "the server closed the WebSocket: code %d%s%.*s", m->close_code,
              m->reason_len ? ", " : "", (int)m->reason_len, m->reason ? m->reason : "");
}

/* Feeds bytes read to the frame parser and hands on what it finds. */
static void conn_feed(struct conn *c, uint8_t *buf, size_t len, uint64_t now)
{
    size_t off = 0;
    while (c->state == CONN_OPEN || c->state == CONN_CLOSING) {
        if (c->got_close && off < len) {
            conn_fail(c, "bytes after the server's close frame");
            return;
        }
        struct wsframe_message m;
        size_t used;
        int rc = wsframe_next(&c->parser, buf + off, len - off, &used, &m);
        off += used;
        if (rc == WSFRAME_MORE)
            return;
        if (rc < 0) {
            conn_fail(c, "protocol error from the server: %s", wsframe_strerror(rc));
            return;
        }
        if (rc == WSFRAME_CONTROL)
            conn_control(c, &m);
        else
            cfg->mode->message(c, &m, now);
        if (c->w->phase == PHASE_CLOSE && c->state == CONN_OPEN && cfg->mode->quiet(c))
            conn_close(c);
    }
}

/* ---- the handshake ---- */

static void conn_handshake_send(struct conn *c)
{
    char *req;
    size_t len;
    int rc = wshs_client_request(&c->hs, cfg->url, NULL, NULL, &req, &len);
    if (rc != WSHS_OK) {
        conn_fail(c, "handshake: %s", wshs_strerror(rc));
        return;
    }
    c->state = CONN_HANDSHAKE;
    conn_send(c, req, len);
    free(req);
}

/* The response head is complete: the 101 must answer our key, or we say what came. */
static void conn_handshake_check(struct conn *c, const struct http1_response *resp)
{
    if (resp->status != 101) {
        conn_fail(c, "handshake refused: HTTP %d %.*s", resp->status,
                  (int)resp->reason.len, resp->reason.p);
        return;
    }
    int rc = wshs_client_check(&c->hs, resp);
    if (rc != WSHS_OK) {
        conn_fail(c, "handshake: %s", wshs_strerror(rc));
        return;
    }
    c->state = CONN_OPEN;
    c->w->opening--;
}

/* Reads the response head; bytes after it are the first frames. */
static void conn_handshake_read(struct conn *c, uint64_t now)
{
    for (;;) {
        if (c->head_len == c->head_cap) {
            size_t cap = c->head_cap ? c->head_cap * 2 : 1024;
            char *head = cap <= HTTP1_DEFAULT_MAX_HEAD * 2 ? realloc(c->head, cap) : NULL;
            if (!head) {
                conn_fail(c, "handshake: the response head is too large");
                return;
            }
            c->head = head;
            c->head_cap = cap;
        }
        ssize_t n = read(c->fd, c->head + c->head_len, c->head_cap - c->head_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            conn_fail(c, "handshake: %s",
                      n ? strerror(errno) : "the server closed the connection");
            return;
        }
        c->head_len += (size_t)n;
        struct http1_response resp;
        int used = http1_parse_response(c->head, c->head_len, &resp, NULL);
        if (used < 0) {
            conn_fail(c, "handshake: bad response: %s", http1_strerror(used));
            return;
        }
        if (used == HTTP1_INCOMPLETE)
            continue;
        conn_handshake_check(c, &resp);
        if (c->state == CONN_OPEN && c->head_len > (size_t)used)
            conn_feed(c, (uint8_t *)c->head + used, c->head_len - (size_t)used, now);
        free(c->head);
        c->head = NULL;
        return;
    }
}

/* ---- connections and events ---- */

static void conn_connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        conn_fail(c, "connect to %s: %s", cfg->where, strerror(err));
        return;
    }
    conn_handshake_send(c);
}

static void conn_start(struct worker *w, struct conn *c, long id)
{
    *c = (struct conn){.w = w, .id = id, .fd = -1, .state = CONN_CONNECTING};
    wsframe_init(&c->parser, WSFRAME_CLIENT, MAX_MESSAGE);
    w->opening++;
    w->live++;
    if (getrandom(c->key, sizeof c->key, 0) != sizeof c->key) {
        conn_fail(c, "getrandom: %s", strerror(errno));
        return;
    }
    c->fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        conn_fail(c, "socket: %s", strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        conn_fail(c, "epoll_ctl: %s", strerror(errno));
        return;
    }
    if (connect(c->fd, (struct sockaddr *)&cfg->addr, cfg->addrlen) < 0 && errno != EINPROGRESS) {
        conn_fail(c, "connect to %s: %s", cfg->where, strerror(errno));
        return;
    }
}

/* Reads everything there is (edge-triggered): a short read means the socket is empty,
 * and more bytes later bring another edge. The end of the stream brings none of its own
 * when it came with the last bytes: after EPOLLRDHUP, read on to the 0. */
static void conn_read(struct conn *c, bool hup, uint64_t now)
{
    uint8_t *buf = c->w->rbuf;
    while (c->state == CONN_OPEN || c->state == CONN_CLOSING) {
        ssize_t n = read(c->fd, buf, READ_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            conn_fail(c, "read from %s: %s", cfg->where, strerror(errno));
            return;
        }
        if (n == 0 && c->got_close) {
            conn_end(c);
            return;
        }
        if (n == 0) {
            conn_fail(c, "the server closed the connection without a close frame");
            return;
        }
        c->corked = true;
        conn_feed(c, buf, (size_t)n, now);
        c->corked = false;
        if (c->state != CONN_DONE && c->out_off < c->out_len)
            conn_flush(c);
        if (n < READ_BUF && !hup)
            return;
    }
}

static void conn_event(struct conn *c, uint32_t events, uint64_t now)
{
    if (c->state == CONN_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        conn_connected(c);
    }
    if (c->state != CONN_DONE && (events & (EPOLLOUT | EPOLLERR)) && c->out_off < c->out_len)
        conn_flush(c);
    if (c->state == CONN_HANDSHAKE)
        conn_handshake_read(c, now);
    else if (c->state != CONN_DONE)
        conn_read(c, events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR), now);
}

/* Waits for events until `until` at the latest, and handles them. */
static void worker_poll(struct worker *w, uint64_t until)
{
    struct epoll_event evs[256];
    uint64_t now = now_ns();
    int timeout = now >= until ? 0 : (int)((until - now + 999999) / 1000000);
    int n = epoll_wait(w->epfd, evs, 256, timeout);
    now = now_ns();
    for (int i = 0; i < n; i++)
        conn_event(evs[i].data.ptr, evs[i].events, now);
}

/* ---- one worker's run ---- */

static void worker_setup(struct worker *w)
{
    uint64_t deadline = now_ns() + HANDSHAKE_SECONDS * 1000000000ull;
    while (w->opening && now_ns() < deadline)
        worker_poll(w, deadline);
    for (size_t i = 0; i < w->n; i++)
        if (w->conns[i].state < CONN_OPEN)
            conn_fail(&w->conns[i], "no handshake within %d s", HANDSHAKE_SECONDS);
}

static void worker_load(struct worker *w)
{
    uint64_t start = now_ns();
    w->warm_end = start + (uint64_t)(cfg->warmup * 1e9);
    w->end = w->warm_end + (uint64_t)(cfg->duration * 1e9);
    w->phase = PHASE_RUN;
    for (size_t i = 0; i < w->n; i++)
        if (w->conns[i].state == CONN_OPEN)
            cfg->mode->open(&w->conns[i], start);
    bool counting = false;
    uint64_t now;
    while ((now = now_ns()) < w->end && w->live) {
        if (!counting && now >= w->warm_end) {
            counting = true;
            w->cpu_start = cpu_ns();
        }
        worker_poll(w, counting ? w->end : w->warm_end);
    }
    if (!counting)
        w->cpu_start = cpu_ns();
    w->cpu_end = cpu_ns();
}

/* Closes each open connection once it awaits nothing more, and waits for the server's
 * closes. */
static void worker_close(struct worker *w)
{
    w->phase = PHASE_CLOSE;
    for (size_t i = 0; i < w->n; i++)
        if (w->conns[i].state == CONN_OPEN && cfg->mode->quiet(&w->conns[i]))
            conn_close(&w->conns[i]);
    uint64_t deadline = now_ns() + CLOSE_SECONDS * 1000000000ull;
    while (w->live && now_ns() < deadline)
        worker_poll(w, deadline);
    for (size_t i = 0; i < w->n; i++) {
        struct conn *c = &w->conns[i];
        if (c->state == CONN_OPEN)
            conn_fail(c, "answers still missing %d s after the end", CLOSE_SECONDS);
        else if (c->state == CONN_CLOSING && !c->got_close)
            conn_fail(c, "no close frame from the server within %d s", CLOSE_SECONDS);
        conn_end(c);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    worker_setup(w);
    pthread_barrier_wait(&setup_done);
    if (!atomic_load(&setup_failed))
        worker_load(w);
    worker_close(w);
    return NULL;
}

/* ---- options, the summary, main ---- */

static void usage(void)
{
    printf("%s: a WebSocket load generator (bench/run-ws-bench runs it).\n\n"
           "Usage: %s [--mode echo] [--url URL] [-c N] [-d S] [-s BYTES] [--binary]\n"
           "           [--pipeline K] [--warmup S] [--threads N] [--help]\n\n"
           "  --mode echo       each connection sends messages and checks their echoes\n"
           "                    (the only mode so far)\n"
           "  --url URL         the server, ws://HOST:PORT/PATH (default ws://127.0.0.1:8888/)\n"
           "  -c N              connections (default 50)\n"
           "  -d S              seconds counted, after the warm-up (default 5)\n"
           "  -s BYTES          message size (default 64; at most 16 MiB)\n"
           "  --binary          binary messages (default text)\n"
           "  --pipeline K      messages in flight per connection (default 1)\n"
           "  --warmup S        seconds before counting starts (default 1)\n"
           "  --threads N       threads sharing the connections (default 1)\n"
           "  --help            show this help\n\n"
           "Prints a bench=ws line of key=value pairs and a line for people; the exit\n"
           "status is 1 after any error, 2 after a usage error.\n",
           program_invocation_short_name, program_invocation_short_name);
}

static const struct mode *mode_find(const char *name)
{
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(modes[i].name, name) == 0)
            return &modes[i];
    tool_usage_error("--mode must be echo, not '%s'", name);
}

static void parse_args(int argc, char **argv, struct config *c)
{
    static const struct option options[] = {
        {"mode", required_argument, NULL, 'm'},   {"url", required_argument, NULL, 'u'},
        {"binary", no_argument, NULL, 'b'},       {"pipeline", required_argument, NULL, 'p'},
        {"warmup", required_argument, NULL, 'w'}, {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    *c = (struct config){.mode = &modes[0], .url = "ws://127.0.0.1:8888/", .connections = 50,
                         .threads = 1, .pipeline = 1, .duration = 5, .warmup = 1, .size = 64};
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:d:s:h", options, NULL)) != -1) {
        switch (opt) {
        case 'm': c->mode = mode_find(optarg); break;
        case 'u': c->url = optarg; break;
        case 'c': c->connections = tool_integer("-c", optarg, 1, 1000000); break;
        case 'd': c->duration = tool_number("-d", optarg, 0.001, 86400); break;
        case 's': c->size = (size_t)tool_integer("-s", optarg, 0, MAX_MESSAGE); break;
        case 'b': c->binary = true; break;
        case 'p': c->pipeline = tool_integer("--pipeline", optarg, 1, 65536); break;
        case 'w': c->warmup = tool_number("--warmup", optarg, 0, 86400); break;
        case 't': c->threads = tool_integer("--threads", optarg, 1, 256); break;
        case 'h': usage(); exit(0);
        case ':': tool_usage_error("%s needs a value", argv[optind - 1]);
        default: tool_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        tool_usage_error("unexpected argument '%s'", argv[optind]);
    if (c->threads > c->connections)
        c->threads = c->connections;
}

/* Checks the URL once and resolves its host, so that a typo is one message, not N. */
static void resolve(struct config *c)
{
    struct wshs_client hs;
    char *req;
    size_t len;
    int rc = wshs_client_request(&hs, c->url, NULL, NULL, &req, &len);
    if (rc == WSHS_EURL)
        tool_usage_error("--url must be ws://HOST[:PORT]/PATH, not '%s'", c->url);
    if (rc != WSHS_OK) {
        fprintf(stderr, "06_ws_bench: %s\n", wshs_strerror(rc));
        exit(1);
    }
    free(req);
    if (hs.tls)
        tool_usage_error("wss:// is not supported, only ws://");
    char port[8];
    snprintf(port, sizeof port, "%u", hs.url.port);
    snprintf(c->where, sizeof c->where, hs.url.host_kind == URL_HOST_IPV6 ? "[%s]:%s" : "%s:%s",
             hs.url.host, port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
    int err = getaddrinfo(hs.url.host, port, &hints, &ai);
    if (err) {
        fprintf(stderr, "06_ws_bench: %s: %s\n", hs.url.host, gai_strerror(err));
        exit(1);
    }
    memcpy(&c->addr, ai->ai_addr, ai->ai_addrlen);
    c->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    wshs_client_free(&hs);
}

/* Room for every connection's descriptor: the soft limit up to the hard one. */
static void raise_fd_limit(long connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)connections + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void report(const struct stats *st, double cpu)
{
    double secs = cfg->duration;
    double p50 = hist_quantile(&st->rtt, 0.50) / 1000, p99 = hist_quantile(&st->rtt, 0.99) / 1000;
    printf("bench=ws mode=%s connections=%ld threads=%ld pipeline=%ld size=%zu binary=%d "
           "seconds=%.3f messages=%" PRIu64 " msgs_per_s=%.1f bytes_per_s=%.1f p50_us=%.1f "
           "p99_us=%.1f errors=%" PRIu64 " cpu=%.2f\n",
           cfg->mode->name, cfg->connections, cfg->threads, cfg->pipeline, cfg->size,
           cfg->binary, secs, st->messages, (double)st->messages / secs,
           (double)st->bytes / secs, p50, p99, st->errors, cpu);
    printf("%s: %ld connections x %ld in flight, %zu B %s, %.3g s: %.0f messages/s, "
           "%.2f MB/s echoed, round trip p50 %.0f us p99 %.0f us, %" PRIu64
           " errors (load tool %.0f%% of a CPU)\n",
           cfg->mode->name, cfg->connections, cfg->pipeline, cfg->size,
           cfg->binary ? "binary" : "text", secs, (double)st->messages / secs,
           (double)st->bytes / secs / 1e6, p50, p99, st->errors, cpu * 100);
}

int main(int argc, char **argv)
{
    static struct config config;
    parse_args(argc, argv, &config);
    resolve(&config);
    cfg = &config;
    raise_fd_limit(config.connections);

    size_t nt = (size_t)config.threads;
    struct worker *ws = calloc(nt, sizeof *ws);
    struct conn *conns = calloc((size_t)config.connections, sizeof *conns);
    if (!ws || !conns) {
        fprintf(stderr, "06_ws_bench: out of memory\n");
        return 1;
    }
    pthread_barrier_init(&setup_done, NULL, (unsigned)nt);
    size_t at = 0;
    for (size_t t = 0; t < nt; t++) {
        struct worker *w = &ws[t];
        w->n = (size_t)config.connections / nt + (t < (size_t)config.connections % nt);
        w->conns = conns + at;
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        w->rbuf = malloc(READ_BUF);
        if (w->epfd < 0 || !w->rbuf) {
            fprintf(stderr, "06_ws_bench: cannot start: %s\n", strerror(errno));
            return 1;
        }
        for (size_t i = 0; i < w->n; i++, at++)
            conn_start(w, &w->conns[i], (long)at + 1);
    }
    for (size_t t = 0; t < nt; t++)
        if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t]) != 0) {
            fprintf(stderr, "06_ws_bench: cannot start a thread\n");
            return 1;
        }
    static struct stats total;
    for (size_t t = 0; t < nt; t++) {
        pthread_join(ws[t].thread, NULL);
        total.messages += ws[t].st.messages;
        total.bytes += ws[t].st.bytes;
        total.errors += ws[t].st.errors;
        hist_merge(&total.rtt, &ws[t].st.rtt);
        close(ws[t].epfd);
        free(ws[t].rbuf);
    }
    if (!atomic_load(&setup_failed))
        report(&total, (double)(ws[0].cpu_end - ws[0].cpu_start) / 1e9 / config.duration);
    if (total.errors > (uint64_t)errors_shown)
        fprintf(stderr, "06_ws_bench: %" PRIu64 " errors in all, %d shown\n", total.errors,
                errors_shown);
    pthread_barrier_destroy(&setup_done);
    free(conns);
    free(ws);
    return total.errors ? 1 : 0;
}
