/* text — the swimlane picture as plain text, for the tutorial, dumb terminals and tests.
 *
 * A title line, the lane headers, one row per event (diagram.h), the legend, and the task
 * table with its warnings. With logical time the output depends only on the order of the
 * events, so two runs of a lesson give the same bytes and the output can be a golden file.
 */
#ifndef TRACER_TEXT_H
#define TRACER_TEXT_H

#include <stdio.h>

#include "model.h"

struct text_options {
    int width;    /* columns; labels are cut to fit */
    bool ascii;   /* ASCII glyphs only */
    bool logical; /* step numbers instead of times */
};

/* Writes the whole picture. Returns 0, or -1 on a write error or no memory. */
int text_write(FILE *out, const struct model *m, const struct text_options *o);

/* Writes the task table and the warnings alone. */
int text_write_tasks(FILE *out, const struct model *m, const struct text_options *o);

#endif
