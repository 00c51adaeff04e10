/* 05_ip_service — a local stand-in for the Sina IP library the documents query.
 *
 *     05_ip_service [--port N] [--address A] [--delay SECONDS] [--data FILE] [--lang en|zh]
 *
 * Document 000 asks http://int.dpool.sina.com.cn/iplookup/iplookup.php?format=json&ip=...
 * for where an address is; that service no longer answers, so lesson 05's programs ask
 * this one, on loopback, which answers in the same shape:
 *
 *     GET /iplookup/iplookup.php?format=json&ip=14.130.112.24
 *     {"ret":1,"start":-1,"end":-1,"country":"\u4e2d\u56fd","province":"\u5317\u4eac",
 *      "city":"\u5317\u4eac","district":"","isp":"","type":"","desc":""}
 *
 * Fields come in that order, compact, non-ASCII as \uxxxx escapes in lowercase hex: the
 * document's bytes (Jansson: JSON_PRESERVE_ORDER, JSON_COMPACT, JSON_ENSURE_ASCII). start and end stay -1
 * as in the document. An address in no range of the table (ipdata.tsv: private ones
 * among them) gets the same fields with ret -1, empty places and desc saying why. No ip
 * or one that is not a dotted IPv4 address, a format other than json, or a query
 * field given twice: 400 with a one-line reason. Any other path: 404.
 *
 * --delay makes every answer wait that many seconds on a loop timer, not a sleep: the
 * service answers many requests at once, so a client that asks in parallel sees its
 * lookups overlap. It prints "listening on http://HOST:PORT/" once bound (--port 0: any
 * free port, which that line tells), then serves until SIGTERM, which ends it quietly
 * (the lesson programs stop their service so), or SIGINT (Ctrl-C), which says so.
 */
#include "coro.h"
#include "httpserver.h"
#include "ioloop.h"
#include "tool.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IPDATA_DEFAULT
#define IPDATA_DEFAULT "ipdata.tsv"
#endif

struct config {
    const char *address;
    int port;
    double delay;
    const char *data;
};

/* One range of the table; the strings point into the line, kept whole. */
struct range {
    uint32_t first, last;
    const char *country, *province, *city, *isp;
    char *line;
};

struct table {
    struct range *ranges;
    size_t n;
};

struct service {
    struct table table;
    double delay;
};

static void usage(void)
{
    printf("%s: a local stand-in for the documents' Sina IP lookup API\n"
           "(GET /iplookup/iplookup.php?format=json&ip=A.B.C.D); serves until SIGINT or SIGTERM.\n\n"
           "Usage: %s [--address A] [--port N] [--delay SECONDS] [--data FILE] [--lang en|zh] [--help]\n\n"
           "  --address A       listen on this address (default 127.0.0.1)\n"
           "  --port N          listen on this port (default 8888; 0: any free port)\n"
           "  --delay SECONDS   every answer waits this long, on a timer (default 0)\n"
           "  --data FILE       the table of ranges (default %s)\n"
           "  --lang en|zh      messages in English (default) or Chinese [LESSON_LANG]\n"
           "  --help            show this help\n",
           program_invocation_short_name, program_invocation_short_name, IPDATA_DEFAULT);
}

static struct config parse_args(int argc, char **argv)
{
    static const struct option options[] = {
        {"address", required_argument, NULL, 'a'}, {"port", required_argument, NULL, 'p'},
        {"delay", required_argument, NULL, 'd'},   {"data", required_argument, NULL, 'f'},
        {"lang", required_argument, NULL, 'l'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct config cfg = {.address = "127.0.0.1", .port = 8888, .data = IPDATA_DEFAULT};
    const char *lang = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'a': cfg.address = optarg; break;
        case 'p': cfg.port = (int)tool_integer("--port", optarg, 0, 65535); break;
        case 'd': cfg.delay = tool_number("--delay", optarg, 0, 3600); break;
        case 'f': cfg.data = optarg; break;
        case 'l': lang = optarg; break;
        case 'h': usage(); exit(0);
        case ':': tool_usage_error("%s needs a value", argv[optind - 1]);
        default: tool_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        tool_usage_error("unexpected argument '%s'", argv[optind]);
    tool_set_lang(lang);
    return cfg;
}

/* A dotted IPv4 address as a number; false for anything else. */
static bool ipv4_parse(const char *text, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, text, &a) != 1)
        return false;
    *out = ntohl(a.s_addr);
    return true;
}

