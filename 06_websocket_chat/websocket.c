/* websocket — see websocket.h. One connection, either side, is a reader coroutine that
 * feeds what the stream read to wsframe and acts on what comes out; writes, pings and
 * timers happen beside it from anywhere on the loop. */
#include "websocket.h"

#include "coro.h"
#include "ioloop.h"
#include "iostream.h"
#include "loop_internal.h"
#include "wsframe.h"
#include "wshandshake.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#define READ_CHUNK ((size_t)64 * 1024)
#define HEAD_MAX ((size_t)64 * 1024)
#define CONNECT_TIMEOUT_DEFAULT 20.0
#define FULL_REASON "send buffer full: the peer does not read"
#define SCRATCH_KEEP ((size_t)64 * 1024) /* a client's masking copy kept for the next frame */
#define CORK_SEND_MAX ((size_t)4096)     /* websocket_send holds smaller messages a moment */

/* A message waiting for websocket_read_message, or a read waiting for a message. */
struct inbox {
    struct websocket_message *msg;
    struct inbox *next;
};
struct getter {
    future_t *f;
    struct getter *next;
};

struct websocket {
    int refs;                 /* a client's: the program's and the reader's */
    enum wsframe_role role;
    iostream_t *stream;
    handler_t *handler;       /* server */
    const struct websocket_class *cls;
    void *data;
    struct websocket_options opt;
    struct wsframe_parser parser;
    const char *subprotocol;  /* the server's list entry, or subprotocol_owned */
    char *subprotocol_owned;

    bool opened, close_sent, close_received, failing, finished, on_close_done;
    int close_code;           /* the peer's, 1005, 1006; 0 while open */
    char *close_reason;
    future_t *close_write;    /* the close frame's write, awaited before TCP closes */
    ioloop_timeout_t close_timer, ping_timer, pong_timer;

    uint8_t rand[256];        /* a client's mask keys, drawn 64 at a time */
    size_t rand_used;
    uint8_t *scratch;         /* a client's masked copy of a frame */
    size_t scratch_cap;

    struct inbox *inbox, **inbox_tail;   /* a client's unread message (one at most) */
    struct getter *getters, **getters_tail;
    future_t *space;          /* the reader waits on it while a message is unread */
    httpclient_t *own_client;
};

static void wake_reader(websocket_t *ws);

/* ---- sending ------------------------------------------------------------------------- */

static future_t *closed_future(const char *name)
{
    future_t *f = future_new(name);
    future_set_error(f, WEBSOCKET_CLOSED, "WebSocket is closed");
    return f;
}

/* Four fresh random bytes for a client frame's mask. */
static void mask_key(websocket_t *ws, uint8_t key[4])
{
    if (ws->rand_used + 4 > sizeof ws->rand) {
        ssize_t n = getrandom(ws->rand, sizeof ws->rand, 0);
        if (n != (ssize_t)sizeof ws->rand)
            abort(); /* the kernel's CSPRNG does not fail for 256 bytes once booted */
        ws->rand_used = 0;
    }
    memcpy(key, ws->rand + ws->rand_used, 4);
    ws->rand_used += 4;
}

/* One frame: header and payload in one write; a client's payload masked in scratch.
 * The write's future, or with quiet none (NULL; -1 in *err, with errno, if it failed). */
