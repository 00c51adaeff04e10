/* Unit tests for lessons/trace: the line format, escaping, overlong texts, write errors
 * reported at close, lanes per thread, and nothing written when tracing is off. */
#include "trace.h"
#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static char path[] = "/tmp/trace_test.XXXXXX";

static void setup(void)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void teardown(void)
{
    unlink(path);
}

/* The whole file, read back. */
static char *slurp(void)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Line n (0 = the header), without its newline. */
static char *line(char *all, int n)
{
    static char one[8192];
    for (; n > 0 && all; n--)
        all = strchr(all, '\n') ? strchr(all, '\n') + 1 : NULL;
    ck_assert_ptr_nonnull(all);
    size_t len = strcspn(all, "\n");
    memcpy(one, all, len);
    one[len] = 0;
    return one;
}

START_TEST(lines_have_six_fields)
{
    ck_assert_int_eq(trace_open(path, "program=t"), 0);
    trace_set_thread("worker");
    TRACE(TRACE_PRINT, NULL, "hello %d", 42);
    trace_set_lane("gen");
    TRACE(TRACE_YIELD, "worker", "%s", "");
    ck_assert_int_eq(trace_close(), 0);

    char *all = slurp();
    ck_assert_str_eq(line(all, 0), "#asynctrace 1 program=t");
    char *l1 = line(all, 1);
    ck_assert_ptr_nonnull(strstr(l1, "\tworker\tworker\tprint\t-\thello 42"));
    ck_assert_int_eq((int)strspn(l1, "0123456789"), (int)(strchr(l1, '\t') - l1));
    ck_assert_ptr_nonnull(strstr(line(all, 2), "\tworker\tgen\tyield\tworker\t"));
    ck_assert_str_eq(trace_kind_name(TRACE_LANE_START), "lane_start");
    ck_assert_str_eq(trace_kind_name(TRACE_KIND_COUNT), "unknown");
}
END_TEST

START_TEST(text_is_escaped)
{
    ck_assert_int_eq(trace_open(path, "x=1"), 0);
    TRACE(TRACE_PRINT, "a\tb", "tab\there\nnew\\line\rcr");
    ck_assert_int_eq(trace_close(), 0);
    char *l = line(slurp(), 1);
    ck_assert_ptr_nonnull(strstr(l, "\tprint\ta\\tb\ttab\\there\\nnew\\\\line\\rcr"));
}
END_TEST

START_TEST(overlong_text_is_cut_not_overflowed)
{
    static char big[6000];
    memset(big, '\t', sizeof big - 1); /* each becomes two bytes */
    ck_assert_int_eq(trace_open(path, "x=1"), 0);
    TRACE(TRACE_PRINT, NULL, "%s", big);
    TRACE(TRACE_PRINT, NULL, "after");
    ck_assert_int_eq(trace_close(), 0);
    char *all = slurp();
    ck_assert_uint_le(strlen(line(all, 1)), 4095);
    ck_assert_ptr_nonnull(strstr(line(all, 2), "\tafter"));
}
END_TEST

START_TEST(write_errors_are_reported_at_close)
{
    /* The header fits in 64 bytes, the events do not: writes fail with EFBIG. */
    struct rlimit small = {64, 64};
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    ck_assert_int_eq(trace_open(path, "x=1"), 0);
    for (int i = 0; i < 10; i++)
        TRACE(TRACE_PRINT, NULL, "event %d", i);
    ck_assert_int_eq(trace_close(), -1);
    ck_assert_int_eq(errno, EFBIG);
    ck_assert_int_eq(trace_close(), 0); /* closed once, reported once */
}
END_TEST

START_TEST(open_errors_are_reported)
{
    ck_assert_int_eq(trace_open("/dev/full", "x=1"), -1); /* even the header fails */
    ck_assert_int_eq(errno, ENOSPC);
    ck_assert(!trace_enabled);
    ck_assert_int_eq(trace_open("/nonexistent/dir/trace", "x=1"), -1);
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(nothing_is_written_when_off)
{
    ck_assert(!trace_enabled);
    TRACE(TRACE_PRINT, NULL, "nobody hears this");
    ck_assert_int_eq(trace_close(), 0);
    ck_assert_str_eq(slurp(), "");
}
END_TEST

static void *other_thread(void *arg)
{
    (void)arg;
    TRACE(TRACE_PRINT, NULL, "from elsewhere"); /* "unnamed" until it names itself */
    trace_set_thread("other");
    TRACE(TRACE_PRINT, NULL, "named");
    return NULL;
}

START_TEST(lanes_belong_to_threads)
{
    ck_assert_int_eq(trace_open(path, "x=1"), 0);
    trace_set_thread("first");
    pthread_t t;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, NULL);
    TRACE(TRACE_PRINT, NULL, "still first");
    ck_assert_int_eq(trace_close(), 0);
    char *all = slurp();
    ck_assert_ptr_nonnull(strstr(line(all, 1), "\tunnamed\tunnamed\tprint\t-\tfrom elsewhere"));
    ck_assert_ptr_nonnull(strstr(line(all, 2), "\tother\tother\tprint\t-\tnamed"));
    ck_assert_ptr_nonnull(strstr(line(all, 3), "\tfirst\tfirst\tprint\t-\tstill first"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("trace");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lines_have_six_fields);
    tcase_add_test(tc, text_is_escaped);
    tcase_add_test(tc, overlong_text_is_cut_not_overflowed);
    tcase_add_test(tc, write_errors_are_reported_at_close);
    tcase_add_test(tc, open_errors_are_reported);
    tcase_add_test(tc, nothing_is_written_when_off);
    tcase_add_test(tc, lanes_belong_to_threads);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
