/* Unit tests for 06_websocket_chat/websocket: the handler API and the client, on one
 * loop. The server listens on 127.0.0.1 and an ephemeral port; the test's coroutine
 * "main" talks to it with websocket_connect, or with a raw stream when the test needs
 * to send what no well-behaved client would (an unmasked frame, bad UTF-8, nothing at
 * all while being pinged). Each connection's server side notes its life in a trail
 * ("open /echo", "close /echo 1000"), so on_close's once-and-only-once is checked.
 * The client also meets real Tornado handlers (websocket_peer.py), over ws and wss. */
#include "http1.h"
#include "httpserver.h"
#include "iostream.h"
#include "loop_test.h"
#include "websocket.h"
#include "wsframe.h"
#include "wshandshake.h"

#include "python_peer.h"
#include "tls_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static app_t *app;
static httpserver_t *server;
static char base[64]; /* ws://127.0.0.1:PORT */
static int server_closes;
static int flood_error;
static size_t flood_buffered;

/* ---- the application under test ----------------------------------------------------- */

static const char *route_name(websocket_t *ws)
{
    return websocket_data(ws) ? websocket_data(ws) : "?";
}

static void noted_open(websocket_t *ws)
{
    note("open %s", route_name(ws));
}

static void noted_close(websocket_t *ws)
{
    server_closes++;
    note("close %s %d", route_name(ws), websocket_close_code(ws));
}

static void echo_message(websocket_t *ws, const struct websocket_message *m)
{
    future_unref(websocket_write_message(ws, m->data, m->len, m->binary));
}

static const struct websocket_class echo = {
    .open = noted_open, .on_message = echo_message, .on_close = noted_close};

static void closer_open(websocket_t *ws)
{
    noted_open(ws);
    ck_assert_int_eq(websocket_close(ws, 4001, "bye from server"), 0);
    ck_assert(websocket_closed(ws));
    future_t *w = websocket_write_message(ws, "late", 4, false);
    ck_assert_int_eq(future_error(w), WEBSOCKET_CLOSED);
    future_unref(w);
}

static const struct websocket_class closer = {.open = closer_open, .on_close = noted_close};

static void say3_open(websocket_t *ws)
{
    noted_open(ws);
    for (int i = 1; i <= 3; i++) {
        char msg[16];
        int n = snprintf(msg, sizeof msg, "message %d", i);
        future_unref(websocket_write_message(ws, msg, (size_t)n, false));
    }
    websocket_close(ws, 1000, NULL);
}

static const struct websocket_class say3 = {.open = say3_open, .on_close = noted_close};

static bool origin_allowed(const handler_t *h, struct http1_str origin)
{
    (void)h;
    return http1_str_ieq(origin, "http://allowed.example");
}

static const struct websocket_class picky = {
    .open = noted_open, .on_message = echo_message, .on_close = noted_close,
    .check_origin = origin_allowed};

/* Writes 64 KiB messages to a peer that reads nothing until a write is refused. */
static void flood_open(websocket_t *ws)
{
    static char chunk[65536];
    noted_open(ws);
    for (int i = 0; i < 10000 && !flood_error; i++) {
        future_t *w = websocket_write_message(ws, chunk, sizeof chunk, true);
        flood_error = future_error(w);
        if (flood_error)
            flood_buffered = websocket_write_buffered(ws);
        future_unref(w);
    }
}

static const struct websocket_class flood = {.open = flood_open, .on_close = noted_close};

/* Echoes after a pause: the next message is not read meanwhile. */
static void slow_message(websocket_t *ws, const struct websocket_message *m)
{
    char copy[64];
    snprintf(copy, sizeof copy, "%.*s", (int)m->len, m->data);
    coro_await(coro_sleep(0.01), NULL);
    future_unref(websocket_write_message(ws, copy, strlen(copy), false));
}

static const struct websocket_class slow = {.on_message = slow_message, .on_close = noted_close};

static void plain_get(handler_t *h)
{
    handler_write(h, "plain", 5);
}

static const struct handler_class plain = {.get = plain_get};

static const char *const server_protocols[] = {"chat.v2", "chat.v1", NULL};

