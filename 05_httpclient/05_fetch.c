/* 05_fetch — a small curl on lesson 05's AsyncHTTPClient.
 *
 *     05_fetch [options] URL...
 *
 * Fetches every URL (each --repeat times), at most --parallel at once: the documents'
 * `yield [client.fetch(u) for u in urls]`, with a bound. --parallel workers, each a
 * coroutine, take the next URL from a shared counter and await its fetch (Tornado's
 * webspider does the same with a Queue); the client's max_clients is the same bound,
 * so nothing waits in its queue. Responses are printed in the order they finish:
 *
 *     stdout  the body (with -i, the status line and the headers first, as received)
 *     stderr  one line per fetch:  200 OK    1234 bytes gzip    12.34 ms  http://...
 *             and for more than one fetch a summary with the requests per second.
 *
 * With --repeat, the timing lines show what keep-alive saves: the first fetch of a
 * host connects, the next ones reuse the pooled connection (--no-keep-alive: Tornado's
 * simple_httpclient, a new connection each time).
 *
 * Exit status: 0 if every response was 2xx or 3xx, 1 if any was an HTTP error or a 599
 * (no response: its error is printed), 2 for bad usage.
 */
#include "coro.h"
#include "httpclient.h"
#include "ioloop.h"
#include "strbuf.h"
#include "tool.h"
#include "url.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_HEADERS 64

struct config {
    struct httpclient_request req; /* every fetch's request but its url */
    struct httpclient_header headers[MAX_HEADERS + 1]; /* -H, and a Content-Type for -d */
    char **urls;
    size_t n_urls;
    size_t repeat, parallel;
    bool include, no_body, no_keep_alive;
};

/* What the workers share. */
struct run {
    const struct config *cfg;
    httpclient_t *client;
    size_t next, total; /* fetches started, and to start: n_urls * repeat */
    size_t failed;
};

static void usage(void)
{
    printf("%s: fetch URLs with lesson 05's AsyncHTTPClient, a few at a time, and time\n"
           "each fetch: a small curl for watching keep-alive, redirects and gzip.\n\n"
           "Usage: %s [options] URL...\n\n", program_invocation_short_name,
           program_invocation_short_name);
    printf("  -X, --request METHOD   the method (default GET; POST with -d)\n"
           "  -d, --data DATA        send DATA as the body (form-encoded unless -H says)\n"
           "  -H, --header 'N: v'    add a request header (repeatable)\n"
           "  -u, --user USER:PASS   basic authentication\n"
           "  -i, --include          print the status line and headers before the body\n"
           "      --head-only        print the status line and headers, not the body\n"
           "      --no-body          print no body (the timing lines only)\n"
           "      --timeout S        seconds for each request, per hop (default 20; 0: none)\n"
           "      --connect-timeout S  seconds for DNS and connect (default 20; 0: none)\n"
           "      --no-redirect      do not follow redirects\n"
           "      --max-redirects N  follow at most N redirects (default 5)\n"
           "      --no-keep-alive    a new connection for every request (Tornado's way)\n"
           "      --compressed       ask for gzip and inflate it (the default)\n"
           "      --no-compressed    ask for no gzip\n"
           "  -4, --ipv4             resolve host names to IPv4 addresses only\n"
           "      --cacert FILE      https: trust the certificates in FILE (PEM), not the system's\n"
           "  -k, --insecure         https: accept any certificate (validate_cert=False)\n"
           "  -P, --parallel N       at most N fetches at once (default 1: one by one)\n"
           "  -r, --repeat N         fetch each URL N times (default 1)\n"
           "      --lang en|zh       messages in English (default) or Chinese [LESSON_LANG]\n"
           "  -h, --help             show this help\n\n"
           "Bodies go to stdout, one timing line per fetch to stderr. Exit status 0 if\n"
           "every response was 2xx or 3xx, 1 otherwise, 2 for bad usage.\n");
}

enum {
    OPT_HEAD_ONLY = 256, OPT_NO_BODY, OPT_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_NO_REDIRECT,
    OPT_MAX_REDIRECTS, OPT_NO_KEEP_ALIVE, OPT_COMPRESSED, OPT_NO_COMPRESSED, OPT_LANG,
    OPT_CACERT,
};

static const struct option options[] = {
    {"request", required_argument, NULL, 'X'},
    {"data", required_argument, NULL, 'd'},
    {"header", required_argument, NULL, 'H'},
    {"user", required_argument, NULL, 'u'},
    {"include", no_argument, NULL, 'i'},
    {"head-only", no_argument, NULL, OPT_HEAD_ONLY},
    {"no-body", no_argument, NULL, OPT_NO_BODY},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"no-redirect", no_argument, NULL, OPT_NO_REDIRECT},
    {"max-redirects", required_argument, NULL, OPT_MAX_REDIRECTS},
    {"no-keep-alive", no_argument, NULL, OPT_NO_KEEP_ALIVE},
    {"compressed", no_argument, NULL, OPT_COMPRESSED},
    {"no-compressed", no_argument, NULL, OPT_NO_COMPRESSED},
    {"ipv4", no_argument, NULL, '4'},
    {"parallel", required_argument, NULL, 'P'},
    {"repeat", required_argument, NULL, 'r'},
    {"lang", required_argument, NULL, OPT_LANG},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"insecure", no_argument, NULL, 'k'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* -H 'Name: value' into h; the strings point into arg. */
