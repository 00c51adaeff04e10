/* view — the ncurses viewer (see view.h). */
#include "view.h"

#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diagram.h"
#include "tasks.h"
#include "utf8.h"

#define TOP_LINES 2    /* the title and the lane headers */
#define BOTTOM_LINES 3 /* the current event in full, the status, the keys */
#define PLAY_TICK_MS 250
#define LINE_BYTES 4096

struct viewer {
    const struct model *m;
    struct view_options o;
    bool *hidden;        /* per lane */
    size_t first_lane;   /* visible lanes scrolled off to the left */
    uint32_t *rows;      /* event mode: the events of visible lanes; NULL when all are */
    size_t n_rows;
    bool slices;         /* a row per time slice instead of per event */
    int64_t slice_us;
    size_t cur, top;     /* the current row and the first row on screen */
    long focus;          /* the lane in focus, or -1 */
    bool playing, help, table, quit;
    char search[128];
    char message[256];
    struct layout lo;
};

/* --- rows: events or time slices --- */

static uint32_t n_events(const struct viewer *v)
{
    return (uint32_t)v->m->tf->n_events;
}

static int64_t first_time(const struct viewer *v)
{
    return n_events(v) ? v->m->tf->events[0].time : 0;
}

static int64_t last_time(const struct viewer *v)
{
    return n_events(v) ? v->m->tf->events[n_events(v) - 1].time : 0;
}

static size_t row_count(const struct viewer *v)
{
    if (v->slices)
        return (size_t)((last_time(v) - first_time(v)) / v->slice_us) + 1;
    return v->rows ? v->n_rows : n_events(v);
}

