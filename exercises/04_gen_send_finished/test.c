/* Exercise 4's tests: ex_send (ex_send.h) against Python's rules for generator.send.
 * Each test runs in a process of its own, so one that crashes does not stop the others. */
#include "ex_send.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What *out and *message hold before each call: a value ex_send must overwrite. */
static char stale[] = "(a value left over from before the call)";

static const char *kind_name(ex_kind kind)
{
    switch (kind) {
    case EX_YIELDED: return "EX_YIELDED";
    case EX_FINISHED: return "EX_FINISHED";
    case EX_ERROR: return "EX_ERROR";
    }
    return "a value that is no ex_kind";
}

/* s as C would write it: NULL, or in quotes. */
static const char *shown(char *buf, size_t size, const char *s)
{
    if (!s)
        return "NULL";
    snprintf(buf, size, "\"%s\"", s);
    return buf;
}

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* One call's result, and what it should have been. */
struct want {
    ex_kind kind;
    const char *out;
    const char *message;
};

/* Calls ex_send(g, value) and checks it. what says which call, python what Python does. */
static void send_expect(gen_t *g, const char *value, const char *what, const char *python,
                        struct want want)
{
    void *out = stale;
    const char *message = stale;
    ex_kind kind = ex_send(g, (void *)value, &out, &message);
    char a[160], b[160];
    ck_assert_msg(kind == want.kind, "%s: %s, so ex_send should return %s, not %s", what,
                  python, kind_name(want.kind), kind_name(kind));
    ck_assert_msg(same(out, want.out),
                  "%s: ex_send returned %s all right, but *out should be %s, not %s", what,
                  kind_name(kind), shown(a, sizeof a, want.out), shown(b, sizeof b, out));
    ck_assert_msg(same(message, want.message),
                  "%s: ex_send returned %s all right, but *message should be %s, not %s", what,
                  kind_name(kind), shown(a, sizeof a, want.message), shown(b, sizeof b, message));
}

/* Python: def two_steps(): x = yield "first"; y = yield "second"; return "end" */
static void *two_steps(gen_t *self)
{
    gen_yield(self, "first");
    gen_yield(self, "second");
    return "end";
}

static const struct want yields_first = {EX_YIELDED, "first", NULL};
static const struct want yields_second = {EX_YIELDED, "second", NULL};
static const struct want returns_end = {EX_FINISHED, "end", EX_MSG_STOP};
static const struct want stops = {EX_FINISHED, NULL, EX_MSG_STOP};
static const struct want fresh = {EX_ERROR, NULL, EX_MSG_FRESH};

/* A generator of two_steps sent to n times: up to its end when n is 3. */
static gen_t *after_sends(int n)
{
    gen_t *g = gen_create("two_steps", two_steps, NULL);
    void *out;
    const char *message;
    for (int i = 0; i < n; i++)
        ex_send(g, i ? "x" : NULL, &out, &message);
    return g;
}

START_TEST(yields_hand_out_values)
{
    gen_t *g = gen_create("two_steps", two_steps, NULL);
    send_expect(g, NULL, "the first send(None), which starts the generator",
                "Python returns the value of the first yield", yields_first);
    send_expect(g, "one", "send(\"one\") to the suspended generator",
                "Python returns the value of the next yield", yields_second);
    gen_free(g);
}
END_TEST

START_TEST(the_return_value_comes_with_stop_iteration)
{
    gen_t *g = after_sends(2);
    send_expect(g, "two", "send(\"two\"), after which the body returns \"end\"",
                "Python raises StopIteration(\"end\")", returns_end);
    gen_free(g);
}
END_TEST

START_TEST(a_send_after_the_end_stops)
{
    gen_t *g = after_sends(3);
    send_expect(g, "more", "send(\"more\") to a generator that has already returned",
                "Python raises StopIteration again, without a value (\"end\" came out once)",
                stops);
    gen_free(g);
}
END_TEST

START_TEST(every_send_after_the_end_stops)
{
    gen_t *g = after_sends(3);
    for (int i = 0; i < 3; i++) {
        send_expect(g, "more", "another send(\"more\") to a finished generator",
                    "Python raises StopIteration every time", stops);
        send_expect(g, NULL, "next() (a send of None) to a finished generator",
                    "Python raises StopIteration every time", stops);
    }
    gen_free(g);
}
END_TEST

START_TEST(a_value_before_the_start_is_a_type_error)
{
    gen_t *g = gen_create("two_steps", two_steps, NULL);
    send_expect(g, "too soon", "send(\"too soon\") before the generator has started",
                "Python raises TypeError", fresh);
    send_expect(g, "too soon", "a second send(\"too soon\") before the start",
                "Python raises TypeError again: nothing ran", fresh);
    send_expect(g, NULL, "send(None) after those TypeErrors",
                "Python starts the generator as usual: the TypeError did not hurt it",
                yields_first);
    gen_free(g);
}
END_TEST

START_TEST(a_closed_generator_stops)
{
    gen_t *g = after_sends(1);
    gen_close(g);
    send_expect(g, "late", "send(\"late\") to a generator closed at its first yield",
                "Python raises StopIteration", stops);
    gen_t *never = gen_create("two_steps", two_steps, NULL);
    gen_close(never);
    send_expect(never, NULL, "next() to a generator closed before it started",
                "Python raises StopIteration", stops);
    gen_free(g);
    gen_free(never);
}
END_TEST

/* Python: def selfish(): yield me.send(None), which raises ValueError inside. */
static void *send_to_self(gen_t *self)
{
    void *out = stale;
    const char *message = stale;
    ex_kind kind = ex_send(self, NULL, &out, &message);
    static struct want seen;
    seen = (struct want){kind, out, message};
    gen_yield(self, &seen);
    return NULL;
}

START_TEST(a_running_generator_is_a_value_error)
{
    gen_t *g = gen_create("send_to_self", send_to_self, NULL);
    const struct want *seen = gen_next(g);
    char a[160], b[160];
    const char *what = "a generator that sends to itself while it runs";
    ck_assert_msg(seen->kind == EX_ERROR,
                  "%s: Python raises ValueError, so ex_send should return EX_ERROR, not %s",
                  what, kind_name(seen->kind));
    ck_assert_msg(seen->out == NULL, "%s: *out should be NULL, not %s", what,
                  shown(a, sizeof a, seen->out));
    ck_assert_msg(same(seen->message, EX_MSG_RUNNING), "%s: *message should be %s, not %s",
                  what, shown(a, sizeof a, EX_MSG_RUNNING), shown(b, sizeof b, seen->message));
    gen_free(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ex_send");
    TCase *tc = tcase_create("python");
    tcase_add_test(tc, yields_hand_out_values);
    tcase_add_test(tc, the_return_value_comes_with_stop_iteration);
    tcase_add_test(tc, a_send_after_the_end_stops);
    tcase_add_test(tc, every_send_after_the_end_stops);
    tcase_add_test(tc, a_value_before_the_start_is_a_type_error);
    tcase_add_test(tc, a_closed_generator_stops);
    tcase_add_test(tc, a_running_generator_is_a_value_error);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_VERBOSE);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
