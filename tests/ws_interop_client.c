/* ws_interop_client — lesson 06's WebSocket client against an independent echo server.
 *
 *     ws_interop_client URL
 *
 * Runs one script against the echo peer at URL (tests/ws_peer.py server, tests/ws_peer.js
 * server, through tests/ws_interop.sh): text with non-ASCII UTF-8, binary with every
 * byte value, an empty text, a message sent in 16-byte frames (on a second connection:
 * frame_size is per connection) that must come back whole, a reply the peer sends in
 * fragments ("fragmented please"), 1 MiB and 16 MiB binary messages compared byte for
 * byte, a ping whose pong must carry its payload, and a close 4000 "done" the peer must
 * answer with 4000, after which read_message gives NULL.
 *
 * Prints "ok STEP" for each step that passed; the first that fails prints "FAIL STEP:
 * why" on stderr and the program exits 1 (2 for bad usage). Every wait is bounded
 * (STEP_TIMEOUT), and so is the whole run, so it cannot hang whatever the peer does.
 */
#include "coro.h"
#include "ioloop.h"
#include "websocket.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP_TIMEOUT 30.0
#define RUN_TIMEOUT 100.0
#define MAX_MESSAGE ((uint64_t)17 << 20)
#define SMALL_FRAMES 16

/* What the peers send back, in fragments, for FRAGMENTED_ASK. */
#define FRAGMENTED_ASK "fragmented please"
#define FRAGMENTED_REPLY "fragmented reply in pieces: ünïcödé ✓ 你好"

static const char TEXT[] = "héllo, wörld — 你好, 世界 🌍";
static const char PING[] = "ping ☺ 42";

/* The pong on_pong saw, for the step that waits for it. */
struct pong {
    size_t len;
    char data[];
};

struct session {
    const char *url;
    websocket_t *ws;   /* the main connection */
    future_t *pong;    /* pending while a ping waits for its pong */
    char why[512];     /* the failed step's reason */
};

