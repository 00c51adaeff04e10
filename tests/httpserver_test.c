/* Unit tests for 05_httpclient/httpserver: Tornado's HTTPServer + web.Application.
 * The server listens on 127.0.0.1 and an ephemeral port in the test's loop; the test's
 * coroutine "main" talks to it through client iostreams on the same loop, writing raw
 * requests and parsing the answers with http1, so no threads are needed and every byte
 * on the wire is the test's choice. */
#include "http1.h"
#include "httpserver.h"
#include "iostream.h"
#include "loop_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the application under test ----------------------------------------------------- */

static void say(handler_t *h, const char *s)
{
    handler_write(h, s, strlen(s));
}

static void hello_get(handler_t *h) { say(h, "Hello, world"); }

static void echo_post(handler_t *h)
{
    size_t len;
    const char *body = handler_body(h, &len);
    handler_write(h, body, len);
}

static void user_get(handler_t *h)
{
    char line[128];
    ck_assert_uint_eq(handler_nargs(h), 3); /* every group counts, nested ones too */
    snprintf(line, sizeof line, "user %s post %s", handler_arg(h, 0),
             handler_arg(h, 2) ? handler_arg(h, 2) : "none");
    say(h, line);
}

static void info_get(handler_t *h)
{
    char line[256];
    struct http1_str ua = handler_header(h, "x-who");
    snprintf(line, sizeof line, "%s %s %s %s %.*s", handler_method(h), handler_path(h),
             handler_query(h), handler_remote_ip(h), (int)ua.len, ua.p ? ua.p : "");
    say(h, line);
}

static void slow_get(handler_t *h)
{
    coro_await(coro_sleep(0.05), NULL);
    say(h, "slow");
}

static bool later_saw_close; /* handler_connection_closed when /later finished */

static void later_done(void *arg)
{
    handler_t *h = arg;
    later_saw_close = handler_connection_closed(h);
    say(h, "later");
    ck_assert_int_eq(handler_finish(h), 0);
}

static void later_get(handler_t *h)
{
    handler_asynchronous(h);
    ioloop_call_later(ioloop_current(), 0.02, "later", later_done, h);
}

static void chunks_get(handler_t *h)
{
    say(h, "first ");
    coro_await(handler_flush(h), NULL);
    say(h, "second");
    coro_await(handler_flush(h), NULL);
}

static void teapot_error(handler_t *h, int code)
{
    char line[64];
    snprintf(line, sizeof line, "custom %d", code);
    say(h, line);
}

static void fail_get(handler_t *h)
{
    say(h, "dropped by send_error");
    handler_send_error(h, 503);
    ck_assert_int_eq(handler_finish(h), -1); /* finished once only */
    ck_assert_int_eq(errno, EALREADY);
}

static void moved_get(handler_t *h) { handler_redirect(h, "/", true); }

static void who_get(handler_t *h)
{
    char line[128];
    snprintf(line, sizeof line, "%s %s", handler_remote_ip(h), handler_protocol(h));
    say(h, line);
}

static const struct handler_class hello = {.get = hello_get, .head = hello_get};
static const struct handler_class echo = {.post = echo_post, .put = echo_post};
static const struct handler_class user = {.get = user_get};
static const struct handler_class info = {.get = info_get};
static const struct handler_class slow = {.get = slow_get};
static const struct handler_class later = {.get = later_get};
static const struct handler_class chunks = {.get = chunks_get};
static const struct handler_class failing = {.get = fail_get, .write_error = teapot_error};
static const struct handler_class moved = {.get = moved_get};
static const struct handler_class who = {.get = who_get};

static app_t *app;
static httpserver_t *server;
static char static_root[64]; /* a directory of files for the static tests */
static char outside[80];     /* a file next to it, outside the root */