/* "first\tlast\tcountry\tprovince\tcity\tisp" into r (which takes line); false if not. */
static bool range_parse(char *line, struct range *r)
{
    char *f[6];
    char *p = line;
    for (int i = 0; i < 6; i++) {
        f[i] = p;
        p = strchr(p, i < 5 ? '\t' : '\n');
        if (!p && i < 5)
            return false;
        if (p)
            *p++ = '\0';
    }
    if (!ipv4_parse(f[0], &r->first) || !ipv4_parse(f[1], &r->last) || r->first > r->last)
        return false;
    *r = (struct range){r->first, r->last, f[2], f[3], f[4], f[5], line};
    return true;
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->ranges[i].line);
    free(t->ranges);
}

/* Reads the table; on a bad line or file, says which and exits 1. */
static struct table table_load(const char *path)
{
    struct table t = {0};
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, tool_text("%s: cannot read %s: %m\n", "%s: 无法读取 %s: %m\n"),
                program_invocation_short_name, path);
        exit(1);
    }
    char *line = NULL;
    size_t cap = 0;
    for (unsigned no = 1; getline(&line, &cap, f) > 0; no++) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        t.ranges = realloc(t.ranges, (t.n + 1) * sizeof *t.ranges);
        if (!t.ranges || !range_parse(line, &t.ranges[t.n])) {
            fprintf(stderr, tool_text("%s: %s:%u: not first<TAB>last<TAB>country<TAB>province<TAB>city<TAB>isp\n",
                                      "%s: %s:%u: 格式应为 起始<TAB>结束<TAB>国家<TAB>省份<TAB>城市<TAB>运营商\n"),
                    program_invocation_short_name, path, no);
            exit(1);
        }
        t.n++;
        line = NULL; /* the range keeps it */
        cap = 0;
    }
    free(line);
    fclose(f);
    return t;
}

static const struct range *table_find(const struct table *t, uint32_t ip)
{
    for (size_t i = 0; i < t->n; i++)
        if (ip >= t->ranges[i].first && ip <= t->ranges[i].last)
            return &t->ranges[i];
    return NULL;
}

/* The query's value for key (a copy, or NULL when absent); *twice when it repeats. */
static char *query_get(const char *query, const char *key, bool *twice)
{
    char *found = NULL;
    size_t klen = strlen(key);
    for (const char *p = query; *p;) {
        size_t len = strcspn(p, "&");
        if (len > klen && !strncmp(p, key, klen) && p[klen] == '=') {
            *twice = found != NULL;
            free(found);
            found = strndup(p + klen + 1, len - klen - 1);
        }
        p += len + (p[len] == '&');
    }
    return found;
}

/* Jansson writes \u4E2D; the document (PHP's json_encode) has \u4e2d. Every backslash
 * in Jansson's output starts an escape, so the pairs can be walked safely. */
static void escapes_lowercase(char *json)
{
    for (char *p = json; (p = strchr(p, '\\')); p += 2) {
        if (p[1] != 'u')
            continue;
        for (int i = 2; i < 6; i++)
            p[i] = (char)tolower((unsigned char)p[i]);
        p += 4;
    }
}

/* The document's answer: ret, start, end, country, province, city, district, isp, type,
 * desc, in that order. r NULL: ret -1, with desc saying why. */
