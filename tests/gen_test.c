/* Unit tests for 03_generator_coroutine/gen: values both ways, states, Python's errors,
 * many generators alive at once, resumption from other threads, the guard page. */
#include "gen.h"
#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Yields "first", expects "one"; yields "second", expects "two"; returns "end". */
static void *two_steps(gen_t *self)
{
    int *runs = gen_arg(self);
    if (runs)
        ++*runs;
    ck_assert_str_eq(gen_yield(self, "first"), "one");
    ck_assert_str_eq(gen_yield(self, "second"), "two");
    return "end";
}

START_TEST(values_pass_both_ways)
{
    gen_t *g = gen_create("g", two_steps, NULL);
    void *out = NULL;
    ck_assert_str_eq(gen_next(g), "first");
    ck_assert_int_eq(gen_send(g, "one", &out), GEN_YIELDED);
    ck_assert_str_eq(out, "second");
    ck_assert_int_eq(gen_send(g, "two", &out), GEN_RETURNED);
    ck_assert_str_eq(out, "end");
    gen_free(g);
}
END_TEST

static gen_state seen_inside;

static void *note_state(gen_t *self)
{
    seen_inside = gen_get_state(self);
    gen_yield(self, NULL);
    return NULL;
}

START_TEST(states_follow_python)
{
    gen_t *g = gen_create("g", note_state, NULL);
    ck_assert_int_eq(gen_get_state(g), GEN_CREATED);
    gen_next(g);
    ck_assert_int_eq(seen_inside, GEN_RUNNING);
    ck_assert_int_eq(gen_get_state(g), GEN_SUSPENDED);
    ck_assert_int_eq(gen_send(g, NULL, NULL), GEN_RETURNED);
    ck_assert_int_eq(gen_get_state(g), GEN_CLOSED);
    ck_assert_str_eq(gen_name(g), "g");
    gen_free(g);
}
END_TEST

START_TEST(send_after_finish_is_an_error)
{
    int runs = 0;
    gen_t *g = gen_create("g", two_steps, &runs);
    gen_next(g);
    gen_send(g, "one", NULL);
    ck_assert_int_eq(gen_send(g, "two", NULL), GEN_RETURNED);

    void *out = "untouched";
    ck_assert_int_eq(gen_send(g, "three", &out), GEN_EFINISHED);
    ck_assert_str_eq(out, "untouched");
    ck_assert_ptr_null(gen_next(g));
    ck_assert_int_eq(runs, 1);
    ck_assert_ptr_nonnull(strstr(gen_strerror(GEN_EFINISHED), "already finished"));
    gen_free(g);
}
END_TEST

START_TEST(value_sent_before_start_is_an_error)
{
    gen_t *g = gen_create("g", two_steps, NULL);
    ck_assert_int_eq(gen_send(g, "too early", NULL), GEN_EFRESH);
    ck_assert_int_eq(gen_get_state(g), GEN_CREATED);
    ck_assert_str_eq(gen_next(g), "first");
    gen_free(g);
}
END_TEST

static gen_status self_resume;

static void *resume_self(gen_t *self)
{
    self_resume = gen_send(self, NULL, NULL);
    return NULL;
}

START_TEST(generator_cannot_resume_itself)
{
    gen_t *g = gen_create("g", resume_self, NULL);
    ck_assert_int_eq(gen_send(g, NULL, NULL), GEN_RETURNED);
    ck_assert_int_eq(self_resume, GEN_ERUNNING);
    gen_free(g);
}
END_TEST

START_TEST(close_finishes_without_running)
{
    int runs = 0;
    gen_t *fresh = gen_create("fresh", two_steps, &runs);
    ck_assert_int_eq(gen_close(fresh), 0);
    ck_assert_int_eq(gen_get_state(fresh), GEN_CLOSED);
    ck_assert_int_eq(gen_send(fresh, NULL, NULL), GEN_EFINISHED);
    ck_assert_int_eq(runs, 0);

    gen_t *suspended = gen_create("suspended", two_steps, &runs);
    gen_next(suspended);
    ck_assert_int_eq(gen_close(suspended), 0);
    ck_assert_int_eq(gen_close(suspended), 0);
    ck_assert_int_eq(gen_send(suspended, "one", NULL), GEN_EFINISHED);
    ck_assert_int_eq(runs, 1);
    gen_free(fresh);
    gen_free(suspended);
}
END_TEST

/* An outer generator that drives an inner one and yields what it yields, doubled. */
static void *inner(gen_t *self)
{
    intptr_t v = (intptr_t)gen_yield(self, (void *)1);
    return (void *)(v + 1);
}

static void *outer(gen_t *self)
{
    gen_t *in = gen_create("inner", inner, NULL);
    intptr_t first = (intptr_t)gen_next(in);
    void *last;
    ck_assert_int_eq(gen_send(in, (void *)(first * 10), &last), GEN_RETURNED);
    gen_free(in);
    return gen_yield(self, (void *)((intptr_t)last * 2));
}

