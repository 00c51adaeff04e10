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
    *out = NULL; /* gen_send leaves it alone when nothing ran */
    switch (gen_send(g, value, out)) {
    case GEN_YIELDED:
        return EX_YIELDED;
    case GEN_RETURNED: /* StopIteration(value): the return value comes out once */
        *message = EX_MSG_STOP;
        return EX_FINISHED;
    case GEN_EFINISHED: /* a finished generator raises a bare StopIteration, every time */
        *message = EX_MSG_STOP;
        return EX_FINISHED;
    case GEN_EFRESH:
        *message = EX_MSG_FRESH;
        return EX_ERROR;
    case GEN_ERUNNING:
        *message = EX_MSG_RUNNING;
        return EX_ERROR;
    }
    *message = "unknown gen_status";
    return EX_ERROR;
}
