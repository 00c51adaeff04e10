/* iostream — a buffered non-blocking TCP stream on the loop, in TLS if asked: Tornado's
 * tornado.iostream (IOStream and SSLIOStream).
 *
 * Sockets hand over bytes in whatever pieces the network made; protocols want lines,
 * heads ending in "\r\n\r\n", bodies of N bytes. A stream sits between the two: it
 * keeps what the socket gave in a read buffer and resolves a read's future once the
 * buffer holds what the read asked for; it copies what a program writes into a write
 * buffer and feeds it to the kernel as fast as the kernel takes it. A coroutine reads
 * like the blocking program of lesson 01 and blocks nothing:
 *
 *     iostream_t *s;
 *     future_t *f = iostream_connect(addr, addrlen, NULL, &s);  // the stream is ours at once
 *     if (coro_await(coro_with_timeout(deadline, f), NULL))    // refused, timed out...
 *         goto out;                                            // ...coro_error() says which
 *     coro_await(iostream_write(s, req, strlen(req)), NULL);   // the kernel took it all
 *     struct iostream_bytes *line;
 *     if (coro_await(iostream_read_until(s, "\r\n", 65536), (void **)&line) == 0)
 *         printf("%s", line->data);                            // "HTTP/1.1 200 OK\r\n"
 *   out:
 *     iostream_free(s);                                        // closes it if still open
 *
 * The rules are Tornado's:
 * - One read at a time: a read started while another is pending fails with EBUSY.
 * - A read the buffer can satisfy returns a future that is already done (coro_await
 *   does not suspend); so does a write the kernel takes at once. Otherwise the stream
 *   reads or writes as the loop reports the socket ready.
 * - The peer closing (EOF), a socket error, or iostream_close closes the stream: a
 *   pending read the buffer can satisfy is satisfied first, read_until_close gets all
 *   that was read, and everything else pending fails. Bytes still buffered can be read
 *   after the close.
 * - The stream asks the loop for WRITE only while output is waiting, and for READ only
 *   while a read is pending, or, once someone waits for the close, while the read
 *   buffer is empty (data arriving then is buffered; the close is seen at the next read).
 *   Between two reads the READ registration is left in place until the socket fires
 *   (then it is removed), which saves a keep-alive connection two epoll_ctl a request.
 *
 * TLS (Tornado's SSLIOStream, by OpenSSL): iostream_start_tls on a new or connecting
 * stream makes it encrypt everything from then on, as a client or a server as its
 * tls_context says (tls.h). Its future resolves once the handshake is over; reads and
 * writes made meanwhile wait for it. All the rules above hold over TLS, with the
 * plaintext's bytes: a write is done once OpenSSL has handed its records to the kernel,
 * and the peer's close_notify and its plain EOF (Python's suppress_ragged_eofs, which
 * Tornado keeps) are both "the peer closed the connection". What the loop is asked for
 * is what OpenSSL waits for: a read may wait for WRITE and a write for READ; bytes
 * OpenSSL has already decrypted are read without asking the loop. iostream_close sends
 * close_notify (one try, never waiting). A connect timeout covering the handshake is the
 * caller's coro_with_timeout around the handshake's future:
 *
 *     future_t *c = iostream_connect(addr, addrlen, NULL, &s);
 *     future_unref(c);                                     // the handshake waits for it
 *     if (coro_await(coro_with_timeout(deadline, iostream_start_tls(s, ctx, "example.com")),
 *                    NULL))
 *         puts(coro_error());  // "connect to ...: Connection refused", "SSL handshake
 *                              //  failed: certificate verify failed (hostname mismatch)"
 *
 * Errors (future_error codes; the messages say the rest, for people):
 *   IOSTREAM_CLOSED (EPIPE)  "Stream is closed: <why>" — Tornado's StreamClosedError: the
 *                  peer closed ("the peer closed the connection"), the socket failed
 *                  ("Connection reset by peer"), or the stream was already closed.
 *   ECANCELED      "Stream is closed: closed by its owner" — operations still pending
 *                  when the program itself called iostream_close or iostream_free (a
 *                  future abandoned after coro_with_timeout fails quietly this way).
 *   EBUSY          "Already reading": a second read while one is pending.
 *   EMSGSIZE       read_until: the delimiter was not within max_bytes (Tornado's
 *                  UnsatisfiableReadError); the stream is closed, as in Tornado, unless
 *                  the options say overlong_keeps_open (then it is asyncio's
 *                  LimitOverrunError: the bytes stay buffered and an answer can be
 *                  written, such as a server's 431).
 *   ENOBUFS        a write that would take the write buffer past its cap (the stream
 *                  stays open); or the read buffer passed max_buffer_size before a read
 *                  was satisfied (the stream is closed).
 *   ECONNREFUSED, ENETUNREACH, ...  iostream_connect failed: the connect's errno.
 *   ECONNABORTED   "SSL handshake failed: <OpenSSL's reason>": the handshake's future
 *                  (and the stream, which closes), e.g. "certificate verify failed
 *                  (self-signed certificate)", "wrong version number" (the peer does not
 *                  speak TLS), "unexpected eof while reading". The socket failing during
 *                  the handshake gives its errno: "SSL handshake failed: Connection reset
 *                  by peer" with ECONNRESET.
 *   EPROTO         the stream's error after a broken TLS record ("SSL error: decryption
 *                  failed or bad record mac"); pending operations fail as closed.
 *   EINVAL         start_tls on a stream already TLS, with bytes buffered or a read
 *                  pending, or with a server_hostname OpenSSL refuses.
 *
 * Results: a read's future holds a struct iostream_bytes, which it owns (valid while
 * the future lives: after coro_await, until the coroutine's next coro_await). A write's
 * and a connect's futures are resolved with NULL and with the stream; so is start_tls's.
 *
 * Lifetime: the program owns the stream and frees it with iostream_free, whatever
 * happened to it; the futures it returned are the program's references and outlive it.
 * Everything runs on the loop's thread. Sockets only (writes use send with MSG_NOSIGNAL,
 * so a peer that went away is EPIPE, not SIGPIPE; OpenSSL writes through the same).
 */
