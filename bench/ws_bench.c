/* 06_ws_bench — a WebSocket load generator, for bench/run-ws-bench and bench/run-chat-bench.
 *
 *     06_ws_bench [--mode echo|fanout|idle] [--url ws://HOST:PORT/PATH] [-c N] [-d S]
 *                 [-s BYTES] [--binary] [--pipeline K] [--senders S] [--rate R]
 *                 [--slow N] [-n N] [--warmup S] [--close-timeout S] [--reset]
 *                 [--threads N]
 *
 * It opens N connections to the URL (at most 64 handshakes under way per thread, so
 * that 10,000 do not overflow the server's listen queue), does the opening handshake on
 * each (lesson 06's wshandshake for the request and the check, lesson 05's http1 to read
 * the 101), prints "ready: N connections open", and then runs a mode on all of them for
 * warm-up + D seconds. Only what happens after the warm-up is counted. At the end each
 * connection waits for what it still expects, sends a close frame (1000) and waits for
 * the server's close (or resets it, --reset). The setup gives up after 10 s in which
 * no handshake was done, the end after --close-timeout (5 s) in which no connection
 * closed. SIGINT or SIGTERM ends the run early, and the end follows as usual.
 *
 * Mode echo: each connection keeps K messages of BYTES bytes in flight (text, or
 * binary with --binary) and sends the next one when an echo comes back. Every echo
 * must be, byte for byte, the oldest message still in flight. Two lines go to stdout,
 * one for scripts and one for people:
 *
 *     bench=ws mode=echo connections=50 ... msgs_per_s=41000.0 p50_us=1200.0 ... errors=0
 *     echo: 50 connections x 1 in flight, 64 B text, 5 s: 41000 messages/s ...
 *
 * Mode fanout, for lesson 06's chat room (a URL such as ws://127.0.0.1:8000/chat, no
 * subprotocol: the documents' plain lines): connections 1..S are senders. Each sends
 * text "ID:SEQ:xxx…" (BYTES long, at least the numbers) and the server says it to
 * everybody, "[IP]-[TIME]-says: ID:SEQ:xxx…" (or "-说:"). A sender keeps K messages in
 * flight, sending the next when its own line comes back (closed loop), or sends R a
 * second (--rate, open loop); with -n, N messages each, and the run ends when they are
 * back (a given amount of data rather than of time; -d bounds it). Every connection
 * checks that it gets each sender's lines whole and in order, none missing, and times
 * each from its sending (p50/p99); enter and leave lines are counted and otherwise
 * ignored. msgs_per_s counts the readers' deliveries (one line received by one
 * connection), broadcasts_per_s the lines said. The last N connections (--slow N)
 * never read after the handshake, with small socket buffers (slow_buffers): the
 * server must drop them (the chat's cap) while the others go on. At the end they read
 * what waits and report how they ended: a close frame (slow_codes=1008:100), the TCP
 * connection closed without one (slow_tcp_closes), or not dropped at all
 * (slow_not_dropped). The sending is per message: a sender is one of thousands of
 * receivers, and its few sends cost nothing beside their reads.
 *
 * Mode idle: the connections only read (lines are counted) for warm-up + D seconds,
 * so that a driver can read the server's memory with N connections open.
 *
 * The modes sit behind a small table (struct mode).
 *
 * Why not the course's loop: a load tool must not share the code it measures. This is
 * plain epoll, edge-triggered, one thread per --threads, each with its own share of
 * the connections and its own counters, merged at the end. It must cost less than the
 * server: in echo mode each connection builds its frame once (wsframe_build, masked with
 * a key drawn for the connection) and per message rewrites and re-masks only the 16-byte
 * sequence number at the head of the payload; the replies to one read leave in one send. RFC 6455
 * wants a fresh key per frame, against proxies that could be fooled by chosen bytes;
 * on loopback no proxy sits between, and a server cannot tell.
 *
 * It raises its descriptor limit (RLIMIT_NOFILE) to the hard limit, and refuses to start
 * when N connections need more than that.
 *
 * Errors: a refused connect or handshake (with the status), a close frame from the
 * server (with its code; expected only on --slow connections), a protocol error, a
 * wrong echo or a broadcast missing or out of order. Each is one line on stderr, ends
 * its connection, and makes the exit status 1; the others go on and the summary still
 * prints. A usage error is status 2.
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
#include <signal.h>
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
#define SETUP_SECONDS 10   /* without a handshake done, the setup gives up */
#define CLOSE_SECONDS 5    /* default --close-timeout: the end's wait, likewise */
#define OPENING_MAX 64     /* handshakes under way at once, per thread: below the
                              * usual listen backlog (128), which a busy server may
                              * be slow to empty */
