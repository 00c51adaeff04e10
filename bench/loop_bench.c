/* loop_bench — lesson 04's event loop under load, one workload per run.
 *
 * The same workloads as loop_bench_tornado.py, so that run-loop-bench can print the two
 * side by side (bench/README.md says what each measures and why it is built so):
 *
 *     switch         two coroutines hand the turn to each other through futures
 *     gen-switch     lesson 03's bare generator: gen_send in, gen_yield out, no loop
 *     callbacks      1,000,000 ioloop_add_callback queued at once, then run
 *     timers         1,000,000 ioloop_call_later, deadlines spread over 10 ms
 *     timers-cancel  the same, every other timer removed before the loop runs
 *     sleepers       100,000 coroutines alive at once, each sleeping once
 *     queue          1,000,000 items through a queue of maxsize 1, producer to consumer
 *
 *     loop_bench queue -n 1000000
 *     bench=queue impl=c n=1000000 seconds=0.41 ns_per_op=410.0 peak_rss_kib=3000
 *
 * Each run is a fresh process, so peak_rss_kib (VmHWM) is this workload's peak.
 */
#include "coro.h"
#include "future.h"
#include "gen.h"
#include "ioloop.h"
#include "queue.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TIMER_SPREAD 0.010 /* timers' deadlines spread over 10 ms, as in the Python twin */
#define SLEEP 0.010        /* each sleeper sleeps 10 ms */
#define MAP_COUNT_PATH "/proc/sys/vm/max_map_count"
#define MAP_COUNT_GOOD 262144 /* what the README tells people to set */
#define MAP_SLACK 1000        /* mappings for everything but the stacks */

/* A workload runs n operations and returns how many it did (-1: it failed, and said
 * why); *seconds is the time they took. */
typedef long workload_fn(long n, double *seconds);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        perror("loop_bench");
        exit(1);
    }
    return p;
}

/* Runs fn(arg) on the loop until its future is done; 0 if it succeeded. */
static int run_main(future_t *(*fn)(void *arg), void *arg)
{
    future_t *f = ioloop_run_sync(ioloop_current(), fn, arg, 0);
    int err = future_error(f);
    if (err)
        fprintf(stderr, "loop_bench: %s\n", future_error_message(f));
    future_unref(f);
    return err ? -1 : 0;
}

/* switch: A and B each await the future in their own box slot; woken, each puts a new
 * one there and resolves the other's. One hand-off = one resume + one suspend. */
struct player {
    struct pingpong *pp;
    int me; /* 0 or 1: which box is ours */
};
struct pingpong {
    future_t *box[2];
    struct player players[2];
    long rounds;
    double start;
};

static void *player(void *arg)
{
    struct player *p = arg;
    struct pingpong *pp = p->pp;
    for (long i = 0; i < pp->rounds; i++) {
        if (coro_await(pp->box[p->me], NULL)) /* takes over the box's reference */
            return coro_fail_again();
        pp->box[p->me] = future_new("ping");
        future_set_result(pp->box[!p->me], NULL);
    }
    return NULL;
}

static future_t *pingpong_main(void *arg)
{
    struct pingpong *pp = arg;
    future_t *both[2];
    for (int i = 0; i < 2; i++) {
        pp->box[i] = future_new("ping");
        pp->players[i] = (struct player){pp, i};
        both[i] = coro_spawn(i ? "B" : "A", player, &pp->players[i]);
    }
    pp->start = now();
    future_set_result(pp->box[0], NULL);
    return coro_multi(both, 2);
}

static long bench_switch(long n, double *seconds)
{
    struct pingpong pp = {.rounds = n / 2};
    int err = run_main(pingpong_main, &pp);
    *seconds = now() - pp.start;
    future_unref(pp.box[0]); /* the last two, made and never awaited */
    future_unref(pp.box[1]);
    return err ? -1 : pp.rounds * 2;
}

/* gen-switch: an echo generator; each gen_send is one resume and one suspend. NULL
 * ends it. */
static void *echo(gen_t *self)
{
    void *v = gen_yield(self, NULL);
    while (v)
        v = gen_yield(self, v);
    return NULL;
}

static long bench_gen_switch(long n, double *seconds)
{
    gen_t *g = gen_create("echo", echo, NULL);
    gen_next(g);
    double start = now();
    long bad = 0;
    for (long i = 1; i <= n; i++) {
        void *out;
        bad += gen_send(g, (void *)(uintptr_t)i, &out) != GEN_YIELDED ||
               out != (void *)(uintptr_t)i;
    }
    *seconds = now() - start;
    bad += gen_send(g, NULL, NULL) != GEN_RETURNED;
    gen_free(g);
    if (bad)
        fprintf(stderr, "loop_bench: gen-switch: %ld sends went wrong\n", bad);
    return bad ? -1 : n;
}

