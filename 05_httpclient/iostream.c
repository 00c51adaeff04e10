/* iostream — see iostream.h. The shape is Tornado's BaseIOStream: a read is a pending
 * "what would satisfy me" (a delimiter, a count, the close) checked against the read
 * buffer whenever bytes arrive; writes are positions in the byte stream, resolved as
 * the kernel's count of taken bytes passes them. */
#include "iostream.h"

#include "loop_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

/* A buffer this big is freed when it empties instead of kept for the next bytes, so
 * one large transfer does not pin its memory for the stream's life. */
#define BUF_KEEP ((size_t)256 * 1024)

/* ---- memory: running out aborts, as everywhere on the loop (ioloop.h) ---------------- */

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(loop_xmalloc(n), s, n);
}

/* ---- byte buffer ------------------------------------------------------------------- */

/* The unread bytes are data[start, end). Consuming only advances start; the bytes left
 * move to the front only when at least as many were consumed since, so every byte is
 * moved O(1) times on average and a long transfer costs O(n), not O(n²). */
struct buf {
    char *data;
    size_t start, end, cap;
};

static size_t buf_len(const struct buf *b)
{
    return b->end - b->start;
}

static char *buf_head(const struct buf *b)
{
    return b->data + b->start;
}

static void buf_release(struct buf *b)
{
    free(b->data);
    *b = (struct buf){0};
}

/* Room for n more bytes after end. */
static void buf_reserve(struct buf *b, size_t n)
{
    if (b->cap - b->end >= n)
        return;
    size_t len = buf_len(b);
    if (b->start && b->start >= len) {
        memmove(b->data, buf_head(b), len);
        b->start = 0;
        b->end = len;
        if (b->cap - b->end >= n)
            return;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->end < n)
        cap *= 2;
    b->data = loop_xrealloc(b->data, cap);
    b->cap = cap;
}

static void buf_append(struct buf *b, const void *p, size_t n)
{
    if (!n)
        return;
    buf_reserve(b, n);
    memcpy(b->data + b->end, p, n);
    b->end += n;
}

static void buf_consume(struct buf *b, size_t n)
{
    b->start += n;
    if (b->start < b->end)
        return;
    if (b->cap > BUF_KEEP)
        buf_release(b);
    b->start = b->end = 0;
}

/* ---- the stream -------------------------------------------------------------------- */

enum read_kind { READ_NONE, READ_UNTIL, READ_BYTES, READ_UNTIL_CLOSE };

/* A write's future, resolved once the kernel has taken the stream's first index bytes. */
struct write_waiter {
    uint64_t index;
    future_t *f;
    struct write_waiter *next;
};

struct iostream {
    ioloop_t *loop;
    int fd;
    int state; /* the events the loop watches for us; 0: no handler registered */
    bool connecting, closed, watch_close;
    size_t max_buffer, chunk, max_write;

    struct buf rbuf;
    future_t *read_future; /* the pending read, with our own reference */
    enum read_kind read_kind;
    char *delim;       /* read_until's */
    size_t delim_len;
    size_t read_limit; /* read_until's max_bytes (0: none), read_bytes' count */
    bool partial;
    size_t scanned; /* read_until: the buffer's first bytes, already searched */

    struct buf wbuf;
    uint64_t written, sent; /* bytes ever written, bytes the kernel took */
    struct write_waiter *writes, **writes_tail;

    future_t *connect_future; /* with our reference, while connecting */
    char *peer;               /* "127.0.0.1:80": connect errors name it */
    future_t *closed_future;  /* resolved at the close; ours till iostream_free */
    int error;
    char *error_msg; /* why it closed; NULL while open */
};

static void on_events(int fd, int events, void *arg);

static iostream_t *stream_alloc(int fd, const struct iostream_options *opts)
{
    iostream_t *s = loop_xrealloc(NULL, sizeof *s);
    *s = (struct iostream){.loop = ioloop_current(), .fd = fd};
    s->max_buffer = opts && opts->max_buffer_size ? opts->max_buffer_size : IOSTREAM_MAX_BUFFER_DEFAULT;
    s->chunk = opts && opts->read_chunk_size ? opts->read_chunk_size : IOSTREAM_READ_CHUNK_DEFAULT;
    if (s->chunk > s->max_buffer / 2) /* else one recv could overflow a buffer that was fine */
        s->chunk = s->max_buffer / 2 ? s->max_buffer / 2 : 1;
    s->max_write = opts && opts->max_write_buffer_size ? opts->max_write_buffer_size
                                                       : IOSTREAM_MAX_BUFFER_DEFAULT;
    s->writes_tail = &s->writes;
    s->closed_future = future_new("IOStream.closed");
    return s;
}

