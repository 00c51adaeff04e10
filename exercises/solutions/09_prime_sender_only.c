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
 * Document 001 keeps a set of all its clients and walks it to find the sender; the chat
 * room's habit would send every answer to every client. Neither is needed: on_message is
 * called with the sender's own connection, so the answer goes there, and to no one else.
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

/* The answer goes back on the connection the question came on: the sender's. */
static void prime_message(websocket_t *ws, const struct websocket_message *m)
{
    const char *reply = answer(m);
    websocket_send(ws, reply, strlen(reply), false); /* a failure: ws is closing anyway */
}

/* Document 001 lets any page connect (its check_origin returns True). */
static bool any_origin(const handler_t *h, struct http1_str origin)
{
    (void)h;
    (void)origin;
    return true;
}

static const struct websocket_class primes = {.on_message = prime_message,
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
