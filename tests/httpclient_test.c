/* Tests for 05_httpclient/httpclient: the AsyncHTTPClient against a real server, Python
 * Tornado on loopback (tests/httpclient_peer.py, started once before the suite and
 * killed after it), plus a raw listener of that script that answers with garbage, and
 * the same server over TLS with a certificate the suite makes (tls_test.h).
 * Each test gets a fresh loop and client; a coroutine "main" fetches and checks. */
#include "httpclient.h"
#include "loop_test.h"
#include "python_peer.h"
#include "tls_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t peer_pid;
static int port, garbage_port, idle_port, https_port;
static struct test_certs certs;
static httpclient_t *client;

/* ---- the peer ------------------------------------------------------------------------ */

/* httpclient_peer.py beside this file, or $HTTPCLIENT_PEER (python_peer.h). */
static void peer_start(void)
{
    int ports[4];
    peer_pid = python_peer_start(__FILE__, "httpclient_peer.py", "HTTPCLIENT_PEER", certs.cert,
                                 certs.key, ports, 4);
    port = ports[0];
    garbage_port = ports[1];
    idle_port = ports[2];
    https_port = ports[3];
}

static void peer_stop(void)
{
    python_peer_stop(peer_pid);
}

/* ---- helpers ------------------------------------------------------------------------- */

static void setup(void)
{
    loop_test_setup();
    client = httpclient_new(NULL);
    ck_assert_ptr_nonnull(client);
}

static void teardown(void)
{
    httpclient_free(client);
    loop_test_teardown();
}

static const char *url(const char *path)
{
    static char buf[8][512];
    static int next;
    char *u = buf[next++ % 8];
    snprintf(u, sizeof buf[0], "http://127.0.0.1:%d%s", port, path);
    return u;
}

/* Fetches req and returns the response (valid until the coroutine's next await). */
static struct httpclient_response *fetch(const struct httpclient_request *req)
{
    struct httpclient_response *r = NULL;
    future_t *f = httpclient_fetch(client, req);
    ck_assert(!future_done(f)); /* never, even on a warm connection: Tornado's rule */
    ck_assert_int_eq(coro_await(f, (void **)&r), 0);
    ck_assert_ptr_nonnull(r);
    return r;
}

static struct httpclient_response *get(const char *path)
{
    struct httpclient_request req;
    httpclient_request_init(&req, url(path));
    return fetch(&req);
}

static void expect_ok(const struct httpclient_response *r, const char *body)
{
    ck_assert_msg(r->code == 200, "code %d: %s", r->code, r->error_message);
    ck_assert_int_eq(r->error, 0);
    ck_assert_str_eq(r->error_message, "");
    ck_assert_str_eq(r->body, body);
    ck_assert_uint_eq(r->body_len, strlen(body));
}

/* ---- GET, POST, bodies ---------------------------------------------------------------- */

static void *get_hello(void *arg)
{
    (void)arg;
    struct httpclient_response *r = get("/hello");
    expect_ok(r, "Hello, world");
    ck_assert_str_eq(r->reason, "OK");
    ck_assert_str_eq(r->effective_url, url("/hello"));
    ck_assert_str_eq(httpclient_response_header(r, "content-type"), "text/html; charset=UTF-8");
    ck_assert_str_eq(httpclient_response_header(r, "CONTENT-LENGTH"), "12");
    ck_assert_ptr_null(httpclient_response_header(r, "X-Nothing"));
    ck_assert(r->request_time > 0 && r->request_time < 5);
    return NULL;
}

START_TEST(get_request)
{
    run_main(get_hello, NULL);
}
END_TEST

static void *post_echo(void *arg)
{
    (void)arg;
    struct httpclient_request req;
    httpclient_request_init(&req, url("/echo"));
    req.method = "POST";
    req.body = "name=value&x=1";
    req.body_len = strlen(req.body);
    struct httpclient_header h[] = {{"X-Extra", "yes"}};
    req.headers = h;
    req.n_headers = 1;
    struct httpclient_response *r = fetch(&req);
    expect_ok(r, "name=value&x=1");
    ck_assert_str_eq(httpclient_response_header(r, "X-Method"), "POST");
    return NULL;
}

START_TEST(post_with_body)
{
    run_main(post_echo, NULL);
}
END_TEST

