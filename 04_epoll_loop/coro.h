/* coro — coroutines on the loop: Tornado's @gen.coroutine and its Runner, in C.
 *
 * A coroutine is a function that runs on a stack of its own (a lesson 03 generator) and
 * can stop at coro_await until a future is resolved, while the loop runs everything
 * else. It reads like blocking code and blocks nothing:
 *
 *     static void *req_a(void *arg)
 *     {
 *         void *ret;
 *         if (coro_await(long_io(), &ret))        // ret = yield long_io()
 *             return coro_fail_again();            // the error goes to our awaiter
 *         printf("ret: %s\n", (char *)ret);
 *         return NULL;                             // our future's result
 *     }
 *     future_t *f = coro_spawn("req_a", req_a, NULL);
 *
 * The rules are Tornado 6's, because the course compares its output with Tornado's:
 * - coro_spawn runs the body at once, on the caller's thread, until its first wait on a
 *   future that is not done; then it returns the coroutine's future.
 * - Awaiting a future that is already done does not suspend.
 * - When an awaited future resolves, the coroutine resumes in a later loop iteration.
 * - A body that returns resolves its future with the value; one that returns
 *   coro_fail(...) fails it. Awaiters see the error at their coro_await.
 *
 * Stacks are mmap'd and committed only as touched, below an unmapped guard page, so
 * 100,000 sleeping coroutines cost little memory and an overflow faults (with a message
 * naming the coroutine) instead of corrupting memory. vm.max_map_count limits how many
 * stacks can exist at once: each takes two mappings, so the default 65530 allows about
 * 32,000; coro_spawn then fails its future with ENOMEM and says so.
 */
#ifndef CORO_H
#define CORO_H

#include <stdbool.h>
#include <stddef.h>

#include "future.h"

typedef struct coro coro_t;
typedef void *coro_fn(void *arg);

#define CORO_STACK_DEFAULT (256 * 1024)

/* Starts a coroutine (see the rules above). name (static) is its lane in the trace and
 * its future's name. The caller owns one reference to the future it returns. */
future_t *coro_spawn(const char *name, coro_fn *fn, void *arg);
future_t *coro_spawn_stack(const char *name, coro_fn *fn, void *arg, size_t stack_size);
/* Starts a coroutine nobody waits for (Tornado's spawn_callback): in the next loop
 * iteration. If it fails, its error is printed on stderr, as Tornado logs it. */
void coro_spawn_callback(const char *name, coro_fn *fn, void *arg);
/* The stack size coro_spawn uses (CORO_STACK_DEFAULT unless set). */
void coro_set_default_stack(size_t stack_size);

/* Waits for f (and consumes the caller's reference to it). Returns 0 with *result (if
 * result is not NULL) set to f's result, or f's error code, whose message coro_error()
 * then holds. Outside a coroutine it waits for nothing and returns EPERM, with the
 * message "coro_await: not inside a coroutine".
 * The coroutine keeps f until its next coro_await (or its end), so a result f owns
 * (coro_multi's array) stays valid until then; to keep it longer, future_ref(f) first. */
int coro_await(future_t *f, void **result);

/* The message of the last error coro_await returned on this coroutine (or thread). */
const char *coro_error(void);
/* The code of that error; 0 if none. */
int coro_error_code(void);

/* Inside a body: `return coro_fail(code, fmt, ...);` fails the coroutine's future with
 * that error. Returns NULL. */
void *coro_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* `return coro_fail_again();` passes on the error coro_await just returned. */
void *coro_fail_again(void);

/* The running coroutine, or NULL outside one; its name. */
coro_t *coro_current(void);
const char *coro_name(const coro_t *c);

/* A future resolved (with NULL) seconds from now: `coro_await(coro_sleep(2), NULL)`. */
future_t *coro_sleep(double seconds);
/* A future resolved in the next iteration: gives everyone else one turn (gen.moment). */
future_t *coro_moment(void);

/* Waits for all children (consuming one reference to each). The result is a void *[n]
 * in input order, owned by the future. If any fail, the future fails with the first
 * failure in input order, but only after every child is done; later errors are printed
 * on stderr ("Multiple exceptions in yield list"), as Tornado logs them. */
future_t *coro_multi(future_t **children, size_t n);

/* The documents' `yield dict(a=..., b=...)`: the same, with names. The result is a
 * struct coro_named_results, owned by the future. */
struct coro_named_results {
    size_t n;
    const char **names; /* as given */
    void **values;      /* in the same order */
};
future_t *coro_multi_named(const char **names, future_t **children, size_t n);
/* The value named name in a struct coro_named_results, or NULL. */
void *coro_named_get(const struct coro_named_results *r, const char *name);

/* f, or ETIMEDOUT "Timeout" at the absolute deadline (ioloop_time scale), whichever
 * comes first. f itself is not cancelled: it goes on, and an error it ends with later
 * is printed, as Tornado logs it. Consumes the caller's reference to f. */
future_t *coro_with_timeout(double deadline, future_t *f);

/* Coroutines that are suspended now on the current thread's loop. */
size_t coro_suspended_count(void);

#endif