static void setup(void)
{
    loop_test_setup();
    server_closes = 0;
    flood_error = 0;
    app = app_new();
    ck_assert_int_eq(websocket_route(app, "/echo", &echo, NULL, "/echo"), 0);
    ck_assert_int_eq(websocket_route(app, "/closer", &closer, NULL, "/closer"), 0);
    ck_assert_int_eq(websocket_route(app, "/say3", &say3, NULL, "/say3"), 0);
    ck_assert_int_eq(websocket_route(app, "/origin", &picky, NULL, "/origin"), 0);
    ck_assert_int_eq(websocket_route(app, "/proto", &echo,
                                     &(struct websocket_options){.subprotocols = server_protocols},
                                     "/proto"), 0);
    ck_assert_int_eq(websocket_route(app, "/small", &echo,
                                     &(struct websocket_options){.max_message_size = 100},
                                     "/small"), 0);
    ck_assert_int_eq(websocket_route(app, "/ping", &echo,
                                     &(struct websocket_options){.ping_interval = 0.05,
                                                                 .ping_timeout = 0.05},
                                     "/ping"), 0);
    ck_assert_int_eq(websocket_route(app, "/flood", &flood,
                                     &(struct websocket_options){.max_write_buffer = 256 * 1024,
                                                                 .close_timeout = 0.2},
                                     "/flood"), 0);
    ck_assert_int_eq(websocket_route(app, "/slow", &slow, NULL, "/slow"), 0);
    ck_assert_int_eq(websocket_route(app, "(", &echo, NULL, NULL), -1);
    ck_assert_int_eq(app_add(app, "/plain", &plain, NULL), 0);
    server = httpserver_new(app, NULL);
    ck_assert_int_eq(httpserver_listen(server, "127.0.0.1", 0), 0);
    snprintf(base, sizeof base, "ws://127.0.0.1:%d", httpserver_port(server));
}

static void teardown(void)
{
    httpserver_shutdown(server);
    app_free(app);
    loop_test_teardown();
}

/* ---- helpers ----------------------------------------------------------------------- */

static char *url(const char *path)
{
    static char u[128];
    snprintf(u, sizeof u, "%s%s", base, path);
    return u;
}

/* Awaits f for at most 2 s. */
static int await2(future_t *f, void **result)
{
    return coro_await(coro_with_timeout(ioloop_time(loop) + 2, f), result);
}

static websocket_t *connect_ok(const char *path, const struct websocket_connect_options *o)
{
    websocket_t *ws = NULL;
    int err = await2(websocket_connect(url(path), o), (void **)&ws);
    ck_assert_msg(err == 0, "connect %s: %s", path, coro_error());
    return ws;
}

/* The next message, which must be `want` (text unless binary). */
static void expect_message(websocket_t *ws, const void *want, size_t len, bool binary)
{
    struct websocket_message *m = NULL;
    ck_assert_int_eq(await2(websocket_read_message(ws), (void **)&m), 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->binary, binary);
    ck_assert_uint_eq(m->len, len);
    ck_assert(memcmp(m->data, want, len) == 0);
    ck_assert_int_eq(m->data[len], '\0');
}

static void expect_closed(websocket_t *ws, int code)
{
    struct websocket_message *m = ITEM(1);
    ck_assert_int_eq(await2(websocket_read_message(ws), (void **)&m), 0);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(websocket_close_code(ws), code);
}

/* Runs the loop until the server has seen n connections close (2 s at most). */
static void wait_server_closes(int n)
{
    double deadline = ioloop_time(loop) + 2;
    while (server_closes < n && ioloop_time(loop) < deadline)
        coro_await(coro_sleep(0.005), NULL);
    ck_assert_int_eq(server_closes, n);
}