static void parse_header(char *arg, struct httpclient_header *h)
{
    char *colon = strchr(arg, ':');
    if (!colon || colon == arg)
        tool_usage_error("-H wants 'Name: value', not '%s'", arg);
    *colon = '\0';
    h->name = arg;
    h->value = colon + 1 + strspn(colon + 1, " \t");
}

/* -u USER:PASS (no ':': an empty password). */
static void parse_user(char *arg, struct httpclient_request *req)
{
    char *colon = strchr(arg, ':');
    if (colon)
        *colon = '\0';
    req->auth_username = arg;
    req->auth_password = colon ? colon + 1 : "";
}

static bool has_header(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->req.n_headers; i++)
        if (!strcasecmp(cfg->headers[i].name, name))
            return true;
    return false;
}

/* Every URL must parse before anything is sent: a typo is bad usage, not a 599. */
static void check_urls(char **urls, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct url u;
        int rc = url_parse(&u, urls[i]);
        if (rc != URL_OK)
            tool_usage_error("bad URL '%s': %s", urls[i], url_strerror(rc));
        url_free(&u);
    }
}

/* The flags that only shape the config. */
struct flags {
    const char *lang, *method;
    bool head_only;
};

static void parse_option(int c, struct config *cfg, struct flags *f)
{
    struct httpclient_request *req = &cfg->req;
    switch (c) {
    case 'X': f->method = optarg; break;
    case 'd': req->body = optarg; req->body_len = strlen(optarg); break;
    case 'H':
        if (req->n_headers == MAX_HEADERS)
            tool_usage_error("at most %d -H", MAX_HEADERS);
        parse_header(optarg, &cfg->headers[req->n_headers++]);
        break;
    case 'u': parse_user(optarg, req); break;
    case 'i': cfg->include = true; break;
    case OPT_HEAD_ONLY: f->head_only = true; break;
    case OPT_NO_BODY: cfg->no_body = true; break;
    case OPT_TIMEOUT: req->request_timeout = tool_number("--timeout", optarg, 0, 1e6); break;
    case OPT_CONNECT_TIMEOUT:
        req->connect_timeout = tool_number("--connect-timeout", optarg, 0, 1e6);
        break;
    case OPT_NO_REDIRECT: req->follow_redirects = false; break;
    case OPT_MAX_REDIRECTS:
        req->max_redirects = (int)tool_integer("--max-redirects", optarg, 0, 1000);
        break;
    case OPT_NO_KEEP_ALIVE: cfg->no_keep_alive = true; break;
    case OPT_COMPRESSED: req->decompress_response = true; break;
    case OPT_NO_COMPRESSED: req->decompress_response = false; break;
    case '4': req->allow_ipv6 = false; break;
    case OPT_CACERT: req->ca_certs = optarg; break;
    case 'k': req->validate_cert = false; break;
    case 'P': cfg->parallel = (size_t)tool_integer("--parallel", optarg, 1, 10000); break;
    case 'r': cfg->repeat = (size_t)tool_integer("--repeat", optarg, 1, 1000000); break;
    case OPT_LANG: f->lang = optarg; break;
    }
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
    httpclient_request_init(&cfg->req, NULL);
    cfg->req.headers = cfg->headers;
    cfg->repeat = cfg->parallel = 1;
    struct flags f = {0};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":X:d:H:u:i4kP:r:h", options, NULL)) != -1) {
        if (c == 'h') {
            usage();
            exit(0);
        }
        if (c == ':')
            tool_usage_error("%s needs a value", argv[optind - 1]);
        if (c == '?')
            tool_usage_error("unknown option '%s'", argv[optind - 1]);
        parse_option(c, cfg, &f);
    }
    tool_set_lang(f.lang);
    if (optind == argc)
        tool_usage_error("no URL to fetch");
    cfg->urls = argv + optind;
    cfg->n_urls = (size_t)(argc - optind);
    check_urls(cfg->urls, cfg->n_urls);
    if (f.head_only)
        cfg->include = cfg->no_body = true;
    cfg->req.method = f.method ? f.method : cfg->req.body ? "POST" : "GET"; /* as curl */
    if (cfg->req.body && !has_header(cfg, "Content-Type")) /* what curl -d sends */
        cfg->headers[cfg->req.n_headers++] =
            (struct httpclient_header){"Content-Type", "application/x-www-form-urlencoded"};
}

/* ---- fetching ------------------------------------------------------------------------ */

