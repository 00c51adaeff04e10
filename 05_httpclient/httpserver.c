/* httpserver — see httpserver.h for the story. The parts, in reading order: routes,
 * the response (headers, flush, finish), the connection's coroutine, listening. */
#include "httpserver.h"

#include "coro.h"
#include "iostream.h"
#include "loop_internal.h"
#include "strbuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SERVER_NAME "TornadoServer-C/0.5"
#define ACCEPTS_PER_EVENT 128 /* Tornado's netutil.add_accept_handler */

/* ---- routes ------------------------------------------------------------------------ */

struct route {
    regex_t re;
    const struct handler_class *cls;
    void *data;
    void *owned; /* freed with the route: app_add_static's root */
    struct route *next;
};

struct app {
    struct route *first, **tail;
};

app_t *app_new(void)
{
    app_t *a = loop_xmalloc(sizeof *a);
    a->first = NULL;
    a->tail = &a->first;
    return a;
}

/* The new last route, or NULL with errno EINVAL. */
static struct route *route_add(app_t *app, const char *pattern, const struct handler_class *cls,
                               void *data)
{
    /* Anchored at both ends, as Tornado's PathMatches: the whole path must match. Group
     * 1 is our wrapper; the pattern's own groups start at 2. */
    size_t n = strlen(pattern) + 5;
    char *anchored = loop_xmalloc(n);
    snprintf(anchored, n, "^(%s)$", pattern);
    struct route *r = loop_xmalloc(sizeof *r);
    int rc = regcomp(&r->re, anchored, REG_EXTENDED);
    free(anchored);
    if (rc != 0) {
        free(r);
        errno = EINVAL;
        return NULL;
    }
    r->cls = cls;
    r->data = data;
    r->owned = NULL;
    r->next = NULL;
    *app->tail = r;
    app->tail = &r->next;
    return r;
}

int app_add(app_t *app, const char *pattern, const struct handler_class *cls, void *data)
{
    return route_add(app, pattern, cls, data) ? 0 : -1;
}

int app_add_owned(app_t *app, const char *pattern, const struct handler_class *cls, void *data)
{
    struct route *r = route_add(app, pattern, cls, data);
    if (!r)
        return -1;
    r->owned = data;
    return 0;
}

