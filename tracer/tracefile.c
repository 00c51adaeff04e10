/* tracefile — reads a lesson's trace into memory (see tracefile.h). */
#include "tracefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const kind_names[EV_KIND_COUNT] = {
    [EV_LANE_START] = "lane_start",     [EV_LANE_END] = "lane_end",
    [EV_PRINT] = "print",               [EV_SLEEP_BEGIN] = "sleep_begin",
    [EV_SLEEP_END] = "sleep_end",       [EV_JOIN_BEGIN] = "join_begin",
    [EV_JOIN_END] = "join_end",         [EV_CALLBACK] = "callback",
    [EV_RESUME] = "resume",             [EV_YIELD] = "yield",
    [EV_ERROR] = "error",               [EV_SPAWN] = "spawn",
    [EV_LOOP_ITERATION] = "loop_iteration", [EV_POLL_BEGIN] = "poll_begin",
    [EV_POLL_END] = "poll_end",         [EV_LOOP_PHASE] = "loop_phase",
    [EV_IO] = "io",                     [EV_TIMER] = "timer",
    [EV_WAIT] = "wait",                 [EV_WAKE] = "wake",
};

const char *tracefile_kind_name(enum event_kind kind)
{
    return kind < EV_KIND_COUNT ? kind_names[kind] : "?";
}

/* An open-addressing table from names to their indices in a growing array: a trace
 * names a handful of lanes a million times. */
struct intern {
    const char ***names; /* the tracefile's array, which grows with the table */
    size_t *count, cap;
    uint32_t *slots;     /* index + 1, or 0 for empty */
    size_t n_slots;
};

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static struct intern *intern_new(const char ***names, size_t *count)
{
    struct intern *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->names = names;
    in->count = count;
    in->n_slots = 64;
    in->slots = calloc(in->n_slots, sizeof *in->slots);
    if (!in->slots) {
        free(in);
        return NULL;
    }
    return in;
}

static void intern_free(struct intern *in)
{
    if (in)
        free(in->slots);
    free(in);
}

/* Doubles the table when it is half full, so probes stay short. */
static int intern_grow(struct intern *in)
{
    size_t n = in->n_slots * 2;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < in->n_slots; i++) {
        if (!in->slots[i])
            continue;
        size_t j = hash_name((*in->names)[in->slots[i] - 1]) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = in->slots[i];
    }
    free(in->slots);
    in->slots = slots;
    in->n_slots = n;
    return 0;
}

/* The index of NAME, added if new; UINT32_MAX when memory runs out. */
static uint32_t intern_find(struct intern *in, const char *name)
{
    size_t j = hash_name(name) & (in->n_slots - 1);
    for (; in->slots[j]; j = (j + 1) & (in->n_slots - 1))
        if (strcmp((*in->names)[in->slots[j] - 1], name) == 0)
            return in->slots[j] - 1;
    if (*in->count + 1 > in->n_slots / 2) {
        if (intern_grow(in) < 0)
            return UINT32_MAX;
        return intern_find(in, name);
    }
    if (*in->count == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 16;
        const char **names = realloc(*in->names, cap * sizeof *names);
        if (!names)
            return UINT32_MAX;
        *in->names = names;
        in->cap = cap;
    }
    (*in->names)[*in->count] = name;
    in->slots[j] = (uint32_t)++*in->count;
    return (uint32_t)(*in->count - 1);
}

/* Undoes the format's escapes (\t \n \r \\) in place; false on an unknown escape. */
static bool unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r != '\\') {
            *w++ = *r;
            continue;
        }
        switch (*++r) {
        case 't': *w++ = '\t'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case '\\': *w++ = '\\'; break;
        default: return false;
        }
    }
    *w = '\0';
    return true;
}

static int kind_from_name(const char *s)
{
    for (int k = 0; k < EV_KIND_COUNT; k++)
        if (strcmp(kind_names[k], s) == 0)
            return k;
    return -1;
}

/* Reads the header words after "#asynctrace": the version, then key=value pairs. */
static int parse_header(struct tracefile *tf, char *line, char *err, size_t errsz)
{
    static const char magic[] = "#asynctrace ";
    if (strncmp(line, magic, sizeof magic - 1) != 0) {
        snprintf(err, errsz, "not an asynctrace trace: the first line is not '#asynctrace %d ...'",
                 TRACEFILE_VERSION);
        return -1;
    }
    char *save = NULL, *word = strtok_r(line + sizeof magic - 1, " ", &save);
    char *end = NULL;
    long version = word ? strtol(word, &end, 10) : 0;
    if (!word || *end || version < 1) {
        snprintf(err, errsz, "not an asynctrace trace: the header has no version");
        return -1;
    }
    if (version > TRACEFILE_VERSION) {
        snprintf(err, errsz, "the trace is of format version %ld; this reader knows version %d",
                 version, TRACEFILE_VERSION);
        return -1;
    }
    tf->version = (int)version;
    while ((word = strtok_r(NULL, " ", &save))) {
        char *eq = strchr(word, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *value = eq + 1;
        if (strcmp(word, "program") == 0)
            tf->program = value;
        else if (strcmp(word, "lang") == 0)
            tf->lang = value;
        else if (strcmp(word, "threads") == 0)
            tf->threads_mode = value;
        else if (strcmp(word, "speed") == 0) {
            double speed = strtod(value, &end);
            if (!*end && speed > 0)
                tf->speed = speed;
        }
    }
    return 0;
}

/* Parses a time field: decimal digits only, at most 18 of them. */
static bool parse_time(const char *s, int64_t *t)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
        return false;
    *t = strtoll(s, NULL, 10);
    return true;
}

