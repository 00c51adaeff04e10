/* 05_hello_server — Tornado's "Hello, world" application on lesson 05's httpserver.
 *
 *     05_hello_server [--address A] [--port N] [--processes N] [--lang en|zh]
 *
 * The application of Tornado's front page, line for line:
 *
 *     class MainHandler(tornado.web.RequestHandler):
 *         def get(self):
 *             self.write("Hello, world")
 *     app = tornado.web.Application([(r"/", MainHandler)])
 *     app.listen(8888)
 *     tornado.ioloop.IOLoop.current().start()
 *
 * It says where it listens, then serves until SIGINT (Ctrl-C) or SIGTERM. A signal
 * handler may not touch the loop, so the signals are blocked and read from a signalfd
 * the loop watches like any socket: the loop stops between two iterations, and main
 * closes the server and lets its connections end before exiting 0. curl, wrk and
 * bench/run-http-bench talk to it.
 *
 * --processes N is document 001's `server.bind(8888); server.start(0)`: the socket is
 * bound first, then N processes are forked (0: one per CPU) that each make their own
 * loop and accept on the shared socket; the parent watches them and passes SIGINT and
 * SIGTERM on.
 */
#include "httpserver.h"
#include "ioloop.h"
#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct config {
    const char *address;
    int port;
    int processes; /* 1: no fork; 0: one per CPU */
};

static void usage(void)
{
    printf("%s: Tornado's \"Hello, world\" app (GET / -> Hello, world) on lesson 05's\n"
           "httpserver; serves until SIGINT or SIGTERM.\n\n"
           "Usage: %s [--address A] [--port N] [--processes N] [--lang en|zh] [--help]\n\n"
           "  --address A     listen on this address (default 127.0.0.1; \"\" for all)\n"
           "  --port N        listen on this port (default 8888; 0: any free port)\n"
           "  --processes N   fork N processes sharing the socket (0: one per CPU;\n"
           "                  default 1: no fork), Tornado's server.start(N)\n"
           "  --lang en|zh    messages in English (default) or Chinese [LESSON_LANG]\n"
           "  --help          show this help\n",
           program_invocation_short_name, program_invocation_short_name);
}

static struct config parse_args(int argc, char **argv)
{
    static const struct option options[] = {
        {"address", required_argument, NULL, 'a'}, {"port", required_argument, NULL, 'p'},
        {"lang", required_argument, NULL, 'l'},    {"help", no_argument, NULL, 'h'},
        {"processes", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct config cfg = {.address = "127.0.0.1", .port = 8888, .processes = 1};
    const char *lang = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'a': cfg.address = optarg; break;
        case 'p': cfg.port = (int)tool_integer("--port", optarg, 0, 65535); break;
        case 'l': lang = optarg; break;
        case 'n': cfg.processes = (int)tool_integer("--processes", optarg, 0, 1024); break;
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

static void hello_get(handler_t *h)
{
    handler_write(h, "Hello, world", 12);
}

static const struct handler_class main_handler = {.get = hello_get, .head = hello_get};

int main(int argc, char **argv)
{
    struct config cfg = parse_args(argc, argv);
    app_t *app = app_new();
    app_add(app, "/", &main_handler, NULL);
    httpserver_t *srv = httpserver_new(app, NULL);
    if (httpserver_bind(srv, cfg.address, cfg.port, false) < 0) {
        fprintf(stderr, tool_text("%s: cannot listen on %s port %d: %m\n",
                                  "%s: 无法在 %s 端口 %d 上监听: %m\n"),
                program_invocation_short_name, cfg.address, cfg.port);
        return 1;
    }
    const char *host = *cfg.address ? cfg.address : "0.0.0.0";
    bool v6 = strchr(host, ':') != NULL; /* a URL writes an IPv6 address in brackets */
    printf(tool_text("listening on http://%s%s%s:%d/\n", "正在监听 http://%s%s%s:%d/\n"),
           v6 ? "[" : "", host, v6 ? "]" : "", httpserver_port(srv));
    fflush(stdout); /* before a fork, or every child would print it again */
    /* Fork before anything touches the loop: each child makes its own (an epoll fd
     * shared across a fork would mix the processes' events). */
    if (cfg.processes != 1 && httpserver_fork_processes(cfg.processes) < 0) {
        fprintf(stderr, tool_text("%s: cannot fork: %m\n", "%s: 无法创建进程: %m\n"),
                program_invocation_short_name);
        return 1;
    }
    int sfd = tool_signals_fd();
    ioloop_t *loop = ioloop_current();
    if (sfd < 0 || httpserver_start(srv) < 0) {
        fprintf(stderr, tool_text("%s: cannot start: %m\n", "%s: 无法启动: %m\n"),
                program_invocation_short_name);
        return 1;
    }
    ioloop_add_handler(loop, sfd, IOLOOP_READ, tool_stop_on_signal, NULL);
    ioloop_start(loop);

    httpserver_shutdown(srv);
    ioloop_remove_handler(loop, sfd);
    close(sfd);
    app_free(app);
    ioloop_free(loop);
    return 0;
}
