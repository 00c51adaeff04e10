/* diagram — one row of the swimlane picture, shared by `text` and the viewer.
 *
 * Lanes are columns, time goes down, one row per event. A row is the time, the loop's
 * phase (lesson 04 on), one cell per lane showing its state (or a marker for the lane
 * the event is about), an arrow from the lane that hands over or wakes to the lane it
 * affects, and a label that says in words what happened. The plain-text output and the
 * ncurses viewer draw the same rows; only the viewer adds colour.
 */
#ifndef TRACER_DIAGRAM_H
#define TRACER_DIAGRAM_H

#include "model.h"

/* What a cell means, so that the viewer can colour it. */
enum cell_style {
    CS_NONE,
    CS_READY,
    CS_RUNNING,
    CS_LENT,
    CS_WAITING,
    CS_MARK,  /* a lane starts or ends */
    CS_ARROW,
    CS_PRINT,
    CS_ERROR,
    CS_COUNT
};

struct cell {
    const char *glyph; /* one column wide */
    enum cell_style style;
};

struct layout {
    int width;      /* columns in all */
    bool ascii;     /* ASCII glyphs only */
    bool logical;   /* time is the event's number */
    int time_w;     /* the time column, without its separator */
    int phase_w;    /* the loop phase column with its space; 0 without a loop */
    int lane_w;     /* columns per lane */
    uint32_t *cols; /* the lanes shown, left to right */
    size_t n_cols;
    size_t n_left_out; /* visible lanes that did not fit */
    int label_x;    /* the label's first column */
    int label_w;
};

/* Lays out M's lanes in WIDTH columns, skipping HIDDEN ones (may be NULL) and the first
 * FIRST visible ones (the viewer scrolls sideways). Returns 0 or -1 (no memory). */
int diagram_layout(struct layout *lo, const struct model *m, int width, const bool *hidden, size_t first,
                   bool ascii, bool logical);
void diagram_layout_free(struct layout *lo);

/* The column headers: the time's title and each lane's name cut to its column. */
void diagram_header(const struct model *m, const struct layout *lo, char *out, size_t outsz);

/* The time column of EVENT (its number when logical, else document seconds), and its
 * loop phase when the trace has a loop, in lo->label_x - (lanes) columns. */
void diagram_time(const struct model *m, const struct layout *lo, uint32_t event, char *out, size_t outsz);

/* The lane cells of EVENT: n_cols * lane_w cells. STATES holds the state of each shown
 * lane after the event (lo->cols order). */
void diagram_cells(const struct model *m, const struct layout *lo, uint32_t event, const uint8_t *states,
                   struct cell *cells);

/* What EVENT did, in words: `main resumes req_a (next)`, a printed line in quotes. */
void diagram_label(const struct model *m, uint32_t event, char *out, size_t outsz);

/* The glyph for a lane in STATE (no event of its own in the row). */
const char *diagram_state_glyph(enum lane_state s, bool ascii);
enum cell_style diagram_state_style(enum lane_state s);

/* The legend of the glyphs, as lines of at most WIDTH columns, written to OUT. */
void diagram_legend(bool ascii, int width, char *out, size_t outsz);

#endif