static void *chunked(void *arg)
{
    (void)arg;
    struct httpclient_response *r = get("/chunked");
    expect_ok(r, "chunk0;chunk1;chunk2;");
    ck_assert_str_eq(httpclient_response_header(r, "Transfer-Encoding"), "chunked");
    return NULL;
}

START_TEST(chunked_response)
{
    run_main(chunked, NULL);
}
END_TEST

static void *gzipped(void *arg)
{
    (void)arg;
    char want[1001] = "";
    for (int i = 0; i < 200; i++)
        strcat(want, "gzip ");
    struct httpclient_response *r = get("/gzip");
    expect_ok(r, want);
    ck_assert_ptr_null(httpclient_response_header(r, "Content-Encoding"));
    ck_assert_str_eq(httpclient_response_header(r, "X-Consumed-Content-Encoding"), "gzip");

    struct httpclient_request req; /* not asked for: the server sends it as it is */
    httpclient_request_init(&req, url("/gzip"));
    req.decompress_response = false;
    r = fetch(&req);
    ck_assert_int_eq(r->code, 200);
    ck_assert_str_eq(httpclient_response_header(r, "Content-Encoding"), "gzip");
    ck_assert_uint_lt(r->body_len, 200);
    ck_assert_int_eq((unsigned char)r->body[0], 0x1f);
    return NULL;
}

START_TEST(gzip_decompression)
{
    run_main(gzipped, NULL);
}
END_TEST

static struct {
    char text[4096];
    int calls;
} got;

static void collect(const char *data, size_t len, void *arg)
{
    ck_assert_str_eq(arg, "mine");
    strncat(got.text, data, len);
    got.calls++;
}

static void *streaming(void *arg)
{
    (void)arg;
    struct httpclient_request req;
    httpclient_request_init(&req, url("/chunked"));
    req.streaming_callback = collect;
    req.callback_arg = "mine";
    struct httpclient_response *r = fetch(&req);
    ck_assert_int_eq(r->code, 200);
    ck_assert_str_eq(r->body, "");
    ck_assert_str_eq(got.text, "chunk0;chunk1;chunk2;");

    memset(&got, 0, sizeof got); /* gzip: the pieces are inflated */
    req.url = url("/gzip");
    r = fetch(&req);
    ck_assert_int_eq(r->code, 200);
    ck_assert_uint_eq(strlen(got.text), 1000);
    ck_assert(!strncmp(got.text, "gzip gzip ", 10));

    memset(&got, 0, sizeof got); /* headers: only the final response's */
    req.url = url("/redirect?n=1");
    req.streaming_callback = NULL;
    req.header_callback = collect;
    r = fetch(&req);
    expect_ok(r, "GET ");
    ck_assert(!strncmp(got.text, "HTTP/1.1 200 OK\r\n", 17));
    ck_assert(!strcmp(got.text + strlen(got.text) - 4, "\r\n\r\n"));
    ck_assert_ptr_null(strstr(got.text, "Location"));
    ck_assert_int_eq(got.calls, 2 + (int)r->n_headers);
    return NULL;
}

START_TEST(streaming_and_header_callbacks)
{
    run_main(streaming, NULL);
}
END_TEST

/* ---- redirects ------------------------------------------------------------------------ */

static struct httpclient_response *post(const char *path, const char *body)
{
    struct httpclient_request req;
    httpclient_request_init(&req, url(path));
    req.method = "POST";
    req.body = body;
    req.body_len = strlen(body);
    return fetch(&req);
}

static void *redirects(void *arg)
{
    (void)arg;
    struct httpclient_response *r = get("/redirect?n=3");
    expect_ok(r, "GET ");
    ck_assert_str_eq(r->effective_url, url("/redirect?n=0&code=302"));

    r = post("/redirect?n=1&code=301", "data"); /* 301 after POST: GET, no body */
    expect_ok(r, "GET ");
    r = post("/redirect?n=1&code=303", "data");
    expect_ok(r, "GET ");
    r = post("/redirect?n=2&code=307", "data"); /* 307 and 308 keep both */
    expect_ok(r, "POST data");
    r = post("/redirect?n=1&code=308", "data");
    expect_ok(r, "POST data");
    return NULL;
}

START_TEST(redirects_follow_tornado_rules)
{
    run_main(redirects, NULL);
}
END_TEST