void app_free(app_t *app)
{
    if (!app)
        return;
    for (struct route *r = app->first, *next; r; r = next) {
        next = r->next;
        regfree(&r->re);
        free(r->owned);
        free(r);
    }
    free(app);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Path arguments are URL-unquoted, as Tornado's _unquote_or_none does. */
static char *unquote(const char *s, size_t n)
{
    char *d = loop_xmalloc(n + 1), *o = d;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n &&
            (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return d;
}

/* ---- handler state ----------------------------------------------------------------- */

struct conn;

struct handler {
    struct conn *conn;
    const struct handler_class *cls;
    void *data;

    /* the request */
    char *method, *path, *query; /* in one allocation, method's */
    struct http1_request req; /* points into head */
    char *head;
    struct strbuf body;
    char **args;
    size_t nargs;

    /* the response */
    int status;
    const char *reason;    /* a standard phrase, or reason_owned */
    char *reason_owned;
    struct strbuf headers; /* "Name: value\r\n" lines */
    bool framing_set;      /* headers may hold Content-Length, Transfer-Encoding, Connection */
    struct strbuf out;     /* written, not yet sent */
    bool headers_sent, chunked, finished, asynchronous, keep_alive;
    bool length_declared;     /* the handler set Content-Length: sent as is, never chunked */
    uint64_t declared_length;
    char remote_ip[64];       /* the peer's, or the proxy's word for it (xheaders) */
    const char *protocol;     /* "http", or X-Scheme's "https" (xheaders) */
    future_t *done; /* resolved by handler_finish; the connection waits for it */
};

struct conn {
    httpserver_t *server;
    iostream_t *stream;
    future_t *last_write; /* the newest write; awaited before closing */
    bool refused;         /* answered 400/413 while the client may still be sending */
    void (*on_server_close)(void *arg); /* a detached protocol's own goodbye */
    void *on_server_close_arg;
    char ip[INET6_ADDRSTRLEN];
    struct strbuf scratch; /* where a response head is built, kept between requests */
    struct conn *prev, *next;
};

struct httpserver {
    app_t *app;
    struct httpserver_options opt;
    int fd, port;
    struct conn *conns;
    size_t nconns;
    bool accepting, closing, free_pending;
};

const char *handler_method(const handler_t *h) { return h->method; }
const char *handler_path(const handler_t *h) { return h->path; }
const char *handler_query(const handler_t *h) { return h->query; }
const char *handler_remote_ip(const handler_t *h) { return h->remote_ip; }
const char *handler_protocol(const handler_t *h) { return h->protocol; }
const struct http1_fields *handler_headers(const handler_t *h) { return &h->req.headers; }
const struct http1_request *handler_request(const handler_t *h) { return &h->req; }
size_t handler_nargs(const handler_t *h) { return h->nargs; }
const char *handler_arg(const handler_t *h, size_t i) { return i < h->nargs ? h->args[i] : NULL; }
void *handler_data(const handler_t *h) { return h->data; }
int handler_status(const handler_t *h) { return h->status; }
bool handler_finished(const handler_t *h) { return h->finished; }
void handler_asynchronous(handler_t *h) { h->asynchronous = true; }

bool handler_connection_closed(const handler_t *h)
{
    return iostream_closed(h->conn->stream);
}

struct http1_str handler_header(const handler_t *h, const char *name)
{
    const struct http1_header *f = http1_header_get(&h->req.headers, name);
    return f ? f->value : (struct http1_str){NULL, 0};
}

const char *handler_body(const handler_t *h, size_t *len)
{
    if (len)
        *len = h->body.len;
    return h->body.p ? h->body.p : "";
}

/* ---- the response ------------------------------------------------------------------ */

const char *http_reason(int code)
{
    static const struct {
        int code;
        const char *reason;
    } table[] = {
        {100, "Continue"}, {200, "OK"}, {201, "Created"}, {202, "Accepted"},
        {204, "No Content"}, {206, "Partial Content"}, {301, "Moved Permanently"},
        {302, "Found"}, {303, "See Other"}, {304, "Not Modified"},
        {307, "Temporary Redirect"}, {308, "Permanent Redirect"}, {400, "Bad Request"},
        {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {408, "Request Timeout"}, {411, "Length Required"},
        {413, "Content Too Large"}, {414, "URI Too Long"},
        {431, "Request Header Fields Too Large"}, {500, "Internal Server Error"},
        {501, "Not Implemented"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == code)
            return table[i].reason;
    return "Unknown";
}

void handler_set_status(handler_t *h, int code, const char *reason)
{
    h->status = code;
    free(h->reason_owned);
    h->reason_owned = NULL;
    if (reason && strpbrk(reason, "\r\n")) /* it goes on the status line: no injection */
        reason = NULL;
    h->reason = reason ? (h->reason_owned = loop_xstrdup(reason)) : http_reason(code);
}

#define HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7) */

static void http_date(char *buf, size_t cap, time_t t)
{
    struct tm tm;
    strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
}

/* Now as an HTTP date, formatted once a second rather than once a response. */
static const char *http_date_now(void)
{
    static __thread time_t formatted = -1;
    static __thread char date[HTTP_DATE_LEN + 1];
    time_t now = time(NULL);
    if (now != formatted) {
        http_date(date, sizeof date, now);
        formatted = now;
    }
    return date;
}

/* Removes the line of header `name` from h->headers, if any. */
static void header_remove(handler_t *h, const char *name)
{
    size_t n = strlen(name);
    char *p = h->headers.p;
    while (p && *p) {
        char *end = strstr(p, "\r\n") + 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            memmove(p, end, strlen(end) + 1);
            h->headers.len -= (size_t)(end - p);
            return;
        }
        p = end;
    }
}

int handler_set_header(handler_t *h, const char *name, const char *value)
{
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) { /* header injection */
        errno = EINVAL;
        return -1;
    }
    header_remove(h, name);
    strbuf_add(&h->headers, name, strlen(name));
    strbuf_add(&h->headers, ": ", 2);
    strbuf_add(&h->headers, value, strlen(value));
    strbuf_add(&h->headers, "\r\n", 2);
    h->framing_set |= !strcasecmp(name, "Content-Length") ||
                      !strcasecmp(name, "Transfer-Encoding") || !strcasecmp(name, "Connection");
    if (strcasecmp(name, "Content-Length") == 0) { /* the handler's promise: no chunks */
        char *end;
        errno = 0;
        h->declared_length = strtoull(value, &end, 10);
        h->length_declared = end != value && !*end && errno == 0;
    }
    return 0;
}

/* Tornado's clear(): the default headers of every response. */
static void response_clear(handler_t *h)
{
    static const char defaults[] = "Server: " SERVER_NAME "\r\n"
                                   "Content-Type: text/html; charset=UTF-8\r\n"
                                   "Date: ";
    h->headers.len = 0;
    h->out.len = 0;
    h->length_declared = h->framing_set = false;
    handler_set_status(h, 200, NULL);
    strbuf_add(&h->headers, defaults, sizeof defaults - 1);
    strbuf_add(&h->headers, http_date_now(), HTTP_DATE_LEN);
    strbuf_add(&h->headers, "\r\n", 2);
}

int handler_write(handler_t *h, const void *data, size_t len)
{
    if (h->finished) {
        errno = EALREADY;
        return -1;
    }
    strbuf_add(&h->out, data, len);
    return 0;
}

static bool is_head(const handler_t *h)
{
    return strcmp(h->method, "HEAD") == 0;
}

/* 1xx, 204 and 304 never have a body (RFC 9110 §6.4.1). */
static bool bodiless_status(int code)
{
    return code < 200 || code == 204 || code == 304;
}

/* Hands bytes to the stream, remembering the write so that a close waits for it. */
static void conn_send(struct conn *c, const void *data, size_t len)
{
    future_t *w = iostream_write(c->stream, data, len);
    future_unref(c->last_write);
    c->last_write = w;
}

/* Appends the status line, the headers, and the framing headers the server owns. */
static void head_build(handler_t *h, bool final, struct strbuf *head)
{
    char status[16];
    snprintf(status, sizeof status, "HTTP/1.%d %03d ", h->req.minor_version == 0 ? 0 : 1,
             h->status % 1000);
    strbuf_add(head, status, 13);
    strbuf_add(head, h->reason, strlen(h->reason));
    strbuf_add(head, "\r\n", 2);
    if (h->framing_set) {
        header_remove(h, "Content-Length");
        header_remove(h, "Transfer-Encoding");
        header_remove(h, "Connection");
    }
    strbuf_add(head, h->headers.p, h->headers.len);
    if (h->length_declared && !bodiless_status(h->status)) {
        strbuf_addf(head, "Content-Length: %llu\r\n", (unsigned long long)h->declared_length);
    } else if (final) {
        if (!bodiless_status(h->status))
            strbuf_addf(head, "Content-Length: %zu\r\n", h->out.len);
    } else if (h->req.minor_version == 1) {
        h->chunked = !bodiless_status(h->status);
        if (h->chunked)
            strbuf_add(head, "Transfer-Encoding: chunked\r\n", 28);
    } else {
        h->keep_alive = false; /* HTTP/1.0 has no chunks: the close ends the body */
    }
    if (!h->keep_alive)
        strbuf_add(head, "Connection: close\r\n", 19);
    else if (h->req.minor_version == 0)
        strbuf_add(head, "Connection: keep-alive\r\n", 24);
    strbuf_add(head, "\r\n", 2);
    h->headers_sent = true;
}

/* Whether the bytes written go out: not for HEAD, nor with a status that has no body. */
static bool body_allowed(const handler_t *h)
{
    return !is_head(h) && !bodiless_status(h->status);
}

/* The head, and with final the whole body after it: one write, one send. */
static void send_head(handler_t *h, bool final)
{
    struct strbuf *head = &h->conn->scratch;
    head->len = 0;
    head_build(h, final, head);
    if (final && body_allowed(h)) {
        strbuf_add(head, h->out.p, h->out.len);
        h->out.len = 0;
    }
    conn_send(h->conn, head->p, head->len);
}

/* Sends what was written since the last flush, framed as the head said. */
static void send_out(handler_t *h)
{
    if (h->out.len && body_allowed(h)) {
        if (h->chunked) {
            char size[32];
            int n = snprintf(size, sizeof size, "%zx\r\n", h->out.len);
            strbuf_add(&h->out, "\r\n", 2);
            conn_send(h->conn, size, (size_t)n);
        }
        conn_send(h->conn, h->out.p, h->out.len);
    }
    h->out.len = 0;
}

future_t *handler_flush(handler_t *h)
{
    if (!h->finished) {
        if (!h->headers_sent)
            send_head(h, false);
        send_out(h);
    }
    future_t *w = h->conn->last_write;
    if (!w) { /* nothing was ever sent (a closed stream): a done future */
        w = future_new("flush");
        future_set_result(w, NULL);
        return w;
    }
    future_ref(w);
    return w;
}

int handler_finish(handler_t *h)
{
    if (h->finished) {
        errno = EALREADY;
        return -1;
    }
    if (!h->headers_sent) {
        send_head(h, true);
        send_out(h);
    } else {
        send_out(h);
        if (h->chunked && !is_head(h))
            conn_send(h->conn, "0\r\n\r\n", 5);
    }
    h->finished = true;
    future_set_result(h->done, NULL);
    return 0;
}

iostream_t *handler_detach(handler_t *h, void (*on_server_close)(void *arg), void *arg)
{
    h->conn->on_server_close = on_server_close;
    h->conn->on_server_close_arg = arg;
    h->keep_alive = false;
    if (!h->finished) /* again: only the hook changes */
        future_set_result(h->done, NULL);
    h->finished = true;
    return h->conn->stream;
}

/* Tornado's default write_error: a tiny page naming the code. */
static void default_write_error(handler_t *h, int code)
{
    char page[256];
    int n = snprintf(page, sizeof page,
                     "<html><title>%d: %s</title><body>%d: %s</body></html>", code,
                     h->reason, code, h->reason);
    handler_write(h, page, (size_t)n);
}

void handler_send_error(handler_t *h, int code)
{
    if (h->finished)
        return;
    if (h->headers_sent) { /* too late for a page: end it, and the connection */
        h->keep_alive = false;
        handler_finish(h);
        return;
    }
    response_clear(h);
    handler_set_status(h, code, NULL);
    (h->cls && h->cls->write_error ? h->cls->write_error : default_write_error)(h, code);
    handler_finish(h);
}

void handler_redirect(handler_t *h, const char *url, bool permanent)
{
    if (h->finished || h->headers_sent)
        return;
    handler_set_status(h, permanent ? 301 : 302, NULL);
    if (handler_set_header(h, "Location", url) < 0) {
        handler_send_error(h, 500);
        return;
    }
    handler_finish(h);
}

/* ---- dispatch ---------------------------------------------------------------------- */

static handler_fn *method_fn(const struct handler_class *cls, const char *m)
{
    const struct {
        const char *name;
        handler_fn *fn;
    } map[] = {{"GET", cls->get},         {"POST", cls->post},   {"PUT", cls->put},
               {"DELETE", cls->delete_},  {"HEAD", cls->head},   {"PATCH", cls->patch},
               {"OPTIONS", cls->options}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, m) == 0)
            return map[i].fn;
    return NULL;
}

/* "GET, POST": the methods cls answers, for the Allow header of a 405. */
static void allow_header(handler_t *h)
{
    static const char *names[] = {"GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"};
    char allow[128] = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (method_fn(h->cls, names[i])) {
            if (allow[0])
                strcat(allow, ", ");
            strcat(allow, names[i]);
        }
    handler_set_header(h, "Allow", allow);
}

/* The first route matching the whole path; fills h's class, data and arguments. */
static bool route_find(app_t *app, handler_t *h)
{
    regmatch_t small[8];
    for (struct route *r = app->first; r; r = r->next) {
        size_t nm = r->re.re_nsub + 1;
        regmatch_t *m = nm <= 8 ? small : loop_xmalloc(nm * sizeof *m);
        if (regexec(&r->re, h->path, nm, m, 0) == 0) {
            h->cls = r->cls;
            h->data = r->data;
            h->nargs = nm - 2;
            h->args = h->nargs ? loop_xmalloc(h->nargs * sizeof *h->args) : NULL;
            for (size_t i = 0; i < h->nargs; i++) {
                regmatch_t g = m[i + 2];
                h->args[i] = g.rm_so < 0 ? NULL
                                         : unquote(h->path + g.rm_so, (size_t)(g.rm_eo - g.rm_so));
            }
            if (m != small)
                free(m);
            return true;
        }
        if (m != small)
            free(m);
    }
    return false;
}

/* Tornado's _execute: route, method, the handler, then finish unless it is async. */
static void handler_run(app_t *app, handler_t *h)
{
    if (!route_find(app, h)) {
        handler_send_error(h, 404);
        return;
    }
    handler_fn *fn = method_fn(h->cls, h->method);
    if (!fn) {
        allow_header(h);
        handler_set_status(h, 405, NULL);
        default_write_error(h, 405);
        handler_finish(h);
        return;
    }
    fn(h);
    if (!h->finished && !h->asynchronous)
        handler_finish(h);
}

static void handler_free(handler_t *h)
{
    free(h->method);
    free(h->head);
    free(h->body.p);
    for (size_t i = 0; i < h->nargs; i++)
        free(h->args[i]);
    free(h->args);
    free(h->reason_owned);
    free(h->headers.p);
    free(h->out.p);
    future_unref(h->done);
    free(h);
}

/* ---- static files ------------------------------------------------------------------ */

#define STATIC_CHUNK 65536 /* bytes read and sent at a time: memory stays bounded */

/* The Content-Type of a file name, by its extension, as Python's mimetypes says. */
static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html"}, {"htm", "text/html"}, {"css", "text/css"},
        {"js", "application/javascript"}, {"mjs", "application/javascript"},
        {"json", "application/json"}, {"txt", "text/plain"}, {"xml", "application/xml"},
        {"csv", "text/csv"}, {"png", "image/png"}, {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"}, {"gif", "image/gif"}, {"svg", "image/svg+xml"},
        {"ico", "image/vnd.microsoft.icon"}, {"webp", "image/webp"},
        {"wasm", "application/wasm"}, {"pdf", "application/pdf"}, {"woff2", "font/woff2"},
        {"mp4", "video/mp4"}, {"gz", "application/gzip"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* Where rel (the route's group, already unquoted: %2e%2e is "..") lies under root, in
 * out. Returns 0, 403 for what leaves the root (an absolute path, a ".." segment, a
 * symlink pointing out), or 404. */
static int static_resolve(const char *root, const char *rel, char out[PATH_MAX])
{
    if (!rel)
        rel = "";
    if (rel[0] == '/')
        return 403;
    for (const char *p = rel;; p++) {
        const char *slash = strchrnul(p, '/');
        if (slash - p == 2 && p[0] == '.' && p[1] == '.')
            return 403;
        if (!*slash)
            break;
        p = slash;
    }
    char joined[PATH_MAX];
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", root, rel) >= sizeof joined)
        return 404;
    if (!realpath(joined, out))
        return errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG ? 404 : 403;
    size_t n = strlen(root);
    bool inside = strncmp(out, root, n) == 0 && (out[n] == '/' || out[n] == '\0' || n == 1);
    return inside ? 0 : 403; /* Tornado: "is not in root static directory" */
}

/* Opens a regular file (a directory or a device is 403). Returns the fd, or -code. */
static int static_open(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY); /* a FIFO: no wait */
    if (fd < 0)
        return errno == ENOENT ? -404 : -403;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -403;
    }
    return fd;
}

/* A Range number: digits between optional blanks; none is "absent". Numbers past 2^62
 * count as 2^62 (beyond any file), so garbage like 99999999999999999999999 cannot wrap. */
static bool range_number(const char *p, const char *e, bool *has, uint64_t *v)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *has = p < e;
    for (*v = 0; p < e; p++) {
        if (*p < '0' || *p > '9')
            return false;
        *v = *v >= ((uint64_t)1 << 62) / 10 ? (uint64_t)1 << 62 : *v * 10 + (uint64_t)(*p - '0');
    }
    return true;
}

enum { RANGE_ALL, RANGE_PART, RANGE_UNSATISFIABLE };

/* Whether s[0, n), blanks around it aside, is word. */
static bool span_is(const char *s, size_t n, const char *word)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* Tornado's _parse_request_range and StaticFileHandler.get: one "bytes=a-b", "a-" or
 * "-n" against a file of size bytes, as [*start, *end). Anything else (another unit,
 * several ranges, garbage) is ignored: the whole file, as Tornado sends it. As in
 * Tornado, a first byte past the end, "a-b" with b < a, and "-0" are unsatisfiable. */
static int range_resolve(struct http1_str hdr, uint64_t size, uint64_t *start, uint64_t *end)
{
    *start = 0;
    *end = size;
    const char *eq = hdr.p ? memchr(hdr.p, '=', hdr.len) : NULL;
    if (!eq || !span_is(hdr.p, (size_t)(eq - hdr.p), "bytes"))
        return RANGE_ALL;
    const char *v = eq + 1, *e = hdr.p + hdr.len, *dash = memchr(v, '-', (size_t)(e - v));
    bool has_a, has_b = false;
    uint64_t a, b = 0;
    if (!range_number(v, dash ? dash : e, &has_a, &a) ||
        (dash && !range_number(dash + 1, e, &has_b, &b)))
        return RANGE_ALL;
    if (has_b && !has_a && b == 0)
        return RANGE_UNSATISFIABLE; /* "-0": nothing at all */
    if (has_b && !has_a) {          /* the last b bytes */
        a = b >= size ? 0 : size - b;
        has_a = true;
        has_b = false;
    } else if (has_b) {
        b++; /* inclusive on the wire, exclusive here */
    }
    if (has_a && (a >= size || (has_b && a >= b)))
        return RANGE_UNSATISFIABLE;
    *start = has_a ? a : 0;
    *end = has_b && b < size ? b : size;
    return *end - *start == size ? RANGE_ALL : RANGE_PART;
}

/* Tornado's check_etag_header: If-None-Match holds "*" first, or an entity-tag equal to
 * etag, compared weakly (W/ aside). Tokens are found as Tornado's regex finds them. */
static bool etag_matches(struct http1_str inm, const char *etag)
{
    const char *p = inm.p, *e = inm.p + inm.len;
    for (bool first = true; p < e; p++) {
        if (*p == '*' && first)
            return true;
        const char *q = e - p >= 3 && memcmp(p, "W/\"", 3) == 0 ? p + 2 : *p == '"' ? p : NULL;
        const char *close = q ? memchr(q + 1, '"', (size_t)(e - q - 1)) : NULL;
        if (*p == '*' || close)
            first = false;
        if (!close)
            continue;
        if ((size_t)(close - q + 1) == strlen(etag) && memcmp(q, etag, strlen(etag)) == 0)
            return true;
        p = close;
    }
    return false;
}

/* Tornado's should_return_304: If-None-Match when sent, else If-Modified-Since (an
 * IMF-fixdate) not older than the file. */
static bool not_modified(const handler_t *h, const char *etag, time_t mtime)
{
    struct http1_str inm = handler_header(h, "If-None-Match");
    if (inm.len)
        return etag_matches(inm, etag);
    struct http1_str ims = handler_header(h, "If-Modified-Since");
    char date[64];
    struct tm tm = {0};
    if (!ims.p || ims.len >= sizeof date)
        return false;
    memcpy(date, ims.p, ims.len);
    date[ims.len] = '\0';
    const char *rest = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return rest && !*rest && timegm(&tm) >= mtime;
}

/* Sends [start, end) of fd a piece at a time, each handed to the kernel before the next
 * is read: a big file never sits in memory, and a client gone stops the reading. */
static void static_send(handler_t *h, int fd, uint64_t start, uint64_t end)
{
    char *buf = loop_xmalloc(STATIC_CHUNK);
    while (start < end) {
        size_t want = end - start < STATIC_CHUNK ? (size_t)(end - start) : STATIC_CHUNK;
        ssize_t n = pread(fd, buf, want, (off_t)start);
        if (n <= 0) { /* the file shrank: the promised length cannot be kept */
            iostream_close(h->conn->stream);
            break;
        }
        handler_write(h, buf, (size_t)n);
        start += (uint64_t)n;
        if (start < end && coro_await(handler_flush(h), NULL) != 0)
            break; /* the client is gone */
    }
    free(buf);
}

/* The representation headers; false (and the answer sent) when no body is due. */
static bool static_headers(handler_t *h, const struct stat *st, uint64_t *start, uint64_t *end)
{
    char etag[64], date[64], range[96];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st->st_mtime,
             (unsigned long long)st->st_size);
    http_date(date, sizeof date, st->st_mtime);
    handler_set_header(h, "Accept-Ranges", "bytes");
    handler_set_header(h, "Etag", etag);
    handler_set_header(h, "Last-Modified", date);
    handler_set_header(h, "Content-Type", content_type(h->path));
    if (not_modified(h, etag, st->st_mtime)) {
        handler_set_status(h, 304, NULL);
        header_remove(h, "Content-Type");
        return false;
    }
    uint64_t size = (uint64_t)st->st_size;
    int r = range_resolve(handler_header(h, "Range"), size, start, end);
    if (r == RANGE_UNSATISFIABLE) {
        handler_set_status(h, 416, NULL);
        handler_set_header(h, "Content-Type", "text/plain");
        snprintf(range, sizeof range, "bytes */%llu", (unsigned long long)size);
        handler_set_header(h, "Content-Range", range);
        return false;
    }
    if (r == RANGE_PART) {
        handler_set_status(h, 206, NULL);
        snprintf(range, sizeof range, "bytes %llu-%llu/%llu", (unsigned long long)*start,
                 (unsigned long long)*end - 1, (unsigned long long)size);
        handler_set_header(h, "Content-Range", range);
    }
    char length[32];
    snprintf(length, sizeof length, "%llu", (unsigned long long)(*end - *start));
    handler_set_header(h, "Content-Length", length);
    return true;
}

