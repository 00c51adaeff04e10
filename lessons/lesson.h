/* lesson — what every lesson program shares: its flags, its language, its printed lines.
 *
 * A lesson program prints the lines its source document prints. It calls lesson_init
 * first, prints with lesson_say (both languages side by side in the source, so a reader
 * sees what the document printed), and returns lesson_exit() from main. Sleeps and threads
 * come from gil.h, generators from 03_generator_coroutine/gen.h.
 *
 * Flags, each with an environment variable the flag overrides:
 *   --lang en|zh   LESSON_LANG   English (default) or the documents' exact Chinese lines
 *   --speed N      LESSON_SPEED  every sleep divided by N; the output never changes
 *   --trace FILE   LESSON_TRACE  record events for the tracer (lessons/TRACE_FORMAT.md)
 *   --free-threads               programs with threads: drop the GIL hand-off (gil.h)
 *   --help                       what the program teaches, and these flags
 * A program may add flags of its own (lesson_info.options: lesson 05's --service URL).
 * A bad flag or value prints a one-line reason and exits with status 2.
 */
#ifndef LESSON_H
#define LESSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A flag of the program's own: --name VALUE, or --name alone when arg is NULL. set gets
 * the value (NULL for a flag without one) and returns false to refuse it (a usage
 * error then names the flag and the value). */
struct lesson_option {
    const char *name; /* "service" */
    const char *arg;  /* "URL" in the help, or NULL: the flag takes no value */
    const char *help; /* one line for --help */
    bool (*set)(const char *value);
};

struct lesson_info {
    const char *about; /* what the step teaches: two or three lines, '\n'-separated */
    bool threads;      /* the program starts threads: accept --free-threads */
    bool pool;         /* an event loop with a pool of free threads beside it */
    const struct lesson_option *options; /* ended by a NULL name; NULL: none */
};

void lesson_init(int argc, char **argv, const struct lesson_info *info);

/* Prints one line, en or zh by the chosen language, and records it in the trace. */
void lesson_say(const char *en, const char *zh);

/* lesson_say with printf formats; both formats take the same arguments (checked). */
#define lesson_sayf(en_fmt, zh_fmt, ...)                                       \
    ((void)(0 && printf(en_fmt, __VA_ARGS__) && printf(zh_fmt, __VA_ARGS__)), \
     lesson_sayf_impl(en_fmt, zh_fmt, __VA_ARGS__))
void lesson_sayf_impl(const char *en_fmt, const char *zh_fmt, ...);

/* en or zh, by the chosen language: for text a program sends rather than prints (a
 * lesson 05 handler's response). */
const char *lesson_text(const char *en, const char *zh);

/* malloc for lesson programs: out of memory, it says so and ends the program (status 1),
 * as Python's MemoryError would. */
void *lesson_alloc(size_t size);

/* The real seconds that doc_seconds of the document take at the chosen --speed: what a
 * lesson passes to the event loop (lesson 04 on), whose clock is the real one. */
double lesson_seconds(double doc_seconds);

/* Records that the running lane invokes the callback called name (trace only). */
void lesson_callback(const char *name);

/* Ends the main lane and closes the trace. Returns main's exit status: 0, or 1 after
 * reporting a failed write to stdout or to the trace. */
int lesson_exit(void);

#endif
