/* text — the swimlane picture as plain text (see text.h). */
#include "text.h"

#include <stdlib.h>
#include <string.h>

#include "diagram.h"
#include "tasks.h"
#include "utf8.h"

#define LINE_MAX_BYTES 8192

/* The title: what was traced, and how to read the time column. */
static void write_title(FILE *out, const struct model *m, const struct text_options *o)
{
    const struct tracefile *tf = m->tf;
    char title[1024], line[LINE_MAX_BYTES] = "";
    snprintf(title, sizeof title, "%s%s%s%s speed %g%s%s%s %zu events %s %s", *tf->program ? tf->program : "(no program)",
             *tf->lang ? (o->ascii ? " - " : " \u00b7 ") : "", tf->lang, o->ascii ? " -" : " \u00b7", tf->speed,
             *tf->threads_mode ? (o->ascii ? " - threads " : " \u00b7 threads ") : "", tf->threads_mode,
             o->ascii ? " -" : " \u00b7", tf->n_events, o->ascii ? "-" : "\u00b7",
             o->logical ? "logical time" : "document seconds");
    utf8_fit(line, sizeof line, title, o->width, o->ascii);
    fprintf(out, "%s\n", line);
}

/* Per shown lane, the index of its next change: the rows walk the changes once. */
struct cursor {
    size_t *next;
    uint8_t *states;
};

static void cursor_advance(const struct model *m, const struct layout *lo, struct cursor *c, uint32_t e)
{
    for (size_t i = 0; i < lo->n_cols; i++) {
        const struct lane_info *l = &m->lanes[lo->cols[i]];
        while (c->next[i] < l->n_changes && l->changes[c->next[i]].event <= e)
            c->states[i] = l->changes[c->next[i]++].state;
    }
}

static void write_row(FILE *out, const struct model *m, const struct layout *lo, uint32_t e,
                      const uint8_t *states, struct cell *cells)
{
    char line[LINE_MAX_BYTES], label[LINE_MAX_BYTES];
    diagram_time(m, lo, e, line, sizeof line);
    diagram_cells(m, lo, e, states, cells);
    size_t used = strlen(line);
    for (size_t x = 0; x < lo->n_cols * (size_t)lo->lane_w && used + 8 < sizeof line; x++) {
        size_t g = strlen(cells[x].glyph);
        memcpy(line + used, cells[x].glyph, g);
        used += g;
    }
    snprintf(line + used, sizeof line - used, "%s", lo->ascii ? "| " : "\u2502 ");
    diagram_label(m, e, label, sizeof label);
    utf8_fit(line, sizeof line, label, lo->label_w, lo->ascii);
    fprintf(out, "%s\n", line);
}

static int write_rows(FILE *out, const struct model *m, const struct layout *lo)
{
    struct cursor c = {calloc(lo->n_cols + 1, sizeof *c.next), calloc(lo->n_cols + 1, 1)};
    struct cell *cells = calloc(lo->n_cols * (size_t)lo->lane_w + 1, sizeof *cells);
    int rc = c.next && c.states && cells ? 0 : -1;
    for (uint32_t e = 0; rc == 0 && e < m->tf->n_events; e++) {
        cursor_advance(m, lo, &c, e);
        write_row(out, m, lo, e, c.states, cells);
    }
    free(c.next);
    free(c.states);
    free(cells);
    return rc;
}

/* Writes LINE cut to the width. */
static void write_fitted(FILE *out, const char *line, const struct text_options *o)
{
    char fitted[LINE_MAX_BYTES] = "";
    utf8_fit(fitted, sizeof fitted, line, o->width, o->ascii);
    fprintf(out, "%s\n", fitted);
}

/* Writes TEXT in lines of at most WIDTH columns, broken at spaces, continued indented. */
static void write_wrapped(FILE *out, const char *text, int width, bool ascii)
{
    const int indent = 4;
    char line[LINE_MAX_BYTES] = "", word[LINE_MAX_BYTES];
    int col = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, " ");
        snprintf(word, sizeof word, "%.*s", (int)n, p);
        int w = utf8_width(word);
        if (col > indent && col + 1 + w > width) {
            fprintf(out, "%s\n", line);
            snprintf(line, sizeof line, "%*s", indent, "");
            col = indent;
        }
        if (col > indent || (col > 0 && line[0] != ' '))
            utf8_pad(line, sizeof line, 1), col++;
        col += utf8_fit(line, sizeof line, word, width - col > 1 ? width - col : 1, ascii);
        p += n;
        p += strspn(p, " ");
    }
    fprintf(out, "%s\n", line);
}

int text_write_tasks(FILE *out, const struct model *m, const struct text_options *o)
{
    char line[LINE_MAX_BYTES];
    tasks_header(o->logical, line, sizeof line);
    write_fitted(out, line, o);
    for (uint32_t i = 0; i < m->n_lanes; i++) {
        tasks_row(m, i, o->logical, o->ascii, line, sizeof line);
        write_fitted(out, line, o);
    }
    for (size_t i = 0; i < m->n_warnings; i++) {
        tasks_warning(m, i, line, sizeof line);
        write_wrapped(out, line, o->width, o->ascii);
    }
    return ferror(out) ? -1 : 0;
}

int text_write(FILE *out, const struct model *m, const struct text_options *o)
{
    struct layout lo;
    char line[LINE_MAX_BYTES];
    if (diagram_layout(&lo, m, o->width, NULL, 0, o->ascii, o->logical) < 0)
        return -1;
    write_title(out, m, o);
    diagram_header(m, &lo, line, sizeof line);
    fprintf(out, "%s\n", line);
    int rc = write_rows(out, m, &lo);
    diagram_layout_free(&lo);
    diagram_legend(o->ascii, o->width, line, sizeof line);
    fprintf(out, "\n%s\n\n", line);
    if (rc == 0)
        rc = text_write_tasks(out, m, o);
    return rc < 0 || ferror(out) ? -1 : 0;
}
