/* 06_echo_server — a WebSocket echo server on lesson 06's websocket module.
 *
 *     06_echo_server [--address A] [--port N] [--lang en|zh]
 *
 * Every text or binary message that arrives on any path is sent back as it came, as
 * Tornado's EchoWebSocket does:
 *
 *     class EchoWebSocket(tornado.websocket.WebSocketHandler):
 *         def on_message(self, message):
 *             self.write_message(message, binary=isinstance(message, bytes))
 *
 * (websocket_send is write_message without the future, which an echo never awaits.)
 * It takes messages up to 16 MiB (Tornado's default is 10 MiB) and answers pings, so
 * the conformance suite (tests/ws_conformance_test.c), the interop tests and the
 * benchmark (bench/run-ws-bench) all talk to it. It says where it listens, then serves
 * until SIGINT or SIGTERM (read from a signalfd, as 05_hello_server does), and exits 0
 * once its connections are closed.
 */
#include "httpserver.h"
#include "ioloop.h"
#include "tool.h"
#include "websocket.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MESSAGE ((uint64_t)16 << 20)

struct config {
    const char *address;
    int port;
};

static void usage(void)
{
    printf("%s: a WebSocket echo server (every message back to its sender, on any\n"
           "path) on lesson 06's websocket module; serves until SIGINT or SIGTERM.\n\n"
           "Usage: %s [--address A] [--port N] [--lang en|zh] [--help]\n\n"
           "  --address A     listen on this address (default 127.0.0.1; \"\" for all)\n"
           "  --port N        listen on this port (default 8888; 0: any free port)\n"
           "  --lang en|zh    messages in English (default) or Chinese [LESSON_LANG]\n"
           "  --help          show this help\n",
           program_invocation_short_name, program_invocation_short_name);
}

static struct config parse_args(int argc, char **argv)
{
    static const struct option options[] = {
        {"address", required_argument, NULL, 'a'}, {"port", required_argument, NULL, 'p'},
        {"lang", required_argument, NULL, 'l'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct config cfg = {.address = "127.0.0.1", .port = 8888};
    const char *lang = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'a': cfg.address = optarg; break;
        case 'p': cfg.port = (int)tool_integer("--port", optarg, 0, 65535); break;
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

static void echo_message(websocket_t *ws, const struct websocket_message *m)
{
    websocket_send(ws, m->data, m->len, m->binary);
}

static const struct websocket_class echo = {.on_message = echo_message};

int main(int argc, char **argv)
{
    struct config cfg = parse_args(argc, argv);
    app_t *app = app_new();
    websocket_route(app, "/.*", &echo,
                    &(struct websocket_options){.max_message_size = MAX_MESSAGE}, NULL);
    httpserver_t *srv = httpserver_new(app, NULL);
    int sfd = tool_signals_fd();
    if (sfd < 0 || httpserver_listen(srv, cfg.address, cfg.port) < 0) {
        fprintf(stderr, tool_text("%s: cannot listen on %s port %d: %m\n",
                                  "%s: 无法在 %s 端口 %d 上监听: %m\n"),
                program_invocation_short_name, cfg.address, cfg.port);
        return 1;
    }
    const char *host = *cfg.address ? cfg.address : "0.0.0.0";
    bool v6 = strchr(host, ':') != NULL;
    printf(tool_text("listening on ws://%s%s%s:%d/\n", "正在监听 ws://%s%s%s:%d/\n"),
           v6 ? "[" : "", host, v6 ? "]" : "", httpserver_port(srv));
    fflush(stdout);
    ioloop_t *loop = ioloop_current();
    ioloop_add_handler(loop, sfd, IOLOOP_READ, tool_stop_on_signal, NULL);
    ioloop_start(loop);

    httpserver_shutdown(srv);
    ioloop_remove_handler(loop, sfd);
    close(sfd);
    app_free(app);
    ioloop_free(loop);
    return 0;
}