/* Tornado's StaticFileHandler.get (and head): the file under the route's root named by
 * its first group. */
static void static_get(handler_t *h)
{
    char path[PATH_MAX];
    struct stat st;
    /* a NUL would cut the unquoted name short: "a.txt%00.png" */
    int code = strstr(h->path, "%00") ? 404
                                      : static_resolve(handler_data(h), handler_arg(h, 0), path);
    int fd = code ? -code : static_open(path, &st);
    if (fd < 0) {
        handler_send_error(h, -fd);
        return;
    }
    uint64_t start, end;
    if (static_headers(h, &st, &start, &end) && !is_head(h))
        static_send(h, fd, start, end);
    close(fd);
}

static const struct handler_class static_files = {.get = static_get, .head = static_get};

int app_add_static(app_t *app, const char *pattern, const char *root)
{
    char *real = realpath(root, NULL);
    struct stat st;
    if (!real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
        int e = real ? ENOTDIR : errno;
        free(real);
        errno = e;
        return -1;
    }
    struct route *r = route_add(app, pattern, &static_files, real);
    if (!r) {
        free(real);
        return -1;
    }
    r->owned = real;
    return 0;
}

/* ---- the connection ---------------------------------------------------------------- */

/* An error the server answers itself, then closes: Tornado's bare 400. */
static void conn_refuse(struct conn *c, int code)
{
    char msg[128];
    int n = snprintf(msg, sizeof msg, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                     code, http_reason(code));
    if (!iostream_closed(c->stream)) {
        conn_send(c, msg, (size_t)n);
        c->refused = true;
    }
}

