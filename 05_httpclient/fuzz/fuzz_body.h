/* fuzz_body.h — what the http1 harnesses share: decode a body with the input cut into
 * slices of a given pattern, and compare two such runs. Each slice is copied into a
 * buffer of its own exact size, so ASan reports any read past what was given. */
#ifndef FUZZ_BODY_H
#define FUZZ_BODY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"

struct body_run {
    int rc;          /* HTTP1_BODY_DONE or an error, after http1_body_finish at the end */
    size_t used;     /* input consumed */
    char *body;      /* the bytes emitted */
    size_t body_len;
    size_t trailers; /* trailer fields, when done */
    char tsum[512];  /* the first trailer fields, name=value; */
};

/* Decodes in[0, len) with slices of size 1 + step[i % nstep] (nstep 0: all at once). */
static inline void body_run(struct body_run *r, struct http1_framing f, const struct http1_limits *lim,
                     const char *in, size_t len, const unsigned char *step, size_t nstep)
{
    struct http1_body_decoder d;
    memset(r, 0, sizeof *r);
    r->body = malloc(len + 1);
    r->rc = http1_body_init(&d, f, lim);
    size_t pos = 0, k = 0;
    while (r->rc == 0 || r->rc == HTTP1_BODY_DATA || r->rc == HTTP1_INCOMPLETE) {
        size_t n = len - pos;
        if (nstep && n > 1u + step[k % nstep])
            n = 1u + step[k % nstep];
        k++;
        char *slice = malloc(n ? n : 1);
        memcpy(slice, in + pos, n);
        size_t used;
        const char *data;
        size_t dlen;
        r->rc = http1_body_decode(&d, slice, n, &used, &data, &dlen);
        if (used > n || dlen > n || (dlen && (data < slice || data + dlen > slice + n)))
            abort(); /* the decoder claimed bytes it was not given */
        memcpy(r->body + r->body_len, data ? data : "", dlen);
        r->body_len += dlen;
        free(slice);
        pos += used;
        if (r->rc == HTTP1_INCOMPLETE && pos == len)
            r->rc = http1_body_finish(&d);
    }
    r->used = pos;
    if (r->rc == HTTP1_BODY_DONE && d.trailers) {
        r->trailers = d.trailers->count;
        size_t t = 0;
        for (size_t i = 0; i < d.trailers->count && t + 64 < sizeof r->tsum; i++) {
            const struct http1_header *h = &d.trailers->at[i];
            t += (size_t)snprintf(r->tsum + t, sizeof r->tsum - t, "%.*s=%.*s;", (int)(h->name.len % 24),
                                  h->name.p, (int)(h->value.len % 24), h->value.p);
        }
    }
    if (d.total != r->body_len)
        abort();
    http1_body_free(&d);
}

/* Two runs of the same body must agree on everything but how the input was cut; on an
 * error the body may stop at different points, so only the code is compared. */
static inline void body_same(const struct body_run *a, const struct body_run *b)
{
    if (a->rc != b->rc)
        abort();
    if (a->rc != HTTP1_BODY_DONE)
        return;
    if (a->used != b->used || a->body_len != b->body_len || memcmp(a->body, b->body, a->body_len) ||
        a->trailers != b->trailers || strcmp(a->tsum, b->tsum))
        abort();
}

static inline void body_free(struct body_run *r)
{
    free(r->body);
}

/* Looking up header i by its own name finds it, or an earlier field of that name. */
static inline void lookup_finds(const struct http1_fields *f, size_t i)
{
    char name[128];
    size_t n = f->at[i].name.len;
    if (n >= sizeof name)
        return;
    memcpy(name, f->at[i].name.p, n);
    name[n] = '\0';
    const struct http1_header *h = http1_header_get(f, name);
    if (!h || h > &f->at[i] || !http1_str_ieq(h->name, name))
        abort();
}

/* The body after a head: decoded whole and in the given slices, it must come out the same. */
static inline void body_check_slicing(struct http1_framing f, const struct http1_limits *lim,
                                      const char *in, size_t len, const unsigned char *step,
                                      size_t nstep)
{
    struct body_run a, b;
    body_run(&a, f, lim, in, len, NULL, 0);
    body_run(&b, f, lim, in, len, step, nstep);
    body_same(&a, &b);
    body_free(&a);
    body_free(&b);
}

/* Limits taken from the input, small enough that the fuzzer reaches them. */
static inline struct http1_limits fuzz_limits(unsigned char b)
{
    struct http1_limits lim = {0};
    if (b & 1)
        lim.max_head = 16 + (b >> 1);
    if (b & 2)
        lim.max_headers = 1 + (b >> 4);
    if (b & 4)
        lim.max_body = 1 + (b >> 3);
    return lim;
}

#endif