/* Cuts LINE into exactly six tab-separated fields; false if it has another count. */
static bool split_fields(char *line, char *f[6])
{
    f[0] = line;
    for (int i = 1; i < 6; i++) {
        char *tab = strchr(f[i - 1], '\t');
        if (!tab)
            return false;
        *tab = '\0';
        f[i] = tab + 1;
    }
    return strchr(f[5], '\t') == NULL;
}

/* Parses one event line into the next slot; unknown kinds and bad lines are counted. */
static int parse_event(struct tracefile *tf, char *line)
{
    char *f[6];
    int64_t t;
    if (!split_fields(line, f) || !parse_time(f[0], &t) || !*f[1] || !*f[2] ||
        !unescape(f[2]) || !unescape(f[4]) || !unescape(f[5]) || !*f[2]) {
        tf->malformed++;
        return 0;
    }
    int kind = kind_from_name(f[3]);
    if (kind < 0) {
        tf->unknown_kinds++;
        return 0;
    }
    struct trace_event *e = &tf->events[tf->n_events];
    int64_t last = tf->n_events ? tf->events[tf->n_events - 1].time : 0;
    if (t < last) {
        tf->time_back++;
        t = last;
    }
    e->time = t;
    e->kind = (enum event_kind)kind;
    e->text = f[5];
    e->thread = intern_find(tf->thread_names, f[1]);
    e->lane = intern_find(tf->lane_names, f[2]);
    e->peer = strcmp(f[4], "-") == 0 || !*f[4] ? TRACEFILE_NO_PEER : intern_find(tf->lane_names, f[4]);
    if (e->thread == UINT32_MAX || e->lane == UINT32_MAX)
        return -1;
    tf->n_events++;
    return 0;
}

static size_t count_lines(const char *buf, size_t len)
{
    size_t n = 0;
    for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + len - p))); p++)
        n++;
    return n + 1;
}

/* The body of tracefile_parse, which frees everything when this fails. */
static int parse_all(struct tracefile *tf, char *buf, size_t len, char *err, size_t errsz)
{
    memset(tf, 0, sizeof *tf);
    tf->buf = buf;
    tf->buf_len = len;
    tf->program = tf->lang = tf->threads_mode = "";
    tf->speed = 1;
    tf->lane_names = intern_new(&tf->lanes, &tf->n_lanes);
    tf->thread_names = intern_new(&tf->threads, &tf->n_threads);
    tf->events = malloc(count_lines(buf, len) * sizeof *tf->events);
    if (!tf->lane_names || !tf->thread_names || !tf->events) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    bool first = true;
    for (char *line = buf; line < buf + len;) {
        char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        if (!nl) {
            tf->truncated = true;
            break;
        }
        *nl = '\0';
        size_t n = (size_t)(nl - line);
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        if (memchr(line, '\0', n)) {
            if (first)
                return snprintf(err, errsz, "not an asynctrace trace: binary data"), -1;
            tf->malformed++;
        } else if (first) {
            if (parse_header(tf, line, err, errsz) < 0)
                return -1;
            first = false;
        } else if (*line && *line != '#' && parse_event(tf, line) < 0) {
            snprintf(err, errsz, "out of memory");
            return -1;
        }
        line = nl + 1;
    }
    if (first) {
        snprintf(err, errsz, "not an asynctrace trace: %s", len ? "no complete first line" : "the file is empty");
        return -1;
    }
    return 0;
}

int tracefile_parse(struct tracefile *tf, char *buf, size_t len, char *err, size_t errsz)
{
    if (parse_all(tf, buf, len, err, errsz) == 0)
        return 0;
    tracefile_free(tf);
    return -1;
}

/* Reads the whole of FD into a malloc'd buffer. */
static char *read_all(int fd, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            return NULL;
        if (n == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                break;
            buf = bigger;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        if (r == 0) {
            *len = n;
            return buf;
        }
        n += (size_t)r;
    }
    free(buf);
    return NULL;
}

int tracefile_load(struct tracefile *tf, const char *path, char *err, size_t errsz)
{
    memset(tf, 0, sizeof *tf);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = 0;
    char *buf = read_all(fd, &len);
    int saved = errno;
    close(fd);
    if (!buf) {
        snprintf(err, errsz, "%s: %s", path, strerror(saved));
        return -1;
    }
    char why[256];
    if (tracefile_parse(tf, buf, len, why, sizeof why) < 0) {
        snprintf(err, errsz, "%s: %s", path, why);
        return -1;
    }
    return 0;
}

void tracefile_free(struct tracefile *tf)
{
    intern_free(tf->lane_names);
    intern_free(tf->thread_names);
    free(tf->lanes);
    free(tf->threads);
    free(tf->events);
    free(tf->buf);
    memset(tf, 0, sizeof *tf);
}

double tracefile_doc_seconds(const struct tracefile *tf, int64_t t)
{
    return (double)t * tf->speed / 1e6;
}

/* Appends "COUNT WHAT" (WHAT plural unless COUNT is 1) and a separator to OUT. */
static void add_problem(char *out, size_t outsz, size_t count, const char *one, const char *many)
{
    size_t used = strlen(out);
    snprintf(out + used, outsz - used, "%s%zu %s", used ? "; " : "", count, count == 1 ? one : many);
}

bool tracefile_problems(const struct tracefile *tf, char *out, size_t outsz)
{
    out[0] = '\0';
    if (tf->malformed)
        add_problem(out, outsz, tf->malformed, "malformed line skipped", "malformed lines skipped");
    if (tf->time_back)
        add_problem(out, outsz, tf->time_back, "time went back", "times went back");
    if (tf->truncated) {
        size_t used = strlen(out);
        snprintf(out + used, outsz - used, "%sthe last line is cut short (a trace cut, or still being written)",
                 used ? "; " : "");
    }
    return out[0] != '\0';
}
