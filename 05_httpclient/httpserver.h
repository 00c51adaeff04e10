/* httpserver — an HTTP/1.1 server with routes and request handlers on the loop:
 * Tornado's HTTPServer, web.Application and web.RequestHandler in one module.
 *
 * An application is a table of routes, each a POSIX extended regex and a handler
 * class: a struct of per-method functions. A server listens on a TCP address, accepts
 * on the loop, and runs one coroutine per connection that reads requests with an
 * iostream and parses them with http1 (sans-I/O), finds the first route whose pattern
 * matches the whole path (Tornado appends `$`; re.match anchors the start), and calls
 * the handler's method function inside the connection's coroutine:
 *
 *     static void hello_get(handler_t *h)
 *     {
 *         handler_write(h, "Hello, world", 12);      // buffered; finished on return
 *     }
 *     static const struct handler_class hello = {.get = hello_get};
 *
 *     app_t *app = app_new();
 *     app_add(app, "/", &hello, NULL);
 *     httpserver_t *srv = httpserver_new(app, NULL);
 *     httpserver_listen(srv, "127.0.0.1", 8888);
 *     ioloop_start(ioloop_current());
 *
 * Handlers, as in Tornado:
 * - A method function may coro_await (it runs in the connection's coroutine); the
 *   response is finished when it returns, unless it finished it itself.
 * - "Asynchronous" in the documents' old sense (@tornado.web.asynchronous): the method
 *   calls handler_asynchronous(h) and returns; something later (a timer, a callback)
 *   calls handler_finish(h). The connection waits for that. Such a handler must finish
 *   even if the client went away (handler_connection_closed says so).
 * - No method function for the request's method → 405 with Allow; no route → 404.
 * - Responses get Date, Server and Content-Type: text/html; charset=UTF-8 by default,
 *   Content-Length when finished without a flush, chunked transfer-coding when flushed
 *   first (HTTP/1.1; an HTTP/1.0 client gets the body until close). HEAD responses
 *   carry the headers a GET would, and no body. A Content-Length the handler sets is
 *   sent as it is, flushed or not (no chunks then): the handler writes that many bytes.
 *
 * Connections (RFC 9112 keep-alive, Tornado's http1connection): requests on one
 * connection are answered strictly in order, so pipelined requests just wait in the
 * stream's buffer. HTTP/1.1 keeps the connection unless "Connection: close"; HTTP/1.0
 * only with "Connection: keep-alive". A request the parser refuses gets a bare 400 and
 * the connection is closed; a head over max_head gets 431 and a close; a body over
 * max_body gets 413 and a close. A connection idle for idle_connection_timeout seconds
 * between requests (or while sending a head) is closed; with body_timeout, so is one
 * whose body takes longer than that (no answer: Tornado just closes). Neither covers a
 * handler at work or a response being sent.
 *
 * Requests: the target's path and query, also from the absolute form a proxy is sent
 * ("GET http://host/p?q HTTP/1.1", RFC 9112 §3.2.2). An HTTP/1.1 request with
 * "Expect: 100-continue" and a body gets "HTTP/1.1 100 (Continue)" before the body is
 * read, as Tornado sends it; a declared Content-Length over max_body gets its 413 at
 * once instead. Behind a proxy (nginx's `proxy_set_header X-Real-IP $remote_addr`),
 * the xheaders option makes X-Real-IP, else the last address of X-Forwarded-For, the
 * handler_remote_ip, and X-Scheme, else X-Forwarded-Proto, the handler_protocol; values
 * that are not an IP literal (Tornado's is_valid_ip) or "http"/"https" are ignored.
 *
 * Static files (Tornado's StaticFileHandler): app_add_static serves a directory for GET
 * and HEAD, with a Content-Type by extension (application/octet-stream for others),
 * Last-Modified, an ETag, 304 for a matching If-None-Match ("*" and lists too) or an
 * If-Modified-Since not older than the file, and one byte range (206, or 416 with a
 * Content-Range naming the size; other Range values are ignored, as Tornado ignores
 * them). The ETag is nginx's, mtime and size in hex: strong, and cheap where Tornado's
 * MD5 of the content reads the whole file per request. A path leaving the root (an
 * absolute one, any ".." segment however encoded, a symlink pointing out) or naming a
 * directory is 403; a missing file is 404. Files are sent 64 KiB at a time, each piece
 * handed to the kernel before the next is read; a client that leaves stops the reading.
 *
 * Processes (Tornado's `server.bind(port); server.start(0)`, document 001): bind, fork,
 * then start. The loop is an epoll fd, which a fork would share between processes, so
 * nothing may touch the loop (ioloop_current included) before the fork:
 *
 *     httpserver_t *srv = httpserver_new(app, NULL);
 *     httpserver_bind(srv, "127.0.0.1", 8888, false);  // the socket only
 *     int task = httpserver_fork_processes(0);         // children only from here on
 *     httpserver_start(srv);                           // (task: 0..ncpu-1)
 *     ioloop_start(ioloop_current());                  // a loop per child
 *
 * The children share the one listening socket. With reuse_port (SO_REUSEPORT) instead,
 * independent processes can each bind the same port and the kernel spreads the
 * connections between them.
 *
 * Lifetimes: the application outlives its servers. A handler_t is valid from the call
 * of its method function until handler_finish returns (from then the connection frees
 * it in a later iteration). Request strings are NUL-terminated and live as long as h.
 *
 * Not done in this pass: TLS, named groups, cookies and arguments parsing, body
 * streaming (@stream_request_body), ETag/304 for handlers' own responses, several
 * ranges (multipart/byteranges), StaticFileHandler's default_filename and caching
 * headers (Cache-Control, static_url versions), Tornado's xheaders trusted_downstream.
 */
