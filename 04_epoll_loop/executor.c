/* executor — a fixed pool of threads that run blocking calls off the loop.
 *
 * Jobs wait in one FIFO under a mutex; each pool thread takes the oldest, runs it, and
 * sends the job back to the job's loop with ioloop_add_callback (the loop's only
 * thread-safe entry), where the future is resolved. So a future is only ever touched on
 * its loop's thread, and pool threads reach the loop through that one entry alone.
 */
#include "executor.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "loop_internal.h"
#include "trace.h"

struct job {
    struct job *next;
    executor_fn *fn;
    void *arg;
    void *result;    /* written by the pool thread before it hands the job back */
    future_t *f;     /* the job's reference; touched on the loop thread only */
    ioloop_t *loop;  /* f's loop, where the job goes back */
    const char *name;
};

struct executor {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or the pool is stopping */
    struct job *head, *tail;
    bool stopping;       /* under mu: threads leave once the queue is empty */
    bool shut;           /* the owner's flag: threads joined */
    size_t nthreads;
    pthread_t *threads;
    char (*names)[24]; /* each thread's name in the trace: pool-1, pool-2... */
    size_t next_name;  /* under mu: the next thread to start takes this name */
};

/* On the loop thread: the result reaches the future. */
static void job_deliver(void *arg)
{
    struct job *job = arg;
    future_set_result(job->f, job->result);
    future_unref(job->f);
    free(job);
}

/* The loop was freed before the result could be delivered. */
static void job_drop(void *arg)
{
    struct job *job = arg;
    future_unref(job->f);
    free(job);
}

/* The oldest job, or NULL once the pool is stopping and nothing is left. */
static struct job *job_take(executor_t *ex)
{
    pthread_mutex_lock(&ex->mu);
    while (!ex->head && !ex->stopping)
        pthread_cond_wait(&ex->work, &ex->mu);
    struct job *job = ex->head;
    if (job) {
        ex->head = job->next;
        if (!ex->head)
            ex->tail = NULL;
    }
    pthread_mutex_unlock(&ex->mu);
    return job;
}

static void *worker_main(void *arg)
{
    executor_t *ex = arg;
    pthread_mutex_lock(&ex->mu);
    const char *name = ex->names[ex->next_name++];
    pthread_mutex_unlock(&ex->mu);
    trace_set_thread(name);
    TRACE(TRACE_LANE_START, NULL, "thread");
    struct job *job;
    while ((job = job_take(ex))) {
        TRACE(TRACE_CALLBACK, NULL, "%s", job->name);
        job->result = job->fn(job->arg);
        loop_add_callback_owned(job->loop, job->name, job_deliver, job, job_drop);
    }
    TRACE(TRACE_LANE_END, NULL, "%s", "");
    return NULL;
}

/* Tells the first n threads to finish and waits for them. */
static void executor_stop(executor_t *ex, size_t n)
{
    pthread_mutex_lock(&ex->mu);
    ex->stopping = true;
    pthread_cond_broadcast(&ex->work);
    pthread_mutex_unlock(&ex->mu);
    for (size_t i = 0; i < n; i++)
        pthread_join(ex->threads[i], NULL);
}

/* Pool threads block every signal, so that signals meant for the program (SIGINT, a
 * lesson's SIGALRM) reach the loop's thread and not a worker. */
static int executor_start(executor_t *ex)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = 0;
    size_t started = 0;
    while (started < ex->nthreads &&
           !(err = pthread_create(&ex->threads[started], NULL, worker_main, ex)))
        started++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err)
        executor_stop(ex, started);
    return err;
}

executor_t *executor_new(size_t nthreads)
{
    if (nthreads == 0) {
        errno = EINVAL;
        return NULL;
    }
    executor_t *ex = loop_xcalloc(1, sizeof *ex);
    ex->threads = loop_xcalloc(nthreads, sizeof *ex->threads);
    ex->names = loop_xcalloc(nthreads, sizeof *ex->names);
    static atomic_uint pools; /* names stay unique across pools: pool-1, pool-2, ... */
    unsigned first = atomic_fetch_add(&pools, (unsigned)nthreads);
    for (size_t i = 0; i < nthreads; i++)
        snprintf(ex->names[i], sizeof ex->names[i], "pool-%u", first + (unsigned)i + 1);
    ex->nthreads = nthreads;
    pthread_mutex_init(&ex->mu, NULL);
    pthread_cond_init(&ex->work, NULL);
    int err = executor_start(ex);
    if (err) {
        ex->shut = true;
        executor_free(ex);
        errno = err;
        return NULL;
    }
    return ex;
}

future_t *executor_submit(executor_t *ex, const char *name, executor_fn *fn, void *arg)
{
    future_t *f = future_new(name);
    if (ex->shut) {
        future_set_error(f, ECANCELED, "%s: the executor is shut down", future_name(f));
        return f;
    }
    if (!fn) {
        future_set_error(f, EINVAL, "%s: no function to run", future_name(f));
        return f;
    }
    struct job *job = loop_xcalloc(1, sizeof *job);
    job->fn = fn;
    job->arg = arg;
    job->f = f;
    job->loop = future_loop(f);
    job->name = future_name(f);
    future_ref(f);
    pthread_mutex_lock(&ex->mu);
    *(ex->tail ? &ex->tail->next : &ex->head) = job;
    ex->tail = job;
    pthread_cond_signal(&ex->work);
    pthread_mutex_unlock(&ex->mu);
    return f;
}

void executor_shutdown(executor_t *ex)
{
    if (ex->shut)
        return;
    ex->shut = true;
    executor_stop(ex, ex->nthreads);
}

void executor_free(executor_t *ex)
{
    if (!ex)
        return;
    executor_shutdown(ex);
    pthread_cond_destroy(&ex->work);
    pthread_mutex_destroy(&ex->mu);
    free(ex->threads);
    free(ex->names);
    free(ex);
}
