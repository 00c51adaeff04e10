/* tracefile_test — the reader: fields, escapes, interning, and what it forgives. */
#include "tracer_unit.h"

#define HEADER "#asynctrace 1 program=p lang=en speed=50 threads=gil\n"

START_TEST(reads_header_and_events)
{
    struct tracefile tf;
    char err[256];
    ck_assert_int_eq(parse_text(&tf, HEADER "8\tmain\tmain\tlane_start\t-\tmain\n"
                                           "32\tmain\tmain\tresume\treq_a\tnext\n"
                                           "37\tmain\treq_a\tlane_start\tmain\tgenerator\n",
                                err, sizeof err), 0);
    ck_assert_str_eq(tf.program, "p");
    ck_assert_str_eq(tf.lang, "en");
    ck_assert_str_eq(tf.threads_mode, "gil");
    ck_assert_double_eq(tf.speed, 50);
    ck_assert_uint_eq(tf.n_events, 3);
    ck_assert_uint_eq(tf.n_lanes, 2);
    ck_assert_uint_eq(tf.n_threads, 1);
    ck_assert_int_eq(tf.events[1].kind, EV_RESUME);
    ck_assert_uint_eq(tf.events[1].peer, 1);
    ck_assert_uint_eq(tf.events[0].peer, TRACEFILE_NO_PEER);
    ck_assert_str_eq(tf.events[2].text, "generator");
    ck_assert_int_eq(tf.events[2].time, 37);
    ck_assert_double_eq_tol(tracefile_doc_seconds(&tf, 100000), 5.0, 1e-9);
    ck_assert(!tracefile_problems(&tf, err, sizeof err));
    tracefile_free(&tf);
}
END_TEST

START_TEST(unescapes_fields)
{
    struct tracefile tf;
    char err[256];
    ck_assert_int_eq(parse_text(&tf, HEADER "1\tmain\ta\\tb\tprint\t-\tx\\ty\\nz\\\\w\\r\n", err, sizeof err), 0);
    ck_assert_str_eq(tf.lanes[0], "a\tb");
    ck_assert_str_eq(tf.events[0].text, "x\ty\nz\\w\r");
    tracefile_free(&tf);
}
END_TEST

START_TEST(skips_unknown_kinds_keys_and_comments)
{
    struct tracefile tf;
    char err[256];
    ck_assert_int_eq(parse_text(&tf, "#asynctrace 1 program=p novel=key flag speed=2\n"
                                     "1\tmain\tmain\tlane_start\t-\tmain\n"
                                     "# a comment\n"
                                     "2\tmain\tmain\tteleport\t-\tsomewhere\n"
                                     "\n"
                                     "3\tmain\tmain\tlane_end\t-\t\n",
                                err, sizeof err), 0);
    ck_assert_uint_eq(tf.n_events, 2);
    ck_assert_uint_eq(tf.unknown_kinds, 1);
    ck_assert_uint_eq(tf.malformed, 0);
    ck_assert_double_eq(tf.speed, 2);
    ck_assert_str_eq(tf.lang, "");
    ck_assert(!tracefile_problems(&tf, err, sizeof err)); /* skipping unknown kinds is the rule */
    tracefile_free(&tf);
}
END_TEST

START_TEST(counts_malformed_lines)
{
    struct tracefile tf;
    char err[256];
    ck_assert_int_eq(parse_text(&tf, HEADER "1\tmain\tmain\tlane_start\t-\tmain\n"
                                           "x\tmain\tmain\tprint\t-\tbad time\n"
                                           "2\tmain\tmain\tprint\t-\n"
                                           "3\tmain\tmain\tprint\t-\ta\tseventh\n"
                                           "4\tmain\t\tprint\t-\tno lane\n"
                                           "5\tmain\tmain\tprint\t-\tbad \\q escape\n"
                                           "6\tmain\tmain\tprint\t-\tgood\n",
                                err, sizeof err), 0);
    ck_assert_uint_eq(tf.n_events, 2);
    ck_assert_uint_eq(tf.malformed, 5);
    ck_assert(tracefile_problems(&tf, err, sizeof err));
    ck_assert_str_eq(err, "5 malformed lines skipped");
    tracefile_free(&tf);
}
END_TEST

