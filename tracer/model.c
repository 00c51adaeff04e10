/* model — replays a trace into lane states (see model.h). */
#include "model.h"

#include <stdlib.h>
#include <string.h>

const char *model_state_name(enum lane_state s)
{
    static const char *const names[LS_COUNT] = {"not started", "ready", "running", "lent", "waiting",
                                                "done"};
    return s < LS_COUNT ? names[s] : "?";
}

const char *model_kind_name(enum lane_kind k)
{
    static const char *const names[] = {"lane", "main", "thread", "generator", "coroutine"};
    return names[k];
}

const char *model_phase_name(enum loop_phase p)
{
    static const char *const names[] = {"", "epoll_wait", "callbacks", "I/O", "timers"};
    return names[p];
}

/* The replay in progress: the model, plus what it needs to remember between events. */
struct replay {
    struct model *m;
    const struct model_options *o;
    uint32_t ready_now;
    enum loop_phase phase;
    bool failed;
};

static enum lane_state current(const struct lane_info *l)
{
    return l->n_changes ? (enum lane_state)l->changes[l->n_changes - 1].state : LS_ABSENT;
}

/* Puts LANE in STATE after event E, recording the change if it is one. */
static void set_state(struct replay *r, uint32_t lane, enum lane_state state, uint32_t e)
{
    struct lane_info *l = &r->m->lanes[lane];
    enum lane_state old = current(l);
    if (old == state)
        return;
    if (l->n_changes == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct lane_change *c = realloc(l->changes, cap * sizeof *c);
        if (!c) {
            r->failed = true;
            return;
        }
        l->changes = c;
        l->cap = cap;
    }
    /* Two changes after one event: the last one is the state after it. */
    if (l->n_changes && l->changes[l->n_changes - 1].event == e)
        l->n_changes--;
    r->ready_now += (state == LS_READY) - (old == LS_READY);
    if (current(l) != state)
        l->changes[l->n_changes++] = (struct lane_change){e, (uint8_t)state};
}

/* The lane acting in an event is running, whatever the trace said before. */
static void acting(struct replay *r, uint32_t lane, uint32_t e)
{
    set_state(r, lane, LS_RUNNING, e);
}

static void set_kind(struct lane_info *l, const char *text)
{
    if (l->kind == LK_COROUTINE)
        return;
    if (strcmp(text, "main") == 0)
        l->kind = LK_MAIN;
    else if (strcmp(text, "thread") == 0)
        l->kind = LK_THREAD;
    else if (strcmp(text, "generator") == 0)
        l->kind = LK_GENERATOR;
    else if (strcmp(text, "coroutine") == 0)
        l->kind = LK_COROUTINE;
}

static int add_warning(struct model *m, struct model_warning w)
{
    struct model_warning *ws = realloc(m->warnings, (m->n_warnings + 1) * sizeof *ws);
    if (!ws)
        return -1;
    m->warnings = ws;
    m->warnings[m->n_warnings++] = w;
    return 0;
}

/* A coroutine's run ends (it yields, waits or returns): did it hold the loop too long?
 * In logical mode only its blocking sleeps count, so that the verdict is the same on
 * every run; otherwise the time it took. One warning per lane: its longest run. */
static void end_run(struct replay *r, uint32_t lane, uint32_t e)
{
    struct lane_info *l = &r->m->lanes[lane];
    if (l->kind != LK_COROUTINE || l->run_start == MODEL_NONE)
        return;
    const struct tracefile *tf = r->m->tf;
    double ms = r->o->logical ? l->run_sleep_ms
                              : tracefile_doc_seconds(tf, tf->events[e].time - tf->events[l->run_start].time) * 1000;
    uint32_t start = l->run_start;
    l->run_start = MODEL_NONE;
    if (ms <= r->o->block_ms)
        return;
    for (size_t i = 0; i < r->m->n_warnings; i++) {
        struct model_warning *w = &r->m->warnings[i];
        if (w->kind == WARN_BLOCKED && w->lane == lane) {
            if (ms > w->ms)
                *w = (struct model_warning){WARN_BLOCKED, lane, start, ms};
            return;
        }
    }
    if (add_warning(r->m, (struct model_warning){WARN_BLOCKED, lane, start, ms}) < 0)
        r->failed = true;
}

static enum loop_phase phase_of(const char *text)
{
    if (strncmp(text, "callbacks", 9) == 0)
        return PH_CALLBACKS;
    if (strncmp(text, "io", 2) == 0)
        return PH_IO;
    if (strncmp(text, "timers", 6) == 0)
        return PH_TIMERS;
    return PH_NONE;
}

/* The loop's events move its phase; every other event leaves it. */
static void track_phase(struct replay *r, const struct trace_event *ev)
{
    switch (ev->kind) {
    case EV_LOOP_ITERATION: r->phase = PH_NONE; break;
    case EV_POLL_BEGIN: r->phase = PH_POLL; break;
    case EV_POLL_END: r->phase = PH_NONE; break;
    case EV_LOOP_PHASE: r->phase = phase_of(ev->text); break;
    default: return;
    }
    r->m->has_loop = true;
}

