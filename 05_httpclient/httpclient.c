/* httpclient — AsyncHTTPClient on the loop; see httpclient.h for the contract.
 *
 * Shape: a fetch becomes a job with a coroutine of its own while fewer than max_clients
 * run, or waits in a FIFO queue; a job that ends starts the queue's oldest. A job runs
 * to its response: redirects are a loop inside it, every hop being one exchange on a
 * pooled or fresh connection. */
#include "httpclient.h"

#include "coro.h"
#include "http1.h"
#include "iostream.h"
#include "loop_internal.h"
#include "strbuf.h"
#include "tls.h"
#include "url.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <zlib.h>

#define HEAD_MAX HTTP1_DEFAULT_MAX_HEAD
#define BODY_MAX ((size_t)HTTP1_DEFAULT_MAX_BODY)

struct job {
    struct job *next;
    struct httpclient_request req; /* a deep copy: every string is ours */
    struct httpclient_header *hdrs;
    future_t *future;
    httpclient_t *client;
    ioloop_timeout_t queue_timer; /* 0 when none */
};

struct idle {
    struct idle *next;
    char *key; /* pool_key's */
    iostream_t *s;
    future_t *closed; /* resolved once the peer closes the idle stream */
};

struct httpclient {
    ioloop_t *loop;
    size_t max_clients, max_idle;
    bool no_keep_alive;
    executor_t *executor;
    bool own_executor;
    struct job *head, *tail;
    size_t queued, active;
    struct idle *idle;
    struct tls_cached *contexts;
};

/* A TLS client context for one set of a request's TLS fields, made at first use and
 * kept: loading CA files per connection would cost more than the handshake. */
struct tls_cached {
    struct tls_cached *next;
    char *key; /* tls_key's */
    tls_context_t *ctx;
};

/* ---- small helpers ------------------------------------------------------------------ */

static const struct httpclient_header *find_header(const struct httpclient_header *h, size_t n,
                                                   const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return &h[i];
    return NULL;
}

/* ---- responses ------------------------------------------------------------------------ */

static void response_clear(struct httpclient_response *r)
{
    free((void *)r->reason);
    for (size_t i = 0; i < r->n_headers; i++) {
        free((void *)r->headers[i].name);
        free((void *)r->headers[i].value);
    }
    free((void *)r->headers);
    free((void *)r->body);
    free((void *)r->error_message);
    free((void *)r->effective_url);
    memset(r, 0, sizeof *r);
}

static void response_free(void *p)
{
    if (p)
        response_clear(p);
    free(p);
}

/* No HTTP response: code 599 with an errno and Tornado's message. */
static void fail(struct httpclient_response *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct httpclient_response *r, int err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *url = (char *)r->effective_url;
    r->effective_url = NULL;
    response_clear(r);
    r->effective_url = url;
    r->code = 599;
    r->error = err;
    r->error_message = loop_xstrdup(msg);
    r->reason = loop_xstrdup(msg);
    r->body = loop_xstrdup("");
}

const char *httpclient_response_header(const struct httpclient_response *resp, const char *name)
{
    const struct httpclient_header *h = find_header(resp->headers, resp->n_headers, name);
    return h ? h->value : NULL;
}

/* ---- requests ------------------------------------------------------------------------- */

void httpclient_request_init(struct httpclient_request *req, const char *url)
{
    *req = (struct httpclient_request){
        .url = url,
        .method = "GET",
        .connect_timeout = 20,
        .request_timeout = 20,
        .follow_redirects = true,
        .max_redirects = 5,
        .decompress_response = true,
        .allow_ipv6 = true,
        .validate_cert = true,
    };
}

static struct job *job_new(const struct httpclient_request *req)
{
    struct job *j = loop_xmalloc(sizeof *j);
    *j = (struct job){.req = *req};
    j->req.url = loop_xstrdup(req->url ? req->url : "");
    j->req.method = loop_xstrdup(req->method ? req->method : "GET");
    j->req.user_agent = loop_xstrdup(req->user_agent);
    j->req.auth_username = loop_xstrdup(req->auth_username);
    j->req.auth_password = loop_xstrdup(req->auth_password);
    j->req.ca_certs = loop_xstrdup(req->ca_certs);
    j->req.client_cert = loop_xstrdup(req->client_cert);
    j->req.client_key = loop_xstrdup(req->client_key);
    j->req.body = req->body ? loop_xstrndup(req->body, req->body_len) : NULL;
    j->hdrs = loop_xmalloc(sizeof *j->hdrs * req->n_headers);
    for (size_t i = 0; i < req->n_headers; i++) {
        j->hdrs[i].name = loop_xstrdup(req->headers[i].name);
        j->hdrs[i].value = loop_xstrdup(req->headers[i].value);
    }
    j->req.headers = j->hdrs;
    return j;
}