static void *too_many(void *arg)
{
    (void)arg;
    struct httpclient_response *r = get("/redirect?n=6"); /* max_redirects 5 */
    ck_assert_int_eq(r->code, 302);
    ck_assert_int_eq(r->error, 302);
    ck_assert_str_eq(r->error_message, "HTTP 302: Found");
    ck_assert_str_eq(r->effective_url, url("/redirect?n=1&code=302"));
    ck_assert_str_eq(httpclient_response_header(r, "Location"), "/redirect?n=0&code=302");

    struct httpclient_request req;
    httpclient_request_init(&req, url("/redirect?n=1"));
    req.follow_redirects = false;
    r = fetch(&req);
    ck_assert_int_eq(r->code, 302);
    ck_assert_str_eq(r->effective_url, url("/redirect?n=1"));
    return NULL;
}

START_TEST(max_redirects_exceeded)
{
    run_main(too_many, NULL);
}
END_TEST

static void *auth(void *arg)
{
    (void)arg;
    char path[256];
    struct httpclient_request req;
    httpclient_request_init(&req, url("/auth"));
    req.auth_username = "Aladdin";
    req.auth_password = "open sesame";
    expect_ok(fetch(&req), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");

    req.url = url("/redirect-to?url=/auth"); /* same origin: kept */
    expect_ok(fetch(&req), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");

    snprintf(path, sizeof path, "/redirect-to?url=http://localhost:%d/auth", port);
    req.allow_ipv6 = false; /* the peer listens on 127.0.0.1 only */
    req.url = url(path); /* another origin: dropped */
    struct httpclient_header h[] = {{"Authorization", "Bearer secret"}};
    req.headers = h;
    req.n_headers = 1;
    struct httpclient_response *r = fetch(&req);
    expect_ok(r, "none");
    return NULL;
}

START_TEST(basic_auth_and_cross_origin_redirect)
{
    run_main(auth, NULL);
}
END_TEST

/* ---- 599s and errors ----------------------------------------------------------------- */

static void *timeout(void *arg)
{
    (void)arg;
    struct httpclient_request req;
    httpclient_request_init(&req, url("/slow"));
    req.request_timeout = 0.2;
    double t0 = ioloop_time(loop);
    struct httpclient_response *r = fetch(&req);
    ck_assert_int_eq(r->code, 599);
    ck_assert_int_eq(r->error, ETIMEDOUT);
    ck_assert_str_eq(r->error_message, "Timeout during request");
    ck_assert_str_eq(r->body, "");
    ck_assert_double_lt(ioloop_time(loop) - t0, 2);
    return NULL;
}

START_TEST(request_timeout_is_599)
{
    run_main(timeout, NULL);
}
END_TEST

static void *refused(void *arg)
{
    (void)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd); /* nobody listens there now */
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    struct httpclient_request req;
    httpclient_request_init(&req, u);
    struct httpclient_response *r = fetch(&req);
    ck_assert_int_eq(r->code, 599);
    ck_assert_int_eq(r->error, ECONNREFUSED);
    ck_assert_msg(strstr(r->error_message, "refused"), "%s", r->error_message);
    return NULL;
}

START_TEST(connect_refused_is_599)
{
    run_main(refused, NULL);
}
END_TEST

static void *mid_body(void *arg)
{
    (void)arg;
    struct httpclient_response *r = get("/close-mid-body");
    ck_assert_int_eq(r->code, 599);
    ck_assert_int_eq(r->error, EPIPE);
    ck_assert_str_eq(r->error_message, "Connection closed");
    return NULL;
}

START_TEST(closed_mid_body_is_599)
{
    run_main(mid_body, NULL);
}
END_TEST

/* A response head over 64 KiB is refused, not buffered without end; the client goes on. */
static void *huge_head(void *arg)
{
    (void)arg;
    struct httpclient_response *r = get("/huge-headers");
    ck_assert_int_eq(r->code, 599);
    ck_assert_int_eq(r->error, EPROTO);
    ck_assert_str_eq(r->error_message, "Malformed HTTP response: head larger than 65536 bytes");
    expect_ok(get("/hello"), "Hello, world");
    return NULL;
}

START_TEST(huge_response_head_is_refused)
{
    run_main(huge_head, NULL);
}
END_TEST

static void *garbage(void *arg)
{
    (void)arg;
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", garbage_port);
    struct httpclient_request req;
    httpclient_request_init(&req, u);
    struct httpclient_response *r = fetch(&req);
    ck_assert_int_eq(r->code, 599);
    ck_assert_int_eq(r->error, EPROTO);
    ck_assert_msg(!strncmp(r->error_message, "Malformed HTTP response: ", 25), "%s",
                  r->error_message);
    return NULL;
}

START_TEST(garbage_is_a_clear_error)
{
    run_main(garbage, NULL);
}
END_TEST

static void *bad_urls(void *arg)
{
    (void)arg;
    struct httpclient_request req;
    httpclient_request_init(&req, "ftp://x/");
    struct httpclient_response *r = fetch(&req);
    ck_assert_int_eq(r->code, 599);
    ck_assert_int_eq(r->error, EINVAL);
    ck_assert_msg(strstr(r->error_message, "ftp://x/"), "%s", r->error_message);
    httpclient_request_init(&req, "http://no-such-host.invalid/");
    req.connect_timeout = 5; /* a resolver that cannot be reached may time out instead */
    r = fetch(&req);
    ck_assert_int_eq(r->code, 599);
    ck_assert_msg(r->error == EHOSTUNREACH || r->error == ETIMEDOUT, "%s", r->error_message);
    /* An IPv6 literal with allow_ipv6 off: no address of the family allowed. */
    httpclient_request_init(&req, "http://[::1]:9/");
    req.allow_ipv6 = false;
    r = fetch(&req);
    ck_assert_int_eq(r->error, EHOSTUNREACH);
    ck_assert_msg(!strncmp(r->error_message, "Name resolution failed for ::1: ", 32), "%s",
                  r->error_message);
    httpclient_request_init(&req, url("/hello"));
    req.method = "GET /x";
    ck_assert_int_eq(fetch(&req)->error, EINVAL);
    return NULL;
}

START_TEST(bad_urls_and_unknown_hosts)
{
    run_main(bad_urls, NULL);
}
END_TEST

static void *not_found(void *arg)
{
    (void)arg;
    struct httpclient_response *r = get("/nowhere");
    ck_assert_int_eq(r->code, 404);
    ck_assert_int_eq(r->error, 404);
    ck_assert_str_eq(r->error_message, "HTTP 404: Not Found");
    ck_assert_ptr_nonnull(strstr(r->body, "404"));
    return NULL;
}

START_TEST(non_2xx_is_a_response)
{
    run_main(not_found, NULL);
}
END_TEST

/* A listener whose accept queue is full drops SYNs: the connect hangs. */
static void *connect_hangs(void *arg)
{
    (void)arg;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    ck_assert_int_eq(listen(lfd, 0), 0);
    int fill = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* backlog 0 still queues one */
    ck_assert_int_eq(connect(fill, (struct sockaddr *)&a, sizeof a), 0);
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    struct httpclient_request req;
    httpclient_request_init(&req, u);
    req.connect_timeout = 0.1;
    struct httpclient_response *r = fetch(&req);
    ck_assert_int_eq(r->code, 599);
    ck_assert_int_eq(r->error, ETIMEDOUT);
    ck_assert_str_eq(r->error_message, "Timeout while connecting");
    coro_await(coro_sleep(0.01), NULL); /* the abandoned connect's future goes quietly */
    close(fill);
    close(lfd);
    return NULL;
}

START_TEST(connect_timeout_is_599)
{
    run_main(connect_hangs, NULL);
}
END_TEST

/* ---- connections and the queue ------------------------------------------------------- */

static void *keep_alive_reuse(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        expect_ok(get("/count?tag=keep"), "1");
        ck_assert_uint_eq(httpclient_idle_connections(client), 1);
    }
    expect_ok(get("/chunked"), "chunk0;chunk1;chunk2;"); /* chunked bodies reuse too */
    expect_ok(get("/count?tag=keep"), "1");
    /* A failed exchange does not go back to the pool. */
    ck_assert_int_eq(get("/close-mid-body")->code, 599);
    ck_assert_uint_eq(httpclient_idle_connections(client), 0);
    expect_ok(get("/count?tag=keep"), "2");
    return NULL;
}