/* Idle too long, or a body too slow: closing the stream fails the pending read. */
static void conn_idle(void *arg)
{
    struct conn *c = arg;
    iostream_close(c->stream);
}

/* Copies n bytes of src to dst as a C string; returns where the next one goes. */
static char *put_string(char *dst, const char *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
    return dst + n + 1;
}

/* Method, path and query from the request line, in one allocation. The absolute form a
 * proxy is sent ("http://host:8080/p?q", RFC 9112 §3.2.2) loses its scheme and
 * authority; "http://host?q" is "/" and "q". */
static void target_split(handler_t *h)
{
    const char *t = h->req.target.p, *end = t + h->req.target.len;
    size_t scheme = strncasecmp(t, "http://", 7) == 0    ? 7
                    : strncasecmp(t, "https://", 8) == 0 ? 8
                                                         : 0;
    if (scheme)
        for (t += scheme; t < end && *t != '/' && *t != '?';)
            t++;
    const char *q = memchr(t, '?', (size_t)(end - t)), *pend = q ? q : end;
    const char *path = scheme && pend == t ? "/" : t;
    size_t plen = scheme && pend == t ? 1 : (size_t)(pend - t);
    size_t qlen = q ? (size_t)(end - q - 1) : 0;
    struct http1_str m = h->req.method;
    h->method = loop_xmalloc(m.len + plen + qlen + 3);
    h->path = put_string(h->method, m.p, m.len);
    h->query = put_string(h->path, path, plen);
    put_string(h->query, q ? q + 1 : "", qlen);
}

