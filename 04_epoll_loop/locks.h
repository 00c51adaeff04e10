/* locks — coordination between coroutines on one loop: Tornado's tornado.locks.
 *
 * None of these block the thread: each wait is a future, awaited with coro_await. Every
 * waiter list is served oldest first (FIFO). Deadlines are absolute, on ioloop_time()'s
 * scale, 0 for none.
 *
 *   Condition   wait until another coroutine calls notify(n) or notify_all; a wait that
 *               reaches its deadline resolves with false instead of failing (Tornado's
 *               rule), true when notified. Results are (void *)true / (void *)false.
 *   Event       a flag: wait resolves once it is set (at once if it is set already);
 *               clear resets it. Tornado keeps Event waiters in a set, so its wake order
 *               is unspecified; ours is FIFO among waits of one kind (a wait with a
 *               deadline resolves one iteration after one without: Tornado wraps it
 *               in with_timeout). A wait that reaches its deadline fails with ETIMEDOUT.
 *   Semaphore   a counter: acquire waits while it is 0; release gives the unit to the
 *               oldest waiter. ETIMEDOUT at the deadline.
 *   BoundedSemaphore  a semaphore that refuses a release above its initial value
 *               (EINVAL, "Semaphore released too many times").
 *   Lock        a BoundedSemaphore(1); releasing an unlocked lock is EPERM.
 *
 * One loop, one thread: these are not for threads (the executor is). Free them before
 * their loop: freeing resolves their waiters and removes their timers on it.
 */
#ifndef LOCKS_H
#define LOCKS_H

#include <stdbool.h>
#include <stddef.h>

#include "future.h"

typedef struct condition condition_t;
condition_t *condition_new(void);
/* Waiters still pending resolve with false. */
void condition_free(condition_t *c);
future_t *condition_wait(condition_t *c, double deadline);
void condition_notify(condition_t *c, size_t n);
void condition_notify_all(condition_t *c);

typedef struct event event_t;
event_t *event_new(void);
/* Waiters still pending fail with ECANCELED. */
void event_free(event_t *e);
bool event_is_set(const event_t *e);
void event_set(event_t *e);
void event_clear(event_t *e);
future_t *event_wait(event_t *e, double deadline);

typedef struct semaphore semaphore_t;
/* Returns NULL with errno EINVAL if value < 0. */
semaphore_t *semaphore_new(long value);
semaphore_t *bounded_semaphore_new(long value);
/* Waiters still pending fail with ECANCELED. */
void semaphore_free(semaphore_t *s);
future_t *semaphore_acquire(semaphore_t *s, double deadline);
/* Returns 0, or -1 with errno EINVAL for a bounded semaphore released too many times. */
int semaphore_release(semaphore_t *s);
long semaphore_value(const semaphore_t *s);

typedef struct lock lock_t;
lock_t *lock_new(void);
void lock_free(lock_t *l);
future_t *lock_acquire(lock_t *l, double deadline);
/* Returns 0, or -1 with errno EPERM if the lock is not held ("release unlocked lock"). */
int lock_release(lock_t *l);
bool lock_locked(const lock_t *l);

#endif
