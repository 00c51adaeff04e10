/* http1 — HTTP/1.1 messages as bytes in, results out (RFC 9112), with no sockets.
 *
 * This is the part of Tornado's http1connection that never touches a stream: it reads a
 * request or response head out of a buffer and decodes a body from slices, and the
 * code that owns the socket (iostream, the server, the client) feeds it. Because it is
 * sans-I/O it is tested with byte strings and fuzzed.
 *
 * Heads, picohttpparser's way: call http1_parse_request() or http1_parse_response()
 * with everything received so far. The result is
 *     > 0                 the head is complete and took that many bytes (the body, or
 *                         the next message, starts there);
 *     HTTP1_INCOMPLETE    (0) no error yet, but the head is not complete: read more and
 *                         call again with the longer buffer;
 *     < 0                 an HTTP1_E* error; http1_strerror() says what was wrong.
 * The parser keeps no state between calls, so feeding it a prefix byte by byte ends
 * with the same result as feeding the whole buffer at once.
 *
 * Lifetimes: a parsed head does not copy. Its method, target, reason and header names
 * and values point into the caller's buffer and are not NUL-terminated; they stay valid
 * while that buffer is unchanged. Copy what must outlive it.
 *
 * Strictness is on purpose: a message two parsers read differently is how requests are
 * smuggled. So lines end in CRLF (no bare CR, no bare LF), obs-fold is refused, header
 * names are tokens followed at once by ':', and Content-Length / Transfer-Encoding
 * must agree with each other (see HTTP1_ECL_AND_TE and its neighbours). Only
 * HTTP/1.0 and HTTP/1.1 are spoken.
 *
 * Bodies: http1_request_framing() / http1_response_framing() say how the body ends
 * (none, a length, chunked, or at close), and a struct http1_body_decoder turns the body
 * bytes into data, fed any slices at all. Chunk extensions are checked and skipped;
 * trailers are kept (the decoder's one allocation) and read with the same lookups as
 * headers.
 */
#ifndef HTTP1_H
#define HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Results. 0 and the positive codes are progress; every negative code is an error. */
enum {
    HTTP1_INCOMPLETE = 0,      /* need more bytes (heads and bodies) */
    HTTP1_BODY_DATA = 1,       /* the body decoder emitted a run of body bytes */
    HTTP1_BODY_DONE = 2,       /* the body is complete */

    HTTP1_EMETHOD = -1,        /* method is empty or not a token */
    HTTP1_ETARGET = -2,        /* request-target empty or has a byte that is not visible ASCII */
    HTTP1_EVERSION = -3,       /* not "HTTP/" DIGIT "." DIGIT where one is due */
    HTTP1_EVERSION_UNSUPPORTED = -4, /* well formed, but neither HTTP/1.0 nor HTTP/1.1 */
    HTTP1_ESTATUS = -5,        /* status code is not three digits from 100 to 999 */
    HTTP1_EREASON = -6,        /* control character in the reason phrase */
    HTTP1_EBARE_CR = -7,       /* CR not followed by LF */
    HTTP1_EBARE_LF = -8,       /* LF not preceded by CR */
    HTTP1_EHEADER_NAME = -9,   /* field name empty, not a token, or not followed by ':' */
    HTTP1_EHEADER_VALUE = -10, /* control character (NUL, DEL, ...) in a field value */
    HTTP1_EOBS_FOLD = -11,     /* a field line starts with SP or HTAB */
    HTTP1_ETOO_MANY_HEADERS = -12,
    HTTP1_EHEAD_TOO_LARGE = -13,
    HTTP1_ECONTENT_LENGTH = -14,          /* Content-Length is not 1*DIGIT or overflows */
    HTTP1_ECONTENT_LENGTH_CONFLICT = -15, /* several Content-Length values that differ */
    HTTP1_ECL_AND_TE = -16,    /* Content-Length and Transfer-Encoding together */
    HTTP1_ETRANSFER_ENCODING = -17, /* bad, unknown (requests) or non-final chunked coding */
    HTTP1_ETE_HTTP10 = -18,    /* Transfer-Encoding in an HTTP/1.0 message */
    HTTP1_ECHUNK_SIZE = -19,   /* chunk size missing, not hex, or too big */
    HTTP1_ECHUNK_EXT = -20,    /* malformed chunk extension */
    HTTP1_ECHUNK_LINE_TOO_LONG = -21,
    HTTP1_ECHUNK_DATA = -22,   /* chunk data not followed by CRLF */
    HTTP1_EBODY_TOO_LARGE = -23,
    HTTP1_ETRAILERS_TOO_LARGE = -24,
    HTTP1_ETRUNCATED = -25,    /* the peer closed before the body was complete */
    HTTP1_ENOMEM = -26,
};

