/* http_client_bench — lesson 05's AsyncHTTPClient against a local server, for
 * bench/run-http-client-bench.
 *
 *     http_client_bench URL [-n N] [-c MAX_CLIENTS] [--no-keep-alive]
 *
 * Hands the client N GETs of URL at once (default 20,000) and waits for them all, as
 * `await gen.multi([client.fetch(url) for _ in range(n)])` does in Tornado: max_clients
 * (default 100) run at a time, the rest wait in the client's FIFO queue. With keep-alive
 * (the default) the connections are reused from the pool; --no-keep-alive sends
 * "Connection: close" and connects for every request, as Tornado's simple_httpclient
 * always does. Prints one line of key=value pairs, as loop_bench does:
 *
 *     bench=http-client impl=c mode=reuse n=20000 max_clients=100 seconds=1.2 rps=16000 errors=0
 *
 * Every response must be a 200 (errors counts the others; the status is 1 if any).
 */
#include "coro.h"
#include "httpclient.h"
#include "ioloop.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

struct bench {
    const char *url;
    size_t n, max_clients;
    bool no_keep_alive;
    httpclient_t *client;
    size_t errors;
};

static void usage_exit(void)
{
    fprintf(stderr, "usage: http_client_bench URL [-n N] [-c MAX_CLIENTS] [--no-keep-alive]\n");
    exit(2);
}

static void parse_args(int argc, char **argv, struct bench *b)
{
    static const struct option options[] = {
        {"no-keep-alive", no_argument, NULL, 'k'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "n:c:", options, NULL)) != -1) {
        switch (c) {
        case 'n': b->n = strtoul(optarg, NULL, 10); break;
        case 'c': b->max_clients = strtoul(optarg, NULL, 10); break;
        case 'k': b->no_keep_alive = true; break;
        default: usage_exit();
        }
    }
    if (optind != argc - 1 || b->n == 0 || b->max_clients == 0)
        usage_exit();
    b->url = argv[optind];
}

static void *fetch_all(void *arg)
{
    struct bench *b = arg;
    struct httpclient_request req;
    httpclient_request_init(&req, b->url);
    req.connect_timeout = req.request_timeout = 300; /* the queue waits as long, too */
    future_t **fs = malloc(b->n * sizeof *fs);
    for (size_t i = 0; i < b->n; i++)
        fs[i] = httpclient_fetch(b->client, &req);
    void *results;
    coro_await(coro_multi(fs, b->n), &results); /* fetches never fail: responses */
    free(fs);
    struct httpclient_response **resps = results;
    for (size_t i = 0; i < b->n; i++)
        if (resps[i]->code != 200 && b->errors++ == 0)
            fprintf(stderr, "http_client_bench: %d %s\n", resps[i]->code, resps[i]->reason);
    return NULL;
}

static future_t *start(void *arg)
{
    return coro_spawn("fetch_all", fetch_all, arg);
}

int main(int argc, char **argv)
{
    struct bench b = {.n = 20000, .max_clients = 100};
    parse_args(argc, argv, &b);
    ioloop_t *loop = ioloop_current();
    struct httpclient_options opts = {.max_clients = b.max_clients,
                                      .max_idle_per_host = b.max_clients,
                                      .no_keep_alive = b.no_keep_alive};
    b.client = httpclient_new(&opts);
    if (!b.client) {
        perror("http_client_bench");
        return 1;
    }
    double t0 = ioloop_time(loop);
    future_unref(ioloop_run_sync(loop, start, &b, 0));
    double seconds = ioloop_time(loop) - t0;
    httpclient_free(b.client);
    ioloop_free(loop);
    printf("bench=http-client impl=c mode=%s n=%zu max_clients=%zu seconds=%.6f rps=%.1f "
           "errors=%zu\n", b.no_keep_alive ? "no-reuse" : "reuse", b.n, b.max_clients, seconds,
           b.n / seconds, b.errors);
    return b.errors ? 1 : 0;
}
