/* 10_chat_city — exercise 10: document 000's chat room, and its 练习 4.
 *
 *     10_chat_city [--address A] [--port N] [--ip-service URL] [--xheaders]
 *                  [--clock "YYYY-MM-DD HH:MM:SS"]
 *
 * The documents' server.py in C, cut down from 06_chat_server: a client connects to
 * ws://HOST:PORT/chat, and whenever someone enters, speaks or leaves, every user gets a
 * line, the sender included:
 *
 *     [127.0.0.1]-[2016-08-29 00:00:00]-进入聊天室
 *     [127.0.0.1]-[2016-08-29 00:00:00]-说:你好
 *     [127.0.0.1]-[2016-08-29 00:00:00]-离开聊天室
 *
 * 练习 4 asks for each user's city, looked up with the asynchronous HTTP client, in lines
 * that read
 *
 *     [北京网友]-[14.130.112.24]-[2016-08-29 00:00:00]: 你好,Python
 *
 * The lookup runs in the new user's open, which is that connection's own coroutine: it
 * waits there (at most LOOKUP_SECONDS) while the loop goes on serving everyone else, and
 * the user enters the room once their city is known. A private or loopback address is
 * "本地网友" without asking; a lookup that fails, or an address the service does not
 * know, is "未知网友".
 *
 * The IP service is lesson 05's (05_ip_service, or whatever --ip-service names; default
 * http://127.0.0.1:8888, 05_ip_service's own port). --xheaders: behind a proxy, the
 * user's address is the request's X-Real-IP (the checker poses as users from anywhere
 * that way). --clock fixes the time shown. SIGINT or SIGTERM closes every chat with 1001
 * and exits 0. The lines are the documents' Chinese, whatever the language.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_MESSAGE ((uint64_t)64 << 10)
#define LOOKUP_SECONDS 2.0 /* a user waits at most this long to enter */

struct config {
    const char *address, *clock, *ip_service;
    int port;
    bool xheaders;
};

static struct config cfg = {.address = "127.0.0.1", .port = 8000,
                            .ip_service = "http://127.0.0.1:8888"};

/* The AsyncHTTPClient for asking the IP service (Tornado keeps one per loop). */
static httpclient_t *client;

/* ---- the command line -------------------------------------------------------------------- */

static void usage(void)
{
    printf("%s: exercise 10, document 000's chat room (the WebSocket at /chat) with\n"
           "each user's city; serves until SIGINT or SIGTERM.\n\n"
           "Usage: %s [--address A] [--port N] [--ip-service URL] [--xheaders]\n"
           "           [--clock \"YYYY-MM-DD HH:MM:SS\"] [--help]\n\n"
           "  --address A       listen on this address (default 127.0.0.1)\n"
           "  --port N          listen on this port (default 8000; 0: any free port)\n"
           "  --ip-service URL  the IP service to ask (default http://127.0.0.1:8888)\n"
           "  --xheaders        behind a proxy: the user's address is X-Real-IP\n"
           "  --clock TIME      show this time instead of the clock's (tests)\n"
           "  --help            show this help\n",
           program_invocation_short_name, program_invocation_short_name);
}