static void collect_head(const char *line, size_t len, void *arg)
{
    strbuf_add(arg, line, len);
}

static const char *gzip_mark(const struct httpclient_response *resp)
{
    return httpclient_response_header(resp, "X-Consumed-Content-Encoding") ? " gzip" : "     ";
}

/* stdout: the head (with -i) and the body; a terminal gets a newline after a body that
 * has none, so the next timing line starts a line of its own. */
static void print_response(const struct config *cfg, const struct httpclient_response *resp,
                           const struct strbuf *head)
{
    if (cfg->include && head->len)
        fwrite(head->p, 1, head->len, stdout);
    if (!cfg->no_body) {
        fwrite(resp->body, 1, resp->body_len, stdout);
        if (resp->body_len && resp->body[resp->body_len - 1] != '\n' && isatty(STDOUT_FILENO))
            putchar('\n');
    }
    fflush(stdout);
}

/* stderr: "200 OK   1234 bytes   12.3 ms  URL [-> final URL]", and a 599's error. */
static void print_timing(const char *url, const struct httpclient_response *resp,
                         double seconds)
{
    bool moved = strcmp(url, resp->effective_url) != 0;
    fprintf(stderr, "%3d %-14s %9zu bytes%s %9.2f ms  %s%s%s\n", resp->code,
            resp->code == 599 ? "-" : resp->reason, resp->body_len, gzip_mark(resp),
            seconds * 1e3, url, moved ? " -> " : "", moved ? resp->effective_url : "");
    if (resp->code == 599)
        fprintf(stderr, tool_text("    no response: %s\n", "    没有响应: %s\n"),
                resp->error_message);
}

static void fetch_one(struct run *run, const char *url, struct strbuf *head)
{
    const struct config *cfg = run->cfg;
    struct httpclient_request req = cfg->req;
    req.url = url;
    if (cfg->include) {
        req.header_callback = collect_head;
        req.callback_arg = head;
    }
    head->len = 0;
    ioloop_t *loop = ioloop_current();
    double start = ioloop_time(loop);
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(run->client, &req), (void **)&resp); /* never fails */
    double seconds = ioloop_time(loop) - start;
    print_response(cfg, resp, head);
    print_timing(url, resp, seconds);
    if (resp->code < 200 || resp->code > 399)
        run->failed++;
}

/* One of --parallel workers: fetches the next URL until none is left. */
static void *worker(void *arg)
{
    struct run *run = arg;
    struct strbuf head = {0};
    while (run->next < run->total) {
        size_t i = run->next++;
        fetch_one(run, run->cfg->urls[i / run->cfg->repeat], &head);
    }
    strbuf_free(&head);
    return NULL;
}

static future_t *start_workers(void *arg)
{
    struct run *run = arg;
    size_t n = run->cfg->parallel < run->total ? run->cfg->parallel : run->total;
    future_t **workers = malloc(n * sizeof *workers);
    for (size_t i = 0; i < n; i++)
        workers[i] = coro_spawn("worker", worker, run);
    future_t *all = coro_multi(workers, n);
    free(workers);
    return all;
}

static void print_summary(const struct run *run, double seconds)
{
    fprintf(stderr,
            tool_text("%zu fetches in %.1f ms: %.1f requests/s, %zu failed, %zu at once\n",
                      "%zu 次请求, 用时 %.1f ms: 每秒 %.1f 个请求, 失败 %zu 次, 并发 %zu\n"),
            run->total, seconds * 1e3, run->total / seconds, run->failed,
            run->cfg->parallel < run->total ? run->cfg->parallel : run->total);
}

int main(int argc, char **argv)
{
    struct config cfg = {0};
    parse_args(argc, argv, &cfg);
    ioloop_t *loop = ioloop_current();
    struct httpclient_options opts = {
        .max_clients = cfg.parallel,
        /* room in the pool for every worker's connection, so --repeat can reuse them */
        .max_idle_per_host = cfg.parallel > HTTPCLIENT_MAX_IDLE_PER_HOST_DEFAULT
                                 ? cfg.parallel : HTTPCLIENT_MAX_IDLE_PER_HOST_DEFAULT,
        .no_keep_alive = cfg.no_keep_alive,
    };
    struct run run = {.cfg = &cfg, .total = cfg.n_urls * cfg.repeat};
    if (!(run.client = httpclient_new(&opts))) {
        fprintf(stderr, "%s: %m\n", program_invocation_short_name);
        return 1;
    }
    double start = ioloop_time(loop);
    future_unref(ioloop_run_sync(loop, start_workers, &run, 0));
    if (run.total > 1)
        print_summary(&run, ioloop_time(loop) - start);
    httpclient_free(run.client);
    ioloop_free(loop);
    if (ferror(stdout)) {
        fprintf(stderr, tool_text("%s: cannot write the output\n", "%s: 无法写出输出\n"),
                program_invocation_short_name);
        return 1;
    }
    return run.failed ? 1 : 0;
}
