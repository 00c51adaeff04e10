/* 05_sync_vs_async — lesson 05: one slow back-end, three handlers, measured (document 004).
 *
 * A server offers the same slow work three ways. Each route asks a back-end (another
 * server, standing for the documents' api.github.com) that answers 0.2 s later:
 *   /blocking   a plain blocking GET (the documents' requests.get): the loop's only
 *               thread waits in read(), so the server serves one request at a time;
 *   /coroutine  the AsyncHTTPClient, awaited: the loop serves the others meanwhile;
 *   /executor   the same blocking GET on a pool of 10 threads (run_on_executor), awaited.
 * A load generator (an AsyncHTTPClient, max_clients 50) sends 50 requests at once to each
 * route in turn and prints the requests per second and the latencies side by side.
 *
 * Three loops on three threads: the load generator on main, the server on "server", the
 * back-end on "backend". The back-end is another host in the document; on the server's
 * own loop, a blocking handler would stop the very back-end it waits for.
 *
 * The printed times are documented seconds, counted rather than measured, so that they
 * are the same at every --speed and on a loaded machine (0.2 s is 1 ms at speed 200,
 * where the OS's delays alone exceed it). Every message carries the documented time it
 * was sent at (X-Doc-Time, in ms), and the time only moves where work takes time:
 *   - the back-end answers a request sent at t with t + 0.2 s;
 *   - a handler starts at max(the time its request was sent, the time the loop is free
 *     again); a blocking call makes the loop free only when it returns, so the server's
 *     50 blocking GETs end at 0.2, 0.4, ... 10 s, while 50 awaited fetches all start at 0;
 *   - a pool thread takes one job at a time: a job starts when its request arrives or
 *     when the thread that frees first is free, whichever is later (10 jobs per 0.2 s).
 * --measure adds the real times, which vary from run to run (a test checks their ratios).
 */
#include "coro.h"
#include "executor.h"
#include "httpclient.h"
#include "httpserver.h"
#include "lesson.h"
#include "trace.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DELAY_MS 200  /* the back-end's answer takes 0.2 documented seconds */
#define REQUESTS 50   /* per route, all at once */
#define POOL 10       /* the documents' ThreadPoolExecutor(10) */

static bool measure;

/* ---- documented time, carried in the X-Doc-Time header ----------------------------- */

static long doc_time_of(const char *text)
{
    return text ? strtol(text, NULL, 10) : 0;
}

/* The documented time the request was sent at (0 without the header). */
static long request_doc_time(const handler_t *h)
{
    struct http1_str v = handler_header(h, "X-Doc-Time");
    char text[24] = "";
    if (v.p && v.len < sizeof text)
        memcpy(text, v.p, v.len);
    return doc_time_of(text);
}

static void answer(handler_t *h, long doc_ms, const char *body)
{
    char text[24];
    snprintf(text, sizeof text, "%ld", doc_ms);
    handler_set_header(h, "X-Doc-Time", text);
    handler_write(h, body, strlen(body));
}

/* ---- the back-end: answers every request 0.2 s later ------------------------------- */

static void slow_get(handler_t *h)
{
    long sent = request_doc_time(h);
    coro_await(coro_sleep(lesson_seconds(DELAY_MS / 1000.0)), NULL);
    char body[24];
    snprintf(body, sizeof body, "%ld", sent + DELAY_MS);
    answer(h, sent + DELAY_MS, body);
}

static const struct handler_class slow = {.get = slow_get};

/* ---- a blocking GET, as requests.get does it -------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
    for (ssize_t w; n > 0; p += w, n -= (size_t)w)
        if ((w = write(fd, p, n)) <= 0)
            return -1;
    return 0;
}

/* Reads until the peer closes (or size - 1 bytes), and NUL-terminates. */
static void read_all(int fd, char *buf, size_t size)
{
    size_t len = 0;
    for (ssize_t r; len < size - 1 && (r = read(fd, buf + len, size - 1 - len)) > 0;)
        len += (size_t)r;
    buf[len] = 0;
}

