/* tasks — the task table and its warnings (see tasks.h). */
#include "tasks.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

void tasks_header(bool logical, char *out, size_t outsz)
{
    snprintf(out, outsz, "%-12s %-9s %-13s %-11s %8s %8s %7s", "lane", "kind", "thread", "at the end",
             logical ? "busy" : "busy s", logical ? "waiting" : "wait s", "resumes");
}

/* Appends S cut or padded to exactly W columns, then a space. */
static void column(char *out, size_t outsz, const char *s, int w, bool ascii)
{
    int used = utf8_fit(out, outsz, s, w, ascii);
    utf8_pad(out, outsz, w - used + 1);
}

/* The threads a lane ran on: one, or first and last when it moved. */
static void threads_of(const struct model *m, const struct lane_info *l, bool ascii, char *out, size_t outsz)
{
    const struct tracefile *tf = m->tf;
    if (l->first_thread == MODEL_NONE)
        snprintf(out, outsz, "-");
    else if (l->first_thread == l->last_thread)
        snprintf(out, outsz, "%s", tf->threads[l->first_thread]);
    else
        snprintf(out, outsz, "%s%s%s", tf->threads[l->first_thread], ascii ? "->" : "\u2192",
                 tf->threads[l->last_thread]);
}

void tasks_row(const struct model *m, uint32_t lane, bool logical, bool ascii, char *out, size_t outsz)
{
    const struct lane_info *l = &m->lanes[lane];
    char threads[128], numbers[64];
    enum lane_state end = model_state_at(m, lane, m->tf->n_events ? (uint32_t)m->tf->n_events - 1 : MODEL_NONE);
    threads_of(m, l, ascii, threads, sizeof threads);
    out[0] = '\0';
    column(out, outsz, l->name, 12, ascii);
    column(out, outsz, model_kind_name(l->kind), 9, ascii);
    column(out, outsz, threads, 13, ascii);
    column(out, outsz, model_state_name(end), 11, ascii);
    if (logical)
        snprintf(numbers, sizeof numbers, "%8zu %8zu %7u", l->busy_steps, l->waiting_steps, l->resumes);
    else
        snprintf(numbers, sizeof numbers, "%8.2f %8.2f %7u", tracefile_doc_seconds(m->tf, l->busy_us),
                 tracefile_doc_seconds(m->tf, l->waiting_us), l->resumes);
    size_t used = strlen(out);
    snprintf(out + used, outsz - used, "%s", numbers);
}

/* Why a lane waits at the end: the event that left it waiting. */
static void waiting_reason(const struct model *m, const struct model_warning *w, char *out, size_t outsz)
{
    const struct trace_event *ev = &m->tf->events[w->event];
    if (ev->kind == EV_WAKE)
        snprintf(out, outsz, "it was woken (%s) but the trace ends before it runs", ev->text);
    else if (ev->kind == EV_WAIT)
        snprintf(out, outsz, "it still waits on %s when the trace ends", ev->text);
    else if (ev->kind == EV_YIELD)
        snprintf(out, outsz, "it still waits at its yield when the trace ends");
    else
        snprintf(out, outsz, "it is still %s when the trace ends",
                 model_state_name(model_state_at(m, w->lane, w->event)));
}

void tasks_warning(const struct model *m, size_t i, char *out, size_t outsz)
{
    const struct model_warning *w = &m->warnings[i];
    const char *name = m->lanes[w->lane].name;
    if (w->kind == WARN_BLOCKED) {
        snprintf(out, outsz, "warning: %s blocked the loop for %.0f ms (document time) without yielding, "
                 "from step %u", name, w->ms, w->event + 1);
        return;
    }
    char why[256];
    waiting_reason(m, w, why, sizeof why);
    snprintf(out, outsz, "warning: %s never resumed: %s", name, why);
}
