/* tasks — the task table (tokio-console style) and its warnings, as lines of text.
 *
 * One row per lane: what it is, the thread(s) it ran on (`main→io` when a generator
 * moved, the point of lesson 03), its state when the trace ends, its busy and waiting
 * time, and how often it was resumed. Then the warnings a student should look at: a
 * coroutine that blocked the loop, a generator or coroutine never resumed. `text`,
 * `tasks` and the viewer all print these same lines.
 */
#ifndef TRACER_TASKS_H
#define TRACER_TASKS_H

#include "model.h"

/* The column titles; LOGICAL: busy and waiting count steps, not seconds. */
void tasks_header(bool logical, char *out, size_t outsz);
void tasks_row(const struct model *m, uint32_t lane, bool logical, bool ascii, char *out, size_t outsz);
/* Warning I of m->warnings, as a sentence. */
void tasks_warning(const struct model *m, size_t i, char *out, size_t outsz);

#endif