#ifndef IOSTREAM_H
#define IOSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "future.h"
#include "tls.h"

typedef struct iostream iostream_t;

#define IOSTREAM_CLOSED EPIPE
#define IOSTREAM_MAX_BUFFER_DEFAULT ((size_t)100 * 1024 * 1024) /* Tornado's 100 MiB */
#define IOSTREAM_READ_CHUNK_DEFAULT ((size_t)64 * 1024)          /* Tornado's 64 KiB */

/* Limits; 0 in a field (or NULL options) means the default. */
struct iostream_options {
    size_t max_buffer_size;       /* read buffer; more unread closes the stream (100 MiB) */
    size_t read_chunk_size;       /* bytes asked of each recv (64 KiB, at most half the above) */
    size_t max_write_buffer_size; /* bytes waiting for the kernel (100 MiB; SIZE_MAX: no cap) */
    bool overlong_keeps_open;     /* a read_until past max_bytes leaves the stream open */
};

/* What a read returns: len bytes, then a NUL so that text can be printed as it is. */
struct iostream_bytes {
    size_t len;
    char data[];
};

/* A stream on fd, a connected non-blocking socket, which the stream now owns. NULL
 * with errno EBADF if fd < 0. */
iostream_t *iostream_new(int fd, const struct iostream_options *opts);
/* Tornado's `IOStream(socket.socket()).connect(addr)`: a new stream, at once in
 * *stream, whose socket connects to addr; the future resolves with the stream when the
 * connection is made, or fails with the connect's errno ("connect to 127.0.0.1:1:
 * Connection refused"). Writes made meanwhile wait in the buffer. A connect timeout is
 * the caller's coro_with_timeout; a stream given up on is freed with iostream_free,
 * which closes the half-open socket. The caller frees *stream in every case. */
future_t *iostream_connect(const struct sockaddr *addr, socklen_t addrlen,
                           const struct iostream_options *opts, iostream_t **stream);