/* Tornado's way, as an option: "Connection: close" and a new connection per request. */
static void *no_keep_alive(void *arg)
{
    (void)arg;
    httpclient_t *own = httpclient_new(&(struct httpclient_options){.no_keep_alive = true});
    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/count?tag=fresh", port);
    struct httpclient_request req;
    httpclient_request_init(&req, u);
    for (int i = 1; i <= 3; i++) {
        struct httpclient_response *r;
        coro_await(httpclient_fetch(own, &req), (void **)&r);
        ck_assert_msg(r->code == 200, "%d %s", r->code, r->error_message);
        ck_assert_int_eq(atoi(r->body), i);
        ck_assert_uint_eq(httpclient_idle_connections(own), 0);
    }
    httpclient_free(own);
    return NULL;
}

/* The server closes a pooled connection: the next fetch opens a fresh one, no error. */
static void *idle_closed(void *arg)
{
    (void)arg;
    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/count?tag=idle", idle_port);
    struct httpclient_request req;
    httpclient_request_init(&req, u);
    expect_ok(fetch(&req), "1");
    expect_ok(fetch(&req), "1");
    ck_assert_uint_eq(httpclient_idle_connections(client), 1);
    coro_await(coro_sleep(0.5), NULL); /* the server's idle_connection_timeout is 0.2 s */
    expect_ok(fetch(&req), "2");
    ck_assert_uint_eq(httpclient_idle_connections(client), 1);
    return NULL;
}