#ifndef HTTPSERVER_H
#define HTTPSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "future.h"
#include "http1.h"
#include "iostream.h"

typedef struct app app_t;
typedef struct httpserver httpserver_t;
typedef struct handler handler_t;

typedef void handler_fn(handler_t *h);

/* A handler class: Tornado's RequestHandler subclass. Missing methods answer 405;
 * a missing write_error uses the default page ("<title>404: Not Found</title>..."). */
struct handler_class {
    handler_fn *get, *post, *put, *delete_, *head, *patch, *options;
    void (*write_error)(handler_t *h, int code);
};

/* ---- the application: routes ---- */

app_t *app_new(void);
/* Appends a route; the first that matches wins. pattern is POSIX extended regex syntax
 * and must match the whole path; its groups become handler_arg(h, 0...). data is
 * handed to the handler (handler_data), Tornado's initialize(**kwargs). Returns 0, or
 * -1 with errno EINVAL when the pattern does not compile. */
int app_add(app_t *app, const char *pattern, const struct handler_class *cls, void *data);
/* Serves the files under root (a directory, resolved now: later symlink tricks cannot
 * move it) for pattern, whose first group is the file's path below root:
 * app_add_static(app, "/static/(.*)", "www"). Returns 0, or -1 with errno (EINVAL for
 * the pattern, ENOENT or ENOTDIR for root). */
int app_add_static(app_t *app, const char *pattern, const char *root);
/* app_add, with data malloc'd by the caller and freed (free()) with the app. */
int app_add_owned(app_t *app, const char *pattern, const struct handler_class *cls, void *data);
void app_free(app_t *app);

/* ---- the server ---- */

/* Bounds; a field left 0 takes Tornado's default. */
struct httpserver_options {
    size_t max_head;                /* request line + headers (64 KiB) */
    uint64_t max_body;              /* decoded body bytes (100 MiB) */
    double idle_connection_timeout; /* seconds between requests (3600) */
    double body_timeout;            /* seconds for a whole body (0: no limit, as Tornado) */
    bool no_keep_alive;             /* close after every response */
    bool xheaders;                  /* believe X-Real-IP and friends (behind a proxy only) */
};

httpserver_t *httpserver_new(app_t *app, const struct httpserver_options *opts);
/* httpserver_bind, then httpserver_start. */
int httpserver_listen(httpserver_t *s, const char *address, int port);
/* Binds a listening socket on address ("127.0.0.1", "::1"; NULL or "" for every
 * address) and port (0: the kernel picks one; see httpserver_port), without the loop.
 * reuse_port sets SO_REUSEPORT. Returns 0, or -1 with errno (EALREADY: bound before). */
int httpserver_bind(httpserver_t *s, const char *address, int port, bool reuse_port);
/* Accepts on the current loop. Returns 0, or -1 with errno (EBADF: not bound). */
int httpserver_start(httpserver_t *s);
/* Tornado's process.fork_processes: forks n children (0: one per CPU) and returns in
 * each its task id, 0..n-1. The parent never returns: it restarts a child that dies of
 * a signal or exits non-zero (at most 100 times in all, then stops them all and exits
 * 1), passes SIGTERM and SIGINT on to the children (and restarts none after), and exits
 * 0 once every child has exited. Call it before the loop exists (see above). Returns -1
 * with errno if not one child could be forked. */
