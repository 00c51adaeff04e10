/* diagram — one row of the swimlane picture (see diagram.h). */
#include "diagram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

enum glyph { G_ABSENT, G_READY, G_RUNNING, G_LENT, G_WAITING, G_DONE, G_START, G_END, G_PRINT, G_ERROR,
             G_HANDLER, G_LINE, G_RIGHT, G_LEFT, G_COUNT };

static const char *const unicode_glyphs[G_COUNT] = {
    " ", "\u250a", "\u2503", "\u2502", "\u00b7", " ", "\u25cf", "\u25a0", "\u2523", "\u2717", "\u25c6",
    "\u2500", "\u25b6", "\u25c0"};
static const char *const ascii_glyphs[G_COUNT] = {
    " ", "'", "|", ":", ".", " ", "o", "x", "\"", "!", "@", "-", ">", "<"};

#define MIN_LABEL 32
#define MAX_LANE_W 9
#define PHASE_W 5

static const char *glyph(enum glyph g, bool ascii)
{
    return ascii ? ascii_glyphs[g] : unicode_glyphs[g];
}

const char *diagram_state_glyph(enum lane_state s, bool ascii)
{
    return glyph((enum glyph)s, ascii); /* the first glyphs follow enum lane_state */
}

enum cell_style diagram_state_style(enum lane_state s)
{
    static const enum cell_style styles[LS_COUNT] = {CS_NONE, CS_READY, CS_RUNNING, CS_LENT, CS_WAITING,
                                                     CS_NONE};
    return styles[s];
}

/* Digits of N in decimal. */
static int digits(size_t n)
{
    int d = 1;
    while (n >= 10)
        n /= 10, d++;
    return d;
}

static int time_width(const struct model *m, bool logical)
{
    const struct tracefile *tf = m->tf;
    if (logical)
        return digits(tf->n_events) > 4 ? digits(tf->n_events) : 4;
    char buf[64];
    int64_t last = tf->n_events ? tf->events[tf->n_events - 1].time : 0;
    int w = snprintf(buf, sizeof buf, "%.2fs", tracefile_doc_seconds(tf, last));
    return w > 5 ? w : 5;
}

int diagram_layout(struct layout *lo, const struct model *m, int width, const bool *hidden, size_t first,
                   bool ascii, bool logical)
{
    memset(lo, 0, sizeof *lo);
    lo->width = width, lo->ascii = ascii, lo->logical = logical;
    lo->time_w = time_width(m, logical);
    lo->phase_w = m->has_loop ? PHASE_W : 0;
    lo->cols = malloc((m->n_lanes ? m->n_lanes : 1) * sizeof *lo->cols);
    if (!lo->cols)
        return -1;
    size_t visible = 0;
    for (size_t i = 0; i < m->n_lanes; i++)
        visible += !(hidden && hidden[i]);
    int fixed = lo->time_w + 3 + lo->phase_w + 2;
    int avail = width - fixed - MIN_LABEL;
    int per = visible ? avail / (int)visible : MAX_LANE_W;
    lo->lane_w = per > MAX_LANE_W ? MAX_LANE_W : per < 2 ? 2 : per;
    size_t fit = avail > 0 ? (size_t)(avail / lo->lane_w) : 1;
    size_t seen = 0;
    for (uint32_t i = 0; i < m->n_lanes; i++) {
        if (hidden && hidden[i])
            continue;
        if (seen++ < first)
            continue;
        if (lo->n_cols < fit)
            lo->cols[lo->n_cols++] = i;
        else
            lo->n_left_out++;
    }
    lo->label_x = fixed + (int)lo->n_cols * lo->lane_w;
    lo->label_w = width > lo->label_x ? width - lo->label_x : 0;
    return 0;
}

void diagram_layout_free(struct layout *lo)
{
    free(lo->cols);
    lo->cols = NULL;
}

/* Appends the separator between the time (or phase) and the lanes, or before labels. */
static void separator(const struct layout *lo, char *out, size_t outsz, bool before_label)
{
    size_t used = strlen(out);
    const char *bar = lo->ascii ? "|" : "\u2502";
    snprintf(out + used, outsz - used, before_label ? "%s " : " %s ", bar);
}

void diagram_header(const struct model *m, const struct layout *lo, char *out, size_t outsz)
{
    const char *title = lo->logical ? "step" : "time";
    snprintf(out, outsz, "%*s", lo->time_w, title);
    separator(lo, out, outsz, false);
    if (lo->phase_w) {
        utf8_fit(out, outsz, "loop", lo->phase_w - 1, lo->ascii);
        utf8_pad(out, outsz, lo->phase_w - 4);
    }
    for (size_t c = 0; c < lo->n_cols; c++) {
        int w = utf8_fit_middle(out, outsz, m->lanes[lo->cols[c]].name, lo->lane_w - 1, lo->ascii);
        utf8_pad(out, outsz, lo->lane_w - w);
    }
    separator(lo, out, outsz, true);
    char what[64] = "what happens";
    if (lo->n_left_out)
        snprintf(what, sizeof what, "(+%zu lanes not shown)", lo->n_left_out);
    utf8_fit(out, outsz, what, lo->label_w, lo->ascii);
}