START_TEST(idle_connection_closed_by_peer_is_dropped)
{
    run_main(idle_closed, NULL);
}
END_TEST

static void *queue_timeout(void *arg)
{
    (void)arg;
    struct httpclient_request slow, quick;
    httpclient_request_init(&slow, url("/slow"));
    slow.request_timeout = 0.3;
    httpclient_request_init(&quick, url("/hello"));
    quick.connect_timeout = 0.05;
    future_t *fs = httpclient_fetch(client, &slow);
    future_t *fq = httpclient_fetch(client, &quick);
    ck_assert_uint_eq(httpclient_queued(client), 1);
    struct httpclient_response *r;
    ck_assert_int_eq(coro_await(fq, (void **)&r), 0);
    ck_assert_int_eq(r->code, 599);
    ck_assert_str_eq(r->error_message, "Timeout in request queue");
    ck_assert_str_eq(r->effective_url, url("/hello"));
    ck_assert_uint_eq(httpclient_queued(client), 0);
    ck_assert_int_eq(coro_await(fs, (void **)&r), 0);
    ck_assert_str_eq(r->error_message, "Timeout during request");
    return NULL;
}

START_TEST(queue_timeout_is_599)
{
    httpclient_free(client);
    client = httpclient_new(&(struct httpclient_options){.max_clients = 1});
    run_main(queue_timeout, NULL);
}
END_TEST

START_TEST(keep_alive_reuses_one_connection)
{
    run_main(keep_alive_reuse, NULL);
}
END_TEST

START_TEST(no_keep_alive_option)
{
    run_main(no_keep_alive, NULL);
}
END_TEST

static int done_order[8], ndone, most_seen;

static void count_done(const struct httpclient_response *r, void *arg)
{
    ck_assert_msg(r->code == 200, "%d %s", r->code, r->error_message);
    int most = atoi(r->body);
    ck_assert_int_le(most, 2);
    ck_assert_int_ge(most, 1);
    most_seen = most > most_seen ? most : most_seen;
    done_order[ndone++] = (int)(intptr_t)arg;
    if (ndone == 5)
        ioloop_stop(loop);
}

START_TEST(max_clients_queue_fifo)
{
    httpclient_free(client);
    client = httpclient_new(&(struct httpclient_options){.max_clients = 2});
    struct httpclient_request req;
    httpclient_request_init(&req, url("/inflight?tag=q"));
    for (int i = 0; i < 5; i++)
        httpclient_fetch_cb(client, &req, count_done, (void *)(intptr_t)i);
    ck_assert_uint_eq(httpclient_active(client), 2);
    ck_assert_uint_eq(httpclient_queued(client), 3);
    ioloop_start(loop);
    ck_assert_int_eq(ndone, 5);
    /* Two at a time, in the order asked: {0, 1} (either first), then {2, 3}, then 4. */
    ck_assert_int_eq(done_order[0] + done_order[1], 0 + 1);
    ck_assert_int_eq(done_order[2] + done_order[3], 2 + 3);
    ck_assert_int_eq(done_order[4], 4);
    ck_assert_int_eq(most_seen, 2);
    ck_assert_uint_eq(httpclient_active(client), 0);
    ck_assert_uint_eq(httpclient_queued(client), 0);
}
END_TEST

static int cb_calls;