iostream_t *iostream_new(int fd, const struct iostream_options *opts)
{
    int flags = fd < 0 ? -1 : fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) { /* a blocking fd would stall the loop */
        errno = EBADF;
        return NULL;
    }
    return stream_alloc(fd, opts);
}

static future_t *failed(const char *name, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static future_t *failed(const char *name, int code, const char *fmt, ...)
{
    future_t *f = future_new(name);
    va_list ap;
    va_start(ap, fmt);
    char *msg = loop_xvasprintf(fmt, ap);
    va_end(ap);
    future_set_error(f, code, "%s", msg);
    free(msg);
    return f;
}

/* Fails f as Tornado's StreamClosedError, naming the cause. */
static void fail_closed(const iostream_t *s, future_t *f, int code)
{
    const char *why = s->error_msg ? s->error_msg : "";
    future_set_error(f, code, "Stream is closed%s%s", *why ? ": " : "", why);
}

/* ---- registration with the loop ---------------------------------------------------- */

/* WRITE only while output waits (or the connect does); READ only while a read waits,
 * or for the close once asked, while there is nothing buffered that would hide it. */
static int wanted_events(const iostream_t *s)
{
    int ev = 0;
    if (s->read_future || (s->watch_close && !buf_len(&s->rbuf)))
        ev |= IOLOOP_READ;
    if (s->connecting || buf_len(&s->wbuf))
        ev |= IOLOOP_WRITE;
    return ev;
}

static void close_with(iostream_t *s, int error, int pending_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Removing the handler when nothing is wanted (rather than watching no events) keeps a
 * hung-up socket from waking the loop every turn: epoll always reports HUP and ERR. */
static void update_state(iostream_t *s)
{
    if (s->closed)
        return;
    int want = wanted_events(s);
    if (want == s->state)
        return;
    int r = !s->state ? ioloop_add_handler(s->loop, s->fd, want, on_events, s)
            : !want   ? ioloop_remove_handler(s->loop, s->fd)
                      : ioloop_update_handler(s->loop, s->fd, want);
    if (r < 0) {
        int err = errno;
        close_with(s, err, IOSTREAM_CLOSED, "cannot watch the socket: %s", strerror(err));
        return;
    }
    s->state = want;
}

/* ---- reads ------------------------------------------------------------------------- */

/* Takes the pending read off the stream: its future, with our reference. */
static future_t *take_read(iostream_t *s)
{
    future_t *f = s->read_future;
    s->read_future = NULL;
    s->read_kind = READ_NONE;
    free(s->delim);
    s->delim = NULL;
    return f;
}

/* Resolves the pending read with the buffer's first n bytes. */
static void finish_read(iostream_t *s, size_t n)
{
    struct iostream_bytes *b = loop_xrealloc(NULL, sizeof *b + n + 1);
    b->len = n;
    if (n)
        memcpy(b->data, buf_head(&s->rbuf), n);
    b->data[n] = '\0';
    buf_consume(&s->rbuf, n);
    future_t *f = take_read(s);
    future_set_result_owned(f, b, free);
    future_unref(f);
}

static void fail_read(iostream_t *s, int code, const char *msg)
{
    future_t *f = take_read(s);
    future_set_error(f, code, "%s", msg);
    future_unref(f);
}

/* read_until: 1 with *pos past the delimiter, 0 if more bytes are needed, -1 if the
 * delimiter can no longer end within max_bytes. Only bytes not searched before are
 * searched (plus delim_len - 1 for a delimiter split between two recvs). */
static int find_delimiter(iostream_t *s, size_t *pos)
{
    size_t len = buf_len(&s->rbuf);
    if (len >= s->delim_len) {
        const char *head = buf_head(&s->rbuf);
        const char *hit = memmem(head + s->scanned, len - s->scanned, s->delim, s->delim_len);
        if (hit) {
            *pos = (size_t)(hit - head) + s->delim_len;
            return s->read_limit && *pos > s->read_limit ? -1 : 1;
        }
        s->scanned = len - s->delim_len + 1;
    }
    return s->read_limit && len >= s->read_limit ? -1 : 0;
}

/* Tornado's _find_read_pos: how much of the buffer satisfies the pending read. */
static int find_read_pos(iostream_t *s, size_t *pos)
{
    size_t len = buf_len(&s->rbuf);
    switch (s->read_kind) {
    case READ_BYTES:
        if (len < s->read_limit && !(s->partial && len))
            return 0;
        *pos = len < s->read_limit ? len : s->read_limit;
        return 1;
    case READ_UNTIL:
        return find_delimiter(s, pos);
    default: /* read_until_close is satisfied only by the close */
        return 0;
    }
}

/* The delimiter as C would write it, for error messages. */
static void escape(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 5 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        const char *e = c == '\r' ? "\\r" : c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '"' ? "\\\"" : c == '\\' ? "\\\\" : NULL;
        if (e)
            o += (size_t)snprintf(out + o, cap - o, "%s", e);
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* Tornado's UnsatisfiableReadError: the read fails with it and the stream closes. */
static void unsatisfiable(iostream_t *s)
{
    char delim[64], msg[128];
    escape(delim, sizeof delim, s->delim);
    snprintf(msg, sizeof msg, "delimiter \"%s\" not found within %zu bytes", delim, s->read_limit);
    fail_read(s, EMSGSIZE, msg);
    close_with(s, EMSGSIZE, IOSTREAM_CLOSED, "%s", msg);
}

/* Settles the pending read from the buffer if it can; true if it is no longer pending. */
static bool try_finish_read(iostream_t *s)
{
    size_t pos;
    int r = s->read_future ? find_read_pos(s, &pos) : 0;
    if (r > 0)
        finish_read(s, pos);
    else if (r < 0)
        unsatisfiable(s);
    return r != 0;
}

/* At the close a pending read gets what the buffer can give it, or the close's error;
 * read_until_close gets everything. */
static void settle_read_at_close(iostream_t *s, int code)
{
    size_t pos;
    if (!s->read_future)
        return;
    if (s->read_kind == READ_UNTIL_CLOSE)
        finish_read(s, buf_len(&s->rbuf));
    else if (find_read_pos(s, &pos) > 0)
        finish_read(s, pos);
    else {
        future_t *f = take_read(s);
        fail_closed(s, f, code);
        future_unref(f);
    }
}

/* One recv into the buffer: bytes read, 0 if the socket had none, -1 if the stream
 * closed (EOF or an error; the close settled the read). */
static ssize_t read_to_buffer(iostream_t *s)
{
    buf_reserve(&s->rbuf, s->chunk);
    ssize_t n;
    do
        n = recv(s->fd, s->rbuf.data + s->rbuf.end, s->chunk, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n < 0) {
        int err = errno;
        close_with(s, err, IOSTREAM_CLOSED, "%s", strerror(err));
        return -1;
    }
    if (n == 0) {
        close_with(s, 0, IOSTREAM_CLOSED, "the peer closed the connection");
        return -1;
    }
    s->rbuf.end += (size_t)n;
    return n;
}

/* Tornado's max_buffer_size: a peer may not make us hold more than that unread. */
static void overflow(iostream_t *s)
{
    char msg[96];
    snprintf(msg, sizeof msg, "Reached maximum read buffer size (%zu bytes)", s->max_buffer);
    if (s->read_future)
        fail_read(s, ENOBUFS, msg);
    close_with(s, ENOBUFS, IOSTREAM_CLOSED, "%s", msg);
}

/* Reads until the pending read is settled, the socket is drained, or the stream closed.
 * With no read pending (watching for the close) one chunk is enough: the bytes wait in
 * the buffer, and the close will be seen by the next read. */
static void read_loop(iostream_t *s)
{
    while (read_to_buffer(s) > 0) {
        if (try_finish_read(s))
            return;
        if (buf_len(&s->rbuf) > s->max_buffer) {
            overflow(s);
            return;
        }
        if (!s->read_future)
            return;
    }
}

/* Starts a read (its parameters are set): from the buffer at once if it can, else from
 * the socket now, else when the loop says the socket is readable. */
static future_t *start_read(iostream_t *s, enum read_kind kind, const char *name)
{
    future_t *f = future_new(name);
    future_ref(f); /* ours until the read is settled */
    s->read_future = f;
    s->read_kind = kind;
    if (!try_finish_read(s)) {
        if (s->closed)
            settle_read_at_close(s, IOSTREAM_CLOSED);
        else if (!s->connecting)
            read_loop(s);
    }
    update_state(s);
    return f;
}

future_t *iostream_read_until(iostream_t *s, const char *delim, size_t max_bytes)
{
    static const char name[] = "IOStream.read_until";
    if (s->read_future)
        return failed(name, EBUSY, "Already reading");
    if (!*delim)
        return failed(name, EINVAL, "read_until: empty delimiter");
    s->delim = xstrdup(delim);
    s->delim_len = strlen(delim);
    s->read_limit = max_bytes;
    s->scanned = 0;
    return start_read(s, READ_UNTIL, name);
}

future_t *iostream_read_bytes(iostream_t *s, size_t n, bool partial)
{
    static const char name[] = "IOStream.read_bytes";
    if (s->read_future)
        return failed(name, EBUSY, "Already reading");
    s->read_limit = n;
    s->partial = partial;
    return start_read(s, READ_BYTES, name);
}

future_t *iostream_read_until_close(iostream_t *s)
{
    static const char name[] = "IOStream.read_until_close";
    if (s->read_future)
        return failed(name, EBUSY, "Already reading");
    return start_read(s, READ_UNTIL_CLOSE, name);
}

/* ---- writes ------------------------------------------------------------------------ */

/* Resolves the writes whose bytes the kernel now has, oldest first. */
static void resolve_writes(iostream_t *s)
{
    while (s->writes && s->writes->index <= s->sent) {
        struct write_waiter *w = s->writes;
        s->writes = w->next;
        future_set_result(w->f, NULL);
        future_unref(w->f);
        free(w);
    }
    if (!s->writes)
        s->writes_tail = &s->writes;
}

/* Sends until the buffer is empty or the kernel's is full. */
static void handle_write(iostream_t *s)
{
    while (buf_len(&s->wbuf)) {
        ssize_t n = send(s->fd, buf_head(&s->wbuf), buf_len(&s->wbuf), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            int err = errno;
            close_with(s, err, IOSTREAM_CLOSED, "%s", strerror(err));
            return;
        }
        buf_consume(&s->wbuf, (size_t)n);
        s->sent += (uint64_t)n;
    }
    resolve_writes(s);
}

future_t *iostream_write(iostream_t *s, const void *data, size_t len)
{
    static const char name[] = "IOStream.write";
    if (s->closed) {
        future_t *f = future_new(name);
        fail_closed(s, f, IOSTREAM_CLOSED);
        return f;
    }
    if (len > s->max_write || buf_len(&s->wbuf) > s->max_write - len)
        return failed(name, ENOBUFS, "Reached maximum write buffer size (%zu bytes)", s->max_write);
    buf_append(&s->wbuf, data, len);
    s->written += len;
    struct write_waiter *w = loop_xrealloc(NULL, sizeof *w);
    *w = (struct write_waiter){.index = s->written, .f = future_new(name)};
    future_ref(w->f); /* ours until the kernel has the bytes */
    *s->writes_tail = w;
    s->writes_tail = &w->next;
    future_t *f = w->f; /* w is gone once resolved */
    if (!s->connecting)
        handle_write(s);
    update_state(s);
    return f;
}

/* ---- connecting -------------------------------------------------------------------- */

/* "127.0.0.1:80", "[::1]:80" or a unix socket's path. */
static char *format_addr(const struct sockaddr *addr, socklen_t len)
{
    char host[INET6_ADDRSTRLEN], out[sizeof(struct sockaddr_un) + 16];
    if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, sizeof out, "%s:%u", host, ntohs(in->sin_port));
    } else if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, sizeof out, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (addr->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)addr;
        size_t path = offsetof(struct sockaddr_un, sun_path);
        snprintf(out, sizeof out, "%.*s", (int)(len > path ? len - path : 0), un->sun_path);
    } else {
        snprintf(out, sizeof out, "address family %d", addr->sa_family);
    }
    return xstrdup(out);
}

