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
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

static const struct handler_class hello = {.get = hello_get, .head = hello_get};
static const struct handler_class echo = {.post = echo_post, .put = echo_post};
static const struct handler_class user = {.get = user_get};
static const struct handler_class info = {.get = info_get};
static const struct handler_class slow = {.get = slow_get};
static const struct handler_class later = {.get = later_get};
static const struct handler_class chunks = {.get = chunks_get};
static const struct handler_class failing = {.get = fail_get, .write_error = teapot_error};
static const struct handler_class moved = {.get = moved_get};

static app_t *app;
static httpserver_t *server;

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
    ck_assert_int_eq(app_add(app, "(", &hello, NULL), -1); /* does not compile */
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
    loop_test_teardown();
}

/* ---- a raw client ------------------------------------------------------------------- */

static iostream_t *client(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)httpserver_port(server)),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    iostream_t *s;
    int err = coro_await(iostream_connect((struct sockaddr *)&addr, sizeof addr, NULL, &s), NULL);
    ck_assert_msg(err == 0, "connect: %s", coro_error());
    return s;
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
static void fetch(const char *request, struct resp *r, const char *method)
{
    iostream_t *s = client();
    send_text(s, request);
    read_response(s, r, method);
    iostream_free(s);
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
    suite_add_tcase(s, tc);
    return unit_run(s);
}