static future_t *send_frame_as(websocket_t *ws, bool fin, uint8_t opcode, const void *data,
                               size_t len, bool quiet, int *err)
{
    uint8_t head[WSFRAME_MAX_HEADER], key[4];
    bool masked = ws->role == WSFRAME_CLIENT;
    if (masked)
        mask_key(ws, key);
    size_t hlen = wsframe_build_header(head, fin, opcode, len, masked ? key : NULL);
    struct iovec iov[2] = {{head, hlen}, {(void *)data, len}};
    if (masked && len) {
        if (ws->scratch_cap < len) {
            free(ws->scratch);
            ws->scratch_cap = len;
            ws->scratch = loop_xmalloc(len);
        }
        memcpy(ws->scratch, data, len);
        wsframe_mask(ws->scratch, len, key, 0);
        iov[1].iov_base = ws->scratch;
    }
    future_t *f = NULL;
    if (quiet)
        *err = iostream_send(ws->stream, iov, len ? 2 : 1);
    else
        f = iostream_writev(ws->stream, iov, len ? 2 : 1);
    if (ws->scratch_cap > SCRATCH_KEEP) { /* the stream has the bytes: a big copy goes */
        free(ws->scratch);
        ws->scratch = NULL;
        ws->scratch_cap = 0;
    }
    return f;
}

static future_t *send_frame(websocket_t *ws, bool fin, uint8_t opcode, const void *data,
                            size_t len)
{
    return send_frame_as(ws, fin, opcode, data, len, false, NULL);
}

/* A message as frames of at most frame_size bytes: the last frame's future, or with
 * quiet NULL (and -1 in *err if a write failed). */
static future_t *send_message(websocket_t *ws, uint8_t opcode, const char *data, size_t len,
                              bool quiet, int *err)
{
    size_t piece = ws->opt.frame_size ? ws->opt.frame_size : len;
    for (size_t off = 0;; off += piece) {
        size_t n = len - off < piece ? len - off : piece;
        bool fin = off + n == len;
        future_t *f = send_frame_as(ws, fin, off ? WSFRAME_CONT : opcode, data + off, n, quiet, err);
        if (fin || (quiet && *err))
            return f;
        future_unref(f);
    }
}

static void on_close_timer(void *arg)
{
    websocket_t *ws = arg;
    ws->close_timer = 0;
    iostream_close(ws->stream); /* the peer had its time: the reader's read fails */
    wake_reader(ws);            /* (or its wait for an unread message ends) */
}

/* Sends our close frame (once) and gives the peer close_timeout to answer it. */
static void send_close(websocket_t *ws, int code, const char *reason)
{
    if (ws->close_sent || iostream_closed(ws->stream))
        return;
    uint8_t payload[WSFRAME_MAX_CONTROL];
    size_t n = 0;
    if (code) { /* a code, then the reason (ours are ASCII: cutting them is safe) */
        size_t rlen = reason ? strlen(reason) : 0;
        if (rlen > sizeof payload - 2)
            rlen = sizeof payload - 2;
        payload[0] = (uint8_t)(code >> 8);
        payload[1] = (uint8_t)code;
        memcpy(payload + 2, reason ? reason : "", rlen);
        n = 2 + rlen;
    }
    ws->close_sent = true;
    ws->close_write = send_frame(ws, true, WSFRAME_CLOSE, payload, n);
    ws->close_timer = ioloop_call_later(ioloop_current(), ws->opt.close_timeout,
                                        "WebSocket close timeout", on_close_timer, ws);
}

/* Fails the connection (RFC 6455 §7.1.7): a close with code, then TCP, once the peer
 * has had its time to read it. */
static void fail(websocket_t *ws, int code, const char *reason)
{
    send_close(ws, code, reason);
    ws->failing = true;
}

static int room(websocket_t *ws);

/* Whether a message may be written now: 0, or the errno to fail it with (and, for
 * ENOBUFS, the connection is being closed with 1008). */
static int writable(websocket_t *ws, const void *data, size_t len, bool binary)
{
    if (ws->close_sent || ws->close_received || iostream_closed(ws->stream))
        return WEBSOCKET_CLOSED;
    if (!binary && !wsframe_utf8_valid(data, len))
        return EINVAL;
    return room(ws);
}

/* 0, or ENOBUFS once more than max_write_buffer waits (and then the close 1008). */
static int room(websocket_t *ws)
{
    if (iostream_write_buffered(ws->stream) > ws->opt.max_write_buffer) {
        fail(ws, 1008, FULL_REASON);
        return ENOBUFS;
    }
    return 0;
}

