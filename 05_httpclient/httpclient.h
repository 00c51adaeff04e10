/* httpclient — an asynchronous HTTP/1.1 client on the loop: Tornado's AsyncHTTPClient
 * (simple_httpclient), with keep-alive connection reuse added.
 *
 * The documents fetch pages with `AsyncHTTPClient().fetch(url, callback)` and later with
 * `response = yield client.fetch(url)`. Both are here. A fetch resolves the host on an
 * executor thread (getaddrinfo blocks, the loop must not; an IP literal needs no
 * resolver and is taken at once), connects an iostream (in TLS
 * for https, by OpenSSL), writes the request, reads the response head and body through
 * the sans-I/O http1 parser, follows redirects and inflates gzip:
 *
 *     httpclient_t *client = httpclient_new(NULL);
 *     struct httpclient_request req;
 *     httpclient_request_init(&req, "http://127.0.0.1:8888/hello");
 *     struct httpclient_response *resp;
 *     coro_await(httpclient_fetch(client, &req), (void **)&resp);   // never fails
 *     if (resp->error == 0)
 *         printf("%d %.*s\n", resp->code, (int)resp->body_len, resp->body);
 *     else
 *         printf("%d %s\n", resp->code, resp->error_message);    // 404, or 599 Timeout...
 *
 * Errors are responses (Tornado's `fetch(..., raise_error=False)`, taken one step
 * further): the future always succeeds with a response. A non-2xx status sets
 * resp->error to the status and error_message to "HTTP 404: Not Found". When no HTTP
 * response arrived at all the code is 599 (Tornado's convention) and error is an errno:
 *     ETIMEDOUT     "Timeout while connecting" (DNS + TCP connect + TLS handshake past
 *                   connect_timeout),
 *                   "Timeout during request" (past request_timeout),
 *                   "Timeout in request queue" (waited for a free slot too long)
 *     EPIPE         "Stream closed" (closed before the response head),
 *                   "Connection closed" (closed in the middle of the body)
 *     EPROTO        "Malformed HTTP response: <what the parser said>", bad gzip data
 *     ECONNREFUSED, ...  the connect's errno and message ("connect to 127.0.0.1:9: ...")
 *     EHOSTUNREACH  "Name resolution failed for h: <gai_strerror>"
 *     ECONNABORTED  "SSL handshake failed: <OpenSSL's reason>", e.g. "certificate verify
 *                   failed (self-signed certificate)", "... (hostname mismatch)", "wrong
 *                   version number" (the server does not speak TLS)
 *     EINVAL        a bad URL, method or Location; "Invalid TLS options: cannot load
 *                   ca_certs x.pem: ..." (a file the TLS fields name cannot be used)
 * Tornado raises the transport errors even with raise_error=False; a C program is
 * better served by one kind of result.
 *
 * Against simple_httpclient:
 * - Connections are kept alive and reused per scheme, host and port, and for https per
 *   TLS fields too (Tornado's issue #324; Tornado sends "Connection: close", we send
 *   "keep-alive"): after a response that allows it, read to its end, the stream waits
 *   in an idle pool (at most max_idle_per_host per such key). A pooled stream the peer has closed is dropped; one that fails before any
 *   byte of the response came back (the peer's idle timeout raced our request) is
 *   retried once on a fresh connection, whatever the method, as browsers do.
 * - As in Tornado, max_clients requests run at once and the rest wait in a FIFO queue,
 *   each for at most min(connect_timeout, request_timeout) ("Timeout in request
 *   queue"); the request's own timeouts start when it leaves the queue.
 * - A cross-origin redirect drops the Authorization and Cookie headers and the basic-auth
 *   credentials; http to https (or back) is another origin.
 * - https verifies the server as Tornado does (validate_cert, ca_certs: tls.h), checking
 *   a host name or, for an IP literal, the address; its TLS context is made once per
 *   set of TLS fields and kept by the client.
 *
 * Lifetime: the client belongs to the loop current when it was made. The request is
 * copied by fetch; the caller's may go at once. The response belongs to the fetch's
 * future (valid until the future is freed: after coro_await, until the coroutine's next
 * coro_await; future_ref to keep it). Free the client only when no fetch is pending.
 */
#ifndef HTTPCLIENT_H
#define HTTPCLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "executor.h"
#include "future.h"

#define HTTPCLIENT_MAX_CLIENTS_DEFAULT 10
#define HTTPCLIENT_MAX_IDLE_PER_HOST_DEFAULT 4
#define HTTPCLIENT_USER_AGENT "Tornado-C/0.5"

typedef struct httpclient httpclient_t;

/* 0 (or NULL options) in a field means the default. */
struct httpclient_options {
    size_t max_clients;       /* requests in flight at once (10); the rest queue FIFO */
    size_t max_idle_per_host; /* idle keep-alive connections kept per scheme://host:port
                                 (and TLS fields) (4) */
    bool no_keep_alive;       /* Tornado's way: "Connection: close", a new connection each */
    executor_t *executor;     /* for getaddrinfo; NULL: the client makes one of 2 threads
                                 when it first needs it */
};

