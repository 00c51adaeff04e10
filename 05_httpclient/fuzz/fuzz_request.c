/* fuzz_request — libFuzzer on http1_parse_request and the request's body. Invariants:
 * a prefix of the input parses to "incomplete" or to exactly what the whole input
 * gives; what a complete head says lies inside the buffer; the body decodes the same
 * whole and cut into slices. Built and run by fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_body.h"
#include "http1.h"

static void inside(struct http1_str s, const char *buf, int n)
{
    if (s.p < buf || s.p + s.len > buf + n)
        abort();
}

static void check_head(const struct http1_request *r, const char *buf, int n)
{
    inside(r->method, buf, n);
    inside(r->target, buf, n);
    if (r->minor_version != 0 && r->minor_version != 1)
        abort();
    for (size_t i = 0; i < r->headers.count; i++) {
        inside(r->headers.at[i].name, buf, n);
        inside(r->headers.at[i].value, buf, n);
        lookup_finds(&r->headers, i);
    }
    struct http1_framing f = http1_request_framing(r);
    if (f.kind == HTTP1_BODY_UNTIL_CLOSE)
        abort(); /* a request body never runs until close (RFC 9112 6.3) */
    (void)http1_request_keep_alive(r);
}

static int parse_copy(const uint8_t *data, size_t len, struct http1_request *r,
                      const struct http1_limits *lim)
{
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data, len);
    int rc = http1_parse_request(buf, len, r, lim);
    if (rc > 0)
        check_head(r, buf, rc);
    free(buf);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct http1_limits lim = fuzz_limits(data[0]);
    const unsigned char *steps = data + 1;
    size_t nsteps = data[1] % 4;
    data += 2, size -= 2;
    static struct http1_request req, part;
    int whole = parse_copy(data, size, &req, &lim);
    if (whole > (int)size || (whole < 0 && !*http1_strerror(whole)))
        abort();
    size_t cuts[] = {size / 2, size ? size - 1 : 0, size / 3, whole > 0 ? (size_t)whole : size};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        int rc = parse_copy(data, cuts[i], &part, &lim);
        if (rc != HTTP1_INCOMPLETE && rc != whole)
            abort();
        if (whole > 0 && cuts[i] >= (size_t)whole && rc != whole)
            abort(); /* the head was all there */
    }
    if (whole <= 0)
        return 0;
    char *buf = malloc(size);
    memcpy(buf, data, size);
    http1_parse_request(buf, size, &req, &lim);
    body_check_slicing(http1_request_framing(&req), &lim, buf + whole, size - (size_t)whole,
                       steps, nsteps);
    free(buf);
    return 0;
}
