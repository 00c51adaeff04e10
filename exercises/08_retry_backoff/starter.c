/* 08_retry_backoff — exercise 8 (lesson 05): retry with exponential back-off.
 *
 * Behind document 003's chaos proxy some requests never get an answer: the proxy
 * drops the connection where the response would begin (599 "Stream closed"). Such a
 * failure says nothing about the request, so the same request may well pass next
 * time: try again, but wait first, longer after each failure (0.1 s, 0.2 s, 0.4 s,
 * then 0.4 s again: the cap), so that a server in trouble is not hammered, and give up
 * after a few attempts. A 4xx is another matter: the server read the request and
 * refused it, and it will refuse the same request again, so it is not retried. Each
 * attempt prints a line; the sleeps are lesson_seconds, so --speed shortens them.
 * The starter: one attempt per lookup. exercises/08_retry_backoff/README.md says what
 * to do.
 */
#include "coro.h"
#include "ipservice.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#define MAX_ATTEMPTS 5
#define BACKOFF_FIRST 0.1 /* documented seconds before the first retry */
#define BACKOFF_MAX 0.4   /* the back-off doubles up to this */

/* The third is not an address: the service answers 400. */
static const char *const ips[] = {"14.130.112.24", "15.130.112.24", "14.130.112", "17.130.112.24",
                                  "114.114.114.114"};
enum { N_IPS = sizeof ips / sizeof ips[0] };

static httpclient_t *client;

/* Prints the answer of a fetch that succeeded. */
static void say_answer(int attempt, const struct httpclient_response *resp)
{
    struct ip_info info;
    ipservice_parse(resp, &info);
    char *line = ipservice_describe(&info);
    lesson_sayf("  attempt %d: %d %s", "  第 %d 次: %d %s", attempt, resp->code, line);
    free(line);
}

/* Looks ip up, one line per attempt; returns the number of attempts it took.
 *
 * TODO(exercise): one attempt only, so a lookup whose connection the proxy drops is
 * lost. Retry a fetch that may pass next time (no answer at all, code 599, or a 5xx),
 * never one the server refused (a 4xx). Wait before each retry, BACKOFF_FIRST seconds
 * the first time, twice as long each time after, at most BACKOFF_MAX (lesson_seconds,
 * so that --speed applies), and stop after MAX_ATTEMPTS attempts. One line per attempt:
 *   "  attempt N: CODE REASON, retry in MS ms"   before waiting to retry,
 *   "  attempt N: CODE REASON, not retried"      for an error that is not retried,
 *   "  attempt N: CODE REASON, giving up"        after the last attempt failed,
 * and say_answer's line for an answer. */
static int lookup(const char *ip)
{
    lesson_sayf("lookup %s", "查询 %s", ip);
    char *url = ipservice_url(ip);
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    int attempt = 1;
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(client, &req), (void **)&resp);
    if (resp->error == 0)
        say_answer(attempt, resp);
    else
        lesson_sayf("  attempt %d: %d %s, not retried", "  第 %d 次: %d %s, 不重试", attempt,
                    resp->code, resp->reason);
    free(url);
    return attempt;
}

static void *lookup_all(void *arg)
{
    (void)arg;
    int attempts = 0;
    for (int i = 0; i < N_IPS; i++)
        attempts += lookup(ips[i]);
    lesson_sayf("%d lookups, %d attempts", "%d 个查询, 共 %d 次尝试", N_IPS, attempts);
    return NULL;
}

static future_t *start(void *arg)
{
    return coro_spawn("lookup_all", lookup_all, arg);
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "exercise 8: IP lookups through the chaos proxy, retried with exponential\n"
                 "back-off when no answer came, never when the server refused (4xx).",
        .pool = true,
        .options = ipservice_options,
    };
    lesson_init(argc, argv, &info);
    ipservice_start(0);
    ioloop_t *loop = ioloop_current();
    client = httpclient_new(NULL);
    future_unref(ioloop_run_sync(loop, start, NULL, 0));
    httpclient_free(client);
    ioloop_free(loop);
    ipservice_stop();
    return lesson_exit();
}