START_TEST(drops_a_cut_last_line)
{
    struct tracefile tf;
    char err[256];
    ck_assert_int_eq(parse_text(&tf, HEADER "1\tmain\tmain\tlane_start\t-\tmain\n2\tmain\tmain\tpri", err,
                                sizeof err), 0);
    ck_assert_uint_eq(tf.n_events, 1);
    ck_assert(tf.truncated);
    ck_assert(tracefile_problems(&tf, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "cut short"));
    tracefile_free(&tf);
}
END_TEST

START_TEST(keeps_time_from_going_back)
{
    struct tracefile tf;
    char err[256];
    ck_assert_int_eq(parse_text(&tf, HEADER "10\tmain\tmain\tlane_start\t-\tmain\n5\tmain\tmain\tlane_end\t-\t\n",
                                err, sizeof err), 0);
    ck_assert_int_eq(tf.events[1].time, 10);
    ck_assert_uint_eq(tf.time_back, 1);
    tracefile_free(&tf);
}
END_TEST

START_TEST(refuses_what_is_not_a_trace)
{
    static const char *const bad[] = {
        "", "hello\n", "#asynctrace\n", "#asynctrace x\n", "#asynctrace 1", "\x7f" "ELF\x02\x01\n",
        "#asynctrace 1 program=a\0b\n",
    };
    static const size_t lens[] = {0, 6, 12, 14, 13, 7, 26};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tracefile tf;
        char err[256] = "";
        char *buf = malloc(lens[i] + 1);
        memcpy(buf, bad[i], lens[i] + 1);
        ck_assert_int_eq(tracefile_parse(&tf, buf, lens[i], err, sizeof err), -1);
        ck_assert_msg(strstr(err, "not an asynctrace trace"), "case %zu: %s", i, err);
        tracefile_free(&tf);
    }
}
END_TEST

START_TEST(refuses_a_newer_version)
{
    struct tracefile tf;
    char err[256];
    ck_assert_int_eq(parse_text(&tf, "#asynctrace 2 program=p\n", err, sizeof err), -1);
    ck_assert_str_eq(err, "the trace is of format version 2; this reader knows version 1");
    tracefile_free(&tf);
}
END_TEST

START_TEST(interns_many_lanes)
{
    size_t n = 5000, cap = n * 48 + 64, used = 0;
    char *text = malloc(cap);
    used += (size_t)snprintf(text, cap, "%s", HEADER);
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, cap - used, "%zu\tmain\tc%zu\twait\tc%zu\tx\n", i, i, (i + 1) % n);
    struct tracefile tf;
    char err[256];
    ck_assert_int_eq(parse_text(&tf, text, err, sizeof err), 0);
    ck_assert_uint_eq(tf.n_lanes, n);
    ck_assert_str_eq(tf.lanes[tf.events[4999].lane], "c4999");
    ck_assert_str_eq(tf.lanes[tf.events[4999].peer], "c0");
    ck_assert_str_eq(tf.lanes[1], "c1");
    free(text);
    tracefile_free(&tf);
}
END_TEST

START_TEST(loads_a_file)
{
    char path[] = "/tmp/tracefile_test_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(HEADER "1\tmain\tmain\tlane_start\t-\tmain\n", f);
    fclose(f);
    struct tracefile tf;
    char err[256];
    ck_assert_int_eq(tracefile_load(&tf, path, err, sizeof err), 0);
    ck_assert_uint_eq(tf.n_events, 1);
    tracefile_free(&tf);
    unlink(path);
    ck_assert_int_eq(tracefile_load(&tf, path, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tracefile");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, reads_header_and_events);
    tcase_add_test(tc, unescapes_fields);
    tcase_add_test(tc, skips_unknown_kinds_keys_and_comments);
    tcase_add_test(tc, counts_malformed_lines);
    tcase_add_test(tc, drops_a_cut_last_line);
    tcase_add_test(tc, keeps_time_from_going_back);
    tcase_add_test(tc, refuses_what_is_not_a_trace);
    tcase_add_test(tc, refuses_a_newer_version);
    tcase_add_test(tc, interns_many_lanes);
    tcase_add_test(tc, loads_a_file);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
