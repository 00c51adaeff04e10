/* ex_send — Python's generator.send, with its exceptions, on top of gen.h (exercise 4).
 *
 * gen_send reports what a resume did as a gen_status. Python says the same things
 * differently: a send that yields returns the value; a send that ends the generator, or
 * reaches one that had already ended, raises StopIteration (carrying the return value
 * when there is one); a send that cannot run raises TypeError or ValueError.
 * ex_send speaks Python: it sorts every outcome into one of three kinds, always says
 * what value came out (NULL when none did) and, for the last two, the exception.
 */
#ifndef EX_SEND_H
#define EX_SEND_H

#include "gen.h"

typedef enum ex_kind {
    EX_YIELDED,  /* the generator yielded a value */
    EX_FINISHED, /* StopIteration: it returned now, or had already finished */
    EX_ERROR,    /* nothing ran: Python raises TypeError or ValueError */
} ex_kind;

/* Python's messages, which ex_send's *message points to. */
#define EX_MSG_STOP "StopIteration"
#define EX_MSG_FRESH "TypeError: can't send non-None value to a just-started generator"
#define EX_MSG_RUNNING "ValueError: generator already executing"

/* Sends value to g (NULL is Python's None, so it also starts a fresh generator) and
 * returns what happened. out and message must not be NULL; ex_send always sets both:
 *   EX_YIELDED   *out = the yielded value            *message = NULL
 *   EX_FINISHED  *out = the value the body returned
 *                       now, NULL if g had already
 *                       finished before this send    *message = EX_MSG_STOP
 *   EX_ERROR     *out = NULL                          *message = EX_MSG_FRESH or
 *                                                                EX_MSG_RUNNING */
ex_kind ex_send(gen_t *g, void *value, void **out, const char **message);

#endif
