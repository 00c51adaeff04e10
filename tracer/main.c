/* asynctrace — records, draws and exports how a lesson's threads and coroutines take turns.
 *
 * The commands: record a lesson with its trace on, view a trace in the terminal (ncurses),
 * print it as a plain-text swimlane diagram or a task table, export it for Perfetto.
 * With a program instead of a command, it records the program and opens the viewer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chrome.h"
#include "model.h"
#include "record.h"
#include "text.h"
#include "tracefile.h"
#include "view.h"

static const char usage_text[] =
    "Usage: asynctrace PROGRAM [ARGS...]            run a lesson traced, then view its trace\n"
    "       asynctrace record -o FILE -- PROGRAM [ARGS...]\n"
    "       asynctrace view [OPTIONS] FILE           the swimlanes in the terminal\n"
    "       asynctrace text [OPTIONS] FILE           the swimlanes as plain text\n"
    "       asynctrace tasks [OPTIONS] FILE          the task table and its warnings\n"
    "       asynctrace export --chrome OUT.json FILE for Perfetto or chrome://tracing\n"
    "\n"
    "Who runs when in a lesson program: one column per thread or coroutine, time going\n"
    "down, printed lines as labels, arrows where one lane resumes or wakes another.\n"
    "\n"
    "  --logical-time   number the events instead of timing them: the output is the same\n"
    "                   on every run of a program (text, tasks, view)\n"
    "  --ascii          ASCII glyphs only (text, tasks, view)\n"
    "  --no-color       no colours (view)\n"
    "  --width N        the text's columns (default 80)\n"
    "  --block-ms N     a coroutine running longer than N document ms without yielding\n"
    "                   blocked the loop (default 100)\n"
    "  --help           show this help\n"
    "\n"
    "PROGRAM is looked for beside asynctrace (build/bin) first. The viewer's keys: press ?\n"
    "in it, or read tracer/README.md. The trace format: lessons/TRACE_FORMAT.md.\n";

struct options {
    bool logical, ascii, color;
    int width;
    double block_ms;
    const char *chrome, *output, *file;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "asynctrace: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'asynctrace --help'.\n");
    return 2;
}

/* Reads a number in [LO, HI] from S. */
static bool parse_number(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end || d < lo || d > hi)
        return false;
    *out = d;
    return true;
}

/* Options that take a value; returns the number of arguments used, or -1. */
static int value_option(struct options *o, int argc, char **argv, int i)
{
    const char *name = argv[i];
    if (i + 1 >= argc)
        return usage_error("%s needs a value", name), -1;
    const char *value = argv[i + 1];
    double d;
    if (strcmp(name, "--width") == 0) {
        if (!parse_number(value, 20, 1000, &d))
            return usage_error("--width must be a number of columns from 20 to 1000, not '%s'", value), -1;
        o->width = (int)d;
    } else if (strcmp(name, "--block-ms") == 0) {
        if (!parse_number(value, 0, 1e9, &d))
            return usage_error("--block-ms must be a number of milliseconds, not '%s'", value), -1;
        o->block_ms = d;
    } else if (strcmp(name, "--chrome") == 0) {
        o->chrome = value;
    } else {
        o->output = value;
    }
    return 2;
}

/* Parses a command's options and its FILE. Returns 0, or the exit status of a refusal. */
static int parse_options(struct options *o, int argc, char **argv)
{
    *o = (struct options){.color = true, .width = 80, .block_ms = 100};
    for (int i = 1; i < argc;) {
        const char *a = argv[i];
        if (strcmp(a, "--logical-time") == 0)
            o->logical = true, i++;
        else if (strcmp(a, "--ascii") == 0)
            o->ascii = true, i++;
        else if (strcmp(a, "--no-color") == 0 || strcmp(a, "--no-colour") == 0)
            o->color = false, i++;
        else if (strcmp(a, "--width") == 0 || strcmp(a, "--block-ms") == 0 || strcmp(a, "--chrome") == 0 ||
                 strcmp(a, "-o") == 0) {
            int used = value_option(o, argc, argv, i);
            if (used < 0)
                return 2;
            i += used;
        } else if (a[0] == '-' && a[1])
            return usage_error("unknown option '%s'", a);
        else if (o->file)
            return usage_error("one trace file at a time, not also '%s'", a);
        else
            o->file = argv[i++];
    }
    if (!o->file)
        return usage_error("%s needs a trace FILE", argv[0]);
    return 0;
}

