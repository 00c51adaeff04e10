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
 *   carry the headers a GET would, and no body.
 *
 * Connections (RFC 9112 keep-alive, Tornado's http1connection): requests on one
 * connection are answered strictly in order, so pipelined requests just wait in the
 * stream's buffer. HTTP/1.1 keeps the connection unless "Connection: close"; HTTP/1.0
 * only with "Connection: keep-alive". A request the parser refuses gets a bare 400 and
 * the connection is closed; a head over max_head gets 431 and a close; a body over
 * max_body gets 413 and a close. A connection idle for idle_connection_timeout seconds
 * between requests (or while sending a head) is closed.
 *
 * Lifetimes: the application outlives its servers. A handler_t is valid from the call
 * of its method function until handler_finish returns (from then the connection frees
 * it in a later iteration). Request strings are NUL-terminated and live as long as h.
 *
 * Not done in this pass: TLS, Expect: 100-continue, xheaders (X-Real-IP,
 * X-Forwarded-For), static files, SO_REUSEPORT and fork mode, named groups, cookies and
 * arguments parsing, body streaming (@stream_request_body), ETag/304.
 */
#ifndef HTTPSERVER_H
#define HTTPSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "future.h"
#include "http1.h"

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
void app_free(app_t *app);

/* ---- the server ---- */

/* Bounds; a field left 0 takes Tornado's default. */
struct httpserver_options {
    size_t max_head;                /* request line + headers (64 KiB) */
    uint64_t max_body;              /* decoded body bytes (100 MiB) */
    double idle_connection_timeout; /* seconds between requests (3600) */
    bool no_keep_alive;             /* close after every response */
};

httpserver_t *httpserver_new(app_t *app, const struct httpserver_options *opts);
/* Listens on address ("127.0.0.1", "::1"; NULL or "" for every address) and port (0:
 * the kernel picks one; see httpserver_port). Returns 0, or -1 with errno. */
int httpserver_listen(httpserver_t *s, const char *address, int port);
/* The port bound by httpserver_listen, or 0 before it. */
int httpserver_port(const httpserver_t *s);
/* Stops accepting and closes every connection (pending handlers still finish). */
void httpserver_close(httpserver_t *s);
/* Closes, and frees the server once its last connection's coroutine has ended. */
void httpserver_free(httpserver_t *s);
/* Connections open now. */
size_t httpserver_connections(const httpserver_t *s);

/* ---- the request, inside a handler ---- */

const char *handler_method(const handler_t *h); /* "GET" */
const char *handler_path(const handler_t *h);   /* "/echo", before any '?' */
const char *handler_query(const handler_t *h);  /* after '?', or "" */
const char *handler_remote_ip(const handler_t *h);
/* The request's fields, for http1_header_get() and friends. */
const struct http1_fields *handler_headers(const handler_t *h);
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

/* The standard reason phrase of code, or "Unknown". */
const char *http_reason(int code);

#endif