/* What the error code means, in one sentence; never NULL. */
const char *http1_strerror(int code);

/* Defaults for a zeroed (or NULL) struct http1_limits, Tornado's: 64 KiB of head and
 * 100 MiB of body. */
#define HTTP1_DEFAULT_MAX_HEAD (64 * 1024)
#define HTTP1_DEFAULT_MAX_HEADERS 100
#define HTTP1_DEFAULT_MAX_BODY (100 * 1024 * 1024)
#define HTTP1_MAX_HEADERS 128      /* room in struct http1_fields */
#define HTTP1_MAX_CHUNK_LINE 4096  /* size line with its extensions, CRLF included */

/* Bounds that keep a hostile peer from using unbounded memory or time. A field left 0
 * takes its default; max_headers is capped at HTTP1_MAX_HEADERS. */
struct http1_limits {
    size_t max_head;    /* start line + fields + blank line, in bytes; trailers too */
    size_t max_headers; /* field lines, in the head and in the trailers */
    uint64_t max_body;  /* decoded body bytes */
};

/* A span of the caller's buffer; not NUL-terminated. */
struct http1_str {
    const char *p;
    size_t len;
};

struct http1_header {
    struct http1_str name;  /* a token, as sent */
    struct http1_str value; /* leading and trailing SP/HTAB removed */
};

/* A message's field lines (or a chunked body's trailers), in the order received. */
struct http1_fields {
    size_t count;
    struct http1_header at[HTTP1_MAX_HEADERS];
};

/* How a body ends (RFC 9112 §6.3). */
enum http1_body_kind {
    HTTP1_BODY_NONE,        /* no body */
    HTTP1_BODY_LENGTH,      /* exactly `length` bytes */
    HTTP1_BODY_CHUNKED,     /* chunked, then trailers */
    HTTP1_BODY_UNTIL_CLOSE, /* responses only: everything until the server closes */
};

struct http1_framing {
    enum http1_body_kind kind;
    uint64_t length; /* for HTTP1_BODY_LENGTH */
};

struct http1_request {
    struct http1_str method; /* case-sensitive token, e.g. "GET" */
    struct http1_str target; /* as sent: "/a?b", "http://h/x", "h:443", "*" */
    int minor_version;       /* 0 or 1 */
    struct http1_fields headers;
    struct http1_framing framing; /* already checked against smuggling */
};

struct http1_response {
    int minor_version;
    int status;               /* 100..999 */
    struct http1_str reason;  /* may be empty */
    struct http1_fields headers;
    struct http1_framing framing; /* what the fields say; see http1_response_framing */
};

/* Parses a request head from buf[0, len). Returns bytes consumed, HTTP1_INCOMPLETE or
 * an error (see the top of this file). Empty lines before the request line are skipped
 * (RFC 9112 §2.2). lim may be NULL. *req is filled only in part unless the result > 0. */
int http1_parse_request(const char *buf, size_t len, struct http1_request *req,
                        const struct http1_limits *lim);

/* Parses a response head; same contract as http1_parse_request. */
int http1_parse_response(const char *buf, size_t len, struct http1_response *resp,
                         const struct http1_limits *lim);

