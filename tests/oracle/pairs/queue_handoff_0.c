/* Pair queue_handoff_0: the producer/consumer hand-off of queue_handoff.h, maxsize 0. */
#include "queue_handoff.h"

int main(void)
{
    return queue_handoff_run(0);
}
