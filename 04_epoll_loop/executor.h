/* executor — a fixed pool of threads for work that would block the loop.
 *
 * A coroutine must never call something that blocks (sleep, a blocking read, a long
 * computation): the whole loop, and every other coroutine, would stop with it. The way
 * out, in Tornado as here, is to hand the call to a pool of threads and await a future
 * that the loop's thread resolves when the call returns (the documents'
 * ThreadPoolExecutor and run_on_executor):
 *
 *     executor_t *pool = executor_new(4);
 *     void *answer;
 *     coro_await(executor_submit(pool, "slow_query", slow_query, arg), &answer);
 *
 * fn runs on a pool thread and must not touch the loop, its futures or its coroutines;
 * its return value becomes the future's result, on the loop's thread, in a later
 * iteration. Jobs start in the order they were submitted.
 */
#ifndef EXECUTOR_H
#define EXECUTOR_H

#include <stddef.h>

#include "future.h"

typedef struct executor executor_t;
typedef void *executor_fn(void *arg);

/* A pool of nthreads threads (at least 1). NULL with errno set if a thread cannot start. */
executor_t *executor_new(size_t nthreads);
/* Runs fn(arg) on the pool; the future (on the current loop) gets its result. name
 * (static) names the future. After executor_shutdown: a future failed with ECANCELED. */
future_t *executor_submit(executor_t *ex, const char *name, executor_fn *fn, void *arg);
/* Waits for queued and running jobs to finish, then stops the threads. Their futures
 * are resolved by callbacks on their loops, which must run again to deliver them. */
void executor_shutdown(executor_t *ex);
/* Shuts down (if not yet) and frees. */
void executor_free(executor_t *ex);

#endif