/* Drops every request header named name (a redirect changing method or origin). */
static void job_drop_header(struct job *j, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < j->req.n_headers; i++) {
        if (strcasecmp(j->hdrs[i].name, name) == 0) {
            free((void *)j->hdrs[i].name);
            free((void *)j->hdrs[i].value);
        } else {
            j->hdrs[n++] = j->hdrs[i];
        }
    }
    j->req.n_headers = n;
}

static void job_free(struct job *j)
{
    free((void *)j->req.url);
    free((void *)j->req.method);
    free((void *)j->req.user_agent);
    free((void *)j->req.auth_username);
    free((void *)j->req.auth_password);
    free((void *)j->req.ca_certs);
    free((void *)j->req.client_cert);
    free((void *)j->req.client_key);
    free((void *)j->req.body);
    for (size_t i = 0; i < j->req.n_headers; i++) {
        free((void *)j->hdrs[i].name);
        free((void *)j->hdrs[i].value);
    }
    free(j->hdrs);
    free(j);
}

/* ---- the idle connection pool ------------------------------------------------------- */

static void idle_drop(struct idle *i)
{
    future_unref(i->closed);
    iostream_free(i->s);
    free(i->key);
    free(i);
}

/* A live idle stream to key, or NULL; streams found closed on the way are freed. */
static iostream_t *pool_take(httpclient_t *c, const char *key)
{
    for (struct idle **pp = &c->idle; *pp;) {
        struct idle *i = *pp;
        if (strcmp(i->key, key) != 0) {
            pp = &i->next;
            continue;
        }
        *pp = i->next;
        if (future_done(i->closed) || iostream_closed(i->s) || iostream_read_buffered(i->s)) {
            idle_drop(i);
            continue;
        }
        iostream_t *s = i->s;
        future_unref(i->closed);
        free(i->key);
        free(i);
        return s;
    }
    return NULL;
}

static void pool_put(httpclient_t *c, const char *key, iostream_t *s)
{
    size_t n = 0;
    for (struct idle *i = c->idle; i; i = i->next)
        n += strcmp(i->key, key) == 0;
    if (n >= c->max_idle) {
        iostream_free(s);
        return;
    }
    struct idle *i = loop_xmalloc(sizeof *i);
    *i = (struct idle){.next = c->idle, .key = loop_xstrdup(key), .s = s,
                       .closed = iostream_wait_closed(s)};
    c->idle = i;
}

size_t httpclient_idle_connections(const httpclient_t *c)
{
    size_t n = 0;
    for (struct idle *i = c->idle; i; i = i->next)
        n++;
    return n;
}

/* ---- TLS contexts ------------------------------------------------------------------- */

/* The request's TLS fields, as one string. */
static char *tls_key(const struct httpclient_request *q)
{
    struct strbuf b = {0};
    strbuf_addf(&b, "validate_cert=%d\nca_certs=%s\nclient_cert=%s\nclient_key=%s",
                q->validate_cert, q->ca_certs ? q->ca_certs : "",
                q->client_cert ? q->client_cert : "", q->client_key ? q->client_key : "");
    return b.p;
}

/* Which pooled connections a request may use: same scheme, host and port, and for https
 * the same TLS fields, so that no request rides on a connection verified otherwise. */
static char *pool_key(const struct httpclient_request *q, const struct url *u)
{
    struct strbuf b = {0};
    strbuf_addf(&b, "%s://%s:%u", u->scheme, u->host, (unsigned)u->port);
    if (!strcmp(u->scheme, "https")) {
        char *tls = tls_key(q);
        strbuf_addf(&b, "\n%s", tls);
        free(tls);
    }
    return b.p;
}