future_t *websocket_write_message(websocket_t *ws, const void *data, size_t len, bool binary)
{
    static const char name[] = "WebSocket.write_message";
    int err = writable(ws, data, len, binary);
    if (err == WEBSOCKET_CLOSED)
        return closed_future(name);
    if (err) {
        future_t *f = future_new(name);
        if (err == EINVAL)
            future_set_error(f, EINVAL, "text message is not UTF-8 (send it as binary)");
        else
            future_set_error(f, ENOBUFS, "WebSocket closed: %s (%zu bytes waiting)", FULL_REASON,
                             iostream_write_buffered(ws->stream));
        return f;
    }
    return send_message(ws, binary ? WSFRAME_BINARY : WSFRAME_TEXT, data, len, false, NULL);
}

/* websocket_send once the message is known to be fit to send. */
static int send_quietly(websocket_t *ws, const void *data, size_t len, bool binary)
{
    int err;
    if (len < CORK_SEND_MAX) /* lines to many listeners leave with their neighbours */
        iostream_cork(ws->stream);
    send_message(ws, binary ? WSFRAME_BINARY : WSFRAME_TEXT, data, len, true, &err);
    return err;
}

int websocket_send(websocket_t *ws, const void *data, size_t len, bool binary)
{
    int err = writable(ws, data, len, binary);
    if (err) {
        errno = err;
        return -1;
    }
    return send_quietly(ws, data, len, binary);
}

size_t websocket_broadcast(websocket_t *const *to, size_t n, const void *data, size_t len,
                           bool binary)
{
    if (!binary && !wsframe_utf8_valid(data, len)) { /* once, not once a listener */
        errno = EINVAL;
        return 0;
    }
    size_t sent = 0;
    for (size_t i = 0; i < n; i++) {
        websocket_t *ws = to[i];
        if (!websocket_closed(ws) && room(ws) == 0 && send_quietly(ws, data, len, binary) == 0)
            sent++;
    }
    return sent;
}

int websocket_ping(websocket_t *ws, const void *data, size_t len)
{
    if (len > WSFRAME_MAX_CONTROL) {
        errno = EINVAL;
        return -1;
    }
    if (ws->close_sent || ws->close_received || iostream_closed(ws->stream)) {
        errno = EPIPE;
        return -1;
    }
    future_unref(send_frame(ws, true, WSFRAME_PING, data, len));
    return 0;
}

int websocket_close(websocket_t *ws, int code, const char *reason)
{
    if (reason && !code)
        code = 1000;
    size_t rlen = reason ? strlen(reason) : 0;
    if ((code && !wsframe_close_code_valid(code)) || rlen > WSFRAME_MAX_CONTROL - 2 ||
        !wsframe_utf8_valid(reason ? reason : "", rlen)) {
        errno = EINVAL;
        return -1;
    }
    send_close(ws, code, reason);
    return 0;
}

/* ---- pings ----------------------------------------------------------------------------- */

static void on_pong_timeout(void *arg)
{
    websocket_t *ws = arg;
    ws->pong_timer = 0;
    /* A dead peer reads nothing: the close is for form's sake, and TCP goes now. */
    send_close(ws, 1011, "ping timed out");
    iostream_close(ws->stream);
    wake_reader(ws);
}

static void on_ping_timer(void *arg)
{
    websocket_t *ws = arg;
    ioloop_t *loop = ioloop_current();
    ws->ping_timer = ioloop_call_later(loop, ws->opt.ping_interval, "WebSocket ping",
                                       on_ping_timer, ws);
    if (ws->pong_timer || websocket_ping(ws, NULL, 0) < 0)
        return; /* the last ping still waits for its pong (or we are closing) */
    ws->pong_timer = ioloop_call_later(loop, ws->opt.ping_timeout, "WebSocket ping timeout",
                                       on_pong_timeout, ws);
}

