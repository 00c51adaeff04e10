/* iostream — see iostream.h. The shape is Tornado's BaseIOStream: a read is a pending
 * "what would satisfy me" (a delimiter, a count, the close) checked against the read
 * buffer whenever bytes arrive; writes are positions in the byte stream, resolved as
 * the kernel's count of taken bytes passes them. With TLS, OpenSSL sits between the
 * buffers and the socket (SSLIOStream): it reads and writes the socket through a BIO
 * of ours, and says which readiness it waits for, which the stream asks the loop for. */
#include "iostream.h"

#include "loop_internal.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

/* A buffer this big is freed when it empties instead of kept for the next bytes, so
 * one large transfer does not pin its memory for the stream's life. */
#define BUF_KEEP ((size_t)256 * 1024)
#define CORK_FLUSH ((size_t)16 * 1024)
/* The write buffer is only for what the kernel could not take at once: emptied, it is
 * freed above this, so that ten thousand idle connections after a burst do not each
 * keep the burst's buffer. */
#define WBUF_KEEP ((size_t)16 * 1024)

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

/* Drops n bytes from the front; an emptied buffer bigger than keep is freed. */
static void buf_consume(struct buf *b, size_t n, size_t keep)
{
    b->start += n;
    if (b->start < b->end)
        return;
    if (b->cap > keep)
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
    bool connecting, closed, watch_close, overlong_keeps_open;
    size_t max_buffer, chunk, max_write;
    bool corked;                  /* writes wait in the buffer: iostream_cork */
    iostream_t *cork_prev, *cork_next; /* the loop's corked streams (struct corked) */

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

    SSL *ssl; /* NULL: plain TCP */
    future_t *tls_future; /* with our reference, while handshaking */
    bool handshaking, tls_open, eof; /* tls_open: close_notify may be sent */
    int hs_want, rwant, wwant; /* what the handshake, reads, writes wait for */
    int sys_errno; /* the socket's errno when an OpenSSL call failed on it */
    bool unpark;   /* the parked READ registration is to go (see update_state) */
};

static void on_events(int fd, int events, void *arg);
static void handle_handshake(iostream_t *s);

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
    s->overlong_keeps_open = opts && opts->overlong_keeps_open;
    s->writes_tail = &s->writes;
    s->rwant = IOLOOP_READ;
    s->wwant = IOLOOP_WRITE;
    s->closed_future = future_new("IOStream.closed");
    return s;
}

