/* model_test — lane states, arrows, phases, the task table and its warnings, from
 * hand-made traces of lesson 03's generators and lesson 04's loop and coroutines. */
#include "tracer_unit.h"

/* Lesson 03 v1: main resumes req_a, which spawns io and yields; io resumes it later. */
static const char lesson03[] =
    "#asynctrace 1 program=03_v1_global_gen lang=en speed=100 threads=gil\n"
    "8\tmain\tmain\tlane_start\t-\tmain\n"                /* 0 */
    "32\tmain\tmain\tresume\treq_a\tnext\n"               /* 1 */
    "37\tmain\treq_a\tlane_start\tmain\tgenerator\n"      /* 2 */
    "48\tmain\treq_a\tspawn\tio\tthread\n"                /* 3 */
    "90\tmain\treq_a\tyield\tmain\t\n"                    /* 4 */
    "95\tmain\tmain\tsleep_begin\t-\t2\n"                 /* 5 */
    "111\tio\tio\tlane_start\t-\tthread\n"                /* 6 */
    "120\tio\tio\tsleep_begin\t-\t5\n"                    /* 7 */
    "20208\tmain\tmain\tsleep_end\t-\t2\n"                /* 8 */
    "20230\tmain\tmain\tjoin_begin\tio\t\n"               /* 9 */
    "50262\tio\tio\tsleep_end\t-\t5\n"                    /* 10 */
    "50301\tio\tio\tresume\treq_a\tsend\n"                /* 11 */
    "50383\tio\treq_a\tprint\t-\tret: io result\n"        /* 12 */
    "50388\tio\treq_a\tlane_end\tio\treturned\n"          /* 13 */
    "50412\tio\tio\tlane_end\t-\t\n"                      /* 14 */
    "50489\tmain\tmain\tjoin_end\tio\t\n"                 /* 15 */
    "50494\tmain\tmain\tlane_end\t-\t\n";                 /* 16 */

