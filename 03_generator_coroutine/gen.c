/* gen — see gen.h. */
#include "gen.h"

#include "trace.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define GEN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GEN_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GEN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GEN_TSAN 1
#endif
#endif
#ifdef GEN_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef GEN_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GEN_VALGRIND 1
#endif

#define GEN_STACK_MIN (16 * 1024)

struct gen {
    ucontext_t ctx;     /* the generator, while it is not running */
    ucontext_t *resumer; /* where gen_yield returns to: on the resumer's stack, alive
                            while the generator runs (a suspended one needs none) */
    _Atomic int state;  /* a gen_state; the resumer publishes it once the switch is over */
    bool returned;      /* the body has returned */
    gen_fn *fn;
    void *arg;
    const char *name;
    const char *resumer_lane;
    void *transfer; /* the value crossing a switch, in either direction */
    char *map;      /* guard page, then the stack; NULL once released */
    size_t map_size;
#ifdef GEN_ASAN
    const void *resumer_stack;
    size_t resumer_stack_size;
#endif
#ifdef GEN_TSAN
    void *fiber, *resumer_fiber;
#endif
#ifdef GEN_VALGRIND
    unsigned valgrind_stack;
#endif
};

/* The generator running on this thread, innermost first, for the overflow message.
 * Read and written out of line: see trace.c on thread-locals and stack switches. */
static __thread gen_t *tls_running;
static __thread bool tls_altstack;
static __thread char altstack[32 * 1024];

__attribute__((noinline)) static gen_t *running_get(void)
{
    __asm__ volatile("");
    return tls_running;
}

__attribute__((noinline)) static void running_set(gen_t *g)
{
    __asm__ volatile("");
    tls_running = g;
}

/* Read once: gen_yield checks its frame against the stack on every yield. */
static size_t page_size(void)
{
    static _Atomic size_t page;
    size_t p = atomic_load_explicit(&page, memory_order_relaxed);
    if (!p) {
        p = (size_t)sysconf(_SC_PAGESIZE);
        atomic_store_explicit(&page, p, memory_order_relaxed);
    }
    return p;
}

static char *stack_lo(const gen_t *g)
{
    return g->map + page_size();
}

static size_t stack_len(const gen_t *g)
{
    return g->map_size - page_size();
}

/* ---- a stack overflow names its generator ----------------------------------------- */

static void say(const char *s)
{
    ssize_t r = write(2, s, strlen(s));
    (void)r;
}

/* SIGSEGV on the guard page of the running generator: say whose stack overflowed, then
 * let the default action end the process (the fault happens again on return). */
static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)ctx;
    gen_t *g = running_get();
    char *addr = si->si_addr;
    if (g && g->map && addr >= g->map && addr < stack_lo(g)) {
        char size[24], *p = size + sizeof size;
        *--p = 0;
        for (size_t n = stack_len(g) / 1024; p == size + sizeof size - 1 || n; n /= 10)
            *--p = (char)('0' + n % 10);
        say("gen: generator ");
        say(g->name);
        say(" overflowed its stack of ");
        say(p);
        say(" KiB: give it a bigger one\n");
    }
    signal(SIGSEGV, SIG_DFL);
}

/* Once per thread: an alternate signal stack (the overflowed one is full), and once per
 * process the handler, unless someone (a sanitizer, a debugger) installed theirs. */
static void watch_overflow(void)
{
    if (tls_altstack)
        return;
    tls_altstack = true;
    /* A sanitizer's runtime gives each thread an alternate stack of its own and unmaps it
     * when the thread ends: keep any that is there. */
    stack_t ss;
    if (sigaltstack(NULL, &ss) < 0)
        return;
    if (ss.ss_flags & SS_DISABLE) {
        ss = (stack_t){.ss_sp = altstack, .ss_size = sizeof altstack};
        if (sigaltstack(&ss, NULL) < 0)
            return;
    }
    static atomic_flag installed = ATOMIC_FLAG_INIT;
    if (atomic_flag_test_and_set(&installed))
        return;
    struct sigaction old, sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        sigaction(SIGSEGV, &sa, NULL);
}