/* The client context for q's TLS fields, or NULL with r filled in as a 599. */
static tls_context_t *client_tls(httpclient_t *c, const struct httpclient_request *q,
                                 struct httpclient_response *r)
{
    char *key = tls_key(q);
    struct tls_cached *t = c->contexts;
    while (t && strcmp(t->key, key) != 0)
        t = t->next;
    if (t) {
        free(key);
        return t->ctx;
    }
    struct tls_options o = {.insecure = !q->validate_cert, .ca_certs = q->ca_certs,
                            .certfile = q->client_cert, .keyfile = q->client_key};
    char err[512];
    tls_context_t *ctx = tls_context_new(&o, err, sizeof err);
    if (!ctx) {
        free(key);
        fail(r, EINVAL, "Invalid TLS options: %s", err);
        return NULL;
    }
    t = loop_xmalloc(sizeof *t);
    *t = (struct tls_cached){.next = c->contexts, .key = key, .ctx = ctx};
    c->contexts = t;
    return ctx;
}

/* ---- name resolution on the executor ----------------------------------------------- */

/* Shared by the pool thread (which fills it) and the loop; two owners (the waiting
 * coroutine and the future's done-callback), so a fetch that times out during DNS
 * leaves it to the callback to free. Loop thread only, except the fields the job sets. */
struct dns {
    int refs;
    char *host;
    char port[8];
    int family; /* AF_UNSPEC, or AF_INET without allow_ipv6 */
    struct addrinfo *res;
    int gai;
};

static void dns_unref(struct dns *d)
{
    if (--d->refs)
        return;
    if (d->res)
        freeaddrinfo(d->res);
    free(d->host);
    free(d);
}

static void *dns_run(void *arg)
{
    struct dns *d = arg;
    struct addrinfo hints = {.ai_family = d->family, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV};
    d->gai = getaddrinfo(d->host, d->port, &hints, &d->res);
    return d;
}

/* An IP literal needs no resolver: with AI_NUMERICHOST getaddrinfo answers at once,
 * without the network, so the loop may ask it. False for a name (or a literal of a
 * family not allowed, which getaddrinfo on the executor then refuses with its message). */
