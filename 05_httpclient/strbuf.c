/* strbuf — see strbuf.h. */
#include "strbuf.h"

#include "loop_internal.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and the NUL. */
static void reserve(struct strbuf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    b->p = loop_xrealloc(b->p, cap);
    b->cap = cap;
}

void strbuf_add(struct strbuf *b, const void *data, size_t n)
{
    reserve(b, n);
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void strbuf_add_base64(struct strbuf *b, const void *in, size_t n)
{
    if (n > INT_MAX / 2) /* EVP_EncodeBlock counts in int; credentials are small */
        abort();
    size_t out = 4 * ((n + 2) / 3);
    reserve(b, out);
    /* EVP_EncodeBlock takes an int length and writes the NUL itself. */
    int len = EVP_EncodeBlock((unsigned char *)b->p + b->len, in, (int)n);
    b->len += (size_t)len;
}

void strbuf_free(struct strbuf *b)
{
    free(b->p);
    *b = (struct strbuf){0};
}
