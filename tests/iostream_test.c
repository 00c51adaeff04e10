/* Unit tests for 05_httpclient/iostream: Tornado's IOStream on real loopback sockets.
 * Two streams of a socket pair (or of a 127.0.0.1 TCP connection) live on the same loop
 * and talk to each other; a coroutine "main" drives them and checks what each read or
 * write gave. Segments are made by waiting until the reader's buffer holds what was sent
 * so far, never by sleeping, so the tests are deterministic. The TLS tests run both
 * ends of a handshake on the same loop, with certificates made when the suite starts
 * (tls_test.h). */
#include "iostream.h"
#include "loop_test.h"
#include "tls_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------------------- */

static iostream_t *a, *b; /* the two ends; every test's teardown frees them */
static const struct iostream_options *b_options; /* tcp_pair's for b; setup resets it */

static void pair_opts(const struct iostream_options *oa, const struct iostream_options *ob)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    a = iostream_new(sv[0], oa);
    b = iostream_new(sv[1], ob);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
}

static void pair(void)
{
    pair_opts(NULL, NULL);
}

static void setup(void)
{
    loop_test_setup();
    a = b = NULL;
    b_options = NULL;
}

static void teardown(void)
{
    iostream_free(a);
    iostream_free(b);
    loop_test_teardown();
}

/* Awaits f, requires success, and returns the bytes read (valid until the next await). */
static struct iostream_bytes *got(future_t *f)
{
    void *r = NULL;
    int err = coro_await(f, &r);
    ck_assert_msg(err == 0, "%s failed: %d %s", "await", err, coro_error());
    return r;
}

static void expect_text(future_t *f, const char *text)
{
    struct iostream_bytes *r = got(f);
    ck_assert_uint_eq(r->len, strlen(text));
    ck_assert_str_eq(r->data, text);
}

/* Awaits f and requires it to fail with code; returns the message (a static copy). */
static const char *fails_with(future_t *f, int code)
{
    static char msg[256];
    int err = coro_await(f, NULL);
    ck_assert_msg(err == code, "expected error %d, got %d (%s)", code, err, coro_error());
    snprintf(msg, sizeof msg, "%s", coro_error());
    return msg;
}

static void write_all(iostream_t *s, const char *text)
{
    ck_assert_int_eq(coro_await(iostream_write(s, text, strlen(text)), NULL), 0);
}

/* Lets the loop run until s has n bytes buffered: one segment has arrived. */
static void until_buffered(iostream_t *s, size_t n)
{
    for (int i = 0; i < 1000 && iostream_read_buffered(s) < n; i++)
        coro_await(coro_moment(), NULL);
    ck_assert_uint_eq(iostream_read_buffered(s), n);
}

static void spin(int turns)
{
    while (turns--)
        coro_await(coro_moment(), NULL);
}

/* A TCP listener on 127.0.0.1 and an ephemeral port; addr is filled in. */
static int listener(struct sockaddr_in *addr, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    *addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)addr, sizeof *addr), 0);
    socklen_t len = sizeof *addr;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)addr, &len), 0);
    if (backlog >= 0)
        ck_assert_int_eq(listen(fd, backlog), 0);
    return fd;
}

/* a: a connected client stream; b: the accepted end. */
static void *tcp_pair(void *arg)
{
    (void)arg;
    struct sockaddr_in addr;
    int lfd = listener(&addr, 8);
    void *r;
    ck_assert_int_eq(coro_await(iostream_connect((struct sockaddr *)&addr, sizeof addr, NULL, &a), &r), 0);
    ck_assert_ptr_eq(r, a);
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    b = iostream_new(fd, b_options);
    close(lfd);
    return NULL;
}

/* ---- read_until -------------------------------------------------------------------- */

static void *until_across_segments(void *arg)
{
    (void)arg;
    pair();
    future_t *f = iostream_read_until(b, "\r\n\r\n", 0);
    ck_assert(!future_done(f));
    ck_assert(iostream_reading(b));
    const char *pieces[] = {"HTTP/1.1 200 OK\r", "\nHost: x\r\n", "\r", "\n", "body"};
    size_t sent = 0;
    for (int i = 0; i < 3; i++) { /* the delimiter's end arrives in the fourth */
        write_all(a, pieces[i]);
        until_buffered(b, sent += strlen(pieces[i]));
        ck_assert(!future_done(f));
    }
    write_all(a, "\nbody");
    expect_text(f, "HTTP/1.1 200 OK\r\nHost: x\r\n\r\n");
    ck_assert(!iostream_reading(b));
    /* "body" came in the same segment: the next read is done at once. */
    f = iostream_read_bytes(b, 4, false);
    ck_assert(future_done(f));
    expect_text(f, "body");
    return NULL;
}

START_TEST(read_until_across_segments)
{
    run_main(until_across_segments, NULL);
}
END_TEST

static void *until_max_bytes(void *arg)
{
    (void)arg;
    pair();
    future_t *closed = iostream_wait_closed(b);
    write_all(a, "abc\n");
    expect_text(iostream_read_until(b, "\n", 4), "abc\n"); /* ends at max_bytes: fine */
    future_t *f = iostream_read_until(b, "\r\n", 8);
    write_all(a, "0123456");
    until_buffered(b, 7);
    ck_assert(!future_done(f));
    write_all(a, "789\r\n");
    ck_assert_str_eq(fails_with(f, EMSGSIZE), "delimiter \"\\r\\n\" not found within 8 bytes");
    ck_assert(iostream_closed(b)); /* as in Tornado, the stream is given up */
    ck_assert_int_eq(iostream_error(b), EMSGSIZE);
    ck_assert_int_eq(coro_await(closed, NULL), 0);
    return NULL;
}

