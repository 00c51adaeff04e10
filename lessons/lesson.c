/* lesson — see lesson.h. */
#include "lesson.h"

#include "gil.h"
#include "trace.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static bool in_zh;

static double speed_divisor = 1;

static const char *prog(void)
{
    return program_invocation_short_name;
}

__attribute__((noreturn, format(printf, 1, 2))) static void usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog());
    exit(2);
}

static void help(const struct lesson_info *info)
{
    printf("%s: %s\n\n", prog(), info->about);
    printf("Usage: %s [--lang en|zh] [--speed N] [--trace FILE]%s%s [--help]\n\n", prog(),
           info->threads ? " [--free-threads]" : "", info->options ? " [options]" : "");
    printf("  --lang en|zh    print in English (default) or the documents' Chinese [LESSON_LANG]\n"
           "  --speed N       run N times faster: every sleep is divided by N; the output\n"
           "                  stays the same (default 1) [LESSON_SPEED]\n"
           "  --trace FILE    record every event in FILE for the tracer [LESSON_TRACE]\n");
    if (info->threads)
        printf("  --free-threads  let the threads really run in parallel, without the GIL's\n"
               "                  hand-off: the order of the lines may change\n");
    for (const struct lesson_option *o = info->options; o && o->name; o++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-15s %s\n", flag, o->help);
    }
    printf("  --help          show this help\n");
}

/* A setting and where it came from (a flag or a variable), for the error messages. */
struct setting {
    const char *value;
    const char *source;
};

static bool parse_lang(struct setting lang)
{
    if (strcmp(lang.value, "en") && strcmp(lang.value, "zh"))
        usage_error("%s must be en or zh, not '%s'", lang.source, lang.value);
    return lang.value[0] == 'z';
}

static double parse_speed(struct setting speed)
{
    char *end;
    errno = 0;
    double v = strtod(speed.value, &end);
    if (end == speed.value || *end || errno || !isfinite(v) || v <= 0 || v > 1e6)
        usage_error("%s must be a number above 0 and at most 1000000, not '%s'", speed.source,
                    speed.value);
    return v;
}

/* An environment variable as a setting; value NULL when it is unset or empty. */
static struct setting env(const char *name)
{
    const char *v = getenv(name);
    return (struct setting){v && *v ? v : NULL, name};
}

#define LESSON_MAX_OPTIONS 8
#define OPT_OWN 1000 /* getopt's value for the program's own option i: OPT_OWN + i */

/* The common flags, then the program's own. */
static void options_make(const struct lesson_info *info, struct option *out)
{
    static const struct option common[] = {
        {"lang", required_argument, NULL, 'l'},  {"speed", required_argument, NULL, 's'},
        {"trace", required_argument, NULL, 't'}, {"free-threads", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
    };
    size_t n = sizeof common / sizeof common[0];
    memcpy(out, common, sizeof common);
    for (int i = 0; info->options && info->options[i].name; i++) {
        if (i == LESSON_MAX_OPTIONS) {
            fprintf(stderr, "%s: more than %d options of its own\n", prog(), LESSON_MAX_OPTIONS);
            exit(2);
        }
        const struct lesson_option *o = &info->options[i];
        out[n++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
                                   OPT_OWN + i};
    }
    out[n] = (struct option){NULL, 0, NULL, 0};
}

void lesson_init(int argc, char **argv, const struct lesson_info *info)
{
    struct option options[5 + LESSON_MAX_OPTIONS + 1];
    options_make(info, options);
    struct setting lang = env("LESSON_LANG"), speed = env("LESSON_SPEED");
    const char *trace = env("LESSON_TRACE").value;
    bool free_threads = false;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'l': lang = (struct setting){optarg, "--lang"}; break;
        case 's': speed = (struct setting){optarg, "--speed"}; break;
        case 't': trace = optarg; break;
        case 'f':
            if (!info->threads)
                usage_error("--free-threads: this program starts no threads");
            free_threads = true;
            break;
        case 'h': help(info); exit(0);
        case ':': usage_error("%s needs a value", argv[optind - 1]);
        default:
            if (c < OPT_OWN)
                usage_error("unknown option '%s'", argv[optind - 1]);
            if (!info->options[c - OPT_OWN].set(optarg))
                usage_error("--%s: bad value '%s'", info->options[c - OPT_OWN].name,
                            optarg ? optarg : "");
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    in_zh = lang.value && parse_lang(lang);
    double v = speed.value ? parse_speed(speed) : 1;
    if (trace) {
        char header[256];
        snprintf(header, sizeof header, "program=%s lang=%s speed=%g threads=%s", prog(),
                 in_zh ? "zh" : "en", v,
                 info->pool ? "pool" : !info->threads ? "none" : free_threads ? "free" : "gil");
        if (trace_open(trace, header) < 0)
            usage_error("cannot write the trace file '%s': %s", trace, strerror(errno));
    }
    speed_divisor = v;
    gil_init(free_threads, v);
    TRACE(TRACE_LANE_START, NULL, "main");
}

double lesson_seconds(double doc_seconds)
{
    return doc_seconds / speed_divisor;
}

static void say_line(const char *line)
{
    /* One lock around the line and its event: with free threads, lines stay whole and
     * the trace lists them in the order they were printed. */
    flockfile(stdout);
    fputs(line, stdout);
    putc('\n', stdout);
    fflush(stdout); /* a pipe (the runner) sees each line when it happens */
    TRACE(TRACE_PRINT, NULL, "%s", line);
    funlockfile(stdout);
}

void lesson_say(const char *en, const char *zh)
{
    say_line(lesson_text(en, zh));
}

const char *lesson_text(const char *en, const char *zh)
{
    return in_zh ? zh : en;
}

static void out_of_memory(void)
{
    fprintf(stderr, "%s: out of memory\n", prog());
    exit(1);
}

void *lesson_alloc(size_t size)
{
    void *p = malloc(size);
    if (!p)
        out_of_memory();
    return p;
}

void lesson_sayf_impl(const char *en_fmt, const char *zh_fmt, ...)
{
    char *line;
    va_list ap;
    va_start(ap, zh_fmt);
    int n = vasprintf(&line, in_zh ? zh_fmt : en_fmt, ap);
    va_end(ap);
    if (n < 0)
        out_of_memory();
    say_line(line);
    free(line);
}

void lesson_callback(const char *name)
{
    TRACE(TRACE_CALLBACK, NULL, "%s", name);
}

int lesson_exit(void)
{
    int status = 0;
    TRACE(TRACE_LANE_END, NULL, "%s", "");
    if (trace_close() < 0) {
        fprintf(stderr, "%s: the trace file is incomplete: %s\n", prog(), strerror(errno));
        status = 1;
    }
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "%s: cannot write the output\n", prog());
        status = 1;
    }
    return status;
}
