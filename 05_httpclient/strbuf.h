/* strbuf — a growing byte string, for building HTTP heads and collecting bodies.
 *
 * Always NUL-terminated (so text in it can be printed as it is), grown by doubling, and
 * like everything on the loop it aborts when memory runs out (ioloop.h). Zero it to
 * start; the caller owns .p and frees it (strbuf_free, or take .p and free it later).
 *
 *     struct strbuf b = {0};
 *     strbuf_addf(&b, "%s %s HTTP/1.1\r\n", method, target);
 *     strbuf_add(&b, body, body_len);
 *     ... b.p, b.len ...
 *     strbuf_free(&b);
 */
#ifndef STRBUF_H
#define STRBUF_H

#include <stddef.h>

struct strbuf {
    char *p;
    size_t len, cap;
};

void strbuf_add(struct strbuf *b, const void *data, size_t n);
void strbuf_addf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends n bytes of in as base64 (RFC 4648, with padding), by OpenSSL's libcrypto. */
void strbuf_add_base64(struct strbuf *b, const void *in, size_t n);
void strbuf_free(struct strbuf *b);

#endif
