/* httpserver_demo — the server httpserver_curl.sh talks to with real curl.
 *
 *     httpserver_demo [PORT]      (0 or nothing: a free port)
 *
 * Prints "port N" once it listens, serves until SIGTERM or SIGINT, then closes and
 * frees everything (so valgrind sees a clean exit). Routes:
 *     /              GET "Hello, world"
 *     /echo          POST echoes the body (chunked uploads too)
 *     /slow          a coroutine handler: sleeps 50 ms, then "slow"
 *     /later         asynchronous: finishes from a timer 20 ms later with "later"
 *     /chunks        flushes twice before finishing: a chunked response
 *     /user/([0-9]+) "user N": a captured group
 */
#include "coro.h"
#include "httpserver.h"
#include "ioloop.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void write_str(handler_t *h, const char *s)
{
    handler_write(h, s, strlen(s));
}

static void hello_get(handler_t *h)
{
    write_str(h, "Hello, world");
}

static void echo_post(handler_t *h)
{
    size_t len;
    const char *body = handler_body(h, &len);
    handler_set_header(h, "Content-Type", "application/octet-stream");
    handler_write(h, body, len);
}

static void slow_get(handler_t *h)
{
    coro_await(coro_sleep(0.05), NULL); /* the handler runs in the connection's coroutine */
    write_str(h, "slow");
}

static void later_done(void *arg)
{
    handler_t *h = arg;
    write_str(h, "later");
    handler_finish(h);
}

static void later_get(handler_t *h)
{
    handler_asynchronous(h); /* @tornado.web.asynchronous: we finish from the timer */
    ioloop_call_later(ioloop_current(), 0.02, "later", later_done, h);
}

static void chunks_get(handler_t *h)
{
    write_str(h, "first ");
    coro_await(handler_flush(h), NULL);
    write_str(h, "second ");
    coro_await(handler_flush(h), NULL);
    write_str(h, "last");
}

static void user_get(handler_t *h)
{
    char line[64];
    snprintf(line, sizeof line, "user %s", handler_arg(h, 0));
    write_str(h, line);
}

static const struct handler_class hello = {.get = hello_get, .head = hello_get};
static const struct handler_class echo = {.post = echo_post};
static const struct handler_class slow = {.get = slow_get};
static const struct handler_class later = {.get = later_get};
static const struct handler_class chunks = {.get = chunks_get};
static const struct handler_class user = {.get = user_get};

static void on_signal(int fd, int events, void *arg)
{
    (void)events;
    (void)arg;
    struct signalfd_siginfo si;
    if (read(fd, &si, sizeof si) > 0)
        ioloop_stop(ioloop_current());
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

    ioloop_t *loop = ioloop_current();
    app_t *app = app_new();
    app_add(app, "/", &hello, NULL);
    app_add(app, "/echo", &echo, NULL);
    app_add(app, "/slow", &slow, NULL);
    app_add(app, "/later", &later, NULL);
    app_add(app, "/chunks", &chunks, NULL);
    app_add(app, "/user/([0-9]+)", &user, NULL);
    struct httpserver_options opt = {.idle_connection_timeout = 5, .max_body = 1 << 20};
    httpserver_t *srv = httpserver_new(app, &opt);
    if (sfd < 0 || httpserver_listen(srv, "127.0.0.1", port) < 0) {
        perror("httpserver_demo");
        return 1;
    }
    printf("port %d\n", httpserver_port(srv));
    fflush(stdout);
    ioloop_add_handler(loop, sfd, IOLOOP_READ, on_signal, NULL);
    ioloop_start(loop);

    /* Close the connections and let their coroutines end before freeing the loop. */
    httpserver_close(srv);
    while (httpserver_connections(srv) > 0)
        ioloop_run_once(loop);
    httpserver_free(srv);
    ioloop_remove_handler(loop, sfd);
    close(sfd);
    app_free(app);
    ioloop_free(loop);
    return 0;
}
