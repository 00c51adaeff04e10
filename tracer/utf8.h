/* utf8 — display widths of UTF-8 text, the same on every machine.
 *
 * The diagram is laid out in terminal columns, and golden files must not depend on the
 * locale of the machine that made them, so this module decodes UTF-8 itself and uses a
 * small fixed width table (CJK and full-width forms take two columns, combining marks
 * none). Invalid bytes and control characters never reach the terminal: they are shown
 * as U+FFFD (or '?' in ASCII mode).
 */
#ifndef TRACER_UTF8_H
#define TRACER_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes one character at S (N bytes left): returns its length (at least 1), sets *CP
 * to the code point, or to -1 when the bytes are not valid UTF-8. */
size_t utf8_decode(const char *s, size_t n, int32_t *cp);

/* The columns code point CP takes: 0, 1 or 2 (an invalid or control character: 1). */
int utf8_cp_width(int32_t cp);

/* The columns the NUL-terminated string S takes. */
int utf8_width(const char *s);

/* Appends S to OUT (of size OUTSZ, always NUL-terminated) in at most MAXW columns,
 * a tab shown as a space, other control characters and invalid bytes replaced, cut with an ellipsis ("…", or "~" in
 * ASCII mode) when it does not fit. In ASCII mode every non-ASCII character becomes
 * '?'. Returns the columns appended. */
int utf8_fit(char *out, size_t outsz, const char *s, int maxw, bool ascii);

/* As utf8_fit, but a name that does not fit keeps its last two columns, so that
 * "req_a#1" and "req_a#2" stay apart: "req…#1". */
int utf8_fit_middle(char *out, size_t outsz, const char *s, int maxw, bool ascii);

/* Appends N spaces to OUT (of size OUTSZ). */
void utf8_pad(char *out, size_t outsz, int n);

#endif