future_t *iostream_connect(const struct sockaddr *addr, socklen_t addrlen,
                           const struct iostream_options *opts, iostream_t **stream)
{
    iostream_t *s = stream_alloc(-1, opts);
    *stream = s;
    s->peer = format_addr(addr, addrlen);
    future_t *f = future_new("IOStream.connect");
    future_ref(f); /* ours until connected or closed */
    s->connect_future = f;
    s->connecting = true;
    s->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    /* Non-blocking, connect says EINPROGRESS and the loop reports WRITE once it is done
     * (even when it is done at once): one path for every outcome. */
    if (s->fd < 0 || (connect(s->fd, addr, addrlen) < 0 && errno != EINPROGRESS && errno != EINTR)) {
        int err = errno;
        close_with(s, err, IOSTREAM_CLOSED, "%s", strerror(err));
        return f;
    }
    update_state(s);
    return f;
}

/* The socket is writable or failed: SO_ERROR says which. */
static void handle_connect(iostream_t *s)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        close_with(s, err, IOSTREAM_CLOSED, "%s", strerror(err));
        return;
    }
    s->connecting = false;
    future_t *f = s->connect_future;
    s->connect_future = NULL;
    future_set_result(f, s);
    future_unref(f);
}

/* ---- the loop's handler ------------------------------------------------------------ */

