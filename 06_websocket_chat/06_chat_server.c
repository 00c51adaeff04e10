/* 06_chat_server — document 000's online chat room on lesson 06's websocket module.
 *
 *     06_chat_server [--address A] [--port N] [--ip-service[=URL]] [--xheaders]
 *                    [--clock "YYYY-MM-DD HH:MM:SS"] [--static DIR] [--lang en|zh]
 *
 * The documents' server.py keeps a set of users; open, on_message and on_close each
 * write a line to every user, the sender included:
 *
 *     [127.0.0.1]-[2016-08-29 00:00:00]-进入聊天室
 *     [127.0.0.1]-[2016-08-29 00:00:00]-说:你好
 *     [127.0.0.1]-[2016-08-29 00:00:00]-离开聊天室
 *
 * So does this one ("entered the room", "says: ", "left the room" in English), with
 * what the documents leave out:
 * - A broadcast never waits for anyone: each user's copy goes to their connection's
 *   buffer. A user who does not read is dropped with close 1008 once 1 MiB waits for
 *   them (websocket.h's cap), so one stalled phone cannot grow the server's memory.
 * - Two formats, by subprotocol (RFC 6455 §1.9): a client that offers "chat.json" (our
 *   page, 06_chat_client) gets each event as JSON with the number of people online and
 *   the plain line in "line"; any other client gets the documents' plain lines.
 * - Messages are text of at most 64 KiB (binary: close 1003; longer: 1009). Pings every
 *   30 s find the users whose phones went to sleep.
 * - The documents' exercise 4, --ip-service: each user's city, looked up once per
 *   address with the async HTTP client (the 05 IP service, started beside this binary,
 *   or the one at URL), and lines that read "[北京网友]-[14.130.112.24]-[2016-08-29
 *   00:00:00]: 你好,Python". Only the user being looked up waits for the answer (their
 *   open awaits it, at most 2 s); everybody else's messages go on. A private or loopback
 *   address is "本地网友" without asking; a failed lookup "未知网友", and is asked again
 *   next time.
 * - --xheaders: behind nginx (document 001's proxy_set_header X-Real-IP), the user's
 *   address is X-Real-IP. --clock fixes the time shown, for tests and transcripts.
 * It serves the page at / and its files at /static/, and says where it listens; SIGINT
 * or SIGTERM closes every chat with 1001 Going Away and exits 0.
 */
#include "coro.h"
#include "httpclient.h"
#include "httpserver.h"
#include "ioloop.h"
#include "ipservice.h"
#include "tool.h"
#include "websocket.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef CHAT_STATIC_DEFAULT
#define CHAT_STATIC_DEFAULT "static"
#endif
#define MAX_MESSAGE ((uint64_t)64 << 10)
#define MAX_WRITE_BUFFER ((size_t)1 << 20)
#define PING_SECONDS 30.0
#define LOOKUP_SECONDS 2.0
#define JSON_PROTOCOL "chat.json"

struct config {
    const char *address, *clock, *static_dir, *ip_service;
    int port;
    bool lookups, xheaders;
};

static struct config cfg = {.address = "127.0.0.1", .port = 8000, .static_dir = CHAT_STATIC_DEFAULT};

/* ---- the command line -------------------------------------------------------------------- */

static void usage(void)
{
    printf("%s: document 000's chat room (the page at /, the WebSocket at /chat) on\n"
           "lesson 06's websocket module; serves until SIGINT or SIGTERM.\n\n"
           "Usage: %s [--address A] [--port N] [--ip-service[=URL]] [--xheaders]\n"
           "           [--clock \"YYYY-MM-DD HH:MM:SS\"] [--static DIR] [--lang en|zh] [--help]\n\n"
           "  --address A        listen on this address (default 127.0.0.1; \"\" for all)\n"
           "  --port N           listen on this port (default 8000; 0: any free port)\n"
           "  --ip-service[=URL] show each user's city (exercise 4), asked of the 05 IP\n"
           "                     service started beside this program, or of URL\n"
           "  --xheaders         behind a proxy: the user's address is X-Real-IP\n"
           "  --clock TIME       show this time instead of the clock's (tests)\n"
           "  --static DIR       the page's directory (default: the source's static/)\n"
           "  --lang en|zh       lines in English (default) or Chinese [LESSON_LANG]\n"
           "  --help             show this help\n",
           program_invocation_short_name, program_invocation_short_name);
}

