/* Pair periodic_overrun: a periodic callback whose body outlasts its period (Tornado's
 * PeriodicCallback, reference §1).
 *
 * Period 100 ms; each run keeps the loop busy until 250 ms past the start of its slot,
 * so it overruns into the middle of the third slot after it. The schedule stays on the
 * grid counted from start and skips the slots it missed: runs land in slots 1, 4, 7
 * (the first call comes one period after start). Each run prints the slot it is in,
 * rounded from the time since start, so the output holds no raw times; a run may start
 * up to half a period late, and the decision to skip is taken half a period away from
 * any slot boundary, so a loaded machine prints the same lines. */
#include <math.h>

#include "pair.h"

#define PERIOD 0.1
#define BUSY 0.25
#define RUNS 3

struct overrun {
    ioloop_t *loop;
    ioloop_periodic_t *pc;
    double start;
    int runs;
    future_t *done;
};

static void run(void *arg)
{
    struct overrun *o = arg;
    long slot = lround((ioloop_time(o->loop) - o->start) / PERIOD);
    printf("run %d in slot %ld\n", ++o->runs, slot);
    if (o->runs == RUNS) {
        ioloop_periodic_stop(o->pc);
        future_set_result(o->done, NULL);
        return;
    }
    double end = o->start + slot * PERIOD + BUSY;
    while (ioloop_time(o->loop) < end)
        ;
}

static void *body(void *arg)
{
    (void)arg;
    struct overrun o = {.loop = ioloop_current(), .runs = 0};
    o.done = future_new("done");
    future_ref(o.done); /* one to await, one for run() to resolve */
    o.pc = ioloop_periodic_new(o.loop, PERIOD, run, &o);
    o.start = ioloop_time(o.loop);
    ioloop_periodic_start(o.pc);
    int err = coro_await(o.done, NULL);
    ioloop_periodic_free(o.pc);
    future_unref(o.done);
    if (err)
        return coro_fail_again();
    printf("main: stopped after %d runs\n", o.runs);
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
