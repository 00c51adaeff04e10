/* websocket — WebSocket connections on the loop: Tornado's WebSocketHandler on lesson 05's
 * server, and its websocket_connect client, over wsframe (frames) and wshandshake.
 *
 * A server route is a class of callbacks, Tornado's handler methods:
 *
 *     static void echo_message(websocket_t *ws, const struct websocket_message *m)
 *     {
 *         future_unref(websocket_write_message(ws, m->data, m->len, m->binary));
 *     }
 *     static const struct websocket_class echo = {.on_message = echo_message};
 *
 *     websocket_route(app, "/echo", &echo, NULL, NULL);  // then httpserver_new, listen
 *
 * and a client reads like a blocking program inside a coroutine:
 *
 *     websocket_t *ws;
 *     if (coro_await(websocket_connect("ws://127.0.0.1:8888/echo", NULL), (void **)&ws))
 *         return coro_fail_again();                    // "Connection refused", "HTTP 403"...
 *     future_unref(websocket_write_message(ws, "hi", 2, false));
 *     struct websocket_message *m;
 *     coro_await(websocket_read_message(ws), (void **)&m);  // NULL: the connection closed
 *     websocket_free(ws);
 *
 * One connection, either side (the rules are Tornado's where it has them):
 * - open runs first (in the connection's coroutine: it may coro_await); no message is
 *   read before it returns. on_message gets each whole text or binary message, also
 *   in that coroutine, and the next frame is not read until it returns: a handler that
 *   awaits there slows its own peer down, never the others.
 * - on_close runs exactly once per connection that opened, however it ends: a close
 *   handshake either side began, a protocol error, a ping timeout, the buffer cap below,
 *   the peer vanishing, or the server closing. websocket_close_code/_reason then say
 *   what the peer sent: its code (1005 if its close frame had none), or 1006 when no
 *   close frame came at all (RFC 6455 §7.1.5; Tornado says None for both).
 * - Pings are answered with a pong at once, before on_ping; on_pong gets pongs.
 *   ping_interval sends a ping every interval; no pong within ping_timeout (default: the
 *   interval, and never longer) means a dead peer: a close 1011 is sent for form's sake
 *   and the TCP connection dropped at once.
 * - websocket_close(code, reason) sends a close frame and waits close_timeout (5 s) for
 *   the peer's; the server then closes TCP, a client waits for the server to do it
 *   (§7.1.1), and either drops the connection when the time is up. A close received is
 *   answered with the same code (an empty close with an empty one). httpserver_close
 *   closes a server's connections this way, with 1001 Going Away ("server shutting
 *   down"), so a page knows to reconnect later; httpserver_shutdown waits for them.
 *
 * Stricter than Tornado on purpose (tornado-semantics.md §7): frames are checked as
 * wsframe.h says — a protocol error is answered with a close 1002, invalid UTF-8 (found
 * at the first byte that proves it) with 1007, a message over max_message_size (10 MiB;
 * seen from the frame headers, before its payload is read) with 1009 — and then the TCP
 * connection is closed after the peer had close_timeout to read the close frame and
 * stop sending (its further bytes are read and dropped, so that the kernel does not
 * reset the connection before the close frame is read).
 *
 * Memory is bounded both ways. Incoming: max_message_size. Outgoing: Tornado lets a
 * writer fill memory for a peer that does not read; here a message written while more
 * than max_write_buffer bytes (16 MiB) still wait for the kernel is refused (ENOBUFS)
 * and the connection is closed with 1008 (Policy Violation, reason "send buffer full:
 * the peer does not read"). 1008 rather than 1013 (Try Again Later), because the fault
 * is the peer's, not the server's load. So the most a connection holds is one message
 * over the cap. A writer that wants flow control instead awaits each write's future.
 *
 * Writes: websocket_write_message sends one message (fragmented into frames of
 * frame_size bytes if that option is set) and returns a future (a new reference: await
 * it or future_unref it) resolved once the kernel has the bytes. It fails with
 * WEBSOCKET_CLOSED (EPIPE, "WebSocket is closed": Tornado's WebSocketClosedError) once
 * the connection is closing or closed, with EINVAL for text that is not UTF-8 (the peer
 * would have to fail the connection), and with ENOBUFS as above; websocket_send is the
 * same write without a future, for writers that never wait (a broadcast, an echo). A
 * client masks every frame with a fresh key drawn from getrandom (§5.3). The answers to
 * the messages of one read leave in one send (iostream_cork): a client that pipelines
 * costs a server one syscall per read, not one per message.
 *
 * Lifetimes: a server's websocket_t lives from open until on_close returns; whoever
 * keeps a pointer to it (a chat room's set of users) drops it in on_close. A client's
 * lives until websocket_free, which closes it if still open (dropping it: no handshake;
 * call websocket_close and read until NULL first for a clean end). Everything runs on
 * the loop's thread.
 *
 * Not done: permessage-deflate (Tornado's compression_options), redirects and proxies
 * for the client (Tornado refuses them too).
 */
#ifndef WEBSOCKET_H
#define WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "future.h"
#include "httpclient.h"
#include "httpserver.h"

typedef struct websocket websocket_t;

#define WEBSOCKET_CLOSED EPIPE
#define WEBSOCKET_MAX_WRITE_BUFFER_DEFAULT ((size_t)16 << 20)
#define WEBSOCKET_CLOSE_TIMEOUT_DEFAULT 5.0 /* Tornado's */

/* A whole message. data is NUL-terminated after len (handy for text). */
struct websocket_message {
    bool binary;
    size_t len;
    char *data;
};

