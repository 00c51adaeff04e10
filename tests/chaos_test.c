/* Tests for 05_httpclient/chaos: the generator and the bucket alone, then the proxy on a
 * fresh loop between our httpserver (an origin in the same process) and our httpclient
 * or raw sockets: latency and the total rate measured within 10 %, reset and jitter
 * counts within binomial bounds, the same seed making the same choices, and hostile
 * clients and upstreams answered instead of crashing the proxy. */
#include "chaos.h"
#include "httpclient.h"
#include "httpserver.h"
#include "iostream.h"
#include "loop_test.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BIG (1000 * 1000)

static app_t *app;
static httpserver_t *origin;
static httpclient_t *client;
static chaos_proxy_t *proxy;
static char origin_url[64], proxy_url[64];

/* ---- the generator and the bucket ---- */

START_TEST(rng_is_splitmix_seeded_xoshiro)
{
    struct chaos_rng a, b;
    chaos_rng_seed(&a, 0);
    /* splitmix64's first output from 0, the reference value. */
    ck_assert_uint_eq(a.s[0], 0xe220a8397b1dcdafu);
    chaos_rng_seed(&b, 0);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(chaos_rng_next(&a), chaos_rng_next(&b));
    chaos_rng_seed(&b, 1);
    ck_assert_uint_ne(chaos_rng_next(&a), chaos_rng_next(&b));
}
END_TEST

START_TEST(rng_samples_uniformly)
{
    struct chaos_rng r;
    chaos_rng_seed(&r, 42);
    int seen[11] = {0}, hits = 0;
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = chaos_rng_unit(&r);
        ck_assert(u >= 0 && u < 1);
        sum += u;
        double v = chaos_rng_range(&r, 50, 60);
        ck_assert(v >= 50 && v <= 60 && v == floor(v));
        seen[(int)v - 50]++;
        hits += chaos_rng_chance(&r, 0.1);
    }
    ck_assert(fabs(sum / 100000 - 0.5) < 0.01);
    for (int i = 0; i <= 10; i++) /* each of 11 values: 9091 expected, sigma 91 */
        ck_assert_msg(abs(seen[i] - 9091) < 4 * 91, "value %d seen %d times", 50 + i, seen[i]);
    ck_assert_msg(abs(hits - 10000) < 4 * 95, "chance(0.1): %d of 100000", hits);
    double x = chaos_rng_range(&r, 0.5, 0.75);
    ck_assert(x >= 0.5 && x <= 0.75);
    /* A fixed value or a zero probability draws nothing. */
    struct chaos_rng copy = r;
    ck_assert(chaos_rng_range(&r, 7, 7) == 7);
    ck_assert(!chaos_rng_chance(&r, 0));
    ck_assert_uint_eq(chaos_rng_next(&r), chaos_rng_next(&copy));
}
END_TEST

START_TEST(bucket_paces_a_total_rate)
{
    struct chaos_bucket b;
    chaos_bucket_init(&b, 1000, 0, 10);
    ck_assert(chaos_bucket_take(&b, 500, 10) == 0.5);
    ck_assert(chaos_bucket_take(&b, 500, 10) == 1.0); /* a second sender waits behind */
    ck_assert(chaos_bucket_take(&b, 100, 12) == 0.1); /* the debt paid, no credit kept */
    chaos_bucket_init(&b, 1000, 0.2, 0); /* 200 bytes */
    ck_assert(chaos_bucket_take(&b, 200, 0) == 0); /* a burst passes at once */
    ck_assert(chaos_bucket_take(&b, 100, 0) == 0.1);
    chaos_bucket_set_rate(&b, 100, 0);
    ck_assert(fabs(chaos_bucket_take(&b, 100, 0) - 2.0) < 1e-9);
    ck_assert(fabs(chaos_bucket_take(&b, 10, 100) - 0.0) < 1e-9); /* 20 saved: 0.2 s of 100 */
    ck_assert(fabs(chaos_bucket_take(&b, 20, 100) - 0.1) < 1e-9);
    chaos_bucket_set_rate(&b, 0, 0); /* no limit */
    ck_assert(chaos_bucket_take(&b, 1000000, 0) == 0);
}
END_TEST