START_TEST(read_until_max_bytes_exceeded)
{
    run_main(until_max_bytes, NULL);
}
END_TEST

/* Already buffered past max_bytes: the failed future comes back at once. */
static void *until_max_bytes_inline(void *arg)
{
    (void)arg;
    pair();
    write_all(a, "first\nsecond line is long\n");
    expect_text(iostream_read_until(b, "\n", 0), "first\n");
    future_t *f = iostream_read_until(b, "\n", 5);
    ck_assert(future_failed(f));
    fails_with(f, EMSGSIZE);
    ck_assert(iostream_closed(b));
    return NULL;
}

START_TEST(read_until_max_bytes_from_buffer)
{
    run_main(until_max_bytes_inline, NULL);
}
END_TEST

/* overlong_keeps_open (asyncio's readuntil): the failed read leaves the stream open, the
 * bytes buffered, and an answer can still be written (a server's 431). */
static void *until_max_bytes_open(void *arg)
{
    (void)arg;
    pair_opts(NULL, &(struct iostream_options){.overlong_keeps_open = true});
    future_t *f = iostream_read_until(b, "\n", 5);
    write_all(a, "far too long\n");
    fails_with(f, EMSGSIZE);
    ck_assert(!iostream_closed(b));
    write_all(b, "431\n");
    expect_text(iostream_read_until(a, "\n", 0), "431\n");
    expect_text(iostream_read_until(b, "\n", 0), "far too long\n");
    return NULL;
}

START_TEST(read_until_max_bytes_can_keep_open)
{
    run_main(until_max_bytes_open, NULL);
}
END_TEST

/* ---- read_bytes -------------------------------------------------------------------- */

static void *bytes_exact_partial(void *arg)
{
    (void)arg;
    pair();
    write_all(a, "hello world");
    expect_text(iostream_read_bytes(b, 5, false), "hello");
    expect_text(iostream_read_bytes(b, 100, true), " world"); /* partial: what is there */
    future_t *f = iostream_read_bytes(b, 3, false);
    write_all(a, "x");
    until_buffered(b, 1);
    ck_assert(!future_done(f)); /* exact: waits for all three */
    write_all(a, "yz12");
    expect_text(f, "xyz");
    f = iostream_read_bytes(b, 2, false);
    ck_assert(future_done(f));
    expect_text(f, "12");
    f = iostream_read_bytes(b, 0, false);
    ck_assert(future_done(f));
    expect_text(f, "");
    f = iostream_read_bytes(b, 10, true); /* partial waits for at least one byte */
    spin(3);
    ck_assert(!future_done(f));
    write_all(a, "0123456789abc");
    expect_text(f, "0123456789");
    expect_text(iostream_read_bytes(b, 3, true), "abc");
    return NULL;
}

START_TEST(read_bytes_exact_and_partial)
{
    run_main(bytes_exact_partial, NULL);
}
END_TEST

/* ---- read_until_close -------------------------------------------------------------- */

static void *until_close(void *arg)
{
    (void)arg;
    pair();
    future_t *f = iostream_read_until_close(b);
    write_all(a, "abc");
    until_buffered(b, 3);
    write_all(a, "def");
    until_buffered(b, 6);
    ck_assert(!future_done(f));
    iostream_close(a);
    expect_text(f, "abcdef");
    ck_assert(iostream_closed(b));
    ck_assert_int_eq(iostream_error(b), 0);
    ck_assert_str_eq(iostream_error_message(b), "the peer closed the connection");
    /* On a closed stream it returns what is left, at once. */
    f = iostream_read_until_close(b);
    ck_assert(future_done(f));
    expect_text(f, "");
    return NULL;
}

START_TEST(read_until_close_gets_everything)
{
    run_main(until_close, NULL);
}
END_TEST

/* ---- one big write, many reads ----------------------------------------------------- */

#define LINES 20000

static void *many_from_one(void *arg)
{
    (void)arg;
    pair();
    char *text = malloc(LINES * 11 + 1);
    for (int i = 0; i < LINES; i++)
        sprintf(text + i * 11, "line %05d\n", i);
    future_t *w = iostream_write(a, text, LINES * 11); /* more than the socket takes at once */
    free(text);
    uint64_t before = ioloop_iterations(loop);
    int inline_reads = 0;
    for (int i = 0; i < LINES; i++) {
        future_t *f = iostream_read_until(b, "\n", 64);
        inline_reads += future_done(f);
        struct iostream_bytes *r = got(f);
        char want[16];
        sprintf(want, "line %05d\n", i);
        ck_assert_str_eq(r->data, want);
    }
    /* The buffer satisfies nearly every read: only a few needed the loop. */
    ck_assert_int_ge(inline_reads, LINES - 20);
    ck_assert_uint_le(ioloop_iterations(loop) - before, 40);
    ck_assert_int_eq(coro_await(w, NULL), 0);
    ck_assert_uint_eq(iostream_read_buffered(b), 0);
    return NULL;
}

START_TEST(many_reads_from_one_write)
{
    run_main(many_from_one, NULL);
}
END_TEST

/* ---- 64 MiB through a pair --------------------------------------------------------- */

#define BIG ((size_t)64 * 1024 * 1024)

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i % 251 + i / 65521);
}

static void *big_writer(void *arg)
{
    (void)arg;
    unsigned char *data = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        data[i] = pattern(i);
    future_t *f = iostream_write(a, data, BIG);
    free(data); /* the stream copied it */
    ck_assert(!future_done(f)); /* far more than a socket buffer */
    ck_assert_int_eq(coro_await(f, NULL), 0);
    ck_assert_uint_eq(iostream_write_buffered(a), 0);
    return NULL;
}