static void timer_cancel(ioloop_timeout_t *t)
{
    if (*t)
        ioloop_remove_timeout(ioloop_current(), *t);
    *t = 0;
}

/* ---- receiving ----------------------------------------------------------------------- */

static struct websocket_message *message_copy(const struct wsframe_message *m)
{
    struct websocket_message *msg = loop_xmalloc(sizeof *msg + m->len + 1);
    msg->binary = m->opcode == WSFRAME_BINARY;
    msg->len = m->len;
    msg->data = (char *)(msg + 1);
    memcpy(msg->data, m->data, m->len);
    msg->data[m->len] = '\0';
    return msg;
}

static void wake_reader(websocket_t *ws)
{
    if (ws->space) {
        future_set_result(ws->space, NULL);
        future_unref(ws->space);
        ws->space = NULL;
    }
}

/* A client without on_message: the message goes to the oldest waiting read, or waits
 * for one, and then nothing more is read until it is taken (Tornado's Queue(1)). */
static void inbox_put(websocket_t *ws, const struct wsframe_message *m)
{
    struct websocket_message *msg = message_copy(m);
    if (ws->getters) {
        struct getter *g = ws->getters;
        if (!(ws->getters = g->next))
            ws->getters_tail = &ws->getters;
        future_set_result_owned(g->f, msg, free);
        future_unref(g->f);
        free(g);
        return;
    }
    struct inbox *i = loop_xmalloc(sizeof *i);
    *i = (struct inbox){.msg = msg};
    *ws->inbox_tail = i;
    ws->inbox_tail = &i->next;
    while (ws->inbox && !iostream_closed(ws->stream)) {
        ws->space = future_new("WebSocket read_message space");
        future_ref(ws->space);
        coro_await(ws->space, NULL);
    }
}

static void deliver(websocket_t *ws, const struct wsframe_message *m)
{
    if (ws->close_sent)
        return; /* we are closing: what the peer still sends is dropped */
    if (ws->cls->on_message) {
        /* A message parsed in place sits in the read's bytes, which have room for a NUL
         * after it (the byte after is the next frame's, or the read's own NUL): put
         * one there for the handler, and the byte back before the parser goes on. */
        char *data = (char *)m->data, saved = 0;
        bool patch = m->in_place && m->len; /* (an empty one is a NUL already) */
        if (patch) {
            saved = data[m->len];
            data[m->len] = '\0';
        }
        struct websocket_message msg = {.binary = m->opcode == WSFRAME_BINARY,
                                        .len = m->len, .data = data};
        ws->cls->on_message(ws, &msg);
        if (patch)
            data[m->len] = saved;
    } else if (ws->role == WSFRAME_CLIENT) {
        inbox_put(ws, m);
    }
}

static void control(websocket_t *ws, const struct wsframe_message *m)
{
    switch (m->opcode) {
    case WSFRAME_PING:
        if (!ws->close_sent)
            future_unref(send_frame(ws, true, WSFRAME_PONG, m->data, m->len));
        if (ws->cls->on_ping)
            ws->cls->on_ping(ws, m->data, m->len);
        break;
    case WSFRAME_PONG:
        timer_cancel(&ws->pong_timer);
        if (ws->cls->on_pong)
            ws->cls->on_pong(ws, m->data, m->len);
        break;
    case WSFRAME_CLOSE:
        ws->close_received = true;
        ws->close_code = m->close_code;
        free(ws->close_reason);
        ws->close_reason = loop_xmalloc(m->reason_len + 1);
        if (m->reason_len)
            memcpy(ws->close_reason, m->reason, m->reason_len);
        ws->close_reason[m->reason_len] = '\0';
        /* The answer echoes the code (§5.5.1), an empty close for an empty one. */
        send_close(ws, m->close_code == 1005 ? 0 : m->close_code, NULL);
        break;
    }
}