/* The first event at or after time T. */
static uint32_t event_at_time(const struct viewer *v, int64_t t)
{
    uint32_t lo = 0, hi = n_events(v);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v->m->tf->events[mid].time < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Slice ROW's events: [*a, *b). */
static void slice_events(const struct viewer *v, size_t row, uint32_t *a, uint32_t *b)
{
    int64_t t = first_time(v) + (int64_t)row * v->slice_us;
    *a = event_at_time(v, t);
    *b = event_at_time(v, t + v->slice_us);
}

/* The event a row stands for: itself, or the first of its slice (the last before it
 * when the slice is empty). */
static uint32_t row_event(const struct viewer *v, size_t row)
{
    if (!v->slices)
        return v->rows ? v->rows[row] : (uint32_t)row;
    uint32_t a, b;
    slice_events(v, row, &a, &b);
    return a < b || a == 0 ? a : a - 1;
}

/* The row showing event E (the nearest before it when E's lane is hidden). */
static size_t row_of_event(const struct viewer *v, uint32_t e)
{
    if (v->slices)
        return (size_t)((v->m->tf->events[e].time - first_time(v)) / v->slice_us);
    if (!v->rows)
        return e;
    size_t lo = 0, hi = v->n_rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->rows[mid] <= e)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

/* Rebuilds the list of rows after lanes were hidden or shown; keeps the current event. */
static void filter_rows(struct viewer *v)
{
    uint32_t keep = row_count(v) ? row_event(v, v->cur) : 0;
    free(v->rows);
    v->rows = NULL;
    v->n_rows = 0;
    bool any = false;
    for (size_t i = 0; i < v->m->n_lanes; i++)
        any |= v->hidden[i];
    if (any && (v->rows = malloc((n_events(v) + 1) * sizeof *v->rows))) {
        for (uint32_t e = 0; e < n_events(v); e++)
            if (!v->hidden[v->m->tf->events[e].lane])
                v->rows[v->n_rows++] = e;
    }
    v->cur = row_count(v) ? row_of_event(v, keep) : 0;
}

/* --- drawing --- */

enum { PAIR_RUNNING = 1, PAIR_READY, PAIR_LENT, PAIR_WAITING, PAIR_MARK, PAIR_ARROW, PAIR_PRINT, PAIR_ERROR,
       PAIR_TITLE };

static void init_colours(void)
{
    start_color();
    use_default_colors();
    init_pair(PAIR_RUNNING, COLOR_GREEN, -1);
    init_pair(PAIR_READY, COLOR_YELLOW, -1);
    init_pair(PAIR_LENT, COLOR_CYAN, -1);
    init_pair(PAIR_WAITING, COLOR_BLUE, -1);
    init_pair(PAIR_MARK, COLOR_WHITE, -1);
    init_pair(PAIR_ARROW, COLOR_MAGENTA, -1);
    init_pair(PAIR_PRINT, COLOR_WHITE, -1);
    init_pair(PAIR_ERROR, COLOR_RED, -1);
    init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
}

static attr_t style_attr(const struct viewer *v, enum cell_style s)
{
    static const short pairs[CS_COUNT] = {0, PAIR_READY, PAIR_RUNNING, PAIR_LENT, PAIR_WAITING, PAIR_MARK,
                                          PAIR_ARROW, PAIR_PRINT, PAIR_ERROR};
    attr_t a = s == CS_RUNNING || s == CS_MARK || s == CS_PRINT || s == CS_ERROR ? A_BOLD : A_NORMAL;
    if (v->o.color && pairs[s])
        a |= COLOR_PAIR(pairs[s]);
    return a;
}

/* Writes S at the cursor in attribute A, cut to the columns left on the line. */
static void put(const struct viewer *v, attr_t a, const char *s)
{
    int y, x;
    getyx(stdscr, y, x);
    (void)y;
    char buf[LINE_BYTES] = "";
    utf8_fit(buf, sizeof buf, s, COLS - x, v->o.ascii);
    attrset(a);
    addstr(buf);
    attrset(A_NORMAL);
}

/* The states of the shown lanes after event E (before any event when E is MODEL_NONE). */
static void states_at(const struct viewer *v, uint32_t e, uint8_t *states)
{
    for (size_t c = 0; c < v->lo.n_cols; c++)
        states[c] = (uint8_t)model_state_at(v->m, v->lo.cols[c], e);
}

/* A slice's states: running if the lane ran at any moment of it, else its state at the
 * slice's end. */
static void slice_states(const struct viewer *v, uint32_t a, uint32_t b, uint8_t *states)
{
    states_at(v, b ? b - 1 : MODEL_NONE, states);
    for (size_t c = 0; c < v->lo.n_cols && a < b; c++) {
        if (model_state_at(v->m, v->lo.cols[c], a ? a - 1 : MODEL_NONE) == LS_RUNNING ||
            model_next_run(v->m, v->lo.cols[c], a) < b)
            states[c] = LS_RUNNING;
    }
}

/* Whether event E concerns the lane in focus (always true without a focus). */
static bool in_focus(const struct viewer *v, uint32_t e)
{
    const struct trace_event *ev = &v->m->tf->events[e];
    return v->focus < 0 || ev->lane == (uint32_t)v->focus || ev->peer == (uint32_t)v->focus;
}

static void draw_cells(const struct viewer *v, const struct cell *cells, bool row_in_focus)
{
    for (size_t c = 0; c < v->lo.n_cols; c++) {
        bool dim = v->focus >= 0 && v->lo.cols[c] != (uint32_t)v->focus;
        for (int x = 0; x < v->lo.lane_w; x++) {
            const struct cell *cell = &cells[c * (size_t)v->lo.lane_w + (size_t)x];
            bool arrow = cell->style == CS_ARROW;
            attr_t a = (dim && !(arrow && row_in_focus)) ? A_DIM : style_attr(v, cell->style);
            attrset(a);
            addstr(cell->glyph);
        }
    }
    attrset(A_NORMAL);
}

/* The label of a slice: how many events, and the first printed line if any. */
static void slice_label(const struct viewer *v, uint32_t a, uint32_t b, char *out, size_t outsz)
{
    if (a >= b) {
        out[0] = '\0';
        return;
    }
    uint32_t shown = a;
    for (uint32_t e = a; e < b && e < a + 1000; e++)
        if (v->m->tf->events[e].kind == EV_PRINT) {
            shown = e;
            break;
        }
    out[0] = '\0';
    if (b - a > 1)
        snprintf(out, outsz, "%u events: ", b - a);
    size_t used = strlen(out);
    diagram_label(v->m, shown, out + used, outsz - used);
}

static void draw_row(struct viewer *v, int y, size_t row, struct cell *cells, uint8_t *states)
{
    char time[128], label[LINE_BYTES];
    uint32_t e = row_event(v, row), a = e, b = e + 1;
    if (v->slices) {
        slice_events(v, row, &a, &b);
        slice_states(v, a, b, states);
        slice_label(v, a, b, label, sizeof label);
    } else {
        states_at(v, e, states);
        diagram_label(v->m, e, label, sizeof label);
    }
    diagram_time(v->m, &v->lo, e, time, sizeof time);
    if (v->slices && !v->o.logical) {
        double t = tracefile_doc_seconds(v->m->tf, first_time(v) + (int64_t)row * v->slice_us);
        char head[64];
        snprintf(head, sizeof head, "%*.2fs", v->lo.time_w - 1, t);
        memcpy(time, head, strlen(head));
    }
    for (size_t x = 0; x < v->lo.n_cols * (size_t)v->lo.lane_w; x++)
        cells[x] = (struct cell){" ", CS_NONE};
    if (!v->slices || a + 1 == b)
        diagram_cells(v->m, &v->lo, e, states, cells);
    else
        for (size_t c = 0; c < v->lo.n_cols; c++)
            cells[c * (size_t)v->lo.lane_w] = (struct cell){
                diagram_state_glyph((enum lane_state)states[c], v->o.ascii),
                diagram_state_style((enum lane_state)states[c])};
    bool current = row == v->cur, focus = a < b && in_focus(v, e);
    move(y, 0);
    put(v, current ? A_REVERSE : A_NORMAL, time);
    draw_cells(v, cells, focus);
    put(v, A_NORMAL, v->o.ascii ? "| " : "\u2502 ");
    attr_t la = current ? A_REVERSE : !focus ? A_DIM
              : v->m->tf->events[e].kind == EV_PRINT ? style_attr(v, CS_PRINT) : A_NORMAL;
    put(v, la, label);
}

static int rows_on_screen(void)
{
    int n = LINES - TOP_LINES - BOTTOM_LINES;
    return n > 0 ? n : 0;
}

/* Moves the window of rows so that the current row is on screen. */
static void follow_cursor(struct viewer *v)
{
    size_t n = (size_t)rows_on_screen(), rows = row_count(v);
    if (v->cur < v->top)
        v->top = v->cur;
    else if (n && v->cur >= v->top + n)
        v->top = v->cur - n + 1;
    if (v->top + n > rows) /* no empty screen below the last row */
        v->top = rows > n ? rows - n : 0;
}

static void draw_title(const struct viewer *v)
{
    const struct tracefile *tf = v->m->tf;
    char title[LINE_BYTES];
    uint32_t e = row_count(v) ? row_event(v, v->cur) : 0;
    const char *phase = n_events(v) && v->m->has_loop ? model_phase_name((enum loop_phase)v->m->phase[e]) : "";
    snprintf(title, sizeof title, " asynctrace  %s  %s  speed %g  threads %s%s%s%s", tf->program, tf->lang, tf->speed,
             tf->threads_mode, v->m->has_loop ? "  loop: " : "", v->m->has_loop ? (*phase ? phase : "between phases") : "",
             v->playing ? "  [playing]" : "");
    move(0, 0);
    attr_t a = v->o.color ? COLOR_PAIR(PAIR_TITLE) | A_BOLD : A_REVERSE;
    put(v, a, title);
    attrset(a);
    for (int x = getcurx(stdscr); x < COLS; x++)
        addch(' ');
    attrset(A_NORMAL);
}

static void draw_task_table(const struct viewer *v)
{
    char line[LINE_BYTES];
    int y = TOP_LINES, end = LINES - BOTTOM_LINES;
    tasks_header(v->o.logical, line, sizeof line);
    move(y++, 0);
    put(v, A_BOLD | A_UNDERLINE, line);
    for (uint32_t i = 0; i < v->m->n_lanes && y < end; i++) {
        tasks_row(v->m, i, v->o.logical, v->o.ascii, line, sizeof line);
        move(y++, 0);
        put(v, v->hidden[i] ? A_DIM : A_NORMAL, line);
    }
    for (size_t i = 0; i < v->m->n_warnings && y < end; i++) {
        tasks_warning(v->m, i, line, sizeof line);
        move(y++, 0);
        put(v, style_attr(v, CS_ERROR), line);
    }
    if (y < end) {
        move(y + 1, 0);
        put(v, A_DIM, "t: back to the swimlanes");
    }
}

static const char *const help_lines[] = {
    "asynctrace: keys",
    "",
    "space      play / pause (one row at a time)",
    "right down step one event (or slice) forward",
    "left  up   step one event (or slice) back",
    "PgDn PgUp  a screen forward / back",
    "Home End   the first / last event",
    "+ -        zoom time in / out (rows become time slices)",
    "s          rows per event / per time slice",
    "f          focus the current event's lane (f again: all)",
    "h H        hide the current event's lane / show all",
    "[ ]        scroll the lanes sideways",
    "/ n N      search the labels; next / previous match",
    "t          the task table and its warnings",
    "?          this help",
    "q          quit",
    "",
    "glyphs: running, ready, waiting, lent: see the legend (tracer/README.md)",
    "press any key",
};

static void draw_help(const struct viewer *v)
{
    size_t n = sizeof help_lines / sizeof help_lines[0];
    int h = (int)n + 2, w = 64;
    if (w > COLS)
        w = COLS;
    int y0 = LINES > h ? (LINES - h) / 2 : 0, x0 = (COLS - w) / 2;
    for (int y = 0; y < h && y0 + y < LINES; y++) {
        move(y0 + y, x0);
        attrset(A_REVERSE);
        for (int x = 0; x < w; x++)
            addch(' ');
        if (y >= 1 && (size_t)(y - 1) < n) {
            move(y0 + y, x0 + 2);
            char buf[LINE_BYTES] = "";
            utf8_fit(buf, sizeof buf, help_lines[y - 1], w - 4, v->o.ascii);
            addstr(buf);
        }
        attrset(A_NORMAL);
    }
}

/* The bottom lines: the current event in full, where we are, and the keys (or the
 * message of the last action, or the search prompt). */
static void draw_bottom(const struct viewer *v)
{
    char line[LINE_BYTES], label[LINE_BYTES];
    size_t rows = row_count(v);
    uint32_t e = rows ? row_event(v, v->cur) : 0;
    if (n_events(v)) {
        const struct trace_event *ev = &v->m->tf->events[e];
        diagram_label(v->m, e, label, sizeof label);
        move(LINES - 3, 0);
        put(v, A_BOLD, v->m->lanes[ev->lane].name);
        put(v, A_BOLD, ": ");
        put(v, A_BOLD, label);
        snprintf(line, sizeof line, "event %u/%u  %.3f s  %s%s%s%s%s%s", e + 1, n_events(v),
                 tracefile_doc_seconds(v->m->tf, ev->time), v->m->lanes[ev->lane].name, " is ",
                 model_state_name(model_state_at(v->m, ev->lane, e)),
                 v->slices ? "  rows: slices" : "  rows: events", v->focus >= 0 ? "  focus: " : "",
                 v->focus >= 0 ? v->m->lanes[v->focus].name : "");
        if (v->slices) {
            size_t used = strlen(line);
            snprintf(line + used, sizeof line - used, " of %.3f s", tracefile_doc_seconds(v->m->tf, v->slice_us));
        }
    } else {
        snprintf(line, sizeof line, "the trace has no events");
    }
    size_t hidden = 0;
    for (size_t i = 0; i < v->m->n_lanes; i++)
        hidden += v->hidden[i];
    if (hidden) {
        size_t used = strlen(line);
        snprintf(line + used, sizeof line - used, "  hidden: %zu lane%s", hidden, hidden == 1 ? "" : "s");
    }
    move(LINES - 2, 0);
    put(v, A_NORMAL, line);
    move(LINES - 1, 0);
    put(v, A_DIM, *v->message ? v->message
                  : "space play  \u2190\u2192 step  +- zoom  f focus  h hide  / search  t tasks  ? help  q quit");
}

static int draw(struct viewer *v)
{
    diagram_layout_free(&v->lo);
    if (diagram_layout(&v->lo, v->m, COLS, v->hidden, v->first_lane, v->o.ascii, v->o.logical) < 0)
        return -1;
    struct cell *cells = calloc(v->lo.n_cols * (size_t)v->lo.lane_w + 1, sizeof *cells);
    uint8_t *states = calloc(v->lo.n_cols + 1, 1);
    if (!cells || !states) {
        free(cells);
        free(states);
        return -1;
    }
    erase();
    follow_cursor(v);
    draw_title(v);
    char header[LINE_BYTES];
    diagram_header(v->m, &v->lo, header, sizeof header);
    move(1, 0);
    put(v, A_BOLD, header);
    if (v->table) {
        draw_task_table(v);
    } else {
        size_t rows = row_count(v);
        for (int i = 0; i < rows_on_screen() && v->top + (size_t)i < rows && n_events(v); i++)
            draw_row(v, TOP_LINES + i, v->top + (size_t)i, cells, states);
    }
    if (LINES > TOP_LINES + BOTTOM_LINES)
        draw_bottom(v);
    if (v->help)
        draw_help(v);
    free(cells);
    free(states);
    refresh();
    return 0;
}

/* --- keys --- */

static void step(struct viewer *v, long delta)
{
    size_t rows = row_count(v);
    if (!rows)
        return;
    long cur = (long)v->cur + delta;
    v->cur = cur < 0 ? 0 : (size_t)cur >= rows ? rows - 1 : (size_t)cur;
}

/* Switches between rows per event and rows per slice, keeping the current event. */
static void set_slices(struct viewer *v, bool slices)
{
    uint32_t e = row_count(v) ? row_event(v, v->cur) : 0;
    if (slices && !v->slice_us) {
        int64_t span = last_time(v) - first_time(v);
        int n = rows_on_screen() > 0 ? rows_on_screen() : 1;
        v->slice_us = span / n > 0 ? span / n : 1;
    }
    v->slices = slices;
    v->cur = n_events(v) ? row_of_event(v, e) : 0;
    v->top = v->cur;
}

static void zoom(struct viewer *v, bool in)
{
    if (!v->slices) {
        set_slices(v, true);
        return;
    }
    uint32_t e = row_event(v, v->cur);
    if (in)
        v->slice_us = v->slice_us / 2 > 0 ? v->slice_us / 2 : 1;
    else if (v->slice_us < (int64_t)1 << 50)
        v->slice_us *= 2;
    v->cur = row_of_event(v, e);
    snprintf(v->message, sizeof v->message, "a row is %.3f s of document time",
             tracefile_doc_seconds(v->m->tf, v->slice_us));
}

static void toggle_focus(struct viewer *v)
{
    if (!row_count(v))
        return;
    uint32_t lane = v->m->tf->events[row_event(v, v->cur)].lane;
    v->focus = v->focus == (long)lane ? -1 : (long)lane;
    snprintf(v->message, sizeof v->message, v->focus < 0 ? "focus: all lanes" : "focus: %s",
             v->m->lanes[lane].name);
}

static void hide_lane(struct viewer *v)
{
    if (!row_count(v))
        return;
    uint32_t lane = v->m->tf->events[row_event(v, v->cur)].lane;
    size_t visible = 0;
    for (size_t i = 0; i < v->m->n_lanes; i++)
        visible += !v->hidden[i];
    if (visible <= 1) {
        snprintf(v->message, sizeof v->message, "the last lane stays");
        return;
    }
    v->hidden[lane] = true;
    if (v->focus == (long)lane)
        v->focus = -1;
    filter_rows(v);
    snprintf(v->message, sizeof v->message, "hidden: %s (H shows every lane)", v->m->lanes[lane].name);
}

static void show_all(struct viewer *v)
{
    memset(v->hidden, 0, v->m->n_lanes * sizeof *v->hidden);
    filter_rows(v);
    snprintf(v->message, sizeof v->message, "every lane shown");
}

/* Whether event E matches the search: its label, its lane or its text. */
static bool matches(const struct viewer *v, uint32_t e)
{
    const struct trace_event *ev = &v->m->tf->events[e];
    if (v->hidden[ev->lane])
        return false;
    if (strcasestr(ev->text, v->search) || strcasestr(v->m->lanes[ev->lane].name, v->search))
        return true;
    char label[LINE_BYTES];
    diagram_label(v->m, e, label, sizeof label);
    return strcasestr(label, v->search) != NULL;
}

/* Moves to the next (or previous) event that matches, wrapping around. */
static void find(struct viewer *v, int dir)
{
    uint32_t n = n_events(v);
    if (!*v->search || !n || !row_count(v))
        return;
    uint32_t from = row_event(v, v->cur);
    for (uint32_t i = 1; i <= n; i++) {
        uint32_t e = dir > 0 ? (from + i) % n : (from + n - i % n) % n;
        if (matches(v, e)) {
            v->cur = row_of_event(v, e);
            snprintf(v->message, sizeof v->message, "/%s: event %u%s", v->search, e + 1,
                     (dir > 0) == (e <= from) ? " (wrapped)" : "");
            return;
        }
    }
    snprintf(v->message, sizeof v->message, "/%s: not found", v->search);
}

/* Reads the search text on the bottom line; Enter searches, Escape cancels. */
static void prompt_search(struct viewer *v)
{
    char text[sizeof v->search] = "";
    size_t n = 0;
    timeout(-1);
    for (;;) {
        move(LINES - 1, 0);
        clrtoeol();
        put(v, A_BOLD, "/");
        put(v, A_NORMAL, text);
        refresh();
        int ch = getch();
        if (ch == '\n' || ch == '\r' || ch == KEY_ENTER)
            break;
        if (ch == 27) {
            v->message[0] = '\0';
            return;
        }
        if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n)
            text[--n] = '\0';
        else if (ch >= 32 && ch < 256 && ch != 127 && n + 1 < sizeof text)
            text[n++] = (char)ch, text[n] = '\0';
    }
    if (n)
        snprintf(v->search, sizeof v->search, "%s", text);
    find(v, 1);
}