static void parse_args(int argc, char **argv)
{
    static const struct option options[] = {
        {"address", required_argument, NULL, 'a'}, {"port", required_argument, NULL, 'p'},
        {"ip-service", required_argument, NULL, 'i'}, {"xheaders", no_argument, NULL, 'x'},
        {"clock", required_argument, NULL, 'c'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    tool_set_lang(NULL);
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'a': cfg.address = optarg; break;
        case 'p': cfg.port = (int)tool_integer("--port", optarg, 0, 65535); break;
        case 'i': cfg.ip_service = optarg; break;
        case 'x': cfg.xheaders = true; break;
        case 'c': cfg.clock = optarg; break;
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
    if (!ipservice_set_service(cfg.ip_service)) /* ipservice_url asks there */
        tool_usage_error("--ip-service takes an http:// URL, not '%s'", cfg.ip_service);
}

/* ---- cities (练习 4) ---------------------------------------------------------------------- */

/* ip's label, "北京网友", into label. Asks the IP service and waits for its answer in
 * the caller's coroutine: only the user being looked up waits. */
static void city_label(const char *ip, char *label, size_t size)
{
    if (ipservice_address_local(ip)) {
        snprintf(label, size, "本地网友");
        return;
    }
    char *url = ipservice_url(ip);
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    req.connect_timeout = req.request_timeout = LOOKUP_SECONDS; /* a slow service: 未知 */
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(client, &req), (void **)&resp); /* a fetch never fails */
    free(url);
    struct ip_info info;
    if (ipservice_parse(resp, &info) == 0 && info.ret == 1 && *info.city)
        snprintf(label, size, "%s网友", info.city);
    else
        snprintf(label, size, "未知网友"); /* no answer, or an address it does not know */
}

/* ---- the room ---------------------------------------------------------------------------- */

struct user {
    websocket_t *ws;
    char ip[64];
    char label[96]; /* "北京网友" */
    struct user *prev, *next;
};

static struct user *users;

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

/* 练习 4's line for an event of u's (malloc'd); text is what u said, for SAY. The
 * documents' sample gives the form of a message, ": "; entering and leaving keep
 * their verbs. */
static char *line_of(const struct user *u, enum event e, const char *text)
{
    static const char *const verb[] = {"-进入聊天室", ": ", "-离开聊天室"};
    char buf[32];
    char *line;
    if (asprintf(&line, "[%s]-[%s]-[%s]%s%s", u->label, u->ip, now_text(buf, sizeof buf),
                 verb[e], e == SAY ? text : "") < 0)
        abort();
    return line;
}

/* Everyone gets the line, u included; nobody is waited for. */
static void broadcast(const struct user *u, enum event e, const char *text)
{
    char *line = line_of(u, e, text);
    for (struct user *to = users; to; to = to->next)
        websocket_send(to->ws, line, strlen(line), false); /* a failure closes only to */
    free(line);
}

static void chat_open(websocket_t *ws)
{
    struct user *u = calloc(1, sizeof *u);
    if (!u)
        abort();
    u->ws = ws;
    snprintf(u->ip, sizeof u->ip, "%s", handler_remote_ip(websocket_handler(ws)));
    websocket_set_data(ws, u);
    city_label(u->ip, u->label, sizeof u->label); /* only this user's coroutine waits */
    if (websocket_closed(ws)) { /* gone while we asked: never entered, so never leaves */
        websocket_set_data(ws, NULL);
        free(u);
        return;
    }
    u->next = users;
    if (users)
        users->prev = u;
    users = u;
    broadcast(u, ENTER, NULL);
}

static void chat_message(websocket_t *ws, const struct websocket_message *m)
{
    if (m->binary) {
        websocket_close(ws, 1003, "text messages only");
        return;
    }
    broadcast(websocket_data(ws), SAY, m->data);
}

static void chat_close(websocket_t *ws)
{
    struct user *u = websocket_data(ws);
    if (!u)
        return;
    *(u->prev ? &u->prev->next : &users) = u->next;
    if (u->next)
        u->next->prev = u->prev;
    broadcast(u, LEAVE, NULL);
    free(u);
}

/* The documents let any page connect (check_origin returns True). */
static bool any_origin(const handler_t *h, struct http1_str origin)
{
    (void)h;
    (void)origin;
    return true;
}

static const struct websocket_class chat = {.open = chat_open,
                                            .on_message = chat_message,
                                            .on_close = chat_close,
                                            .check_origin = any_origin};

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    app_t *app = app_new();
    websocket_route(app, "/chat", &chat,
                    &(struct websocket_options){.max_message_size = MAX_MESSAGE}, NULL);
    httpserver_t *srv = httpserver_new(app, &(struct httpserver_options){.xheaders = cfg.xheaders});
    client = httpclient_new(NULL);
    int status = tool_serve(srv, cfg.address, cfg.port, "ws", "chat");
    httpclient_free(client); /* every connection has ended, and its lookup with it */
    app_free(app);
    ioloop_free(ioloop_current());
    ipservice_stop();
    return status;
}
