/* 09_prime_sender_only — exercise 9: document 001's prime-number service, written the way
 * the chat room was.
 *
 *     09_prime_sender_only [--address A] [--port N] [--lang en|zh]
 *
 * A client connects to ws://HOST:PORT/chatsocket and sends integers; each answer is "is a
 * prime number", "is not a prime number", or "Invalid input" for anything but an optional
 * '-' and 1 to 12 digits. The primality test is plain trial division, right for every
 * number it takes: 12 digits need at most a million divisions, a few milliseconds of
 * the loop's time, so no question holds up the others for long.
 *
 * This version keeps a list of its clients, as 06_chat_server keeps its users, and it
 * has the chat room's habit: every answer goes to every client. Two people asking at once
 * each see the other's answers mixed in with their own. The exercise: an answer goes to
 * the client who asked, and to no one else.
 */
#include "httpserver.h"
#include "ioloop.h"
#include "tool.h"
#include "websocket.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIGITS 12
#define PRIME "is a prime number"
#define NOT_PRIME "is not a prime number"
#define INVALID "Invalid input"

#define ABOUT "exercise 9: document 001's prime-number service. Send an integer to\n" \
    "ws://HOST:PORT/chatsocket, get back whether it is prime; serves until SIGINT or SIGTERM.\n"

/* ---- numbers ----------------------------------------------------------------------------- */

/* An optional '-' and 1 to MAX_DIGITS digits, nothing else around them, into *n. */
static bool parse_number(const char *text, size_t len, long long *n)
{
    size_t i = len > 0 && text[0] == '-';
    size_t digits = len - i;
    if (digits < 1 || digits > MAX_DIGITS)
        return false;
    for (size_t j = i; j < len; j++)
        if (!isdigit((unsigned char)text[j]))
            return false;
    *n = strtoll(text, NULL, 10); /* the message's data ends in a NUL */
    return true;
}

/* Trial division up to the square root: d * d cannot overflow below 10^12. */
static bool is_prime(long long n)
{
    if (n < 2)
        return false;
    for (long long d = 2; d * d <= n; d++)
        if (n % d == 0)
            return false;
    return true;
}

static const char *answer(const struct websocket_message *m)
{
    long long n;
    if (m->binary || !parse_number(m->data, m->len, &n))
        return INVALID;
    return is_prime(n) ? PRIME : NOT_PRIME;
}

/* ---- the service ------------------------------------------------------------------------- */

/* Every client connected now, as the chat room's users (document 001's
 * TornadoWebSocket.clients). */
struct client {
    websocket_t *ws;
    struct client *prev, *next;
};

static struct client *clients;

static void prime_open(websocket_t *ws)
{
    struct client *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->ws = ws;
    c->next = clients;
    if (clients)
        clients->prev = c;
    clients = c;
    websocket_set_data(ws, c);
}

static void prime_close(websocket_t *ws)
{
    struct client *c = websocket_data(ws);
    *(c->prev ? &c->prev->next : &clients) = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

/* The chat room's broadcast: a copy of the text for every client. */
static void send_to_all(const char *text)
{
    for (struct client *c = clients; c; c = c->next)
        websocket_send(c->ws, text, strlen(text), false); /* a failure closes only c */
}

static void prime_message(websocket_t *ws, const struct websocket_message *m)
{
    (void)ws;
    /* TODO(exercise): this answer is for the client who asked, but every client gets
     * it. Make only the sender get it (and tidy up what that leaves unused). */
    send_to_all(answer(m));
}

/* Document 001 lets any page connect (its check_origin returns True). */
static bool any_origin(const handler_t *h, struct http1_str origin)
{
    (void)h;
    (void)origin;
    return true;
}

static const struct websocket_class primes = {.open = prime_open,
                                              .on_message = prime_message,
                                              .on_close = prime_close,
                                              .check_origin = any_origin};

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *address = "127.0.0.1";
    int port = 8888;
    tool_server_args(argc, argv, ABOUT, &address, &port);
    app_t *app = app_new();
    websocket_route(app, "/chatsocket", &primes,
                    &(struct websocket_options){.max_message_size = 4096}, NULL);
    httpserver_t *srv = httpserver_new(app, NULL);
    int status = tool_serve(srv, address, port, "ws", "chatsocket");
    app_free(app);
    ioloop_free(ioloop_current());
    return status;
}