static void handle_key(struct viewer *v, int ch)
{
    if (v->help) {
        v->help = false;
        return;
    }
    v->message[0] = '\0';
    int page = rows_on_screen() > 1 ? rows_on_screen() - 1 : 1;
    switch (ch) {
    case 'q': case 'Q': v->quit = true; break;
    case ' ': v->playing = !v->playing; break;
    case KEY_RIGHT: case KEY_DOWN: case 'j': case 'l': step(v, 1); break;
    case KEY_LEFT: case KEY_UP: case 'k': step(v, -1); break;
    case KEY_NPAGE: step(v, page); break;
    case KEY_PPAGE: step(v, -page); break;
    case KEY_HOME: case 'g': v->cur = 0; break;
    case KEY_END: case 'G': v->cur = row_count(v) ? row_count(v) - 1 : 0; break;
    case '+': case '=': zoom(v, true); break;
    case '-': case '_': zoom(v, false); break;
    case 's': set_slices(v, !v->slices); break;
    case 'f': toggle_focus(v); break;
    case 'h': hide_lane(v); break;
    case 'H': show_all(v); break;
    case '[': if (v->first_lane) v->first_lane--; break;
    case ']': if (v->lo.n_left_out) v->first_lane++; break;
    case '/': prompt_search(v); break;
    case 'n': find(v, 1); break;
    case 'N': find(v, -1); break;
    case 't': v->table = !v->table; break;
    case '?': v->help = true; break;
    default: break;
    }
}