static void *big_reader(void *arg)
{
    (void)arg;
    size_t total = 0;
    while (total < BIG) {
        struct iostream_bytes *r = got(iostream_read_bytes(b, 1024 * 1024, true));
        for (size_t i = 0; i < r->len; i++)
            if (r->data[i] != (char)pattern(total + i))
                ck_abort_msg("byte %zu differs", total + i);
        total += r->len;
    }
    ck_assert_uint_eq(total, BIG);
    return NULL;
}

static void *big_transfer(void *arg)
{
    (void)arg;
    pair();
    future_t *both[2] = {coro_spawn("writer", big_writer, NULL), coro_spawn("reader", big_reader, NULL)};
    ck_assert_int_eq(coro_await(coro_multi(both, 2), NULL), 0);
    return NULL;
}

START_TEST(sixty_four_mib_through_a_pair)
{
    run_main(big_transfer, NULL);
}
END_TEST

/* ---- the write buffer's cap -------------------------------------------------------- */

/* Writes made while connecting stay in the buffer, which makes the cap visible. */
static void *write_cap(void *arg)
{
    (void)arg;
    struct sockaddr_in addr;
    int lfd = listener(&addr, 8);
    struct iostream_options opts = {.max_write_buffer_size = 1000};
    char block[600];
    memset(block, 'w', sizeof block);
    future_t *c = iostream_connect((struct sockaddr *)&addr, sizeof addr, &opts, &a);
    future_t *w1 = iostream_write(a, block, 600);
    ck_assert(!future_done(w1));
    future_t *w2 = iostream_write(a, block, 500);
    ck_assert(future_failed(w2));
    ck_assert_str_eq(fails_with(w2, ENOBUFS), "Reached maximum write buffer size (1000 bytes)");
    fails_with(iostream_write(a, block, 1001), ENOBUFS);
    ck_assert(!iostream_closed(a)); /* refusing a write does not close the stream */
    future_t *w3 = iostream_write(a, block, 400);
    ck_assert_uint_eq(iostream_write_buffered(a), 1000);
    ck_assert_int_eq(coro_await(c, NULL), 0);
    ck_assert_int_eq(coro_await(w1, NULL), 0);
    ck_assert_int_eq(coro_await(w3, NULL), 0);
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    b = iostream_new(fd, NULL);
    struct iostream_bytes *r = got(iostream_read_bytes(b, 1000, false));
    ck_assert_uint_eq(r->len, 1000);
    close(lfd);
    return NULL;
}

START_TEST(write_buffer_cap_refuses)
{
    run_main(write_cap, NULL);
}
END_TEST

/* ---- the read buffer's cap --------------------------------------------------------- */

static void *read_cap(void *arg)
{
    (void)arg;
    struct iostream_options small = {.max_buffer_size = 64 * 1024};
    pair_opts(NULL, &small);
    future_t *f = iostream_read_until(b, "\n", 0);
    size_t n = 4 * 1024 * 1024; /* more than the socket holds: some is still ours at b's close */
    char *junk = malloc(n);
    memset(junk, 'j', n);
    future_t *w = iostream_write(a, junk, n);
    free(junk);
    ck_assert_str_eq(fails_with(f, ENOBUFS), "Reached maximum read buffer size (65536 bytes)");
    ck_assert(iostream_closed(b));
    ck_assert_int_eq(iostream_error(b), ENOBUFS);
    /* b's close reaches a's pending write as a closed stream. */
    ck_assert_str_eq(fails_with(w, IOSTREAM_CLOSED), "Stream is closed: Broken pipe");
    return NULL;
}

START_TEST(read_buffer_cap_closes)
{
    run_main(read_cap, NULL);
}
END_TEST

/* ---- the peer going away ----------------------------------------------------------- */

static void *peer_closes(void *arg)
{
    (void)arg;
    pair();
    future_t *f = iostream_read_bytes(b, 100, false);
    write_all(a, "0123456789");
    until_buffered(b, 10);
    iostream_close(a);
    ck_assert_str_eq(fails_with(f, IOSTREAM_CLOSED), "Stream is closed: the peer closed the connection");
    ck_assert(iostream_closed(b));
    ck_assert_int_eq(iostream_fd(b), -1);
    /* What was read before the close can still be read; then nothing more. */
    f = iostream_read_bytes(b, 10, false);
    ck_assert(future_done(f));
    expect_text(f, "0123456789");
    fails_with(iostream_read_bytes(b, 1, false), IOSTREAM_CLOSED);
    fails_with(iostream_write(b, "x", 1), IOSTREAM_CLOSED);
    return NULL;
}

START_TEST(peer_closes_mid_read_bytes)
{
    run_main(peer_closes, NULL);
}
END_TEST

