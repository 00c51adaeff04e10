/* fuzz_chunked — libFuzzer on the body decoder alone, mostly chunked: the same bytes
 * fed whole, one byte at a time and in slices of sizes taken from the input must give
 * the same result, body, trailers and consumed count. Built and run by fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_body.h"
#include "http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    struct http1_limits lim = fuzz_limits(data[0]);
    struct http1_framing f = {HTTP1_BODY_CHUNKED, 0};
    if ((data[1] & 7) == 0)
        f = (struct http1_framing){HTTP1_BODY_LENGTH, data[2]};
    else if ((data[1] & 7) == 1)
        f.kind = HTTP1_BODY_UNTIL_CLOSE;
    static const unsigned char one[] = {0};
    const unsigned char *steps = data + 2;
    size_t nsteps = 1 + data[3] % 2;
    const char *in = (const char *)data + 4;
    size -= 4;
    struct body_run whole, bytes, slices;
    body_run(&whole, f, &lim, in, size, NULL, 0);
    body_run(&bytes, f, &lim, in, size, one, 1);
    body_run(&slices, f, &lim, in, size, steps, nsteps);
    body_same(&whole, &bytes);
    body_same(&whole, &slices);
    body_free(&whole);
    body_free(&bytes);
    body_free(&slices);
    return 0;
}