/* While playing, a tick without a key moves one row on, and stops at the end. */
static void tick(struct viewer *v)
{
    if (v->cur + 1 >= row_count(v)) {
        v->playing = false;
        snprintf(v->message, sizeof v->message, "the end of the trace");
        return;
    }
    v->cur++;
}

static bool utf8_locale(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

int view_run(const struct model *m, const struct view_options *o)
{
    struct viewer v = {.m = m, .o = *o, .focus = -1};
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return -1;
    setlocale(LC_ALL, "");
    if (!utf8_locale())
        v.o.ascii = true;
    v.hidden = calloc(m->n_lanes + 1, sizeof *v.hidden);
    if (!v.hidden || !initscr()) {
        free(v.hidden);
        return -1;
    }
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    v.o.color = o->color && has_colors();
    if (v.o.color)
        init_colours();
    int rc = 0;
    while (!v.quit && rc == 0) {
        rc = draw(&v);
        timeout(v.playing ? PLAY_TICK_MS : -1);
        int ch = getch();
        if (ch == ERR && v.playing)
            tick(&v);
        else if (ch == ERR) /* no key while waiting for one: the terminal is gone */
            v.quit = true;
        else if (ch != ERR && ch != KEY_RESIZE)
            handle_key(&v, ch);
    }
    endwin();
    diagram_layout_free(&v.lo);
    free(v.rows);
    free(v.hidden);
    return rc;
}