static void on_events(int fd, int events, void *arg)
{
    iostream_t *s = arg;
    (void)fd;
    if (s->connecting)
        handle_connect(s);
    if (!s->closed && !s->connecting && (events & IOLOOP_READ))
        read_loop(s);
    if (!s->closed && !s->connecting && (events & IOLOOP_WRITE))
        handle_write(s);
    if (!s->closed && (events & IOLOOP_ERROR) == IOLOOP_ERROR) {
        /* Reading and writing usually meet the error first; if not, ask for it. */
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
            close_with(s, err, IOSTREAM_CLOSED, "%s", strerror(err));
    }
    update_state(s);
}

/* ---- closing ----------------------------------------------------------------------- */

/* Fails what is still pending, once: the read (after it took what it could from the
 * buffer), the writes, the connect; then tells those waiting for the close. */
static void signal_closed(iostream_t *s, int code)
{
    settle_read_at_close(s, code);
    for (struct write_waiter *w = s->writes, *next; w; w = next) {
        next = w->next;
        fail_closed(s, w->f, code);
        future_unref(w->f);
        free(w);
    }
    s->writes = NULL;
    s->writes_tail = &s->writes;
    if (s->connect_future) {
        if (code == ECANCELED)
            fail_closed(s, s->connect_future, code);
        else
            future_set_error(s->connect_future, s->error ? s->error : code, "connect to %s: %s",
                             s->peer, s->error_msg);
        future_unref(s->connect_future);
        s->connect_future = NULL;
    }
    future_set_result(s->closed_future, NULL);
}