static char *answer_json(const struct range *r, uint32_t ip)
{
    uint32_t a = ip >> 24, b = (ip >> 16) & 255;
    bool private = a == 10 || a == 127 || (a == 172 && b >= 16 && b < 32) ||
                   (a == 192 && b == 168) || (a == 169 && b == 254) || a == 0;
    json_t *o = json_object();
    json_object_set_new(o, "ret", json_integer(r ? 1 : -1));
    json_object_set_new(o, "start", json_integer(-1));
    json_object_set_new(o, "end", json_integer(-1));
    json_object_set_new(o, "country", json_string(r ? r->country : ""));
    json_object_set_new(o, "province", json_string(r ? r->province : ""));
    json_object_set_new(o, "city", json_string(r ? r->city : ""));
    json_object_set_new(o, "district", json_string(""));
    json_object_set_new(o, "isp", json_string(r ? r->isp : ""));
    json_object_set_new(o, "type", json_string(""));
    json_object_set_new(o, "desc", json_string(r ? "" : private ? "private address" : "not in the table"));
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    json_decref(o);
    escapes_lowercase(s);
    return s;
}

static void bad_request(handler_t *h, const char *why)
{
    handler_set_status(h, 400, NULL);
    handler_set_header(h, "Content-Type", "text/plain; charset=UTF-8");
    handler_write(h, why, strlen(why));
    handler_write(h, "\n", 1);
}

static void lookup_get(handler_t *h)
{
    const struct service *svc = handler_data(h);
    bool twice_format = false, twice_ip = false;
    char *format = query_get(handler_query(h), "format", &twice_format);
    char *ip_text = query_get(handler_query(h), "ip", &twice_ip);
    uint32_t ip;
    if (twice_format || twice_ip)
        bad_request(h, "format and ip may be given once each");
    else if (!format || strcmp(format, "json"))
        bad_request(h, "format must be json");
    else if (!ip_text || !ipv4_parse(ip_text, &ip))
        bad_request(h, "ip must be a dotted IPv4 address, as ip=14.130.112.24");
    else {
        if (svc->delay > 0)
            coro_await(coro_sleep(svc->delay), NULL); /* a timer: other requests go on */
        char *json = answer_json(table_find(&svc->table, ip), ip);
        handler_set_header(h, "Content-Type", "application/json");
        handler_write(h, json, strlen(json));
        free(json);
    }
    free(format);
    free(ip_text);
}

static const struct handler_class lookup_handler = {.get = lookup_get};

static void on_signal(int fd, int events, void *arg)
{
    (void)events;
    (void)arg;
    int sig = tool_signal_read(fd);
    if (!sig)
        return;
    if (sig == SIGINT)
        fprintf(stderr, tool_text("%s: %s, closing\n", "%s: 收到 %s, 正在关闭\n"),
                program_invocation_short_name, strsignal(sig));
    ioloop_stop(ioloop_current());
}

int main(int argc, char **argv)
{
    struct config cfg = parse_args(argc, argv);
    struct service svc = {table_load(cfg.data), cfg.delay};
    app_t *app = app_new();
    app_add(app, "/iplookup/iplookup\\.php", &lookup_handler, &svc);
    httpserver_t *srv = httpserver_new(app, NULL);
    int sfd = tool_signals_fd();
    if (sfd < 0 || httpserver_bind(srv, cfg.address, cfg.port, false) < 0 ||
        httpserver_start(srv) < 0) {
        fprintf(stderr, tool_text("%s: cannot listen on %s port %d: %m\n",
                                  "%s: 无法在 %s 端口 %d 上监听: %m\n"),
                program_invocation_short_name, cfg.address, cfg.port);
        return 1;
    }
    bool v6 = strchr(cfg.address, ':') != NULL;
    printf(tool_text("listening on http://%s%s%s:%d/\n", "正在监听 http://%s%s%s:%d/\n"),
           v6 ? "[" : "", cfg.address, v6 ? "]" : "", httpserver_port(srv));
    fflush(stdout); /* a parent reading our pipe waits for this line */
    ioloop_t *loop = ioloop_current();
    ioloop_add_handler(loop, sfd, IOLOOP_READ, on_signal, NULL);
    ioloop_start(loop);

    httpserver_shutdown(srv);
    ioloop_remove_handler(loop, sfd);
    close(sfd);
    app_free(app);
    table_free(&svc.table);
    ioloop_free(loop);
    return 0;
}