/* Connects, sends, reads until the back-end closes: the calling thread waits in each
 * call, and nothing else runs on it meanwhile. Returns the back-end's body (the
 * documented time it answered at), or -1. */
static long blocking_get(int port, long sent)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "GET /slow HTTP/1.0\r\nX-Doc-Time: %ld\r\n\r\n", sent);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    bool sent_ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
                   write_all(fd, buf, (size_t)n) == 0;
    buf[0] = 0;
    if (sent_ok)
        read_all(fd, buf, sizeof buf);
    close(fd);
    int code = 0;
    const char *body = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/%*s %d", &code) != 1 || code != 200 || !body)
        return -1;
    return doc_time_of(body + 4);
}

/* ---- the server: the same work three ways ------------------------------------------ */

/* The server thread's own (main fills in the back-end before starting that thread). */
static struct server {
    int backend_port;
    char backend_url[64];
    httpclient_t *client;
    executor_t *pool;
    long loop_free_at;         /* documented time the loop is free again */
    long thread_free_at[POOL]; /* ... and each pool thread */
} server;

/* The documented time a handler starts: its request is there and the loop is free. */
static long handler_start(const handler_t *h)
{
    long sent = request_doc_time(h);
    return sent > server.loop_free_at ? sent : server.loop_free_at;
}

static void blocking_handler(handler_t *h)
{
    long start = handler_start(h);
    /* For the tracer, a blocked lane is a sleeping one: nothing else runs on the thread. */
    TRACE(TRACE_SLEEP_BEGIN, NULL, "%g", DELAY_MS / 1000.0);
    long done = blocking_get(server.backend_port, start);
    TRACE(TRACE_SLEEP_END, NULL, "%g", DELAY_MS / 1000.0);
    if (done < 0) {
        handler_send_error(h, 502);
        return;
    }
    server.loop_free_at = done;
    answer(h, done, "It works");
}

static void coroutine_handler(handler_t *h)
{
    char sent[24];
    snprintf(sent, sizeof sent, "%ld", handler_start(h));
    struct httpclient_header header = {"X-Doc-Time", sent};
    struct httpclient_request req;
    httpclient_request_init(&req, server.backend_url);
    req.headers = &header;
    req.n_headers = 1;
    req.connect_timeout = req.request_timeout = 0; /* a slow --speed must not time out */
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(server.client, &req), (void **)&resp);
    if (resp->error) {
        handler_send_error(h, 502);
        return;
    }
    answer(h, doc_time_of(resp->body), "It works");
}

struct job {
    int port;
    long start;
};

/* On a pool thread: blocking is allowed here. */
static void *blocking_job(void *arg)
{
    const struct job *job = arg;
    return (void *)(intptr_t)blocking_get(job->port, job->start);
}

/* The documented time the job starts: on the pool thread that is free first. */
static long pool_start(long arrived)
{
    size_t first = 0;
    for (size_t i = 1; i < POOL; i++)
        if (server.thread_free_at[i] < server.thread_free_at[first])
            first = i;
    long start = arrived > server.thread_free_at[first] ? arrived : server.thread_free_at[first];
    server.thread_free_at[first] = start + DELAY_MS;
    return start;
}

static void executor_handler(handler_t *h)
{
    struct job job = {server.backend_port, pool_start(handler_start(h))};
    void *done;
    if (coro_await(executor_submit(server.pool, "blocking_get", blocking_job, &job), &done) != 0 ||
        (intptr_t)done < 0) {
        handler_send_error(h, 502);
        return;
    }
    answer(h, (intptr_t)done, "It works");
}

static const struct handler_class blocking = {.get = blocking_handler};
static const struct handler_class coroutine = {.get = coroutine_handler};
static const struct handler_class executor = {.get = executor_handler};

static void server_open(void)
{
    struct httpclient_options opts = {.max_clients = REQUESTS};
    server.client = httpclient_new(&opts);
    server.pool = executor_new(POOL);
    if (!server.client || !server.pool)
        abort();
}