/* The last comma-separated item of header `name` (its last line, as Tornado joins
 * repeated lines with commas), trimmed; {NULL, 0} if there is no such header. */
static struct http1_str header_last_item(const handler_t *h, const char *name)
{
    struct http1_str v = {NULL, 0};
    const struct http1_fields *f = &h->req.headers;
    for (size_t i = 0; i < f->count; i++) {
        struct http1_str n = f->at[i].name;
        if (n.len == strlen(name) && strncasecmp(n.p, name, n.len) == 0)
            v = f->at[i].value;
    }
    if (!v.p)
        return v;
    const char *comma = memrchr(v.p, ',', v.len), *end = v.p + v.len;
    const char *p = comma ? comma + 1 : v.p;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return (struct http1_str){p, (size_t)(end - p)};
}

/* Copies v into dst if it is an IP literal: Tornado's netutil.is_valid_ip, what
 * getaddrinfo takes as a numeric host. */
static bool ip_take(char *dst, size_t cap, struct http1_str v)
{
    char ip[64];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *res;
    if (!v.p || v.len == 0 || v.len >= sizeof ip || memchr(v.p, '\0', v.len))
        return false;
    memcpy(ip, v.p, v.len);
    ip[v.len] = '\0';
    if (getaddrinfo(ip, NULL, &hints, &res) != 0)
        return false;
    freeaddrinfo(res);
    snprintf(dst, cap, "%s", ip);
    return true;
}

