/* chaos — see chaos.h. */
#include "chaos.h"

#include "coro.h"
#include "http1.h"
#include "ioloop.h"
#include "iostream.h"
#include "strbuf.h"
#include "url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIECE_MAX ((size_t)16 * 1024)
#define PIECE_MIN ((size_t)512)
#define BURST 0.1 /* seconds of the rate the bucket saves up */
#define BODY_MAX ((uint64_t)10 * 1024 * 1024) /* request bodies: a proxy for tests */

/* ---- the generator ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void chaos_rng_seed(struct chaos_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t chaos_rng_next(struct chaos_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double chaos_rng_unit(struct chaos_rng *r)
{
    return (double)(chaos_rng_next(r) >> 11) * 0x1.0p-53;
}

double chaos_rng_range(struct chaos_rng *r, double min, double max)
{
    if (max <= min)
        return min;
    /* Whole numbers stay whole, so that printed latencies are exact. */
    if (min == floor(min) && max == floor(max))
        return min + (double)(chaos_rng_next(r) % (uint64_t)(max - min + 1));
    return min + chaos_rng_unit(r) * (max - min);
}

bool chaos_rng_chance(struct chaos_rng *r, double p)
{
    return p > 0 && chaos_rng_unit(r) < p;
}

/* ---- the bucket ---- */

void chaos_bucket_init(struct chaos_bucket *b, double rate, double burst, double now)
{
    *b = (struct chaos_bucket){.rate = rate, .burst = burst, .tokens = burst * rate, .last = now};
}

static void bucket_refill(struct chaos_bucket *b, double now)
{
    if (now > b->last && b->rate > 0)
        b->tokens = fmin(b->burst * b->rate, b->tokens + (now - b->last) * b->rate);
    b->last = fmax(b->last, now);
}

void chaos_bucket_set_rate(struct chaos_bucket *b, double rate, double now)
{
    bucket_refill(b, now);
    b->rate = rate;
}

double chaos_bucket_take(struct chaos_bucket *b, size_t n, double now)
{
    if (b->rate <= 0)
        return 0;
    bucket_refill(b, now);
    b->tokens -= (double)n;
    return b->tokens < 0 ? -b->tokens / b->rate : 0;
}

/* ---- the proxy ---- */

struct conn {
    chaos_proxy_t *proxy;
    iostream_t *client;
    iostream_t *upstream; /* NULL until connecting */
    struct conn *prev, *next;
};

struct chaos_proxy {
    struct chaos_options o;
    ioloop_t *loop;
    int listen_fd;
    int port;
    struct sockaddr_storage up_addr; /* the upstream option's address */
    socklen_t up_len;
    char *up_host; /* its Host header */
    struct chaos_rng rng;
    struct chaos_bucket bucket;
    ioloop_periodic_t *redraw; /* speed_min < speed_max */
    double paused_until;       /* a jitter outage lasts until then */
    struct chaos_stats stats;
    struct conn *conns;
    size_t nconns;
    bool freeing;
};

static double scaled(const chaos_proxy_t *p, double ms)
{
    return ms / 1000 * p->o.time_scale;
}

static double draw_rate(chaos_proxy_t *p)
{
    return chaos_rng_range(&p->rng, p->o.speed_min, p->o.speed_max) / p->o.time_scale;
}

static void on_redraw(void *arg)
{
    chaos_proxy_t *p = arg;
    chaos_bucket_set_rate(&p->bucket, draw_rate(p), ioloop_time(p->loop));
}

static bool options_valid(const struct chaos_options *o)
{
    return o->latency_min >= 0 && o->speed_min >= 0 && o->jitter_min >= 0 &&
           o->jitter_prob >= 0 && o->jitter_prob <= 1 && o->reset_prob >= 0 &&
           o->reset_prob <= 1 && o->speed_period >= 0 && o->timeout >= 0 &&
           o->time_scale >= 0;
}

/* Fills addr from a host (IP literal or "localhost") and port without blocking;
 * resolve allows the resolver too (at start-up only). */
