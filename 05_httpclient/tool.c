/* tool — see tool.h. */
#include "tool.h"

#include "ioloop.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static bool in_zh;

int tool_signals_fd(void)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
        return -1;
    return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

int tool_signal_read(int fd)
{
    struct signalfd_siginfo si;
    return read(fd, &si, sizeof si) == sizeof si ? (int)si.ssi_signo : 0;
}

void tool_stop_on_signal(int fd, int events, void *arg)
{
    (void)events;
    (void)arg;
    int sig = tool_signal_read(fd);
    if (sig) {
        fprintf(stderr, tool_text("%s: %s, closing\n", "%s: 收到 %s, 正在关闭\n"),
                program_invocation_short_name, strsignal(sig));
        ioloop_stop(ioloop_current());
    }
}

void tool_server_args(int argc, char **argv, const char *about, const char **address,
                      int *port)
{
    static const struct option options[] = {
        {"address", required_argument, NULL, 'a'}, {"port", required_argument, NULL, 'p'},
        {"lang", required_argument, NULL, 'l'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *lang = NULL, *name = program_invocation_short_name;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'a': *address = optarg; break;
        case 'p': *port = (int)tool_integer("--port", optarg, 0, 65535); break;
        case 'l': lang = optarg; break;
        case 'h':
            printf("%s: %s\nUsage: %s [--address A] [--port N] [--lang en|zh] [--help]\n\n"
                   "  --address A     listen on this address (default %s; \"\" for all)\n"
                   "  --port N        listen on this port (default %d; 0: any free port)\n"
                   "  --lang en|zh    messages in English (default) or Chinese [LESSON_LANG]\n"
                   "  --help          show this help\n",
                   name, about, name, *address, *port);
            exit(0);
        case ':': tool_usage_error("%s needs a value", argv[optind - 1]);
        default: tool_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        tool_usage_error("unexpected argument '%s'", argv[optind]);
    tool_set_lang(lang);
}

int tool_serve(httpserver_t *srv, const char *address, int port, const char *scheme,
               const char *path)
{
    int sfd = tool_signals_fd();
    if (sfd < 0 || httpserver_listen(srv, address, port) < 0) {
        fprintf(stderr, tool_text("%s: cannot listen on %s port %d: %m\n",
                                  "%s: 无法在 %s 端口 %d 上监听: %m\n"),
                program_invocation_short_name, address, port);
        if (sfd >= 0)
            close(sfd);
        return 1;
    }
    const char *host = *address ? address : "0.0.0.0";
    bool v6 = strchr(host, ':') != NULL; /* a URL writes an IPv6 address in brackets */
    printf(tool_text("listening on %s://%s%s%s:%d/%s\n", "正在监听 %s://%s%s%s:%d/%s\n"), scheme,
           v6 ? "[" : "", host, v6 ? "]" : "", httpserver_port(srv), path);
    fflush(stdout);
    ioloop_t *loop = ioloop_current();
    ioloop_add_handler(loop, sfd, IOLOOP_READ, tool_stop_on_signal, NULL);
    ioloop_start(loop);
    httpserver_shutdown(srv);
    ioloop_remove_handler(loop, sfd);
    close(sfd);
    return 0;
}

void tool_set_lang(const char *value)
{
    const char *source = "--lang";
    if (!value) {
        value = getenv("LESSON_LANG");
        source = "LESSON_LANG";
        if (!value || !*value)
            return;
    }
    if (strcmp(value, "en") && strcmp(value, "zh"))
        tool_usage_error("%s must be en or zh, not '%s'", source, value);
    in_zh = value[0] == 'z';
}

const char *tool_text(const char *en, const char *zh)
{
    return in_zh ? zh : en;
}

void tool_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", program_invocation_short_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", program_invocation_short_name);
    exit(2);
}

double tool_number(const char *flag, const char *text, double min, double max)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v) || v < min || v > max)
        tool_usage_error("%s must be a number from %g to %g, not '%s'", flag, min, max, text);
    return v;
}

long tool_integer(const char *flag, const char *text, long min, long max)
{
    double v = tool_number(flag, text, (double)min, (double)max);
    if (v != floor(v))
        tool_usage_error("%s must be a whole number, not '%s'", flag, text);
    return (long)v;
}