static const char *phase_short(enum loop_phase p)
{
    static const char *const names[] = {"", "poll", "cb", "io", "tmr"};
    return names[p];
}

void diagram_time(const struct model *m, const struct layout *lo, uint32_t event, char *out, size_t outsz)
{
    const struct tracefile *tf = m->tf;
    if (lo->logical)
        snprintf(out, outsz, "%*u", lo->time_w, event + 1);
    else
        snprintf(out, outsz, "%*.2fs", lo->time_w - 1, tracefile_doc_seconds(tf, tf->events[event].time));
    separator(lo, out, outsz, false);
    if (lo->phase_w) {
        size_t used = strlen(out);
        snprintf(out + used, outsz - used, "%-*s", lo->phase_w, phase_short((enum loop_phase)m->phase[event]));
    }
}

/* The marker of the lane an event is about, or -1 to show its state. */
static int marker(enum event_kind kind)
{
    switch (kind) {
    case EV_LANE_START: return G_START;
    case EV_LANE_END: return G_END;
    case EV_PRINT: return G_PRINT;
    case EV_ERROR: return G_ERROR;
    case EV_CALLBACK: case EV_IO: case EV_TIMER: return G_HANDLER;
    default: return -1;
    }
}

static enum cell_style marker_style(int g)
{
    return g == G_PRINT ? CS_PRINT : g == G_ERROR ? CS_ERROR : CS_MARK;
}

/* The column of LANE among the shown ones, or -1. */
static long column_of(const struct layout *lo, uint32_t lane)
{
    for (size_t c = 0; c < lo->n_cols; c++)
        if (lo->cols[c] == lane)
            return (long)c;
    return -1;
}

/* Draws an arrow between two lanes' glyphs over the blank cells between them. */
static void draw_arrow(const struct layout *lo, long from, long to, struct cell *cells)
{
    long xa = from * lo->lane_w, xb = to * lo->lane_w;
    long lo_x = xa < xb ? xa : xb, hi_x = xa < xb ? xb : xa;
    for (long x = lo_x + 1; x < hi_x; x++)
        if (cells[x].style == CS_NONE)
            cells[x] = (struct cell){glyph(G_LINE, lo->ascii), CS_ARROW};
    if (xa < xb)
        cells[xb - 1] = (struct cell){glyph(G_RIGHT, lo->ascii), CS_ARROW};
    else
        cells[xb + 1] = (struct cell){glyph(G_LEFT, lo->ascii), CS_ARROW};
}

void diagram_cells(const struct model *m, const struct layout *lo, uint32_t event, const uint8_t *states,
                   struct cell *cells)
{
    size_t n = lo->n_cols * (size_t)lo->lane_w;
    for (size_t x = 0; x < n; x++)
        cells[x] = (struct cell){" ", CS_NONE};
    for (size_t c = 0; c < lo->n_cols; c++) {
        enum lane_state s = (enum lane_state)states[c];
        cells[c * (size_t)lo->lane_w] = (struct cell){diagram_state_glyph(s, lo->ascii), diagram_state_style(s)};
    }
    const struct trace_event *ev = &m->tf->events[event];
    long own = column_of(lo, ev->lane);
    int g = marker(ev->kind);
    if (own >= 0 && g >= 0)
        cells[own * lo->lane_w] = (struct cell){glyph((enum glyph)g, lo->ascii), marker_style(g)};
    uint32_t from, to;
    if (model_arrow(m, event, &from, &to)) {
        long a = column_of(lo, from), b = column_of(lo, to);
        if (a >= 0 && b >= 0)
            draw_arrow(lo, a, b, cells);
    }
}

/* Turns "callbacks 2" into "runs 2 callbacks", the loop's phases in words. */
static void phase_label(const char *text, char *out, size_t outsz)
{
    char name[32] = "";
    unsigned long n = 0;
    if (sscanf(text, "%31s %lu", name, &n) != 2)
        snprintf(out, outsz, "loop phase: %s", text);
    else if (strcmp(name, "callbacks") == 0)
        snprintf(out, outsz, "runs %lu ready callback%s", n, n == 1 ? "" : "s");
    else if (strcmp(name, "io") == 0)
        snprintf(out, outsz, "runs %lu I/O handler%s", n, n == 1 ? "" : "s");
    else if (strcmp(name, "timers") == 0)
        snprintf(out, outsz, "runs %lu due timer%s", n, n == 1 ? "" : "s");
    else
        snprintf(out, outsz, "loop phase: %s", text);
}

static void poll_label(const char *text, char *out, size_t outsz)
{
    if (strcmp(text, "0") == 0)
        snprintf(out, outsz, "epoll_wait(0): callbacks wait");
    else if (strcmp(text, "timer") == 0)
        snprintf(out, outsz, "epoll_wait until the next timer");
    else if (strcmp(text, "forever") == 0)
        snprintf(out, outsz, "epoll_wait until a file is ready");
    else
        snprintf(out, outsz, "epoll_wait: %s", text);
}

