/* fuzz_trace — libFuzzer on the tracer's whole read path: any bytes are parsed as a
 * trace file, and whatever parses is modelled, drawn as text (both clocks, both glyph
 * sets) and exported for Perfetto. Nothing may crash, leak or read out of bounds
 * (built with ASan and UBSan); bad input may only be refused. tracer/tests/fuzz.sh
 * builds it with clang and runs it for a bounded number of inputs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chrome.h"
#include "model.h"
#include "text.h"
#include "tracefile.h"

static FILE *sink;

static void draw(const struct tracefile *tf, bool logical)
{
    struct model m;
    struct model_options mo = {.block_ms = 100, .logical = logical};
    if (model_build(&m, tf, &mo) != 0)
        return;
    struct text_options to = {.width = logical ? 80 : 40, .ascii = !logical, .logical = logical};
    text_write(sink, &m, &to);
    text_write_tasks(sink, &m, &to);
    chrome_write(sink, &m);
    model_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink)
        sink = fopen("/dev/null", "w");
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct tracefile tf;
    char err[256];
    if (tracefile_parse(&tf, buf, size, err, sizeof err) != 0)
        return 0;
    char problems[256];
    tracefile_problems(&tf, problems, sizeof problems);
    draw(&tf, true);
    draw(&tf, false);
    tracefile_free(&tf);
    return 0;
}
