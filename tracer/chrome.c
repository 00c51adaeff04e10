/* chrome — the Chrome Trace Event Format export (see chrome.h). */
#include "chrome.h"

#include <string.h>

#include "utf8.h"

#define PID 1

/* Writes S as a JSON string: quotes, backslashes and control characters escaped, bytes
 * that are not UTF-8 replaced, so that any trace makes valid JSON. */
static void json_string(FILE *out, const char *s)
{
    size_t n = strlen(s);
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        int32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (cp < 0)
            fputs("\\ufffd", out);
        else if (cp == '"' || cp == '\\')
            fprintf(out, "\\%c", (char)cp);
        else if (cp < 0x20 || cp == 0x7f)
            fprintf(out, "\\u%04x", (unsigned)cp);
        else
            fwrite(s + i, 1, len, out);
        i += len;
    }
    fputc('"', out);
}

/* Starts an event object; the caller adds its own fields and the closing brace. */
static void begin(FILE *out, bool *first, const char *ph, const char *name, uint32_t tid, int64_t ts)
{
    fputs(*first ? "\n" : ",\n", out);
    *first = false;
    fprintf(out, "{\"ph\":\"%s\",\"pid\":%d,\"tid\":%u,\"ts\":%lld,\"name\":", ph, PID, tid, (long long)ts);
    json_string(out, name);
}

static int64_t time_of(const struct model *m, uint32_t e)
{
    return m->tf->events[e].time;
}

static int64_t end_time(const struct model *m)
{
    return m->tf->n_events ? time_of(m, (uint32_t)m->tf->n_events - 1) : 0;
}

static void write_names(FILE *out, const struct model *m, bool *first)
{
    begin(out, first, "M", "process_name", 0, 0);
    fputs(",\"args\":{\"name\":", out);
    json_string(out, *m->tf->program ? m->tf->program : "asynctrace");
    fputs("}}", out);
    for (uint32_t i = 0; i < m->n_lanes; i++) {
        char name[512];
        snprintf(name, sizeof name, "%s (%s)", m->lanes[i].name, model_kind_name(m->lanes[i].kind));
        begin(out, first, "M", "thread_name", i + 1, 0);
        fputs(",\"args\":{\"name\":", out);
        json_string(out, name);
        fputs("}}", out);
        begin(out, first, "M", "thread_sort_index", i + 1, 0);
        fprintf(out, ",\"args\":{\"sort_index\":%u}}", i);
    }
    if (m->has_loop) {
        begin(out, first, "M", "thread_name", (uint32_t)m->n_lanes + 1, 0);
        fputs(",\"args\":{\"name\":\"loop phases\"}}", out);
    }
}

/* What a lane waits for, from the event that made it wait. */
static void wait_name(const struct model *m, uint32_t e, char *out, size_t outsz)
{
    const struct trace_event *ev = &m->tf->events[e];
    const char *peer = ev->peer == TRACEFILE_NO_PEER ? "" : m->lanes[ev->peer].name;
    switch (ev->kind) {
    case EV_SLEEP_BEGIN: snprintf(out, outsz, "sleep %s s", ev->text); break;
    case EV_JOIN_BEGIN: snprintf(out, outsz, "join %s", peer); break;
    case EV_YIELD: snprintf(out, outsz, "suspended at a yield"); break;
    case EV_WAIT: snprintf(out, outsz, "wait %s", ev->text); break;
    case EV_POLL_BEGIN: snprintf(out, outsz, "epoll_wait"); break;
    default: snprintf(out, outsz, "waiting"); break;
    }
}

/* The runs (X) and waits (b/e) of lane I. */
static void write_lane(FILE *out, const struct model *m, uint32_t i, bool *first, unsigned *wait_id)
{
    const struct lane_info *l = &m->lanes[i];
    for (size_t c = 0; c < l->n_changes; c++) {
        uint32_t from = l->changes[c].event;
        int64_t t0 = time_of(m, from);
        int64_t t1 = c + 1 < l->n_changes ? time_of(m, l->changes[c + 1].event) : end_time(m);
        if (l->changes[c].state == LS_RUNNING) {
            begin(out, first, "X", l->name, i + 1, t0);
            fprintf(out, ",\"cat\":\"run\",\"dur\":%lld,\"args\":{\"step\":%u}}", (long long)(t1 - t0), from + 1);
        } else if (l->changes[c].state == LS_WAITING) {
            char name[512];
            wait_name(m, from, name, sizeof name);
            unsigned id = ++*wait_id;
            begin(out, first, "b", name, i + 1, t0);
            fprintf(out, ",\"cat\":\"wait\",\"id\":%u}", id);
            begin(out, first, "e", name, i + 1, t1);
            fprintf(out, ",\"cat\":\"wait\",\"id\":%u%s}", id,
                    c + 1 < l->n_changes ? "" : ",\"args\":{\"at exit\":\"still waiting\"}");
        }
    }
}