/* The three kinds of switch, each told to the sanitizers: they keep a shadow of every
 * stack and must know which one is live. */

/* Resumer -> generator. Returns when the generator yields or returns. */
static void switch_in(gen_t *g)
{
    ucontext_t resumer;
    g->resumer = &resumer;
#ifdef GEN_ASAN
    void *fake;
    __sanitizer_start_switch_fiber(&fake, stack_lo(g), stack_len(g));
#endif
#ifdef GEN_TSAN
    g->resumer_fiber = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(g->fiber, 0);
#endif
    swapcontext(&resumer, &g->ctx);
#ifdef GEN_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

/* Generator -> resumer. Returns when resumed again, perhaps on another thread. */
static void switch_out(gen_t *g)
{
#ifdef GEN_ASAN
    void *fake;
    __sanitizer_start_switch_fiber(&fake, g->resumer_stack, g->resumer_stack_size);
#endif
#ifdef GEN_TSAN
    __tsan_switch_to_fiber(g->resumer_fiber, 0);
#endif
    swapcontext(&g->ctx, g->resumer);
#ifdef GEN_ASAN
    __sanitizer_finish_switch_fiber(fake, &g->resumer_stack, &g->resumer_stack_size);
#endif
}

/* Generator -> resumer, for the last time: this stack is about to be unmapped. */
__attribute__((noreturn)) static void switch_out_last(gen_t *g)
{
#ifdef GEN_ASAN
    __sanitizer_start_switch_fiber(NULL, g->resumer_stack, g->resumer_stack_size);
#endif
#ifdef GEN_TSAN
    __tsan_switch_to_fiber(g->resumer_fiber, 0);
#endif
    setcontext(g->resumer);
    abort();
}

static void trampoline(unsigned hi, unsigned lo)
{
    gen_t *g = (gen_t *)(((uintptr_t)hi << 32) | lo);
#ifdef GEN_ASAN
    __sanitizer_finish_switch_fiber(NULL, &g->resumer_stack, &g->resumer_stack_size);
#endif
    TRACE(TRACE_LANE_START, g->resumer_lane, "generator");
    void *result = g->fn(g);
    TRACE(TRACE_LANE_END, g->resumer_lane, "returned");
    g->transfer = result;
    g->returned = true;
    switch_out_last(g);
}

/* ---- stacks ----------------------------------------------------------------------- */

/* Freed stacks are kept for the next generator of the same size: a server makes one per
 * connection, and mmap + mprotect + munmap + a fault on the first touch of each page cost
 * more than the request itself. Per thread, so no lock. Under the sanitizers every
 * stack is fresh: a reused one would carry the shadow of the frames left on it. */
#if defined(GEN_ASAN) || defined(GEN_TSAN)
#define GEN_STACK_CACHE 0
#else
#define GEN_STACK_CACHE 64
#endif

struct cached_stack { /* at the top of the cached stack, a page surely touched */
    struct cached_stack *next;
    char *map;
    size_t map_size;
};
static __thread struct cached_stack *tls_stacks;
static __thread int tls_nstacks; /* signed: under the sanitizers the cache holds 0 */
static pthread_key_t stacks_key;
static pthread_once_t stacks_once = PTHREAD_ONCE_INIT;

/* A thread that ends gives its cached stacks back. */
static void stacks_unmap(void *unused)
{
    (void)unused;
    while (tls_stacks) {
        struct cached_stack *c = tls_stacks;
        tls_stacks = c->next;
        munmap(c->map, c->map_size);
    }
    tls_nstacks = 0;
}

static void stacks_key_make(void)
{
    pthread_key_create(&stacks_key, stacks_unmap);
}

static void stack_put(char *map, size_t map_size)
{
    if (tls_nstacks >= GEN_STACK_CACHE) {
        munmap(map, map_size);
        return;
    }
    pthread_once(&stacks_once, stacks_key_make);
    pthread_setspecific(stacks_key, map); /* any non-NULL value: the destructor runs */
    struct cached_stack *c = (struct cached_stack *)(map + map_size) - 1;
    *c = (struct cached_stack){.next = tls_stacks, .map = map, .map_size = map_size};
    tls_stacks = c;
    tls_nstacks++;
}

/* A cached stack of map_size bytes, or NULL. */
static char *stack_take(size_t map_size)
{
    for (struct cached_stack **pp = &tls_stacks; *pp; pp = &(*pp)->next) {
        struct cached_stack *c = *pp;
        if (c->map_size == map_size) {
            *pp = c->next;
            tls_nstacks--;
            return c->map;
        }
    }
    return NULL;
}

/* A new stack: a guard page, then map_size - page bytes committed only as touched. */
static char *stack_map(size_t map_size)
{
    char *map = stack_take(map_size);
    if (map)
        return map;
    /* NORESERVE: untouched stack pages cost nothing, so thousands of generators fit. */
    map = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    if (mprotect(map, page_size(), PROT_NONE) < 0) {
        int err = errno;
        munmap(map, map_size);
        errno = err;
        return NULL;
    }
    return map;
}

static void release_stack(gen_t *g)
{
    if (!g->map)
        return;
#ifdef GEN_VALGRIND
    VALGRIND_STACK_DEREGISTER(g->valgrind_stack);
#endif
#ifdef GEN_TSAN
    __tsan_destroy_fiber(g->fiber);
#endif
    stack_put(g->map, g->map_size);
    g->map = NULL;
}

/* Points g's context at trampoline(g) on g's stack. Apart from gen_create_stack because
 * getcontext returns twice, which would put that function's locals at risk. */
static int prepare_context(gen_t *g)
{
    if (getcontext(&g->ctx) < 0)
        return -1;
    g->ctx.uc_stack.ss_sp = stack_lo(g);
    g->ctx.uc_stack.ss_size = stack_len(g);
    g->ctx.uc_link = NULL;
    makecontext(&g->ctx, (void (*)(void))trampoline, 2, (unsigned)((uintptr_t)g >> 32),
                (unsigned)(uintptr_t)g);
    return 0;
}

gen_t *gen_create_stack(const char *name, gen_fn *fn, void *arg, size_t stack_size)
{
    size_t page = page_size();
    if (stack_size > ((size_t)1 << 40)) {
        errno = EINVAL;
        return NULL;
    }
    stack_size = stack_size < GEN_STACK_MIN ? GEN_STACK_MIN : stack_size;
    stack_size = (stack_size + page - 1) / page * page;

    gen_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->map_size = stack_size + page;
    g->map = stack_map(g->map_size);
    if (!g->map || prepare_context(g) < 0) {
        int err = errno;
        if (g->map)
            stack_put(g->map, g->map_size);
        free(g);
        errno = err;
        return NULL;
    }
#ifdef GEN_VALGRIND
    g->valgrind_stack = VALGRIND_STACK_REGISTER(stack_lo(g), stack_lo(g) + stack_len(g));
#endif
#ifdef GEN_TSAN
    g->fiber = __tsan_create_fiber(0);
    __tsan_set_fiber_name(g->fiber, name);
#endif
    g->fn = fn;
    g->arg = arg;
    g->name = name;
    atomic_init(&g->state, GEN_CREATED);
    return g;
}

gen_t *gen_create(const char *name, gen_fn *fn, void *arg)
{
    gen_t *g = gen_create_stack(name, fn, arg, GEN_STACK_DEFAULT);
    if (!g) {
        fprintf(stderr, "%s: no stack for generator %s: %s\n", program_invocation_short_name,
                name, strerror(errno));
        exit(1);
    }
    return g;
}

/* Claims g for one resume: CREATED or SUSPENDED -> RUNNING, or the reason why not. */
static gen_status claim(gen_t *g, bool sending)
{
    int st = atomic_load_explicit(&g->state, memory_order_acquire);
    for (;;) {
        if (st == GEN_CLOSED)
            return GEN_EFINISHED;
        if (st == GEN_RUNNING)
            return GEN_ERUNNING;
        if (st == GEN_CREATED && sending)
            return GEN_EFRESH;
        if (atomic_compare_exchange_weak_explicit(&g->state, &st, GEN_RUNNING,
                                                  memory_order_acq_rel, memory_order_acquire))
            return GEN_YIELDED;
    }
}

gen_status gen_send(gen_t *g, void *value, void **out)
{
    gen_status err = claim(g, value != NULL);
    if (err < 0) {
        TRACE(TRACE_ERROR, g->name, "%s", gen_strerror(err));
        return err;
    }
    TRACE(TRACE_RESUME, g->name, "%s", value ? "send" : "next");
    g->transfer = value;
    bool traced = trace_enabled; /* lanes matter to the trace alone */
    if (traced) {
        g->resumer_lane = trace_lane();
        trace_set_lane(g->name);
    }
    watch_overflow();
    gen_t *outer = running_get();
    running_set(g);
    switch_in(g);
    running_set(outer);
    if (traced)
        trace_set_lane(g->resumer_lane);

    void *result = g->transfer;
    bool returned = g->returned;
    if (returned)
        release_stack(g);
    /* Published last: from here on another thread may resume g. */
    atomic_store_explicit(&g->state, returned ? GEN_CLOSED : GEN_SUSPENDED, memory_order_release);
    if (out)
        *out = result;
    return returned ? GEN_RETURNED : GEN_YIELDED;
}

void *gen_next(gen_t *g)
{
    void *v = NULL;
    return gen_send(g, NULL, &v) < 0 ? NULL : v;
}

void *gen_yield(gen_t *self, void *value)
{
    char *frame = __builtin_frame_address(0);
    if (atomic_load_explicit(&self->state, memory_order_relaxed) != GEN_RUNNING ||
        frame < stack_lo(self) || frame >= stack_lo(self) + stack_len(self)) {
        fprintf(stderr, "gen_yield: not called from the body of generator %s\n", self->name);
        abort();
    }
    TRACE(TRACE_YIELD, self->resumer_lane, "%s", "");
    self->transfer = value;
    switch_out(self);
    return self->transfer;
}

int gen_close(gen_t *g)
{
    int st = atomic_load_explicit(&g->state, memory_order_acquire);
    while (st != GEN_CLOSED) {
        if (st == GEN_RUNNING)
            return GEN_ERUNNING;
        if (atomic_compare_exchange_weak_explicit(&g->state, &st, GEN_CLOSED,
                                                  memory_order_acq_rel, memory_order_acquire)) {
            release_stack(g);
            break;
        }
    }
    return 0;
}

void gen_free(gen_t *g)
{
    if (!g)
        return;
    if (gen_close(g) < 0) {
        fprintf(stderr, "gen_free: generator %s is running\n", g->name);
        abort();
    }
    free(g);
}

gen_state gen_get_state(const gen_t *g)
{
    return (gen_state)atomic_load_explicit(&((gen_t *)g)->state, memory_order_acquire);
}

const char *gen_name(const gen_t *g)
{
    return g->name;
}

void *gen_arg(const gen_t *g)
{
    return g->arg;
}

const char *gen_strerror(gen_status status)
{
    switch (status) {
    case GEN_YIELDED: return "the generator yielded";
    case GEN_RETURNED: return "the generator returned";
    case GEN_EFINISHED: return "the generator has already finished";
    case GEN_ERUNNING: return "the generator is already running";
    case GEN_EFRESH: return "a value was sent to a generator that has not started";
    }
    return "unknown generator status";
}