/* Feeds one read to the parser; false once nothing more is to be read. While more
 * bytes follow the message just parsed, the stream is corked: the answers to one read's
 * messages (an echo server's, a pipelining client's) leave in one send, not one each. */
static bool feed(websocket_t *ws, uint8_t *buf, size_t len)
{
    size_t off = 0;
    bool more = true;
    while (!ws->close_received && !ws->failing) {
        size_t used;
        struct wsframe_message m;
        int rc = wsframe_next(&ws->parser, buf + off, len - off, &used, &m);
        off += used;
        if (rc == WSFRAME_MORE)
            break;
        if (off < len)
            iostream_cork(ws->stream);
        if (rc < 0)
            fail(ws, wsframe_close_code(rc), wsframe_strerror(rc));
        else if (rc == WSFRAME_MESSAGE)
            deliver(ws, &m);
        else
            control(ws, &m);
        if (iostream_closed(ws->stream)) {
            more = false;
            break;
        }
    }
    iostream_uncork(ws->stream);
    return more && !ws->close_received && !ws->failing;
}

/* Reads frames until a close arrives, the connection fails, or the stream closes. */
static void read_frames(websocket_t *ws)
{
    while (!iostream_closed(ws->stream)) {
        future_t *f = iostream_read_bytes(ws->stream, READ_CHUNK, true);
        future_ref(f); /* the bytes must outlive an on_message that awaits */
        struct iostream_bytes *b;
        bool more = coro_await(f, (void **)&b) == 0 && feed(ws, (uint8_t *)b->data, b->len);
        future_unref(f);
        if (!more)
            return;
    }
}

/* Reads and drops whatever still comes until the peer closes (or the close timer
 * does): the peer reads our close before the kernel could reset the connection. */
static void linger(websocket_t *ws)
{
    while (!iostream_closed(ws->stream)) {
        future_t *f = iostream_read_bytes(ws->stream, READ_CHUNK, true);
        if (coro_await(f, NULL))
            return;
    }
}

/* After the frames: the close frame reaches the kernel, then TCP closes as §7.1.1 says. */
static void end_connection(websocket_t *ws)
{
    if (iostream_closed(ws->stream))
        return;
    if (ws->close_write) {
        future_t *w = ws->close_write;
        ws->close_write = NULL;
        coro_await(w, NULL); /* the close timer bounds it */
    }
    if (iostream_closed(ws->stream))
        return;
    if (ws->failing)
        shutdown(iostream_fd(ws->stream), SHUT_WR);
    if (ws->failing || ws->role == WSFRAME_CLIENT)
        linger(ws); /* a client waits for the server to close first */
}

/* Once per connection: timers off, waiting reads answered, on_close. */
static void finish(websocket_t *ws)
{
    timer_cancel(&ws->ping_timer);
    timer_cancel(&ws->pong_timer);
    timer_cancel(&ws->close_timer);
    ws->finished = true;
    if (!ws->close_received)
        ws->close_code = 1006;
    if (!ws->close_reason)
        ws->close_reason = loop_xstrdup("");
    while (ws->getters) {
        struct getter *g = ws->getters;
        ws->getters = g->next;
        future_set_result(g->f, NULL);
        future_unref(g->f);
        free(g);
    }
    ws->getters_tail = &ws->getters;
    if (ws->opened && !ws->on_close_done) {
        ws->on_close_done = true;
        if (ws->cls->on_close)
            ws->cls->on_close(ws);
    }
}

/* The connection's life after the handshake, in the reader coroutine. */
static void run(websocket_t *ws)
{
    if (ws->opt.ping_interval > 0)
        ws->ping_timer = ioloop_call_later(ioloop_current(), ws->opt.ping_interval,
                                           "WebSocket ping", on_ping_timer, ws);
    read_frames(ws);
    end_connection(ws);
    future_unref(ws->close_write);
    ws->close_write = NULL;
    finish(ws);
}

