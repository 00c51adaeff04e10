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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE ((uint64_t)16 << 20)

#define ABOUT "a WebSocket echo server (every message back to its sender, on any\n"   \
    "path) on lesson 06's websocket module; serves until SIGINT or SIGTERM.\n"

static void echo_message(websocket_t *ws, const struct websocket_message *m)
{
    websocket_send(ws, m->data, m->len, m->binary);
}

static const struct websocket_class echo = {.on_message = echo_message};

int main(int argc, char **argv)
{
    const char *address = "127.0.0.1";
    int port = 8888;
    tool_server_args(argc, argv, ABOUT, &address, &port);
    app_t *app = app_new();
    websocket_route(app, "/.*", &echo,
                    &(struct websocket_options){.max_message_size = MAX_MESSAGE}, NULL);
    httpserver_t *srv = httpserver_new(app, NULL);
    int status = tool_serve(srv, address, port, "ws", "");
    app_free(app);
    ioloop_free(ioloop_current());
    return status;
}
