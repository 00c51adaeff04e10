/* future — a result that is not there yet: Tornado's (asyncio's) Future.
 *
 * A future starts pending and ends once, either done with a result (a pointer) or failed
 * with an error (a code and a message). Whoever waits for it — a coroutine's coro_await,
 * a done-callback — is told on the loop, in a later iteration, never inside the call that
 * resolved it: the resolver's stack never runs someone else's code.
 *
 *     future_t *f = future_new("data");       // pending, one reference: ours
 *     future_add_done_callback(f, show, NULL); // show(f, NULL) runs after it resolves
 *     future_set_result(f, "data");            // schedules show; does not call it
 *     future_unref(f);                         // the callback holds its own reference
 *
 * Lifetime: futures are reference counted. future_new gives the caller one reference; a
 * pending done-callback holds one; coro_await consumes one. The last future_unref frees
 * it, and its result too if it was set with future_set_result_owned.
 *
 * Errors: codes are errno values (ETIMEDOUT for a timeout, ECANCELED for a stopped loop)
 * or a program's own positive numbers; the message says what happened, for people.
 *
 * A future belongs to the loop that was current on the thread that made it; it is for
 * that thread only (another thread hands results over with ioloop_add_callback).
 */
#ifndef FUTURE_H
#define FUTURE_H

#include <stdbool.h>

#include "ioloop.h"

typedef struct future future_t;
typedef void future_cb(future_t *f, void *arg);

/* A pending future on the current loop. name (static) labels it in the trace and in
 * error messages: "sleep", "Queue.get", the coroutine's name. */
future_t *future_new(const char *name);
void future_ref(future_t *f);
void future_unref(future_t *f);

/* Resolve a pending future. Both return 0, or -1 with errno EALREADY (and change
 * nothing) if it was already resolved: asyncio's InvalidStateError. */
int future_set_result(future_t *f, void *value);
/* As future_set_result; the future frees value with free_fn when it is freed. */
int future_set_result_owned(future_t *f, void *value, void (*free_fn)(void *));
/* message is a printf format; code must not be 0. */
int future_set_error(future_t *f, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

bool future_done(const future_t *f);   /* resolved, either way */
bool future_failed(const future_t *f); /* resolved with an error */
void *future_result(const future_t *f); /* NULL unless done without error */
int future_error(const future_t *f);    /* 0 unless failed */
const char *future_error_message(const future_t *f); /* "" unless failed */
const char *future_name(const future_t *f);
ioloop_t *future_loop(const future_t *f);

/* Runs cb(f, arg) on the loop once f is resolved: in a later iteration, even if f is
 * already resolved now. Callbacks run in the order they were added. */
void future_add_done_callback(future_t *f, future_cb *cb, void *arg);

/* Tornado's chain_future: when from resolves, to gets the same outcome, unless to was
 * resolved by then. Results that from owns stay valid as long as to lives. */
void future_chain(future_t *from, future_t *to);

#endif