/* ---- one connection's state ----------------------------------------------------------- */

static const struct websocket_class no_callbacks;

static void options_fill(struct websocket_options *o, const struct websocket_options *given)
{
    *o = given ? *given : (struct websocket_options){0};
    if (!o->max_message_size)
        o->max_message_size = WSFRAME_DEFAULT_MAX_MESSAGE;
    if (!o->max_write_buffer)
        o->max_write_buffer = WEBSOCKET_MAX_WRITE_BUFFER_DEFAULT;
    if (o->ping_interval < 0)
        o->ping_interval = 0;
    if (o->ping_timeout <= 0 || o->ping_timeout > o->ping_interval)
        o->ping_timeout = o->ping_interval; /* Tornado 6.5 clamps it too */
    if (o->close_timeout <= 0)
        o->close_timeout = WEBSOCKET_CLOSE_TIMEOUT_DEFAULT;
}

static websocket_t *ws_new(enum wsframe_role role, iostream_t *s, const struct websocket_class *cls,
                           const struct websocket_options *opt, void *data)
{
    websocket_t *ws = loop_xmalloc(sizeof *ws);
    memset(ws, 0, sizeof *ws);
    ws->refs = 1;
    ws->role = role;
    ws->stream = s;
    ws->cls = cls ? cls : &no_callbacks;
    ws->data = data;
    ws->opt = *opt;
    ws->rand_used = sizeof ws->rand;
    ws->inbox_tail = &ws->inbox;
    ws->getters_tail = &ws->getters;
    wsframe_init(&ws->parser, role, opt->max_message_size);
    return ws;
}

static void ws_unref(websocket_t *ws)
{
    if (--ws->refs)
        return;
    while (ws->inbox) {
        struct inbox *i = ws->inbox;
        ws->inbox = i->next;
        free(i->msg);
        free(i);
    }
    if (ws->role == WSFRAME_CLIENT)
        iostream_free(ws->stream);
    httpclient_free(ws->own_client);
    wsframe_free(&ws->parser);
    free(ws->close_reason);
    free(ws->subprotocol_owned);
    free(ws->scratch);
    free(ws);
}

/* ---- server ---------------------------------------------------------------------------- */

struct route {
    const struct websocket_class *cls;
    struct websocket_options opt;
    void *data;
};

static bool origin_allowed(struct http1_str origin, const struct http1_request *req, void *arg)
{
    (void)req;
    const handler_t *h = arg;
    const struct route *r = handler_data(h);
    return r->cls->check_origin(h, origin);
}

/* The server is closing: 1001 Going Away, and close_timeout for the peer to answer. */
static void going_away(void *arg)
{
    send_close(arg, 1001, "server shutting down");
}

/* Tornado's WebSocketHandler.get: the handshake, then the connection, in this coroutine. */
static void ws_get(handler_t *h)
{
    const struct route *r = handler_data(h);
    struct wshs_server_opts so = {.subprotocols = r->opt.subprotocols};
    if (r->cls->check_origin) {
        so.check_origin = origin_allowed;
        so.check_origin_arg = h;
    }
    struct wshs_reply reply;
    if (wshs_server_reply(handler_request(h), &so, &reply) != WSHS_OK) {
        handler_send_error(h, 500);
        return;
    }
    if (reply.status != 101) { /* a refusal, then the server closes */
        iostream_t *s = handler_detach(h, NULL, NULL);
        coro_await(iostream_write(s, reply.head, reply.head_len), NULL);
        wshs_reply_free(&reply);
        return;
    }
    websocket_t *ws = ws_new(WSFRAME_SERVER, NULL, r->cls, &r->opt, r->data);
    ws->stream = handler_detach(h, going_away, ws);
    future_unref(iostream_write(ws->stream, reply.head, reply.head_len));
    ws->handler = h;
    ws->subprotocol = reply.subprotocol;
    wshs_reply_free(&reply);
    ws->opened = true;
    if (ws->cls->open)
        ws->cls->open(ws);
    run(ws);
    handler_detach(h, NULL, NULL); /* the hook must not outlive ws */
    ws_unref(ws);
}

