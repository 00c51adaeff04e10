/* 06_prime_server — document 001's prime-number WebSocket service, corrected.
 *
 *     06_prime_server [--address A] [--port N] [--lang en|zh]
 *
 * A client connects to ws://HOST:PORT/chatsocket and sends integers; each answer goes to
 * the sender alone: "is a prime number", "is not a prime number", or "Invalid input" for
 * what Python's int() would refuse (" 42 ", "+7" and "1_000_003" are numbers; "4.0",
 * "0x11" and "" are not). Document 001 finds the sender by walking the set of all
 * clients; a handler here simply answers on its own connection.
 *
 * The document's isPrime tries divisors in range(2, num // 2), which is empty for 4: it
 * calls 4 a prime. This one is right for every size: up to 2^64 by Miller-Rabin with the
 * first twelve primes as bases (deterministic below 3.3 * 10^24), and above by OpenSSL's
 * BN_check_prime (an error below 2^-128), which can take tens of milliseconds for a long
 * number — so those go to a pool of threads (Tornado's run_on_executor) while the loop
 * serves everyone else, and a connection's answers still come in the order it asked.
 * Numbers of more than 1000 digits are "Invalid input", a bound on that work.
 */
#include "coro.h"
#include "executor.h"
#include "httpserver.h"
#include "ioloop.h"
#include "tool.h"
#include "websocket.h"

#include <ctype.h>
#include <openssl/bn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIGITS 1000
#define PRIME "is a prime number"
#define NOT_PRIME "is not a prime number"
#define INVALID "Invalid input"

#define ABOUT "document 001's prime-number service: send an integer to\n"   \
    "ws://HOST:PORT/chatsocket, get back whether it is prime; serves until\n"   \
    "SIGINT or SIGTERM.\n"

static executor_t *pool; /* BN_check_prime for the long numbers */

/* ---- numbers ----------------------------------------------------------------------------- */

/* Python's int(text) for base 10: surrounding whitespace, a sign, digits with single
 * underscores between them. Writes the digits (no leading zeros, at least "0") to
 * digits and returns their count, or -1; *negative says the sign. */
static int parse_int(const char *text, size_t len, char *digits, size_t cap, bool *negative)
{
    const char *p = text, *end = text + len;
    while (p < end && isspace((unsigned char)*p))
        p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    *negative = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    size_t n = 0;
    bool digit_before = false;
    for (; p < end; p++) {
        if (*p == '_' && digit_before && p + 1 < end && isdigit((unsigned char)p[1])) {
            digit_before = false;
            continue;
        }
        if (!isdigit((unsigned char)*p))
            return -1;
        digit_before = true;
        if (n == 0 && *p == '0')
            continue; /* leading zeros: int("007") is 7 */
        if (n + 1 >= cap)
            return -2; /* too long */
        digits[n++] = *p;
    }
    if (!digit_before)
        return -1;
    if (n == 0)
        digits[n++] = '0';
    digits[n] = '\0';
    return (int)n;
}

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
    return (uint64_t)((unsigned __int128)a * b % m);
}

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m)
{
    uint64_t r = 1;
    for (b %= m; e; e >>= 1, b = mulmod(b, b, m))
        if (e & 1)
            r = mulmod(r, b, m);
    return r;
}

/* Miller-Rabin with the first twelve primes as bases: exact for every 64-bit n. */
static bool prime_u64(uint64_t n)
{
    static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    if (n < 2)
        return false;
    for (size_t i = 0; i < sizeof bases / sizeof *bases; i++)
        if (n % bases[i] == 0)
            return n == bases[i];
    uint64_t d = n - 1;
    int s = 0;
    for (; !(d & 1); d >>= 1)
        s++;
    for (size_t i = 0; i < sizeof bases / sizeof *bases; i++) {
        uint64_t x = powmod(bases[i], d, n);
        if (x == 1 || x == n - 1)
            continue;
        int r = 1;
        for (; r < s && (x = mulmod(x, x, n)) != n - 1; r++)
            ;
        if (r == s)
            return false;
    }
    return true;
}

/* On a pool thread: BN_check_prime of the digits (malloc'd), the answer as a pointer. */
static void *prime_big(void *arg)
{
    BIGNUM *n = NULL;
    BN_dec2bn(&n, arg);
    free(arg);
    BN_CTX *ctx = BN_CTX_new();
    int r = n && ctx ? BN_check_prime(n, ctx, NULL) : -1;
    BN_CTX_free(ctx);
    BN_free(n);
    return (void *)(r == 1 ? PRIME : r == 0 ? NOT_PRIME : INVALID);
}

/* The answer to one message; a long number waits for the pool. */
static const char *answer(const char *text, size_t len)
{
    char digits[MAX_DIGITS + 1];
    bool negative;
    int n = parse_int(text, len, digits, sizeof digits, &negative);
    if (n < 0)
        return INVALID;
    if (negative)
        return NOT_PRIME;
    if (n <= 19 || (n == 20 && strcmp(digits, "18446744073709551615") <= 0))
        return prime_u64(strtoull(digits, NULL, 10)) ? PRIME : NOT_PRIME;
    void *result;
    if (coro_await(executor_submit(pool, "BN_check_prime", prime_big, strdup(digits)), &result))
        return INVALID; /* the pool was stopped: we are shutting down */
    return result;
}

static void prime_message(websocket_t *ws, const struct websocket_message *m)
{
    const char *reply = m->binary ? INVALID : answer(m->data, m->len);
    future_unref(websocket_write_message(ws, reply, strlen(reply), false));
}

/* Document 001 lets any page connect (check_origin returns True). */
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
    pool = executor_new(2);
    int status = tool_serve(srv, address, port, "ws", "chatsocket");
    executor_free(pool); /* every connection has ended: its threads are idle */
    app_free(app);
    ioloop_free(ioloop_current());
    return status;
}
