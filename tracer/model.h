/* model — what each lane was doing after each event: the tracer's reading of a trace.
 *
 * A trace lists events; a picture needs states. This module replays the events once and
 * records, per lane, each change of state (running, ready, waiting, lent to a generator
 * it resumed, done), the loop's phase after every event (lesson 04 on), the number of
 * ready lanes, and the task table: busy and waiting time, resumes, and the warnings a
 * student should see ("blocked the loop", "never resumed"). Views ask for the state of a
 * lane at any event with a binary search, so scrolling a million events stays cheap.
 */
#ifndef TRACER_MODEL_H
#define TRACER_MODEL_H

#include "tracefile.h"

enum lane_state {
    LS_ABSENT,  /* not started yet, or never mentioned */
    LS_READY,   /* could run: spawned but not started, or woken but not resumed */
    LS_RUNNING,
    LS_LENT,    /* it resumed a generator or coroutine, which runs on its stack now */
    LS_WAITING, /* sleeping, joining, suspended at a yield, or waiting on a future */
    LS_DONE,
    LS_COUNT
};

enum lane_kind { LK_UNKNOWN, LK_MAIN, LK_THREAD, LK_GENERATOR, LK_COROUTINE };

enum loop_phase { PH_NONE, PH_POLL, PH_CALLBACKS, PH_IO, PH_TIMERS };

#define MODEL_NONE UINT32_MAX

struct lane_change {
    uint32_t event; /* the event after which the lane is in STATE */
    uint8_t state;
};

struct lane_info {
    const char *name;
    enum lane_kind kind;
    uint32_t first_thread, last_thread; /* where its events happened; MODEL_NONE if none */
    struct lane_change *changes;
    size_t n_changes, cap;
    /* The task table. */
    uint32_t resumes;
    int64_t busy_us, waiting_us;   /* trace time spent running, waiting */
    size_t busy_steps, waiting_steps; /* events after which it was running, waiting */
    /* Replay bookkeeping. */
    uint32_t resumer;   /* the lane that last resumed it */
    uint32_t run_start; /* the resume that began its current run, or MODEL_NONE */
    double run_sleep_ms; /* document ms of blocking sleeps in the current run */
};

enum warning_kind { WARN_BLOCKED, WARN_NEVER_RESUMED };

struct model_warning {
    enum warning_kind kind;
    uint32_t lane;
    uint32_t event; /* blocked: the resume that began the run; never resumed: the last change */
    double ms;      /* blocked: document ms the run took */
};

struct model_options {
    double block_ms; /* a coroutine run longer than this (document ms) blocked the loop */
    bool logical;    /* judge runs by their blocking sleeps only, not by wall time */
};

struct ready_change {
    uint32_t event;
    uint32_t count; /* lanes ready after the event */
};

struct model {
    const struct tracefile *tf;
    struct lane_info *lanes; /* one per tf->lanes, same order */
    size_t n_lanes;
    uint8_t *phase; /* per event: the loop's phase after it */
    bool has_loop;  /* the trace has lesson 04's loop events */
    struct ready_change *ready;
    size_t n_ready, ready_cap;
    struct model_warning *warnings;
    size_t n_warnings;
};

/* Replays TF (which must outlive the model). Returns 0, or -1 when memory runs out. */
int model_build(struct model *m, const struct tracefile *tf, const struct model_options *o);
void model_free(struct model *m);

/* The state of LANE after event EVENT (MODEL_NONE: before any event). */
enum lane_state model_state_at(const struct model *m, uint32_t lane, uint32_t event);
/* The event that put LANE in the state it has after EVENT, or MODEL_NONE. */
uint32_t model_state_since(const struct model *m, uint32_t lane, uint32_t event);

/* The arrow event EVENT draws, from the lane that acted to the lane it affects: resume,
 * yield, a generator's return, spawn, wake, a join's end (from the ended thread) and an
 * error about another lane. False for events without one. */
bool model_arrow(const struct model *m, uint32_t event, uint32_t *from, uint32_t *to);

/* The first event at or after EVENT after which LANE is running, or MODEL_NONE. */
uint32_t model_next_run(const struct model *m, uint32_t lane, uint32_t event);

const char *model_state_name(enum lane_state s);
const char *model_kind_name(enum lane_kind k);
const char *model_phase_name(enum loop_phase p);

#endif