int httpserver_fork_processes(int n);
/* The port bound, or 0 before. */
int httpserver_port(const httpserver_t *s);
/* Stops accepting and closes every connection (pending handlers still finish). */
void httpserver_close(httpserver_t *s);
/* Closes, and frees the server once its last connection's coroutine has ended. */
void httpserver_free(httpserver_t *s);
/* A program's last words to its server, after ioloop_start returned and before
 * ioloop_free: closes it, runs the current loop until every connection's coroutine has
 * ended, and frees it. Not from inside a coroutine (it would run the loop within). */
void httpserver_shutdown(httpserver_t *s);
/* Connections open now. */
size_t httpserver_connections(const httpserver_t *s);

/* ---- the request, inside a handler ---- */

const char *handler_method(const handler_t *h); /* "GET" */
const char *handler_path(const handler_t *h);   /* "/echo", before any '?' */
const char *handler_query(const handler_t *h);  /* after '?', or "" */
const char *handler_remote_ip(const handler_t *h); /* see xheaders */
const char *handler_protocol(const handler_t *h);  /* "http", or "https" (xheaders) */
/* The request's fields, for http1_header_get() and friends. */
const struct http1_fields *handler_headers(const handler_t *h);
/* The whole parsed request head (method, target, version, fields). */
const struct http1_request *handler_request(const handler_t *h);
/* The first header `name` as a span, or {NULL, 0}. */
struct http1_str handler_header(const handler_t *h, const char *name);
const char *handler_body(const handler_t *h, size_t *len); /* NUL-terminated as well */
/* The route's captured groups, URL-unquoted; NULL for an unmatched optional group or
 * i >= handler_nargs. */
size_t handler_nargs(const handler_t *h);
const char *handler_arg(const handler_t *h, size_t i);
void *handler_data(const handler_t *h); /* the route's data */
/* Whether the client is gone. While an asynchronous handler waits, the server watches
 * the socket, as Tornado does for on_connection_close: a client that closes (even only
 * its sending half, `printf ... | nc -N`) ends the connection, and the response the
 * handler finishes later goes nowhere. */
bool handler_connection_closed(const handler_t *h);

/* ---- the response ---- */

/* reason NULL: the standard phrase ("Unknown" for codes without one). */
void handler_set_status(handler_t *h, int code, const char *reason);
int handler_status(const handler_t *h);
/* Sets (replaces) a header; value must not contain CR or LF (it is refused: -1, EINVAL). */
int handler_set_header(handler_t *h, const char *name, const char *value);
/* Appends to the body buffer. -1 with errno EALREADY after finish. */
int handler_write(handler_t *h, const void *data, size_t len);
/* Sends the head (first time) and what was written so far, as a chunk. Returns the
 * write's future (a new reference: coro_await or future_unref it). */
future_t *handler_flush(handler_t *h);
/* Ends the response. Returns 0, or -1 with errno EALREADY if it was finished before. */
int handler_finish(handler_t *h);
/* Tells the server the method will return before the response is finished. */
void handler_asynchronous(handler_t *h);
/* Replaces the response by an error page (write_error) and finishes it; after a flush
 * it can only finish (and the connection is closed). */
void handler_send_error(handler_t *h, int code);
/* 302 (or 301 when permanent) to url, finished. */
void handler_redirect(handler_t *h, const char *url, bool permanent);
bool handler_finished(const handler_t *h);

/* Tornado's RequestHandler.detach: the method function takes the connection's stream
 * for a protocol of its own (a WebSocket, after its 101). The server sends no response
 * and reads no further request; the stream is the method's until it returns, and the
 * server closes it then. So a detached method runs for the connection's life. Bytes the
 * client sent after the request head are in the stream's buffer. On httpserver_close,
 * on_server_close(arg) is called instead of closing the stream at once, so that the
 * protocol can say goodbye (a WebSocket's close 1001); it must see to it that the method
 * returns within a bounded time. NULL: the stream is closed at once, as any other.
 * Called again, it only changes the hook (the method clears it before it returns). */
iostream_t *handler_detach(handler_t *h, void (*on_server_close)(void *arg), void *arg);

/* The standard reason phrase of code, or "Unknown". */
const char *http_reason(int code);

#endif