static void hello_cb(const struct httpclient_response *r, void *arg)
{
    ck_assert_str_eq(arg, "tag");
    expect_ok(r, "Hello, world");
    cb_calls++;
    ioloop_stop(loop);
}

START_TEST(callback_api)
{
    struct httpclient_request req;
    httpclient_request_init(&req, url("/hello"));
    httpclient_fetch_cb(client, &req, hello_cb, "tag");
    ck_assert_int_eq(cb_calls, 0); /* never inside fetch */
    ioloop_start(loop);
    ck_assert_int_eq(cb_calls, 1);
}
END_TEST

/* ---- https --------------------------------------------------------------------------- */

static const char *surl(const char *path)
{
    static char buf[8][512];
    static int next;
    char *u = buf[next++ % 8];
    snprintf(u, sizeof buf[0], "https://127.0.0.1:%d%s", https_port, path);
    return u;
}

/* A request to the peer's TLS port that trusts the suite's CA. */
static void https_init(struct httpclient_request *req, const char *path)
{
    httpclient_request_init(req, surl(path));
    req->ca_certs = certs.ca;
}

static void *https_basics(void *arg)
{
    (void)arg;
    struct httpclient_request req;
    https_init(&req, "/hello");
    struct httpclient_response *r = fetch(&req);
    expect_ok(r, "Hello, world");
    ck_assert_str_eq(r->effective_url, surl("/hello"));

    char u[128]; /* by name: the certificate's DNS name */
    snprintf(u, sizeof u, "https://localhost:%d/gzip", https_port);
    req.url = u;
    req.allow_ipv6 = false; /* the peer listens on 127.0.0.1 only */
    r = fetch(&req);
    ck_assert_msg(r->code == 200, "%d %s", r->code, r->error_message);
    ck_assert_uint_eq(r->body_len, 1000);
    ck_assert_str_eq(httpclient_response_header(r, "X-Consumed-Content-Encoding"), "gzip");

    https_init(&req, "/echo");
    req.method = "POST";
    req.body = "over TLS";
    req.body_len = strlen(req.body);
    expect_ok(fetch(&req), "over TLS");
    https_init(&req, "/chunked");
    expect_ok(fetch(&req), "chunk0;chunk1;chunk2;");
    return NULL;
}

START_TEST(https_get_post_gzip_chunked)
{
    run_main(https_basics, NULL);
}
END_TEST

/* One TLS connection for many requests; http and https to the same host never share,
 * nor do https requests verified differently. */
static void *https_keep_alive(void *arg)
{
    (void)arg;
    struct httpclient_request req;
    https_init(&req, "/count?tag=tls");
    for (int i = 0; i < 3; i++) {
        expect_ok(fetch(&req), "1");
        ck_assert_uint_eq(httpclient_idle_connections(client), 1);
    }
    expect_ok(get("/count?tag=tls"), "2"); /* plain http: a connection of its own */
    ck_assert_uint_eq(httpclient_idle_connections(client), 2);
    req.validate_cert = false;
    expect_ok(fetch(&req), "3");
    ck_assert_uint_eq(httpclient_idle_connections(client), 3);
    req.validate_cert = true;
    expect_ok(fetch(&req), "3");
    return NULL;
}

START_TEST(https_keep_alive_per_scheme_and_tls)
{
    run_main(https_keep_alive, NULL);
}
END_TEST

/* http -> https is a change of origin: followed, credentials dropped. */
static void *https_redirect(void *arg)
{
    (void)arg;
    char path[256];
    snprintf(path, sizeof path, "/redirect-to?url=%s", surl("/auth"));
    struct httpclient_request req;
    httpclient_request_init(&req, url(path));
    req.ca_certs = certs.ca;
    req.auth_username = "Aladdin";
    req.auth_password = "open sesame";
    struct httpclient_response *r = fetch(&req);
    expect_ok(r, "none");
    ck_assert_str_eq(r->effective_url, surl("/auth"));

    snprintf(path, sizeof path, "/redirect-to?url=%s", url("/hello")); /* and back */
    https_init(&req, path);
    r = fetch(&req);
    expect_ok(r, "Hello, world");
    ck_assert_str_eq(r->effective_url, url("/hello"));
    return NULL;
}

START_TEST(https_redirects_across_schemes)
{
    run_main(https_redirect, NULL);
}
END_TEST

