/* wsframe — WebSocket frames (RFC 6455 §5) as bytes in, events out, with no sockets.
 *
 * This is the part of Tornado's WebSocketProtocol13 that never touches a stream, in the
 * manner of wslay: the connection code feeds it what it read, and it says what arrived.
 * Because it is sans-I/O it is tested with byte strings and fuzzed.
 *
 * Two layers, one parser. wsframe_parse() is the frame layer: it returns one event at a
 * time — a frame's header, a run of its payload (unmasked in place, in the caller's
 * buffer), the frame's end — and says in *used how many bytes it took. Call it again
 * with the rest; WSFRAME_MORE means every byte was taken and more are needed. Slices
 * may be any size, down to one byte: the results are the same.
 * wsframe_next() is the message layer on top: it reassembles fragmented messages into
 * a buffer of its own and returns whole text/binary messages, and pings, pongs and
 * closes (which may arrive between the fragments of a message).
 *
 * Strictness is on purpose (Tornado is lax, see tornado-semantics.md §7). Every rule of
 * the RFC is checked as soon as the bytes that break it arrive, and an error says the
 * close code to send (wsframe_close_code) and what was wrong (wsframe_strerror):
 *   1002  RSV bits not negotiated, unknown opcode, control frame fragmented or longer
 *         than 125, continuation without a start, new data frame inside a fragmented
 *         message, a length not in its shortest form or with the top bit set, a client
 *         frame not masked (server side), a server frame masked (client side), a close
 *         payload of one byte or with a code not allowed on the wire;
 *   1007  a text message or a close reason that is not UTF-8 — found at the first byte
 *         that proves it, across frames and slices, not after reassembly;
 *   1009  a message longer than max_message_size, found from the frame headers before
 *         its payload is read.
 * After an error the parser stays failed: every call returns the same error.
 *
 * Close codes (§7.4, IANA registry): 1000-1003, 1007-1011, 3000-4999 are accepted, and so
 * are 1012-1014 (Service Restart, Try Again Later, Bad Gateway): they are registered and
 * servers send them. 0-999, 1004-1006, 1015 and 1016-2999 are refused: 1005 and 1006 and
 * 1015 exist only as reports inside an endpoint, never on the wire.
 *
 * The builder writes frames: wsframe_build() a data or control frame, masked with the
 * caller's 4-byte key (a client draws it from getrandom) or not, wsframe_build_close() a
 * close frame with a code and reason. A fragmented message is frames with fin = false,
 * the first with its opcode and the others WSFRAME_CONT, the last with fin = true.
 */
#ifndef WSFRAME_H
#define WSFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wsframe_opcode {
    WSFRAME_CONT = 0x0,
    WSFRAME_TEXT = 0x1,
    WSFRAME_BINARY = 0x2,
    WSFRAME_CLOSE = 0x8,
    WSFRAME_PING = 0x9,
    WSFRAME_PONG = 0xA,
};

/* Results. 0 and the positive codes are progress; every negative code is an error. */
enum {
    WSFRAME_MORE = 0,      /* all bytes taken; feed more */
    WSFRAME_HEADER = 1,    /* wsframe_parse: ev->hdr holds a new frame's header */
    WSFRAME_DATA = 2,      /* wsframe_parse: ev->data, ev->len are payload, unmasked */
    WSFRAME_FRAME_END = 3, /* wsframe_parse: the frame's payload is complete */
    WSFRAME_MESSAGE = 4,   /* wsframe_next: a whole text or binary message */
    WSFRAME_CONTROL = 5,   /* wsframe_next: a ping, pong or close frame */

    WSFRAME_ERSV = -1,           /* RSV bit set without a negotiated extension */
    WSFRAME_EOPCODE = -2,        /* reserved opcode */
    WSFRAME_ECONTROL_FRAG = -3,  /* control frame without FIN */
    WSFRAME_ECONTROL_LEN = -4,   /* control frame payload over 125 bytes */
    WSFRAME_ECONT_NO_START = -5, /* continuation frame with no message to continue */
    WSFRAME_ENOT_CONT = -6,      /* text/binary frame inside a fragmented message */
    WSFRAME_ELEN_NOT_MINIMAL = -7, /* 16/64-bit length that would fit a shorter form */
    WSFRAME_ELEN_TOP_BIT = -8,   /* 64-bit length with its top bit set */
    WSFRAME_EUNMASKED = -9,      /* server side: client frame without mask */
    WSFRAME_EMASKED = -10,       /* client side: server frame with mask */
    WSFRAME_ECLOSE_LEN = -11,    /* close payload of one byte */
    WSFRAME_ECLOSE_CODE = -12,   /* close code not allowed on the wire */
    WSFRAME_EUTF8 = -13,         /* text message not UTF-8 */
    WSFRAME_ECLOSE_UTF8 = -14,   /* close reason not UTF-8 */
    WSFRAME_ETOO_BIG = -15,      /* message over max_message_size */
    WSFRAME_ENOMEM = -16,
};

/* What the error code means, in one sentence; never NULL. */
const char *wsframe_strerror(int code);

/* The close code to send for an error: 1002, 1007, 1009, or 1011 for WSFRAME_ENOMEM. */
int wsframe_close_code(int err);

/* Whether a close code may appear in a close frame (see the top of this file). */
bool wsframe_close_code_valid(int code);

enum wsframe_role {
    WSFRAME_SERVER, /* reads client frames, which must be masked */
    WSFRAME_CLIENT, /* reads server frames, which must not be */
};