/* Tornado's _apply_xheaders, for a server behind a proxy that says who the client is:
 * X-Real-IP, else the last address of X-Forwarded-For (the one the nearest proxy added),
 * and X-Scheme, else X-Forwarded-Proto. What is not an IP literal, or "http"/"https",
 * is ignored. */
static void apply_xheaders(handler_t *h)
{
    struct http1_str ip = handler_header(h, "X-Real-IP");
    ip_take(h->remote_ip, sizeof h->remote_ip, ip.p ? ip : header_last_item(h, "X-Forwarded-For"));
    struct http1_str proto = header_last_item(h, "X-Scheme");
    if (!proto.p)
        proto = header_last_item(h, "X-Forwarded-Proto");
    if (proto.len == 4 && memcmp(proto.p, "http", 4) == 0)
        h->protocol = "http";
    else if (proto.len == 5 && memcmp(proto.p, "https", 5) == 0)
        h->protocol = "https";
}

/* Reads the head of the next request into h. Returns 0, or the status to refuse it
 * with (400, 431), or -1 when the connection is over (closed, idle, server closing). */
static int read_head(struct conn *c, handler_t *h)
{
    const struct httpserver_options *o = &c->server->opt;
    /* A timer of our own, not coro_with_timeout: the read must not outlive the wait. */
    ioloop_timeout_t idle = ioloop_call_later(ioloop_current(), o->idle_connection_timeout,
                                              "idle_connection_timeout", conn_idle, c);
    struct iostream_bytes *b;
    int err = coro_await(iostream_read_until(c->stream, "\r\n\r\n", o->max_head), (void **)&b);
    ioloop_remove_timeout(ioloop_current(), idle);
    if (err == EMSGSIZE)
        return 431;
    if (err)
        return -1;
    h->head = loop_xstrndup(b->data, b->len);
    struct http1_limits lim = {.max_head = o->max_head, .max_body = o->max_body};
    int rc = http1_parse_request(h->head, b->len, &h->req, &lim);
    if (rc == HTTP1_EHEAD_TOO_LARGE)
        return 431;
    if (rc <= 0)
        return 400;
    target_split(h);
    snprintf(h->remote_ip, sizeof h->remote_ip, "%s", c->ip);
    h->protocol = "http";
    if (o->xheaders)
        apply_xheaders(h);
    return 0;
}

/* Feeds body bytes to the decoder and keeps what it emits. */
static int body_feed(handler_t *h, struct http1_body_decoder *d, const char *in, size_t len)
{
    int rc = HTTP1_INCOMPLETE;
    while (len > 0 || rc == HTTP1_BODY_DATA) {
        size_t used;
        const char *data;
        size_t dlen;
        rc = http1_body_decode(d, in, len, &used, &data, &dlen);
        if (rc < 0 || rc == HTTP1_BODY_DONE)
            return rc;
        strbuf_add(&h->body, data, dlen);
        in += used;
        len -= used; /* after data, one more call (even with nothing) may say DONE */
    }
    return rc;
}

/* Reads body bytes until the decoder is done. Returns as read_body does. */
static int read_body_bytes(struct conn *c, handler_t *h, struct http1_body_decoder *d)
{
    for (int rc = HTTP1_INCOMPLETE; rc != HTTP1_BODY_DONE;) {
        uint64_t want = http1_body_wanted(d);
        future_t *f = want ? iostream_read_bytes(c->stream, want < 65536 ? want : 65536, true)
                           : iostream_read_until(c->stream, "\r\n", HTTP1_MAX_CHUNK_LINE);
        struct iostream_bytes *b;
        int err = coro_await(f, (void **)&b);
        if (err)
            return err == EMSGSIZE ? 400 : -1;
        rc = body_feed(h, d, b->data, b->len);
        if (rc < 0)
            return rc == HTTP1_EBODY_TOO_LARGE ? 413 : 400;
    }
    return 0;
}

/* An HTTP/1.1 client that sent "Expect: 100-continue" waits for a word before sending
 * its body (curl waits a second, then sends anyway). */
static bool expects_continue(const handler_t *h)
{
    struct http1_str e = handler_header(h, "Expect");
    return h->req.minor_version == 1 && e.len == 12 && strncasecmp(e.p, "100-continue", 12) == 0;
}

/* Reads the body the head announced. Chunked bodies are read a line or a chunk at a
 * time, never past their end: what follows belongs to the next pipelined request.
 * Returns 0, a status to refuse with (400, 413), or -1 when the stream closed or the
 * body took longer than body_timeout. */