iostream_t *iostream_new(int fd, const struct iostream_options *opts)
{
    int flags = fd < 0 ? -1 : fcntl(fd, F_GETFL);
    if (flags < 0 || (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)) {
        /* a blocking fd would stall the loop */
        errno = EBADF;
        return NULL;
    }
    return stream_alloc(fd, opts);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = loop_xvasprintf(fmt, ap);
    va_end(ap);
    return s;
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

/* Connected, and past the TLS handshake if there is one: reads and writes may go on. */
static bool established(const iostream_t *s)
{
    return !s->connecting && !s->handshaking;
}

/* WRITE only while output waits (or the connect does); READ only while a read waits,
 * or for the close once asked, while there is nothing buffered that would hide it.
 * Over TLS a read may wait for WRITE and a write for READ (rwant, wwant), and the
 * handshake waits for what it said. */
static int wanted_events(const iostream_t *s)
{
    bool reading = s->read_future || (s->watch_close && !buf_len(&s->rbuf));
    if (s->connecting)
        return IOLOOP_WRITE | (reading ? IOLOOP_READ : 0);
    if (s->handshaking)
        return s->hs_want;
    return (reading ? s->rwant : 0) | (buf_len(&s->wbuf) && !s->corked ? s->wwant : 0);
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
    /* A read just settled and nothing else is wanted: READ stays registered, "parked".
     * A keep-alive peer's next request comes after our next read has started, so
     * removing and adding the handler would cost two epoll_ctl per request. If the
     * socket fires while parked, on_events unparks it: the handler goes then. */
    if (!want && s->state == IOLOOP_READ && !s->unpark)
        return;
    s->unpark = false;
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

/* What reads return. A server reads all day, and a fresh malloc of tens of KiB per
 * read, freed soon after, makes glibc give the heap's top back to the kernel and take
 * it again, one page fault per 4 KiB touched (perf: a third of a WebSocket echo
 * server's time at 16 KiB messages). So results between 4 KiB and a read chunk live in
 * blocks of their own, mapped once and kept per thread for the next read, as gen.c
 * keeps stacks. Under the sanitizers every result is a plain malloc, so that a use
 * after free is still caught. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BYTES_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BYTES_CACHE 0
#endif
#endif
#ifndef BYTES_CACHE
#define BYTES_CACHE 32
#endif
#define BYTES_SMALL ((size_t)4096)
#define BYTES_BLOCK_DATA IOSTREAM_READ_CHUNK_DEFAULT

static __thread struct iostream_bytes *bytes_cached[BYTES_CACHE ? BYTES_CACHE : 1];
static __thread int bytes_ncached;
static __thread bool bytes_keyed;
static pthread_key_t bytes_key;
static pthread_once_t bytes_once = PTHREAD_ONCE_INIT;

static size_t bytes_block_size(void);

/* A thread that ends gives its cached blocks back. */
static void bytes_unmap(void *unused)
{
    (void)unused;
    while (bytes_ncached)
        munmap(bytes_cached[--bytes_ncached], bytes_block_size());
}

static void bytes_key_make(void)
{
    pthread_key_create(&bytes_key, bytes_unmap);
}

static bool bytes_blocked(size_t n)
{
    return BYTES_CACHE && n > BYTES_SMALL && n <= BYTES_BLOCK_DATA;
}

static size_t bytes_block_size(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (sizeof(struct iostream_bytes) + BYTES_BLOCK_DATA + 1 + page - 1) / page * page;
}

static struct iostream_bytes *bytes_new(size_t n)
{
    if (!bytes_blocked(n))
        return loop_xrealloc(NULL, sizeof(struct iostream_bytes) + n + 1);
    if (bytes_ncached)
        return bytes_cached[--bytes_ncached];
    void *m = mmap(NULL, bytes_block_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED)
        loop_out_of_memory(bytes_block_size());
    return m;
}

static void bytes_free(void *p)
{
    struct iostream_bytes *b = p;
    if (!bytes_blocked(b->len))
        free(b);
    else if (bytes_ncached < BYTES_CACHE) {
        if (!bytes_keyed) {
            pthread_once(&bytes_once, bytes_key_make);
            pthread_setspecific(bytes_key, &bytes_keyed); /* non-NULL: the destructor runs */
            bytes_keyed = true;
        }
        bytes_cached[bytes_ncached++] = b;
    }
    else
        munmap(b, bytes_block_size());
}

/* Resolves the pending read with the buffer's first n bytes. */
static void finish_read(iostream_t *s, size_t n)
{
    struct iostream_bytes *b = bytes_new(n);
    b->len = n;
    if (n)
        memcpy(b->data, buf_head(&s->rbuf), n);
    b->data[n] = '\0';
    buf_consume(&s->rbuf, n, BUF_KEEP);
    future_t *f = take_read(s);
    future_set_result_owned(f, b, bytes_free);
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
    if (!s->overlong_keeps_open)
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

static ssize_t tls_read(iostream_t *s, char *p, size_t n);
static ssize_t tls_write(iostream_t *s, const char *p, size_t n);

/* One recv into p: bytes read, 0 if the socket had none, -1 if the stream closed (EOF
 * or an error; the close settled the read). */
static ssize_t sock_read(iostream_t *s, char *p, size_t len)
{
    ssize_t n;
    do
        n = recv(s->fd, p, len, 0);
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
    return n;
}

/* One chunk into the buffer, from the socket or through TLS: as sock_read. */
static ssize_t read_to_buffer(iostream_t *s)
{
    buf_reserve(&s->rbuf, s->chunk);
    char *p = s->rbuf.data + s->rbuf.end;
    ssize_t n = s->ssl ? tls_read(s, p, s->chunk) : sock_read(s, p, s->chunk);
    if (n > 0)
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
        else if (established(s))
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

/* One send from p: bytes the kernel took, 0 if it took none, -1 if the stream closed. */
static ssize_t sock_write(iostream_t *s, const char *p, size_t len)
{
    ssize_t n;
    do
        n = send(s->fd, p, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n < 0) {
        int err = errno;
        close_with(s, err, IOSTREAM_CLOSED, "%s", strerror(err));
        return -1;
    }
    return n;
}

/* Sends until the buffer is empty or the kernel's is full. */
static void handle_write(iostream_t *s)
{
    while (buf_len(&s->wbuf) && !s->corked) {
        const char *p = buf_head(&s->wbuf);
        size_t len = buf_len(&s->wbuf);
        ssize_t n = s->ssl ? tls_write(s, p, len) : sock_write(s, p, len);
        if (n < 0)
            return;
        if (n == 0)
            break;
        buf_consume(&s->wbuf, (size_t)n, WBUF_KEEP);
        s->sent += (uint64_t)n;
    }
    resolve_writes(s);
}

/* With nothing buffered, a plain socket sends straight from the caller's pieces: a big
 * write (a 16 MiB WebSocket message) is not copied into the buffer first. Returns the
 * bytes the kernel took (counted as sent), 0 if it took none; -1 if it was not tried. */
static ssize_t direct_write(iostream_t *s, const struct iovec *iov, int iovcnt)
{
    if (buf_len(&s->wbuf) || s->corked || s->ssl || !established(s))
        return -1;
    struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
    ssize_t n;
    do
        n = sendmsg(s->fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        int err = errno;
        close_with(s, err, IOSTREAM_CLOSED, "%s", strerror(err));
    }
    if (n <= 0)
        return 0;
    s->sent += (uint64_t)n;
    return n;
}

future_t *iostream_write(iostream_t *s, const void *data, size_t len)
{
    return iostream_writev(s, &(struct iovec){.iov_base = (void *)data, .iov_len = len}, 1);
}

/* A write's bytes into the kernel or the buffer: 0, or EPIPE (closed) or ENOBUFS (over
 * the cap). *direct says whether the kernel was tried (direct_write). */
static int write_in(iostream_t *s, const struct iovec *iov, int iovcnt, ssize_t *direct)
{
    if (s->closed)
        return EPIPE;
    size_t len = 0;
    for (int i = 0; i < iovcnt && len <= s->max_write; i++)
        len = iov[i].iov_len > s->max_write - len ? SIZE_MAX : len + iov[i].iov_len;
    if (len > s->max_write || buf_len(&s->wbuf) > s->max_write - len)
        return ENOBUFS;
    *direct = direct_write(s, iov, iovcnt);
    if (s->closed)
        return EPIPE;
    size_t taken = *direct > 0 ? (size_t)*direct : 0;
    for (int i = 0; i < iovcnt; i++) { /* what the kernel did not take, into the buffer */
        size_t skip = taken < iov[i].iov_len ? taken : iov[i].iov_len;
        taken -= skip;
        buf_append(&s->wbuf, (const char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
    }
    s->written += len;
    return 0;
}

/* After write_in: the rest goes to the kernel as it takes it. A corked stream sends
 * once it holds CORK_FLUSH bytes (a few segments' worth): corking saves syscalls,
 * it must not hold a broadcast's lines in memory for long. */
static void write_out(iostream_t *s, ssize_t direct)
{
    if (s->corked && buf_len(&s->wbuf) >= CORK_FLUSH)
        iostream_uncork(s);
    else if (direct >= 0)
        resolve_writes(s); /* the kernel just had its say: no second send now */
    else if (established(s))
        handle_write(s);
    update_state(s);
}

future_t *iostream_writev(iostream_t *s, const struct iovec *iov, int iovcnt)
{
    static const char name[] = "IOStream.write";
    ssize_t direct = -1;
    int err = write_in(s, iov, iovcnt, &direct);
    if (err == ENOBUFS)
        return failed(name, ENOBUFS, "Reached maximum write buffer size (%zu bytes)", s->max_write);
    if (err) {
        future_t *f = future_new(name);
        fail_closed(s, f, IOSTREAM_CLOSED);
        return f;
    }
    struct write_waiter *w = loop_xrealloc(NULL, sizeof *w);
    *w = (struct write_waiter){.index = s->written, .f = future_new(name)};
    future_ref(w->f); /* ours until the kernel has the bytes */
    *s->writes_tail = w;
    s->writes_tail = &w->next;
    future_t *f = w->f; /* w is gone once resolved */
    write_out(s, direct);
    return f;
}

int iostream_send(iostream_t *s, const struct iovec *iov, int iovcnt)
{
    ssize_t direct = -1;
    int err = write_in(s, iov, iovcnt, &direct);
    if (err) {
        errno = err;
        return -1;
    }
    write_out(s, direct);
    return 0;
}

/* The corked streams of this thread's loop, and the one timer that uncorks them all at
 * the loop's next iteration: a broadcast corks a thousand streams, and one timer, not a
 * thousand, sends them their lines together. */
static __thread struct corked {
    iostream_t *first;
    ioloop_t *loop;
    ioloop_timeout_t timer;
} corked;

static void uncork_all(void *arg)
{
    (void)arg;
    corked.timer = 0;
    while (corked.first)
        iostream_uncork(corked.first);
}

void iostream_cork(iostream_t *s)
{
    if (s->corked || s->closed)
        return;
    s->corked = true;
    if (!corked.first || corked.loop != s->loop || !corked.timer) {
        corked.loop = s->loop;
        corked.timer = ioloop_call_later(s->loop, 0, "IOStream uncork", uncork_all, NULL);
    }
    s->cork_prev = NULL;
    s->cork_next = corked.first;
    if (corked.first)
        corked.first->cork_prev = s;
    corked.first = s;
}

void iostream_uncork(iostream_t *s)
{
    if (!s->corked)
        return;
    s->corked = false;
    *(s->cork_prev ? &s->cork_prev->cork_next : &corked.first) = s->cork_next;
    if (s->cork_next)
        s->cork_next->cork_prev = s->cork_prev;
    s->cork_prev = s->cork_next = NULL;
    if (s->closed)
        return;
    if (established(s))
        handle_write(s);
    update_state(s);
}

/* ---- TLS --------------------------------------------------------------------------- */

#define TLS_WRITE_MAX ((size_t)1 << 20) /* a constant, so a retried SSL_write never shrinks */

/* OpenSSL reaches the socket through this BIO rather than its socket BIO, whose write()
 * would raise SIGPIPE at a peer that went away: send with MSG_NOSIGNAL, as the plain
 * stream does. It keeps the socket's errno and EOF for the messages and for BIO_eof. */
static int bio_write(BIO *b, const char *p, int n)
{
    iostream_t *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t r;
    do
        r = send(s->fd, p, (size_t)n, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_write(b);
    else if (r < 0)
        s->sys_errno = errno;
    return (int)r;
}

static int bio_read(BIO *b, char *p, int n)
{
    iostream_t *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t r;
    do
        r = recv(s->fd, p, (size_t)n, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(b);
    else if (r < 0)
        s->sys_errno = errno;
    else if (r == 0)
        s->eof = true;
    return (int)r;
}

/* OpenSSL asks for BIO_eof to tell a peer gone without close_notify from an error, and
 * flushes (nothing waits here: every byte went to send). */
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    const iostream_t *s = BIO_get_data(b);
    return cmd == BIO_CTRL_FLUSH ? 1 : cmd == BIO_CTRL_EOF ? s->eof : 0;
}

static BIO_METHOD *bio_method; /* made once, for the process's life */

static void bio_method_make(void)
{
    bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "iostream socket");
    if (!bio_method || !BIO_meth_set_write(bio_method, bio_write) ||
        !BIO_meth_set_read(bio_method, bio_read) || !BIO_meth_set_ctrl(bio_method, bio_ctrl)) {
        fputs("iostream: out of memory\n", stderr);
        abort();
    }
}

/* OpenSSL's reason for the failure e (SSL_get_error's) of a call, for people:
 * "certificate verify failed (self-signed certificate)", "wrong version number". */
static void tls_reason(const iostream_t *s, int e, char *out, size_t cap)
{
    unsigned long err = ERR_peek_last_error();
    const char *why = err ? ERR_reason_error_string(err) : NULL;
    long verify = SSL_get_verify_result(s->ssl);
    if (e == SSL_ERROR_SYSCALL && s->sys_errno)
        snprintf(out, cap, "%s", strerror(s->sys_errno));
    else if (e == SSL_ERROR_ZERO_RETURN)
        snprintf(out, cap, "the peer closed the connection");
    else if (ERR_GET_REASON(err) == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK)
        snprintf(out, cap, "%s (%s)", why, X509_verify_cert_error_string(verify));
    else
        snprintf(out, cap, "%s",
                 why ? why : e == SSL_ERROR_SYSCALL ? "unexpected eof" : "unknown error");
    ERR_clear_error();
}

/* A read or write OpenSSL failed closes the stream. The peer's close_notify, or its
 * plain EOF (Python's suppress_ragged_eofs, which Tornado keeps), is a clean close. */
static void tls_fail(iostream_t *s, int e)
{
    unsigned long err = ERR_peek_last_error();
    bool eof = e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !s->sys_errno && !err) ||
               ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
    s->tls_open = e == SSL_ERROR_ZERO_RETURN; /* after a fatal error, OpenSSL sends nothing */
    if (eof) {
        ERR_clear_error();
        close_with(s, 0, IOSTREAM_CLOSED, "the peer closed the connection");
    } else if (e == SSL_ERROR_SYSCALL && s->sys_errno) {
        ERR_clear_error();
        close_with(s, s->sys_errno, IOSTREAM_CLOSED, "%s", strerror(s->sys_errno));
    } else {
        char why[256];
        tls_reason(s, e, why, sizeof why);
        close_with(s, EPROTO, IOSTREAM_CLOSED, "SSL error: %s", why);
    }
}

/* What OpenSSL waits for after the result r of a call: IOLOOP_READ, IOLOOP_WRITE, or 0
 * with *e its error when the call failed. */
static int tls_want(iostream_t *s, int r, int *e)
{
    *e = SSL_get_error(s->ssl, r);
    return *e == SSL_ERROR_WANT_READ ? IOLOOP_READ : *e == SSL_ERROR_WANT_WRITE ? IOLOOP_WRITE : 0;
}

/* As sock_read, through TLS. Bytes OpenSSL already holds are returned without the
 * socket, which is why a read always tries before waiting for the loop. */
static ssize_t tls_read(iostream_t *s, char *p, size_t n)
{
    ERR_clear_error();
    s->sys_errno = 0;
    int r = SSL_read(s->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0) {
        s->rwant = IOLOOP_READ;
        return r;
    }
    int e, want = tls_want(s, r, &e);
    if (want) {
        s->rwant = want; /* a renegotiation or key update may need to write first */
        return 0;
    }
    tls_fail(s, e);
    return -1;
}

/* As sock_write, through TLS: one record's worth or more of p taken. */
static ssize_t tls_write(iostream_t *s, const char *p, size_t n)
{
    ERR_clear_error();
    s->sys_errno = 0;
    int r = SSL_write(s->ssl, p, (int)(n < TLS_WRITE_MAX ? n : TLS_WRITE_MAX));
    if (r > 0) {
        s->wwant = IOLOOP_WRITE;
        return r;
    }
    int e, want = tls_want(s, r, &e);
    if (want) {
        s->wwant = want;
        return 0;
    }
    tls_fail(s, e);
    return -1;
}

/* One step of the handshake; once it is over, what waited for it goes on. */
static void handle_handshake(iostream_t *s)
{
    ERR_clear_error();
    s->sys_errno = 0;
    int r = SSL_do_handshake(s->ssl);
    if (r == 1) {
        s->handshaking = false;
        s->tls_open = true;
        future_t *f = s->tls_future;
        s->tls_future = NULL;
        future_set_result(f, s);
        future_unref(f);
        if (s->read_future)
            read_loop(s);
        if (!s->closed && buf_len(&s->wbuf))
            handle_write(s);
        return;
    }
    int e;
    s->hs_want = tls_want(s, r, &e);
    if (s->hs_want)
        return;
    char why[256];
    tls_reason(s, e, why, sizeof why);
    close_with(s, e == SSL_ERROR_SYSCALL && s->sys_errno ? s->sys_errno : ECONNABORTED,
               IOSTREAM_CLOSED, "%s", why); /* close_with names it a failed handshake */
}

/* The name the client expects in the server's certificate: sent as SNI and checked
 * against the certificate's names, or, for an IP literal, checked as an address. */
static bool tls_set_peer_name(SSL *ssl, const char *name)
{
    unsigned char addr[sizeof(struct in6_addr)];
    if (!name)
        return true;
    if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1;
    return SSL_set_tlsext_host_name(ssl, name) == 1 && SSL_set1_host(ssl, name) == 1;
}

future_t *iostream_start_tls(iostream_t *s, tls_context_t *ctx, const char *server_hostname)
{
    static const char name[] = "IOStream.start_tls";
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (s->closed) {
        future_t *f = future_new(name);
        fail_closed(s, f, IOSTREAM_CLOSED);
        return f;
    }
    if (s->ssl)
        return failed(name, EINVAL, "start_tls: the stream is already TLS");
    if (s->read_future || buf_len(&s->rbuf) || buf_len(&s->wbuf))
        return failed(name, EINVAL, "start_tls: a read is pending or bytes are buffered");
    pthread_once(&once, bio_method_make);
    ERR_clear_error();
    SSL *ssl = SSL_new(tls_context_ssl_ctx(ctx));
    BIO *bio = BIO_new(bio_method);
    if (!ssl || !bio) {
        fputs("iostream: out of memory\n", stderr);
        abort();
    }
    BIO_set_data(bio, s);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl, bio, bio); /* ssl owns bio */
    if (!tls_context_server_side(ctx) && !tls_set_peer_name(ssl, server_hostname)) {
        ERR_clear_error();
        SSL_free(ssl);
        return failed(name, EINVAL, "start_tls: bad server_hostname \"%s\"", server_hostname);
    }
    if (tls_context_server_side(ctx))
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    s->ssl = ssl;
    s->handshaking = true;
    future_t *f = future_new(name);
    future_ref(f); /* ours until the handshake is over */
    s->tls_future = f;
    if (!s->connecting)
        handle_handshake(s);
    update_state(s);
    return f;
}

/* At the close: close_notify if the session is still good (one try: the loop cannot
 * wait for it), then OpenSSL's state goes. */
static void tls_end(iostream_t *s)
{
    if (s->tls_open) {
        ERR_clear_error();
        SSL_shutdown(s->ssl);
        ERR_clear_error();
    }
    SSL_free(s->ssl);
    s->ssl = NULL;
    s->tls_open = s->handshaking = false;
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
    if (s->handshaking)
        handle_handshake(s);
}

/* ---- the loop's handler ------------------------------------------------------------ */

static void on_events(int fd, int events, void *arg)
{
    iostream_t *s = arg;
    (void)fd;
    if (!wanted_events(s)) { /* parked: data or a hang-up nobody asked for yet */
        s->unpark = true;
        update_state(s);
        return;
    }
    if (s->handshaking && !s->connecting) {
        handle_handshake(s); /* which goes on to reads and writes once done */
    } else {
        if (s->connecting)
            handle_connect(s); /* which starts the handshake, if asked for */
        if (!s->closed && established(s) && (events & s->rwant))
            read_loop(s);
        if (!s->closed && established(s) && (events & s->wwant))
            handle_write(s);
    }
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

/* Fails a pending connect's or handshake's future *fp with the close's cause; a failed
 * connect fails the handshake that waited for it the same way. */
static void fail_opening(iostream_t *s, future_t **fp, int code, bool connect_failed)
{
    if (!*fp)
        return;
    if (code == ECANCELED)
        fail_closed(s, *fp, code);
    else if (connect_failed)
        future_set_error(*fp, s->error ? s->error : code, "connect to %s: %s", s->peer,
                         s->error_msg);
    else
        future_set_error(*fp, s->error ? s->error : code, "%s", s->error_msg);
    future_unref(*fp);
    *fp = NULL;
}

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
    fail_opening(s, &s->tls_future, code, s->connect_future != NULL);
    fail_opening(s, &s->connect_future, code, true);
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
    char *msg = loop_xvasprintf(fmt, ap);
    va_end(ap);
    if (s->handshaking && !s->connecting && pending_code != ECANCELED) {
        s->error_msg = xasprintf("SSL handshake failed: %s", msg); /* Tornado's words */
        free(msg);
    } else {
        s->error_msg = msg;
    }
    s->error = error;
    if (s->state)
        ioloop_remove_handler(s->loop, s->fd);
    s->state = 0;
    if (s->ssl)
        tls_end(s);
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
    iostream_uncork(s); /* off the corked list, what it held sent if it can be */
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