/* Tornado's WebSocketHandler methods; every one may be NULL. */
struct websocket_class {
    void (*open)(websocket_t *ws);
    void (*on_message)(websocket_t *ws, const struct websocket_message *m);
    void (*on_close)(websocket_t *ws);
    void (*on_ping)(websocket_t *ws, const void *data, size_t len);
    void (*on_pong)(websocket_t *ws, const void *data, size_t len);
    /* Server only: whether a browser page from `origin` may connect (403 otherwise).
     * NULL: Tornado's default, the same host and port as the request's Host. */
    bool (*check_origin)(const handler_t *h, struct http1_str origin);
};

/* 0 (or NULL options) in a field means the default. */
struct websocket_options {
    uint64_t max_message_size; /* bytes of a message received (10 MiB); bigger: 1009 */
    size_t max_write_buffer;   /* see the top (16 MiB); SIZE_MAX: no cap, as Tornado */
    double ping_interval;      /* seconds between pings (0: no pings) */
    double ping_timeout;       /* seconds for the pong (the interval; never more) */
    double close_timeout;      /* seconds for the peer's close, then TCP's (5) */
    size_t frame_size;         /* outgoing frames carry at most this (0: a message a frame) */
    /* Server: the subprotocols it speaks, by preference; client: those it offers.
     * NULL-terminated; NULL: none. */
    const char *const *subprotocols;
};

/* ---- server ---- */

/* Routes pattern (as app_add) to WebSocket connections of class cls; a request that is
 * not a good handshake is refused as wshandshake.h says (400, 403, 405, 426). data is
 * each connection's websocket_data until websocket_set_data changes it. opts is
 * copied (its subprotocols list is not: it must outlive the app). Returns app_add's. */
int websocket_route(app_t *app, const char *pattern, const struct websocket_class *cls,
                    const struct websocket_options *opts, void *data);

/* The upgrade request, for its headers, path arguments and remote IP; NULL for a client. */
handler_t *websocket_handler(const websocket_t *ws);

/* ---- client ---- */

struct websocket_connect_options {
    const struct websocket_class *cls; /* NULL: messages queue for websocket_read_message */
    void *data;
    struct websocket_options ws;
    httpclient_t *client;   /* resolves names; NULL: the connection makes its own */
    double connect_timeout; /* seconds for DNS, TCP, TLS and the handshake (20; <0: none) */
    const char *origin;     /* an Origin field to send, or NULL */
    bool insecure;          /* wss: accept any certificate (validate_cert=False) */
    const char *ca_certs;   /* wss: PEM file of the CAs to trust; NULL: the system's */
};

/* Tornado's websocket_connect: connects to a ws:// or wss:// URL and does the handshake.
 * The future resolves with the websocket_t (the caller's: websocket_free), or fails:
 * EINVAL (not a ws/wss URL), ETIMEDOUT ("Timeout while connecting"), a connect's or
 * TLS's error (httpclient_connect), EPROTO ("WebSocket handshake failed: HTTP 403
 * Forbidden", or what wshs_client_check found wrong). */
future_t *websocket_connect(const char *url, const struct websocket_connect_options *opts);

/* Tornado's read_message: a future (a new reference) resolved with the next message
 * (a struct websocket_message the future owns) or with NULL once the connection is
 * closed. Messages wait for it one at a time: while one is unread, no more frames are
 * read (Tornado's Queue(1)). Not for a client with cls->on_message (EINVAL). */
future_t *websocket_read_message(websocket_t *ws);

/* Closes if open (at once, see the top) and frees. */
void websocket_free(websocket_t *ws);

/* ---- either side ---- */

future_t *websocket_write_message(websocket_t *ws, const void *data, size_t len, bool binary);
/* websocket_write_message for a writer that will not wait: no future (a broadcast to a
 * thousand users makes no thousand of them). A message under 4 KiB is corked
 * (iostream_cork): it leaves at the end of the loop's iteration with whatever else was
 * written to that connection meanwhile, so a chat line to 10,000 users in a busy
 * iteration is not 10,000 sends per line. Returns 0, or -1 with errno as the future
 * would have failed (WEBSOCKET_CLOSED, EINVAL, ENOBUFS). */
int websocket_send(websocket_t *ws, const void *data, size_t len, bool binary);
/* websocket_send of one message to n connections, with the text checked once rather
 * than once a listener (a 60 KB chat line to 10,000 users). Returns how many it went
 * to; the others are closing, or are being closed for the cap, as websocket_send says.
 * 0 with errno EINVAL for text that is not UTF-8. */
size_t websocket_broadcast(websocket_t *const *to, size_t n, const void *data, size_t len,
                           bool binary);
/* Sends a ping with up to 125 bytes of data. 0, or -1 with errno EINVAL (too long) or
 * EPIPE (closing). */
int websocket_ping(websocket_t *ws, const void *data, size_t len);
/* Starts the closing handshake: code 0 sends a close frame without a code (1005 for the
 * peer); a reason needs a code (1000 if 0 is given, as Tornado) and at most 123 bytes
 * of UTF-8. Harmless once closing. Returns 0, or -1 with errno EINVAL (a code not
 * allowed on the wire, a reason too long or not UTF-8). */
int websocket_close(websocket_t *ws, int code, const char *reason);
bool websocket_closed(const websocket_t *ws); /* closing or closed: writes fail */
int websocket_close_code(const websocket_t *ws); /* see the top; 0 while open */
const char *websocket_close_reason(const websocket_t *ws); /* "" if none */
const char *websocket_subprotocol(const websocket_t *ws); /* agreed, or NULL */
void *websocket_data(const websocket_t *ws);
void websocket_set_data(websocket_t *ws, void *data);
/* Bytes written and not yet taken by the kernel. */
size_t websocket_write_buffered(const websocket_t *ws);

#endif