/* Tornado's IOStream.start_tls: from now on the stream speaks TLS over its socket, the
 * side and the certificates being ctx's (the stream keeps what it needs of ctx). A
 * client's server_hostname is sent as SNI and checked against the server's certificate
 * when ctx verifies it; an IP literal ("127.0.0.1", "::1") is checked as an address and
 * not sent; NULL checks no name. The future resolves with the stream once the handshake
 * is over, or fails as the errors above say. The stream must have nothing buffered and
 * no read pending; it may still be connecting (the handshake starts once connected). */
future_t *iostream_start_tls(iostream_t *s, tls_context_t *ctx, const char *server_hostname);
/* Closes the stream if open (pending futures fail with ECANCELED) and frees it. */
void iostream_free(iostream_t *s);

/* Reads up to and including delim (a C string, not empty). max_bytes (0: no limit but
 * max_buffer_size) bounds where the delimiter's end may be. */
future_t *iostream_read_until(iostream_t *s, const char *delim, size_t max_bytes);
/* Reads exactly n bytes; with partial, as soon as any are there (at most n). */
future_t *iostream_read_bytes(iostream_t *s, size_t n, bool partial);
/* Reads until the peer closes, and resolves with all of it (even when the close was a
 * socket error). More than max_buffer_size fails it with ENOBUFS. */
future_t *iostream_read_until_close(iostream_t *s);

/* Copies len bytes into the write buffer at once and sends what the kernel takes; the
 * future resolves once the kernel has all of them (and all that was written before). */
future_t *iostream_write(iostream_t *s, const void *data, size_t len);

/* iostream_write of the pieces one after another: one future, one send to begin with
 * (a WebSocket frame's header and its payload without copying them together first). */
future_t *iostream_writev(iostream_t *s, const struct iovec *iov, int iovcnt);

/* iostream_writev without a future, for a writer that does not wait (a broadcast to a
 * thousand connections makes no thousand futures). Returns 0, or -1 with errno EPIPE
 * (the stream is closed) or ENOBUFS (over the cap). */
int iostream_send(iostream_t *s, const struct iovec *iov, int iovcnt);

/* Holds writes in the buffer, unsent, until iostream_uncork (which sends them), the
 * loop's next iteration, or 16 KiB held, whichever comes first: several small writes
 * made in a row leave in one send (Linux's TCP_CORK, for the stream's own buffer). A
 * WebSocket server corks while it answers the messages of one read, and a broadcast
 * corks every listener, so that the lines of one iteration leave together. The bounds
 * keep memory small and a coroutine that awaits a write while corked from waiting on
 * itself. */
void iostream_cork(iostream_t *s);
void iostream_uncork(iostream_t *s);

/* Closes the socket (see the rules above); harmless if already closed. */
void iostream_close(iostream_t *s);
bool iostream_closed(const iostream_t *s);
/* A future (a new reference) resolved with NULL once the stream is closed, for whatever
 * reason: Tornado's set_close_callback, with done-callbacks or coro_await. Asking for
 * it makes an idle stream watch its socket for the peer's close. */
future_t *iostream_wait_closed(iostream_t *s);
/* Why the stream closed, Tornado's IOStream.error: an errno (ECONNRESET, EMSGSIZE, ...)
 * and its message; 0 with "the peer closed the connection" for a clean EOF, or with
 * "closed by its owner" after iostream_close; 0 and "" while open. */
int iostream_error(const iostream_t *s);
const char *iostream_error_message(const iostream_t *s);

bool iostream_reading(const iostream_t *s); /* a read is pending */
bool iostream_writing(const iostream_t *s); /* output is waiting for the kernel */
size_t iostream_read_buffered(const iostream_t *s);  /* bytes read and not yet consumed */
size_t iostream_write_buffered(const iostream_t *s); /* bytes the kernel has not taken */
/* The socket, or -1 once closed. */
int iostream_fd(const iostream_t *s);
/* TCP_NODELAY: send small writes at once instead of waiting to fill a segment. Returns
 * 0, or -1 with errno (ENOTSOCK/EOPNOTSUPP for a non-TCP socket, EBADF once closed). */
int iostream_set_nodelay(iostream_t *s, bool on);

#endif
