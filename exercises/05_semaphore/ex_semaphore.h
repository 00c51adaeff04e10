/* ex_semaphore — exercise 5: Tornado's Semaphore, written on futures.
 *
 * A counter of free units. acquire takes one: its future is done at once when a unit is
 * free, else the caller waits in line, oldest first, until a release hands it a unit.
 * With a deadline (absolute, on ioloop_time()'s scale; 0 for none) a waiter that is
 * still in line then fails with ETIMEDOUT, "Timeout": Tornado's gen.TimeoutError.
 *
 *     future_t *f = ex_semaphore_acquire(sem, 0);
 *     if (coro_await(f, NULL) == 0) {   // `async with sem:`
 *         ...the work...
 *         ex_semaphore_release(sem);     // the end of the `async with` block
 *     }
 *
 * One loop, one thread, like 04_epoll_loop/locks.h's semaphore_t, which this retells.
 */
#ifndef EX_SEMAPHORE_H
#define EX_SEMAPHORE_H

#include "future.h"

typedef struct ex_semaphore ex_semaphore_t;

/* A semaphore with value free units (value >= 0). */
ex_semaphore_t *ex_semaphore_new(long value);
/* Waiters still in line fail with ECANCELED. */
void ex_semaphore_free(ex_semaphore_t *s);
/* A future the caller owns (coro_await consumes it): done when the caller has a unit. */
future_t *ex_semaphore_acquire(ex_semaphore_t *s, double deadline);
/* Gives a unit back: to the oldest waiter still waiting, if there is one. */
void ex_semaphore_release(ex_semaphore_t *s);
/* The units free now. */
long ex_semaphore_value(const ex_semaphore_t *s);

#endif
