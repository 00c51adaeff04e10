/* diagram_test — column widths, rows, labels, the text picture and the task table. */
#include <stdio.h>

#include "diagram.h"
#include "tasks.h"
#include "text.h"
#include "tracer_unit.h"
#include "utf8.h"

START_TEST(widths)
{
    ck_assert_int_eq(utf8_width("abc"), 3);
    ck_assert_int_eq(utf8_width("开始处理"), 8);
    ck_assert_int_eq(utf8_width("\u2503\u25b6"), 2);
    ck_assert_int_eq(utf8_width("e\u0301"), 1); /* a combining accent takes no column */
    ck_assert_int_eq(utf8_width("\xff\xfe"), 2); /* invalid bytes show as one column each */
    int32_t cp;
    ck_assert_uint_eq(utf8_decode("\xe2\x94\x83", 3, &cp), 3);
    ck_assert_int_eq(cp, 0x2503);
    ck_assert_uint_eq(utf8_decode("\xe2\x94", 2, &cp), 1);
    ck_assert_int_eq(cp, -1);
    ck_assert_uint_eq(utf8_decode("\xc0\x80", 2, &cp), 1); /* overlong */
    ck_assert_int_eq(cp, -1);
}
END_TEST

START_TEST(fitting)
{
    char out[64] = "";
    ck_assert_int_eq(utf8_fit(out, sizeof out, "hello world", 8, false), 8);
    ck_assert_str_eq(out, "hello w\u2026");
    out[0] = '\0';
    ck_assert_int_eq(utf8_fit(out, sizeof out, "开始处理请求", 7, false), 7);
    ck_assert_str_eq(out, "开始处\u2026"); /* a wide character never straddles the edge */
    out[0] = '\0';
    ck_assert_int_eq(utf8_fit(out, sizeof out, "a\tb\x1b[2Jc", 20, false), 8);
    ck_assert_str_eq(out, "a b\uFFFD[2Jc"); /* no escape sequence reaches the terminal */
    out[0] = '\0';
    utf8_fit(out, sizeof out, "caf\u00e9 long", 6, true);
    ck_assert_str_eq(out, "caf? ~");
    out[0] = '\0';
    ck_assert_int_eq(utf8_fit_middle(out, sizeof out, "req_a#1", 6, false), 6);
    ck_assert_str_eq(out, "req\u2026#1");
    out[0] = '\0';
    ck_assert_int_eq(utf8_fit_middle(out, sizeof out, "main", 6, false), 4);
    ck_assert_str_eq(out, "main");
    out[0] = '\0';
    utf8_pad(out, sizeof out, 3);
    ck_assert_str_eq(out, "   ");
}
END_TEST

static const char trace[] =
    "#asynctrace 1 program=demo lang=en speed=100 threads=gil\n"
    "8\tmain\tmain\tlane_start\t-\tmain\n"
    "32\tmain\tmain\tresume\treq_a\tnext\n"
    "37\tmain\treq_a\tlane_start\tmain\tgenerator\n"
    "46\tmain\treq_a\tprint\t-\tStart handling request req_a\n"
    "48\tmain\treq_a\tspawn\tio\tthread\n"
    "90\tmain\treq_a\tyield\tmain\t\n"
    "111\tio\tio\tlane_start\t-\tthread\n"
    "120\tio\tio\tcallback\t-\ton_finish\n"
    "200\tio\tio\tresume\treq_a\tsend\n"
    "210\tio\treq_a\tlane_end\tio\treturned\n"
    "220\tio\tio\tlane_end\t-\t\n"
    "230\tmain\tmain\tjoin_end\tio\t\n"
    "240\tmain\tmain\tlane_end\t-\t\n";

/* The cells of EVENT as one string. */
static void row_string(const struct model *m, const struct layout *lo, uint32_t e, char *out, size_t outsz)
{
    uint8_t states[16];
    struct cell cells[256];
    for (size_t c = 0; c < lo->n_cols; c++)
        states[c] = (uint8_t)model_state_at(m, lo->cols[c], e);
    diagram_cells(m, lo, e, states, cells);
    out[0] = '\0';
    for (size_t x = 0; x < lo->n_cols * (size_t)lo->lane_w; x++)
        strncat(out, cells[x].glyph, outsz - strlen(out) - 1);
}