#define ERRORS_SHOWN 10
#define SENT_RING 65536    /* fanout: send times kept per sender */
#define CLOSE_CODES 5000   /* close codes counted one by one (RFC 6455 §7.4) */

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

struct worker;
struct stats;

/* A mode is what the connections do once open. open starts a connection's traffic;
 * message gets each text or binary message, `now` the time it was read (both report
 * trouble with conn_fail), also during the setup (a chat greets each newcomer);
 * quiet says whether the connection awaits nothing more, so that it may close once
 * the time is up. tick, if any, sends what is due on a worker's connections and says
 * when it wants to run next (UINT64_MAX: no more). report prints the summary. */
struct mode {
    const char *name;
    void (*open)(struct conn *c, uint64_t now);
    void (*message)(struct conn *c, const struct wsframe_message *m, uint64_t now);
    bool (*quiet)(const struct conn *c);
    uint64_t (*tick)(struct worker *w, uint64_t now);
    void (*report)(const struct stats *st, double cpu); /* the summary on stdout */
};

struct config {
    const struct mode *mode;
    const char *url;
    long connections, threads, pipeline, senders, slow, messages;
    double duration, warmup, rate, close_timeout;
    size_t size;
    bool binary, reset;
    struct sockaddr_storage addr; /* the URL's host and port, resolved once */
    socklen_t addrlen;
    char where[300];              /* "HOST:PORT" for messages */
};

static const struct config *cfg;
static volatile sig_atomic_t stop_early; /* SIGINT or SIGTERM: the run ends now */
static atomic_long senders_done;         /* fanout -n: senders whose N lines are back */
static double counted_seconds;           /* the counted window, as it was (worker 0's) */

/* What the threads share: the setup's outcome, and the error lines printed. */
static pthread_barrier_t setup_done, load_done;
static atomic_bool setup_failed;
static pthread_mutex_t errors_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_error[512];
static int errors_shown;

/* ---- connections ---- */

enum conn_state { CONN_CONNECTING, CONN_HANDSHAKE, CONN_OPEN, CONN_CLOSING, CONN_DONE };
enum phase { PHASE_SETUP, PHASE_RUN, PHASE_CLOSE };

struct stats {
    uint64_t messages, bytes, errors;
    struct hist rtt;     /* nanoseconds */
    uint64_t said;       /* fanout: lines sent by the senders in the counted window */
    uint64_t others;     /* fanout and idle: enter and leave lines, all lines for idle */
    uint64_t slow_codes[CLOSE_CODES]; /* --slow connections closed by a close frame */
    uint64_t slow_tcp, slow_kept;     /* ... by TCP alone; not dropped */
};