static const struct handler_class ws_handler_class = {.get = ws_get};

int websocket_route(app_t *app, const char *pattern, const struct websocket_class *cls,
                    const struct websocket_options *opts, void *data)
{
    struct route *r = loop_xmalloc(sizeof *r);
    r->cls = cls ? cls : &no_callbacks;
    options_fill(&r->opt, opts);
    r->data = data;
    if (app_add_owned(app, pattern, &ws_handler_class, r) < 0) {
        free(r);
        return -1;
    }
    return 0;
}

handler_t *websocket_handler(const websocket_t *ws)
{
    return ws->handler;
}

/* ---- client ---------------------------------------------------------------------------- */

struct connect_job {
    char *url, *origin, *ca_certs;
    struct websocket_connect_options opt;
};

static void job_free(struct connect_job *j)
{
    free(j->url);
    free(j->origin);
    free(j->ca_certs);
    free(j);
}

/* Awaits f within deadline (0: none). */
static int await_by(future_t *f, double deadline, void **result)
{
    return coro_await(deadline > 0 ? coro_with_timeout(deadline, f) : f, result);
}

/* Reads the server's answer and checks it; 0, or an error with the message set. */
static int handshake_answer(iostream_t *s, struct wshs_client *hs, double deadline,
                            char *msg, size_t cap)
{
    struct iostream_bytes *b;
    int err = await_by(iostream_read_until(s, "\r\n\r\n", HEAD_MAX), deadline, (void **)&b);
    if (err) {
        snprintf(msg, cap, "%s", err == ETIMEDOUT ? "Timeout while connecting" : coro_error());
        return err;
    }
    struct http1_response resp;
    int rc = http1_parse_response(b->data, b->len, &resp, NULL);
    if (rc < 0) {
        snprintf(msg, cap, "Malformed HTTP response: %s", http1_strerror(rc));
        return EPROTO;
    }
    if (resp.status != 101) {
        snprintf(msg, cap, "WebSocket handshake failed: HTTP %d %.*s", resp.status,
                 (int)resp.reason.len, resp.reason.p);
        return EPROTO;
    }
    if ((rc = wshs_client_check(hs, &resp)) != WSHS_OK) {
        snprintf(msg, cap, "WebSocket handshake failed: %s", wshs_strerror(rc));
        return EPROTO;
    }
    return 0;
}

static void *client_reader(void *arg)
{
    websocket_t *ws = arg;
    run(ws);
    ws_unref(ws);
    return NULL;
}

static void *connect_run(void *arg)
{
    struct connect_job *j = arg;
    struct websocket_connect_options *o = &j->opt;
    double start = ioloop_time(ioloop_current());
    double deadline = o->connect_timeout < 0 ? 0 : start + o->connect_timeout;
    struct wshs_client hs;
    char *head;
    size_t head_len;
    int rc = wshs_client_request(&hs, j->url, o->ws.subprotocols, j->origin, &head, &head_len);
    if (rc != WSHS_OK) {
        void *r = coro_fail(rc == WSHS_EURL ? EINVAL : ENOMEM, "Invalid WebSocket URL %s: %s",
                            j->url, wshs_strerror(rc));
        job_free(j);
        return r;
    }
    httpclient_t *own = o->client ? NULL : httpclient_new(NULL);
    struct httpclient_request req;
    httpclient_request_init(&req, hs.url.href);
    req.connect_timeout = o->connect_timeout < 0 ? 0 : o->connect_timeout;
    req.validate_cert = !o->insecure;
    req.ca_certs = j->ca_certs;
    iostream_t *s = NULL;
    char msg[512];
    int err = coro_await(httpclient_connect(o->client ? o->client : own, &req), (void **)&s);
    if (err) {
        snprintf(msg, sizeof msg, "%s", coro_error());
    } else {
        future_unref(iostream_write(s, head, head_len));
        err = handshake_answer(s, &hs, deadline, msg, sizeof msg);
    }
    free(head);
    websocket_t *ws = NULL;
    if (!err) {
        ws = ws_new(WSFRAME_CLIENT, s, o->cls, &o->ws, o->data);
        ws->own_client = own;
        ws->subprotocol = ws->subprotocol_owned = hs.subprotocol ? loop_xstrdup(hs.subprotocol) : NULL;
        ws->opened = true;
        ws->refs = 2;
        coro_spawn_callback("WebSocket reader", client_reader, ws);
    } else {
        iostream_free(s);
        httpclient_free(own);
    }
    wshs_client_free(&hs);
    job_free(j);
    return ws ? ws : coro_fail(err, "%s", msg);
}