/* A TCP peer that aborts (SO_LINGER 0) sends RST: ECONNRESET, reported once. */
static void *peer_resets(void *arg)
{
    tcp_pair(arg);
    future_t *closed = iostream_wait_closed(b);
    future_t *f = iostream_read_until(b, "\n", 0);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    ck_assert_int_eq(setsockopt(iostream_fd(a), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    iostream_free(a);
    a = NULL;
    ck_assert_str_eq(fails_with(f, IOSTREAM_CLOSED), "Stream is closed: Connection reset by peer");
    ck_assert_int_eq(coro_await(closed, NULL), 0);
    ck_assert_int_eq(iostream_error(b), ECONNRESET);
    ck_assert_str_eq(fails_with(iostream_write(b, "x", 1), IOSTREAM_CLOSED),
                     "Stream is closed: Connection reset by peer");
    return NULL;
}

START_TEST(peer_reset_is_reported)
{
    run_main(peer_resets, NULL);
}
END_TEST

/* ---- connecting -------------------------------------------------------------------- */

static void *tcp_roundtrip(void *arg)
{
    tcp_pair(arg);
    ck_assert_int_eq(iostream_set_nodelay(a, true), 0);
    write_all(a, "GET / HTTP/1.1\r\n\r\n");
    expect_text(iostream_read_until(b, "\r\n\r\n", 1024), "GET / HTTP/1.1\r\n\r\n");
    write_all(b, "HTTP/1.1 200 OK\r\n\r\nhi");
    iostream_close(b);
    expect_text(iostream_read_until_close(a), "HTTP/1.1 200 OK\r\n\r\nhi");
    return NULL;
}

START_TEST(tcp_connect_and_talk)
{
    run_main(tcp_roundtrip, NULL);
}
END_TEST

/* A bound socket that does not listen answers SYN with RST, and keeps its port. */
static void *refused(void *arg)
{
    (void)arg;
    struct sockaddr_in addr;
    int fd = listener(&addr, -1);
    future_t *c = iostream_connect((struct sockaddr *)&addr, sizeof addr, NULL, &a);
    future_t *w = iostream_write(a, "early", 5);
    char want[96];
    snprintf(want, sizeof want, "connect to 127.0.0.1:%u: Connection refused", ntohs(addr.sin_port));
    ck_assert_str_eq(fails_with(c, ECONNREFUSED), want);
    ck_assert_str_eq(fails_with(w, IOSTREAM_CLOSED), "Stream is closed: Connection refused");
    ck_assert(iostream_closed(a));
    ck_assert_int_eq(iostream_error(a), ECONNREFUSED);
    close(fd);
    return NULL;
}

START_TEST(connect_refused)
{
    run_main(refused, NULL);
}
END_TEST

/* A listener whose accept queue is full drops SYNs: the connect hangs until the caller's
 * timeout, and freeing the stream then cleans it up without a word on stderr. */
static void *abandoned(void *arg)
{
    (void)arg;
    struct sockaddr_in addr;
    int lfd = listener(&addr, 0);
    iostream_t *fill;
    future_t *c = iostream_connect((struct sockaddr *)&addr, sizeof addr, NULL, &fill);
    ck_assert_int_eq(coro_await(c, NULL), 0); /* backlog 0 still queues one: now it is full */
    future_t *f = iostream_connect((struct sockaddr *)&addr, sizeof addr, NULL, &a);
    ck_assert_int_eq(coro_await(coro_with_timeout(ioloop_time(loop) + 0.05, f), NULL), ETIMEDOUT);
    ck_assert(!iostream_closed(a));
    iostream_free(a);
    a = NULL;
    spin(3); /* the connect's future fails (ECANCELED, quietly) after the timeout */
    iostream_free(fill);
    close(lfd);
    return NULL;
}

START_TEST(connect_abandoned_after_timeout)
{
    run_main(abandoned, NULL);
}
END_TEST

/* ---- misuse and closing ------------------------------------------------------------ */

static void *second_read(void *arg)
{
    (void)arg;
    pair();
    future_t *first = iostream_read_until(b, "\n", 0);
    future_t *second = iostream_read_bytes(b, 1, false);
    ck_assert_str_eq(future_name(first), "IOStream.read_until"); /* how traces name the wait */
    ck_assert_str_eq(future_name(second), "IOStream.read_bytes");
    ck_assert(future_failed(second));
    ck_assert_str_eq(fails_with(second, EBUSY), "Already reading");
    fails_with(iostream_read_until_close(b), EBUSY);
    write_all(a, "still fine\n");
    expect_text(first, "still fine\n");
    return NULL;
}

START_TEST(second_read_is_busy)
{
    run_main(second_read, NULL);
}
END_TEST

/* Fills the kernel's buffers toward a peer that does not read: the write stays pending. */
static future_t *stuck_write(iostream_t *s)
{
    size_t n = 16 * 1024 * 1024;
    char *data = calloc(1, n);
    future_t *w = iostream_write(s, data, n);
    free(data);
    ck_assert(!future_done(w));
    ck_assert(iostream_writing(s));
    return w;
}

static void *close_pending(void *arg)
{
    (void)arg;
    pair();
    future_t *w = stuck_write(a);
    future_t *r = iostream_read_until(a, "never", 0);
    future_t *closed = iostream_wait_closed(a);
    spin(2);
    iostream_close(a);
    ck_assert(iostream_closed(a));
    ck_assert_str_eq(fails_with(r, ECANCELED), "Stream is closed: closed by its owner");
    ck_assert_str_eq(fails_with(w, ECANCELED), "Stream is closed: closed by its owner");
    ck_assert_int_eq(coro_await(closed, NULL), 0);
    ck_assert_uint_eq(iostream_write_buffered(a), 0);
    iostream_close(a); /* twice: harmless */
    fails_with(iostream_write(a, "x", 1), IOSTREAM_CLOSED);
    return NULL;
}

START_TEST(close_with_pending_reads_and_writes)
{
    run_main(close_pending, NULL);
}
END_TEST

/* The peer never reads: the write waits, and the loop sleeps meanwhile (epoll is not
 * told to watch a socket that cannot take more). */
static void *never_reads(void *arg)
{
    (void)arg;
    pair();
    future_t *w = stuck_write(a);
    uint64_t before = ioloop_iterations(loop);
    coro_await(coro_sleep(0.05), NULL);
    ck_assert_uint_le(ioloop_iterations(loop) - before, 4);
    ck_assert(!future_done(w));
    future_unref(w);
    return NULL;
}

START_TEST(peer_never_reading_does_not_spin)
{
    run_main(never_reads, NULL);
}
END_TEST

/* Watching for the close: an idle stream sees the peer go; bytes that arrive meanwhile
 * are buffered once and do not wake the loop again. */
static void *watch_close(void *arg)
{
    (void)arg;
    pair();
    future_t *closed = iostream_wait_closed(b);
    write_all(a, "x");
    uint64_t before = ioloop_iterations(loop);
    coro_await(coro_sleep(0.05), NULL);
    ck_assert_uint_le(ioloop_iterations(loop) - before, 4);
    ck_assert_uint_eq(iostream_read_buffered(b), 1);
    ck_assert(!future_done(closed));
    expect_text(iostream_read_bytes(b, 1, false), "x");
    iostream_close(a);
    ck_assert_int_eq(coro_await(closed, NULL), 0);
    ck_assert(iostream_closed(b));
    return NULL;
}

START_TEST(wait_closed_sees_the_peer_go)
{
    run_main(watch_close, NULL);
}
END_TEST

/* Between reads the READ registration stays parked: a request-response exchange needs
 * no epoll_ctl. Bytes and then a hang-up arriving while no one reads wake the loop
 * once (the registration goes) and not on every turn; the next read finds both. */
static void *parked(void *arg)
{
    (void)arg;
    pair();
    for (int i = 0; i < 3; i++) {
        future_t *f = iostream_read_until(b, "\n", 0);
        write_all(a, "ping\n");
        expect_text(f, "ping\n");
    }
    write_all(a, "late\n");
    iostream_close(a);
    uint64_t before = ioloop_iterations(loop);
    coro_await(coro_sleep(0.05), NULL);
    ck_assert_uint_le(ioloop_iterations(loop) - before, 4);
    ck_assert(!iostream_closed(b)); /* no one asked: seen at the next read */
    expect_text(iostream_read_until(b, "\n", 0), "late\n");
    fails_with(iostream_read_bytes(b, 1, false), IOSTREAM_CLOSED);
    return NULL;
}

START_TEST(parked_between_reads)
{
    run_main(parked, NULL);
}
END_TEST

/* Writes the kernel takes at once are done at once; an empty write is done when all
 * before it are. */
static void *writes_done(void *arg)
{
    (void)arg;
    pair();
    future_t *w = iostream_write(a, "quick", 5);
    ck_assert(future_done(w));
    future_unref(w);
    w = iostream_write(a, "", 0);
    ck_assert(future_done(w));
    future_unref(w);
    expect_text(iostream_read_bytes(b, 5, false), "quick");
    return NULL;
}

START_TEST(small_writes_are_done_at_once)
{
    run_main(writes_done, NULL);
}
END_TEST

/* Freeing streams with everything pending, outside any coroutine, leaks nothing. */
START_TEST(free_with_everything_pending)
{
    pair();
    future_t *w = stuck_write(a);
    future_t *r = iostream_read_until(b, "never", 0);
    future_t *closed = iostream_wait_closed(b);
    iostream_free(a);
    iostream_free(b);
    a = b = NULL;
    ck_assert(future_failed(w) && future_failed(r) && future_done(closed));
    future_unref(w);
    future_unref(r);
    future_unref(closed);
    ck_assert_ptr_null(iostream_new(-1, NULL));
    ck_assert_int_eq(errno, EBADF);
}
END_TEST

/* ---- TLS --------------------------------------------------------------------------- */

static struct test_certs certs;
/* Made once in main: the server (the CA's leaf), the server with the CA's own
 * self-signed certificate, a client trusting the CA, one trusting only the system's
 * certificates, and one trusting anything. */
static tls_context_t *server_ctx, *self_signed_ctx, *client_ctx, *system_ctx, *insecure_ctx;

static tls_context_t *context(const struct tls_options *o)
{
    char err[256] = "";
    tls_context_t *ctx = tls_context_new(o, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, "iostream_test: %s\n", err);
        exit(EXIT_FAILURE);
    }
    return ctx;
}

static void make_contexts(void)
{
    test_certs_make(&certs);
    server_ctx = context(&(struct tls_options){.server_side = true, .certfile = certs.cert,
                                               .keyfile = certs.key});
    self_signed_ctx = context(&(struct tls_options){.server_side = true, .certfile = certs.ca,
                                                    .keyfile = certs.ca_key});
    client_ctx = context(&(struct tls_options){.ca_certs = certs.ca});
    system_ctx = context(NULL);
    insecure_ctx = context(&(struct tls_options){.insecure = true});
}

static void free_contexts(void)
{
    tls_context_t *all[] = {server_ctx, self_signed_ctx, client_ctx, system_ctx, insecure_ctx};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        tls_context_free(all[i]);
    test_certs_remove(&certs);
}

/* A TCP pair, then a handshake: a the client of cctx asking for name, b the server of
 * sctx. Returns a's handshake error (0 once both are done); *msg says why. */
static int tls_handshake(tls_context_t *cctx, tls_context_t *sctx, const char *name,
                         const char **msg)
{
    static char why[256];
    tcp_pair(NULL);
    iostream_set_nodelay(a, true); /* or Nagle holds back a record for the peer's ACK */
    iostream_set_nodelay(b, true);
    future_t *fb = iostream_start_tls(b, sctx, NULL);
    future_t *fa = iostream_start_tls(a, cctx, name);
    void *r = NULL;
    int err = coro_await(coro_with_timeout(ioloop_time(loop) + 10, fa), &r);
    snprintf(why, sizeof why, "%s", err ? coro_error() : "");
    *msg = why;
    if (err) {
        future_unref(fb);
        return err;
    }
    ck_assert_ptr_eq(r, a);
    ck_assert_int_eq(coro_await(coro_with_timeout(ioloop_time(loop) + 10, fb), &r), 0);
    ck_assert_ptr_eq(r, b);
    return 0;
}

static void tls_pair(void)
{
    const char *why;
    ck_assert_msg(tls_handshake(client_ctx, server_ctx, "localhost", &why) == 0, "%s", why);
}

static void free_both(void)
{
    iostream_free(a);
    iostream_free(b);
    a = b = NULL;
}

/* Both ways, and a read_until whose delimiter is split across records. */
static void *tls_talk(void *arg)
{
    (void)arg;
    tls_pair();
    write_all(a, "GET / HTTP/1.1\r\n\r\n");
    expect_text(iostream_read_until(b, "\r\n\r\n", 1024), "GET / HTTP/1.1\r\n\r\n");
    future_t *f = iostream_read_until(a, "\r\n\r\n", 0);
    const char *pieces[] = {"HTTP/1.1 200 OK\r", "\nHost: x\r\n", "\r"};
    size_t sent = 0;
    for (int i = 0; i < 3; i++) { /* a record each */
        write_all(b, pieces[i]);
        until_buffered(a, sent += strlen(pieces[i]));
        ck_assert(!future_done(f));
    }
    write_all(b, "\nbody");
    expect_text(f, "HTTP/1.1 200 OK\r\nHost: x\r\n\r\n");
    expect_text(iostream_read_bytes(a, 4, false), "body");
    return NULL;
}

START_TEST(tls_handshake_and_talk)
{
    run_main(tls_talk, NULL);
}
END_TEST

/* Several MiB each way at once: many records, partial writes, WANT_WRITE on both sides. */
#define TLS_BIG ((size_t)8 * 1024 * 1024)

static void *tls_big_write(void *arg)
{
    iostream_t *s = *(iostream_t **)arg;
    unsigned char *data = malloc(TLS_BIG);
    for (size_t i = 0; i < TLS_BIG; i++)
        data[i] = pattern(i);
    future_t *f = iostream_write(s, data, TLS_BIG);
    free(data);
    ck_assert(!future_done(f));
    ck_assert_int_eq(coro_await(f, NULL), 0);
    ck_assert_uint_eq(iostream_write_buffered(s), 0);
    return NULL;
}

static void *tls_big_read(void *arg)
{
    iostream_t *s = *(iostream_t **)arg;
    size_t total = 0;
    while (total < TLS_BIG) {
        struct iostream_bytes *r = got(iostream_read_bytes(s, 1024 * 1024, true));
        for (size_t i = 0; i < r->len; i++)
            if (r->data[i] != (char)pattern(total + i))
                ck_abort_msg("byte %zu differs", total + i);
        total += r->len;
    }
    return NULL;
}

static void *tls_big(void *arg)
{
    (void)arg;
    tls_pair();
    future_t *all[4] = {coro_spawn("a writes", tls_big_write, &a),
                        coro_spawn("b reads", tls_big_read, &b),
                        coro_spawn("b writes", tls_big_write, &b),
                        coro_spawn("a reads", tls_big_read, &a)};
    ck_assert_int_eq(coro_await(coro_multi(all, 4), NULL), 0);
    /* Then many small reads from one big write: the buffer and OpenSSL's records give them. */
    char *text = malloc(LINES * 11 + 1);
    for (int i = 0; i < LINES; i++)
        sprintf(text + i * 11, "line %05d\n", i);
    future_t *w = iostream_write(a, text, LINES * 11);
    free(text);
    for (int i = 0; i < LINES; i++) {
        char want[16];
        sprintf(want, "line %05d\n", i);
        expect_text(iostream_read_until(b, "\n", 64), want);
    }
    ck_assert_int_eq(coro_await(w, NULL), 0);
    return NULL;
}

START_TEST(tls_megabytes_both_ways)
{
    run_main(tls_big, NULL);
}
END_TEST

/* close_notify: what was sent arrives, then a clean close. */
static void *tls_close_notify(void *arg)
{
    (void)arg;
    tls_pair();
    future_t *f = iostream_read_until_close(b);
    write_all(a, "last words");
    iostream_close(a);
    expect_text(f, "last words");
    ck_assert_int_eq(iostream_error(b), 0);
    ck_assert_str_eq(iostream_error_message(b), "the peer closed the connection");
    return NULL;
}

/* A record decrypted beyond what one read took stays inside OpenSSL, where epoll cannot
 * see it: the next reads get it at once, without the loop. */
static void *tls_pending(void *arg)
{
    (void)arg;
    b_options = &(struct iostream_options){.read_chunk_size = 100};
    tls_pair();
    char block[4000];
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (char)('a' + i % 26);
    ck_assert_int_eq(coro_await(iostream_write(a, block, sizeof block), NULL), 0); /* one record */
    for (size_t off = 0; off < sizeof block; off += 100) {
        future_t *f = iostream_read_bytes(b, 100, false);
        ck_assert(off == 0 || future_done(f));
        struct iostream_bytes *r = got(f);
        ck_assert_uint_eq(r->len, 100);
        ck_assert(!memcmp(r->data, block + off, 100));
    }
    return NULL;
}

START_TEST(tls_reads_what_openssl_holds)
{
    run_main(tls_pending, NULL);
}
END_TEST

START_TEST(tls_peer_close_notify)
{
    run_main(tls_close_notify, NULL);
}
END_TEST

/* A plain EOF without close_notify is a close too (suppress_ragged_eofs); freeing the
 * stream whose socket is shut then tries close_notify into EPIPE, without SIGPIPE. */
static void *tls_abrupt(void *arg)
{
    (void)arg;
    tls_pair();
    future_t *f = iostream_read_bytes(b, 100, false);
    write_all(a, "0123456789");
    until_buffered(b, 10);
    ck_assert_int_eq(shutdown(iostream_fd(a), SHUT_RDWR), 0);
    ck_assert_str_eq(fails_with(f, IOSTREAM_CLOSED), "Stream is closed: the peer closed the connection");
    ck_assert_int_eq(iostream_error(b), 0);
    expect_text(iostream_read_bytes(b, 10, false), "0123456789");
    iostream_free(a);
    a = NULL;
    return NULL;
}

START_TEST(tls_peer_closes_abruptly)
{
    run_main(tls_abrupt, NULL);
}
END_TEST

/* A record that fails its check (written past OpenSSL, on the socket) breaks the
 * session: EPROTO, and the pending read fails as closed. */
static void *tls_corrupt(void *arg)
{
    (void)arg;
    tls_pair();
    future_t *f = iostream_read_bytes(b, 10, false);
    static const char forged[] = "\x17\x03\x03\x00\x14not a sealed record!";
    ck_assert_int_eq(send(iostream_fd(a), forged, sizeof forged - 1, MSG_NOSIGNAL), sizeof forged - 1);
    const char *msg = fails_with(f, IOSTREAM_CLOSED);
    ck_assert_msg(!strncmp(msg, "Stream is closed: SSL error: ", 29), "%s", msg);
    ck_assert_int_eq(iostream_error(b), EPROTO);
    return NULL;
}

START_TEST(tls_forged_record_is_eproto)
{
    run_main(tls_corrupt, NULL);
}
END_TEST

static void expect_handshake_failure(tls_context_t *cctx, tls_context_t *sctx, const char *name,
                                     const char *want)
{
    const char *why;
    int err = tls_handshake(cctx, sctx, name, &why);
    ck_assert_msg(err == ECONNABORTED, "error %d: %s", err, why);
    ck_assert_str_eq(why, want);
    ck_assert(iostream_closed(a));
    ck_assert_int_eq(iostream_error(a), ECONNABORTED);
    ck_assert_str_eq(iostream_error_message(a), want);
    fails_with(iostream_write(a, "x", 1), IOSTREAM_CLOSED);
    free_both();
}

static void *tls_verify(void *arg)
{
    (void)arg;
    expect_handshake_failure(system_ctx, self_signed_ctx, "localhost",
                             "SSL handshake failed: certificate verify failed (self-signed certificate)");
    expect_handshake_failure(system_ctx, server_ctx, "localhost",
                             "SSL handshake failed: certificate verify failed (unable to get local "
                             "issuer certificate)");
    expect_handshake_failure(client_ctx, server_ctx, "example.com",
                             "SSL handshake failed: certificate verify failed (hostname mismatch)");
    expect_handshake_failure(client_ctx, server_ctx, "127.0.0.2",
                             "SSL handshake failed: certificate verify failed (IP address mismatch)");
    /* Trusted, by name or by address (checked as an address, whatever the route), or
     * with no name asked for; or anything, when told not to verify. */
    const char *names[] = {"127.0.0.1", "::1", NULL};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *why;
        ck_assert_msg(tls_handshake(client_ctx, server_ctx, names[i], &why) == 0, "%s: %s",
                      names[i] ? names[i] : "NULL", why);
        free_both();
    }
    const char *why;
    ck_assert_msg(tls_handshake(insecure_ctx, self_signed_ctx, "example.com", &why) == 0, "%s", why);
    write_all(a, "ok\n");
    expect_text(iostream_read_until(b, "\n", 0), "ok\n");
    return NULL;
}

