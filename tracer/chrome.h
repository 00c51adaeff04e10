/* chrome — exports a trace in the Chrome Trace Event Format (Perfetto, chrome://tracing).
 *
 * One track per lane (a thread_name `M` event each), a complete `X` slice per run of a
 * lane (a coroutine's closes at its yield), an async `b`/`e` pair per wait, flow `s`/`f`
 * arrows from the lane that resumed, woke or spawned to the run of the lane it affected,
 * instant events for printed lines, a counter of ready lanes, and, for lesson 04 on, the
 * loop's phases as slices on a track of their own. Times stay the trace's microseconds.
 */
#ifndef TRACER_CHROME_H
#define TRACER_CHROME_H

#include <stdio.h>

#include "model.h"

/* Writes the JSON document. Returns 0, or -1 on a write error. */
int chrome_write(FILE *out, const struct model *m);

#endif