#define WSFRAME_DEFAULT_MAX_MESSAGE (10 * 1024 * 1024) /* Tornado's 10 MiB */
#define WSFRAME_MAX_CONTROL 125
#define WSFRAME_MAX_HEADER 14 /* 2 + 8 bytes of length + 4 of mask key */

struct wsframe_header {
    bool fin;
    uint8_t rsv;    /* RSV1..3 as bits 2..0 (0x4 is RSV1) */
    uint8_t opcode; /* enum wsframe_opcode */
    bool masked;
    uint8_t mask_key[4];
    uint64_t length;
};

/* One event of wsframe_parse. */
struct wsframe_event {
    struct wsframe_header hdr; /* the current frame's header, from WSFRAME_HEADER on */
    uint8_t *data;             /* WSFRAME_DATA: payload in the caller's buffer */
    size_t len;
};

/* One event of wsframe_next. The bytes are the parser's, valid until the next call, and
 * a MESSAGE's data is followed by a NUL (not counted in len) — except a message that
 * came whole in one frame within the slice given (in_place): its data is then in the
 * caller's buffer, unmasked there, not copied and not NUL-terminated. */
struct wsframe_message {
    uint8_t opcode;      /* TEXT or BINARY for MESSAGE; CLOSE, PING or PONG for CONTROL */
    bool in_place;       /* MESSAGE: data points into the caller's buffer */
    const uint8_t *data; /* the message or control payload (a close's whole payload) */
    size_t len;
    int close_code;      /* CLOSE: the code, or 1005 (none received) for an empty payload */
    const char *reason;  /* CLOSE: the reason, UTF-8, not NUL-terminated */
    size_t reason_len;
};

/* A parser for one connection's incoming direction. Plain data: set it up with
 * wsframe_init and release it with wsframe_free (the message buffer). */
struct wsframe_parser {
    /* settings, kept from wsframe_init; change them before the first byte */
    enum wsframe_role role;
    uint8_t rsv_allowed;   /* RSV bits an extension negotiated (none: 0) */
    uint64_t max_message;  /* bytes of a reassembled message */

    /* private */
    int state;
    int error;
    uint8_t hbuf[WSFRAME_MAX_HEADER];
    size_t hlen, hneed;
    struct wsframe_header hdr;
    uint64_t done;         /* payload bytes of the current frame already returned */
    uint8_t msg_opcode;    /* TEXT/BINARY while a message is open, else 0 */
    uint64_t msg_len;      /* bytes of the open message so far, headers counted */
    uint8_t utf8_need, utf8_lo, utf8_hi; /* the message's UTF-8 check */
    uint8_t cutf8_need, cutf8_lo, cutf8_hi; /* the close reason's */
    uint8_t ctl[WSFRAME_MAX_CONTROL];
    size_t ctl_len;
    bool in_place;         /* wsframe_next: the open message is whole in the slice */
    const uint8_t *in_place_data;
    uint8_t *buf;          /* wsframe_next's reassembly buffer */
    uint8_t buf_opcode;    /* and the opcode of the message in it */
    size_t buf_len, buf_cap;
};

/* Sets up a parser for `role`; max_message 0 means WSFRAME_DEFAULT_MAX_MESSAGE. */
void wsframe_init(struct wsframe_parser *p, enum wsframe_role role, uint64_t max_message);
void wsframe_free(struct wsframe_parser *p);

/* The frame layer: parses buf[0, len) and returns one event (see the top of this file),
 * with *used the bytes it took; the payload of ev is unmasked in buf itself. */
int wsframe_parse(struct wsframe_parser *p, uint8_t *buf, size_t len, size_t *used,
                  struct wsframe_event *ev);

/* The message layer: like wsframe_parse, but returns WSFRAME_MESSAGE, WSFRAME_CONTROL,
 * WSFRAME_MORE or an error. Do not mix it with wsframe_parse on one parser. */
int wsframe_next(struct wsframe_parser *p, uint8_t *buf, size_t len, size_t *used,
                 struct wsframe_message *m);

/* Whether data[0, len) is UTF-8 (RFC 3629: no overlongs, surrogates or code points past
 * U+10FFFF), as the parser checks text; for what is about to be sent as text. */
bool wsframe_utf8_valid(const void *data, size_t len);

/* XORs data with the key, as bytes `offset` onwards of a payload (RFC 6455 §5.3). */
void wsframe_mask(uint8_t *data, size_t len, const uint8_t key[4], uint64_t offset);

/* Writes a frame's header to out and returns its size (at most WSFRAME_MAX_HEADER).
 * mask_key NULL: no mask. */
size_t wsframe_build_header(uint8_t *out, bool fin, uint8_t opcode, uint64_t length,
                            const uint8_t *mask_key);

/* Writes a whole frame, its payload masked if mask_key is not NULL, and returns its
 * size; writes nothing, and returns the size it needs, if cap is smaller. */
size_t wsframe_build(uint8_t *out, size_t cap, bool fin, uint8_t opcode, const void *payload,
                     size_t len, const uint8_t *mask_key);

/* Writes a close frame with `code` (0: an empty payload) and a reason; same return as
 * wsframe_build, but 0 for a reason over 123 bytes (cutting it could split a character). */
size_t wsframe_build_close(uint8_t *out, size_t cap, int code, const char *reason,
                           size_t reason_len, const uint8_t *mask_key);

#endif
