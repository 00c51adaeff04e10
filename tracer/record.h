/* record — runs a lesson program with its trace on (the lessons' LESSON_TRACE).
 *
 * A program named without a slash is looked for beside asynctrace first (build/bin/,
 * where every lesson program is), then on PATH, so `asynctrace 03_v1_global_gen` works.
 */
#ifndef TRACER_RECORD_H
#define TRACER_RECORD_H

/* Runs ARGV[0] with ARGV, tracing to PATH, and waits for it. Returns its exit status
 * (128 + the signal if one killed it), or -1 with a reason on stderr if it could not
 * be started. */
int record_run(const char *path, char *const argv[]);

#endif
