/* 05_chaos_demo — lesson 05: the client behind document 003's chaos proxy (Part 4).
 *
 * On loopback every fetch succeeds at once, so a client's error paths never run. Here an
 * origin server ("Hello, world"), a chaos proxy in front of it (chaos.h) and the client
 * share one loop. Fetched directly, the origin answers at once (0.); through the proxy
 * the network turns bad in three ways:
 *   1. latency longer than request_timeout: the fetch ends in 599 "Timeout during
 *      request"; without a timeout the same fetch succeeds, a second later;
 *   2. resets (a RST where the response should begin): 599 "Stream closed", and a loop
 *      that retries with a doubling back-off until a fetch gets through;
 *   3. a random latency per response: forty fetches at once, and how the latencies the
 *      proxy drew spread (each response tells its own in X-Chaos-Latency).
 * The output is the same on every run: the proxy's generator is seeded, the times
 * printed are the ones it drew (never measured ones), and every outcome has a wide
 * margin (1000 ms against 250 ms) on the one loop, whatever the --speed or the load;
 * a fetch that must succeed has no timeout at all.
 */
#include "chaos.h"
#include "coro.h"
#include "httpclient.h"
#include "httpserver.h"
#include "lesson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define FETCHES 40
#define BINS 4
/* Real seconds per documented second, at least 1/10: a connect on loopback takes the
 * loop a few ms under load or valgrind, and the 250 ms timeout of part 1 must outlast
 * it whatever --speed says (the output is the same; only the run is slower). */
#define SCALE_MIN 0.1

static double scale;

struct demo {
    httpserver_t *origin;
    httpclient_t *client;
    char origin_url[64];
};

static void hello_get(handler_t *h)
{
    handler_write(h, "Hello, world", 12);
}

static const struct handler_class hello = {.get = hello_get};

/* A proxy in front of the origin, on a free port; its URL in url. */
static chaos_proxy_t *proxy_start(struct demo *d, struct chaos_options o, char *url, size_t n)
{
    o.upstream = d->origin_url;
    o.time_scale = scale;
    chaos_proxy_t *p = chaos_proxy_new(&o);
    chaos_proxy_listen(p, "127.0.0.1", 0);
    snprintf(url, n, "http://127.0.0.1:%d/", chaos_proxy_port(p));
    return p;
}

/* Closes the proxy once the connections it still holds (a fetch given up on) ended. */
static void proxy_stop(chaos_proxy_t *p)
{
    chaos_proxy_close(p);
    while (chaos_proxy_connections(p) > 0)
        coro_await(coro_moment(), NULL);
    chaos_proxy_free(p);
}

static struct httpclient_response *fetch(struct demo *d, const char *url, double timeout_s)
{
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    req.request_timeout = timeout_s * scale; /* 0: none, whatever the speed */
    void *r;
    coro_await(httpclient_fetch(d->client, &req), &r);
    return r;
}

static void show_direct(struct demo *d)
{
    const struct httpclient_response *r = fetch(d, d->origin_url, 0);
    lesson_sayf("0. no proxy: %d %s", "0. 不经代理: %d %s", r->code, r->body);
}

static void show_timeout(struct demo *d)
{
    char url[64];
    chaos_proxy_t *p = proxy_start(d, (struct chaos_options){.latency_min = 1000}, url, sizeof url);
    lesson_say("1. proxy: --latency 1000", "1. 代理: --latency 1000");
    const struct httpclient_response *r = fetch(d, url, 0.25);
    lesson_sayf("   request_timeout 250 ms: %d %s", "   request_timeout 250 毫秒: %d %s", r->code,
                r->error_message);
    r = fetch(d, url, 0);
    lesson_sayf("   no request_timeout: %d %s, held back %s ms",
                "   不设 request_timeout: %d %s, 被拖延 %s 毫秒", r->code, r->body,
                httpclient_response_header(r, "X-Chaos-Latency"));
    proxy_stop(p);
}