static void server_close(void)
{
    httpclient_free(server.client);
    executor_free(server.pool);
}

/* ---- a server on a loop of its own thread ------------------------------------------ */

struct server_thread {
    const char *name;              /* its lane in the trace */
    app_t *app;
    httpserver_t *srv;             /* bound by main, started on the thread's loop */
    void (*open)(void), (*close)(void); /* what else lives on that loop */
    ioloop_t *loop;
    sem_t ready;
    pthread_t id;
};

static void *server_thread_main(void *arg)
{
    struct server_thread *t = arg;
    trace_set_thread(t->name);
    TRACE(TRACE_LANE_START, NULL, "thread");
    t->loop = ioloop_current();
    if (t->open)
        t->open();
    if (httpserver_start(t->srv) < 0)
        abort();
    sem_post(&t->ready);
    ioloop_start(t->loop);
    httpserver_shutdown(t->srv);
    if (t->close)
        t->close();
    ioloop_free(t->loop);
    TRACE(TRACE_LANE_END, NULL, "%s", "");
    return NULL;
}

/* Binds a server for app on 127.0.0.1 (any free port) and runs it on thread t->name. */
static int server_thread_start(struct server_thread *t)
{
    t->srv = httpserver_new(t->app, NULL);
    if (httpserver_bind(t->srv, "127.0.0.1", 0, false) < 0 || sem_init(&t->ready, 0, 0) < 0)
        abort();
    TRACE(TRACE_SPAWN, t->name, "thread");
    if (pthread_create(&t->id, NULL, server_thread_main, t) != 0)
        abort();
    while (sem_wait(&t->ready) < 0)
        ;
    return httpserver_port(t->srv);
}

static void stop_loop(void *arg)
{
    (void)arg;
    ioloop_stop(ioloop_current());
}

static void server_thread_stop(struct server_thread *t)
{
    ioloop_add_callback(t->loop, stop_loop, NULL);
    TRACE(TRACE_JOIN_BEGIN, t->name, "%s", "");
    pthread_join(t->id, NULL);
    TRACE(TRACE_JOIN_END, t->name, "%s", "");
    sem_destroy(&t->ready);
    app_free(t->app);
}

/* ---- the load generator ------------------------------------------------------------ */

struct route {
    const char *path;
    long doc_ms[REQUESTS]; /* each request's latency, documented, sorted */
    long total_ms;         /* from sending them all to the last answer */
    double real[REQUESTS]; /* the same measured, in real seconds */
    double real_total;
};

static int by_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sends the requests all at once at documented time sent, and waits for every answer. */
static void route_run(struct route *r, httpclient_t *client, int port, long sent)
{
    char url[64], sent_text[24];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, r->path);
    snprintf(sent_text, sizeof sent_text, "%ld", sent);
    struct httpclient_header header = {"X-Doc-Time", sent_text};
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    req.headers = &header;
    req.n_headers = 1;
    req.connect_timeout = req.request_timeout = 0;

    future_t *fetches[REQUESTS];
    double t0 = ioloop_time(ioloop_current());
    for (size_t i = 0; i < REQUESTS; i++)
        fetches[i] = httpclient_fetch(client, &req);
    void *all;
    coro_await(coro_multi(fetches, REQUESTS), &all);
    r->real_total = ioloop_time(ioloop_current()) - t0;
    struct httpclient_response **resp = all;
    for (size_t i = 0; i < REQUESTS; i++) {
        const char *done = httpclient_response_header(resp[i], "X-Doc-Time");
        if (resp[i]->error || !done)
            lesson_sayf("GET %s: %s", "GET %s: %s", r->path, resp[i]->error_message);
        r->doc_ms[i] = doc_time_of(done) - sent;
        r->real[i] = resp[i]->request_time;
        r->total_ms = r->doc_ms[i] > r->total_ms ? r->doc_ms[i] : r->total_ms;
    }
    qsort(r->doc_ms, REQUESTS, sizeof r->doc_ms[0], by_long);
    qsort(r->real, REQUESTS, sizeof r->real[0], by_double);
}