/* A generator's resumer gets control back when it yields, waits or returns. */
static void give_back(struct replay *r, uint32_t to, uint32_t e)
{
    if (to != TRACEFILE_NO_PEER && current(&r->m->lanes[to]) == LS_LENT)
        set_state(r, to, LS_RUNNING, e);
}

static void apply_pairs(struct replay *r, const struct trace_event *ev, uint32_t e)
{
    struct model *m = r->m;
    struct lane_info *l = &m->lanes[ev->lane];
    uint32_t peer = ev->peer;
    switch (ev->kind) {
    case EV_RESUME:
        set_state(r, ev->lane, LS_LENT, e);
        if (peer != TRACEFILE_NO_PEER) {
            struct lane_info *p = &m->lanes[peer];
            set_state(r, peer, LS_RUNNING, e);
            p->resumer = ev->lane;
            p->resumes++;
            p->run_start = e;
            p->run_sleep_ms = 0;
        }
        break;
    case EV_YIELD:
        set_state(r, ev->lane, LS_WAITING, e);
        end_run(r, ev->lane, e);
        give_back(r, peer != TRACEFILE_NO_PEER ? peer : l->resumer, e);
        break;
    case EV_WAIT:
        set_state(r, ev->lane, LS_WAITING, e);
        end_run(r, ev->lane, e);
        give_back(r, l->resumer, e);
        break;
    case EV_LANE_END:
        set_state(r, ev->lane, LS_DONE, e);
        end_run(r, ev->lane, e);
        give_back(r, peer != TRACEFILE_NO_PEER ? peer : l->resumer, e);
        break;
    case EV_WAKE:
        acting(r, ev->lane, e);
        if (peer != TRACEFILE_NO_PEER && current(&m->lanes[peer]) != LS_DONE)
            set_state(r, peer, LS_READY, e);
        break;
    case EV_SPAWN:
        acting(r, ev->lane, e);
        if (peer != TRACEFILE_NO_PEER) {
            set_kind(&m->lanes[peer], ev->text);
            if (current(&m->lanes[peer]) == LS_ABSENT)
                set_state(r, peer, LS_READY, e);
        }
        break;
    default:
        break;
    }
}

/* Moves the lanes EV concerns into their new states. */
static void apply(struct replay *r, const struct trace_event *ev, uint32_t e)
{
    struct lane_info *l = &r->m->lanes[ev->lane];
    if (l->first_thread == MODEL_NONE)
        l->first_thread = ev->thread;
    l->last_thread = ev->thread;
    switch (ev->kind) {
    case EV_LANE_START:
        set_kind(l, ev->text);
        acting(r, ev->lane, e);
        break;
    case EV_SLEEP_BEGIN:
        acting(r, ev->lane, e);
        /* A thread that sleeps waits; a coroutine that sleeps holds its loop's thread:
         * it is busy, and everything else on that thread with it (lesson 04's trap). */
        if (l->kind != LK_COROUTINE)
            set_state(r, ev->lane, LS_WAITING, e);
        l->run_sleep_ms += strtod(ev->text, NULL) * 1000;
        break;
    case EV_JOIN_BEGIN:
        set_state(r, ev->lane, LS_WAITING, e);
        break;
    case EV_POLL_BEGIN: /* the loop blocks in epoll_wait unless callbacks wait */
        set_state(r, ev->lane, strcmp(ev->text, "0") == 0 ? LS_RUNNING : LS_WAITING, e);
        break;
    case EV_RESUME: case EV_YIELD: case EV_WAIT: case EV_LANE_END: case EV_WAKE: case EV_SPAWN:
        apply_pairs(r, ev, e);
        break;
    default: /* sleep_end, join_end, print, callback, error and the loop's own events */
        acting(r, ev->lane, e);
        break;
    }
    track_phase(r, ev);
}

/* Records the number of ready lanes after event E if it changed. */
static void track_ready(struct replay *r, uint32_t e)
{
    struct model *m = r->m;
    uint32_t last = m->n_ready ? m->ready[m->n_ready - 1].count : 0;
    if (r->ready_now == last)
        return;
    if (m->n_ready == m->ready_cap) {
        size_t cap = m->ready_cap ? m->ready_cap * 2 : 16;
        struct ready_change *c = realloc(m->ready, cap * sizeof *c);
        if (!c) {
            r->failed = true;
            return;
        }
        m->ready = c;
        m->ready_cap = cap;
    }
    m->ready[m->n_ready++] = (struct ready_change){e, r->ready_now};
}

