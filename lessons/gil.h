/* gil — Python's threads and time.sleep, as the documents' programs experience them.
 *
 * The documents' output order comes from CPython's global interpreter lock: one thread
 * runs Python at a time, a new thread waits until the running one blocks (in sleep, in a
 * join), and sleepers wake in the order their sleeps end. C threads really run in
 * parallel and the OS may wake a sleeper late, so this module makes that order explicit:
 *
 *   - one gil thread runs at a time: the others wait for their turn;
 *   - a new thread, or one whose join has ended, queues for a turn (first come, first run);
 *   - a sleep ends on the document's clock: sleepers run in the order of their deadlines
 *     (ties: who slept first), never before the real time of their deadline, and only once
 *     every queued thread has had its turn.
 *
 * Running code takes no document time, so the order depends on the document's seconds
 * alone: the output is the same at every --speed and on a loaded machine. The real waits
 * are kept (divided by the speed), so a student still sees the 5 s pass.
 *
 * With free threads (--free-threads) all of this is off: threads start at once and run in
 * parallel, sleeps are plain sleeps, and the student can watch the race.
 *
 * Threads not started here (an executor's, say) may call gil_sleep: it is a plain sleep.
 */
#ifndef LESSON_GIL_H
#define LESSON_GIL_H

#include <stdbool.h>

/* Makes the calling thread the "main" lane and gives it the first turn.
 * speed divides every sleep (1 = the documents' real seconds). */
void gil_init(bool free_threads, double speed);

/* Python's _thread.start_new_thread(fn, (arg,)): fn(arg) runs on a new thread named lane
 * once its turn comes. Exits the program with a message if no thread can be made. */
void gil_thread_start(const char *lane, void (*fn)(void *arg), void *arg);

/* Waits, giving up the turn, until every thread started so far (and any they start) has
 * ended. It replaces the documents' `while 1: pass`, which spins forever. */
void gil_join_all(void);

/* Python's time.sleep(seconds), seconds being the document's; gives up the turn. */
void gil_sleep(double seconds);

#endif
