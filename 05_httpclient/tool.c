/* tool — see tool.h. */
#include "tool.h"

#include "ioloop.h"

#include <errno.h>
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