/* A raw client: the handshake by hand, then whatever bytes the test writes. */
static iostream_t *raw_connect(const char *path)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(httpserver_port(server))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    iostream_t *s;
    ck_assert_int_eq(await2(iostream_connect((struct sockaddr *)&a, sizeof a, NULL, &s), NULL), 0);
    struct wshs_client hs;
    char *head;
    size_t len;
    ck_assert_int_eq(wshs_client_request(&hs, url(path), NULL, NULL, &head, &len), WSHS_OK);
    future_unref(iostream_write(s, head, len));
    free(head);
    struct iostream_bytes *b;
    ck_assert_int_eq(await2(iostream_read_until(s, "\r\n\r\n", 65536), (void **)&b), 0);
    struct http1_response resp;
    ck_assert_int_gt(http1_parse_response(b->data, b->len, &resp, NULL), 0);
    ck_assert_int_eq(wshs_client_check(&hs, &resp), WSHS_OK);
    wshs_client_free(&hs);
    return s;
}

static void raw_send(iostream_t *s, uint8_t opcode, const void *payload, size_t len, bool masked)
{
    static const uint8_t key[4] = {1, 2, 3, 4};
    uint8_t frame[256];
    size_t n = wsframe_build(frame, sizeof frame, true, opcode, payload, len, masked ? key : NULL);
    ck_assert_uint_le(n, sizeof frame);
    future_unref(iostream_write(s, frame, n));
}

/* Reads what the server sends until it closes TCP (2 s at most); returns the code of
 * its close frame (1005 for an empty one), or -1 if none came. *pings counts pings. */
static int raw_close_code(iostream_t *s, int *pings)
{
    struct iostream_bytes *b;
    int err = await2(iostream_read_until_close(s), (void **)&b);
    ck_assert_msg(err == 0, "the server did not close: %s", coro_error());
    struct wsframe_parser p;
    wsframe_init(&p, WSFRAME_CLIENT, 0);
    int code = -1;
    size_t off = 0;
    while (off < b->len) {
        size_t used;
        struct wsframe_message m;
        int rc = wsframe_next(&p, (uint8_t *)b->data + off, b->len - off, &used, &m);
        off += used;
        ck_assert_int_ge(rc, 0);
        if (rc == WSFRAME_MORE)
            break;
        if (rc == WSFRAME_CONTROL && m.opcode == WSFRAME_PING && pings)
            ++*pings;
        if (rc == WSFRAME_CONTROL && m.opcode == WSFRAME_CLOSE)
            code = m.close_code;
    }
    wsframe_free(&p);
    iostream_free(s);
    return code;
}

/* ---- tests ------------------------------------------------------------------------- */

static void *echo_main(void *arg)
{
    (void)arg;
    websocket_t *ws = connect_ok("/echo", NULL);
    ck_assert_ptr_null(websocket_subprotocol(ws));
    ck_assert_int_eq(websocket_close_code(ws), 0);
    const char *text = "h\xc3\xa9llo, \xe4\xb8\x96\xe7\x95\x8c";
    uint8_t bin[256];
    for (int i = 0; i < 256; i++)
        bin[i] = (uint8_t)i;
    future_unref(websocket_write_message(ws, text, strlen(text), false));
    future_unref(websocket_write_message(ws, bin, sizeof bin, true));
    ck_assert_int_eq(await2(websocket_write_message(ws, "", 0, false), NULL), 0);
    expect_message(ws, text, strlen(text), false);
    expect_message(ws, bin, sizeof bin, true);
    expect_message(ws, "", 0, false);
    ck_assert_int_eq(websocket_close(ws, 1000, "done"), 0);
    ck_assert_int_eq(websocket_close(ws, 1000, "again"), 0); /* harmless once closing */
    expect_closed(ws, 1000);
    expect_closed(ws, 1000); /* and again: still NULL */
    websocket_free(ws);
    wait_server_closes(1);
    ck_assert_str_eq(trail, "open /echo, close /echo 1000");
    return NULL;
}

START_TEST(echo_and_clean_close)
{
    run_main(echo_main, NULL);
}
END_TEST

static void *big_main(void *arg)
{
    (void)arg;
    /* 1 MiB in frames of 1000 bytes, and the echo comes back whole. */
    websocket_t *ws = connect_ok("/echo", &(struct websocket_connect_options){
                                              .ws.frame_size = 1000});
    size_t len = (size_t)1 << 20;
    char *big = malloc(len);
    for (size_t i = 0; i < len; i++)
        big[i] = (char)('a' + i % 26);
    future_unref(websocket_write_message(ws, big, len, false));
    expect_message(ws, big, len, false);
    free(big);
    websocket_free(ws);
    return NULL;
}

