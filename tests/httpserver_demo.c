/* httpserver_demo — the server httpserver_curl.sh (curl, wrk) and httpserver_peer.py
 * (Tornado's own client) talk to.
 *
 *     httpserver_demo [--processes N] [--xheaders] [--static DIR] [PORT]
 *
 * PORT 0 or none: a free port. --processes N forks N serving processes (0: one per
 * CPU) after binding, as Tornado's server.start(N); --xheaders trusts X-Real-IP and
 * friends; --static serves DIR under /static/. Prints "port N" once it listens, serves
 * until SIGTERM or SIGINT (the parent of --processes passes them on), then closes and
 * frees everything (so valgrind sees a clean exit). Routes:
 *     /              GET "Hello, world"
 *     /echo          POST echoes the body (chunked uploads too)
 *     /slow          a coroutine handler: sleeps 50 ms, then "slow"
 *     /later         asynchronous: finishes from a timer 20 ms later with "later"
 *     /chunks        flushes twice before finishing: a chunked response
 *     /user/([0-9]+) "user N": a captured group
 *     /redirect      302 to /
 *     /who           "IP PROTOCOL": handler_remote_ip and handler_protocol
 *     /pid           the serving process's pid
 *     /pid/block     the same after blocking its process 0.5 s (the other processes serve)
 *     /static/(.*)   the files under --static DIR
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

static void redirect_get(handler_t *h)
{
    handler_redirect(h, "/", false);
}

static void who_get(handler_t *h)
{
    char line[128];
    snprintf(line, sizeof line, "%s %s", handler_remote_ip(h), handler_protocol(h));
    write_str(h, line);
}

static void pid_get(handler_t *h)
{
    char line[32];
    if (strcmp(handler_path(h), "/pid/block") == 0)
        usleep(500000); /* blocks the whole process, on purpose */
    snprintf(line, sizeof line, "%d", (int)getpid());
    write_str(h, line);
}

static const struct handler_class hello = {.get = hello_get, .head = hello_get};
static const struct handler_class echo = {.post = echo_post};
static const struct handler_class slow = {.get = slow_get};
static const struct handler_class later = {.get = later_get};
static const struct handler_class chunks = {.get = chunks_get};
static const struct handler_class user = {.get = user_get};
static const struct handler_class redirect = {.get = redirect_get};
static const struct handler_class who = {.get = who_get};
static const struct handler_class pid = {.get = pid_get};

static void on_signal(int fd, int events, void *arg)
{
    (void)events;
    (void)arg;
    struct signalfd_siginfo si;
    if (read(fd, &si, sizeof si) > 0)
        ioloop_stop(ioloop_current());
}

static void usage(void)
{
    fprintf(stderr, "usage: httpserver_demo [--processes N] [--xheaders] [--static DIR] [PORT]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0, processes = 1;
    const char *static_dir = NULL;
    struct httpserver_options opt = {.idle_connection_timeout = 5, .max_body = 1 << 20};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--processes") == 0 && i + 1 < argc)
            processes = atoi(argv[++i]);
        else if (strcmp(argv[i], "--static") == 0 && i + 1 < argc)
            static_dir = argv[++i];
        else if (strcmp(argv[i], "--xheaders") == 0)
            opt.xheaders = true;
        else if (argv[i][0] == '-')
            usage();
        else
            port = atoi(argv[i]);
    }

    app_t *app = app_new();
    app_add(app, "/", &hello, NULL);
    app_add(app, "/echo", &echo, NULL);
    app_add(app, "/slow", &slow, NULL);
    app_add(app, "/later", &later, NULL);
    app_add(app, "/chunks", &chunks, NULL);
    app_add(app, "/user/([0-9]+)", &user, NULL);
    app_add(app, "/redirect", &redirect, NULL);
    app_add(app, "/who", &who, NULL);
    app_add(app, "/pid(/block)?", &pid, NULL);
    if (static_dir && app_add_static(app, "/static/(.*)", static_dir) < 0) {
        perror(static_dir);
        return 1;
    }
    /* bind, fork, then the loop: each process makes its own */
    httpserver_t *srv = httpserver_new(app, &opt);
    if (httpserver_bind(srv, "127.0.0.1", port, false) < 0) {
        perror("httpserver_demo");
        return 1;
    }
    printf("port %d\n", httpserver_port(srv));
    fflush(stdout);
    if (processes != 1 && httpserver_fork_processes(processes) < 0) {
        perror("fork");
        return 1;
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    ioloop_t *loop = ioloop_current();
    if (sfd < 0 || httpserver_start(srv) < 0) {
        perror("httpserver_demo");
        return 1;
    }
    ioloop_add_handler(loop, sfd, IOLOOP_READ, on_signal, NULL);
    ioloop_start(loop);

    httpserver_shutdown(srv);
    ioloop_remove_handler(loop, sfd);
    close(sfd);
    app_free(app);
    ioloop_free(loop);
    return 0;
}
