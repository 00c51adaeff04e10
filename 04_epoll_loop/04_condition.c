/* 04_condition — lesson 04: document 001's waiter and notifier, on a Condition.
 *
 * The waiter waits on the condition; the notifier sleeps 60 seconds on the loop, then
 * notifies. notify wakes the waiter but does not run it: the waiter goes on in a later
 * loop turn, after the notifier has finished its own lines.
 */
#include "coro.h"
#include "lesson.h"
#include "locks.h"

static void *waiter(void *arg)
{
    lesson_say("I'll wait right here", "I'll wait right here");
    coro_await(condition_wait(arg, 0), NULL);
    lesson_say("Received notification now doing my things",
               "Received notification now doing my things");
    return NULL;
}

static void *notifier(void *arg)
{
    coro_await(coro_sleep(lesson_seconds(60)), NULL);
    lesson_say("About to notify", "About to notify");
    condition_notify(arg, 1);
    lesson_say("Done notifying", "Done notifying");
    return NULL;
}

/* The document's runner: wait for waiter() and notifier() in parallel. */
static future_t *runner(void *arg)
{
    future_t *both[] = {coro_spawn("waiter", waiter, arg), coro_spawn("notifier", notifier, arg)};
    return coro_multi(both, 2);
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "document 001's waiter and notifier on a Condition.\n"
                 "notify wakes the waiter; it runs on the loop's next turn.",
    };
    lesson_init(argc, argv, &info);
    ioloop_t *loop = ioloop_current();
    condition_t *cond = condition_new();
    future_unref(ioloop_run_sync(loop, runner, cond, 0));
    condition_free(cond);
    ioloop_free(loop);
    return lesson_exit();
}