START_TEST(fragmented_megabyte)
{
    run_main(big_main, NULL);
}
END_TEST

static void *server_close_main(void *arg)
{
    (void)arg;
    websocket_t *ws = connect_ok("/closer", NULL);
    expect_closed(ws, 4001);
    ck_assert_str_eq(websocket_close_reason(ws), "bye from server");
    websocket_free(ws);
    /* Messages wait for read_message, in order, even after the server closed. */
    ws = connect_ok("/say3", NULL);
    coro_await(coro_sleep(0.05), NULL);
    expect_message(ws, "message 1", 9, false);
    expect_message(ws, "message 2", 9, false);
    expect_message(ws, "message 3", 9, false);
    expect_closed(ws, 1000);
    websocket_free(ws);
    wait_server_closes(2);
    ck_assert_str_eq(trail, "open /closer, close /closer 4001, open /say3, close /say3 1000");
    return NULL;
}

START_TEST(server_closes_and_messages_queue)
{
    run_main(server_close_main, NULL);
}
END_TEST

static int client_closes, client_close_code;

static void client_close(websocket_t *ws)
{
    client_closes++;
    client_close_code = websocket_close_code(ws);
}

static void *free_main(void *arg)
{
    (void)arg;
    static const struct websocket_class cls = {.on_close = client_close};
    websocket_t *ws = connect_ok("/echo", &(struct websocket_connect_options){.cls = &cls});
    websocket_free(ws); /* no handshake: on_close at once, the server sees TCP go */
    ck_assert_int_eq(client_closes, 1);
    ck_assert_int_eq(client_close_code, 1006);
    wait_server_closes(1);
    ck_assert_str_eq(trail, "open /echo, close /echo 1006");
    coro_await(coro_sleep(0.02), NULL);
    ck_assert_int_eq(client_closes, 1);
    return NULL;
}

START_TEST(client_free_closes_once)
{
    run_main(free_main, NULL);
}
END_TEST

static void *protocol_errors_main(void *arg)
{
    (void)arg;
    /* A client frame must be masked: 1002, then TCP. */
    iostream_t *s = raw_connect("/echo");
    raw_send(s, WSFRAME_TEXT, "hi", 2, false);
    ck_assert_int_eq(raw_close_code(s, NULL), 1002);
    /* Bad UTF-8 (an overlong '/'): 1007. */
    s = raw_connect("/echo");
    raw_send(s, WSFRAME_TEXT, "a\xc0\xaf", 3, true);
    ck_assert_int_eq(raw_close_code(s, NULL), 1007);
    /* A close code not allowed on the wire: 1002. */
    s = raw_connect("/echo");
    raw_send(s, WSFRAME_CLOSE, "\x03\xed", 2, true); /* 1005 */
    ck_assert_int_eq(raw_close_code(s, NULL), 1002);
    /* A close with a valid code is answered with it. */
    s = raw_connect("/echo");
    raw_send(s, WSFRAME_CLOSE, "\x0b\xb8x", 3, true); /* 3000 "x" */
    ck_assert_int_eq(raw_close_code(s, NULL), 3000);
    wait_server_closes(4);
    ck_assert_str_eq(trail, "open /echo, close /echo 1006, open /echo, close /echo 1006, "
                            "open /echo, close /echo 1006, open /echo, close /echo 3000");
    return NULL;
}

START_TEST(protocol_errors_close_with_codes)
{
    run_main(protocol_errors_main, NULL);
}
END_TEST

static void *too_big_main(void *arg)
{
    (void)arg;
    websocket_t *ws = connect_ok("/small", NULL);
    char msg[200];
    memset(msg, 'x', sizeof msg);
    future_unref(websocket_write_message(ws, "ok", 2, false)); /* small ones still pass */
    expect_message(ws, "ok", 2, false);
    future_unref(websocket_write_message(ws, msg, sizeof msg, false));
    expect_closed(ws, 1009);
    websocket_free(ws);
    wait_server_closes(1);
    return NULL;
}

START_TEST(message_too_big_is_1009)
{
    run_main(too_big_main, NULL);
}
END_TEST

