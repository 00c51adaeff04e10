/* view — the ncurses viewer: swimlanes to scroll, step, zoom, focus, filter and search.
 *
 * The screen shows the rows of diagram.h (one per event, or one per time slice when
 * zoomed), the lane under study brighter than the rest, the loop's phase for lesson 04
 * on, and the task table on demand. Only the rows on screen are drawn, each lane's state
 * found by binary search, so a million-event trace scrolls as fast as a small one.
 * Keys are listed by `?` in the viewer and in tracer/README.md.
 */
#ifndef TRACER_VIEW_H
#define TRACER_VIEW_H

#include "model.h"

struct view_options {
    bool color;   /* colours, when the terminal has them */
    bool ascii;   /* ASCII glyphs only (also when the locale is not UTF-8) */
    bool logical; /* step numbers instead of times */
};

/* Runs the viewer on the terminal until the user quits. Returns 0, or -1 if the
 * terminal cannot be used. */
int view_run(const struct model *m, const struct view_options *o);

#endif