static int host_address(const char *host, int port, bool resolve,
                        struct sockaddr_storage *addr, socklen_t *len)
{
    if (!strcmp(host, "localhost"))
        host = "127.0.0.1";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = resolve ? 0 : AI_NUMERICHOST};
    struct addrinfo *res;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &res))
        return -1;
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int set_upstream(chaos_proxy_t *p, const char *text)
{
    struct url u;
    if (url_parse(&u, text) != URL_OK)
        return -1;
    int rc = strcmp(u.scheme, "http") ? -1
                                      : host_address(u.host, u.port, true, &p->up_addr, &p->up_len);
    if (rc == 0)
        p->up_host = strdup(u.host_header);
    url_free(&u);
    return rc;
}

chaos_proxy_t *chaos_proxy_new(const struct chaos_options *opts)
{
    if (!options_valid(opts)) {
        errno = EINVAL;
        return NULL;
    }
    chaos_proxy_t *p = calloc(1, sizeof *p);
    p->o = *opts;
    p->o.latency_max = fmax(p->o.latency_max, p->o.latency_min);
    p->o.speed_max = fmax(p->o.speed_max, p->o.speed_min);
    p->o.jitter_max = fmax(p->o.jitter_max, p->o.jitter_min);
    p->o.speed_period = p->o.speed_period > 0 ? p->o.speed_period : 1;
    p->o.timeout = p->o.timeout > 0 ? p->o.timeout : 30;
    p->o.max_head = p->o.max_head ? p->o.max_head : HTTP1_DEFAULT_MAX_HEAD;
    p->o.time_scale = p->o.time_scale > 0 ? p->o.time_scale : 1;
    p->o.upstream = NULL;
    p->loop = ioloop_current();
    p->listen_fd = -1;
    if (opts->upstream && set_upstream(p, opts->upstream) < 0) {
        free(p);
        errno = EINVAL;
        return NULL;
    }
    chaos_rng_seed(&p->rng, opts->seed);
    double rate = draw_rate(p);
    chaos_bucket_init(&p->bucket, rate, BURST, ioloop_time(p->loop));
    if (p->o.speed_max > p->o.speed_min) {
        p->redraw = ioloop_periodic_new(p->loop, p->o.speed_period * p->o.time_scale, on_redraw, p);
        ioloop_periodic_start(p->redraw);
    }
    return p;
}

/* ---- one connection ---- */

/* Waits seconds, or less if the client goes away. Returns whether the client is there. */
static bool conn_pause(struct conn *c, double seconds)
{
    if (seconds <= 0)
        return !iostream_closed(c->client);
    double deadline = ioloop_time(c->proxy->loop) + seconds;
    return coro_await(coro_with_timeout(deadline, iostream_wait_closed(c->client)), NULL) ==
           ETIMEDOUT;
}

static int conn_await(struct conn *c, future_t *f, void **result)
{
    return coro_await(coro_with_timeout(ioloop_time(c->proxy->loop) + c->proxy->o.timeout, f),
                      result);
}

static const char *reason_of(int code)
{
    switch (code) {
    case 400: return "Bad Request";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    default: return "Bad Gateway";
    }
}