static void *ping_timeout_main(void *arg)
{
    (void)arg;
    /* Pings every 50 ms; a client that never answers is dropped after 50 ms more. */
    double start = ioloop_time(loop);
    iostream_t *s = raw_connect("/ping");
    int pings = 0;
    ck_assert_int_eq(raw_close_code(s, &pings), 1011);
    ck_assert_int_eq(pings, 1);
    ck_assert_double_lt(ioloop_time(loop) - start, 1.5); /* not the 5 s close timeout */
    wait_server_closes(1);
    ck_assert_str_eq(trail, "open /ping, close /ping 1006");
    return NULL;
}

START_TEST(ping_timeout_drops_a_dead_peer)
{
    run_main(ping_timeout_main, NULL);
}
END_TEST

static int pongs, pings_seen;
static char pong_data[16];

static void got_pong(websocket_t *ws, const void *data, size_t len)
{
    (void)ws;
    pongs++;
    snprintf(pong_data, sizeof pong_data, "%.*s", (int)len, (const char *)data);
}

static void got_ping(websocket_t *ws, const void *data, size_t len)
{
    (void)ws;
    (void)data;
    (void)len;
    pings_seen++;
}

static void *ping_main(void *arg)
{
    (void)arg;
    static const struct websocket_class cls = {.on_pong = got_pong, .on_ping = got_ping};
    /* A live client answers the server's pings (automatically) and stays. */
    websocket_t *ws = connect_ok("/ping", &(struct websocket_connect_options){.cls = &cls});
    ck_assert_int_eq(websocket_ping(ws, "abc", 3), 0);
    char big[126] = {0};
    ck_assert_int_eq(websocket_ping(ws, big, sizeof big), -1);
    ck_assert_int_eq(errno, EINVAL);
    /* The pong, and the server's pings (every 50 ms), answered by us: it keeps us. */
    double deadline = ioloop_time(loop) + 2;
    while ((pongs < 1 || pings_seen < 3) && ioloop_time(loop) < deadline)
        coro_await(coro_sleep(0.01), NULL);
    ck_assert_int_eq(pongs, 1);
    ck_assert_str_eq(pong_data, "abc");
    ck_assert_int_ge(pings_seen, 3);
    future_unref(websocket_write_message(ws, "still here", 10, false));
    expect_message(ws, "still here", 10, false);
    websocket_close(ws, 1000, NULL);
    expect_closed(ws, 1000);
    ck_assert_int_eq(websocket_ping(ws, "", 0), -1);
    ck_assert_int_eq(errno, EPIPE);
    websocket_free(ws);
    return NULL;
}

START_TEST(pings_and_pongs)
{
    run_main(ping_main, NULL);
}
END_TEST

static void *flood_main(void *arg)
{
    (void)arg;
    iostream_t *s = raw_connect("/flood");
    /* Read nothing: the server's writes fill its buffer, the cap refuses one, the
     * connection is closed (1008 queued behind what we never read), then dropped. */
    wait_server_closes(1);
    ck_assert_int_eq(flood_error, ENOBUFS);
    ck_assert_uint_gt(flood_buffered, 256 * 1024);
    ck_assert_uint_le(flood_buffered, 256 * 1024 + 65536 + 14);
    ck_assert_str_eq(trail, "open /flood, close /flood 1006");
    iostream_free(s);
    return NULL;
}

START_TEST(a_peer_that_does_not_read_is_closed)
{
    run_main(flood_main, NULL);
}
END_TEST

static void *slow_main(void *arg)
{
    (void)arg;
    websocket_t *ws = connect_ok("/slow", NULL);
    const char *words[] = {"one", "two", "three", "four"};
    for (int i = 0; i < 4; i++)
        future_unref(websocket_write_message(ws, words[i], strlen(words[i]), false));
    for (int i = 0; i < 4; i++)
        expect_message(ws, words[i], strlen(words[i]), false);
    websocket_free(ws);
    return NULL;
}

START_TEST(on_message_that_awaits_keeps_order)
{
    run_main(slow_main, NULL);
}
END_TEST