START_TEST(generators_nest)
{
    gen_t *g = gen_create("outer", outer, NULL);
    ck_assert_int_eq((intptr_t)gen_next(g), 22);
    void *out;
    ck_assert_int_eq(gen_send(g, (void *)7, &out), GEN_RETURNED);
    ck_assert_int_eq((intptr_t)out, 7);
    gen_free(g);
}
END_TEST

/* Yields its argument doubled, returns its argument plus what it is sent. */
static void *add_later(gen_t *self)
{
    intptr_t a = (intptr_t)gen_arg(self);
    intptr_t b = (intptr_t)gen_yield(self, (void *)(a * 2));
    return (void *)(a + b);
}

/* ThreadSanitizer counts each generator (a TSan fiber) among its threads, and stops at
 * 8128 of them: under TSan the test keeps 4,000 alive; everywhere else, 10,000. */
#if defined(__SANITIZE_THREAD__)
enum { ALIVE = 4000 };
#else
enum { ALIVE = 10000 };
#endif

START_TEST(ten_thousand_alive_at_once)
{
    enum { N = ALIVE };
    static gen_t *g[N];
    for (intptr_t i = 0; i < N; i++) {
        g[i] = gen_create_stack("many", add_later, (void *)i, 32 * 1024);
        ck_assert_ptr_nonnull(g[i]);
        ck_assert_int_eq((intptr_t)gen_next(g[i]), i * 2);
    }
    for (intptr_t i = N - 1; i >= 0; i--) {
        void *out;
        ck_assert_int_eq(gen_get_state(g[i]), GEN_SUSPENDED);
        ck_assert_int_eq(gen_send(g[i], (void *)(i * 3), &out), GEN_RETURNED);
        ck_assert_int_eq((intptr_t)out, i * 4);
        gen_free(g[i]);
    }
}
END_TEST

/* pthread_self() is declared const: the compiler may call it once per function, which a
 * body that changes threads must not let it do (gen.h says so). */
__attribute__((noinline)) static pthread_t this_thread(void)
{
    __asm__ volatile("");
    return pthread_self();
}

/* Records which thread ran each step. */
static void *where_am_i(gen_t *self)
{
    pthread_t *seen = gen_arg(self);
    seen[0] = this_thread();
    ck_assert_str_eq(gen_yield(self, NULL), "from the other thread");
    seen[1] = this_thread();
    gen_yield(self, NULL);
    seen[2] = this_thread();
    return "done";
}

static void *resume_once(void *g)
{
    void *out;
    ck_assert_int_eq(gen_send(g, "from the other thread", &out), GEN_YIELDED);
    return NULL;
}

START_TEST(resumes_from_another_thread)
{
    pthread_t seen[3], other;
    gen_t *g = gen_create("g", where_am_i, seen);
    gen_next(g);
    pthread_create(&other, NULL, resume_once, g);
    pthread_join(other, NULL);
    void *out;
    ck_assert_int_eq(gen_send(g, NULL, &out), GEN_RETURNED);
    ck_assert_str_eq(out, "done");
    ck_assert(pthread_equal(seen[0], pthread_self()));
    ck_assert(pthread_equal(seen[1], other));
    ck_assert(pthread_equal(seen[2], pthread_self()));
    gen_free(g);
}
END_TEST

/* Two threads take turns resuming one generator, 2,000 times in all. */
enum { TURNS = 2000 };
static pthread_mutex_t turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static int turn;

/* Yields 0, 1, 2, ...; turn i is taken by thread i % 2, which sends its number. */
static void *count_turns(gen_t *self)
{
    for (intptr_t i = 0; i < TURNS; i++)
        ck_assert_int_eq((intptr_t)gen_yield(self, (void *)i), i % 2);
    gen_yield(self, (void *)TURNS);
    return NULL;
}

struct player {
    gen_t *g;
    int me;
};

static void *take_turns(void *arg)
{
    struct player *p = arg;
    for (int i = p->me; i < TURNS; i += 2) {
        pthread_mutex_lock(&turn_mu);
        while (turn != i)
            pthread_cond_wait(&turn_cv, &turn_mu);
        pthread_mutex_unlock(&turn_mu);
        void *out;
        ck_assert_int_eq(gen_send(p->g, (void *)(intptr_t)p->me, &out), GEN_YIELDED);
        ck_assert_int_eq((intptr_t)out, i + 1);
        pthread_mutex_lock(&turn_mu);
        turn++;
        pthread_cond_broadcast(&turn_cv);
        pthread_mutex_unlock(&turn_mu);
    }
    return NULL;
}