struct httpclient_header {
    const char *name;
    const char *value;
};

/* Tornado's HTTPRequest. Fill it with httpclient_request_init, which sets Tornado's
 * defaults, then change what you need. Strings are the caller's; fetch copies them. */
struct httpclient_request {
    const char *url;    /* http://... or https://... */
    const char *method; /* "GET" */
    const struct httpclient_header *headers; /* n_headers extra request headers */
    size_t n_headers;
    const void *body;   /* NULL: none (POST/PUT/PATCH then send Content-Length: 0) */
    size_t body_len;
    double connect_timeout;  /* seconds, 20; 0 = none. Covers DNS, connect, TLS handshake */
    double request_timeout;  /* seconds, 20; 0 = none. The whole exchange, per hop */
    bool follow_redirects;   /* true */
    int max_redirects;       /* 5 */
    const char *user_agent;  /* NULL: HTTPCLIENT_USER_AGENT */
    bool decompress_response; /* true: send Accept-Encoding: gzip, inflate gzip bodies */
    bool allow_ipv6;         /* true; false: resolve to IPv4 addresses only */
    const char *auth_username; /* basic auth; NULL: the URL's userinfo, if any */
    const char *auth_password;
    bool validate_cert;      /* true: https checks the server's certificate and name */
    const char *ca_certs;    /* PEM file of the CAs to trust; NULL: the system's */
    const char *client_cert; /* PEM: a certificate to show the server; NULL: none */
    const char *client_key;  /* its private key; NULL: in client_cert */
    /* Called with each line of the final response's head, CRLF included: the status
     * line, every field line, then "\r\n" (Tornado's header_callback). NULL: none. */
    void (*header_callback)(const char *line, size_t len, void *arg);
    /* Called with each piece of the final response's body (inflated if gzip) as it
     * arrives, instead of collecting it: resp->body is then "" (Tornado's
     * streaming_callback). NULL: none. Both run on the loop inside the fetch; they must
     * not block, and a redirect that is followed reaches neither. */
    void (*streaming_callback)(const char *chunk, size_t len, void *arg);
    void *callback_arg;
};

/* Tornado's HTTPResponse. Strings are NUL-terminated; body has a NUL after body_len. */
struct httpclient_response {
    int code;            /* the HTTP status, or 599 when no response arrived */
    const char *reason;  /* "OK"; for 599 the same as error_message */
    const struct httpclient_header *headers; /* as received (copied), n_headers of them;
                                                a gzip Content-Encoding that was inflated
                                                becomes X-Consumed-Content-Encoding */
    size_t n_headers;
    const char *body;    /* "" when none */
    size_t body_len;
    int error;           /* 0 for a 2xx; the status for another; an errno with 599 */
    const char *error_message; /* "" when error is 0 */
    const char *effective_url; /* after redirects */
    double request_time; /* seconds spent on the final hop (Tornado's) */
};

/* A client on the current loop. Its executor (opts->executor NULL) starts with the first
 * name to resolve: a client that only meets IP literals runs no thread. */
httpclient_t *httpclient_new(const struct httpclient_options *opts);
/* Closes idle connections, stops its own executor, frees. No fetch may be pending. */
void httpclient_free(httpclient_t *c);

/* Tornado's defaults, for url. */
void httpclient_request_init(struct httpclient_request *req, const char *url);

/* Starts (or queues) the request; the future (the caller's reference) resolves with a
 * struct httpclient_response it owns, and never fails. */
future_t *httpclient_fetch(httpclient_t *c, const struct httpclient_request *req);

/* Tornado's TCPClient.connect, as a fetch connects: resolves req->url's host (on the
 * executor; an IP literal at once), connects, and for https does the TLS handshake with
 * req's certificate fields, all within req->connect_timeout. Only url, connect_timeout,
 * allow_ipv6 and the TLS fields are used. The future (the caller's reference; await it
 * to the end, the stream would be lost otherwise) resolves with a new iostream_t (the
 * caller's: iostream_free), or fails with a 599's errno and message (see the top). */
future_t *httpclient_connect(httpclient_t *c, const struct httpclient_request *req);

/* The documents' callback style: cb(resp, arg) runs on the loop when the response is
 * there; resp is valid during the call only. */
typedef void httpclient_cb(const struct httpclient_response *resp, void *arg);
void httpclient_fetch_cb(httpclient_t *c, const struct httpclient_request *req,
                         httpclient_cb *cb, void *arg);

/* The first response header named name (without regard to case), or NULL. */
const char *httpclient_response_header(const struct httpclient_response *resp,
                                       const char *name);

/* Requests running now, waiting in the queue, and idle pooled connections. */
size_t httpclient_active(const httpclient_t *c);
size_t httpclient_queued(const httpclient_t *c);
size_t httpclient_idle_connections(const httpclient_t *c);

#endif
