/* gen — Python's generators for C, on glibc's ucontext.
 *
 * A generator is a function that can stop in the middle, hand a value out, and later go
 * on from where it stopped, taking a value in. That is all Python's `yield` does, and all
 * lesson 03 needs to make asynchronous code read like synchronous code again:
 *
 *     static void *req_a(gen_t *self)
 *     {
 *         const char *ret = gen_yield(self, NULL);   // ret = yield
 *         ...
 *         return NULL;                               // the end: StopIteration
 *     }
 *
 *     gen_t *g = gen_create("req_a", req_a, NULL);   // gen = req_a(): nothing runs yet
 *     gen_next(g);                                   // next(gen): runs up to gen_yield
 *     gen_send(g, "io result", NULL);                // gen.send(...): gen_yield returns it
 *     gen_free(g);
 *
 * Each generator runs on its own stack: mmap'd, committed only as it is touched, with an
 * unmapped guard page below it, so an overflow faults instead of scribbling on the heap.
 * A freed generator's stack is kept (64 per thread) for the next one of the same size.
 * Switching is a swapcontext, annotated for AddressSanitizer, ThreadSanitizer and valgrind
 * (ThreadSanitizer makes each generator a fiber and allows 8128 threads and fibers in all).
 *
 * Errors are Python's, returned instead of raised: sending to a finished generator, to a
 * running one, or a value to one that has not started yet (gen_strerror says which).
 *
 * Threads: a suspended generator may be resumed from any thread, one at a time (a second
 * resume while it runs is GEN_ERUNNING). Its body then continues on the resuming thread,
 * and the compiler does not know that: within one function it may compute errno's
 * address or pthread_self() once, before a gen_yield, and use it after. A body that
 * changes threads reads such things through a function of its own, out of line.
 *
 * Tracing: the generator's name is its lane; resume, yield, start and end are recorded
 * with the lane on the other side (lessons/trace.h).
 */
#ifndef GEN_H
#define GEN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gen gen_t;

/* A generator's body. What it returns ends the generator, like Python's `return value`. */
typedef void *gen_fn(gen_t *self);

/* What a resume did. Negative values are errors: nothing ran. */
typedef enum gen_status {
    GEN_YIELDED = 0,   /* stopped at gen_yield; *out is the value it yielded */
    GEN_RETURNED = 1,  /* its body returned (Python: StopIteration); *out is the value */
    GEN_EFINISHED = -1, /* it had already finished or been closed */
    GEN_ERUNNING = -2,  /* it is running now: a generator cannot resume itself */
    GEN_EFRESH = -3,    /* a value sent before it started: start it with gen_next */
} gen_status;

/* Python's inspect.getgeneratorstate. */
typedef enum gen_state { GEN_CREATED, GEN_RUNNING, GEN_SUSPENDED, GEN_CLOSED } gen_state;

#define GEN_STACK_DEFAULT (256 * 1024)

/* Creates a generator with a stack of stack_size bytes (rounded up to pages, at least
 * 16 KiB); fn does not run until the first gen_next. name is its lane in the trace and
 * must outlive it. Returns NULL with errno set when no stack can be had. */
gen_t *gen_create_stack(const char *name, gen_fn *fn, void *arg, size_t stack_size);
/* gen_create_stack with GEN_STACK_DEFAULT, for programs that cannot go on without the
 * generator: when none can be made it prints why and exits (status 1), as Python's
 * MemoryError would end the documents' programs. */
gen_t *gen_create(const char *name, gen_fn *fn, void *arg);

/* Resumes g: its gen_yield returns value (a fresh generator starts at the top and must
 * be sent NULL). On success *out, if out is not NULL, receives what it yielded or returned. */
gen_status gen_send(gen_t *g, void *value, void **out);
/* Python's next(g): gen_send(g, NULL, &v) returning v; NULL when the send failed. */
void *gen_next(gen_t *g);

/* Inside the body: hands value to the resumer, stops, and returns what the next
 * gen_send passes in. */
void *gen_yield(gen_t *self, void *value);

/* Finishes g now without running any more of it (Python's close(); C cannot unwind the
 * body, so a body that holds resources across a yield must not be closed there).
 * Returns GEN_ERUNNING if g is running, else 0. */
int gen_close(gen_t *g);
/* Closes g and frees it. g must not be running. */
void gen_free(gen_t *g);

gen_state gen_get_state(const gen_t *g);
const char *gen_name(const gen_t *g);
void *gen_arg(const gen_t *g);
const char *gen_strerror(gen_status status);

#endif