/* Closes the stream once: error and the message are the cause (iostream_error);
 * pending_code is what pending operations fail with. */
static void close_with(iostream_t *s, int error, int pending_code, const char *fmt, ...)
{
    if (s->closed)
        return;
    va_list ap;
    va_start(ap, fmt);
    s->error_msg = loop_xvasprintf(fmt, ap);
    va_end(ap);
    s->error = error;
    if (s->state)
        ioloop_remove_handler(s->loop, s->fd);
    s->state = 0;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->closed = true;
    s->connecting = false;
    buf_release(&s->wbuf); /* nobody will send it now */
    signal_closed(s, pending_code);
}

void iostream_close(iostream_t *s)
{
    close_with(s, 0, ECANCELED, "closed by its owner");
}

void iostream_free(iostream_t *s)
{
    if (!s)
        return;
    iostream_close(s);
    future_unref(s->closed_future);
    buf_release(&s->rbuf);
    free(s->peer);
    free(s->error_msg);
    free(s);
}

bool iostream_closed(const iostream_t *s)
{
    return s->closed;
}

future_t *iostream_wait_closed(iostream_t *s)
{
    future_ref(s->closed_future);
    s->watch_close = true;
    update_state(s);
    return s->closed_future;
}

int iostream_error(const iostream_t *s)
{
    return s->error;
}

const char *iostream_error_message(const iostream_t *s)
{
    return s->error_msg ? s->error_msg : "";
}

/* ---- state ------------------------------------------------------------------------- */

bool iostream_reading(const iostream_t *s)
{
    return s->read_future != NULL;
}

bool iostream_writing(const iostream_t *s)
{
    return buf_len(&s->wbuf) > 0;
}

size_t iostream_read_buffered(const iostream_t *s)
{
    return buf_len(&s->rbuf);
}

size_t iostream_write_buffered(const iostream_t *s)
{
    return buf_len(&s->wbuf);
}

int iostream_fd(const iostream_t *s)
{
    return s->fd;
}

int iostream_set_nodelay(iostream_t *s, bool on)
{
    int v = on;
    if (s->closed) {
        errno = EBADF;
        return -1;
    }
    return setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}
