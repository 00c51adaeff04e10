/* Pair multi_dict: coro_multi_named, the documents' `yield dict(...)`.
 *
 * The result maps each name to its child's result in the order the names were given,
 * whatever order the children finished in (here: now at once, fast after one turn of
 * the loop, slow after a sleep). An empty set of names is done at once: no suspension,
 * so a callback queued just before it runs after. */
#include "pair.h"

static void *slow(void *arg)
{
    (void)arg;
    if (coro_await(coro_sleep(0.02), NULL))
        return coro_fail_again();
    printf("slow finishes\n");
    return "S";
}

static void *fast(void *arg)
{
    (void)arg;
    if (coro_await(coro_moment(), NULL))
        return coro_fail_again();
    printf("fast finishes\n");
    return "F";
}

static void *now(void *arg)
{
    (void)arg;
    printf("now finishes\n");
    return "N";
}

static void say(void *arg)
{
    printf("%s\n", (const char *)arg);
}

static int named_three(void)
{
    const char *names[] = {"slow", "fast", "now"};
    future_t *children[] = {coro_spawn("slow", slow, NULL), coro_spawn("fast", fast, NULL),
                            coro_spawn("now", now, NULL)};
    future_t *multi = coro_multi_named(names, children, 3);
    future_ref(multi); /* the results belong to it: keep it while we read them */
    void *out;
    int err = coro_await(multi, &out);
    if (!err) {
        const struct coro_named_results *r = out;
        printf("main: %zu results\n", r->n);
        for (size_t i = 0; i < r->n; i++)
            printf("main: %s = %s\n", r->names[i], (char *)r->values[i]);
    }
    future_unref(multi);
    return err ? -1 : 0;
}

static int named_none(void)
{
    ioloop_add_callback(ioloop_current(), say, "callback queued before the empty dict");
    const char *names[1];   /* room for none: n is 0 */
    future_t *children[1];
    future_t *multi = coro_multi_named(names, children, 0);
    future_ref(multi);
    void *out;
    int err = coro_await(multi, &out);
    if (!err)
        printf("main: empty dict gives %zu results\n", ((struct coro_named_results *)out)->n);
    future_unref(multi);
    return err || coro_await(coro_moment(), NULL) ? -1 : 0;
}

static void *body(void *arg)
{
    (void)arg;
    if (named_three() || named_none())
        return coro_fail_again();
    return NULL;
}

int main(void)
{
    return pair_run(body, NULL);
}