struct worker {
    int epfd;
    struct conn *conns;
    long first_id;
    size_t n, opening, live; /* live: not CONN_DONE; opening: not yet CONN_OPEN */
    enum phase phase;
    uint64_t warm_end, end;  /* the counted window, CLOCK_MONOTONIC ns */
    uint64_t stopped;        /* when the load ended: end, or sooner */
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

/* Fanout mode's state of one connection. */
struct fanout {
    uint64_t *next;     /* per sender: the sequence number expected next */
    uint8_t *frame;     /* a sender's message, framed and masked */
    uint64_t back;      /* a sender: its own lines that came back */
    uint64_t due;       /* a sender at --rate: when its next message is due */
};

/* A sender's count and send times, read by every thread's connections. */
struct sender {
    _Atomic uint64_t sent;
    _Atomic uint64_t *sent_at; /* a ring of SENT_RING slots */
};

static struct sender *senders;

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
    bool slow;           /* --slow: reads nothing until the end */
    struct echo echo;
    struct fanout fan;
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
    free(c->fan.next);
    free(c->fan.frame);
    c->head = NULL;
    c->out = c->echo.payload = c->echo.frame = c->fan.frame = NULL;
    c->out_off = c->out_len = c->out_cap = 0;
    c->echo.sent_at = c->fan.next = NULL;
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
 * (Tornado closes its stream at once). With --reset, a TCP reset instead. */
static void conn_close(struct conn *c)
{
    c->w->st.slow_kept += c->slow; /* the server let it live to the end */
    if (cfg->reset) {
        struct linger now = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
        conn_end(c);
        return;
    }
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

/* ---- fanout mode ---- */

/* The chat's line for a message said, and its other lines (zh as en). */
static const char *const SAY_MARKS[] = {"]-says: ", "]-说:"};
static const char *const OTHER_MARKS[] = {"]-entered the room", "]-left the room",
                                          "]-进入聊天室", "]-离开聊天室"};

static char padding[4096]; /* 'x's, to compare a message's tail with */

static bool is_sender(const struct conn *c)
{
    return c->id <= cfg->senders;
}

/* Whether p[0, n) is all padding. */
static bool is_padding(const char *p, size_t n)
{
    for (size_t at = 0; at < n; at += sizeof padding) {
        size_t k = n - at < sizeof padding ? n - at : sizeof padding;
        if (memcmp(p + at, padding, k) != 0)
            return false;
    }
    return true;
}

/* The bytes of a sender's message: BYTES, or more when "ID:SEQ:" alone needs more. */
static size_t fanout_length(size_t head)
{
    return cfg->size > head ? cfg->size : head;
}

/* Whether a sender has more to say (-n). */
static bool fanout_more(const struct conn *c)
{
    return !cfg->messages ||
           atomic_load_explicit(&senders[c->id - 1].sent, memory_order_relaxed) <
               (uint64_t)cfg->messages;
}

/* Sends a sender's next message, "ID:SEQ:" and padding. Its count goes up before the
 * send, so a line that comes back is always one the count includes. */
static void fanout_send(struct conn *c, uint64_t now)
{
    struct sender *s = &senders[c->id - 1];
    uint64_t seq = atomic_load_explicit(&s->sent, memory_order_relaxed);
    char head[48];
    size_t n = (size_t)snprintf(head, sizeof head, "%ld:%" PRIu64 ":", c->id, seq);
    size_t len = fanout_length(n);
    uint8_t *f = c->fan.frame;
    size_t at = wsframe_build_header(f, true, WSFRAME_TEXT, len, c->key);
    memcpy(f + at, head, n);
    memset(f + at + n, 'x', len - n);
    wsframe_mask(f + at, len, c->key, 0);
    atomic_store_explicit(&s->sent_at[seq % SENT_RING], now, memory_order_relaxed);
    atomic_store_explicit(&s->sent, seq + 1, memory_order_release);
    if (now >= c->w->warm_end && now < c->w->end)
        c->w->st.said++;
    conn_send(c, f, at + len);
}

static void fanout_open(struct conn *c, uint64_t now)
{
    c->fan.next = calloc((size_t)cfg->senders, sizeof *c->fan.next);
    if (!c->fan.next) {
        conn_fail(c, "out of memory");
        return;
    }
    if (!is_sender(c))
        return;
    c->fan.frame = malloc(WSFRAME_MAX_HEADER + fanout_length(48));
    if (!c->fan.frame) {
        conn_fail(c, "out of memory");
        return;
    }
    c->fan.due = now;
    for (long i = 0; cfg->rate == 0 && i < cfg->pipeline && c->state == CONN_OPEN && fanout_more(c);
         i++)
        fanout_send(c, now);
}

/* "ID:SEQ:" at the head of p[0, n): the two numbers and the bytes they take, or 0. */
static size_t fanout_numbers(const char *p, size_t n, uint64_t number[2])
{
    size_t i = 0;
    for (int k = 0; k < 2; k++) {
        size_t start = i;
        number[k] = 0;
        while (i < n && i - start < 19 && p[i] >= '0' && p[i] <= '9')
            number[k] = number[k] * 10 + (uint64_t)(p[i++] - '0');
        if (i == start || i == n || p[i] != ':')
            return 0;
        i++;
    }
    return i;
}

/* An enter or leave line (counted), or a line that is not the chat's (an error). */
static void fanout_other(struct conn *c, const struct wsframe_message *m)
{
    for (size_t i = 0; i < sizeof OTHER_MARKS / sizeof OTHER_MARKS[0]; i++)
        if (memmem(m->data, m->len, OTHER_MARKS[i], strlen(OTHER_MARKS[i]))) {
            c->w->st.others++;
            return;
        }
    conn_fail(c, "a line that is none of the chat's: \"%.*s\"", m->len > 80 ? 80 : (int)m->len,
              (const char *)m->data);
}

/* A line said: it must be its sender's next, whole; its delay is from the send. */
static void fanout_said(struct conn *c, const char *text, size_t len, uint64_t now)
{
    uint64_t num[2];
    size_t head = fanout_numbers(text, len, num);
    if (!head || num[0] < 1 || num[0] > (uint64_t)cfg->senders) {
        conn_fail(c, "a line no sender of ours said: \"%.*s\"", len > 60 ? 60 : (int)len, text);
        return;
    }
    long id = (long)num[0];
    uint64_t seq = num[1], *next = &c->fan.next[id - 1];
    struct sender *s = &senders[id - 1];
    uint64_t sent = atomic_load_explicit(&s->sent, memory_order_acquire);
    if (seq != *next || seq >= sent) {
        conn_fail(c, "sender %ld's message %" PRIu64 " came when %" PRIu64 " was due (%s)", id,
                  seq, *next, seq >= sent ? "never sent" : seq > *next ? "some missing" : "again");
        return;
    }
    if (len != fanout_length(head) || !is_padding(text + head, len - head)) {
        conn_fail(c, "sender %ld's message %" PRIu64 " came changed (%zu bytes, sent %zu)", id,
                  seq, len, fanout_length(head));
        return;
    }
    (*next)++;
    struct worker *w = c->w;
    if (now >= w->warm_end && now < w->end && !c->slow) { /* readers' deliveries only */
        w->st.messages++;
        w->st.bytes += len;
        uint64_t at = atomic_load_explicit(&s->sent_at[seq % SENT_RING], memory_order_relaxed);
        if (sent <= seq + SENT_RING) /* else its slot was reused */
            hist_add(&w->st.rtt, now > at ? now - at : 0); /* another thread's clock read */
    }
    if (id == c->id) {
        c->fan.back++;
        if (cfg->messages && c->fan.back == (uint64_t)cfg->messages)
            atomic_fetch_add(&senders_done, 1);
        if (w->phase == PHASE_RUN && cfg->rate == 0 && fanout_more(c))
            fanout_send(c, now);
    }
}

static void fanout_message(struct conn *c, const struct wsframe_message *m, uint64_t now)
{
    if (m->opcode != WSFRAME_TEXT) {
        conn_fail(c, "a binary message of %zu bytes", m->len);
        return;
    }
    for (size_t i = 0; i < sizeof SAY_MARKS / sizeof SAY_MARKS[0]; i++) {
        const char *at = memmem(m->data, m->len, SAY_MARKS[i], strlen(SAY_MARKS[i]));
        if (!at)
            continue;
        if (!c->fan.next) {
            conn_fail(c, "a line said before the run began");
            return;
        }
        at += strlen(SAY_MARKS[i]);
        fanout_said(c, at, m->len - (size_t)(at - (const char *)m->data), now);
        return;
    }
    fanout_other(c, m);
}

/* Caught up with every sender's last message (final once the run is over). */
static bool fanout_quiet(const struct conn *c)
{
    for (long i = 0; c->fan.next && i < cfg->senders; i++)
        if (c->fan.next[i] != atomic_load_explicit(&senders[i].sent, memory_order_acquire))
            return false;
    return true;
}

/* --rate: sends what is due on this worker's senders (connections 1..S, at the head of
 * the first workers' shares). */
static uint64_t fanout_tick(struct worker *w, uint64_t now)
{
    uint64_t next = UINT64_MAX, gap = (uint64_t)(1e9 / cfg->rate);
    if (cfg->rate == 0 || w->phase != PHASE_RUN)
        return next;
    for (size_t i = 0; i < w->n && w->first_id + (long)i <= cfg->senders; i++) {
        struct conn *c = &w->conns[i];
        while (c->state == CONN_OPEN && c->fan.frame && c->fan.due <= now && fanout_more(c)) {
            fanout_send(c, now);
            c->fan.due += gap;
        }
        if (c->state == CONN_OPEN && c->fan.due < next && fanout_more(c))
            next = c->fan.due;
    }
    return next;
}

/* ---- idle mode ---- */

static void idle_open(struct conn *c, uint64_t now)
{
    (void)c;
    (void)now;
}

static void idle_message(struct conn *c, const struct wsframe_message *m, uint64_t now)
{
    (void)m;
    (void)now;
    c->w->st.others++;
}

static bool idle_quiet(const struct conn *c)
{
    (void)c;
    return true;
}

/* ---- --slow connections ---- */

/* A slow connection takes little into the kernel: on loopback a socket that does not
 * read holds about 4 MiB (the server's send buffer, autotuned for a 64 KiB MSS, plus
 * our receive buffer) before the server's own buffer starts to grow; with a small
 * receive buffer and a 1000-byte MSS, as a phone on a slow path would have, it holds
 * about 100 KB, so that the server's cap is reached after about as many bytes as the
 * cap itself, not five times as many, and the other connections need not receive
 * gigabytes first. Set before connect: the MSS goes out in the SYN. */
static void slow_buffers(int fd)
{
    int rcvbuf = 4096, mss = 1000;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
}

/* A slow connection closed by the server with a close frame: counted by code, and
 * answered with an empty close, once, whatever happens to it (the server may have
 * stopped waiting for it), and done with. */
static void slow_closed(struct conn *c, int code)
{
    c->w->st.slow_codes[code >= 0 && code < CLOSE_CODES ? code : 0]++;
    uint8_t frame[WSFRAME_MAX_HEADER];
    size_t len = wsframe_build_close(frame, sizeof frame, 0, "", 0, c->key);
    send(c->fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    conn_end(c);
}

/* ---- frames in ---- */

static void conn_control(struct conn *c, const struct wsframe_message *m)
{
    if (m->opcode == WSFRAME_PING) {
        conn_send_control(c, WSFRAME_PONG, m->data, m->len);
        return;
    }
    if (m->opcode != WSFRAME_CLOSE)
        return;
    if (c->slow && c->state == CONN_OPEN) {
        slow_closed(c, m->close_code);
        return;
    }
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
    *c = (struct conn){.w = w, .id = id, .fd = -1, .state = CONN_CONNECTING,
                       .slow = id > cfg->connections - cfg->slow};
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
    if (c->slow)
        slow_buffers(c->fd);
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
        if (c->slow && (n == 0 || (n < 0 && errno == ECONNRESET))) {
            c->w->st.slow_tcp += c->state == CONN_OPEN; /* dropped without a close frame */
            conn_end(c);
            return;
        }
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
    else if (c->slow && c->w->phase != PHASE_CLOSE)
        return; /* its bytes wait: worker_close reads them */
    else if (c->state != CONN_DONE)
        conn_read(c, events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR), now);
}

/* Waits for events until `until` at the latest, and handles them. */
static void worker_poll(struct worker *w, uint64_t until)
{
    struct epoll_event evs[256];
    uint64_t now = now_ns();
    int timeout = now >= until ? 0 : (int)((until - now + 999999) / 1000000);
    if (timeout > 100)
        timeout = 100; /* to see stop_early soon in every thread */
    int n = epoll_wait(w->epfd, evs, 256, timeout);
    now = now_ns();
    for (int i = 0; i < n; i++)
        conn_event(evs[i].data.ptr, evs[i].events, now);
}

/* ---- one worker's run ---- */

/* Opens the worker's connections, OPENING_MAX at a time; gives up once SETUP_SECONDS
 * pass without a handshake done. */
static void worker_setup(struct worker *w)
{
    const uint64_t patience = SETUP_SECONDS * 1000000000ull;
    uint64_t deadline = now_ns() + patience;
    size_t started = 0, settled = 0; /* settled: open, or failed */
    while ((started < w->n || w->opening) && now_ns() < deadline) {
        for (; started < w->n && w->opening < OPENING_MAX; started++)
            conn_start(w, &w->conns[started], w->first_id + (long)started);
        worker_poll(w, deadline);
        if (started - w->opening > settled) {
            settled = started - w->opening;
            deadline = now_ns() + patience;
        }
    }
    for (size_t i = 0; i < started; i++)
        if (w->conns[i].state < CONN_OPEN)
            conn_fail(&w->conns[i], "no handshake within %d s", SETUP_SECONDS);
    if (started < w->n) {
        error_print(w->first_id + (long)started, "not started: the setup gave up");
        w->st.errors += w->n - started;
        atomic_store(&setup_failed, true);
    }
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
    while ((now = now_ns()) < w->end && w->live && !stop_early &&
           !(cfg->messages && atomic_load(&senders_done) == cfg->senders)) {
        if (!counting && now >= w->warm_end) {
            counting = true;
            w->cpu_start = cpu_ns();
        }
        uint64_t until = counting ? w->end : w->warm_end;
        uint64_t due = cfg->mode->tick ? cfg->mode->tick(w, now) : UINT64_MAX;
        worker_poll(w, due < until ? due : until);
    }
    if (!counting)
        w->cpu_start = cpu_ns();
    w->cpu_end = cpu_ns();
    w->stopped = now < w->end ? now : w->end;
    if (w->first_id == 1)
        counted_seconds = w->stopped > w->warm_end ? (double)(w->stopped - w->warm_end) / 1e9 : 0;
}

/* Closes each open connection once it awaits nothing more, and waits for the server's
 * closes, until --close-timeout passes without one. The slow connections read what
 * waits for them now (no edge would come for it): the server's close, or all the
 * lines, and then they close like the others. */
static void worker_close(struct worker *w)
{
    w->phase = PHASE_CLOSE;
    uint64_t now = now_ns();
    for (size_t i = 0; i < w->n; i++) {
        struct conn *c = &w->conns[i];
        if (c->slow && c->state == CONN_OPEN)
            conn_read(c, true, now);
        if (c->state == CONN_OPEN && cfg->mode->quiet(c))
            conn_close(c);
    }
    const uint64_t patience = (uint64_t)(cfg->close_timeout * 1e9);
    uint64_t deadline = now_ns() + patience;
    size_t live = w->live;
    while (w->live && now_ns() < deadline) {
        worker_poll(w, deadline);
        if (w->live < live) {
            live = w->live;
            deadline = now_ns() + patience;
        }
    }
    for (size_t i = 0; i < w->n; i++) {
        struct conn *c = &w->conns[i];
        if (c->state == CONN_OPEN)
            conn_fail(c, "answers still missing %g s after the end", cfg->close_timeout);
        else if (c->state == CONN_CLOSING && !c->got_close)
            conn_fail(c, "no close frame from the server within %g s", cfg->close_timeout);
        conn_end(c);
    }
}

/* The setup, the load and the close, each begun by all the workers together: the
 * second barrier makes the senders' counts final before any connection checks that it
 * has all their lines. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    worker_setup(w);
    pthread_barrier_wait(&setup_done);
    if (!atomic_load(&setup_failed)) {
        if (w->first_id == 1) {
            printf("ready: %ld connections open\n", cfg->connections);
            fflush(stdout);
        }
        worker_load(w);
    }
    pthread_barrier_wait(&load_done);
    worker_close(w);
    return NULL;
}

/* ---- the summary ---- */

static void report_echo(const struct stats *st, double cpu)
{
    double secs = counted_seconds > 0 ? counted_seconds : cfg->duration;
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

/* The slow connections' ends: "1008:98,1001:2" (close frames by code), or "-". */
static void slow_codes_text(const struct stats *st, char *out, size_t size)
{
    size_t at = 0;
    out[0] = 0;
    for (int code = 0; code < CLOSE_CODES; code++)
        if (st->slow_codes[code] && at < size)
            at += (size_t)snprintf(out + at, size - at, "%s%d:%" PRIu64, at ? "," : "", code,
                                   st->slow_codes[code]);
    if (!at)
        snprintf(out, size, "-");
}

static void report_fanout(const struct stats *st, double cpu)
{
    double secs = counted_seconds > 0 ? counted_seconds : cfg->duration;
    double p50 = hist_quantile(&st->rtt, 0.50) / 1000, p99 = hist_quantile(&st->rtt, 0.99) / 1000;
    uint64_t closed = st->slow_tcp;
    for (int code = 0; code < CLOSE_CODES; code++)
        closed += st->slow_codes[code];
    char codes[200];
    slow_codes_text(st, codes, sizeof codes);
    printf("bench=ws mode=fanout connections=%ld threads=%ld senders=%ld pipeline=%ld rate=%g "
           "size=%zu slow=%ld seconds=%.3f messages=%" PRIu64 " msgs_per_s=%.1f said=%" PRIu64
           " broadcasts_per_s=%.1f bytes_per_s=%.1f p50_us=%.1f p99_us=%.1f others=%" PRIu64
           " slow_codes=%s slow_tcp_closes=%" PRIu64 " slow_not_dropped=%" PRIu64
           " errors=%" PRIu64 " cpu=%.2f\n",
           cfg->connections, cfg->threads, cfg->senders, cfg->pipeline, cfg->rate, cfg->size,
           cfg->slow, secs, st->messages, (double)st->messages / secs, st->said,
           (double)st->said / secs, (double)st->bytes / secs, p50, p99, st->others, codes,
           st->slow_tcp, st->slow_kept, st->errors, cpu);
    printf("fanout: %ld connections, %ld sender%s (%s), %zu B text, %.3g s: %.0f deliveries/s "
           "(%.1f broadcasts/s), send to receipt p50 %.0f us p99 %.0f us, %" PRIu64
           " enter/leave lines, %" PRIu64 " errors (load tool %.0f%% of a CPU)\n",
           cfg->connections, cfg->senders, cfg->senders == 1 ? "" : "s",
           cfg->rate ? "open loop" : "closed loop", cfg->size, secs,
           (double)st->messages / secs, (double)st->said / secs, p50, p99, st->others,
           st->errors, cpu * 100);
    if (cfg->slow)
        printf("fanout: %ld slow connections: %" PRIu64 " closed by the server (close frames %s, "
               "TCP alone %" PRIu64 "), %" PRIu64 " not dropped\n",
               cfg->slow, closed, codes, st->slow_tcp, st->slow_kept);
}

static void report_idle(const struct stats *st, double cpu)
{
    printf("bench=ws mode=idle connections=%ld threads=%ld seconds=%.3f others=%" PRIu64
           " errors=%" PRIu64 " cpu=%.2f\n",
           cfg->connections, cfg->threads, counted_seconds, st->others, st->errors, cpu);
    printf("idle: %ld connections open for %.3g s, %" PRIu64 " messages received, %" PRIu64
           " errors\n",
           cfg->connections, cfg->warmup + counted_seconds, st->others, st->errors);
}

static void stats_merge(struct stats *into, const struct stats *st)
{
    into->messages += st->messages;
    into->bytes += st->bytes;
    into->errors += st->errors;
    hist_merge(&into->rtt, &st->rtt);
    into->said += st->said;
    into->others += st->others;
    for (int code = 0; code < CLOSE_CODES; code++)
        into->slow_codes[code] += st->slow_codes[code];
    into->slow_tcp += st->slow_tcp;
    into->slow_kept += st->slow_kept;
}

/* The senders' shared counts and send-time rings (fanout). */
static void senders_new(void)
{
    senders = calloc((size_t)cfg->senders, sizeof *senders);
    for (long i = 0; senders && i < cfg->senders; i++)
        if (!(senders[i].sent_at = calloc(SENT_RING, sizeof *senders[i].sent_at))) {
            fprintf(stderr, "06_ws_bench: out of memory\n");
            exit(1);
        }
    memset(padding, 'x', sizeof padding);
}

static void senders_free(void)
{
    for (long i = 0; senders && i < cfg->senders; i++)
        free(senders[i].sent_at);
    free(senders);
}

/* ---- options, main ---- */

static const struct mode modes[] = {
    {"echo", echo_open, echo_message, echo_quiet, NULL, report_echo},
    {"fanout", fanout_open, fanout_message, fanout_quiet, fanout_tick, report_fanout},
    {"idle", idle_open, idle_message, idle_quiet, NULL, report_idle},
};

static void usage(void)
{
    printf("%s: a WebSocket load generator (bench/run-ws-bench and run-chat-bench run it).\n\n"
           "Usage: %s [--mode echo|fanout|idle] [--url URL] [-c N] [-d S] [-s BYTES]\n"
           "           [--binary] [--pipeline K] [--senders S] [--rate R] [--slow N] [-n N]\n"
           "           [--warmup S] [--close-timeout S] [--reset] [--threads N] [--help]\n\n"
           "  --mode echo       each connection sends messages and checks their echoes\n"
           "  --mode fanout     a chat room (ws://HOST:PORT/chat): S senders say messages,\n"
           "                    every connection checks it hears them all, in order\n"
           "  --mode idle       the connections only stay open (and read)\n"
           "  --url URL         the server, ws://HOST:PORT/PATH (default ws://127.0.0.1:8888/)\n"
           "  -c N              connections (default 50)\n"
           "  -d S              seconds counted, after the warm-up (default 5)\n"
           "  -s BYTES          message size (default 64; at most 16 MiB)\n"
           "  --binary          binary messages (echo; default text)\n"
           "  --pipeline K      messages in flight per connection, or per sender (default 1)\n"
           "  --senders S       fanout: connections that send (default 1)\n"
           "  --rate R          fanout: messages a second per sender (default 0: closed loop,\n"
           "                    the next when the sender's own line comes back)\n"
           "  --slow N          fanout: the last N connections never read (default 0)\n"
           "  -n N              fanout: each sender says N messages, and the run ends once\n"
           "                    they are back (-d then bounds it; rates over the time taken)\n"
           "  --warmup S        seconds before counting starts (default 1)\n"
           "  --close-timeout S at the end, give up after S seconds without a connection\n"
           "                    closed (default %d)\n"
           "  --reset           at the end, reset each connection (TCP RST) instead of the\n"
           "                    close handshake: a chat server's leave lines to thousands\n"
           "                    then fail at once instead of being sent\n"
           "  --threads N       threads sharing the connections (default 1)\n"
           "  --help            show this help\n\n"
           "Prints \"ready: N connections open\" once they are, then a bench=ws line of\n"
           "key=value pairs and a line for people; the exit status is 1 after any error,\n"
           "2 after a usage error.\n",
           program_invocation_short_name, program_invocation_short_name, CLOSE_SECONDS);
}

static const struct mode *mode_find(const char *name)
{
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(modes[i].name, name) == 0)
            return &modes[i];
    tool_usage_error("--mode must be echo, fanout or idle, not '%s'", name);
}

static void parse_args(int argc, char **argv, struct config *c)
{
    static const struct option options[] = {
        {"mode", required_argument, NULL, 'm'},   {"url", required_argument, NULL, 'u'},
        {"binary", no_argument, NULL, 'b'},       {"pipeline", required_argument, NULL, 'p'},
        {"warmup", required_argument, NULL, 'w'}, {"threads", required_argument, NULL, 't'},
        {"senders", required_argument, NULL, 'S'}, {"rate", required_argument, NULL, 'r'},
        {"slow", required_argument, NULL, 'l'},   {"close-timeout", required_argument, NULL, 'C'},
        {"reset", no_argument, NULL, 'R'},        {"messages", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    *c = (struct config){.mode = &modes[0], .url = "ws://127.0.0.1:8888/", .connections = 50,
                         .threads = 1, .pipeline = 1, .duration = 5, .warmup = 1, .size = 64,
                         .senders = 1, .close_timeout = CLOSE_SECONDS};
    bool fanout_options = false;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:d:s:n:h", options, NULL)) != -1) {
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
        case 'S': c->senders = tool_integer("--senders", optarg, 1, 1000000); break;
        case 'r': c->rate = tool_number("--rate", optarg, 0, 1e6); break;
        case 'l': c->slow = tool_integer("--slow", optarg, 0, 1000000); break;
        case 'R': c->reset = true; break;
        case 'n': c->messages = tool_integer("-n", optarg, 1, 1L << 40); break;
        case 'C': c->close_timeout = tool_number("--close-timeout", optarg, 0.001, 86400); break;
        case 'h': usage(); exit(0);
        case ':': tool_usage_error("%s needs a value", argv[optind - 1]);
        default: tool_usage_error("unknown option '%s'", argv[optind - 1]);
        }
        fanout_options |= strchr("Srln", opt) != NULL;
    }
    if (optind < argc)
        tool_usage_error("unexpected argument '%s'", argv[optind]);
    if (c->threads > c->connections)
        c->threads = c->connections;
    if (strcmp(c->mode->name, "fanout") != 0 && fanout_options)
        tool_usage_error("--senders, --rate, --slow and -n are for --mode fanout");
    if (c->senders + c->slow > c->connections)
        tool_usage_error("--senders %ld and --slow %ld need more than -c %ld connections",
                         c->senders, c->slow, c->connections);
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

static void on_stop(int sig)
{
    (void)sig;
    stop_early = 1;
}

/* SIGINT or SIGTERM ends the run early, as if its time were up (the close follows). */
static void catch_stop(void)
{
    struct sigaction sa = {.sa_handler = on_stop};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Room for every connection's descriptor: the soft limit up to the hard one, or a
 * clear refusal when even that is too low. */
static void raise_fd_limit(long connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)connections + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        fprintf(stderr,
                "06_ws_bench: %ld connections need %llu descriptors, but the hard limit\n"
                "(RLIMIT_NOFILE) is %llu; raise it first, e.g. as root: ulimit -Hn %llu\n",
                connections, (unsigned long long)want, (unsigned long long)rl.rlim_max,
                (unsigned long long)want);
        exit(1);
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    static struct config config;
    parse_args(argc, argv, &config);
    resolve(&config);
    cfg = &config;
    raise_fd_limit(config.connections);
    senders_new();
    catch_stop();

    size_t nt = (size_t)config.threads;
    struct worker *ws = calloc(nt, sizeof *ws);
    struct conn *conns = calloc((size_t)config.connections, sizeof *conns);
    if (!ws || !conns) {
        fprintf(stderr, "06_ws_bench: out of memory\n");
        return 1;
    }
    pthread_barrier_init(&setup_done, NULL, (unsigned)nt);
    pthread_barrier_init(&load_done, NULL, (unsigned)nt);
    size_t at = 0;
    for (size_t t = 0; t < nt; t++) {
        struct worker *w = &ws[t];
        w->n = (size_t)config.connections / nt + (t < (size_t)config.connections % nt);
        w->conns = conns + at;
        w->first_id = (long)at + 1;
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        w->rbuf = malloc(READ_BUF);
        if (w->epfd < 0 || !w->rbuf) {
            fprintf(stderr, "06_ws_bench: cannot start: %s\n", strerror(errno));
            return 1;
        }
        for (size_t i = 0; i < w->n; i++, at++)
            w->conns[i] = (struct conn){.fd = -1, .state = CONN_DONE}; /* worker_setup starts it */
    }
    for (size_t t = 0; t < nt; t++)
        if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t]) != 0) {
            fprintf(stderr, "06_ws_bench: cannot start a thread\n");
            return 1;
        }
    static struct stats total;
    for (size_t t = 0; t < nt; t++) {
        pthread_join(ws[t].thread, NULL);
        stats_merge(&total, &ws[t].st);
        close(ws[t].epfd);
        free(ws[t].rbuf);
    }
    if (!atomic_load(&setup_failed)) {
        double cpu = (double)(ws[0].cpu_end - ws[0].cpu_start) / 1e9;
        config.mode->report(&total, counted_seconds > 0 ? cpu / counted_seconds : 0);
    }
    if (total.errors > (uint64_t)errors_shown)
        fprintf(stderr, "06_ws_bench: %" PRIu64 " errors in all, %d shown\n", total.errors,
                errors_shown);
    pthread_barrier_destroy(&setup_done);
    pthread_barrier_destroy(&load_done);
    senders_free();
    free(conns);
    free(ws);
    return total.errors ? 1 : 0;
}