/* The middle of a sorted even-sized list. */
static double median_ms(const long *ms)
{
    return (ms[REQUESTS / 2 - 1] + ms[REQUESTS / 2]) / 2.0;
}

/* One row of the table: documented seconds, then with --measure the real ones. */
static void route_print(const struct route *r)
{
    lesson_sayf("%-12s%11.1f%13.1f s%7.1f s%7.1f s", "%-12s%11.1f%13.1f 秒%7.1f 秒%7.1f 秒",
                r->path, REQUESTS * 1000.0 / r->total_ms, r->doc_ms[0] / 1000.0,
                median_ms(r->doc_ms) / 1000.0, r->doc_ms[REQUESTS - 1] / 1000.0);
    if (measure)
        lesson_sayf("  measured  %11.1f%13.3f s%7.3f s%7.3f s",
                    "  实测      %11.1f%13.3f 秒%7.3f 秒%7.3f 秒", REQUESTS / r->real_total,
                    r->real[0], (r->real[REQUESTS / 2 - 1] + r->real[REQUESTS / 2]) / 2,
                    r->real[REQUESTS - 1]);
}

static struct route routes[] = {
    {.path = "/blocking"}, {.path = "/coroutine"}, {.path = "/executor"},
};
#define NROUTES (sizeof routes / sizeof routes[0])

static void *load(void *arg)
{
    int port = *(int *)arg;
    struct httpclient_options opts = {.max_clients = REQUESTS};
    httpclient_t *client = httpclient_new(&opts);
    if (!client)
        abort();
    lesson_sayf("%d requests at once to each route; the back-end answers each %g s later.",
                "每个路由同时收到 %d 个请求; 后端对每个请求都在 %g 秒后应答.", REQUESTS,
                DELAY_MS / 1000.0);
    long now = 0; /* the documented clock: each route's turn starts where the last ended */
    for (size_t i = 0; i < NROUTES; i++) {
        route_run(&routes[i], client, port, now);
        now += routes[i].total_ms;
        lesson_sayf("GET %s: %d requests in %.1f s", "GET %s: %d 个请求用时 %.1f 秒",
                    routes[i].path, REQUESTS, routes[i].total_ms / 1000.0);
    }
    lesson_say("route         requests/s  latency: min   median      max",
               "路由         每秒请求数      延迟: 最短      中位      最长");
    for (size_t i = 0; i < NROUTES; i++)
        route_print(&routes[i]);
    httpclient_free(client);
    return NULL;
}

static future_t *start(void *arg)
{
    return coro_spawn("load", load, arg);
}

static bool set_measure(const char *value)
{
    (void)value;
    measure = true;
    return true;
}

int main(int argc, char **argv)
{
    static const struct lesson_option options[] = {
        {"measure", NULL, "also print the real times (they vary from run to run)", set_measure},
        {NULL, NULL, NULL, NULL},
    };
    static const struct lesson_info info = {
        .about = "a blocking handler against a coroutine and a thread pool (document 004).\n"
                 "50 requests at once: blocking serves one at a time, the others all together.",
        .pool = true,
        .options = options,
    };
    lesson_init(argc, argv, &info);

    struct server_thread backend = {.name = "backend", .app = app_new()};
    app_add(backend.app, "/slow", &slow, NULL);
    server.backend_port = server_thread_start(&backend);
    snprintf(server.backend_url, sizeof server.backend_url, "http://127.0.0.1:%d/slow",
             server.backend_port);

    struct server_thread front = {.name = "server", .app = app_new(), .open = server_open,
                                  .close = server_close};
    app_add(front.app, "/blocking", &blocking, NULL);
    app_add(front.app, "/coroutine", &coroutine, NULL);
    app_add(front.app, "/executor", &executor, NULL);
    int port = server_thread_start(&front);

    ioloop_t *loop = ioloop_current();
    future_unref(ioloop_run_sync(loop, start, &port, 0));
    server_thread_stop(&front);
    server_thread_stop(&backend);
    ioloop_free(loop);
    return lesson_exit();
}
