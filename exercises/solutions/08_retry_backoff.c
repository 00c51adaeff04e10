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

/* 599: no answer came (reset, refused, timed out); 5xx: the server is in trouble. Both
 * may pass if tried again. Any other status is the server's answer to this request. */
static bool retryable(const struct httpclient_response *resp)
{
    return resp->code == 599 || resp->code >= 500;
}

/* Prints the answer of a fetch that succeeded. */
static void say_answer(int attempt, const struct httpclient_response *resp)
{
    struct ip_info info;
    ipservice_parse(resp, &info);
    char *line = ipservice_describe(&info);
    lesson_sayf("  attempt %d: %d %s", "  第 %d 次: %d %s", attempt, resp->code, line);
    free(line);
}

/* Looks ip up, one line per attempt; returns the number of attempts it took. */
static int lookup(const char *ip)
{
    lesson_sayf("lookup %s", "查询 %s", ip);
    char *url = ipservice_url(ip);
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    double backoff = BACKOFF_FIRST;
    int attempt;
    for (attempt = 1;; attempt++) {
        struct httpclient_response *resp;
        coro_await(httpclient_fetch(client, &req), (void **)&resp);
        if (resp->error == 0) {
            say_answer(attempt, resp);
            break;
        }
        if (!retryable(resp)) {
            lesson_sayf("  attempt %d: %d %s, not retried", "  第 %d 次: %d %s, 不重试", attempt,
                        resp->code, resp->reason);
            break;
        }
        if (attempt == MAX_ATTEMPTS) {
            lesson_sayf("  attempt %d: %d %s, giving up", "  第 %d 次: %d %s, 放弃", attempt,
                        resp->code, resp->reason);
            break;
        }
        lesson_sayf("  attempt %d: %d %s, retry in %g ms", "  第 %d 次: %d %s, %g 毫秒后重试",
                    attempt, resp->code, resp->reason, backoff * 1000);
        coro_await(coro_sleep(lesson_seconds(backoff)), NULL);
        backoff = fmin(backoff * 2, BACKOFF_MAX);
    }
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
