/* Pair queue_handoff_2: the producer/consumer hand-off of queue_handoff.h, maxsize 2. */
#include "queue_handoff.h"

int main(void)
{
    return queue_handoff_run(2);
}