static bool failed(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool failed(struct session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
    return false;
}

/* Awaits f for at most STEP_TIMEOUT: no step can wait forever. */
static int await_step(future_t *f, void **result)
{
    return coro_await(coro_with_timeout(ioloop_time(ioloop_current()) + STEP_TIMEOUT, f), result);
}

static void on_pong(websocket_t *ws, const void *data, size_t len)
{
    struct session *s = websocket_data(ws);
    if (!s->pong || future_done(s->pong))
        return; /* a pong nobody asked for (RFC 6455 §5.5.3 allows them) */
    struct pong *p = malloc(sizeof *p + len);
    if (!p)
        abort();
    p->len = len;
    memcpy(p->data, data, len);
    future_set_result_owned(s->pong, p, free);
}

static const struct websocket_class with_pongs = {.on_pong = on_pong};

static bool connect_to(struct session *s, size_t frame_size, websocket_t **ws)
{
    struct websocket_connect_options o = {
        .cls = &with_pongs,
        .data = s,
        .ws = {.max_message_size = MAX_MESSAGE, .frame_size = frame_size},
    };
    if (await_step(websocket_connect(s->url, &o), (void **)ws))
        return failed(s, "connect to %s: %s", s->url, coro_error());
    return true;
}

/* The next message must be exactly (data, len, binary). */
static bool expect(struct session *s, websocket_t *ws, const void *data, size_t len, bool binary)
{
    struct websocket_message *m;
    if (await_step(websocket_read_message(ws), (void **)&m))
        return failed(s, "read: %s", coro_error());
    if (!m)
        return failed(s, "the connection closed instead (code %d \"%s\")",
                      websocket_close_code(ws), websocket_close_reason(ws));
    if (m->binary != binary)
        return failed(s, "a %s message came back for a %s one", m->binary ? "binary" : "text",
                      binary ? "binary" : "text");
    if (m->len != len)
        return failed(s, "%zu bytes came back for %zu", m->len, len);
    for (size_t i = 0; i < len; i++)
        if (m->data[i] != ((const char *)data)[i])
            return failed(s, "byte %zu differs: 0x%02x for 0x%02x", i, (uint8_t)m->data[i],
                          ((const uint8_t *)data)[i]);
    return true;
}

/* Sends a message and expects it back as it went. */
static bool echo(struct session *s, websocket_t *ws, const void *data, size_t len, bool binary)
{
    if (await_step(websocket_write_message(ws, data, len, binary), NULL))
        return failed(s, "write: %s", coro_error());
    return expect(s, ws, data, len, binary);
}

/* Closes with code and reason; the answer must carry the code, then read gives NULL. */
static bool close_with(struct session *s, websocket_t *ws, int code, const char *reason)
{
    if (websocket_close(ws, code, reason) < 0)
        return failed(s, "websocket_close: %s", strerror(errno));
    struct websocket_message *m;
    if (await_step(websocket_read_message(ws), (void **)&m))
        return failed(s, "read after close: %s", coro_error());
    if (m)
        return failed(s, "a message (%zu bytes) instead of the end", m->len);
    if (websocket_close_code(ws) != code)
        return failed(s, "the peer answered code %d \"%s\", not %d", websocket_close_code(ws),
                      websocket_close_reason(ws), code);
    return true;
}

/* ---- the steps ----------------------------------------------------------------------- */

static bool step_connect(struct session *s)
{
    return connect_to(s, 0, &s->ws);
}

static bool step_text(struct session *s)
{
    return echo(s, s->ws, TEXT, strlen(TEXT), false);
}

static bool step_binary(struct session *s)
{
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    return echo(s, s->ws, all, sizeof all, true);
}

static bool step_empty(struct session *s)
{
    return echo(s, s->ws, "", 0, false);
}

/* Many 16-byte frames, cutting UTF-8 sequences in two: the peer must join them. */
static bool step_fragmented_send(struct session *s)
{
    char text[40 * sizeof TEXT];
    size_t len = 0;
    for (int i = 0; i < 40; i++, len += strlen(TEXT))
        memcpy(text + len, TEXT, strlen(TEXT));
    websocket_t *ws;
    if (!connect_to(s, SMALL_FRAMES, &ws))
        return false;
    bool ok = echo(s, ws, text, len, false) && close_with(s, ws, 1000, NULL);
    websocket_free(ws);
    return ok;
}

/* The peer sends its reply in fragments; read_message must give it whole. */
static bool step_fragmented_receive(struct session *s)
{
    if (await_step(websocket_write_message(s->ws, FRAGMENTED_ASK, strlen(FRAGMENTED_ASK), false),
                   NULL))
        return failed(s, "write: %s", coro_error());
    return expect(s, s->ws, FRAGMENTED_REPLY, strlen(FRAGMENTED_REPLY), false);
}

/* len bytes of a pattern that does not repeat at any power of two (xorshift32), so a
 * block lost, doubled or out of place shows. */
static uint8_t *pattern(size_t len)
{
    uint8_t *p = malloc(len);
    if (!p)
        abort();
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
    return p;
}

static bool echo_big(struct session *s, size_t len)
{
    uint8_t *p = pattern(len);
    bool ok = echo(s, s->ws, p, len, true);
    free(p);
    return ok;
}

static bool step_1mib(struct session *s)
{
    return echo_big(s, (size_t)1 << 20);
}

static bool step_16mib(struct session *s)
{
    return echo_big(s, (size_t)16 << 20);
}

static bool step_ping(struct session *s)
{
    if (websocket_ping(s->ws, PING, strlen(PING)) < 0)
        return failed(s, "websocket_ping: %s", strerror(errno));
    s->pong = future_new("pong"); /* on_pong resolves it (not before we wait: one thread) */
    future_ref(s->pong);
    struct pong *p;
    bool ok = await_step(s->pong, (void **)&p) == 0;
    if (!ok)
        failed(s, "no pong: %s", coro_error());
    else if (p->len != strlen(PING) || memcmp(p->data, PING, p->len))
        ok = failed(s, "the pong carried \"%.*s\", not \"%s\"", (int)p->len, p->data, PING);
    future_unref(s->pong);
    s->pong = NULL;
    return ok;
}

static bool step_close(struct session *s)
{
    return close_with(s, s->ws, 4000, "done");
}

static const struct step {
    const char *name;
    bool (*run)(struct session *s);
} steps[] = {
    {"connect", step_connect},
    {"text", step_text},
    {"binary", step_binary},
    {"empty", step_empty},
    {"fragmented send", step_fragmented_send},
    {"fragmented receive", step_fragmented_receive},
    {"1 MiB", step_1mib},
    {"16 MiB", step_16mib},
    {"ping", step_ping},
    {"close 4000", step_close},
};

#define N_STEPS (sizeof steps / sizeof steps[0])

/* The steps in order, until one fails; the result is the failed step, or NULL. */
static void *script(void *arg)
{
    struct session *s = arg;
    for (size_t i = 0; i < N_STEPS; i++) {
        if (!steps[i].run(s))
            return (void *)&steps[i];
        printf("ok %s\n", steps[i].name);
        fflush(stdout);
    }
    return NULL;
}

static future_t *start(void *arg)
{
    return coro_spawn("ws_interop_client", script, arg);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s ws://HOST:PORT/PATH\n", argv[0]);
        return 2;
    }
    struct session s = {.url = argv[1]};
    ioloop_t *loop = ioloop_current();
    future_t *f = ioloop_run_sync(loop, start, &s, RUN_TIMEOUT);
    const struct step *bad = future_result(f);
    int status = 0;
    if (future_failed(f)) {
        fprintf(stderr, "FAIL: the script did not end: %s\n", future_error_message(f));
        status = 1;
    } else if (bad) {
        fprintf(stderr, "FAIL %s: %s\n", bad->name, s.why);
        status = 1;
    }
    future_unref(f);
    websocket_free(s.ws);
    /* After a failure its reader still waits: let it see the close and end (bounded). */
    for (int i = 0; i < 10 && coro_suspended_count(); i++)
        ioloop_run_once(loop);
    ioloop_free(loop);
    return status;
}