/* The first field named `name` (compared without regard to case), or NULL. */
const struct http1_header *http1_header_get(const struct http1_fields *f, const char *name);

/* The next field named `name` after `prev` (NULL: the first); for repeated fields. */
const struct http1_header *http1_header_next(const struct http1_fields *f, const char *name,
                                             const struct http1_header *prev);

/* Whether some field `name` has `token` among its comma-separated elements, without
 * regard to case: http1_header_has_token(&h, "connection", "close"). */
bool http1_header_has_token(const struct http1_fields *f, const char *name, const char *token);

/* Whether `s` equals the NUL-terminated `lit` without regard to ASCII case. */
bool http1_str_ieq(struct http1_str s, const char *lit);

/* How the request's body ends: none, a length or chunked. */
struct http1_framing http1_request_framing(const struct http1_request *req);

/* How the response's body ends, given the method of the request it answers: none after
 * HEAD, for 1xx, 204 and 304, and for a 2xx to CONNECT (the tunnel starts). A NULL
 * method means GET. */
struct http1_framing http1_response_framing(const struct http1_response *resp,
                                            const char *request_method);

/* Whether the connection may carry another message after this one: HTTP/1.1 unless a
 * Connection token says "close"; HTTP/1.0 only with "keep-alive". */
bool http1_request_keep_alive(const struct http1_request *req);

/* The same for a response, which also ends the connection when its body runs until close. */
bool http1_response_keep_alive(const struct http1_response *resp, const char *request_method);

/* Decodes one body, fed in any slices. Plain data; zero it or call http1_body_init, and
 * call http1_body_free when done with it (it frees the trailers). */
struct http1_body_decoder {
    struct http1_fields *trailers; /* after HTTP1_BODY_DONE of a chunked body that had
                                      trailers, else NULL; names and values point into
                                      the decoder's own copy, valid until http1_body_free */
    uint64_t total;                /* body bytes emitted so far */

    /* private */
    enum http1_body_kind kind;
    int state;
    int error;
    uint64_t remaining;
    uint64_t max_body;
    size_t line_len;
    size_t max_trailers;
    size_t max_headers;
    size_t trailer_lines;
    char *tbuf;
    size_t tlen, tcap;
};

/* Starts decoding a body framed as `f`. Returns 0, or HTTP1_EBODY_TOO_LARGE when a
 * Content-Length is already over lim->max_body. lim may be NULL. */
int http1_body_init(struct http1_body_decoder *d, struct http1_framing f,
                    const struct http1_limits *lim);

/* Consumes bytes of in[0, len), stopping after at most one run of body bytes.
 * *consumed says how many bytes were used; *data and *data_len the run, which points
 * into `in`. Returns
 *     HTTP1_BODY_DATA    a run was emitted: deliver it and call again with the rest
 *                        (the rest may be empty: the decoder may be done);
 *     HTTP1_INCOMPLETE   all of `in` was used and the body goes on: feed more;
 *     HTTP1_BODY_DONE    the body is complete; bytes after *consumed belong to the
 *                        next message;
 *     < 0                an error, which every later call repeats. */
int http1_body_decode(struct http1_body_decoder *d, const char *in, size_t len,
                      size_t *consumed, const char **data, size_t *data_len);

/* How many data bytes the decoder can take next with no line in between: what is left
 * of the Content-Length or of the current chunk. 0 when a line comes next (a chunk size,
 * the CRLF after a chunk, a trailer) or the body is done. A server reading from a stream
 * asks for that many bytes, or else one line, and never reads into the next request. */
uint64_t http1_body_wanted(const struct http1_body_decoder *d);

/* The peer closed the connection: HTTP1_BODY_DONE if that ends the body (it was
 * done, or it runs until close), else HTTP1_ETRUNCATED (or the earlier error). */
int http1_body_finish(struct http1_body_decoder *d);

void http1_body_free(struct http1_body_decoder *d);

#endif
