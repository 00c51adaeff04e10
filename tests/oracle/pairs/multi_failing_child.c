/* Pair multi_failing_child (reference probe T6): coro_multi over [ok 20 ms, bad 10 ms,
 * bad 30 ms].
 *
 * The children finish in deadline order: bad2, ok1, bad3. coro_multi waits for all of
 * them even though bad2 failed first, and then fails with the first failure in input
 * order (bad2). The later failure (bad3) is only printed on stderr, which the pair
 * ignores. The three sleeps fire in deadline order however late the loop is, so load
 * cannot reorder them. */
#include "pair.h"

#define NCHILD 3
#define CHILD_FAILED 1

struct child_arg {
    const char *name;
    double delay;
    bool ok;
};

static const struct child_arg children[NCHILD] = {
    {"ok1", 0.02, true},
    {"bad2", 0.01, false},
    {"bad3", 0.03, false},
};

static void *child(void *arg)
{
    const struct child_arg *c = arg;
    if (coro_await(coro_sleep(c->delay), NULL))
        return coro_fail_again();
    printf("%s finishes\n", c->name);
    if (!c->ok)
        return coro_fail(CHILD_FAILED, "%s failed", c->name);
    return (void *)c->name;
}

static void print_done(future_t **futures)
{
    printf("main: children done:");
    for (int i = 0; i < NCHILD; i++)
        printf(" %s", yes_no(future_done(futures[i])));
    printf("\n");
}

static void *body(void *arg)
{
    (void)arg;
    future_t *futures[NCHILD];
    for (int i = 0; i < NCHILD; i++) {
        futures[i] = coro_spawn(children[i].name, child, (void *)&children[i]);
        future_ref(futures[i]); /* kept to look at after multi consumed one */
    }
    printf("main: waiting for all three\n");
    if (coro_await(coro_multi(futures, NCHILD), NULL) == CHILD_FAILED)
        printf("main: multi failed: %s\n", coro_error());
    else
        printf("main: multi succeeded (wrong)\n");
    print_done(futures);
    for (int i = 0; i < NCHILD; i++)
        future_unref(futures[i]);
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