START_TEST(generators_lend_and_give_back)
{
    struct tracefile tf;
    struct model m;
    load_text(&tf, &m, lesson03, false);
    uint32_t main_ = lane_named(&tf, "main"), req_a = lane_named(&tf, "req_a"), io = lane_named(&tf, "io");
    ck_assert_int_eq(model_state_at(&m, main_, MODEL_NONE), LS_ABSENT);
    ck_assert_int_eq(model_state_at(&m, main_, 0), LS_RUNNING);
    ck_assert_int_eq(model_state_at(&m, main_, 1), LS_LENT);
    ck_assert_int_eq(model_state_at(&m, req_a, 1), LS_RUNNING);
    ck_assert_int_eq(model_state_at(&m, io, 3), LS_READY);
    ck_assert_int_eq(model_state_at(&m, req_a, 4), LS_WAITING);
    ck_assert_int_eq(model_state_at(&m, main_, 4), LS_RUNNING);
    ck_assert_int_eq(model_state_at(&m, main_, 5), LS_WAITING);
    ck_assert_int_eq(model_state_at(&m, io, 6), LS_RUNNING);
    ck_assert_int_eq(model_state_at(&m, main_, 9), LS_WAITING);
    ck_assert_int_eq(model_state_at(&m, io, 11), LS_LENT);
    ck_assert_int_eq(model_state_at(&m, req_a, 12), LS_RUNNING);
    ck_assert_int_eq(model_state_at(&m, req_a, 13), LS_DONE);
    ck_assert_int_eq(model_state_at(&m, io, 13), LS_RUNNING);
    ck_assert_int_eq(model_state_at(&m, main_, 16), LS_DONE);
    ck_assert_uint_eq(model_state_since(&m, req_a, 10), 4);
    ck_assert_uint_eq(model_next_run(&m, req_a, 5), 11);
    ck_assert_uint_eq(model_next_run(&m, req_a, 14), MODEL_NONE);
    /* req_a's second half runs on io: "not strictly a coroutine". */
    ck_assert_str_eq(tf.threads[m.lanes[req_a].first_thread], "main");
    ck_assert_str_eq(tf.threads[m.lanes[req_a].last_thread], "io");
    ck_assert_uint_eq(m.lanes[req_a].resumes, 2);
    ck_assert(!m.has_loop);
    ck_assert_uint_eq(m.n_warnings, 0);
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

START_TEST(arrows_point_from_actor_to_affected)
{
    struct tracefile tf;
    struct model m;
    load_text(&tf, &m, lesson03, false);
    uint32_t from, to, main_ = lane_named(&tf, "main"), req_a = lane_named(&tf, "req_a"),
                       io = lane_named(&tf, "io");
    ck_assert(model_arrow(&m, 1, &from, &to));
    ck_assert(from == main_ && to == req_a);
    ck_assert(model_arrow(&m, 4, &from, &to));
    ck_assert(from == req_a && to == main_);
    ck_assert(model_arrow(&m, 13, &from, &to)); /* a generator returns to its resumer */
    ck_assert(from == req_a && to == io);
    ck_assert(model_arrow(&m, 15, &from, &to)); /* a join ends: from the thread that ended */
    ck_assert(from == io && to == main_);
    ck_assert(!model_arrow(&m, 12, &from, &to));
    ck_assert(!model_arrow(&m, 9, &from, &to)); /* waiting points nowhere yet */
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

START_TEST(busy_and_waiting_times)
{
    struct tracefile tf;
    struct model m;
    load_text(&tf, &m, lesson03, false);
    const struct lane_info *io = &m.lanes[lane_named(&tf, "io")];
    /* io: running 111..120 and 50262..50301 and 50388..50412; waiting 120..50262. */
    ck_assert_int_eq(io->busy_us, 9 + 39 + 24);
    ck_assert_int_eq(io->waiting_us, 50262 - 120);
    ck_assert_uint_eq(io->busy_steps, 1 + 1 + 1);
    ck_assert_uint_eq(io->waiting_steps, 3);
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

/* Lesson 04's shape: one thread, a loop, three coroutines. "slow" sleeps 0.5 document s
 * (5 ms at speed 100) without yielding; "idle" is woken but the trace ends first; "stuck"
 * waits forever. */
static const char lesson04[] =
    "#asynctrace 1 program=04_hand lang=en speed=100 threads=none\n"
    "0\tmain\tmain\tlane_start\t-\tmain\n"           /* 0 */
    "1\tmain\tmain\tspawn\tfetch\tcoroutine\n"       /* 1 */
    "2\tmain\tmain\tresume\tfetch\tnext\n"           /* 2 */
    "3\tmain\tfetch\twait\t-\tsleep\n"               /* 3 */
    "4\tmain\tfetch\tyield\tmain\t\n"                /* 4 */
    "5\tmain\tmain\tspawn\tslow\tcoroutine\n"        /* 5 */
    "6\tmain\tmain\tresume\tslow\tnext\n"            /* 6 */
    "7\tmain\tslow\tsleep_begin\t-\t0.5\n"           /* 7 */
    "5007\tmain\tslow\tsleep_end\t-\t0.5\n"          /* 8 */
    "5008\tmain\tslow\tlane_end\tmain\treturned\n"   /* 9 */
    "5009\tmain\tmain\tloop_iteration\t-\t1\n"       /* 10 */
    "5010\tmain\tmain\tpoll_begin\t-\ttimer\n"       /* 11 */
    "6000\tmain\tmain\tpoll_end\t-\t0\n"             /* 12 */
    "6001\tmain\tmain\tloop_phase\t-\ttimers 1\n"    /* 13 */
    "6002\tmain\tmain\ttimer\t-\tsleep\n"            /* 14 */
    "6003\tmain\tmain\twake\tfetch\tsleep\n"         /* 15 */
    "6004\tmain\tmain\tloop_iteration\t-\t2\n"       /* 16 */
    "6005\tmain\tmain\tpoll_begin\t-\t0\n"           /* 17 */
    "6006\tmain\tmain\tpoll_end\t-\t0\n"             /* 18 */
    "6007\tmain\tmain\tloop_phase\t-\tcallbacks 1\n" /* 19 */
    "6008\tmain\tmain\tresume\tfetch\tsend\n"        /* 20 */
    "6009\tmain\tfetch\tlane_end\tmain\treturned\n"  /* 21 */
    "6010\tmain\tmain\tspawn\tidle\tcoroutine\n"     /* 22 */
    "6011\tmain\tmain\tresume\tidle\tnext\n"         /* 23 */
    "6012\tmain\tidle\twait\t-\tQueue.get\n"         /* 24 */
    "6013\tmain\tmain\tspawn\tstuck\tcoroutine\n"    /* 25 */
    "6014\tmain\tmain\tresume\tstuck\tnext\n"        /* 26 */
    "6015\tmain\tstuck\twait\t-\tnever\n"            /* 27 */
    "6016\tmain\tstuck\tyield\tmain\t\n"             /* 28 */
    "6017\tmain\tmain\tloop_phase\t-\tio 1\n"        /* 29 */
    "6018\tmain\tmain\tio\t-\tfd 5 read\n"           /* 30 */
    "6019\tmain\tmain\twake\tidle\tQueue.get\n"      /* 31 */
    "6020\tmain\tmain\tlane_end\t-\t\n";             /* 32 */

START_TEST(coroutines_share_one_thread)
{
    struct tracefile tf;
    struct model m;
    load_text(&tf, &m, lesson04, false);
    uint32_t main_ = lane_named(&tf, "main"), fetch = lane_named(&tf, "fetch");
    ck_assert_int_eq(m.lanes[fetch].kind, LK_COROUTINE);
    ck_assert_int_eq(model_state_at(&m, fetch, 1), LS_READY);
    ck_assert_int_eq(model_state_at(&m, fetch, 2), LS_RUNNING);
    ck_assert_int_eq(model_state_at(&m, main_, 2), LS_LENT);
    ck_assert_int_eq(model_state_at(&m, fetch, 3), LS_WAITING);
    ck_assert_int_eq(model_state_at(&m, main_, 3), LS_RUNNING); /* waiting gives the loop back */
    ck_assert_int_eq(model_state_at(&m, fetch, 15), LS_READY);  /* woken: ready, not running */
    ck_assert_int_eq(model_state_at(&m, fetch, 20), LS_RUNNING);
    ck_assert_int_eq(model_state_at(&m, fetch, 21), LS_DONE);
    ck_assert_int_eq(model_state_at(&m, main_, 11), LS_WAITING); /* epoll_wait until a timer */
    ck_assert_int_eq(model_state_at(&m, main_, 17), LS_RUNNING); /* epoll_wait, timeout 0 */
    for (size_t i = 0; i < m.n_lanes; i++)
        ck_assert_str_eq(tf.threads[m.lanes[i].first_thread], "main");
    uint32_t from, to;
    ck_assert(model_arrow(&m, 15, &from, &to));
    ck_assert(from == main_ && to == fetch);
    ck_assert_uint_eq(model_next_run(&m, fetch, 15), 20);
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

START_TEST(loop_phases)
{
    struct tracefile tf;
    struct model m;
    load_text(&tf, &m, lesson04, false);
    ck_assert(m.has_loop);
    ck_assert_int_eq(m.phase[9], PH_NONE);
    ck_assert_int_eq(m.phase[11], PH_POLL);
    ck_assert_int_eq(m.phase[12], PH_NONE);
    ck_assert_int_eq(m.phase[14], PH_TIMERS);
    ck_assert_int_eq(m.phase[15], PH_TIMERS);
    ck_assert_int_eq(m.phase[16], PH_NONE);
    ck_assert_int_eq(m.phase[20], PH_CALLBACKS);
    ck_assert_int_eq(m.phase[30], PH_IO);
    ck_assert_str_eq(model_phase_name(PH_IO), "I/O");
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

START_TEST(ready_lanes_are_counted)
{
    struct tracefile tf;
    struct model m;
    load_text(&tf, &m, lesson04, false);
    /* fetch spawned (1), resumed (0), slow spawned (1), resumed (0), fetch woken (1)... */
    ck_assert_uint_ge(m.n_ready, 4);
    ck_assert_uint_eq(m.ready[0].event, 1);
    ck_assert_uint_eq(m.ready[0].count, 1);
    ck_assert_uint_eq(m.ready[1].event, 2);
    ck_assert_uint_eq(m.ready[1].count, 0);
    ck_assert_uint_eq(m.ready[m.n_ready - 1].count, 1); /* idle, woken at the end */
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

/* The warnings of M as "KIND LANE" words, in order. */
static void warnings_of(const struct tracefile *tf, const struct model *m, char *out, size_t outsz)
{
    out[0] = '\0';
    for (size_t i = 0; i < m->n_warnings; i++) {
        size_t used = strlen(out);
        snprintf(out + used, outsz - used, "%s%s %s", used ? ", " : "",
                 m->warnings[i].kind == WARN_BLOCKED ? "blocked" : "never", tf->lanes[m->warnings[i].lane]);
    }
}

START_TEST(warns_of_blocking_and_never_resumed)
{
    struct tracefile tf;
    struct model m;
    char words[256];
    load_text(&tf, &m, lesson04, false);
    warnings_of(&tf, &m, words, sizeof words);
    ck_assert_str_eq(words, "blocked slow, never idle, never stuck");
    /* slow ran 6..5008: 5002 us at speed 100 is 500.2 document ms. */
    ck_assert_double_eq_tol(m.warnings[0].ms, 500.2, 1e-6);
    ck_assert_uint_eq(m.warnings[0].event, 6);
    model_free(&m);
    tracefile_free(&tf);

    /* Logical time judges by the blocking sleeps only: 0.5 s, the same on every run. */
    load_text(&tf, &m, lesson04, true);
    ck_assert_double_eq_tol(m.warnings[0].ms, 500, 1e-9);
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

START_TEST(a_quick_coroutine_does_not_block)
{
    struct tracefile tf;
    struct model m;
    char err[256];
    ck_assert_int_eq(parse_text(&tf, lesson04, err, sizeof err), 0);
    struct model_options o = {.block_ms = 1000, .logical = false};
    ck_assert_int_eq(model_build(&m, &tf, &o), 0);
    char words[256];
    warnings_of(&tf, &m, words, sizeof words);
    ck_assert_str_eq(words, "never idle, never stuck");
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

START_TEST(generators_never_resumed)
{
    /* 03_two_requests: the global generator is replaced; req_a#1 waits for ever. */
    struct tracefile tf;
    struct model m;
    load_text(&tf, &m,
              "#asynctrace 1 program=x\n"
              "1\tmain\tmain\tlane_start\t-\tmain\n"
              "2\tmain\tmain\tresume\tg\tnext\n"
              "3\tmain\tg\tlane_start\tmain\tgenerator\n"
              "4\tmain\tg\tyield\tmain\t\n"
              "5\tmain\tmain\tlane_end\t-\t\n",
              false);
    ck_assert_uint_eq(m.n_warnings, 1);
    ck_assert_int_eq(m.warnings[0].kind, WARN_NEVER_RESUMED);
    ck_assert_int_eq(m.lanes[1].kind, LK_GENERATOR);
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

START_TEST(an_empty_trace)
{
    struct tracefile tf;
    struct model m;
    load_text(&tf, &m, "#asynctrace 1\n", false);
    ck_assert_uint_eq(m.n_lanes, 0);
    ck_assert_uint_eq(m.n_warnings, 0);
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("lanes");
    tcase_add_test(tc, generators_lend_and_give_back);
    tcase_add_test(tc, arrows_point_from_actor_to_affected);
    tcase_add_test(tc, busy_and_waiting_times);
    tcase_add_test(tc, coroutines_share_one_thread);
    tcase_add_test(tc, loop_phases);
    tcase_add_test(tc, ready_lanes_are_counted);
    tcase_add_test(tc, warns_of_blocking_and_never_resumed);
    tcase_add_test(tc, a_quick_coroutine_does_not_block);
    tcase_add_test(tc, generators_never_resumed);
    tcase_add_test(tc, an_empty_trace);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
