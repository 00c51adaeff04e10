/* Pair queue_handoff_1: the producer/consumer hand-off of queue_handoff.h, maxsize 1. */
#include "queue_handoff.h"

int main(void)
{
    return queue_handoff_run(1);
}