future_t *websocket_connect(const char *url, const struct websocket_connect_options *opts)
{
    struct connect_job *j = loop_xmalloc(sizeof *j);
    memset(j, 0, sizeof *j);
    if (opts)
        j->opt = *opts;
    options_fill(&j->opt.ws, opts ? &opts->ws : NULL);
    if (j->opt.connect_timeout == 0)
        j->opt.connect_timeout = CONNECT_TIMEOUT_DEFAULT;
    j->url = loop_xstrdup(url);
    j->origin = j->opt.origin ? loop_xstrdup(j->opt.origin) : NULL;
    j->ca_certs = j->opt.ca_certs ? loop_xstrdup(j->opt.ca_certs) : NULL;
    return coro_spawn("websocket_connect", connect_run, j);
}

future_t *websocket_read_message(websocket_t *ws)
{
    future_t *f = future_new("WebSocketClientConnection.read_message");
    if (ws->role != WSFRAME_CLIENT || ws->cls->on_message) {
        future_set_error(f, EINVAL, "read_message: messages go to on_message");
    } else if (ws->inbox) {
        struct inbox *i = ws->inbox;
        if (!(ws->inbox = i->next))
            ws->inbox_tail = &ws->inbox;
        future_set_result_owned(f, i->msg, free);
        free(i);
        wake_reader(ws);
    } else if (ws->finished) {
        future_set_result(f, NULL);
    } else {
        struct getter *g = loop_xmalloc(sizeof *g);
        *g = (struct getter){.f = f};
        future_ref(f);
        *ws->getters_tail = g;
        ws->getters_tail = &g->next;
    }
    return f;
}

void websocket_free(websocket_t *ws)
{
    if (!ws)
        return;
    if (!ws->finished) {
        /* The program is done with it: on_close now, not after its data is gone. */
        if (!ws->close_received)
            ws->close_code = 1006;
        if (!ws->on_close_done) {
            ws->on_close_done = true;
            if (ws->cls->on_close)
                ws->cls->on_close(ws);
        }
        ws->cls = &no_callbacks;
        iostream_close(ws->stream);
        wake_reader(ws);
    }
    ws_unref(ws);
}

/* ---- either side ----------------------------------------------------------------------- */

bool websocket_closed(const websocket_t *ws)
{
    return ws->close_sent || ws->close_received || iostream_closed(ws->stream);
}

int websocket_close_code(const websocket_t *ws)
{
    return ws->close_code;
}

const char *websocket_close_reason(const websocket_t *ws)
{
    return ws->close_reason ? ws->close_reason : "";
}

const char *websocket_subprotocol(const websocket_t *ws)
{
    return ws->subprotocol;
}

void *websocket_data(const websocket_t *ws)
{
    return ws->data;
}

void websocket_set_data(websocket_t *ws, void *data)
{
    ws->data = data;
}

size_t websocket_write_buffered(const websocket_t *ws)
{
    return iostream_closed(ws->stream) ? 0 : iostream_write_buffered(ws->stream);
}