static void parse_args(int argc, char **argv)
{
    static const struct option options[] = {
        {"address", required_argument, NULL, 'a'}, {"port", required_argument, NULL, 'p'},
        {"ip-service", optional_argument, NULL, 'i'}, {"xheaders", no_argument, NULL, 'x'},
        {"clock", required_argument, NULL, 'c'},   {"static", required_argument, NULL, 's'},
        {"lang", required_argument, NULL, 'l'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *lang = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'a': cfg.address = optarg; break;
        case 'p': cfg.port = (int)tool_integer("--port", optarg, 0, 65535); break;
        case 'i': cfg.lookups = true; cfg.ip_service = optarg; break;
        case 'x': cfg.xheaders = true; break;
        case 'c': cfg.clock = optarg; break;
        case 's': cfg.static_dir = optarg; break;
        case 'l': lang = optarg; break;
        case 'h': usage(); exit(0);
        case ':': tool_usage_error("%s needs a value", argv[optind - 1]);
        default: tool_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        tool_usage_error("unexpected argument '%s'", argv[optind]);
    struct tm tm;
    const char *end = cfg.clock ? strptime(cfg.clock, "%Y-%m-%d %H:%M:%S", &tm) : "";
    if (!end || *end)
        tool_usage_error("--clock takes \"YYYY-MM-DD HH:MM:SS\", not '%s'", cfg.clock);
    if (cfg.ip_service && !ipservice_set_service(cfg.ip_service))
        tool_usage_error("--ip-service takes an http:// URL, not '%s'", cfg.ip_service);
    tool_set_lang(lang);
}

/* ---- cities (exercise 4) ----------------------------------------------------------------- */

/* One address's lookup, shared by every user from it and kept for the next ones. */
struct city {
    char ip[64];
    char label[96];   /* "北京网友", or "" while asked */
    future_t *asked;  /* resolved when label is set */
    struct city *next;
};

static struct city *cities;
static httpclient_t *client;
static int lookups_running; /* the client may be freed once none is */

static const char *unknown_label(void)
{
    return tool_text("unknown user", "未知网友");
}

static void *city_ask(void *arg)
{
    struct city *c = arg;
    struct httpclient_request req;
    char *url = ipservice_url(c->ip);
    httpclient_request_init(&req, url);
    req.connect_timeout = req.request_timeout = LOOKUP_SECONDS;
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(client, &req), (void **)&resp);
    free(url);
    struct ip_info info;
    bool answered = ipservice_parse(resp, &info) == 0;
    if (answered && info.ret == 1 && *info.city)
        snprintf(c->label, sizeof c->label, tool_text("%s user", "%s网友"), info.city);
    else if (answered)
        snprintf(c->label, sizeof c->label, "%s", unknown_label());
    /* else: no answer; the label stays "" and the next user from there asks again */
    future_set_result(c->asked, NULL);
    lookups_running--;
    return NULL;
}

/* The label of ip, waiting (at most LOOKUP_SECONDS) for the lookup if it is asked now. */
static const char *city_of(const char *ip)
{
    if (ipservice_address_local(ip))
        return tool_text("local user", "本地网友");
    struct city *c = cities;
    while (c && strcmp(c->ip, ip))
        c = c->next;
    if (!c || (future_done(c->asked) && !*c->label)) {
        if (!c) {
            c = calloc(1, sizeof *c);
            snprintf(c->ip, sizeof c->ip, "%s", ip);
            c->next = cities;
            cities = c;
        }
        future_unref(c->asked);
        c->asked = future_new("city lookup");
        lookups_running++;
        future_unref(coro_spawn("city lookup", city_ask, c));
    }
    future_ref(c->asked);
    double deadline = ioloop_time(ioloop_current()) + LOOKUP_SECONDS;
    coro_await(coro_with_timeout(deadline, c->asked), NULL);
    return *c->label ? c->label : unknown_label();
}

static void cities_free(void)
{
    while (cities) {
        struct city *c = cities;
        cities = c->next;
        future_unref(c->asked);
        free(c);
    }
}

/* ---- the room ---------------------------------------------------------------------------- */

struct user {
    websocket_t *ws;
    char ip[64];
    char label[96]; /* exercise 4's "北京网友", or "" */
    bool json;      /* spoke "chat.json" */
    struct user *prev, *next;
};

static struct user *users;
static size_t online;
static websocket_t **listeners[2]; /* broadcast's scratch: plain, then chat.json users */
static size_t listeners_cap;

static const char *now_text(char *buf, size_t size)
{
    if (cfg.clock)
        return cfg.clock;
    time_t t = time(NULL);
    struct tm tm;
    strftime(buf, size, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
    return buf;
}

enum event { ENTER, SAY, LEAVE };

/* The documents' line for an event of u's (exercise 4's form with a label), its length
 * in *len. A message may hold a NUL (it is text all the same), so its bytes are copied
 * after the prefix rather than formatted. */
static char *line_of(const struct user *u, enum event e, const char *when, const char *text,
                     size_t text_len, size_t *len)
{
    static const char *const en[] = {"-entered the room", "-says: ", "-left the room"};
    static const char *const zh[] = {"-进入聊天室", "-说:", "-离开聊天室"};
    const char *verb = tool_text(en[e], zh[e]);
    char *prefix;
    int n;
    if (!*u->label)
        n = asprintf(&prefix, "[%s]-[%s]%s", u->ip, when, verb);
    else if (e == SAY)
        n = asprintf(&prefix, "[%s]-[%s]-[%s]: ", u->label, u->ip, when);
    else
        n = asprintf(&prefix, "[%s]-[%s]-[%s]%s", u->label, u->ip, when, verb);
    if (n < 0)
        abort();
    if (e != SAY)
        text_len = 0;
    char *line = malloc((size_t)n + text_len + 1);
    if (!line)
        abort();
    memcpy(line, prefix, (size_t)n);
    if (text_len)
        memcpy(line + n, text, text_len);
    line[n + text_len] = '\0';
    free(prefix);
    *len = (size_t)n + text_len;
    return line;
}

static char *json_of(const struct user *u, enum event e, const char *when, const char *text,
                     size_t text_len, const char *line, size_t line_len)
{
    static const char *const type[] = {"enter", "say", "leave"};
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s%}", "type", type[e], "ip", u->ip, "time",
                          when, "online", (json_int_t)online, "line", line, line_len);
    if (e == SAY)
        json_object_set_new(o, "text", json_stringn(text, text_len));
    if (*u->label)
        json_object_set_new(o, "city", json_string(u->label));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

/* Everyone gets the event, in their format; nobody is waited for. */
static void broadcast(const struct user *from, enum event e, const char *text, size_t text_len)
{
    char buf[32];
    const char *when = now_text(buf, sizeof buf);
    size_t line_len;
    char *line = line_of(from, e, when, text, text_len, &line_len);
    char *json = json_of(from, e, when, text, text_len, line, line_len);
    /* Each format's listeners, so that each copy is checked and framed once. */
    websocket_t **to[2] = {listeners[0], listeners[1]};
    size_t n[2] = {0, 0};
    if (listeners_cap < online) {
        listeners_cap = online * 2;
        for (int f = 0; f < 2; f++)
            if (!(to[f] = listeners[f] = realloc(listeners[f], listeners_cap * sizeof *to[f])))
                abort();
    }
    for (struct user *u = users; u; u = u->next)
        to[u->json][n[u->json]++] = u->ws;
    websocket_broadcast(to[0], n[0], line, line_len, false); /* a failure closes only one */
    websocket_broadcast(to[1], n[1], json, strlen(json), false); /* (JSON writes NUL as \u0000) */
    free(line);
    free(json);
}

static void chat_open(websocket_t *ws)
{
    struct user *u = calloc(1, sizeof *u);
    u->ws = ws;
    snprintf(u->ip, sizeof u->ip, "%s", handler_remote_ip(websocket_handler(ws)));
    const char *proto = websocket_subprotocol(ws);
    u->json = proto && !strcmp(proto, JSON_PROTOCOL);
    websocket_set_data(ws, u);
    if (cfg.lookups) /* only this user's coroutine waits */
        snprintf(u->label, sizeof u->label, "%s", city_of(u->ip));
    if (websocket_closed(ws)) { /* gone while we asked */
        websocket_set_data(ws, NULL);
        free(u);
        return;
    }
    u->next = users;
    if (users)
        users->prev = u;
    users = u;
    online++;
    broadcast(u, ENTER, NULL, 0);
}

static void chat_message(websocket_t *ws, const struct websocket_message *m)
{
    struct user *u = websocket_data(ws);
    if (m->binary) {
        websocket_close(ws, 1003, "text messages only");
        return;
    }
    if (u)
        broadcast(u, SAY, m->data, m->len);
}

static void chat_close(websocket_t *ws)
{
    struct user *u = websocket_data(ws);
    if (!u)
        return;
    *(u->prev ? &u->prev->next : &users) = u->next;
    if (u->next)
        u->next->prev = u->prev;
    online--;
    broadcast(u, LEAVE, NULL, 0);
    free(u);
}

static const struct websocket_class chat = {
    .open = chat_open, .on_message = chat_message, .on_close = chat_close};

/* ---- the page ---------------------------------------------------------------------------- */

static void index_get(handler_t *h)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/index.html", cfg.static_dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        handler_send_error(h, 404);
        return;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        handler_write(h, buf, n);
    fclose(f);
    handler_set_header(h, "Cache-Control", "no-cache");
}