static void expect_599(const struct httpclient_response *r, int error, const char *prefix)
{
    ck_assert_int_eq(r->code, 599);
    ck_assert_msg(r->error == error, "error %d: %s", r->error, r->error_message);
    ck_assert_msg(!strncmp(r->error_message, prefix, strlen(prefix)), "%s", r->error_message);
    ck_assert_str_eq(r->body, "");
}

static void *https_verification(void *arg)
{
    (void)arg;
    struct httpclient_request req;
    httpclient_request_init(&req, surl("/hello")); /* the system's CAs do not know ours */
    expect_599(fetch(&req), ECONNABORTED,
               "SSL handshake failed: certificate verify failed (unable to get local issuer "
               "certificate)");
    req.validate_cert = false;
    expect_ok(fetch(&req), "Hello, world");
    https_init(&req, "/hello");
    expect_ok(fetch(&req), "Hello, world");
    req.ca_certs = "/nonexistent/ca.pem";
    expect_599(fetch(&req), EINVAL, "Invalid TLS options: cannot load ca_certs /nonexistent/ca.pem: ");
    return NULL;
}

START_TEST(https_certificate_verification)
{
    run_main(https_verification, NULL);
}
END_TEST

/* https to a server that answers in something else than TLS fails clearly; one that
 * accepts and never answers the handshake is bounded by connect_timeout. */
static void *https_wrong_peers(void *arg)
{
    (void)arg;
    char u[64];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/", garbage_port);
    struct httpclient_request req;
    httpclient_request_init(&req, u);
    expect_599(fetch(&req), ECONNABORTED, "SSL handshake failed: ");

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* the kernel accepts for it */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    ck_assert_int_eq(listen(lfd, 8), 0);
    snprintf(u, sizeof u, "https://127.0.0.1:%d/", ntohs(a.sin_port));
    httpclient_request_init(&req, u);
    req.connect_timeout = 0.2;
    double t0 = ioloop_time(loop);
    struct httpclient_response *r = fetch(&req);
    ck_assert_int_eq(r->code, 599);
    ck_assert_int_eq(r->error, ETIMEDOUT);
    ck_assert_str_eq(r->error_message, "Timeout while connecting");
    ck_assert_double_lt(ioloop_time(loop) - t0, 2);
    close(lfd);
    return NULL;
}

START_TEST(https_to_wrong_peers_is_599)
{
    run_main(https_wrong_peers, NULL);
}
END_TEST

int main(void)
{
    test_certs_make(&certs);
    peer_start();
    Suite *s = suite_create("httpclient");
    TCase *tc = tcase_create("httpclient");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, get_request);
    tcase_add_test(tc, post_with_body);
    tcase_add_test(tc, chunked_response);
    tcase_add_test(tc, gzip_decompression);
    tcase_add_test(tc, streaming_and_header_callbacks);
    tcase_add_test(tc, redirects_follow_tornado_rules);
    tcase_add_test(tc, max_redirects_exceeded);
    tcase_add_test(tc, basic_auth_and_cross_origin_redirect);
    tcase_add_test(tc, request_timeout_is_599);
    tcase_add_test(tc, connect_refused_is_599);
    tcase_add_test(tc, closed_mid_body_is_599);
    tcase_add_test(tc, garbage_is_a_clear_error);
    tcase_add_test(tc, huge_response_head_is_refused);
    tcase_add_test(tc, bad_urls_and_unknown_hosts);
    tcase_add_test(tc, non_2xx_is_a_response);
    tcase_add_test(tc, keep_alive_reuses_one_connection);
    tcase_add_test(tc, no_keep_alive_option);
    tcase_add_test(tc, idle_connection_closed_by_peer_is_dropped);
    tcase_add_test(tc, connect_timeout_is_599);
    tcase_add_test(tc, max_clients_queue_fifo);
    tcase_add_test(tc, queue_timeout_is_599);
    tcase_add_test(tc, callback_api);
    tcase_add_test(tc, https_get_post_gzip_chunked);
    tcase_add_test(tc, https_keep_alive_per_scheme_and_tls);
    tcase_add_test(tc, https_redirects_across_schemes);
    tcase_add_test(tc, https_certificate_verification);
    tcase_add_test(tc, https_to_wrong_peers_is_599);
    suite_add_tcase(s, tc);
    int status = unit_run(s);
    peer_stop();
    test_certs_remove(&certs);
    return status;
}