/* ---- the proxy: an origin, a client, and a proxy made per test ---- */

static void hello_get(handler_t *h)
{
    handler_write(h, "Hello, world", 12);
}

static void big_get(handler_t *h)
{
    char *body = malloc(BIG);
    memset(body, 'x', BIG);
    handler_write(h, body, BIG);
    free(body);
}

static const struct handler_class hello = {.get = hello_get, .post = hello_get};
static const struct handler_class big = {.get = big_get};

static void setup(void)
{
    loop_test_setup();
    app = app_new();
    app_add(app, "/", &hello, NULL);
    app_add(app, "/big", &big, NULL);
    origin = httpserver_new(app, NULL);
    ck_assert_int_eq(httpserver_listen(origin, "127.0.0.1", 0), 0);
    snprintf(origin_url, sizeof origin_url, "http://127.0.0.1:%d", httpserver_port(origin));
    client = httpclient_new(&(struct httpclient_options){.max_clients = 50});
}

static void teardown(void)
{
    while (httpclient_active(client) > 0) /* a test may end with fetches running */
        ioloop_run_once(loop);
    httpclient_free(client);
    httpserver_close(origin);
    if (proxy)
        chaos_proxy_close(proxy);
    while (httpserver_connections(origin) > 0 || (proxy && chaos_proxy_connections(proxy) > 0))
        ioloop_run_once(loop);
    httpserver_free(origin);
    if (proxy)
        chaos_proxy_free(proxy);
    app_free(app);
    loop_test_teardown();
}