static const struct handler_class index_page = {.get = index_get, .head = index_get};

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    if (cfg.lookups)
        ipservice_start(0); /* unless --ip-service=URL: 05_ip_service beside us */
    static const char *const protocols[] = {JSON_PROTOCOL, NULL};
    app_t *app = app_new();
    app_add(app, "/", &index_page, NULL);
    if (app_add_static(app, "/static/(.*)", cfg.static_dir) < 0) {
        fprintf(stderr, tool_text("%s: no page directory %s: %m\n", "%s: 没有页面目录 %s: %m\n"),
                program_invocation_short_name, cfg.static_dir);
        return 1;
    }
    websocket_route(app, "/chat", &chat,
                    &(struct websocket_options){.max_message_size = MAX_MESSAGE,
                                                .max_write_buffer = MAX_WRITE_BUFFER,
                                                .ping_interval = PING_SECONDS,
                                                .subprotocols = protocols},
                    NULL);
    httpserver_t *srv = httpserver_new(app, &(struct httpserver_options){.xheaders = cfg.xheaders});
    client = httpclient_new(NULL);
    int status = tool_serve(srv, cfg.address, cfg.port, "http", "");
    while (lookups_running) /* each ends within LOOKUP_SECONDS */
        ioloop_run_once(ioloop_current());
    httpclient_free(client);
    cities_free();
    free(listeners[0]);
    free(listeners[1]);
    app_free(app);
    ioloop_free(ioloop_current());
    ipservice_stop();
    return status;
}