/* A count of calls still to come; the last stops the loop. */
struct countdown {
    ioloop_t *loop;
    long left;
};

static void tick(void *arg)
{
    struct countdown *c = arg;
    if (--c->left == 0)
        ioloop_stop(c->loop);
}

/* Runs the loop until c reaches 0; -1 if it stopped for another reason. */
static int run_until_zero(struct countdown *c)
{
    if (ioloop_start(c->loop) < 0 || c->left != 0) {
        fprintf(stderr, "loop_bench: the loop stopped with %ld calls to come: %s\n", c->left,
                strerror(errno));
        return -1;
    }
    return 0;
}

static long bench_callbacks(long n, double *seconds)
{
    struct countdown c = {ioloop_current(), n};
    double start = now();
    for (long i = 0; i < n; i++)
        ioloop_add_callback(c.loop, tick, &c);
    int err = run_until_zero(&c);
    *seconds = now() - start;
    return err ? -1 : n;
}

/* The i-th of n delays in [0, TIMER_SPREAD), scrambled: 7919 is prime, so i -> 7919i
 * mod n is a permutation whenever n is not a multiple of 7919. */
static double spread_delay(long i, long n)
{
    return (double)((i * 7919) % n) / (double)n * TIMER_SPREAD;
}

static long bench_timers(long n, double *seconds)
{
    struct countdown c = {ioloop_current(), n};
    double start = now();
    for (long i = 0; i < n; i++)
        ioloop_call_later(c.loop, spread_delay(i, n), "timer", tick, &c);
    int err = run_until_zero(&c);
    *seconds = now() - start;
    return err ? -1 : n;
}

static long bench_timers_cancel(long n, double *seconds)
{
    struct countdown c = {ioloop_current(), n - n / 2};
    ioloop_timeout_t *t = xcalloc((size_t)n, sizeof *t);
    double start = now();
    for (long i = 0; i < n; i++)
        t[i] = ioloop_call_later(c.loop, spread_delay(i, n), "timer", tick, &c);
    long failed = 0;
    for (long i = 1; i < n; i += 2)
        failed += ioloop_remove_timeout(c.loop, t[i]) != 0;
    int err = failed ? -1 : run_until_zero(&c);
    *seconds = now() - start;
    free(t);
    if (failed)
        fprintf(stderr, "loop_bench: %ld of %ld timers could not be removed\n", failed, n / 2);
    return err ? -1 : n;
}

/* sleepers: each coroutine stack is two mappings (guard page and stack), and the kernel
 * allows vm.max_map_count mappings per process. */
static long read_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f && fscanf(f, "%ld", &v) != 1)
        v = -1;
    if (f)
        fclose(f);
    return v;
}

static long mappings_now(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    long lines = 0;
    for (int ch; f && (ch = getc(f)) != EOF;)
        lines += ch == '\n';
    if (f)
        fclose(f);
    return lines;
}

static int write_long(const char *path, long v)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%ld\n", v) > 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* How many coroutines fit under vm.max_map_count: n after raising it (as root), or the
 * largest count that fits, saying how to get more. */
static long fit_map_count(long n)
{
    long max = read_long(MAP_COUNT_PATH), used = mappings_now() + MAP_SLACK;
    long need = 2 * n + used;
    if (max < 0 || need <= max)
        return n;
    long want = need > MAP_COUNT_GOOD ? need : MAP_COUNT_GOOD;
    if (geteuid() == 0 && write_long(MAP_COUNT_PATH, want) == 0) {
        fprintf(stderr, "loop_bench: raised vm.max_map_count from %ld to %ld (running as root): "
                "%ld coroutine stacks take two mappings each\n", max, want, n);
        return n;
    }
    long fit = (max - used) / 2;
    fprintf(stderr, "loop_bench: vm.max_map_count is %ld, too low for %ld coroutines (two "
            "mappings per stack); measuring %ld. For all of them, as root:\n"
            "    sysctl -w vm.max_map_count=%ld\n", max, n, fit, want);
    return fit;
}

static void *sleeper(void *arg)
{
    if (coro_await(coro_sleep(SLEEP), NULL))
        return coro_fail_again();
    tick(arg);
    return NULL;
}

/* Spawns up to n sleepers into f[], stopping at the first that cannot start (out of
 * mappings or address space): returns how many are asleep. */
