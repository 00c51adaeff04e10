/* 06_chat_client — a terminal for 06_chat_server's room, for a class without browsers
 * and for tests that script a conversation.
 *
 *     06_chat_client [--lang en|zh] ws://HOST:PORT/chat
 *
 * Each line typed is sent as a message (empty lines are not); each event of the room
 * is printed as the documents' line ("[127.0.0.1]-[2016-08-29 00:00:00]-说:你好").
 * It offers the subprotocol "chat.json" and prints each event's "line"; a server that
 * answers in plain lines has them printed as they come. At the end of the input
 * (Ctrl-D) it closes with 1000 and waits for the server's close; a server that goes
 * away ends it too. Status goes to stderr: "connected to URL", "closed: 1001 server
 * shutting down". Exit 0 after a clean close, 1 otherwise.
 *
 * Both directions on one loop: the WebSocket's messages arrive through on_message, and
 * standard input is watched by the loop like any socket, read without blocking.
 */
#include "coro.h"
#include "ioloop.h"
#include "tool.h"
#include "websocket.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES ((size_t)64 << 10)

static const char *url;
static websocket_t *ws;
static int status = 1;
static char *pending; /* input read, not yet a whole line */
static size_t pending_len;
static bool watching; /* standard input is on the loop */

static void usage(void)
{
    printf("%s: a terminal for 06_chat_server's chat room: lines typed are sent,\n"
           "the room's events are printed.\n\n"
           "Usage: %s [--lang en|zh] [--help] ws://HOST:PORT/chat\n",
           program_invocation_short_name, program_invocation_short_name);
}

static void parse_args(int argc, char **argv)
{
    static const struct option options[] = {
        {"lang", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *lang = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'l': lang = optarg; break;
        case 'h': usage(); exit(0);
        case ':': tool_usage_error("%s needs a value", argv[optind - 1]);
        default: tool_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        tool_usage_error("give one ws:// URL");
    url = argv[optind];
    tool_set_lang(lang);
}

/* An event: its "line" if it is the JSON of "chat.json", else the text as it came. */
static void on_event(websocket_t *w, const struct websocket_message *m)
{
    (void)w;
    json_t *o = json_loadb(m->data, m->len, JSON_ALLOW_NUL, NULL);
    json_t *line = json_object_get(o, "line");
    if (json_is_string(line)) /* (a NUL in a message is printed too) */
        fwrite(json_string_value(line), 1, json_string_length(line), stdout);
    else
        fwrite(m->data, 1, m->len, stdout);
    putchar('\n');
    fflush(stdout);
    json_decref(o);
}

static void on_closed(websocket_t *w)
{
    int code = websocket_close_code(w);
    fprintf(stderr, tool_text("closed: %d %s\n", "已关闭: %d %s\n"), code,
            websocket_close_reason(w));
    status = code == 1000 ? 0 : 1;
    ioloop_stop(ioloop_current());
}

static const struct websocket_class room = {.on_message = on_event, .on_close = on_closed};

/* Sends the whole lines in pending[0, pending_len) and keeps the rest. */
static void send_lines(void)
{
    char *p = pending, *end = pending + pending_len, *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
        size_t n = (size_t)(nl - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n)
            future_unref(websocket_write_message(ws, p, n, false));
        p = nl + 1;
    }
    pending_len = (size_t)(end - p);
    memmove(pending, p, pending_len);
}

/* Reads what standard input has; false once it is over (then the chat is closed). */
static bool read_input(int fd)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return true;
    if (n > 0 && pending_len + (size_t)n <= LINE_MAX_BYTES) {
        char *grown = realloc(pending, pending_len + (size_t)n + 1);
        if (!grown)
            abort();
        pending = grown;
        memcpy(pending + pending_len, buf, (size_t)n);
        pending_len += (size_t)n;
        send_lines();
        return true;
    }
    if (n > 0) {
        fprintf(stderr, tool_text("%s: a line longer than %zu bytes\n", "%s: 行长超过 %zu 字节\n"),
                program_invocation_short_name, LINE_MAX_BYTES);
    } else if (pending_len) { /* a last line without its newline */
        pending[pending_len++] = '\n';
        send_lines();
    }
    websocket_close(ws, 1000, NULL); /* the server answers; on_closed ends the loop */
    return false;
}

static void on_stdin(int fd, int events, void *arg)
{
    (void)events;
    (void)arg;
    if (!read_input(fd)) {
        ioloop_remove_handler(ioloop_current(), fd);
        watching = false;
    }
}

static void *start(void *arg)
{
    (void)arg;
    if (coro_await(websocket_connect(url, &(struct websocket_connect_options){
                       .cls = &room, .ws.subprotocols = (const char *const[]){"chat.json", NULL}}),
                   (void **)&ws)) {
        fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, url, coro_error());
        ioloop_stop(ioloop_current());
        return NULL;
    }
    fprintf(stderr, tool_text("connected to %s\n", "已连接到 %s\n"), url);
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    watching = ioloop_add_handler(ioloop_current(), STDIN_FILENO, IOLOOP_READ, on_stdin, NULL) == 0;
    if (!watching) /* a file (epoll takes no files): it never blocks, read it all now */
        while (read_input(STDIN_FILENO))
            ;
    return NULL;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    ioloop_t *loop = ioloop_current();
    future_unref(coro_spawn("chat client", start, NULL));
    ioloop_start(loop);
    if (watching)
        ioloop_remove_handler(loop, STDIN_FILENO);
    websocket_free(ws);
    free(pending);
    ioloop_free(loop);
    return status;
}