static int read_body(struct conn *c, handler_t *h)
{
    const struct httpserver_options *o = &c->server->opt;
    struct http1_limits lim = {.max_head = o->max_head, .max_body = o->max_body};
    struct http1_body_decoder d;
    if (http1_body_init(&d, h->req.framing, &lim) < 0)
        return 413; /* a declared length over max_body: refused before any 100 */
    struct http1_framing f = h->req.framing;
    if (f.kind == HTTP1_BODY_NONE || (f.kind == HTTP1_BODY_LENGTH && f.length == 0)) {
        http1_body_free(&d);
        return 0; /* nothing to wait for (and no 100 to send) */
    }
    if (expects_continue(h))
        conn_send(c, "HTTP/1.1 100 (Continue)\r\n\r\n", 27);
    ioloop_timeout_t timer = {0};
    if (o->body_timeout > 0) /* Tornado's gen.with_timeout on the whole body, then close */
        timer = ioloop_call_later(ioloop_current(), o->body_timeout, "body_timeout", conn_idle, c);
    int rc = read_body_bytes(c, h, &d);
    if (o->body_timeout > 0)
        ioloop_remove_timeout(ioloop_current(), timer);
    http1_body_free(&d);
    return rc;
}

/* Waits until the kernel has the responses so far. Tornado too finishes a response's
 * write before reading the next request; here it also keeps a client that half-closes
 * after its request from losing a response still in the buffer (an EOF seen by the next
 * read would close the stream and drop it). */
static void conn_drain(struct conn *c)
{
    if (c->last_write && !iostream_closed(c->stream))
        coro_await(c->last_write, NULL);
    else
        future_unref(c->last_write);
    c->last_write = NULL;
}

static handler_t *handler_new(struct conn *c)
{
    handler_t *h = loop_xmalloc(sizeof *h);
    memset(h, 0, sizeof *h);
    h->conn = c;
    h->done = future_new("RequestHandler.finish");
    response_clear(h);
    return h;
}

/* One request: head, body, handler, and waiting for it to finish. Returns whether the
 * connection may carry another. */
static bool conn_serve_one(struct conn *c)
{
    handler_t *h = handler_new(c);
    int refuse = read_head(c, h);
    if (refuse == 0) {
        h->keep_alive = http1_request_keep_alive(&h->req) && !c->server->opt.no_keep_alive;
        refuse = read_body(c, h);
    }
    if (refuse > 0)
        conn_refuse(c, refuse);
    if (refuse != 0) {
        handler_free(h);
        return false;
    }
    handler_run(c->server->app, h);
    if (!h->finished) /* watch for the client leaving meanwhile: handler_connection_closed */
        future_unref(iostream_wait_closed(c->stream));
    future_ref(h->done);
    coro_await(h->done, NULL); /* an asynchronous handler finishes later */
    bool again = h->keep_alive && !c->server->closing;
    handler_free(h);
    conn_drain(c);
    return again;
}

static void server_maybe_free(httpserver_t *s);

#define LINGER_SECONDS 2.0
#define LINGER_BYTES ((uint64_t)16 << 20)

/* After a refusal the client may still be sending (a 413 body). Closing a socket with
 * unread input makes the kernel send a reset, which can destroy the answer before the
 * client reads it; so, as nginx's lingering close does, stop sending and read what
 * comes for a while (bounded in time and bytes) before closing. */
static void conn_linger(struct conn *c)
{
    if (!c->refused || iostream_closed(c->stream) || shutdown(iostream_fd(c->stream), SHUT_WR) < 0)
        return;
    double deadline = ioloop_time(ioloop_current()) + LINGER_SECONDS;
    for (uint64_t got = 0; got < LINGER_BYTES;) {
        struct iostream_bytes *b;
        future_t *read = iostream_read_bytes(c->stream, 65536, true);
        if (coro_await(coro_with_timeout(deadline, read), (void **)&b))
            return;
        got += b->len;
    }
}

/* The connection's coroutine: Tornado's _server_request_loop. */
static void *conn_run(void *arg)
{
    struct conn *c = arg;
    while (!iostream_closed(c->stream) && conn_serve_one(c))
        ;
    conn_drain(c); /* the last response reaches the kernel before the close */
    conn_linger(c);
    httpserver_t *s = c->server;
    *(c->prev ? &c->prev->next : &s->conns) = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    iostream_free(c->stream);
    free(c->scratch.p);
    free(c);
    server_maybe_free(s);
    return NULL;
}

/* ---- listening --------------------------------------------------------------------- */

static void conn_start(httpserver_t *s, int fd, const struct sockaddr_storage *peer)
{
    struct conn *c = loop_xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    c->server = s;
    /* An overlong head leaves the stream open, for the 431. */
    c->stream = iostream_new(fd, &(struct iostream_options){.overlong_keeps_open = true});
    iostream_set_nodelay(c->stream, true);
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)peer)->sin6_addr;
    if (peer->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, c->ip, sizeof c->ip);
    else if (IN6_IS_ADDR_V4MAPPED(a6)) /* "::" took an IPv4 client: say 1.2.3.4, not ::ffff:1.2.3.4 */
        inet_ntop(AF_INET, &a6->s6_addr[12], c->ip, sizeof c->ip);
    else
        inet_ntop(AF_INET6, a6, c->ip, sizeof c->ip);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    future_unref(coro_spawn("HTTP connection", conn_run, c));
}

static void on_accept(int fd, int events, void *arg)
{
    (void)events;
    httpserver_t *s = arg;
    for (int i = 0; i < ACCEPTS_PER_EVENT && !s->closing; i++) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int cfd = accept4(fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return; /* EAGAIN: all taken; ECONNABORTED and the like: try next event */
        conn_start(s, cfd, &peer);
    }
}

httpserver_t *httpserver_new(app_t *app, const struct httpserver_options *opts)
{
    httpserver_t *s = loop_xmalloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->app = app;
    s->fd = -1;
    if (opts)
        s->opt = *opts;
    if (!s->opt.max_head)
        s->opt.max_head = HTTP1_DEFAULT_MAX_HEAD;
    if (!s->opt.max_body)
        s->opt.max_body = HTTP1_DEFAULT_MAX_BODY;
    if (s->opt.idle_connection_timeout <= 0)
        s->opt.idle_connection_timeout = 3600;
    return s;
}