/* A reverse proxy to the origin with options o. */
static void proxy_start(struct chaos_options o)
{
    if (!o.upstream)
        o.upstream = origin_url;
    proxy = chaos_proxy_new(&o);
    ck_assert_ptr_nonnull(proxy);
    ck_assert_int_eq(chaos_proxy_listen(proxy, "127.0.0.1", 0), 0);
    snprintf(proxy_url, sizeof proxy_url, "http://127.0.0.1:%d", chaos_proxy_port(proxy));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_head_line(const char *line, size_t len, void *arg)
{
    (void)line;
    (void)len;
    double *first = arg;
    if (*first == 0)
        *first = now();
}

/* GETs path through the proxy; *first_byte (if asked) is when the head began. */
static struct httpclient_response *get(const char *path, double *first_byte)
{
    char u[128];
    snprintf(u, sizeof u, "%s%s", proxy_url, path);
    struct httpclient_request req;
    httpclient_request_init(&req, u);
    if (first_byte) {
        *first_byte = 0;
        req.header_callback = on_head_line;
        req.callback_arg = first_byte;
    }
    struct httpclient_response *r;
    ck_assert_int_eq(coro_await(httpclient_fetch(client, &req), (void **)&r), 0);
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void *measure_latency(void *arg)
{
    (void)arg;
    double delay[5];
    for (int i = 0; i < 5; i++) {
        double start = now(), first;
        struct httpclient_response *r = get("/", &first);
        ck_assert_int_eq(r->code, 200);
        ck_assert_str_eq(r->body, "Hello, world");
        ck_assert_str_eq(httpclient_response_header(r, "X-Chaos-Latency"), "200");
        delay[i] = first - start;
    }
    qsort(delay, 5, sizeof delay[0], cmp_double);
    ck_assert_msg(delay[2] >= 0.200 && delay[2] <= 0.220, "median first byte after %.3f s",
                  delay[2]);
    return NULL;
}

START_TEST(latency_holds_the_first_byte)
{
    proxy_start((struct chaos_options){.latency_min = 200, .latency_max = 200});
    run_main(measure_latency, NULL);
}
END_TEST

static void *measure_speed(void *arg)
{
    (void)arg;
    double start = now();
    struct httpclient_response *r = get("/big", NULL);
    double took = now() - start;
    ck_assert_int_eq(r->code, 200);
    ck_assert_uint_eq(r->body_len, BIG);
    ck_assert_msg(took >= 4.5 && took <= 5.5, "1 MB at 200000 B/s took %.3f s", took);
    return NULL;
}

START_TEST(speed_limits_the_rate)
{
    proxy_start((struct chaos_options){.speed_min = 200000, .speed_max = 200000});
    run_main(measure_speed, NULL);
}
END_TEST

/* n GETs one after another; which ones were reset, in resets (if given). */
static int count_resets(int n, char *resets)
{
    int count = 0;
    for (int i = 0; i < n; i++) {
        struct httpclient_response *r = get("/", NULL);
        bool reset = r->code == 599;
        if (reset)
            ck_assert_str_eq(r->error_message, "Stream closed");
        else
            ck_assert_int_eq(r->code, 200);
        count += reset;
        if (resets)
            resets[i] = reset ? 'R' : '.';
    }
    return count;
}

static void *thousand_resets(void *arg)
{
    (void)arg;
    int n = count_resets(1000, NULL);
    /* Binomial(1000, 0.1): mean 100, sigma 9.5. */
    ck_assert_msg(n >= 62 && n <= 138, "%d resets in 1000", n);
    ck_assert_uint_eq(chaos_proxy_stats(proxy)->resets, (uint64_t)n);
    ck_assert_uint_eq(chaos_proxy_stats(proxy)->requests, 1000);
    return NULL;
}

START_TEST(resets_follow_their_probability)
{
    proxy_start((struct chaos_options){.reset_prob = 0.1, .seed = 2026});
    run_main(thousand_resets, NULL);
}
END_TEST

static void *thousand_jitters(void *arg)
{
    (void)arg;
    count_resets(1000, NULL);
    const struct chaos_stats *s = chaos_proxy_stats(proxy);
    /* A draw per piece: a head and a body each. */
    ck_assert_uint_eq(s->pieces, 2000);
    double mean = 0.2 * (double)s->pieces, sigma = sqrt(mean * 0.8);
    ck_assert_msg(fabs((double)s->jitters - mean) <= 4 * sigma, "%lu jitters in %lu pieces",
                  (unsigned long)s->jitters, (unsigned long)s->pieces);
    return NULL;
}

START_TEST(jitters_follow_their_probability)
{
    proxy_start((struct chaos_options){.jitter_prob = 0.2, .jitter_min = 0, .jitter_max = 1,
                                       .seed = 7});
    run_main(thousand_jitters, NULL);
}
END_TEST

static void *pattern(void *arg)
{
    count_resets(200, arg);
    return NULL;
}

/* The reset pattern of 200 requests through a proxy seeded with seed. */
static void reset_pattern(uint64_t seed, char *out)
{
    proxy_start((struct chaos_options){.reset_prob = 0.3, .seed = seed});
    run_main(pattern, out);
    chaos_proxy_free(proxy);
    proxy = NULL;
    out[200] = '\0';
}

START_TEST(same_seed_same_choices)
{
    char a[201], b[201], c[201];
    reset_pattern(99, a);
    reset_pattern(99, b);
    reset_pattern(100, c);
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
}
END_TEST

/* ---- hostile peers ---- */

/* Sends raw bytes to the proxy and returns all it answered (the caller frees it). */
static char *exchange(const char *bytes, size_t len)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(chaos_proxy_port(proxy)),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    iostream_t *s;
    future_t *c = iostream_connect((struct sockaddr *)&addr, sizeof addr, NULL, &s);
    future_unref(c);
    coro_await(iostream_write(s, bytes, len), NULL);
    struct iostream_bytes *got;
    int err = coro_await(coro_with_timeout(ioloop_time(loop) + 5, iostream_read_until_close(s)),
                         (void **)&got);
    ck_assert_msg(err == 0, "no close from the proxy: %s", coro_error());
    char *out = strdup(got->data);
    iostream_free(s);
    return out;
}

static void expect_status(const char *request, size_t len, const char *status)
{
    char *answer = exchange(request, len);
    ck_assert_msg(!strncmp(answer, status, strlen(status)), "answer %s", answer);
    free(answer);
}

#define REQ(s) s, sizeof s - 1

/* A listener that answers every connection with garbage and closes it. */
static void on_garbage_accept(int fd, int events, void *arg)
{
    (void)events;
    (void)arg;
    int c = accept(fd, NULL, NULL);
    if (c >= 0) {
        ck_assert_int_eq(write(c, "garbage\r\n\r\n", 11), 11);
        close(c);
    }
}

static int garbage_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert(bind(fd, (struct sockaddr *)&a, len) == 0 && listen(fd, 8) == 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    ioloop_add_handler(loop, fd, IOLOOP_READ, on_garbage_accept, NULL);
    return fd;
}

static void *hostile(void *arg)
{
    (void)arg;
    char req[256];
    expect_status(REQ("garbage\r\n\r\n"), "HTTP/1.1 400 ");
    expect_status(REQ("GET / HTTP/1.1\r\nBad Header\r\n\r\n"), "HTTP/1.1 400 ");
    size_t huge = 100 * 1024;
    char *big = malloc(huge);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    memset(big + 19, 'a', huge - 19);
    expect_status(big, huge, "HTTP/1.1 431 ");
    free(big);
    expect_status(REQ("GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 502 ");
    expect_status(REQ("GET http://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 502 ");
    expect_status(REQ("GET https://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 501 ");
    expect_status(REQ("CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 501 ");
    expect_status(REQ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
                  "HTTP/1.1 411 ");
    /* The absolute form goes where it says; a body goes along. */
    snprintf(req, sizeof req, "POST %s/ HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", origin_url);
    char *ok = exchange(req, strlen(req));
    ck_assert_msg(strstr(ok, "HTTP/1.1 200 OK\r\n") == ok && strstr(ok, "\r\n\r\nHello, world"),
                  "answer %s", ok);
    free(ok);
    int gport;
    int gfd = garbage_listener(&gport);
    snprintf(req, sizeof req, "GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: x\r\n\r\n", gport);
    expect_status(req, strlen(req), "HTTP/1.1 502 ");
    ioloop_remove_handler(loop, gfd);
    close(gfd);
    /* Half a head, then silence: the proxy's timeout closes it with no answer. */
    char *none = exchange(REQ("GET / HT"));
    ck_assert_str_eq(none, "");
    free(none);
    ck_assert_uint_eq(chaos_proxy_stats(proxy)->errors, 9);
    return NULL;
}

START_TEST(hostile_peers_get_answers)
{
    proxy_start((struct chaos_options){.upstream = NULL, .timeout = 0.3});
    run_main(hostile, NULL);
}
END_TEST

START_TEST(bad_options_are_refused)
{
    ck_assert_ptr_null(chaos_proxy_new(&(struct chaos_options){.reset_prob = 1.5}));
    ck_assert_ptr_null(chaos_proxy_new(&(struct chaos_options){.latency_min = -1}));
    ck_assert_ptr_null(chaos_proxy_new(&(struct chaos_options){.upstream = "ftp://x"}));
    ck_assert_ptr_null(chaos_proxy_new(&(struct chaos_options){.upstream = "https://127.0.0.1"}));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chaos");
    TCase *tc = tcase_create("units");
    tcase_add_test(tc, rng_is_splitmix_seeded_xoshiro);
    tcase_add_test(tc, rng_samples_uniformly);
    tcase_add_test(tc, bucket_paces_a_total_rate);
    suite_add_tcase(s, tc);
    tc = tcase_create("proxy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, latency_holds_the_first_byte);
    tcase_add_test(tc, speed_limits_the_rate);
    tcase_add_test(tc, resets_follow_their_probability);
    tcase_add_test(tc, jitters_follow_their_probability);
    tcase_add_test(tc, same_seed_same_choices);
    tcase_add_test(tc, hostile_peers_get_answers);
    tcase_add_test(tc, bad_options_are_refused);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