/* Loads the trace and its model; reports what the reader skipped. */
static int load(const struct options *o, struct tracefile *tf, struct model *m)
{
    char err[512];
    if (tracefile_load(tf, o->file, err, sizeof err) < 0) {
        fprintf(stderr, "asynctrace: %s\n", err);
        return -1;
    }
    if (tracefile_problems(tf, err, sizeof err))
        fprintf(stderr, "asynctrace: %s: %s\n", o->file, err);
    struct model_options mo = {.block_ms = o->block_ms, .logical = o->logical};
    if (model_build(m, tf, &mo) < 0) {
        fprintf(stderr, "asynctrace: %s: out of memory\n", o->file);
        tracefile_free(tf);
        return -1;
    }
    return 0;
}

/* Opens OUT for writing ("-": standard output). */
static FILE *open_output(const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "asynctrace: %s: %s\n", path, strerror(errno));
    return f;
}

/* view, text, tasks and export: load FILE, then draw or write it. */
static int show(const char *command, int argc, char **argv)
{
    struct options o;
    int rc = parse_options(&o, argc, argv);
    if (rc)
        return rc;
    if (strcmp(command, "export") == 0 && !o.chrome)
        return usage_error("%s needs --chrome OUT.json", command);
    struct tracefile tf;
    struct model m;
    if (load(&o, &tf, &m) < 0)
        return 1;
    struct text_options to = {.width = o.width, .ascii = o.ascii, .logical = o.logical};
    if (strcmp(command, "text") == 0) {
        rc = text_write(stdout, &m, &to);
    } else if (strcmp(command, "tasks") == 0) {
        rc = text_write_tasks(stdout, &m, &to);
    } else if (strcmp(command, "export") == 0) {
        FILE *out = open_output(o.chrome);
        rc = out ? chrome_write(out, &m) : -1;
        if (out && out != stdout && fclose(out) != 0)
            rc = -1;
    } else {
        struct view_options vo = {.color = o.color, .ascii = o.ascii, .logical = o.logical};
        rc = view_run(&m, &vo);
        if (rc < 0)
            fprintf(stderr, "asynctrace: view needs a terminal (try asynctrace text)\n");
    }
    if (fflush(stdout) != 0)
        rc = -1;
    model_free(&m);
    tracefile_free(&tf);
    return rc < 0 ? 1 : 0;
}

/* record -o FILE -- PROGRAM ARGS... */
static int record(int argc, char **argv)
{
    const char *out = NULL;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else
            return usage_error("record: unexpected '%s' (record -o FILE -- PROGRAM ARGS...)", argv[i]);
    }
    if (!out)
        return usage_error("%s", "record needs -o FILE");
    if (i + 1 >= argc)
        return usage_error("%s", "record needs -- PROGRAM [ARGS...]");
    int status = record_run(out, argv + i + 1);
    return status < 0 ? 1 : status;
}

/* PROGRAM ARGS...: record to a temporary file, then view it (or print it when the
 * output is not a terminal), then remove it. */
static int record_and_view(int argc, char **argv)
{
    const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/asynctrace-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "asynctrace: cannot make a temporary file in %s: %s\n", dir, strerror(errno));
        return 1;
    }
    close(fd);
    (void)argc;
    int status = record_run(path, argv);
    if (status < 0) {
        unlink(path);
        return 1;
    }
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    char *show_argv[] = {tty ? "view" : "text", path, NULL};
    int rc = show(show_argv[0], 2, show_argv);
    unlink(path);
    return status ? status : rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "what to do? (a command, or a lesson program to trace)");
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 || strcmp(command, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(command, "record") == 0)
        return record(argc - 1, argv + 1);
    if (strcmp(command, "view") == 0 || strcmp(command, "text") == 0 || strcmp(command, "tasks") == 0 ||
        strcmp(command, "export") == 0)
        return show(command, argc - 1, argv + 1);
    if (command[0] == '-')
        return usage_error("unknown option '%s'", command);
    return record_and_view(argc - 1, argv + 1);
}