static void expect_connect_error(const char *u, const struct websocket_connect_options *o,
                                 int code, const char *message)
{
    websocket_t *ws = NULL;
    int err = await2(websocket_connect(u, o), (void **)&ws);
    ck_assert_msg(err == code, "%s: %d %s", u, err, coro_error());
    ck_assert_msg(strstr(coro_error(), message), "%s: %s", u, coro_error());
}

static void *handshake_main(void *arg)
{
    (void)arg;
    const char *offered[] = {"chat.v1", "chat.v2", NULL};
    websocket_t *ws = connect_ok("/proto", &(struct websocket_connect_options){
                                               .ws.subprotocols = offered});
    ck_assert_str_eq(websocket_subprotocol(ws), "chat.v2"); /* the server's preference */
    websocket_free(ws);
    expect_connect_error(url("/origin"),
                         &(struct websocket_connect_options){.origin = "http://evil.example"},
                         EPROTO, "WebSocket handshake failed: HTTP 403 Forbidden");
    ws = connect_ok("/origin", &(struct websocket_connect_options){.origin = "http://allowed.example"});
    websocket_free(ws);
    expect_connect_error(url("/plain"), NULL, EPROTO, "WebSocket handshake failed: HTTP 200 OK");
    expect_connect_error(url("/nowhere"), NULL, EPROTO, "HTTP 404 Not Found");
    expect_connect_error("http://127.0.0.1:1/", NULL, EINVAL, "Invalid WebSocket URL");
    expect_connect_error("ws://127.0.0.1:1/", NULL, ECONNREFUSED, "Connection refused");
    return NULL;
}

START_TEST(handshake_choices_and_refusals)
{
    run_main(handshake_main, NULL);
}
END_TEST

/* Writes a request head on a fresh connection and returns the status line answered;
 * the server must then close the connection. */
static char *raw_refusal(const char *head)
{
    static char line[128];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(httpserver_port(server))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    iostream_t *s;
    ck_assert_int_eq(await2(iostream_connect((struct sockaddr *)&a, sizeof a, NULL, &s), NULL), 0);
    future_unref(iostream_write(s, head, strlen(head)));
    struct iostream_bytes *b;
    ck_assert_int_eq(await2(iostream_read_until_close(s), (void **)&b), 0);
    snprintf(line, sizeof line, "%.*s", (int)strcspn(b->data, "\r"), b->data);
    iostream_free(s);
    return line;
}

#define WS_HEAD(version, key) \
    "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
    "Sec-WebSocket-Version: " version "\r\nSec-WebSocket-Key: " key "\r\n\r\n"

