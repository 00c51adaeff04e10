/* tool — what lesson 05's command-line tools (05_hello_server, 05_fetch) share.
 *
 * The tools are not lesson programs: their output depends on the network and the
 * clock, so they have no transcripts and take options of their own, which lesson_init
 * would refuse. They keep its contract where it fits: --lang en|zh (LESSON_LANG when
 * the flag is absent), --help, and a bad flag or value is one line on stderr and
 * status 2.
 */
#ifndef TOOL_H
#define TOOL_H

#include <stdbool.h>

#include "httpserver.h"

/* Chooses the language: value is "en", "zh", or NULL for $LESSON_LANG (default en).
 * Anything else is a usage error. */
void tool_set_lang(const char *value);
/* en or zh, by the chosen language. */
const char *tool_text(const char *en, const char *zh);

/* "PROG: message\nTry 'PROG --help'." on stderr, then exit(2). */
__attribute__((noreturn, format(printf, 1, 2))) void tool_usage_error(const char *fmt, ...);

/* SIGINT and SIGTERM as readable events for a loop: blocked, and delivered to a new
 * signalfd (a signal handler may not touch the loop). The fd, or -1 with errno. */
int tool_signals_fd(void);
/* The signal waiting on a tool_signals_fd, or 0 if none. */
int tool_signal_read(int fd);
/* A loop handler for a tool_signals_fd, what a server tool does at SIGINT or SIGTERM:
 * says "PROG: Terminated, closing" on stderr and stops the current loop, after which
 * main closes its server (httpserver_shutdown) and exits 0:
 *     ioloop_add_handler(loop, tool_signals_fd(), IOLOOP_READ, tool_stop_on_signal, NULL); */
void tool_stop_on_signal(int fd, int events, void *arg);

/* The command line of a server tool with no option of its own: --address A, --port N
 * (*address and *port hold the defaults), --lang en|zh, and --help, which prints
 * `about` (a line or two, ending in a newline) and the usage, then exits 0. */
void tool_server_args(int argc, char **argv, const char *about, const char **address,
                      int *port);

/* A server tool's run, once its routes are made: listens on address ("" for every
 * address) and port, says "listening on SCHEME://HOST:PORT/PATH" on stdout (what tests
 * and the benchmarks wait for), serves until SIGINT or SIGTERM, then shuts the server
 * down (httpserver_shutdown: WebSockets get 1001). The loop is left for the caller to
 * free. Returns 0, or 1 after saying on stderr why it could not listen. */
int tool_serve(httpserver_t *srv, const char *address, int port, const char *scheme,
               const char *path);

/* The number in text, within [min, max], or a usage error naming flag. */
double tool_number(const char *flag, const char *text, double min, double max);
/* The same for a whole number. */
long tool_integer(const char *flag, const char *text, long min, long max);

#endif