/* Printed lines, callbacks and errors, as instants on their lane. */
static void write_instants(FILE *out, const struct model *m, bool *first)
{
    for (uint32_t e = 0; e < m->tf->n_events; e++) {
        const struct trace_event *ev = &m->tf->events[e];
        const char *cat = ev->kind == EV_PRINT ? "print" : ev->kind == EV_CALLBACK ? "callback"
                        : ev->kind == EV_ERROR ? "error" : NULL;
        if (!cat)
            continue;
        begin(out, first, "i", ev->text, ev->lane + 1, ev->time);
        fprintf(out, ",\"cat\":\"%s\",\"s\":\"t\"}", cat);
    }
}

/* Where an arrow leaves: the event itself if the acting lane was running then, else
 * the end of its last run (a coroutine yields after it waits; a join ends after the
 * thread ended). -1 if it never ran. */
static int64_t flow_start(const struct model *m, uint32_t e, uint32_t from)
{
    uint32_t before = e ? e - 1 : MODEL_NONE;
    enum lane_state s = model_state_at(m, from, before);
    if (s == LS_RUNNING || (e == 0 && s == LS_ABSENT))
        return time_of(m, e);
    uint32_t since = model_state_since(m, from, before);
    return since == MODEL_NONE ? -1 : time_of(m, since);
}

/* An arrow per hand-over or wake-up, bound to the run of the lane it lets run. */
static void write_flows(FILE *out, const struct model *m, bool *first)
{
    unsigned id = 0;
    for (uint32_t e = 0; e < m->tf->n_events; e++) {
        uint32_t from, to;
        if (!model_arrow(m, e, &from, &to))
            continue;
        uint32_t run = model_next_run(m, to, e);
        int64_t start = flow_start(m, e, from);
        if (run == MODEL_NONE || start < 0)
            continue;
        const char *name = tracefile_kind_name(m->tf->events[e].kind);
        id++;
        begin(out, first, "s", name, from + 1, start);
        fprintf(out, ",\"cat\":\"flow\",\"id\":%u}", id);
        begin(out, first, "f", name, to + 1, time_of(m, run));
        fprintf(out, ",\"cat\":\"flow\",\"id\":%u,\"bp\":\"e\"}", id);
    }
}

static void write_ready(FILE *out, const struct model *m, bool *first)
{
    begin(out, first, "C", "ready lanes", 0, 0);
    fputs(",\"args\":{\"ready\":0}}", out);
    for (size_t i = 0; i < m->n_ready; i++) {
        begin(out, first, "C", "ready lanes", 0, time_of(m, m->ready[i].event));
        fprintf(out, ",\"args\":{\"ready\":%u}}", m->ready[i].count);
    }
}

/* The loop's phases (lesson 04 on) as slices on a track of their own. */
static void write_phases(FILE *out, const struct model *m, bool *first)
{
    uint32_t tid = (uint32_t)m->n_lanes + 1;
    for (uint32_t e = 0; e < m->tf->n_events;) {
        uint32_t end = e + 1;
        while (end < m->tf->n_events && m->phase[end] == m->phase[e])
            end++;
        if (m->phase[e] != PH_NONE) {
            int64_t t1 = end < m->tf->n_events ? time_of(m, end) : end_time(m);
            begin(out, first, "X", model_phase_name((enum loop_phase)m->phase[e]), tid, time_of(m, e));
            fprintf(out, ",\"cat\":\"loop\",\"dur\":%lld}", (long long)(t1 - time_of(m, e)));
        }
        e = end;
    }
}

int chrome_write(FILE *out, const struct model *m)
{
    bool first = true;
    unsigned wait_id = 0;
    fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", out);
    write_names(out, m, &first);
    for (uint32_t i = 0; i < m->n_lanes; i++)
        write_lane(out, m, i, &first, &wait_id);
    write_instants(out, m, &first);
    write_flows(out, m, &first);
    write_ready(out, m, &first);
    if (m->has_loop)
        write_phases(out, m, &first);
    fputs("\n]}\n", out);
    return ferror(out) ? -1 : 0;
}