/* Sums, per lane, the steps and the trace time spent running and waiting. */
static void total_times(struct model *m)
{
    const struct tracefile *tf = m->tf;
    int64_t end_time = tf->n_events ? tf->events[tf->n_events - 1].time : 0;
    for (size_t i = 0; i < m->n_lanes; i++) {
        struct lane_info *l = &m->lanes[i];
        for (size_t c = 0; c < l->n_changes; c++) {
            uint32_t from = l->changes[c].event;
            uint32_t to = c + 1 < l->n_changes ? l->changes[c + 1].event : (uint32_t)tf->n_events;
            int64_t span = (to < tf->n_events ? tf->events[to].time : end_time) - tf->events[from].time;
            if (l->changes[c].state == LS_RUNNING) {
                l->busy_steps += to - from;
                l->busy_us += span;
            } else if (l->changes[c].state == LS_WAITING) {
                l->waiting_steps += to - from;
                l->waiting_us += span;
            }
        }
    }
}

/* Generators and coroutines still waiting (or woken, not resumed) when the trace ends. */
static int find_never_resumed(struct model *m)
{
    for (uint32_t i = 0; i < m->n_lanes; i++) {
        struct lane_info *l = &m->lanes[i];
        enum lane_state s = current(l);
        if ((l->kind == LK_GENERATOR || l->kind == LK_COROUTINE) && (s == LS_WAITING || s == LS_READY) &&
            add_warning(m, (struct model_warning){WARN_NEVER_RESUMED, i, l->changes[l->n_changes - 1].event, 0}) < 0)
            return -1;
    }
    return 0;
}

int model_build(struct model *m, const struct tracefile *tf, const struct model_options *o)
{
    memset(m, 0, sizeof *m);
    m->tf = tf;
    m->n_lanes = tf->n_lanes;
    m->lanes = calloc(m->n_lanes ? m->n_lanes : 1, sizeof *m->lanes);
    m->phase = malloc(tf->n_events ? tf->n_events : 1);
    if (!m->lanes || !m->phase)
        return model_free(m), -1;
    for (size_t i = 0; i < m->n_lanes; i++) {
        m->lanes[i] = (struct lane_info){.name = tf->lanes[i], .first_thread = MODEL_NONE,
                                         .last_thread = MODEL_NONE, .resumer = TRACEFILE_NO_PEER,
                                         .run_start = MODEL_NONE};
    }
    struct replay r = {.m = m, .o = o};
    for (uint32_t e = 0; e < tf->n_events && !r.failed; e++) {
        apply(&r, &tf->events[e], e);
        m->phase[e] = (uint8_t)r.phase;
        track_ready(&r, e);
    }
    if (r.failed || find_never_resumed(m) < 0)
        return model_free(m), -1;
    total_times(m);
    return 0;
}

void model_free(struct model *m)
{
    for (size_t i = 0; m->lanes && i < m->n_lanes; i++)
        free(m->lanes[i].changes);
    free(m->lanes);
    free(m->phase);
    free(m->ready);
    free(m->warnings);
    memset(m, 0, sizeof *m);
}

/* The index of LANE's last change at or before EVENT, or -1. */
static long change_at(const struct lane_info *l, uint32_t event)
{
    long lo = 0, hi = (long)l->n_changes - 1, found = -1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (l->changes[mid].event <= event)
            found = mid, lo = mid + 1;
        else
            hi = mid - 1;
    }
    return found;
}

enum lane_state model_state_at(const struct model *m, uint32_t lane, uint32_t event)
{
    if (event == MODEL_NONE)
        return LS_ABSENT;
    long c = change_at(&m->lanes[lane], event);
    return c < 0 ? LS_ABSENT : (enum lane_state)m->lanes[lane].changes[c].state;
}

uint32_t model_state_since(const struct model *m, uint32_t lane, uint32_t event)
{
    long c = event == MODEL_NONE ? -1 : change_at(&m->lanes[lane], event);
    return c < 0 ? MODEL_NONE : m->lanes[lane].changes[c].event;
}

uint32_t model_next_run(const struct model *m, uint32_t lane, uint32_t event)
{
    const struct lane_info *l = &m->lanes[lane];
    long c = change_at(l, event);
    if (c >= 0 && l->changes[c].state == LS_RUNNING && l->changes[c].event == event)
        return event;
    for (size_t i = (size_t)(c + 1); i < l->n_changes; i++)
        if (l->changes[i].state == LS_RUNNING)
            return l->changes[i].event;
    return MODEL_NONE;
}

bool model_arrow(const struct model *m, uint32_t event, uint32_t *from, uint32_t *to)
{
    const struct trace_event *ev = &m->tf->events[event];
    if (ev->peer == TRACEFILE_NO_PEER || ev->peer == ev->lane)
        return false;
    switch (ev->kind) {
    case EV_RESUME: case EV_YIELD: case EV_LANE_END: case EV_SPAWN: case EV_WAKE: case EV_ERROR:
        *from = ev->lane, *to = ev->peer;
        return true;
    case EV_JOIN_END:
        *from = ev->peer, *to = ev->lane;
        return true;
    default:
        return false;
    }
}
