/* 04_gen_send_finished — exercise 4, after lesson 03: send, with Python's errors.
 *
 * ex_send (ex_send.h) is generator.send as Python has it, on top of gen.h's gen_send:
 * a value yielded, StopIteration when the generator is done, TypeError or ValueError
 * when the send cannot run. test.c checks it against Python's rules.
 */
#include "ex_send.h"

ex_kind ex_send(gen_t *g, void *value, void **out, const char **message)
{
    *message = NULL;
    gen_send(g, value, out);
    /* TODO(exercise): gen_send's status says what happened, and only a yield is an
     * EX_YIELDED. Sort every gen_status into its kind, with ex_send.h's values for
     * *out and *message. */
    return EX_YIELDED;
}