/* hello.txt, page.html, noext, sub/a.css, link.txt -> hello.txt, out -> ../secret. */
static void make_files(void)
{
    strcpy(static_root, "/tmp/httpserver_test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(static_root));
    snprintf(outside, sizeof outside, "%s.secret", static_root);
    const struct {
        const char *name, *text;
    } files[] = {{"hello.txt", "hello static\n"}, {"page.html", "<p>hi</p>"},
                 {"noext", "x"}, {"sub/a.css", "p{}"}};
    char path[256];
    snprintf(path, sizeof path, "%s/sub", static_root);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", static_root, files[i].name);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(files[i].text, f);
        fclose(f);
    }
    FILE *f = fopen(outside, "w");
    fputs("secret", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/link.txt", static_root);
    ck_assert_int_eq(symlink("hello.txt", path), 0);
    snprintf(path, sizeof path, "%s/out", static_root);
    ck_assert_int_eq(symlink(outside, path), 0);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_files(void)
{
    nftw(static_root, remove_one, 8, FTW_DEPTH | FTW_PHYS);
    unlink(outside);
}

static void setup(void)
{
    loop_test_setup();
    app = app_new();
    ck_assert_int_eq(app_add(app, "/", &hello, NULL), 0);
    ck_assert_int_eq(app_add(app, "/echo", &echo, NULL), 0);
    ck_assert_int_eq(app_add(app, "/user/([^/]+)(/post/([0-9]+))?", &user, NULL), 0);
    ck_assert_int_eq(app_add(app, "/info", &info, NULL), 0);
    ck_assert_int_eq(app_add(app, "/slow", &slow, NULL), 0);
    ck_assert_int_eq(app_add(app, "/later", &later, NULL), 0);
    ck_assert_int_eq(app_add(app, "/chunks", &chunks, NULL), 0);
    ck_assert_int_eq(app_add(app, "/fail", &failing, NULL), 0);
    ck_assert_int_eq(app_add(app, "/moved", &moved, NULL), 0);
    ck_assert_int_eq(app_add(app, "/who", &who, NULL), 0);
    ck_assert_int_eq(app_add(app, "(", &hello, NULL), -1); /* does not compile */
    make_files();
    ck_assert_int_eq(app_add_static(app, "/static/(.*)", static_root), 0);
    ck_assert_int_eq(app_add_static(app, "/nowhere/(.*)", "/nonexistent/dir"), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(app_add_static(app, "/file/(.*)", outside), -1);
    ck_assert_int_eq(errno, ENOTDIR);
    struct httpserver_options opt = {.max_head = 4096, .max_body = 1000,
                                     .idle_connection_timeout = 0.2};
    server = httpserver_new(app, &opt);
    ck_assert_int_eq(httpserver_listen(server, "127.0.0.1", 0), 0);
    ck_assert_int_gt(httpserver_port(server), 0);
}

static void teardown(void)
{
    httpserver_close(server);
    for (int i = 0; i < 1000 && httpserver_connections(server) > 0; i++)
        ioloop_run_once(loop);
    ck_assert_uint_eq(httpserver_connections(server), 0);
    httpserver_free(server);
    app_free(app);
    remove_files();
    loop_test_teardown();
}

/* ---- a raw client ------------------------------------------------------------------- */

static iostream_t *client_of(httpserver_t *srv)
{
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)httpserver_port(srv)),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    iostream_t *s;
    int err = coro_await(iostream_connect((struct sockaddr *)&addr, sizeof addr, NULL, &s), NULL);
    ck_assert_msg(err == 0, "connect: %s", coro_error());
    return s;
}

static iostream_t *client(void)
{
    return client_of(server);
}

static void spin(int turns)
{
    while (turns--)
        coro_await(coro_moment(), NULL);
}

static void send_text(iostream_t *s, const char *text)
{
    ck_assert_int_eq(coro_await(iostream_write(s, text, strlen(text)), NULL), 0);
}

/* A response as read off the wire: its head (parsed from our copy) and its body (raw:
 * chunked bodies keep their framing, so tests can see the chunks). */
struct resp {
    char head[4096];
    struct http1_response r;
    char body[8192];
    size_t body_len;
};

static char *copy_bytes(char *dst, size_t cap, const struct iostream_bytes *b)
{
    ck_assert_uint_lt(b->len, cap);
    memcpy(dst, b->data, b->len + 1);
    return dst;
}

static void read_response(iostream_t *s, struct resp *out, const char *method)
{
    struct iostream_bytes *b;
    int err = coro_await(iostream_read_until(s, "\r\n\r\n", 65536), (void **)&b);
    ck_assert_msg(err == 0, "reading a head: %s", coro_error());
    copy_bytes(out->head, sizeof out->head, b);
    ck_assert_int_gt(http1_parse_response(out->head, b->len, &out->r, NULL), 0);
    struct http1_framing f = http1_response_framing(&out->r, method);
    future_t *body = NULL;
    if (f.kind == HTTP1_BODY_LENGTH && f.length)
        body = iostream_read_bytes(s, (size_t)f.length, false);
    else if (f.kind == HTTP1_BODY_CHUNKED)
        body = iostream_read_until(s, "0\r\n\r\n", 8000);
    else if (f.kind == HTTP1_BODY_UNTIL_CLOSE)
        body = iostream_read_until_close(s);
    out->body[0] = '\0';
    out->body_len = 0;
    if (body) {
        ck_assert_int_eq(coro_await(body, (void **)&b), 0);
        copy_bytes(out->body, sizeof out->body, b);
        out->body_len = b->len;
    }
}

/* The value of a response header, as a C string (static). */
static const char *header(struct resp *r, const char *name)
{
    static char v[512];
    const struct http1_header *f = http1_header_get(&r->r.headers, name);
    if (!f)
        return NULL;
    snprintf(v, sizeof v, "%.*s", (int)f->value.len, f->value.p);
    return v;
}

/* The server closed: nothing more comes, and the stream sees EOF. */
static void expect_closed(iostream_t *s)
{
    struct iostream_bytes *b;
    ck_assert_int_eq(coro_await(iostream_read_until_close(s), (void **)&b), 0);
    ck_assert_msg(b->len == 0, "unexpected bytes: %s", b->data);
    ck_assert(iostream_closed(s));
}

/* One request on a new connection; the response in *r. */
static void fetch_from(httpserver_t *srv, const char *request, struct resp *r, const char *method)
{
    iostream_t *s = client_of(srv);
    send_text(s, request);
    read_response(s, r, method);
    iostream_free(s);
}

static void fetch(const char *request, struct resp *r, const char *method)
{
    fetch_from(server, request, r, method);
}

/* A second server on the same application, with options of its own. */
static httpserver_t *server_with(const struct httpserver_options *o)
{
    httpserver_t *s = httpserver_new(app, o);
    ck_assert_int_eq(httpserver_listen(s, "127.0.0.1", 0), 0);
    return s;
}

static void server_done(httpserver_t *s)
{
    httpserver_close(s);
    while (httpserver_connections(s) > 0)
        coro_await(coro_moment(), NULL);
    httpserver_free(s);
}

/* ---- routing ------------------------------------------------------------------------ */

static void *routes(void *arg)
{
    (void)arg;
    struct resp r;
    fetch("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r, "GET");
    ck_assert_int_eq(r.r.status, 200);
    ck_assert_str_eq(r.body, "Hello, world");
    ck_assert_str_eq(header(&r, "Content-Length"), "12");
    ck_assert_str_eq(header(&r, "Content-Type"), "text/html; charset=UTF-8");
    ck_assert_ptr_nonnull(header(&r, "Date"));
    ck_assert_ptr_nonnull(header(&r, "Server"));
    fetch("GET /user/42/post/7 HTTP/1.1\r\n\r\n", &r, "GET");
    ck_assert_str_eq(r.body, "user 42 post 7");
    fetch("GET /user/a%20b HTTP/1.1\r\n\r\n", &r, "GET"); /* unquoted; optional group unset */
    ck_assert_str_eq(r.body, "user a b post none");
    fetch("GET /user/1/post/x HTTP/1.1\r\n\r\n", &r, "GET"); /* the whole path must match */
    ck_assert_int_eq(r.r.status, 404);
    fetch("GET /echo/ HTTP/1.1\r\n\r\n", &r, "GET");
    ck_assert_int_eq(r.r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "404: Not Found"));
    fetch("GET /info?x=1&y=2 HTTP/1.1\r\nX-Who: me\r\n\r\n", &r, "GET");
    ck_assert_str_eq(r.body, "GET /info x=1&y=2 127.0.0.1 me");
    return NULL;
}

START_TEST(routing_with_groups_and_404)
{
    run_main(routes, NULL);
}
END_TEST

static void *methods(void *arg)
{
    (void)arg;
    struct resp r;
    fetch("DELETE /echo HTTP/1.1\r\n\r\n", &r, "DELETE");
    ck_assert_int_eq(r.r.status, 405);
    ck_assert_str_eq(header(&r, "Allow"), "POST, PUT");
    fetch("PUT /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", &r, "PUT");
    ck_assert_str_eq(r.body, "abc");
    fetch("BREW / HTTP/1.1\r\n\r\n", &r, "BREW"); /* unknown methods are 405 too */
    ck_assert_int_eq(r.r.status, 405);
    fetch("GET /fail HTTP/1.1\r\n\r\n", &r, "GET");
    ck_assert_int_eq(r.r.status, 503);
    ck_assert_str_eq(r.body, "custom 503");
    fetch("GET /moved HTTP/1.1\r\n\r\n", &r, "GET");
    ck_assert_int_eq(r.r.status, 301);
    ck_assert_str_eq(header(&r, "Location"), "/");
    return NULL;
}

START_TEST(methods_405_errors_redirect)
{
    run_main(methods, NULL);
}
END_TEST

/* ---- connections -------------------------------------------------------------------- */

static void *keep_alive(void *arg)
{
    (void)arg;
    struct resp r;
    iostream_t *s = client();
    for (int i = 0; i < 3; i++) {
        send_text(s, "GET / HTTP/1.1\r\n\r\n");
        read_response(s, &r, "GET");
        ck_assert_str_eq(r.body, "Hello, world");
        ck_assert_ptr_null(header(&r, "Connection"));
    }
    ck_assert_uint_eq(httpserver_connections(server), 1);
    send_text(s, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    read_response(s, &r, "GET");
    ck_assert_str_eq(header(&r, "Connection"), "close");
    expect_closed(s);
    iostream_free(s);

    s = client(); /* HTTP/1.0: closes unless asked to keep alive */
    send_text(s, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    read_response(s, &r, "GET");
    ck_assert_int_eq(r.r.minor_version, 0);
    ck_assert_str_eq(header(&r, "Connection"), "keep-alive");
    send_text(s, "GET / HTTP/1.0\r\n\r\n");
    read_response(s, &r, "GET");
    ck_assert_str_eq(r.body, "Hello, world");
    expect_closed(s);
    iostream_free(s);
    return NULL;
}

START_TEST(keep_alive_rules)
{
    run_main(keep_alive, NULL);
}
END_TEST

static void *pipeline(void *arg)
{
    (void)arg;
    struct resp r;
    iostream_t *s = client();
    /* One write: a slow request first, a chunked POST, then a plain GET; answers in order. */
    send_text(s, "GET /slow HTTP/1.1\r\n\r\n"
                 "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
                 "GET /user/9 HTTP/1.1\r\n\r\n");
    read_response(s, &r, "GET");
    ck_assert_str_eq(r.body, "slow");
    read_response(s, &r, "POST");
    ck_assert_str_eq(r.body, "hello world");
    read_response(s, &r, "GET");
    ck_assert_str_eq(r.body, "user 9 post none");
    /* an empty body: nothing to wait for, and the next request stays whole */
    send_text(s, "POST /echo HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    read_response(s, &r, "POST");
    ck_assert_uint_eq(r.body_len, 0);
    read_response(s, &r, "GET");
    ck_assert_str_eq(r.body, "Hello, world");
    iostream_free(s);
    return NULL;
}

START_TEST(pipelined_requests_with_chunked_body)
{
    run_main(pipeline, NULL);
}
END_TEST

/* A client that half-closes after its requests (printf ... | nc) still gets answers. */
static void *half_close(void *arg)
{
    (void)arg;
    struct resp r;
    iostream_t *s = client();
    send_text(s, "GET /later HTTP/1.1\r\n\r\nGET /chunks HTTP/1.1\r\n\r\n");
    ck_assert_int_eq(shutdown(iostream_fd(s), SHUT_WR), 0);
    read_response(s, &r, "GET");
    ck_assert_str_eq(r.body, "later");
    read_response(s, &r, "GET");
    ck_assert_str_eq(r.body, "6\r\nfirst \r\n6\r\nsecond\r\n0\r\n\r\n");
    expect_closed(s);
    iostream_free(s);
    return NULL;
}

START_TEST(half_closed_client_gets_its_answers)
{
    run_main(half_close, NULL);
}
END_TEST

static void *chunked_response(void *arg)
{
    (void)arg;
    struct resp r;
    iostream_t *s = client();
    send_text(s, "GET /chunks HTTP/1.1\r\n\r\n");
    read_response(s, &r, "GET");
    ck_assert_str_eq(header(&r, "Transfer-Encoding"), "chunked");
    ck_assert_ptr_null(header(&r, "Content-Length"));
    ck_assert_str_eq(r.body, "6\r\nfirst \r\n6\r\nsecond\r\n0\r\n\r\n");
    send_text(s, "HEAD / HTTP/1.1\r\n\r\n"); /* same connection: HEAD sends no body */
    read_response(s, &r, "HEAD");
    ck_assert_str_eq(header(&r, "Content-Length"), "12");
    ck_assert_uint_eq(r.body_len, 0);
    send_text(s, "GET / HTTP/1.1\r\n\r\n");
    read_response(s, &r, "GET");
    ck_assert_str_eq(r.body, "Hello, world");
    iostream_free(s);

    s = client(); /* HTTP/1.0 has no chunks: the body runs until the close */
    send_text(s, "GET /chunks HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    read_response(s, &r, "GET");
    ck_assert_str_eq(r.body, "first second");
    iostream_free(s);
    return NULL;
}

START_TEST(flush_makes_chunks_and_head_has_no_body)
{
    run_main(chunked_response, NULL);
}
END_TEST

/* ---- refusals ----------------------------------------------------------------------- */

/* Sends request on a new connection; expects a bare `code` and the close. */
static void refused(const char *request, int code)
{
    struct resp r;
    iostream_t *s = client();
    send_text(s, request);
    read_response(s, &r, "GET");
    ck_assert_int_eq(r.r.status, code);
    ck_assert_str_eq(header(&r, "Connection"), "close");
    expect_closed(s);
    iostream_free(s);
}

static void *refusals(void *arg)
{
    (void)arg;
    refused("GARBAGE\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    refused("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400);
    refused("POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 413);
    char big[6000];
    int n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nX-Big: ");
    memset(big + n, 'a', sizeof big - (size_t)n - 5);
    memcpy(big + sizeof big - 5, "\r\n\r\n", 5);
    refused(big, 431);
    /* A chunked body over max_body (1000 bytes): 413 as its chunks arrive. */
    char chunks[3000];
    n = snprintf(chunks, sizeof chunks, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        n += snprintf(chunks + n, sizeof chunks - (size_t)n, "200\r\n");
        memset(chunks + n, 'x', 512);
        n += 512;
        n += snprintf(chunks + n, sizeof chunks - (size_t)n, "\r\n");
    }
    refused(chunks, 413);
    return NULL;
}

START_TEST(bad_requests_are_refused_and_closed)
{
    run_main(refusals, NULL);
}
END_TEST

static void *idle(void *arg)
{
    (void)arg;
    struct resp r;
    iostream_t *s = client();
    send_text(s, "GET / HTTP/1.1\r\n\r\n");
    read_response(s, &r, "GET");
    double start = ioloop_time(loop);
    expect_closed(s); /* nothing more sent: the server gives up after 0.2 s */
    double waited = ioloop_time(loop) - start;
    ck_assert_msg(waited > 0.15 && waited < 2, "closed after %.3f s", waited);
    iostream_free(s);
    s = client(); /* half a head is idle too */
    send_text(s, "GET / HT");
    expect_closed(s);
    iostream_free(s);
    return NULL;
}

START_TEST(idle_connections_are_closed)
{
    run_main(idle, NULL);
}
END_TEST

/* ---- handlers that wait ------------------------------------------------------------- */

static void *waiting(void *arg)
{
    (void)arg;
    struct resp r;
    iostream_t *a = client(), *b = client();
    send_text(a, "GET /later HTTP/1.1\r\n\r\n");
    send_text(b, "GET /slow HTTP/1.1\r\n\r\n");
    /* While both handlers wait, a third connection is served at once. */
    fetch("GET / HTTP/1.1\r\n\r\n", &r, "GET");
    ck_assert_str_eq(r.body, "Hello, world");
    read_response(a, &r, "GET");
    ck_assert_str_eq(r.body, "later");
    ck_assert_str_eq(header(&r, "Content-Length"), "5");
    read_response(b, &r, "GET");
    ck_assert_str_eq(r.body, "slow");
    send_text(a, "GET /later HTTP/1.1\r\n\r\n"); /* the connection goes on after async */
    read_response(a, &r, "GET");
    ck_assert_str_eq(r.body, "later");
    iostream_free(a);
    iostream_free(b);
    return NULL;
}

START_TEST(asynchronous_and_coroutine_handlers)
{
    run_main(waiting, NULL);
}
END_TEST

/* ---- listening ---------------------------------------------------------------------- */

static void *addresses(void *arg)
{
    (void)arg;
    ck_assert_int_eq(httpserver_listen(server, "127.0.0.1", 0), -1); /* once per server */
    ck_assert_int_eq(errno, EALREADY);
    httpserver_t *bad = httpserver_new(app, NULL);
    ck_assert_int_eq(httpserver_listen(bad, "not an address", 0), -1);
    ck_assert_int_eq(httpserver_listen(bad, "127.0.0.1", httpserver_port(server)), -1);
    ck_assert_int_eq(errno, EADDRINUSE);
    httpserver_free(bad);
    /* Every address: "::" with IPv4 mapped in (or 0.0.0.0 where there is no IPv6). */
    httpserver_t *any = httpserver_new(app, NULL);
    ck_assert_int_eq(httpserver_listen(any, NULL, 0), 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)httpserver_port(any)),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    iostream_t *s;
    ck_assert_int_eq(coro_await(iostream_connect((struct sockaddr *)&addr, sizeof addr, NULL, &s), NULL), 0);
    send_text(s, "GET /info HTTP/1.1\r\n\r\n");
    struct resp r;
    read_response(s, &r, "GET");
    ck_assert_str_eq(r.body, "GET /info  127.0.0.1 "); /* not ::ffff:127.0.0.1 */
    iostream_free(s);
    httpserver_close(any);
    while (httpserver_connections(any) > 0)
        coro_await(coro_moment(), NULL);
    httpserver_free(any);
    return NULL;
}

START_TEST(listen_addresses)
{
    run_main(addresses, NULL);
}
END_TEST

/* The client leaves while an asynchronous handler waits: it still finishes, unharmed. */
static void *gone(void *arg)
{
    (void)arg;
    iostream_t *s = client();
    send_text(s, "GET /later HTTP/1.1\r\n\r\n");
    spin(3);
    ck_assert_uint_eq(httpserver_connections(server), 1);
    iostream_free(s);
    later_saw_close = false;
    for (int i = 0; i < 100 && httpserver_connections(server) > 0; i++)
        coro_await(coro_sleep(0.005), NULL);
    ck_assert_uint_eq(httpserver_connections(server), 0);
    ck_assert(later_saw_close);
    return NULL;
}

START_TEST(client_leaves_during_asynchronous_handler)
{
    run_main(gone, NULL);
}
END_TEST


/* ---- Expect: 100-continue, absolute form, body_timeout ------------------------------ */

/* Reads exactly the interim response Tornado sends. */
static void expect_100(iostream_t *s)
{
    struct iostream_bytes *b;
    ck_assert_int_eq(coro_await(iostream_read_until(s, "\r\n\r\n", 1000), (void **)&b), 0);
    ck_assert_str_eq(b->data, "HTTP/1.1 100 (Continue)\r\n\r\n");
}

static void *continue_100(void *arg)
{
    (void)arg;
    struct resp r;
    iostream_t *s = client();
    send_text(s, "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n");
    expect_100(s); /* before any body byte was sent */
    send_text(s, "hello");
    read_response(s, &r, "POST");
    ck_assert_int_eq(r.r.status, 200);
    ck_assert_str_eq(r.body, "hello");
    /* chunked, on the same connection */
    send_text(s, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
    expect_100(s);
    send_text(s, "3\r\nabc\r\n0\r\n\r\n");
    read_response(s, &r, "POST");
    ck_assert_str_eq(r.body, "abc");
    /* no body, an empty body, HTTP/1.0, another expectation: no 100, just the answer */
    send_text(s, "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
    read_response(s, &r, "GET");
    ck_assert_int_eq(r.r.status, 200);
    send_text(s, "POST /echo HTTP/1.1\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n");
    read_response(s, &r, "POST");
    ck_assert_int_eq(r.r.status, 200);
    ck_assert_uint_eq(r.body_len, 0);
    send_text(s, "POST /echo HTTP/1.1\r\nContent-Length: 2\r\nExpect: 200-ok\r\n\r\nhi");
    read_response(s, &r, "POST");
    ck_assert_str_eq(r.body, "hi");
    iostream_free(s);
    s = client();
    send_text(s, "POST /echo HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi");
    read_response(s, &r, "POST");
    ck_assert_int_eq(r.r.status, 200);
    ck_assert_str_eq(r.body, "hi");
    iostream_free(s);
    /* a body refused for its declared length: 413 at once, no 100 first */
    refused("POST /echo HTTP/1.1\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n", 413);
    return NULL;
}

START_TEST(expect_100_continue)
{
    run_main(continue_100, NULL);
}
END_TEST

static void *absolute(void *arg)
{
    (void)arg;
    struct resp r;
    fetch("GET http://example.com:8080/info?a=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", &r, "GET");
    ck_assert_str_eq(r.body, "GET /info a=1 127.0.0.1 ");
    fetch("GET HTTPS://example.com/user/5 HTTP/1.1\r\n\r\n", &r, "GET");
    ck_assert_str_eq(r.body, "user 5 post none");
    fetch("GET http://example.com HTTP/1.1\r\n\r\n", &r, "GET"); /* no path: "/" */
    ck_assert_str_eq(r.body, "Hello, world");
    fetch("GET http://example.com?x=1 HTTP/1.1\r\n\r\n", &r, "GET");
    ck_assert_str_eq(r.body, "Hello, world");
    fetch("GET /info?http://a/b HTTP/1.1\r\n\r\n", &r, "GET"); /* origin form stays */
    ck_assert_str_eq(r.body, "GET /info http://a/b 127.0.0.1 ");
    return NULL;
}

START_TEST(absolute_form_targets)
{
    run_main(absolute, NULL);
}
END_TEST

static void *body_timeouts(void *arg)
{
    (void)arg;
    struct resp r;
    /* idle_connection_timeout (0.2 s here) covers the head, not the body: Tornado's too */
    iostream_t *s = client();
    send_text(s, "POST /echo HTTP/1.1\r\nContent-Length: 4\r\n\r\nab");
    coro_await(coro_sleep(0.4), NULL);
    ck_assert(!iostream_closed(s));
    send_text(s, "cd");
    read_response(s, &r, "POST");
    ck_assert_str_eq(r.body, "abcd");
    iostream_free(s);

    struct httpserver_options o = {.body_timeout = 0.2};
    httpserver_t *timed = server_with(&o);
    s = client_of(timed); /* a body in time, if slowly */
    send_text(s, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n");
    coro_await(coro_sleep(0.05), NULL);
    send_text(s, "0\r\n\r\n");
    read_response(s, &r, "POST");
    ck_assert_str_eq(r.body, "ab");
    send_text(s, "POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"); /* the rest never */
    double start = ioloop_time(loop);
    expect_closed(s); /* no answer, just the close */
    double waited = ioloop_time(loop) - start;
    ck_assert_msg(waited > 0.15 && waited < 2, "closed after %.3f s", waited);
    iostream_free(s);
    server_done(timed);
    return NULL;
}

START_TEST(body_timeout_closes)
{
    run_main(body_timeouts, NULL);
}
END_TEST

/* ---- xheaders ----------------------------------------------------------------------- */

static void *xheaders(void *arg)
{
    (void)arg;
    struct resp r;
    /* off by default: the headers are the client's word, ignored */
    fetch("GET /who HTTP/1.1\r\nX-Real-IP: 10.0.0.1\r\nX-Scheme: https\r\n\r\n", &r, "GET");
    ck_assert_str_eq(r.body, "127.0.0.1 http");

    struct httpserver_options o = {.xheaders = true};
    httpserver_t *proxied = server_with(&o);
    const struct {
        const char *headers, *expected;
    } cases[] = {
        {"X-Real-IP: 10.0.0.1\r\n", "10.0.0.1 http"},
        {"X-Real-Ip: ::1\r\n", "::1 http"},
        {"X-Forwarded-For: 1.1.1.1, 2.2.2.2\r\n", "2.2.2.2 http"},
        {"X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 3.3.3.3 , 4.4.4.4\r\n", "4.4.4.4 http"},
        {"X-Real-IP: 5.5.5.5\r\nX-Forwarded-For: 6.6.6.6\r\n", "5.5.5.5 http"},
        /* invalid: the peer's address stays (a bad X-Real-IP hides X-Forwarded-For too) */
        {"X-Real-IP: not-an-ip\r\nX-Forwarded-For: 6.6.6.6\r\n", "127.0.0.1 http"},
        {"X-Real-IP: 999.1.1.1\r\n", "127.0.0.1 http"},
        {"X-Real-IP: 1.2.3.4 5.6.7.8\r\n", "127.0.0.1 http"},
        {"X-Real-IP: \r\n", "127.0.0.1 http"},
        {"X-Real-IP: <script>\r\n", "127.0.0.1 http"},
        {"X-Forwarded-For: 1.1.1.1, evil\r\n", "127.0.0.1 http"},
        {"X-Forwarded-For: 1.1.1.1,\r\n", "127.0.0.1 http"},
        {"X-Real-IP: 1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee:ffff:0000\r\n",
         "127.0.0.1 http"},
        /* the protocol */
        {"X-Scheme: https\r\n", "127.0.0.1 https"},
        {"X-Forwarded-Proto: https\r\n", "127.0.0.1 https"},
        {"X-Forwarded-Proto: http, https\r\n", "127.0.0.1 https"},
        {"X-Scheme: http\r\nX-Forwarded-Proto: https\r\n", "127.0.0.1 http"},
        {"X-Scheme: ftp\r\n", "127.0.0.1 http"},
        {"X-Scheme: HTTPS\r\n", "127.0.0.1 http"},
    };
    iostream_t *s = client_of(proxied);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[512];
        snprintf(req, sizeof req, "GET /who HTTP/1.1\r\n%s\r\n", cases[i].headers);
        send_text(s, req);
        read_response(s, &r, "GET");
        ck_assert_msg(strcmp(r.body, cases[i].expected) == 0, "%s: %s", cases[i].headers, r.body);
        send_text(s, "GET /who HTTP/1.1\r\n\r\n"); /* per request: nothing sticks */
        read_response(s, &r, "GET");
        ck_assert_str_eq(r.body, "127.0.0.1 http");
    }
    iostream_free(s);
    server_done(proxied);
    return NULL;
}

START_TEST(xheaders_from_a_proxy)
{
    run_main(xheaders, NULL);
}
END_TEST

/* ---- static files ------------------------------------------------------------------- */

/* GET (or HEAD) of target with extra header lines. */
static void get(const char *method, const char *target, const char *extra, struct resp *r)
{
    char req[1024];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\n%s\r\n", method, target, extra);
    fetch(req, r, method);
}

static void *static_basics(void *arg)
{
    (void)arg;
    struct resp r;
    get("GET", "/static/hello.txt", "", &r);
    ck_assert_int_eq(r.r.status, 200);
    ck_assert_str_eq(r.body, "hello static\n");
    ck_assert_str_eq(header(&r, "Content-Type"), "text/plain");
    ck_assert_str_eq(header(&r, "Content-Length"), "13");
    ck_assert_str_eq(header(&r, "Accept-Ranges"), "bytes");
    ck_assert_ptr_null(header(&r, "Transfer-Encoding"));
    char etag[128], modified[128];
    snprintf(etag, sizeof etag, "%.100s", header(&r, "Etag"));
    snprintf(modified, sizeof modified, "%.100s", header(&r, "Last-Modified"));
    ck_assert_msg(etag[0] == '"' && etag[strlen(etag) - 1] == '"', "etag %s", etag);
    ck_assert_ptr_nonnull(strstr(modified, " GMT"));

    get("HEAD", "/static/hello.txt", "", &r);
    ck_assert_int_eq(r.r.status, 200);
    ck_assert_str_eq(header(&r, "Content-Length"), "13");
    ck_assert_uint_eq(r.body_len, 0);
    get("GET", "/static/page.html", "", &r);
    ck_assert_str_eq(header(&r, "Content-Type"), "text/html");
    get("GET", "/static/sub/a.css", "", &r);
    ck_assert_str_eq(header(&r, "Content-Type"), "text/css");
    ck_assert_str_eq(r.body, "p{}");
    get("GET", "/static/noext", "", &r);
    ck_assert_str_eq(header(&r, "Content-Type"), "application/octet-stream");
    get("GET", "/static/link.txt", "", &r); /* a symlink inside the root is fine */
    ck_assert_str_eq(r.body, "hello static\n");
    get("POST", "/static/hello.txt", "Content-Length: 0\r\n", &r);
    ck_assert_int_eq(r.r.status, 405);

    /* conditional requests */
    const struct {
        const char *fmt;
        int status;
    } conds[] = {
        {"If-None-Match: %s\r\n", 304},
        {"If-None-Match: W/%s\r\n", 304},
        {"If-None-Match: \"other\", %s\r\n", 304},
        {"If-None-Match: *\r\n", 304},
        {"If-None-Match: \"other\"\r\n", 200},
        {"If-None-Match: garbage\r\n", 200},
        {"If-None-Match: \"unclosed\r\n", 200},
        {"If-None-Match: \"other\"\r\nIf-Modified-Since: Tue, 01 Jan 2999 00:00:00 GMT\r\n", 200},
        {"If-Modified-Since: Tue, 01 Jan 2999 00:00:00 GMT\r\n", 304},
        {"If-Modified-Since: Mon, 01 Jan 1990 00:00:00 GMT\r\n", 200},
        {"If-Modified-Since: yesterday\r\n", 200},
    };
    for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++) {
        char extra[512];
        snprintf(extra, sizeof extra, conds[i].fmt, etag);
        get("GET", "/static/hello.txt", extra, &r);
        ck_assert_msg(r.r.status == conds[i].status, "%s: %d", extra, r.r.status);
        if (r.r.status == 304) {
            ck_assert_uint_eq(r.body_len, 0);
            ck_assert_str_eq(header(&r, "Etag"), etag);
            ck_assert_ptr_null(header(&r, "Content-Type"));
        }
    }
    char extra[256];
    snprintf(extra, sizeof extra, "If-Modified-Since: %s\r\n", modified);
    get("GET", "/static/hello.txt", extra, &r);
    ck_assert_int_eq(r.r.status, 304);
    return NULL;
}

START_TEST(static_files_types_and_conditionals)
{
    run_main(static_basics, NULL);
}
END_TEST

static void *ranges(void *arg)
{
    (void)arg;
    struct resp r;
    const struct {
        const char *range;
        int status;
        const char *body, *content_range;
    } cases[] = {
        {"bytes=0-4", 206, "hello", "bytes 0-4/13"},
        {"bytes=6-", 206, "static\n", "bytes 6-12/13"},
        {"bytes=-3", 206, "ic\n", "bytes 10-12/13"},
        {" bytes = 1 - 1 ", 206, "e", "bytes 1-1/13"},
        {"bytes=12-12", 206, "\n", "bytes 12-12/13"},
        {"bytes=0-99", 200, "hello static\n", NULL}, /* all of it: Tornado sends 200 */
        {"bytes=0-", 200, "hello static\n", NULL},
        {"bytes=-13", 200, "hello static\n", NULL},
        {"bytes=-99999999999999999999999", 200, "hello static\n", NULL},
        {"bytes=0-99999999999999999999999", 200, "hello static\n", NULL},
        {"bytes=13-", 416, "", "bytes */13"},
        {"bytes=99999999999999999999999-", 416, "", "bytes */13"},
        {"bytes=18446744073709551615-18446744073709551615", 416, "", "bytes */13"},
        {"bytes=-0", 416, "", "bytes */13"},
        {"bytes=5-2", 416, "", "bytes */13"},
        /* what Tornado does not take is ignored: 200 and the whole file */
        {"bytes=0-1,3-4", 200, "hello static\n", NULL},
        {"bytes=a-b", 200, "hello static\n", NULL},
        {"bytes=--1", 200, "hello static\n", NULL},
        {"bytes=1-2-3", 200, "hello static\n", NULL},
        {"bytes=+1-2", 200, "hello static\n", NULL},
        {"bytes=0x1-2", 200, "hello static\n", NULL},
        {"items=0-1", 200, "hello static\n", NULL},
        {"bytes", 200, "hello static\n", NULL},
        {"bytes=", 200, "hello static\n", NULL},
        {"=0-1", 200, "hello static\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char extra[256];
        snprintf(extra, sizeof extra, "Range: %s\r\n", cases[i].range);
        get("GET", "/static/hello.txt", extra, &r);
        ck_assert_msg(r.r.status == cases[i].status, "%s: %d", cases[i].range, r.r.status);
        ck_assert_msg(strcmp(r.body, cases[i].body) == 0, "%s: body %s", cases[i].range, r.body);
        const char *cr = header(&r, "Content-Range");
        if (cases[i].content_range)
            ck_assert_msg(cr && strcmp(cr, cases[i].content_range) == 0, "%s: %s", cases[i].range, cr);
        else
            ck_assert_ptr_null(cr);
    }
    get("HEAD", "/static/hello.txt", "Range: bytes=0-4\r\n", &r);
    ck_assert_int_eq(r.r.status, 206);
    ck_assert_str_eq(header(&r, "Content-Length"), "5");
    ck_assert_uint_eq(r.body_len, 0);
    return NULL;
}

START_TEST(static_ranges)
{
    run_main(ranges, NULL);
}
END_TEST

static void *traversal(void *arg)
{
    (void)arg;
    struct resp r;
    const struct {
        const char *target;
        int status;
    } cases[] = {
        {"/static/../secret", 403},
        {"/static/%2e%2e/secret", 403},
        {"/static/%2E%2E%2Fsecret", 403},
        {"/static/.%2e/.%2e/etc/passwd", 403},
        {"/static/sub/../../secret", 403},
        {"/static/sub/..", 403},
        {"/static/%2fetc%2fpasswd", 403},
        {"/static//etc/passwd", 403},
        {"/static/out", 403}, /* a symlink to a file outside the root */
        {"/static/sub", 403}, /* a directory */
        {"/static/sub/", 403},
        {"/static/", 403},
        {"/static/./hello.txt", 200},
        {"/static/sub/../hello.txt", 403}, /* any ".." segment, as a rule */
        {"/static/%252e%252e/secret", 404}, /* decoded once: a name with '%' in it */
        {"/static/..%5csecret", 404},       /* a backslash is a name's character here */
        {"/static/...", 404},
        {"/static/missing.txt", 404},
        {"/static/hello.txt/x", 404},
        {"/static/hello.txt%00.png", 404}, /* no NUL in a name */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        get("GET", cases[i].target, "", &r);
        ck_assert_msg(r.r.status == cases[i].status, "%s: %d", cases[i].target, r.r.status);
        ck_assert_ptr_null(strstr(r.body, "secret"));
    }
    char target[400]; /* a name longer than PATH_MAX allows */
    memcpy(target, "/static/", 8);
    memset(target + 8, 'a', sizeof target - 9);
    target[sizeof target - 1] = '\0';
    get("GET", target, "", &r);
    ck_assert_int_eq(r.r.status, 404);
    return NULL;
}

START_TEST(static_traversal_refused)
{
    run_main(traversal, NULL);
}
END_TEST

/* A file of n bytes, byte i being i % 251, named name under the root. */
static void make_big(const char *name, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", static_root, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < n; i++)
        fputc((int)(i % 251), f);
    fclose(f);
}

/* Reads a response's head and then exactly n body bytes, checking the pattern from off. */
static void read_big(iostream_t *s, size_t n, size_t off, int status)
{
    struct resp r;
    struct iostream_bytes *b;
    ck_assert_int_eq(coro_await(iostream_read_until(s, "\r\n\r\n", 65536), (void **)&b), 0);
    copy_bytes(r.head, sizeof r.head, b);
    ck_assert_int_gt(http1_parse_response(r.head, b->len, &r.r, NULL), 0);
    ck_assert_int_eq(r.r.status, status);
    ck_assert_ptr_null(header(&r, "Transfer-Encoding"));
    ck_assert_uint_eq(strtoull(header(&r, "Content-Length"), NULL, 10), n);
    ck_assert_int_eq(coro_await(iostream_read_bytes(s, n, false), (void **)&b), 0);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)b->data[i] != (off + i) % 251)
            ck_abort_msg("byte %zu differs", i);
}

static void *big_files(void *arg)
{
    (void)arg;
    make_big("big.bin", 300000); /* several 64 KiB pieces */
    iostream_t *s = client();
    send_text(s, "GET /static/big.bin HTTP/1.1\r\n\r\n");
    read_big(s, 300000, 0, 200);
    send_text(s, "GET /static/big.bin HTTP/1.1\r\nRange: bytes=100000-200009\r\n\r\n");
    read_big(s, 100010, 100000, 206);
    struct resp r; /* the connection goes on */
    send_text(s, "GET /static/hello.txt HTTP/1.1\r\n\r\n");
    read_response(s, &r, "GET");
    ck_assert_str_eq(r.body, "hello static\n");
    iostream_free(s);

    /* A client that leaves mid-file: the server stops, and the connection ends. A
     * sparse file, bigger than what the socket buffers can hold. */
    char path[256];
    snprintf(path, sizeof path, "%s/huge.bin", static_root);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_eq(ftruncate(fd, (off_t)256 << 20), 0);
    close(fd);
    s = client();
    send_text(s, "GET /static/huge.bin HTTP/1.1\r\n\r\n");
    struct iostream_bytes *b;
    ck_assert_int_eq(coro_await(iostream_read_until(s, "\r\n\r\n", 65536), (void **)&b), 0);
    ck_assert_ptr_nonnull(strstr(b->data, "Content-Length: 268435456"));
    iostream_free(s);
    double start = ioloop_time(loop);
    while (httpserver_connections(server) > 0 && ioloop_time(loop) - start < 5)
        coro_await(coro_sleep(0.01), NULL);
    ck_assert_uint_eq(httpserver_connections(server), 0);
    return NULL;
}

START_TEST(static_big_files_in_pieces)
{
    run_main(big_files, NULL);
}
END_TEST

/* ---- binding, reuse_port, processes ------------------------------------------------- */

static void *reuse(void *arg)
{
    (void)arg;
    httpserver_t *a = httpserver_new(app, NULL), *b = httpserver_new(app, NULL),
                 *c = httpserver_new(app, NULL);
    ck_assert_int_eq(httpserver_start(a), -1); /* not bound */
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(httpserver_bind(a, "127.0.0.1", 0, true), 0);
    int port = httpserver_port(a);
    ck_assert_int_eq(httpserver_bind(b, "127.0.0.1", port, true), 0);
    ck_assert_int_eq(httpserver_bind(c, "127.0.0.1", port, false), -1);
    ck_assert_int_eq(errno, EADDRINUSE);
    ck_assert_int_eq(httpserver_start(a), 0);
    ck_assert_int_eq(httpserver_start(a), -1);
    ck_assert_int_eq(errno, EALREADY);
    ck_assert_int_eq(httpserver_start(b), 0);
    struct resp r;
    for (int i = 0; i < 8; i++) { /* the kernel spreads the connections; both answer */
        fetch_from(a, "GET / HTTP/1.1\r\n\r\n", &r, "GET");
        ck_assert_str_eq(r.body, "Hello, world");
    }
    server_done(a);
    fetch_from(b, "GET / HTTP/1.1\r\n\r\n", &r, "GET"); /* b alone has the port now */
    ck_assert_str_eq(r.body, "Hello, world");
    server_done(b);
    server_done(c);
    return NULL;
}

START_TEST(bind_start_and_reuse_port)
{
    run_main(reuse, NULL);
}
END_TEST

/* fork_processes in a process of its own, whose children report through a pipe; a
 * shared counter of task 1's starts makes its first fail_times runs fail, however the
 * tasks' starts interleave. Returns the supervisor's exit status. */
static int supervise_children(int n, int fail_times, char *report, size_t cap)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    int *starts = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(starts, MAP_FAILED);
    *starts = 0;
    pid_t sup = fork();
    if (sup == 0) {
        close(p[0]);
        int task = httpserver_fork_processes(n);
        int nth = task == 1 ? __atomic_add_fetch(starts, 1, __ATOMIC_SEQ_CST) : 0;
        char c = (char)('0' + task);
        ssize_t w = write(p[1], &c, 1);
        (void)w;
        _exit(task == 1 && nth <= fail_times ? 3 : 0); /* task 1 fails fail_times */
    }
    close(p[1]);
    size_t len = 0;
    ssize_t got;
    while (len + 1 < cap && (got = read(p[0], report + len, cap - 1 - len)) > 0)
        len += (size_t)got;
    report[len] = '\0';
    close(p[0]);
    int status;
    ck_assert_int_eq(waitpid(sup, &status, 0), sup);
    munmap(starts, sizeof(int));
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static size_t count(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

START_TEST(fork_processes_restarts_failures)
{
    char report[512];
    /* 3 children; task 1 exits 3 twice, then 0: restarted twice; the parent exits 0 */
    ck_assert_int_eq(supervise_children(3, 2, report, sizeof report), 0);
    ck_assert_uint_eq(strlen(report), 5);
    ck_assert_uint_eq(count(report, '0'), 1);
    ck_assert_uint_eq(count(report, '1'), 3);
    ck_assert_uint_eq(count(report, '2'), 1);
    /* one that always fails: 100 restarts, then the parent gives up with 1 */
    ck_assert_int_eq(supervise_children(2, 1000, report, sizeof report), 1);
    ck_assert_uint_eq(count(report, '1'), 101);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("httpserver");
    TCase *tc = tcase_create("httpserver");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, routing_with_groups_and_404);
    tcase_add_test(tc, methods_405_errors_redirect);
    tcase_add_test(tc, keep_alive_rules);
    tcase_add_test(tc, pipelined_requests_with_chunked_body);
    tcase_add_test(tc, half_closed_client_gets_its_answers);
    tcase_add_test(tc, flush_makes_chunks_and_head_has_no_body);
    tcase_add_test(tc, bad_requests_are_refused_and_closed);
    tcase_add_test(tc, idle_connections_are_closed);
    tcase_add_test(tc, asynchronous_and_coroutine_handlers);
    tcase_add_test(tc, listen_addresses);
    tcase_add_test(tc, client_leaves_during_asynchronous_handler);
    tcase_add_test(tc, expect_100_continue);
    tcase_add_test(tc, absolute_form_targets);
    tcase_add_test(tc, body_timeout_closes);
    tcase_add_test(tc, xheaders_from_a_proxy);
    tcase_add_test(tc, static_files_types_and_conditionals);
    tcase_add_test(tc, static_ranges);
    tcase_add_test(tc, static_traversal_refused);
    tcase_add_test(tc, static_big_files_in_pieces);
    tcase_add_test(tc, bind_start_and_reuse_port);
    tcase_add_test(tc, fork_processes_restarts_failures);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