static void show_retries(struct demo *d)
{
    char url[64];
    chaos_proxy_t *p = proxy_start(d, (struct chaos_options){.reset_prob = 0.5, .seed = 9}, url,
                                   sizeof url);
    lesson_say("2. proxy: --reset-enable --reset-prob 0.5 --seed 9",
               "2. 代理: --reset-enable --reset-prob 0.5 --seed 9");
    double backoff = 0.1;
    for (int attempt = 1;; attempt++) {
        const struct httpclient_response *r = fetch(d, url, 0);
        if (r->error == 0) {
            lesson_sayf("   attempt %d: %d %s", "   第 %d 次: %d %s", attempt, r->code, r->body);
            break;
        }
        lesson_sayf("   attempt %d: %d %s, retry in %g ms", "   第 %d 次: %d %s, %g 毫秒后重试",
                    attempt, r->code, r->error_message, backoff * 1000);
        coro_await(coro_sleep(backoff * scale), NULL);
        backoff *= 2;
    }
    proxy_stop(p);
}

static void show_histogram(const int *latency, int n)
{
    int count[BINS] = {0};
    double sum = 0;
    for (int i = 0; i < n; i++) {
        int b = (latency[i] - 50) / 50;
        count[b < BINS ? b : BINS - 1]++;
        sum += latency[i];
    }
    for (int b = 0; b < BINS; b++) {
        char bar[FETCHES + 1];
        for (int i = 0; i < count[b]; i++)
            bar[i] = '#';
        bar[count[b]] = '\0';
        int lo = 50 + 50 * b, hi = b == BINS - 1 ? 250 : lo + 49;
        lesson_sayf("   %3d-%3d ms %-2d %s", "   %3d-%3d 毫秒 %-2d %s", lo, hi, count[b], bar);
    }
    lesson_sayf("   mean %.1f ms (uniform: 150)", "   平均 %.1f 毫秒 (均匀分布: 150)", sum / n);
}

static void show_distribution(struct demo *d)
{
    char url[64];
    chaos_proxy_t *p = proxy_start(
        d, (struct chaos_options){.latency_min = 50, .latency_max = 250, .seed = 42}, url,
        sizeof url);
    lesson_sayf("3. proxy: --latency-min 50 --latency-max 250 --seed 42; %d fetches at once",
                "3. 代理: --latency-min 50 --latency-max 250 --seed 42; 同时发出 %d 个请求",
                FETCHES);
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    future_t *fs[FETCHES];
    for (int i = 0; i < FETCHES; i++)
        fs[i] = httpclient_fetch(d->client, &req);
    void *r;
    coro_await(coro_multi(fs, FETCHES), &r);
    struct httpclient_response **resp = r;
    int latency[FETCHES];
    for (int i = 0; i < FETCHES; i++)
        latency[i] = atoi(httpclient_response_header(resp[i], "X-Chaos-Latency"));
    show_histogram(latency, FETCHES);
    proxy_stop(p);
}

static void *demo_main(void *arg)
{
    struct demo *d = arg;
    lesson_say("origin: \"Hello, world\"; the client fetches it through a chaos proxy",
               "源服务器: \"Hello, world\"; 客户端经过混沌代理获取它");
    show_direct(d);
    show_timeout(d);
    show_retries(d);
    show_distribution(d);
    return NULL;
}

static future_t *start(void *arg)
{
    return coro_spawn("demo", demo_main, arg);
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "a client behind document 003's chaos proxy: timeouts, resets and retries,\n"
                 "and the spread of a random latency, from one seeded generator.",
        .pool = true, /* the client resolves names on an executor's threads */
    };
    lesson_init(argc, argv, &info);
    scale = fmax(lesson_seconds(1), SCALE_MIN);
    ioloop_t *loop = ioloop_current();
    struct demo d = {0};
    app_t *app = app_new();
    app_add(app, "/", &hello, NULL);
    d.origin = httpserver_new(app, NULL);
    httpserver_listen(d.origin, "127.0.0.1", 0);
    snprintf(d.origin_url, sizeof d.origin_url, "http://127.0.0.1:%d", httpserver_port(d.origin));
    d.client = httpclient_new(&(struct httpclient_options){.max_clients = FETCHES});
    future_unref(ioloop_run_sync(loop, start, &d, 0));
    httpclient_free(d.client);
    httpserver_shutdown(d.origin);
    app_free(app);
    ioloop_free(loop);
    return lesson_exit();
}
