/* tracer_unit.h — what the tracer's Check suites share: a trace from a string. */
#ifndef TRACER_UNIT_H
#define TRACER_UNIT_H

#include "unit.h" /* tests/unit.h: unit_run */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "tracefile.h"

/* Parses TEXT as a trace file; returns what tracefile_parse returned. */
static inline int parse_text(struct tracefile *tf, const char *text, char *err, size_t errsz)
{
    size_t n = strlen(text);
    char *buf = malloc(n + 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, text, n);
    return tracefile_parse(tf, buf, n, err, errsz);
}

/* Parses TEXT, which must be a good trace, and builds its model. */
static inline void load_text(struct tracefile *tf, struct model *m, const char *text, bool logical)
{
    char err[256];
    ck_assert_msg(parse_text(tf, text, err, sizeof err) == 0, "parse: %s", err);
    struct model_options o = {.block_ms = 100, .logical = logical};
    ck_assert_int_eq(model_build(m, tf, &o), 0);
}

/* The index of the lane named NAME. */
static inline uint32_t lane_named(const struct tracefile *tf, const char *name)
{
    for (uint32_t i = 0; i < tf->n_lanes; i++)
        if (strcmp(tf->lanes[i], name) == 0)
            return i;
    ck_abort_msg("no lane %s", name);
    return 0;
}

#endif