START_TEST(rows_and_arrows)
{
    struct tracefile tf;
    struct model m;
    struct layout lo;
    char row[512];
    load_text(&tf, &m, trace, true);
    ck_assert_int_eq(diagram_layout(&lo, &m, 80, NULL, 0, true, true), 0);
    ck_assert_uint_eq(lo.n_cols, 3);
    ck_assert_int_eq(lo.lane_w, 9);
    row_string(&m, &lo, 1, row, sizeof row);
    ck_assert_str_eq(row, ":------->|                 ");
    row_string(&m, &lo, 5, row, sizeof row);
    ck_assert_str_eq(row, "|<-------.        '        ");
    row_string(&m, &lo, 3, row, sizeof row);
    ck_assert_str_eq(row, ":        \"                 "); /* io is not spawned yet */
    row_string(&m, &lo, 7, row, sizeof row);
    ck_assert_str_eq(row, "|        .        @        ");
    row_string(&m, &lo, 11, row, sizeof row); /* the join ends: from io, which is over */
    ck_assert_str_eq(row, "|<----------------         ");
    diagram_layout_free(&lo);
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

START_TEST(labels)
{
    struct tracefile tf;
    struct model m;
    char label[256];
    load_text(&tf, &m, trace, true);
    static const char *const want[] = {
        "main starts", "main resumes req_a (next)", "req_a starts (generator)",
        "\"Start handling request req_a\"", "req_a spawns thread io", "req_a yields to main",
        "io starts (thread)", "io calls back on_finish", "io resumes req_a (send)", "req_a returns to io",
        "io ends", "io has ended: main goes on", "main ends",
    };
    for (uint32_t e = 0; e < tf.n_events; e++) {
        diagram_label(&m, e, label, sizeof label);
        ck_assert_str_eq(label, want[e]);
    }
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

START_TEST(hidden_and_scrolled_lanes)
{
    struct tracefile tf;
    struct model m;
    struct layout lo;
    load_text(&tf, &m, trace, false);
    bool hidden[3] = {false, true, false};
    ck_assert_int_eq(diagram_layout(&lo, &m, 80, hidden, 0, false, false), 0);
    ck_assert_uint_eq(lo.n_cols, 2);
    ck_assert_uint_eq(lo.cols[1], 2);
    diagram_layout_free(&lo);
    ck_assert_int_eq(diagram_layout(&lo, &m, 80, NULL, 1, false, false), 0);
    ck_assert_uint_eq(lo.n_cols, 2);
    ck_assert_uint_eq(lo.cols[0], 1);
    diagram_layout_free(&lo);
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

/* Writes the text picture of TEXT into a string (caller frees). */
static char *picture(const char *text, const struct text_options *o)
{
    struct tracefile tf;
    struct model m;
    load_text(&tf, &m, text, o->logical);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(text_write(f, &m, o), 0);
    fclose(f);
    model_free(&m);
    tracefile_free(&tf);
    return buf;
}

START_TEST(text_fits_80_columns)
{
    struct text_options o = {.width = 80, .logical = true};
    char *out = picture(trace, &o);
    char *save = NULL;
    int lines = 0;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++)
        ck_assert_msg(utf8_width(line) <= 80, "too wide: %s", line);
    ck_assert_int_ge(lines, 13 + 2);
    free(out);
}
END_TEST

START_TEST(text_is_the_same_whatever_the_times)
{
    /* The same events at other times: the logical picture does not change. */
    char *later = strdup(trace);
    for (char *p = later; (p = strstr(p, "\n1")); p++)
        p[1] = '9';
    struct text_options o = {.width = 80, .logical = true};
    char *a = picture(trace, &o), *b = picture(later, &o);
    ck_assert_str_eq(a, b);
    ck_assert_ptr_nonnull(strstr(a, "demo \u00b7 en \u00b7 speed 100 \u00b7 threads gil \u00b7 13 events"));
    ck_assert_ptr_nonnull(strstr(a, "   2 \u2502 \u2502\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u25b6\u2503"));
    free(a);
    free(b);
    free(later);
}
END_TEST

START_TEST(task_table)
{
    struct tracefile tf;
    struct model m;
    char row[256];
    load_text(&tf, &m, trace, true);
    tasks_header(true, row, sizeof row);
    ck_assert_str_eq(row, "lane         kind      thread        at the end      busy  waiting resumes");
    tasks_row(&m, 1, true, true, row, sizeof row);
    ck_assert_str_eq(row, "req_a        generator main->io      done               5        3       2");
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

START_TEST(warning_sentences)
{
    struct tracefile tf;
    struct model m;
    char line[256];
    load_text(&tf, &m,
              "#asynctrace 1 program=x speed=1\n"
              "0\tmain\tmain\tlane_start\t-\tmain\n"
              "1\tmain\tmain\tspawn\tc\tcoroutine\n"
              "2\tmain\tmain\tresume\tc\tnext\n"
              "3\tmain\tc\tsleep_begin\t-\t2\n"
              "4\tmain\tc\tsleep_end\t-\t2\n"
              "5\tmain\tc\twait\t-\tQueue.get\n"
              "6\tmain\tmain\tlane_end\t-\t\n",
              true);
    ck_assert_uint_eq(m.n_warnings, 2);
    tasks_warning(&m, 0, line, sizeof line);
    ck_assert_str_eq(line, "warning: c blocked the loop for 2000 ms (document time) without yielding, from step 3");
    tasks_warning(&m, 1, line, sizeof line);
    ck_assert_str_eq(line, "warning: c never resumed: it still waits on Queue.get when the trace ends");
    model_free(&m);
    tracefile_free(&tf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diagram");
    TCase *tc = tcase_create("picture");
    tcase_add_test(tc, widths);
    tcase_add_test(tc, fitting);
    tcase_add_test(tc, rows_and_arrows);
    tcase_add_test(tc, labels);
    tcase_add_test(tc, hidden_and_scrolled_lanes);
    tcase_add_test(tc, text_fits_80_columns);
    tcase_add_test(tc, text_is_the_same_whatever_the_times);
    tcase_add_test(tc, task_table);
    tcase_add_test(tc, warning_sentences);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
