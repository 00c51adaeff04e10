/* 07_fetch_with_limit — exercise 7 (lesson 05): many lookups, at most three at a time.
 * The starter: it works, one lookup at a time. exercises/07_fetch_with_limit/README.md
 * says what to do.
 *
 * Twelve addresses to look up. Asked one by one they take twelve round trips; asked all
 * at once they put twelve requests on the service together, which a real service may
 * not welcome. Tornado's answer (the worker pool of tornado.queues' documentation): the
 * lookups go into a Queue, three worker coroutines take them one at a time, and a worker
 * starts its next lookup as soon as its last is back. A slow answer holds one worker
 * while the other two go on. The results are printed in the order of the list,
 * whatever order they came back in.
 */
#include "coro.h"
#include "ipservice.h"
#include "queue.h"

#include <stdlib.h>

#define WORKERS 3

static const char *const ips[] = {
    "14.130.112.24", "15.130.112.24",   "16.130.112.24", "17.130.112.24",
    "114.114.114.114", "202.96.128.86", "8.8.8.8",       "14.131.0.1",
    "192.168.1.1",   "15.1.2.3",        "17.253.144.10", "114.114.114.115",
};
enum { N_IPS = sizeof ips / sizeof ips[0] };

/* One address and what the service said about it. */
struct lookup {
    const char *ip;
    struct ip_info info;
};

static httpclient_t *client;

/* Asks the service where l->ip is; the answer (ret 0 if none came) goes to l->info. */
static void lookup_run(struct lookup *l)
{
    char *url = ipservice_url(l->ip);
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(client, &req), (void **)&resp);
    free(url);
    ipservice_parse(resp, &l->info);
}

/* Runs every lookup, WORKERS at a time; returns when all are done.
 *
 * TODO(exercise): this runs them one after another: twelve round trips in a row, never
 * more than one request in flight. Make it Tornado's worker pool (tornado.queues, and
 * 04_queue for the C API): put the lookups in a queue_t (queue.h), start WORKERS worker
 * coroutines that each take a lookup, run it and take the next, and return only when
 * every lookup is done and every worker has ended. Keep lookup_run as it is. */
static void *fetch_all(void *arg)
{
    struct lookup *lookups = arg;
    for (int i = 0; i < N_IPS; i++)
        lookup_run(&lookups[i]);
    return NULL;
}

static future_t *start(void *arg)
{
    return coro_spawn("fetch_all", fetch_all, arg);
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "exercise 7: twelve IP lookups, at most three in flight at once.\n"
                 "A queue and three worker coroutines, as in tornado.queues.",
        .pool = true,
        .options = ipservice_options,
    };
    lesson_init(argc, argv, &info);
    ipservice_start(lesson_seconds(1));
    ioloop_t *loop = ioloop_current();
    /* The client could queue requests itself (max_clients); it is given room for all
     * of them, so the limit is the program's own. */
    client = httpclient_new(&(struct httpclient_options){.max_clients = N_IPS});
    struct lookup lookups[N_IPS];
    for (int i = 0; i < N_IPS; i++)
        lookups[i] = (struct lookup){.ip = ips[i]};

    lesson_sayf("%d lookups, at most %d at a time", "%d 个查询, 同时最多 %d 个", N_IPS, WORKERS);
    future_unref(ioloop_run_sync(loop, start, lookups, 0));
    for (int i = 0; i < N_IPS; i++) {
        char *line = ipservice_describe(&lookups[i].info);
        lesson_sayf("%s: %s", "%s: %s", lookups[i].ip, line);
        free(line);
    }

    httpclient_free(client);
    ioloop_free(loop);
    ipservice_stop();
    return lesson_exit();
}