/* A listening socket bound to ai, or -1 with errno. */
static int listen_on(const struct addrinfo *ai, bool reuse_port)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
        close(fd);
        return -1;
    }
    if (ai->ai_family == AF_INET6) /* "::" takes IPv4 too, as bind_sockets' pair would */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int httpserver_bind(httpserver_t *s, const char *address, int port, bool reuse_port)
{
    if (s->fd >= 0 || port < 0 || port > 65535) {
        errno = s->fd >= 0 ? EALREADY : EINVAL;
        return -1;
    }
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    if (address && !*address)
        address = NULL;
    hints.ai_family = address ? AF_UNSPEC : AF_INET6;
    int rc = getaddrinfo(address, service, &hints, &res);
    if (rc != 0 && !address) { /* no IPv6 here: every IPv4 address */
        hints.ai_family = AF_INET;
        rc = getaddrinfo(NULL, service, &hints, &res);
    }
    if (rc != 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = listen_on(res, reuse_port);
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    s->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    s->fd = fd;
    return 0;
}

int httpserver_start(httpserver_t *s)
{
    if (s->fd < 0 || s->accepting) {
        errno = s->fd < 0 ? EBADF : EALREADY;
        return -1;
    }
    if (ioloop_add_handler(ioloop_current(), s->fd, IOLOOP_READ, on_accept, s) < 0)
        return -1;
    s->accepting = true;
    return 0;
}

int httpserver_listen(httpserver_t *s, const char *address, int port)
{
    if (httpserver_bind(s, address, port, false) < 0)
        return -1;
    if (httpserver_start(s) < 0) {
        int e = errno;
        close(s->fd);
        s->fd = -1;
        s->port = 0;
        errno = e;
        return -1;
    }
    return 0;
}

int httpserver_port(const httpserver_t *s)
{
    return s->port;
}

size_t httpserver_connections(const httpserver_t *s)
{
    return s->nconns;
}

void httpserver_close(httpserver_t *s)
{
    s->closing = true;
    if (s->fd >= 0) {
        if (s->accepting)
            ioloop_remove_handler(ioloop_current(), s->fd);
        s->accepting = false;
        close(s->fd);
        s->fd = -1;
    }
    for (struct conn *c = s->conns; c; c = c->next) {
        if (c->on_server_close)
            c->on_server_close(c->on_server_close_arg); /* it closes in its own time */
        else
            iostream_close(c->stream); /* pending reads fail: each coroutine ends */
    }
}

static void server_maybe_free(httpserver_t *s)
{
    if (s->free_pending && s->nconns == 0)
        free(s);
}

void httpserver_free(httpserver_t *s)
{
    if (!s)
        return;
    httpserver_close(s);
    s->free_pending = true;
    server_maybe_free(s);
}

void httpserver_shutdown(httpserver_t *s)
{
    httpserver_close(s);
    while (httpserver_connections(s) > 0)
        ioloop_run_once(ioloop_current());
    httpserver_free(s);
}

/* ---- processes --------------------------------------------------------------------- */

#define MAX_RESTARTS 100 /* Tornado's fork_processes */

static pid_t *children; /* the parent's: each task's pid, 0 once it exited */
static int nchildren;
static volatile sig_atomic_t stopping;
static struct sigaction saved_term, saved_int;
static sigset_t saved_mask, stop_signals;

/* The parent's SIGTERM and SIGINT: passed on to the children, none restarted after. */
static void forward_signal(int sig)
{
    stopping = 1;
    for (int i = 0; i < nchildren; i++)
        if (children[i] > 0)
            kill(children[i], sig);
}

/* Forks task id's process. Signals wait meanwhile, so that the child never runs the
 * parent's handler: it starts with the caller's handlers and mask, and no table. */
static pid_t fork_child(int id)
{
    sigset_t was;
    sigprocmask(SIG_BLOCK, &stop_signals, &was);
    pid_t pid = fork();
    if (pid == 0) {
        sigaction(SIGTERM, &saved_term, NULL);
        sigaction(SIGINT, &saved_int, NULL);
        free(children);
        children = NULL;
        nchildren = 0;
        sigprocmask(SIG_SETMASK, &saved_mask, NULL);
        return 0;
    }
    if (pid > 0)
        children[id] = pid;
    sigprocmask(SIG_SETMASK, &was, NULL);
    return pid;
}

static int task_of(pid_t pid)
{
    for (int i = 0; i < nchildren; i++)
        if (children[i] == pid)
            return i;
    return -1;
}

/* The parent's life: restart children that die of a signal or exit non-zero (unless
 * stopping), exit once none is left. Returns the task id in a restarted child. */
static int supervise(int alive)
{
    int restarts = 0, failed = 0;
    sigprocmask(SIG_UNBLOCK, &stop_signals, NULL);
    while (alive > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break;
        int id = task_of(pid);
        if (id < 0)
            continue;
        children[id] = 0;
        bool normal = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (normal || stopping) {
            alive--;
        } else if (++restarts > MAX_RESTARTS) {
            failed = 1;
            alive--;
            forward_signal(SIGTERM); /* Tornado gives up with RuntimeError; so do we, cleanly */
        } else if ((pid = fork_child(id)) == 0) {
            return id;
        } else if (pid < 0) {
            failed = 1;
            alive--;
        }
    }
    exit(failed);
}

int httpserver_fork_processes(int n)
{
    if (n <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (int)cpus : 1;
    }
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigprocmask(SIG_SETMASK, NULL, &saved_mask);
    struct sigaction fwd = {.sa_handler = forward_signal};
    sigemptyset(&fwd.sa_mask);
    sigaction(SIGTERM, &fwd, &saved_term);
    sigaction(SIGINT, &fwd, &saved_int);
    children = loop_xmalloc((size_t)n * sizeof *children);
    memset(children, 0, (size_t)n * sizeof *children);
    nchildren = n;
    int made = 0;
    for (; made < n; made++) {
        pid_t pid = fork_child(made);
        if (pid == 0)
            return made;
        if (pid < 0)
            break;
    }
    if (made == 0) { /* not one child: back to the caller, as if never called */
        int e = errno;
        sigaction(SIGTERM, &saved_term, NULL);
        sigaction(SIGINT, &saved_int, NULL);
        free(children);
        children = NULL;
        nchildren = 0;
        errno = e;
        return -1;
    }
    return supervise(made);
}