START_TEST(tls_certificate_verification)
{
    run_main(tls_verify, NULL);
}
END_TEST

/* A peer that answers the ClientHello in plain HTTP: a clear failure, at once. */
static void *tls_plain_peer(void *arg)
{
    (void)arg;
    tcp_pair(NULL);
    future_t *f = iostream_start_tls(a, client_ctx, "localhost");
    got(iostream_read_bytes(b, 4096, true)); /* the ClientHello */
    write_all(b, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    ck_assert_str_eq(fails_with(f, ECONNABORTED), "SSL handshake failed: wrong version number");
    ck_assert(iostream_closed(a));
    return NULL;
}

START_TEST(tls_to_a_plain_server_fails)
{
    run_main(tls_plain_peer, NULL);
}
END_TEST

/* A peer that accepts and says nothing: only the caller's timeout ends the wait; one
 * that closes instead fails the handshake. */
static void *tls_silent_peer(void *arg)
{
    (void)arg;
    tcp_pair(NULL);
    future_t *f = iostream_start_tls(a, client_ctx, "localhost");
    ck_assert_int_eq(coro_await(coro_with_timeout(ioloop_time(loop) + 0.1, f), NULL), ETIMEDOUT);
    ck_assert(!iostream_closed(a));
    free_both();
    tcp_pair(NULL);
    f = iostream_start_tls(a, client_ctx, "localhost");
    got(iostream_read_bytes(b, 4096, true)); /* the ClientHello, or the close is a reset */
    iostream_close(b);
    ck_assert_str_eq(fails_with(f, ECONNABORTED), "SSL handshake failed: unexpected eof while reading");
    return NULL;
}

START_TEST(tls_silent_peer_times_out)
{
    run_main(tls_silent_peer, NULL);
}
END_TEST

/* start_tls on a connecting stream: writes made before the handshake is over wait for
 * it; a refused connect fails the handshake with the connect's error. */
static void *tls_while_connecting(void *arg)
{
    (void)arg;
    struct sockaddr_in addr;
    int lfd = listener(&addr, 8);
    future_t *c = iostream_connect((struct sockaddr *)&addr, sizeof addr, NULL, &a);
    future_t *f = iostream_start_tls(a, client_ctx, "127.0.0.1");
    future_t *w = iostream_write(a, "early\n", 6);
    ck_assert_str_eq(fails_with(iostream_start_tls(a, client_ctx, NULL), EINVAL),
                     "start_tls: the stream is already TLS");
    ck_assert_int_eq(coro_await(c, NULL), 0);
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    b = iostream_new(fd, NULL);
    future_t *fb = iostream_start_tls(b, server_ctx, NULL);
    expect_text(iostream_read_until(b, "\n", 0), "early\n");
    ck_assert_int_eq(coro_await(f, NULL), 0);
    ck_assert_int_eq(coro_await(w, NULL), 0);
    ck_assert_int_eq(coro_await(fb, NULL), 0);
    iostream_free(a);
    a = NULL;

    int fd2 = listener(&addr, -1); /* bound, not listening: refused */
    future_unref(iostream_connect((struct sockaddr *)&addr, sizeof addr, NULL, &a));
    char want[96];
    snprintf(want, sizeof want, "connect to 127.0.0.1:%u: Connection refused", ntohs(addr.sin_port));
    ck_assert_str_eq(fails_with(iostream_start_tls(a, client_ctx, NULL), ECONNREFUSED), want);
    fails_with(iostream_start_tls(a, client_ctx, NULL), IOSTREAM_CLOSED);
    close(fd2);
    close(lfd);
    return NULL;
}

START_TEST(tls_started_while_connecting)
{
    run_main(tls_while_connecting, NULL);
}
END_TEST

static void *tls_misuse(void *arg)
{
    (void)arg;
    pair();
    write_all(a, "plain");
    expect_text(iostream_read_bytes(b, 2, false), "pl"); /* "ain" stays buffered */
    ck_assert_str_eq(fails_with(iostream_start_tls(b, server_ctx, NULL), EINVAL),
                     "start_tls: a read is pending or bytes are buffered");
    char err[256];
    ck_assert_ptr_null(tls_context_new(&(struct tls_options){.ca_certs = "/nonexistent/ca.pem"},
                                       err, sizeof err));
    ck_assert_msg(!strncmp(err, "cannot load ca_certs /nonexistent/ca.pem: ", 42), "%s", err);
    ck_assert_ptr_null(tls_context_new(&(struct tls_options){.server_side = true}, err, sizeof err));
    ck_assert_str_eq(err, "a server's TLS context needs a certfile");
    return NULL;
}

START_TEST(tls_misuse_is_refused)
{
    run_main(tls_misuse, NULL);
}
END_TEST

int main(void)
{
    make_contexts();
    Suite *s = suite_create("iostream");
    TCase *tc = tcase_create("iostream");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, read_until_across_segments);
    tcase_add_test(tc, read_until_max_bytes_exceeded);
    tcase_add_test(tc, read_until_max_bytes_from_buffer);
    tcase_add_test(tc, read_until_max_bytes_can_keep_open);
    tcase_add_test(tc, read_bytes_exact_and_partial);
    tcase_add_test(tc, read_until_close_gets_everything);
    tcase_add_test(tc, many_reads_from_one_write);
    tcase_add_test(tc, sixty_four_mib_through_a_pair);
    tcase_add_test(tc, write_buffer_cap_refuses);
    tcase_add_test(tc, read_buffer_cap_closes);
    tcase_add_test(tc, peer_closes_mid_read_bytes);
    tcase_add_test(tc, peer_reset_is_reported);
    tcase_add_test(tc, tcp_connect_and_talk);
    tcase_add_test(tc, connect_refused);
    tcase_add_test(tc, connect_abandoned_after_timeout);
    tcase_add_test(tc, second_read_is_busy);
    tcase_add_test(tc, close_with_pending_reads_and_writes);
    tcase_add_test(tc, peer_never_reading_does_not_spin);
    tcase_add_test(tc, wait_closed_sees_the_peer_go);
    tcase_add_test(tc, parked_between_reads);
    tcase_add_test(tc, small_writes_are_done_at_once);
    tcase_add_test(tc, free_with_everything_pending);
    tcase_add_test(tc, tls_handshake_and_talk);
    tcase_add_test(tc, tls_megabytes_both_ways);
    tcase_add_test(tc, tls_reads_what_openssl_holds);
    tcase_add_test(tc, tls_peer_close_notify);
    tcase_add_test(tc, tls_peer_closes_abruptly);
    tcase_add_test(tc, tls_forged_record_is_eproto);
    tcase_add_test(tc, tls_certificate_verification);
    tcase_add_test(tc, tls_to_a_plain_server_fails);
    tcase_add_test(tc, tls_silent_peer_times_out);
    tcase_add_test(tc, tls_started_while_connecting);
    tcase_add_test(tc, tls_misuse_is_refused);
    suite_add_tcase(s, tc);
    int status = unit_run(s);
    free_contexts();
    return status;
}