/* The proxy's own answer, for what it cannot pass on. */
static void conn_answer(struct conn *c, int code, const char *why)
{
    struct strbuf b = {0};
    strbuf_addf(&b,
                "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                code, reason_of(code), strlen(why) + 1, why);
    c->proxy->stats.errors++;
    conn_await(c, iostream_write(c->client, b.p, b.len), NULL);
    strbuf_free(&b);
}

/* SO_LINGER 0: close sends a RST instead of a FIN, as a dropped network would look. */
static void conn_reset(struct conn *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(iostream_fd(c->client), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    iostream_close(c->client);
}

/* Where the request goes, and its target in origin form. Returns 0, or an HTTP status
 * with *why filled. */
static int conn_route(struct conn *c, const struct http1_request *req, struct url *u,
                      struct sockaddr_storage *addr, socklen_t *len, const char **why)
{
    chaos_proxy_t *p = c->proxy;
    if (http1_str_ieq(req->method, "CONNECT")) {
        *why = "CONNECT is not supported";
        return 501;
    }
    char *target = strndup(req->target.p, req->target.len);
    int code = 0;
    if (target[0] == '/' && p->up_len) {
        memcpy(addr, &p->up_addr, p->up_len);
        *len = p->up_len;
        struct strbuf abs = {0};
        strbuf_addf(&abs, "http://%s%s", p->up_host, target);
        if (url_parse(u, abs.p) != URL_OK)
            *why = "bad request target", code = 400;
        strbuf_free(&abs);
    } else if (!strncasecmp(target, "https:", 6)) {
        *why = "https is not supported", code = 501;
    } else if (target[0] == '/' || url_parse(u, target) != URL_OK) {
        *why = "the target must be an absolute http URL", code = 400;
    } else if (host_address(u->host, u->port, false, addr, len) < 0) {
        url_free(u);
        *why = "the proxy connects to IP addresses and localhost only", code = 502;
    }
    free(target);
    return code;
}

/* The request as it goes upstream: origin form, hop-by-hop fields replaced. */
static void build_request(struct strbuf *b, const struct http1_request *req, const struct url *u)
{
    strbuf_addf(b, "%.*s %s HTTP/1.1\r\n", (int)req->method.len, req->method.p, u->target);
    bool host = false;
    for (size_t i = 0; i < req->headers.count; i++) {
        const struct http1_header *h = &req->headers.at[i];
        if (http1_str_ieq(h->name, "connection") || http1_str_ieq(h->name, "proxy-connection") ||
            http1_str_ieq(h->name, "keep-alive"))
            continue;
        host |= http1_str_ieq(h->name, "host");
        strbuf_addf(b, "%.*s: %.*s\r\n", (int)h->name.len, h->name.p, (int)h->value.len,
                    h->value.p);
    }
    if (!host)
        strbuf_addf(b, "Host: %s\r\n", u->host_header);
    strbuf_addf(b, "Connection: close\r\n\r\n");
}

static void build_response(struct strbuf *b, const struct http1_response *r, double latency_ms)
{
    strbuf_addf(b, "HTTP/1.1 %d %.*s\r\n", r->status, (int)r->reason.len, r->reason.p);
    for (size_t i = 0; i < r->headers.count; i++) {
        const struct http1_header *h = &r->headers.at[i];
        if (http1_str_ieq(h->name, "connection") || http1_str_ieq(h->name, "keep-alive"))
            continue;
        strbuf_addf(b, "%.*s: %.*s\r\n", (int)h->name.len, h->name.p, (int)h->value.len,
                    h->value.p);
    }
    strbuf_addf(b, "X-Chaos-Latency: %.0f\r\nConnection: close\r\n\r\n", latency_ms);
}

static size_t piece_size(const chaos_proxy_t *p)
{
    double rate = p->bucket.rate;
    if (rate <= 0)
        return PIECE_MAX;
    return (size_t)fmax((double)PIECE_MIN, fmin((double)PIECE_MAX, rate / 20));
}

/* Passes data on to the client piece by piece, through the jitter draws and the bucket.
 * Returns whether the client took it all. */
static bool conn_forward(struct conn *c, const char *data, size_t len)
{
    chaos_proxy_t *p = c->proxy;
    while (len > 0) {
        size_t n = len < piece_size(p) ? len : piece_size(p);
        p->stats.pieces++;
        double now = ioloop_time(p->loop);
        if (chaos_rng_chance(&p->rng, p->o.jitter_prob)) {
            p->stats.jitters++;
            double end = now + scaled(p, chaos_rng_range(&p->rng, p->o.jitter_min, p->o.jitter_max));
            p->paused_until = fmax(p->paused_until, end);
        }
        if (!conn_pause(c, p->paused_until - now))
            return false;
        if (!conn_pause(c, chaos_bucket_take(&p->bucket, n, ioloop_time(p->loop))))
            return false;
        if (conn_await(c, iostream_write(c->client, data, n), NULL))
            return false;
        data += n;
        len -= n;
    }
    return true;
}

/* Relays the response body: by its framing, raw (chunks stay chunks), to its end. */
static bool conn_relay_body(struct conn *c, struct http1_framing framing)
{
    struct http1_body_decoder dec;
    if (http1_body_init(&dec, framing, &(struct http1_limits){.max_body = UINT64_MAX}))
        return false;
    int rc = framing.kind == HTTP1_BODY_NONE ? HTTP1_BODY_DONE : HTTP1_INCOMPLETE;
    while (rc == HTTP1_INCOMPLETE) {
        uint64_t want = http1_body_wanted(&dec);
        size_t ask = want && want < PIECE_MAX * 4 ? (size_t)want : PIECE_MAX * 4;
        struct iostream_bytes *got;
        future_t *f = iostream_read_bytes(c->upstream, ask, true);
        future_ref(f); /* got must outlive the waits of conn_forward */
        if (conn_await(c, f, (void **)&got)) {
            future_unref(f);
            rc = coro_error_code() == IOSTREAM_CLOSED ? http1_body_finish(&dec) : -1;
            break;
        }
        size_t off = 0, used;
        const char *d;
        size_t dlen;
        do {
            rc = http1_body_decode(&dec, got->data + off, got->len - off, &used, &d, &dlen);
            off += used;
        } while (rc == HTTP1_BODY_DATA && off < got->len);
        if (rc == HTTP1_BODY_DATA)
            rc = http1_body_wanted(&dec) || framing.kind != HTTP1_BODY_LENGTH ? HTTP1_INCOMPLETE
                                                                             : HTTP1_BODY_DONE;
        if (!conn_forward(c, got->data, off))
            rc = -1;
        future_unref(f);
    }
    http1_body_free(&dec);
    return rc == HTTP1_BODY_DONE;
}

/* Sends the request upstream and relays the answer. Returns whether it all went through. */
static bool conn_exchange(struct conn *c, const struct http1_request *req, const struct url *u,
                          const struct sockaddr_storage *addr, socklen_t len,
                          const struct iostream_bytes *body, double latency_ms)
{
    chaos_proxy_t *p = c->proxy;
    struct strbuf out = {0};
    build_request(&out, req, u);
    if (body)
        strbuf_add(&out, body->data, body->len);
    future_unref(iostream_connect((const struct sockaddr *)addr, len, NULL, &c->upstream));
    int err = conn_await(c, iostream_write(c->upstream, out.p, out.len), NULL);
    strbuf_free(&out);
    struct iostream_bytes *head;
    if (!err)
        err = conn_await(c, iostream_read_until(c->upstream, "\r\n\r\n", p->o.max_head),
                         (void **)&head);
    struct http1_response resp;
    if (err || http1_parse_response(head->data, head->len, &resp, NULL) <= 0) {
        if (!iostream_closed(c->client))
            conn_answer(c, 502, err ? coro_error() : "malformed response upstream");
        return false;
    }
    /* The head is the stream's only until the next wait: take what is needed now. */
    struct strbuf h = {0};
    build_response(&h, &resp, latency_ms);
    char method[16];
    snprintf(method, sizeof method, "%.*s", (int)req->method.len, req->method.p);
    struct http1_framing framing = http1_response_framing(&resp, method);
    bool ok = conn_pause(c, scaled(p, latency_ms)) && conn_forward(c, h.p, h.len) &&
              conn_relay_body(c, framing);
    strbuf_free(&h);
    return ok;
}

/* Reads the request's body, if it has a length, into *f (ours to unref: the body lives
 * as long as it). Returns 0, or an HTTP status, or -1 when the client failed us. */
static int conn_read_body(struct conn *c, const struct http1_request *req, future_t **f,
                          struct iostream_bytes **body)
{
    *f = NULL;
    *body = NULL;
    if (req->framing.kind == HTTP1_BODY_CHUNKED)
        return 411;
    if (req->framing.kind != HTTP1_BODY_LENGTH || req->framing.length == 0)
        return 0;
    if (req->framing.length > BODY_MAX)
        return 413;
    *f = iostream_read_bytes(c->client, (size_t)req->framing.length, false);
    future_ref(*f);
    return conn_await(c, *f, (void **)body) ? -1 : 0;
}

/* After the head: the body, then a reset or the exchange, as the generator says. */
static void conn_proxy(struct conn *c, const struct http1_request *req, const struct url *u,
                       const struct sockaddr_storage *addr, socklen_t len)
{
    chaos_proxy_t *p = c->proxy;
    future_t *body_future;
    struct iostream_bytes *body;
    int status = conn_read_body(c, req, &body_future, &body);
    if (status > 0)
        conn_answer(c, status, "request body refused");
    if (status == 0 && chaos_rng_chance(&p->rng, p->o.reset_prob)) {
        p->stats.resets++;
        conn_reset(c);
    } else if (status == 0) {
        double latency = chaos_rng_range(&p->rng, p->o.latency_min, p->o.latency_max);
        p->stats.responses += conn_exchange(c, req, u, addr, len, body, latency);
    }
    if (body_future)
        future_unref(body_future);
}

static void conn_serve(struct conn *c)
{
    chaos_proxy_t *p = c->proxy;
    struct iostream_bytes *head;
    int err = conn_await(c, iostream_read_until(c->client, "\r\n\r\n", p->o.max_head),
                         (void **)&head);
    if (err == EMSGSIZE)
        conn_answer(c, 431, "request head too large");
    if (err)
        return;
    struct http1_request req;
    struct http1_limits lim = {.max_head = p->o.max_head};
    if (http1_parse_request(head->data, head->len, &req, &lim) <= 0) {
        conn_answer(c, 400, "malformed request");
        return;
    }
    p->stats.requests++;
    /* The head lives only until the next wait: parse a copy that lasts. */
    char *copy = malloc(head->len);
    memcpy(copy, head->data, head->len);
    http1_parse_request(copy, head->len, &req, &lim);
    struct url u;
    struct sockaddr_storage addr;
    socklen_t len;
    const char *why = "";
    int code = conn_route(c, &req, &u, &addr, &len, &why);
    if (code) {
        conn_answer(c, code, why);
    } else {
        conn_proxy(c, &req, &u, &addr, len);
        url_free(&u);
    }
    free(copy);
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    chaos_proxy_t *p = c->proxy;
    conn_serve(c);
    iostream_free(c->client);
    if (c->upstream)
        iostream_free(c->upstream);
    *(c->prev ? &c->prev->next : &p->conns) = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    if (--p->nconns == 0 && p->freeing)
        chaos_proxy_free(p);
    return NULL;
}

static void on_accept(int fd, int events, void *arg)
{
    (void)events;
    chaos_proxy_t *p = arg;
    int cfd;
    while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        struct conn *c = calloc(1, sizeof *c);
        struct iostream_options so = {.overlong_keeps_open = true};
        *c = (struct conn){.proxy = p, .client = iostream_new(cfd, &so), .next = p->conns};
        if (p->conns)
            p->conns->prev = c;
        p->conns = c;
        p->nconns++;
        p->stats.connections++;
        coro_spawn_callback("chaos_conn", conn_main, c);
    }
}

int chaos_proxy_listen(chaos_proxy_t *p, const char *address, int port)
{
    struct sockaddr_storage addr;
    socklen_t len;
    if (host_address(address, port, true, &addr, &len) < 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&addr, len) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) < 0 ||
        ioloop_add_handler(p->loop, fd, IOLOOP_READ, on_accept, p) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    p->listen_fd = fd;
    p->port = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                               : ((struct sockaddr_in *)&addr)->sin_port);
    return 0;
}

int chaos_proxy_port(const chaos_proxy_t *p)
{
    return p->port;
}

const struct chaos_stats *chaos_proxy_stats(const chaos_proxy_t *p)
{
    return &p->stats;
}

size_t chaos_proxy_connections(const chaos_proxy_t *p)
{
    return p->nconns;
}

void chaos_proxy_close(chaos_proxy_t *p)
{
    if (p->listen_fd >= 0) {
        ioloop_remove_handler(p->loop, p->listen_fd);
        close(p->listen_fd);
        p->listen_fd = -1;
    }
    if (p->redraw) {
        ioloop_periodic_free(p->redraw);
        p->redraw = NULL;
    }
    for (struct conn *c = p->conns; c; c = c->next) {
        iostream_close(c->client);
        if (c->upstream)
            iostream_close(c->upstream);
    }
}

void chaos_proxy_free(chaos_proxy_t *p)
{
    chaos_proxy_close(p);
    p->freeing = true;
    if (p->nconns > 0)
        return;
    free(p->up_host);
    free(p);
}