static void *refusals_main(void *arg)
{
    (void)arg;
    ck_assert_str_eq(raw_refusal("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"),
                     "HTTP/1.1 400 Bad Request");
    ck_assert_str_eq(raw_refusal(WS_HEAD("8", "dGhlIHNhbXBsZSBub25jZQ==")),
                     "HTTP/1.1 426 Upgrade Required");
    ck_assert_str_eq(raw_refusal(WS_HEAD("13", "short")), "HTTP/1.1 400 Bad Request");
    ck_assert_str_eq(raw_refusal("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                 "Connection: close\r\n\r\n"),
                     "HTTP/1.1 405 Method Not Allowed");
    ck_assert_str_eq(raw_refusal("GET /origin HTTP/1.1\r\nHost: x\r\nOrigin: http://y\r\n"
                                 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Version: 13\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
                     "HTTP/1.1 403 Forbidden");
    /* The handshake and a first frame in one write: the frame is not lost. */
    char both[512];
    static const uint8_t key[4] = {9, 8, 7, 6};
    size_t n = (size_t)snprintf(both, sizeof both, "%s", WS_HEAD("13", "dGhlIHNhbXBsZSBub25jZQ=="));
    n += wsframe_build((uint8_t *)both + n, sizeof both - n, true, WSFRAME_TEXT, "early", 5, key);
    n += wsframe_build_close((uint8_t *)both + n, sizeof both - n, 1000, NULL, 0, key);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(httpserver_port(server))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    iostream_t *s;
    ck_assert_int_eq(await2(iostream_connect((struct sockaddr *)&a, sizeof a, NULL, &s), NULL), 0);
    future_unref(iostream_write(s, both, n));
    struct iostream_bytes *b;
    ck_assert_int_eq(await2(iostream_read_until(s, "\r\n\r\n", 4096), (void **)&b), 0);
    ck_assert(strncmp(b->data, "HTTP/1.1 101 Switching Protocols\r\n", 34) == 0);
    ck_assert_int_eq(await2(iostream_read_bytes(s, 7, false), (void **)&b), 0);
    ck_assert(memcmp(b->data, "\x81\x05" "early", 7) == 0);
    ck_assert_int_eq(raw_close_code(s, NULL), 1000);
    return NULL;
}

START_TEST(bad_handshakes_are_refused_over_the_wire)
{
    run_main(refusals_main, NULL);
}
END_TEST

static void *misuse_main(void *arg)
{
    (void)arg;
    websocket_t *ws = connect_ok("/echo", NULL);
    future_t *w = websocket_write_message(ws, "\xff", 1, false);
    ck_assert_int_eq(future_error(w), EINVAL);
    future_unref(w);
    ck_assert_int_eq(websocket_send(ws, "\xff", 1, false), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(websocket_send(ws, "sent", 4, false), 0); /* no future, same frame */
    expect_message(ws, "sent", 4, false);
    websocket_t *all[] = {ws, ws};
    ck_assert_uint_eq(websocket_broadcast(all, 2, "\xff", 1, false), 0);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_uint_eq(websocket_broadcast(all, 2, "twice", 5, false), 2);
    expect_message(ws, "twice", 5, false);
    expect_message(ws, "twice", 5, false);
    ck_assert_int_eq(websocket_close(ws, 1005, NULL), -1);
    ck_assert_int_eq(websocket_close(ws, 999, NULL), -1);
    char reason[125];
    memset(reason, 'r', sizeof reason - 1);
    reason[124] = '\0';
    ck_assert_int_eq(websocket_close(ws, 1000, reason), -1);
    ck_assert_int_eq(websocket_close(ws, 1000, "\xc3"), -1);
    ck_assert(!websocket_closed(ws));
    ck_assert_int_eq(websocket_close(ws, 0, NULL), 0); /* no code: the peer says 1005 */
    expect_closed(ws, 1005);
    w = websocket_write_message(ws, "x", 1, false);
    ck_assert_int_eq(future_error(w), WEBSOCKET_CLOSED);
    future_unref(w);
    ck_assert_int_eq(websocket_send(ws, "x", 1, false), -1);
    ck_assert_int_eq(errno, WEBSOCKET_CLOSED);
    websocket_free(ws);
    return NULL;
}

START_TEST(misuse_is_refused)
{
    run_main(misuse_main, NULL);
}
END_TEST

static void *shutdown_main(void *arg)
{
    (void)arg;
    websocket_t *ws = connect_ok("/echo", NULL);
    coro_await(coro_sleep(0.01), NULL);
    httpserver_close(server); /* 1001 Going Away, then the server closes TCP */
    expect_closed(ws, 1001);
    ck_assert_str_eq(websocket_close_reason(ws), "server shutting down");
    websocket_free(ws);
    wait_server_closes(1);
    ck_assert_str_eq(trail, "open /echo, close /echo 1001");
    return NULL;
}

START_TEST(server_close_ends_connections)
{
    run_main(shutdown_main, NULL);
}
END_TEST

/* ---- the client against Tornado --------------------------------------------------- */

static struct test_certs certs;
static pid_t peer_pid;
static int tornado_port, tornado_tls_port;

/* websocket_peer.py beside this file, or $WEBSOCKET_PEER (python_peer.h). */
static void peer_start(void)
{
    int ports[2];
    peer_pid = python_peer_start(__FILE__, "websocket_peer.py", "WEBSOCKET_PEER", certs.cert,
                                 certs.key, ports, 2);
    tornado_port = ports[0];
    tornado_tls_port = ports[1];
}

static void peer_stop(void)
{
    python_peer_stop(peer_pid);
}

static websocket_t *tornado_connect(const char *u, const struct websocket_connect_options *o)
{
    websocket_t *ws = NULL;
    int err = await2(websocket_connect(u, o), (void **)&ws);
    ck_assert_msg(err == 0, "connect %s: %s", u, coro_error());
    return ws;
}

/* Text, binary and 64 KiB through Tornado's echo, and a clean close. */
static void tornado_echo(const char *u, const struct websocket_connect_options *o)
{
    websocket_t *ws = tornado_connect(u, o);
    const char *text = "\xe4\xbd\xa0\xe5\xa5\xbd, Tornado";
    future_unref(websocket_write_message(ws, text, strlen(text), false));
    expect_message(ws, text, strlen(text), false);
    uint8_t bin[300];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(i * 7);
    future_unref(websocket_write_message(ws, bin, sizeof bin, true));
    expect_message(ws, bin, sizeof bin, true);
    size_t len = 65536;
    char *big = malloc(len);
    memset(big, 'w', len);
    future_unref(websocket_write_message(ws, big, len, false));
    expect_message(ws, big, len, false);
    free(big);
    websocket_close(ws, 1000, NULL);
    expect_closed(ws, 1000);
    websocket_free(ws);
}

static void *tornado_main(void *arg)
{
    (void)arg;
    char u[128];
    snprintf(u, sizeof u, "ws://127.0.0.1:%d/echo", tornado_port);
    tornado_echo(u, NULL);
    snprintf(u, sizeof u, "ws://127.0.0.1:%d/closer", tornado_port);
    websocket_t *ws = tornado_connect(u, NULL);
    expect_closed(ws, 4002);
    ck_assert_str_eq(websocket_close_reason(ws), "tornado says bye");
    websocket_free(ws);
    snprintf(u, sizeof u, "ws://127.0.0.1:%d/nowhere", tornado_port);
    expect_connect_error(u, NULL, EPROTO, "HTTP 404 Not Found");
    return NULL;
}

START_TEST(client_against_tornado)
{
    run_main(tornado_main, NULL);
}
END_TEST

static void *wss_main(void *arg)
{
    (void)arg;
    char u[128];
    snprintf(u, sizeof u, "wss://localhost:%d/echo", tornado_tls_port);
    tornado_echo(u, &(struct websocket_connect_options){.ca_certs = certs.ca});
    snprintf(u, sizeof u, "wss://127.0.0.1:%d/echo", tornado_tls_port);
    tornado_echo(u, &(struct websocket_connect_options){.ca_certs = certs.ca});
    tornado_echo(u, &(struct websocket_connect_options){.insecure = true});
    expect_connect_error(u, NULL, ECONNABORTED, "certificate verify failed");
    snprintf(u, sizeof u, "ws://127.0.0.1:%d/echo", tornado_tls_port); /* TLS port, no TLS */
    expect_connect_error(u, NULL, IOSTREAM_CLOSED, "Stream is closed");
    return NULL;
}

START_TEST(client_over_tls)
{
    run_main(wss_main, NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("websocket");
    TCase *tc = tcase_create("websocket");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, echo_and_clean_close);
    tcase_add_test(tc, fragmented_megabyte);
    tcase_add_test(tc, server_closes_and_messages_queue);
    tcase_add_test(tc, client_free_closes_once);
    tcase_add_test(tc, protocol_errors_close_with_codes);
    tcase_add_test(tc, message_too_big_is_1009);
    tcase_add_test(tc, ping_timeout_drops_a_dead_peer);
    tcase_add_test(tc, pings_and_pongs);
    tcase_add_test(tc, a_peer_that_does_not_read_is_closed);
    tcase_add_test(tc, on_message_that_awaits_keeps_order);
    tcase_add_test(tc, handshake_choices_and_refusals);
    tcase_add_test(tc, bad_handshakes_are_refused_over_the_wire);
    tcase_add_test(tc, misuse_is_refused);
    tcase_add_test(tc, server_close_ends_connections);
    tcase_add_test(tc, client_against_tornado);
    tcase_add_test(tc, client_over_tls);
    suite_add_tcase(s, tc);
    test_certs_make(&certs);
    peer_start();
    int rc = unit_run(s);
    peer_stop();
    test_certs_remove(&certs);
    return rc;
}
