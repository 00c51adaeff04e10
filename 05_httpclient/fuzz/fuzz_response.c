/* fuzz_response — libFuzzer on http1_parse_response and the response body, for each
 * kind of request it may answer (GET, HEAD, CONNECT). Invariants: a prefix parses to
 * "incomplete" or to exactly what the whole input gives; a complete head points inside
 * the buffer; the body decodes the same whole and cut into slices. Built by fuzz.sh. */
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

static void check_head(const struct http1_response *r, const char *buf, int n, const char *method)
{
    inside(r->reason, buf, n);
    if (r->minor_version != 0 && r->minor_version != 1)
        abort();
    if (r->status < 100 || r->status > 999)
        abort();
    for (size_t i = 0; i < r->headers.count; i++) {
        inside(r->headers.at[i].name, buf, n);
        inside(r->headers.at[i].value, buf, n);
        lookup_finds(&r->headers, i);
    }
    struct http1_framing f = http1_response_framing(r, method);
    bool ka = http1_response_keep_alive(r, method);
    if (f.kind == HTTP1_BODY_UNTIL_CLOSE && ka)
        abort(); /* a body that ends at close cannot leave the connection open */
    if (!strcmp(method, "HEAD") && f.kind != HTTP1_BODY_NONE)
        abort();
}

static int parse_copy(const uint8_t *data, size_t len, struct http1_response *r,
                      const struct http1_limits *lim, const char *method)
{
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data, len);
    int rc = http1_parse_response(buf, len, r, lim);
    if (rc > 0)
        check_head(r, buf, rc, method);
    free(buf);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "HEAD", "CONNECT", "POST"};
    if (size < 2)
        return 0;
    struct http1_limits lim = fuzz_limits(data[0]);
    const char *method = methods[(data[1] >> 2) % 4];
    const unsigned char *steps = data + 1;
    size_t nsteps = data[1] % 4;
    data += 2, size -= 2;
    static struct http1_response resp, part;
    int whole = parse_copy(data, size, &resp, &lim, method);
    if (whole > (int)size)
        abort();
    size_t cuts[] = {size / 2, size ? size - 1 : 0, size / 3, whole > 0 ? (size_t)whole : size};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        int rc = parse_copy(data, cuts[i], &part, &lim, method);
        if (rc != HTTP1_INCOMPLETE && rc != whole)
            abort();
        if (whole > 0 && cuts[i] >= (size_t)whole && rc != whole)
            abort(); /* the head was all there */
    }
    if (whole <= 0)
        return 0;
    char *buf = malloc(size);
    memcpy(buf, data, size);
    http1_parse_response(buf, size, &resp, &lim);
    struct http1_framing f = http1_response_framing(&resp, method);
    body_check_slicing(f, &lim, buf + whole, size - (size_t)whole, steps, nsteps);
    free(buf);
    return 0;
}
