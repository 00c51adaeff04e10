/* Pair iteration_order (reference probe T1): what one loop iteration runs, in order.
 *
 * Before the loop starts: callback A, a timer due at once (call_later 0), a pipe that is
 * already readable, callback C. The first iteration runs the callbacks queued before it
 * (A, C), then the handler of the ready fd (IO), then the due timer (T0). Each schedules
 * a follow-up callback, and those all wait for the second iteration, in the order they
 * were scheduled. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ioloop.h"

static void follow_up(void *arg)
{
    const char *name = arg;
    printf("cb-from-%s\n", name);
    if (name[0] == 'T')
        ioloop_stop(ioloop_current());
}

static void step(void *arg)
{
    printf("%s\n", (const char *)arg);
    ioloop_add_callback(ioloop_current(), follow_up, arg);
}

static void on_readable(int fd, int events, void *arg)
{
    char byte;
    (void)events;
    (void)arg;
    if (read(fd, &byte, 1) != 1)
        perror("read");
    ioloop_remove_handler(ioloop_current(), fd);
    step("IO");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    ioloop_t *loop = ioloop_current();
    int fds[2];
    if (pipe(fds) || write(fds[1], "x", 1) != 1) {
        perror("pipe");
        return EXIT_FAILURE;
    }
    ioloop_add_callback(loop, step, "A");
    ioloop_call_later(loop, 0, "T0", step, "T0");
    if (ioloop_add_handler(loop, fds[0], IOLOOP_READ, on_readable, NULL))
        perror("ioloop_add_handler");
    ioloop_add_callback(loop, step, "C");
    int rc = ioloop_start(loop);
    close(fds[0]);
    close(fds[1]);
    ioloop_free(loop);
    printf("loop stopped\n");
    return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}