START_TEST(two_threads_take_turns)
{
    gen_t *g = gen_create("ping-pong", count_turns, NULL);
    ck_assert_int_eq((intptr_t)gen_next(g), 0);
    struct player p[2] = {{g, 0}, {g, 1}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, take_turns, &p[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(gen_get_state(g), GEN_SUSPENDED);
    gen_free(g);
}
END_TEST

/* While the generator runs on one thread, another thread's send is refused. */
static pthread_mutex_t race_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t race_cv = PTHREAD_COND_INITIALIZER;
static int race_step;
static gen_status race_other;

static void race_wait_for(int step)
{
    pthread_mutex_lock(&race_mu);
    while (race_step < step)
        pthread_cond_wait(&race_cv, &race_mu);
    pthread_mutex_unlock(&race_mu);
}

static void race_set(int step)
{
    pthread_mutex_lock(&race_mu);
    race_step = step;
    pthread_cond_broadcast(&race_cv);
    pthread_mutex_unlock(&race_mu);
}

static void *busy_body(gen_t *self)
{
    gen_yield(self, NULL);
    race_set(1);      /* running now, on the first thread */
    race_wait_for(2); /* until the other thread has tried */
    return NULL;
}

static void *try_to_resume(void *g)
{
    race_wait_for(1);
    race_other = gen_send(g, NULL, NULL);
    race_set(2);
    return NULL;
}

START_TEST(concurrent_resume_is_refused)
{
    gen_t *g = gen_create("busy", busy_body, NULL);
    gen_next(g);
    pthread_t other;
    pthread_create(&other, NULL, try_to_resume, g);
    ck_assert_int_eq(gen_send(g, NULL, NULL), GEN_RETURNED);
    pthread_join(other, NULL);
    ck_assert_int_eq(race_other, GEN_ERUNNING);
    gen_free(g);
}
END_TEST

/* Recurses in frames smaller than a page until the stack runs out. */
static int deeper(volatile int n)
{
    volatile char frame[512];
    frame[0] = (char)n;
    if (n > 100000000)
        return frame[0];
    return deeper(n + 1) + frame[0];
}

static void *overflow(gen_t *self)
{
    (void)self;
    return (void *)(intptr_t)deeper(0);
}

START_TEST(stack_overflow_hits_the_guard_page)
{
    gen_t *g = gen_create_stack("deep", overflow, NULL, 64 * 1024);
    gen_next(g); /* must die of SIGSEGV, not run into other memory */
}
END_TEST

START_TEST(stack_sizes)
{
    errno = 0;
    ck_assert_ptr_null(gen_create_stack("huge", two_steps, NULL, (size_t)1 << 41));
    ck_assert_int_eq(errno, EINVAL);
    gen_t *tiny = gen_create_stack("tiny", two_steps, NULL, 1); /* rounded up to 16 KiB */
    ck_assert_ptr_nonnull(tiny);
    ck_assert_str_eq(gen_next(tiny), "first");
    gen_free(tiny);
}
END_TEST

/* The address space this process holds now, in bytes. */
static rlim_t address_space(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib = 0;
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %llu kB", &kib) == 1)
            break;
    fclose(f);
    ck_assert_uint_gt(kib, 0);
    return (rlim_t)kib * 1024;
}

START_TEST(create_fails_cleanly_without_memory)
{
    gen_t *g = gen_create_stack("g", two_steps, NULL, 1 << 20);
    ck_assert_ptr_nonnull(g);
    gen_free(g);
    /* Room for small allocations, not for a stack: gen_create_stack says so, gen_create
     * ends the program. */
    rlim_t limit = address_space() + 128 * 1024;
    struct rlimit tight = {limit, limit};
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &tight), 0);
    errno = 0;
    ck_assert_ptr_null(gen_create_stack("g", two_steps, NULL, 1 << 20));
    ck_assert_int_eq(errno, ENOMEM);
    gen_create("g", two_steps, NULL);
}
END_TEST

START_TEST(yield_outside_the_body_aborts)
{
    gen_t *g = gen_create("g", two_steps, NULL);
    gen_next(g);
    gen_yield(g, NULL);
}
END_TEST

static void *free_self(gen_t *self)
{
    gen_free(self);
    return NULL;
}

START_TEST(freeing_a_running_generator_aborts)
{
    gen_next(gen_create("g", free_self, NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gen");
    TCase *tc = tcase_create("gen");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, values_pass_both_ways);
    tcase_add_test(tc, states_follow_python);
    tcase_add_test(tc, send_after_finish_is_an_error);
    tcase_add_test(tc, value_sent_before_start_is_an_error);
    tcase_add_test(tc, generator_cannot_resume_itself);
    tcase_add_test(tc, close_finishes_without_running);
    tcase_add_test(tc, generators_nest);
    tcase_add_test(tc, ten_thousand_alive_at_once);
    tcase_add_test(tc, resumes_from_another_thread);
    tcase_add_test(tc, two_threads_take_turns);
    tcase_add_test(tc, concurrent_resume_is_refused);
    tcase_add_test_raise_signal(tc, stack_overflow_hits_the_guard_page, SIGSEGV);
    tcase_add_test(tc, stack_sizes);
    tcase_add_exit_test(tc, create_fails_cleanly_without_memory, 1);
    tcase_add_test_raise_signal(tc, yield_outside_the_body_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, freeing_a_running_generator_aborts, SIGABRT);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