static long spawn_sleepers(future_t **f, long n, struct countdown *c)
{
    for (long i = 0; i < n; i++) {
        f[i] = coro_spawn("sleeper", sleeper, c);
        if (future_failed(f[i])) {
            fprintf(stderr, "loop_bench: sleeper %ld of %ld: %s\n", i + 1, n,
                    future_error_message(f[i]));
            future_unref(f[i]);
            return i;
        }
    }
    return n;
}

static long bench_sleepers(long n, double *seconds)
{
    n = fit_map_count(n);
    future_t **f = xcalloc((size_t)n, sizeof *f);
    double start = now();
    struct countdown c = {ioloop_current(), n};
    long asleep = spawn_sleepers(f, n, &c);
    c.left -= n - asleep; /* those that started still run to their end */
    int err = asleep > 0 && run_until_zero(&c) < 0;
    *seconds = now() - start;
    for (long i = 0; i < asleep; i++)
        future_unref(f[i]);
    free(f);
    return err || asleep < n ? -1 : n;
}

/* queue: item i (as a pointer, from 1) goes through a maxsize-1 queue. */
struct qbench {
    queue_t *q;
    long n;
};

static void *producer(void *arg)
{
    struct qbench *b = arg;
    for (long i = 1; i <= b->n; i++)
        if (coro_await(queue_put(b->q, (void *)(uintptr_t)i, 0), NULL))
            return coro_fail_again();
    return NULL;
}

static void *consumer(void *arg)
{
    struct qbench *b = arg;
    for (long i = 1; i <= b->n; i++) {
        void *item;
        if (coro_await(queue_get(b->q, 0), &item))
            return coro_fail_again();
        if (item != (void *)(uintptr_t)i)
            return coro_fail(EPROTO, "queue: got %ld, expected %ld", (long)(uintptr_t)item, i);
    }
    return NULL;
}

static future_t *queue_main(void *arg)
{
    future_t *both[2] = {coro_spawn("producer", producer, arg),
                         coro_spawn("consumer", consumer, arg)};
    return coro_multi(both, 2);
}

static long bench_queue(long n, double *seconds)
{
    struct qbench b = {queue_new(QUEUE_FIFO, 1), n};
    double start = now();
    int err = run_main(queue_main, &b);
    *seconds = now() - start;
    queue_free(b.q);
    return err ? -1 : n;
}

static const struct {
    const char *name;
    workload_fn *fn;
    long default_n;
} workloads[] = {
    {"switch", bench_switch, 1000000},
    {"gen-switch", bench_gen_switch, 1000000},
    {"callbacks", bench_callbacks, 1000000},
    {"timers", bench_timers, 1000000},
    {"timers-cancel", bench_timers_cancel, 1000000},
    {"sleepers", bench_sleepers, 100000},
    {"queue", bench_queue, 1000000},
};
#define N_WORKLOADS (sizeof workloads / sizeof workloads[0])

static int usage(void)
{
    fprintf(stderr, "usage: loop_bench WORKLOAD [-n N]\nworkloads:");
    for (size_t i = 0; i < N_WORKLOADS; i++)
        fprintf(stderr, " %s", workloads[i].name);
    fprintf(stderr, "\n");
    return 2;
}

/* Parses [-n N] after the workload; 0 if absent, -1 if malformed. */
static long parse_n(int argc, char **argv)
{
    if (argc == 2)
        return 0;
    if (argc != 4 || strcmp(argv[2], "-n") != 0)
        return -1;
    char *end;
    errno = 0;
    long n = strtol(argv[3], &end, 10);
    return errno || *end || n < 2 || n > (1L << 40) ? -1 : n;
}

/* This process's peak resident set, in KiB: VmHWM, not getrusage's ru_maxrss, which
 * keeps the high-water mark of whatever process forked and exec'd us. -1 if unknown. */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && kib < 0 && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) != 1)
            kib = -1;
    if (f)
        fclose(f);
    return kib;
}

static int run(size_t w, long n)
{
    double seconds = 0;
    long ops = workloads[w].fn(n ? n : workloads[w].default_n, &seconds);
    if (ops < 0)
        return 1;
    printf("bench=%s impl=c n=%ld seconds=%.6f ns_per_op=%.1f peak_rss_kib=%ld\n",
           workloads[w].name, ops, seconds, seconds * 1e9 / (double)ops, peak_rss_kib());
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc >= 2 ? parse_n(argc, argv) : -1;
    size_t w = 0;
    while (argc >= 2 && w < N_WORKLOADS && strcmp(argv[1], workloads[w].name) != 0)
        w++;
    if (n < 0 || w == N_WORKLOADS)
        return usage();
    ioloop_t *loop = ioloop_create();
    if (!loop) {
        perror("loop_bench: ioloop_create");
        return 1;
    }
    int status = run(w, n);
    ioloop_free(loop);
    return status;
}