/* Labels of events that name a second lane. */
static bool pair_label(const struct trace_event *ev, const char *lane, const char *peer, char *out, size_t outsz)
{
    switch (ev->kind) {
    case EV_LANE_END:
        if (!*peer)
            return false;
        snprintf(out, outsz, "%s returns to %s", lane, peer);
        return true;
    case EV_RESUME: snprintf(out, outsz, "%s resumes %s%s%s%s", lane, peer, *ev->text ? " (" : "", ev->text, *ev->text ? ")" : ""); return true;
    case EV_YIELD: snprintf(out, outsz, "%s yields to %s", lane, *peer ? peer : "its resumer"); return true;
    case EV_SPAWN: snprintf(out, outsz, "%s spawns %s %s", lane, *ev->text ? ev->text : "lane", peer); return true;
    case EV_JOIN_BEGIN: snprintf(out, outsz, "%s waits for %s to end", lane, peer); return true;
    case EV_JOIN_END: snprintf(out, outsz, "%s has ended: %s goes on", peer, lane); return true;
    case EV_WAKE: snprintf(out, outsz, "%s resolves %s, wakes %s", lane, ev->text, peer); return true;
    case EV_ERROR:
        if (!*peer)
            return false;
        snprintf(out, outsz, "%s fails on %s: %s", lane, peer, ev->text);
        return true;
    default: return false;
    }
}

void diagram_label(const struct model *m, uint32_t event, char *out, size_t outsz)
{
    const struct trace_event *ev = &m->tf->events[event];
    const char *lane = m->lanes[ev->lane].name;
    const char *peer = ev->peer == TRACEFILE_NO_PEER ? "" : m->lanes[ev->peer].name;
    if (pair_label(ev, lane, peer, out, outsz))
        return;
    switch (ev->kind) {
    case EV_LANE_START:
        snprintf(out, outsz, "%s starts%s%s%s", lane, *ev->text && strcmp(ev->text, "main") ? " (" : "",
                 strcmp(ev->text, "main") ? ev->text : "", *ev->text && strcmp(ev->text, "main") ? ")" : "");
        break;
    case EV_LANE_END: snprintf(out, outsz, "%s ends", lane); break;
    case EV_PRINT: snprintf(out, outsz, "\"%s\"", ev->text); break;
    case EV_SLEEP_BEGIN: snprintf(out, outsz, "%s sleeps %s s", lane, ev->text); break;
    case EV_SLEEP_END: snprintf(out, outsz, "%s wakes up after %s s", lane, ev->text); break;
    case EV_CALLBACK: snprintf(out, outsz, "%s calls back %s", lane, ev->text); break;
    case EV_ERROR: snprintf(out, outsz, "%s: error: %s", lane, ev->text); break;
    case EV_LOOP_ITERATION: snprintf(out, outsz, "loop iteration %s", ev->text); break;
    case EV_POLL_BEGIN: poll_label(ev->text, out, outsz); break;
    case EV_POLL_END: snprintf(out, outsz, "epoll_wait returns: %s fd%s ready", ev->text, strcmp(ev->text, "1") ? "s" : ""); break;
    case EV_LOOP_PHASE: phase_label(ev->text, out, outsz); break;
    case EV_IO: snprintf(out, outsz, "I/O handler: %s", ev->text); break;
    case EV_TIMER: snprintf(out, outsz, "timer fires: %s", ev->text); break;
    case EV_WAIT: snprintf(out, outsz, "%s waits on %s", lane, ev->text); break;
    default: snprintf(out, outsz, "%s: %s %s", lane, tracefile_kind_name(ev->kind), ev->text); break;
    }
}

void diagram_legend(bool ascii, int width, char *out, size_t outsz)
{
    static const struct { enum glyph g; const char *what; } items[] = {
        {G_RUNNING, "running"}, {G_READY, "ready"}, {G_WAITING, "waiting"},
        {G_LENT, "lent to the lane it resumed"}, {G_START, "starts"}, {G_END, "ends"},
        {G_PRINT, "prints"}, {G_HANDLER, "runs a callback or handler"}, {G_ERROR, "error"},
        {G_RIGHT, "hands over, wakes or spawns"},
    };
    snprintf(out, outsz, "legend:");
    int col = 7;
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        char item[96];
        snprintf(item, sizeof item, "%s%s %s", items[i].g == G_RIGHT ? glyph(G_LINE, ascii) : "",
                 glyph(items[i].g, ascii), items[i].what);
        int w = utf8_width(item);
        size_t used = strlen(out);
        if (col + 2 + w > width) {
            snprintf(out + used, outsz - used, "\n       %s", item);
            col = 7 + w;
        } else {
            snprintf(out + used, outsz - used, "  %s", item);
            col += 2 + w;
        }
    }
}