static bool dns_literal(struct dns *d)
{
    struct addrinfo hints = {.ai_family = d->family, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    return getaddrinfo(d->host, d->port, &hints, &d->res) == 0;
}

static void dns_done(future_t *f, void *arg)
{
    (void)f;
    dns_unref(arg);
}

/* ---- one exchange --------------------------------------------------------------------- */

/* Awaits f, bounded by deadline (0: none). */
static int await_until(future_t *f, double deadline, void **result)
{
    if (deadline > 0)
        f = coro_with_timeout(deadline, f);
    return coro_await(f, result);
}

static double min_deadline(double start, double a, double b)
{
    double t = a > 0 && (b <= 0 || a < b) ? a : b;
    return t > 0 ? start + t : 0;
}

/* Tornado's start_tls: the handshake, within what is left of the connect's deadline.
 * Frees s and fills r as a 599 if it fails. */
static iostream_t *secure(iostream_t *s, tls_context_t *ctx, const struct url *u,
                          double deadline, struct httpclient_response *r)
{
    int err = await_until(iostream_start_tls(s, ctx, u->host), deadline, NULL);
    if (!err)
        return s;
    iostream_free(s);
    if (err == ETIMEDOUT)
        fail(r, ETIMEDOUT, "Timeout while connecting");
    else
        fail(r, err, "%s", coro_error());
    return NULL;
}

/* A fresh connection to u (TLS for https, the handshake included), or NULL with r
 * filled in as a 599. */
static iostream_t *connect_to(httpclient_t *c, const struct httpclient_request *q,
                              const struct url *u, double deadline, struct httpclient_response *r)
{
    tls_context_t *tls = NULL;
    if (!strcmp(u->scheme, "https") && !(tls = client_tls(c, q, r)))
        return NULL;
    struct dns *d = loop_xmalloc(sizeof *d);
    *d = (struct dns){.refs = 2, .host = loop_xstrdup(u->host),
                      .family = q->allow_ipv6 ? AF_UNSPEC : AF_INET};
    snprintf(d->port, sizeof d->port, "%u", (unsigned)u->port);
    int err = 0;
    if (!dns_literal(d)) {
        if (!c->executor) {
            c->executor = executor_new(2);
            c->own_executor = c->executor != NULL;
        }
        if (!c->executor) {
            fail(r, errno, "Name resolution failed for %s: no resolver thread: %s", u->host,
                 strerror(errno));
            dns_unref(d);
            return NULL;
        }
        future_t *f = executor_submit(c->executor, "getaddrinfo", dns_run, d);
        future_add_done_callback(f, dns_done, d); /* frees d if we stop waiting */
        err = await_until(f, deadline, NULL);
    } else {
        d->refs = 1; /* no job: ours alone */
    }
    if (err) {
        dns_unref(d);
        if (err == ETIMEDOUT)
            fail(r, ETIMEDOUT, "Timeout while connecting");
        else
            fail(r, err, "Name resolution failed for %s: %s", u->host, coro_error());
        return NULL;
    }
    if (d->gai) {
        fail(r, EHOSTUNREACH, "Name resolution failed for %s: %s", u->host, gai_strerror(d->gai));
        dns_unref(d);
        return NULL;
    }
    iostream_t *s = NULL;
    for (struct addrinfo *ai = d->res; ai; ai = ai->ai_next) {
        err = await_until(iostream_connect(ai->ai_addr, ai->ai_addrlen, NULL, &s), deadline, NULL);
        if (err == 0)
            break;
        iostream_free(s);
        s = NULL;
        if (err == ETIMEDOUT) {
            fail(r, ETIMEDOUT, "Timeout while connecting");
            break;
        }
        fail(r, err, "%s", coro_error());
    }
    dns_unref(d);
    if (s)
        iostream_set_nodelay(s, true);
    return s && tls ? secure(s, tls, u, deadline, r) : s;
}

static bool method_has_body(const char *m)
{
    return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
}

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!strchr("!#$%&'*+-.^_`|~", *s) && !(*s >= '0' && *s <= '9') &&
            !(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z'))
            return false;
    return true;
}

static void build_head(struct strbuf *b, const httpclient_t *c, const struct httpclient_request *q,
                       const struct url *u)
{
    const struct httpclient_header *h = q->headers;
    size_t n = q->n_headers;
    strbuf_addf(b, "%s %s HTTP/1.1\r\n", q->method, u->target);
    if (!find_header(h, n, "Host"))
        strbuf_addf(b, "Host: %s\r\n", u->host_header);
    if (!find_header(h, n, "User-Agent"))
        strbuf_addf(b, "User-Agent: %s\r\n", q->user_agent ? q->user_agent : HTTPCLIENT_USER_AGENT);
    if (!find_header(h, n, "Connection"))
        strbuf_addf(b, "Connection: %s\r\n", c->no_keep_alive ? "close" : "keep-alive");
    if (q->decompress_response && !find_header(h, n, "Accept-Encoding"))
        strbuf_addf(b, "Accept-Encoding: gzip\r\n");
    if ((q->body || method_has_body(q->method)) && !find_header(h, n, "Content-Length"))
        strbuf_addf(b, "Content-Length: %zu\r\n", q->body ? q->body_len : 0);
    if (!strcmp(q->method, "POST") && !find_header(h, n, "Content-Type"))
        strbuf_addf(b, "Content-Type: application/x-www-form-urlencoded\r\n");
    const char *user = q->auth_username ? q->auth_username : u->user;
    const char *pass = q->auth_username ? q->auth_password : u->password;
    if (user && !find_header(h, n, "Authorization")) {
        struct strbuf cred = {0};
        strbuf_addf(&cred, "%s:%s", user, pass ? pass : "");
        strbuf_addf(b, "Authorization: Basic ");
        strbuf_add_base64(b, (const unsigned char *)cred.p, cred.len);
        strbuf_addf(b, "\r\n");
        strbuf_free(&cred);
    }
    for (size_t i = 0; i < n; i++)
        strbuf_addf(b, "%s: %s\r\n", h[i].name, h[i].value);
    strbuf_addf(b, "\r\n");
}

/* Where body bytes go: inflated first if gzip, then into the response's body, or to the
 * request's streaming_callback when this response is the one delivered. */
struct sink {
    const struct httpclient_request *q;
    struct strbuf body;
    bool stream, gz, gz_end;
    z_stream z;
    size_t total;
    const char *error; /* set once something went wrong */
};

static void sink_emit(struct sink *k, const char *data, size_t len)
{
    if (!len)
        return;
    k->total += len;
    if (k->total > BODY_MAX)
        k->error = "body too large";
    else if (k->stream)
        k->q->streaming_callback(data, len, k->q->callback_arg);
    else
        strbuf_add(&k->body, data, len);
}

static void sink_put(struct sink *k, const char *data, size_t len)
{
    if (!k->gz || k->error) {
        if (!k->error)
            sink_emit(k, data, len);
        return;
    }
    k->z.next_in = (unsigned char *)data;
    k->z.avail_in = (uInt)len;
    while (k->z.avail_in && !k->gz_end && !k->error) {
        unsigned char chunk[16384];
        k->z.next_out = chunk;
        k->z.avail_out = sizeof chunk;
        int rc = inflate(&k->z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            k->error = k->z.msg ? k->z.msg : "bad gzip data";
            break;
        }
        k->gz_end = rc == Z_STREAM_END; /* bytes after the gzip member are ignored */
        sink_emit(k, (const char *)chunk, sizeof chunk - k->z.avail_out);
    }
}

static void sink_init(struct sink *k, const struct httpclient_request *q, bool gz, bool deliver)
{
    *k = (struct sink){.q = q, .gz = gz, .stream = deliver && q->streaming_callback};
    strbuf_add(&k->body, "", 0);
    if (gz && inflateInit2(&k->z, 16 + MAX_WBITS) != Z_OK) {
        fputs("httpclient: out of memory\n", stderr);
        abort();
    }
}

/* The body is complete: a gzip stream must be too. */
static void sink_end(struct sink *k)
{
    if (k->gz && !k->gz_end && !k->error && k->z.total_in > 0)
        k->error = "truncated gzip data";
    if (k->gz)
        inflateEnd(&k->z);
    k->gz = false;
}

static bool is_redirect(int code)
{
    return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

enum { HOP_DONE, HOP_RETRY };

/* Sends the request on s and reads the response into r. HOP_RETRY when a reused
 * connection failed before any byte of the response came back (it is freed). */
static int exchange(httpclient_t *c, iostream_t *s, bool reused, const char *key,
                    const struct httpclient_request *q, const struct url *u, double deadline,
                    int redirects_left, struct httpclient_response *r)
{
    struct strbuf out = {0};
    build_head(&out, c, q, u);
    if (q->body)
        strbuf_add(&out, q->body, q->body_len);
    int err = await_until(iostream_write(s, out.p, out.len), deadline, NULL);
    strbuf_free(&out);

    struct http1_response resp;
    struct iostream_bytes *head = NULL;
    for (;;) {
        if (!err)
            err = await_until(iostream_read_until(s, "\r\n\r\n", HEAD_MAX), deadline, (void **)&head);
        if (err) {
            iostream_free(s);
            if (err == ETIMEDOUT) {
                fail(r, ETIMEDOUT, "Timeout during request");
            } else if (reused && err == IOSTREAM_CLOSED) {
                return HOP_RETRY;
            } else if (err == EMSGSIZE) {
                fail(r, EPROTO, "Malformed HTTP response: head larger than %d bytes", HEAD_MAX);
            } else {
                fail(r, EPIPE, "Stream closed");
            }
            return HOP_DONE;
        }
        int rc = http1_parse_response(head->data, head->len, &resp, NULL);
        if (rc <= 0) {
            iostream_free(s);
            fail(r, EPROTO, "Malformed HTTP response: %s",
                 rc ? http1_strerror(rc) : "incomplete head");
            return HOP_DONE;
        }
        if (resp.status >= 200 || resp.status == 101)
            break; /* 1xx (100 Continue, 103 Early Hints) are skipped, as Tornado does */
    }

    /* A redirect that will be followed is not the response: Tornado gives its head and
     * body to no callback. */
    bool deliver = !(q->follow_redirects && is_redirect(resp.status) && redirects_left > 0 &&
                     http1_header_get(&resp.headers, "Location"));
    if (deliver && q->header_callback) {
        for (const char *p = head->data, *end = head->data + head->len; p < end;) {
            const char *eol = strstr(p, "\r\n") + 2; /* the head ends in CRLF CRLF */
            q->header_callback(p, (size_t)(eol - p), q->callback_arg);
            p = eol;
        }
    }
    struct http1_framing framing = http1_response_framing(&resp, q->method);
    bool keep = http1_response_keep_alive(&resp, q->method);
    bool gz = q->decompress_response &&
              http1_header_has_token(&resp.headers, "Content-Encoding", "gzip");
    r->code = resp.status;
    r->reason = loop_xstrndup(resp.reason.p, resp.reason.len);
    struct httpclient_header *hs = loop_xmalloc(sizeof *hs * resp.headers.count);
    for (size_t i = 0; i < resp.headers.count; i++) {
        const struct http1_header *h = &resp.headers.at[i];
        bool renamed = gz && http1_str_ieq(h->name, "Content-Encoding");
        hs[i].name = renamed ? loop_xstrdup("X-Consumed-Content-Encoding")
                             : loop_xstrndup(h->name.p, h->name.len);
        hs[i].value = loop_xstrndup(h->value.p, h->value.len);
    }
    r->headers = hs;
    r->n_headers = resp.headers.count;

    /* The body, fed to the decoder in whatever pieces arrive. */
    struct http1_body_decoder dec;
    struct sink sink;
    sink_init(&sink, q, gz, deliver);
    int rc = http1_body_init(&dec, framing, NULL);
    size_t used;
    const char *data;
    size_t dlen;
    if (rc == 0)
        rc = http1_body_decode(&dec, "", 0, &used, &data, &dlen); /* DONE if no body */
    bool leftover = false;
    while (rc == HTTP1_INCOMPLETE) {
        future_t *f;
        if (framing.kind == HTTP1_BODY_UNTIL_CLOSE)
            f = iostream_read_until_close(s);
        else if (framing.kind == HTTP1_BODY_LENGTH)
            f = iostream_read_bytes(s, (size_t)(framing.length - dec.total < 65536
                                                    ? framing.length - dec.total : 65536), true);
        else
            f = iostream_read_bytes(s, 65536, true);
        struct iostream_bytes *got = NULL;
        err = await_until(f, deadline, (void **)&got);
        if (err == IOSTREAM_CLOSED) {
            err = 0;
            rc = http1_body_finish(&dec);
            break;
        }
        if (err)
            break;
        size_t off = 0;
        do {
            rc = http1_body_decode(&dec, got->data + off, got->len - off, &used, &data, &dlen);
            off += used;
            if (rc == HTTP1_BODY_DATA)
                sink_put(&sink, data, dlen);
        } while (rc == HTTP1_BODY_DATA);
        leftover = off < got->len;
        if (framing.kind == HTTP1_BODY_UNTIL_CLOSE && rc == HTTP1_INCOMPLETE)
            rc = http1_body_finish(&dec);
    }
    http1_body_free(&dec);

    sink_end(&sink);
    if (err || rc < 0 || sink.error) {
        iostream_free(s);
        free(sink.body.p);
        if (err == ETIMEDOUT)
            fail(r, ETIMEDOUT, "Timeout during request");
        else if (err)
            fail(r, err, "%s", coro_error());
        else if (rc == HTTP1_ETRUNCATED)
            fail(r, EPIPE, "Connection closed");
        else if (rc < 0)
            fail(r, EPROTO, "Malformed HTTP response: %s", http1_strerror(rc));
        else
            fail(r, EPROTO, "Malformed HTTP response: %s", sink.error);
        return HOP_DONE;
    }
    if (keep && !c->no_keep_alive && !leftover && !iostream_closed(s) && !iostream_read_buffered(s))
        pool_put(c, key, s);
    else
        iostream_free(s);
    r->body = sink.body.p;
    r->body_len = sink.body.len;
    return HOP_DONE;
}

/* One hop: a request to u, on a pooled connection or a fresh one. */
static void hop(httpclient_t *c, const struct httpclient_request *q, const struct url *u,
                int redirects_left, struct httpclient_response *r)
{
    double start = ioloop_time(ioloop_current());
    double conn_deadline = min_deadline(start, q->connect_timeout, q->request_timeout);
    double deadline = q->request_timeout > 0 ? start + q->request_timeout : 0;
    char *key = pool_key(q, u);
    for (int attempt = 0;; attempt++) {
        iostream_t *s = attempt == 0 ? pool_take(c, key) : NULL;
        bool reused = s != NULL;
        if (!s && !(s = connect_to(c, q, u, conn_deadline, r)))
            break;
        if (exchange(c, s, reused, key, q, u, deadline, redirects_left, r) == HOP_DONE)
            break;
    }
    free(key);
    r->request_time = ioloop_time(ioloop_current()) - start;
}

/* A whole fetch: hops until a response that is not a redirect to follow. */
static struct httpclient_response *run_job(httpclient_t *c, struct job *j)
{
    struct httpclient_response *r = loop_xmalloc(sizeof *r);
    memset(r, 0, sizeof *r);
    struct url u;
    int rc = url_parse(&u, j->req.url);
    if (rc != URL_OK) {
        r->effective_url = loop_xstrdup(j->req.url);
        fail(r, EINVAL, "Invalid URL %s: %s", j->req.url, url_strerror(rc));
        return r;
    }
    int left = j->req.max_redirects;
    for (;;) {
        response_clear(r);
        r->effective_url = loop_xstrdup(u.href);
        if (!is_token(j->req.method)) {
            fail(r, EINVAL, "Invalid method \"%s\"", j->req.method);
            break;
        }
        hop(c, &j->req, &u, left, r);
        const char *loc = httpclient_response_header(r, "Location");
        if (!j->req.follow_redirects || !is_redirect(r->code) || !loc || left <= 0)
            break;
        left--;
        struct url next;
        rc = url_resolve(&next, &u, loc);
        if (rc != URL_OK) {
            fail(r, EINVAL, "Invalid Location %s: %s", loc, url_strerror(rc));
            break;
        }
        /* Tornado's rules: 303 (but for HEAD), and 301/302 after a POST, become a GET
         * without a body; 307 and 308 keep the method and the body. */
        const char *m = j->req.method;
        if ((r->code == 303 && strcmp(m, "HEAD") != 0) ||
            ((r->code == 301 || r->code == 302) && !strcmp(m, "POST"))) {
            free((void *)j->req.method);
            j->req.method = loop_xstrdup("GET");
            free((void *)j->req.body);
            j->req.body = NULL;
            j->req.body_len = 0;
            const char *drop[] = {"Content-Length", "Content-Type", "Content-Encoding",
                                  "Transfer-Encoding"};
            for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
                job_drop_header(j, drop[i]);
        }
        job_drop_header(j, "Host");
        if (!url_same_origin(&u, &next)) {
            job_drop_header(j, "Authorization");
            job_drop_header(j, "Cookie");
            free((void *)j->req.auth_username);
            free((void *)j->req.auth_password);
            j->req.auth_username = j->req.auth_password = NULL;
        }
        url_free(&u);
        u = next;
    }
    url_free(&u);
    if (r->code != 599 && (r->code < 200 || r->code >= 300)) {
        char msg[300];
        snprintf(msg, sizeof msg, "HTTP %d: %s", r->code, r->reason ? r->reason : "");
        r->error = r->code;
        r->error_message = loop_xstrdup(msg);
    }
    if (!r->error_message)
        r->error_message = loop_xstrdup("");
    if (!r->body)
        r->body = loop_xstrdup("");
    if (!r->reason)
        r->reason = loop_xstrdup("");
    return r;
}

/* ---- the queue and the jobs' coroutines --------------------------------------------- */

/* The oldest queued job, or NULL. */
static struct job *queue_pop(httpclient_t *c)
{
    struct job *j = c->head;
    if (!j)
        return NULL;
    c->head = j->next;
    if (!c->head)
        c->tail = NULL;
    c->queued--;
    if (j->queue_timer)
        ioloop_remove_timeout(c->loop, j->queue_timer);
    return j;
}

static void *job_coroutine(void *arg);

/* Takes a slot. The job's coroutine starts in the next iteration, so a fetch's future is
 * never done when fetch returns (Tornado's never is), and a fast peer on a pooled
 * connection cannot make one coroutine run job after job without the loop turning. */
static void job_start(httpclient_t *c, struct job *j)
{
    c->active++;
    coro_spawn_callback("httpclient.fetch", job_coroutine, j);
}

/* One fetch. Its end hands the slot to the oldest queued job before resolving, so the
 * client is not touched after the caller may free it. */
static void *job_coroutine(void *arg)
{
    struct job *j = arg;
    httpclient_t *c = j->client;
    struct httpclient_response *r = run_job(c, j);
    c->active--;
    struct job *next = queue_pop(c);
    if (next)
        job_start(c, next);
    future_set_result_owned(j->future, r, response_free);
    future_unref(j->future);
    job_free(j);
    return NULL;
}

/* Tornado's "Timeout in request queue": the job waited min(connect, request timeout). */
static void queue_timeout(void *arg)
{
    struct job *j = arg;
    httpclient_t *c = j->client;
    for (struct job **pp = &c->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
        if (*pp != j)
            continue;
        *pp = j->next;
        if (c->tail == j)
            c->tail = prev;
        c->queued--;
        break;
    }
    struct httpclient_response *r = loop_xmalloc(sizeof *r);
    memset(r, 0, sizeof *r);
    r->effective_url = loop_xstrdup(j->req.url);
    fail(r, ETIMEDOUT, "Timeout in request queue");
    future_set_result_owned(j->future, r, response_free);
    future_unref(j->future);
    job_free(j);
}

future_t *httpclient_fetch(httpclient_t *c, const struct httpclient_request *req)
{
    struct job *j = job_new(req);
    j->client = c;
    j->future = future_new("httpclient.fetch");
    future_ref(j->future); /* the job's; the caller has the other */
    future_t *f = j->future;
    if (c->active < c->max_clients) {
        job_start(c, j);
        return f;
    }
    double wait = min_deadline(0, req->connect_timeout, req->request_timeout);
    if (wait > 0)
        j->queue_timer = ioloop_call_later(c->loop, wait, "httpclient.queue_timeout",
                                           queue_timeout, j);
    if (c->tail)
        c->tail->next = j;
    else
        c->head = j;
    c->tail = j;
    c->queued++;
    return f;
}

struct cb_ctx {
    httpclient_cb *cb;
    void *arg;
};

static void fetch_cb_done(future_t *f, void *arg)
{
    struct cb_ctx ctx = *(struct cb_ctx *)arg;
    free(arg);
    ctx.cb(future_result(f), ctx.arg);
}

void httpclient_fetch_cb(httpclient_t *c, const struct httpclient_request *req, httpclient_cb *cb,
                         void *arg)
{
    struct cb_ctx *ctx = loop_xmalloc(sizeof *ctx);
    *ctx = (struct cb_ctx){cb, arg};
    future_t *f = httpclient_fetch(c, req);
    future_add_done_callback(f, fetch_cb_done, ctx); /* the callback holds its own reference */
    future_unref(f);
}

/* ---- a bare connection ------------------------------------------------------------- */

struct connect_job {
    httpclient_t *client;
    struct httpclient_request req;
    char *url;
};

/* httpclient_connect's coroutine: connect_to, with a 599's error as the coroutine's. */
static void *connect_run(void *arg)
{
    struct connect_job *j = arg;
    struct url u;
    struct httpclient_response r = {0};
    iostream_t *s = NULL;
    int rc = url_parse(&u, j->url);
    if (rc != URL_OK) {
        fail(&r, EINVAL, "Invalid URL %s: %s", j->url, url_strerror(rc));
    } else {
        double start = ioloop_time(ioloop_current());
        s = connect_to(j->client, &j->req, &u, min_deadline(start, j->req.connect_timeout, 0), &r);
        url_free(&u);
    }
    free(j->url);
    free(j);
    if (s)
        return s;
    char msg[512];
    int err = r.error;
    snprintf(msg, sizeof msg, "%s", r.error_message);
    response_clear(&r);
    return coro_fail(err, "%s", msg);
}

future_t *httpclient_connect(httpclient_t *c, const struct httpclient_request *req)
{
    struct connect_job *j = loop_xmalloc(sizeof *j);
    *j = (struct connect_job){.client = c, .req = *req, .url = loop_xstrdup(req->url)};
    j->req.url = j->url;
    return coro_spawn("TCPClient.connect", connect_run, j);
}

/* ---- the client ----------------------------------------------------------------------- */

httpclient_t *httpclient_new(const struct httpclient_options *opts)
{
    struct httpclient_options o = opts ? *opts : (struct httpclient_options){0};
    httpclient_t *c = loop_xmalloc(sizeof *c);
    *c = (struct httpclient){
        .loop = ioloop_current(),
        .max_clients = o.max_clients ? o.max_clients : HTTPCLIENT_MAX_CLIENTS_DEFAULT,
        .max_idle = o.max_idle_per_host ? o.max_idle_per_host : HTTPCLIENT_MAX_IDLE_PER_HOST_DEFAULT,
        .no_keep_alive = o.no_keep_alive,
        .executor = o.executor,
    };
    return c; /* its own executor waits for the first name to resolve */
}

void httpclient_free(httpclient_t *c)
{
    if (!c)
        return;
    while (c->idle) {
        struct idle *i = c->idle;
        c->idle = i->next;
        idle_drop(i);
    }
    while (c->contexts) {
        struct tls_cached *t = c->contexts;
        c->contexts = t->next;
        tls_context_free(t->ctx);
        free(t->key);
        free(t);
    }
    if (c->own_executor)
        executor_free(c->executor);
    free(c);
}

size_t httpclient_active(const httpclient_t *c)
{
    return c->active;
}

size_t httpclient_queued(const httpclient_t *c)
{
    return c->queued;
}
