/* Unit tests for 06_websocket_chat/wsframe: frames, messages, UTF-8, close payloads.
 *
 * The tables restate, at the parser's level, the cases of the Autobahn TestSuite
 * (crossbario/autobahn-testsuite, case groups 1 to 7; the numbers are in the names) as
 * our own: each case is a list of frames (built with wsframe_build, so the builder is
 * tested too) and the events or the error that must come of them. Autobahn's cases
 * that only differ in how the bytes are cut into TCP writes ("chunked", "in octet-wise
 * chops") are every case here: each one runs on the whole stream and again fed 1, 2, 3,
 * 7 and 64 bytes at a time (each slice in a buffer of its own size, so ASan sees any
 * read past it), and must give the same events, the same error at the same byte.
 * Where our policy is stricter than Tornado's, or the case is not Autobahn's, it says so. */
#include "wsframe.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* First bytes of frames: FIN + opcode, and without FIN for fragments. */
#define TXT 0x81
#define BIN 0x82
#define CLS 0x88
#define PNG 0x89
#define PON 0x8A
#define CNT 0x80
#define TXT_ 0x01
#define BIN_ 0x02
#define CNT_ 0x00
#define RSV1 0x40
#define RSV2 0x20
#define RSV3 0x10

enum { FLIP_MASK = 1, RAW = 2 };

/* One frame: its first byte and payload. p NULL means len bytes of '*' (for a close
 * frame: code 1000, then '*'s). RAW: p is the whole frame's bytes, as they are sent.
 * FLIP_MASK: masked the wrong way for the role (a client that does not mask...). */
struct fr {
    uint8_t b0;
    const char *p;
    size_t len;
    int flags;
};
#define F(b0, s) {b0, s, sizeof(s) - 1, 0}
#define FILL(b0, n) {b0, NULL, n, 0}
#define RAWF(s) {0, s, sizeof(s) - 1, RAW}
#define UNMASKED(b0, s) {b0, s, sizeof(s) - 1, FLIP_MASK}

#define MAX_FR 16

struct wcase {
    const char *name;
    struct fr fr[MAX_FR];
    const char *want;     /* the events, see summarize */
    int err;              /* 0 or the WSFRAME_E* error after them */
    int bad_fr, bad_at;   /* bad_at > 0: the error is found at byte bad_at (from 1) of
                             frame bad_fr's payload, not later (fail-fast); -1: at the
                             end of its header, before the payload */
    int role;
    uint64_t max;
    uint8_t rsv_allowed;
};

static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d}; /* RFC 6455 §5.7's */

/* The stream for a case, and where each frame's payload starts in it. */
static uint8_t *build(const struct wcase *c, size_t *len, size_t *payload_at)
{
    size_t cap = 64, n = 0;
    for (int i = 0; i < MAX_FR && (c->fr[i].b0 || c->fr[i].p || c->fr[i].len); i++)
        cap += c->fr[i].len + WSFRAME_MAX_HEADER;
    uint8_t *out = malloc(cap);
    for (int i = 0; i < MAX_FR && (c->fr[i].b0 || c->fr[i].p || c->fr[i].len); i++) {
        const struct fr *f = &c->fr[i];
        if (f->flags & RAW) {
            payload_at[i] = n;
            memcpy(out + n, f->p, f->len);
            n += f->len;
            continue;
        }
        uint8_t *payload = malloc(f->len + 1);
        if (f->p)
            memcpy(payload, f->p, f->len);
        else {
            memset(payload, '*', f->len);
            if ((f->b0 & 0x0F) == WSFRAME_CLOSE && f->len >= 2)
                payload[0] = 0x03, payload[1] = 0xE8;
        }
        bool masked = (c->role == WSFRAME_SERVER) != !!(f->flags & FLIP_MASK);
        size_t size = wsframe_build(out + n, cap - n, f->b0 & 0x80, f->b0 & 0x0F, payload, f->len,
                                    masked ? key : NULL);
        ck_assert_uint_le(size, cap - n);
        out[n] = f->b0; /* the RSV bits, which the builder never sets */
        payload_at[i] = n + size - f->len;
        n += size;
        free(payload);
    }
    *len = n;
    return out;
}

static void put(char *s, size_t cap, const char *fmt, const void *a, size_t len)
{
    size_t at = strlen(s);
    snprintf(s + at, cap - at, fmt, a, len);
}

/* Appends payload bytes: as they are if printable (and, in text, bytes >= 0x80: UTF-8),
 * as \xHH otherwise; longer than 64: "#len", with "*" if all are '*'. */
static void put_bytes(char *s, size_t cap, const uint8_t *d, size_t len, bool text)
{
    size_t at = strlen(s);
    if (len > 64) {
        size_t stars = 0;
        while (stars < len && d[stars] == '*')
            stars++;
        snprintf(s + at, cap - at, "#%zu%s", len, stars == len ? "*" : "?");
        return;
    }
    for (size_t i = 0; i < len && at + 5 < cap; i++) {
        if (d[i] >= 0x20 && d[i] != 0x7f && (d[i] < 0x80 || text))
            s[at++] = (char)d[i];
        else
            at += (size_t)snprintf(s + at, cap - at, "\\x%02x", d[i]);
    }
    s[at] = '\0';
}

/* What came of a stream: "T:text", "B:bytes", "PING:..", "PONG:..", "CLOSE" (empty) or
 * "CLOSE:code:reason", separated by spaces; the error and the byte where it was found. */
struct outcome {
    char events[4096];
    int err;
    size_t err_at;
};

static void summarize(struct outcome *o, const struct wsframe_message *m)
{
    char *s = o->events;
    size_t cap = sizeof o->events;
    if (*s)
        put(s, cap, "%s", " ", 0);
    switch (m->opcode) {
    case WSFRAME_TEXT: put(s, cap, "%s", "T:", 0); break;
    case WSFRAME_BINARY: put(s, cap, "%s", "B:", 0); break;
    case WSFRAME_PING: put(s, cap, "%s", "PING:", 0); break;
    case WSFRAME_PONG: put(s, cap, "%s", "PONG:", 0); break;
    case WSFRAME_CLOSE:
        if (!m->len) {
            ck_assert_int_eq(m->close_code, 1005);
            put(s, cap, "%s", "CLOSE", 0);
            return;
        }
        snprintf(s + strlen(s), cap - strlen(s), "CLOSE:%d:", m->close_code);
        put_bytes(s, cap, (const uint8_t *)m->reason, m->reason_len, true);
        return;
    default: ck_abort_msg("opcode %d", m->opcode);
    }
    put_bytes(s, cap, m->data, m->len, m->opcode == WSFRAME_TEXT);
}

static void feed(const struct wcase *c, const uint8_t *in, size_t len, size_t step,
                 struct outcome *o)
{
    memset(o, 0, sizeof *o);
    struct wsframe_parser p;
    wsframe_init(&p, c->role, c->max);
    p.rsv_allowed = c->rsv_allowed;
    for (size_t pos = 0; pos < len && !o->err;) {
        size_t n = len - pos < step ? len - pos : step;
        uint8_t *slice = malloc(n);
        memcpy(slice, in + pos, n);
        size_t at = 0;
        for (;;) {
            struct wsframe_message m;
            size_t used;
            int rc = wsframe_next(&p, slice + at, n - at, &used, &m);
            at += used;
            if (rc < 0) {
                o->err = rc;
                o->err_at = pos + at;
                break;
            }
            if (rc == WSFRAME_MORE) {
                ck_assert_uint_eq(at, n);
                break;
            }
            summarize(o, &m);
        }
        free(slice);
        pos += n;
    }
    wsframe_free(&p);
}

static void run_case(const struct wcase *c)
{
    size_t len, payload_at[MAX_FR];
    uint8_t *in = build(c, &len, payload_at);
    struct outcome whole;
    feed(c, in, len, len ? len : 1, &whole);
    ck_assert_msg(strcmp(whole.events, c->want) == 0, "%s: events '%s', want '%s'", c->name,
                  whole.events, c->want);
    ck_assert_msg(whole.err == c->err, "%s: error %d (%s), want %d (%s)", c->name, whole.err,
                  wsframe_strerror(whole.err), c->err, wsframe_strerror(c->err));
    size_t bad = payload_at[c->bad_fr] + (size_t)(c->bad_at > 0 ? c->bad_at : 0);
    if (c->bad_at)
        ck_assert_msg(whole.err_at == bad, "%s: error found at byte %zu, want %zu", c->name,
                      whole.err_at, bad);
    static const size_t steps[] = {1, 2, 3, 7, 64};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        struct outcome sliced;
        feed(c, in, len, steps[i], &sliced);
        ck_assert_msg(strcmp(sliced.events, whole.events) == 0 && sliced.err == whole.err &&
                          sliced.err_at == whole.err_at,
                      "%s: fed %zu at a time: '%s' %d@%zu, whole: '%s' %d@%zu", c->name,
                      steps[i], sliced.events, sliced.err, sliced.err_at, whole.events,
                      whole.err, whole.err_at);
    }
    free(in);
}

#define KOSME "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5" /* "κόσμε", Autobahn's sample */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const struct wcase framing[] = {
    /* ---- 1.1.x text and 1.2.x binary of each length's edge (7, 16, 64-bit lengths) ---- */
    {"1.1.1 text 0", {F(TXT, "")}, "T:"},
    {"1.1.2 text 125", {FILL(TXT, 125)}, "T:#125*"},
    {"1.1.3 text 126", {FILL(TXT, 126)}, "T:#126*"},
    {"1.1.4 text 127", {FILL(TXT, 127)}, "T:#127*"},
    {"1.1.5 text 128", {FILL(TXT, 128)}, "T:#128*"},
    {"1.1.6 text 65535", {FILL(TXT, 65535)}, "T:#65535*"},
    {"1.1.7 text 65536", {FILL(TXT, 65536)}, "T:#65536*"},
    {"1.2.1 binary 0", {F(BIN, "")}, "B:"},
    {"1.2.2 binary 125", {FILL(BIN, 125)}, "B:#125*"},
    {"1.2.3 binary 126", {FILL(BIN, 126)}, "B:#126*"},
    {"1.2.4 binary 127", {FILL(BIN, 127)}, "B:#127*"},
    {"1.2.5 binary 128", {FILL(BIN, 128)}, "B:#128*"},
    {"1.2.6 binary 65535", {FILL(BIN, 65535)}, "B:#65535*"},
    {"1.2.7 binary 65536", {FILL(BIN, 65536)}, "B:#65536*"},
    {"1.2 binary bytes that are not UTF-8 (ours)", {F(BIN, "\x00\xff\xfe")}, "B:\\x00\\xff\\xfe"},
    {"ours: 16-bit length 5 is not minimal", {RAWF("\x81\xfe\x00\x05\0\0\0\0hello")}, "",
     WSFRAME_ELEN_NOT_MINIMAL},
    {"ours: 64-bit length 65535 is not minimal",
     {RAWF("\x82\xff\0\0\0\0\0\0\xff\xff\0\0\0\0")}, "", WSFRAME_ELEN_NOT_MINIMAL},
    {"ours: 64-bit length with the top bit", {RAWF("\x82\xff\x80\0\0\0\0\0\0\x01")}, "",
     WSFRAME_ELEN_TOP_BIT, 0, 3},
    {"ours: unmasked client frame (Tornado accepts it)", {UNMASKED(TXT, "Hello")}, "",
     WSFRAME_EUNMASKED},
    {"ours: client reads an unmasked server frame", {F(TXT, "Hello")}, "T:Hello", 0, 0, 0,
     WSFRAME_CLIENT},
    {"ours: client reads a masked server frame", {UNMASKED(TXT, "Hello")}, "", WSFRAME_EMASKED,
     0, 0, WSFRAME_CLIENT},
    {"ours: message of max_message_size", {FILL(BIN, 100)}, "B:#100*", 0, 0, 0, 0, 100},
    {"ours: frame over max_message_size, refused before its payload", {FILL(BIN, 101)}, "",
     WSFRAME_ETOO_BIG, 0, -1, 0, 100},
    {"ours: fragments over max_message_size", {FILL(BIN_, 60), FILL(CNT, 41)}, "",
     WSFRAME_ETOO_BIG, 1, -1, 0, 100},

    /* ---- 2.x pings and pongs ---- */
    {"2.1 ping, empty", {F(PNG, "")}, "PING:"},
    {"2.2 ping, small text", {F(PNG, "Hello, world!")}, "PING:Hello, world!"},
    {"2.3 ping, small binary", {F(PNG, "\x00\xff\xfe\xfd\xfc\xfb\x00\xff")},
     "PING:\\x00\\xff\\xfe\\xfd\\xfc\\xfb\\x00\\xff"},
    {"2.4 ping, 125 bytes", {FILL(PNG, 125)}, "PING:#125*"},
    {"2.5 ping, 126 bytes", {FILL(PNG, 126)}, "", WSFRAME_ECONTROL_LEN},
    {"2.7 unsolicited pong, empty", {F(PON, "")}, "PONG:"},
    {"2.8 unsolicited pong", {F(PON, "unsolicited pong payload")}, "PONG:unsolicited pong payload"},
    {"2.9 unsolicited pong, then ping", {F(PON, "unsolicited pong payload"), F(PNG, "ping payload")},
     "PONG:unsolicited pong payload PING:ping payload"},
    {"2.10 ten pings",
     {F(PNG, "payload-0"), F(PNG, "payload-1"), F(PNG, "payload-2"), F(PNG, "payload-3"),
      F(PNG, "payload-4"), F(PNG, "payload-5"), F(PNG, "payload-6"), F(PNG, "payload-7"),
      F(PNG, "payload-8"), F(PNG, "payload-9")},
     "PING:payload-0 PING:payload-1 PING:payload-2 PING:payload-3 PING:payload-4 "
     "PING:payload-5 PING:payload-6 PING:payload-7 PING:payload-8 PING:payload-9"},

    /* ---- 3.x reserved bits (no extension negotiated) ---- */
    {"3.1 text with RSV=1", {F(TXT | RSV3, "Hello, world!")}, "", WSFRAME_ERSV},
    {"3.2 text, then RSV=2, then ping", {F(TXT, "Hello, world!"), F(TXT | RSV2, "Hello, world!"),
      F(PNG, "")}, "T:Hello, world!", WSFRAME_ERSV},
    {"3.3 text, then RSV=3, then ping", {F(TXT, "Hello, world!"), F(TXT | RSV2 | RSV3, "x"),
      F(PNG, "")}, "T:Hello, world!", WSFRAME_ERSV},
    {"3.4 text, then RSV=4, then ping", {F(TXT, "Hello, world!"), F(TXT | RSV1, "x"), F(PNG, "")},
     "T:Hello, world!", WSFRAME_ERSV},
    {"3.5 binary with RSV=5", {F(BIN | RSV1 | RSV3, "\x00\xff")}, "", WSFRAME_ERSV},
    {"3.6 ping with RSV=6", {F(PNG | RSV1 | RSV2, "Hello")}, "", WSFRAME_ERSV},
    {"3.7 close with RSV=7", {F(CLS | RSV1 | RSV2 | RSV3, "")}, "", WSFRAME_ERSV},
    {"ours: RSV1 with an extension that uses it", {F(TXT | RSV1, "Hello")}, "T:Hello", 0, 0, 0, 0,
     0, 0x4},

    /* ---- 4.x reserved opcodes ---- */
    {"4.1.1 opcode 3", {F(0x83, "")}, "", WSFRAME_EOPCODE},
    {"4.1.2 opcode 4 with payload", {F(0x84, "reserved opcode payload")}, "", WSFRAME_EOPCODE},
    {"4.1.3 text, opcode 5, ping", {F(TXT, "Hello, world!"), F(0x85, ""), F(PNG, "")},
     "T:Hello, world!", WSFRAME_EOPCODE},
    {"4.1.4 text, opcode 6 with payload, ping", {F(TXT, "Hello, world!"), F(0x86, "xyz"), F(PNG, "")},
     "T:Hello, world!", WSFRAME_EOPCODE},
    {"4.1.5 text, opcode 7, ping", {F(TXT, "Hello, world!"), F(0x87, ""), F(PNG, "")},
     "T:Hello, world!", WSFRAME_EOPCODE},
    {"4.2.1 opcode 11", {F(0x8B, "")}, "", WSFRAME_EOPCODE},
    {"4.2.2 opcode 12 with payload", {F(0x8C, "reserved opcode payload")}, "", WSFRAME_EOPCODE},
    {"4.2.3 text, opcode 13, ping", {F(TXT, "Hello, world!"), F(0x8D, ""), F(PNG, "")},
     "T:Hello, world!", WSFRAME_EOPCODE},
    {"4.2.4 text, opcode 14 with payload, ping", {F(TXT, "Hello, world!"), F(0x8E, "xyz")},
     "T:Hello, world!", WSFRAME_EOPCODE},
    {"4.2.5 text, opcode 15, ping", {F(TXT, "Hello, world!"), F(0x8F, ""), F(PNG, "")},
     "T:Hello, world!", WSFRAME_EOPCODE},

    /* ---- 5.x fragmentation ---- */
    {"5.1 ping in 2 fragments", {F(0x09, "fragment1"), F(CNT, "fragment2")}, "",
     WSFRAME_ECONTROL_FRAG},
    {"5.2 pong in 2 fragments", {F(0x0A, "fragment1"), F(CNT, "fragment2")}, "",
     WSFRAME_ECONTROL_FRAG},
    {"5.3 text in 2 fragments", {F(TXT_, "fragment1"), F(CNT, "fragment2")},
     "T:fragment1fragment2"},
    {"5.6 text in 2 fragments, ping between", {F(TXT_, "fragment1"), F(PNG, "ping payload"),
      F(CNT, "fragment2")}, "PING:ping payload T:fragment1fragment2"},
    {"5.9 continuation (FIN) without a start, then text", {F(CNT, "non-continuation payload"),
      F(TXT, "Hello, world!")}, "", WSFRAME_ECONT_NO_START},
    {"5.12 continuation (no FIN) without a start, then text",
     {F(CNT_, "non-continuation payload"), F(TXT, "Hello, world!")}, "", WSFRAME_ECONT_NO_START},
    {"5.15 text in 2 fragments, then continuations without a start",
     {F(TXT_, "fragment1"), F(CNT, "fragment2"), F(CNT_, "fragment3"), F(CNT, "fragment4")},
     "T:fragment1fragment2", WSFRAME_ECONT_NO_START},
    {"5.16 continuation, text, continuation (all without a start)",
     {F(CNT_, "fragment1"), F(TXT_, "fragment2"), F(CNT, "fragment3")}, "",
     WSFRAME_ECONT_NO_START},
    {"5.18 text in 2 fragments, both opcode text", {F(TXT_, "fragment1"), F(TXT, "fragment2")},
     "", WSFRAME_ENOT_CONT},
    {"5.19 text in 5 fragments, pings between",
     {F(TXT_, "fragment1"), F(CNT_, "fragment2"), F(PNG, "pongme 1!"), F(CNT_, "fragment3"),
      F(CNT_, "fragment4"), F(PNG, "pongme 2!"), F(CNT, "fragment5")},
     "PING:pongme 1! PING:pongme 2! T:fragment1fragment2fragment3fragment4fragment5"},
    {"ours: binary in 3 fragments, the middle empty", {F(BIN_, "ab"), F(CNT_, ""), F(CNT, "c")},
     "B:abc"},
    {"ours: binary fragment, then a new binary frame", {F(BIN_, "ab"), F(BIN, "c")}, "",
     WSFRAME_ENOT_CONT},
    {"ours: close between fragments", {F(TXT_, "ab"), F(CLS, "\x03\xe8")}, "CLOSE:1000:"},

    /* ---- 6.x UTF-8 ---- */
    {"6.1.1 text, empty", {F(TXT, "")}, "T:"},
    {"6.1.2 text, 3 empty fragments", {F(TXT_, ""), F(CNT_, ""), F(CNT, "")}, "T:"},
    {"6.1.3 text, empty fragments around a payload",
     {F(TXT_, ""), F(CNT_, "middle frame payload"), F(CNT, "")}, "T:middle frame payload"},
    {"6.2.1 valid UTF-8 in one frame", {F(TXT, "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4-UTF-8!!")},
     "T:Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4-UTF-8!!"},
    {"6.2.2 valid UTF-8 in 2 fragments, cut between code points",
     {F(TXT_, "Hello-\xc2\xb5@"), F(CNT, "\xc3\x9f\xc3\xb6")}, "T:Hello-\xc2\xb5@\xc3\x9f\xc3\xb6"},
    {"6.2.4 kosme, one byte per fragment",
     {F(TXT_, "\xce"), F(CNT_, "\xba"), F(CNT_, "\xe1"), F(CNT_, "\xbd"), F(CNT_, "\xb9"),
      F(CNT_, "\xcf"), F(CNT_, "\x83"), F(CNT_, "\xce"), F(CNT_, "\xbc"), F(CNT_, "\xce"),
      F(CNT, "\xb5")}, "T:" KOSME},
    {"6.3.1 invalid UTF-8 (a surrogate) in one frame", {F(TXT, KOSME "\xed\xa0\x80" "edited")},
     "", WSFRAME_EUTF8, 0, 13},
    {"6.4.1 fail fast: 3 fragments, the 2nd has U+110000",
     {F(TXT_, KOSME), F(CNT_, "\xf4\x90\x80\x80"), F(CNT, "edited")}, "", WSFRAME_EUTF8, 1, 2},
    {"6.4.2 fail fast: U+110000 cut after its first byte",
     {F(TXT_, KOSME "\xf4"), F(CNT_, "\x90\x80\x80"), F(CNT, "edited")}, "", WSFRAME_EUTF8, 1, 1},
    {"6.4.3 fail fast: one frame, the rest never sent",
     {RAWF("\x01\x8f\0\0\0\0" KOSME "\xf4\x90")}, "", WSFRAME_EUTF8, 0, 19},
    {"6.5.1 kosme", {F(TXT, KOSME)}, "T:" KOSME},
    {"6.6.1 kosme prefix, incomplete", {F(TXT, "\xce")}, "", WSFRAME_EUTF8},
    {"6.6.2 kosme prefix", {F(TXT, "\xce\xba")}, "T:\xce\xba"},
    {"6.6.3 kosme prefix, incomplete", {F(TXT, "\xce\xba\xe1")}, "", WSFRAME_EUTF8},
    {"6.6.4 kosme prefix, incomplete", {F(TXT, "\xce\xba\xe1\xbd")}, "", WSFRAME_EUTF8},
    {"6.6.5 kosme prefix", {F(TXT, "\xce\xba\xe1\xbd\xb9")}, "T:\xce\xba\xe1\xbd\xb9"},
    {"6.7.1 first 1-byte sequence, NUL", {F(TXT, "\x00")}, "T:\\x00"},
    {"6.7.2 first 2-byte sequence", {F(TXT, "\xc2\x80")}, "T:\xc2\x80"},
    {"6.7.3 first 3-byte sequence", {F(TXT, "\xe0\xa0\x80")}, "T:\xe0\xa0\x80"},
    {"6.7.4 first 4-byte sequence", {F(TXT, "\xf0\x90\x80\x80")}, "T:\xf0\x90\x80\x80"},
    {"6.8.1 first 5-byte sequence", {F(TXT, "\xf8\x88\x80\x80\x80")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.8.2 first 6-byte sequence", {F(TXT, "\xfc\x84\x80\x80\x80\x80")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.9.1 last 1-byte sequence", {F(TXT, "\x7f")}, "T:\\x7f"},
    {"6.9.2 last 2-byte sequence", {F(TXT, "\xdf\xbf")}, "T:\xdf\xbf"},
    {"6.9.3 last 3-byte sequence", {F(TXT, "\xef\xbf\xbf")}, "T:\xef\xbf\xbf"},
    {"6.9.4 U+10FFFF", {F(TXT, "\xf4\x8f\xbf\xbf")}, "T:\xf4\x8f\xbf\xbf"},
    {"6.10.1 4-byte above U+10FFFF", {F(TXT, "\xf7\xbf\xbf\xbf")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.10.2 5-byte sequence", {F(TXT, "\xfb\xbf\xbf\xbf\xbf")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.10.3 6-byte sequence", {F(TXT, "\xfd\xbf\xbf\xbf\xbf\xbf")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.11.1 U+D7FF", {F(TXT, "\xed\x9f\xbf")}, "T:\xed\x9f\xbf"},
    {"6.11.2 U+E000", {F(TXT, "\xee\x80\x80")}, "T:\xee\x80\x80"},
    {"6.11.3 U+FFFD", {F(TXT, "\xef\xbf\xbd")}, "T:\xef\xbf\xbd"},
    {"6.11.5 U+110000", {F(TXT, "\xf4\x90\x80\x80")}, "", WSFRAME_EUTF8, 0, 2},
    {"6.12.1 lone continuation byte 0x80", {F(TXT, "\x80")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.12.2 lone continuation byte 0xbf", {F(TXT, "\xbf")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.12.3 two continuation bytes", {F(TXT, "\x80\xbf")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.13.1 lonely start 0xc0", {F(TXT, "\xc0\x20\xc1\x20")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.13.2 lonely start 0xe0", {F(TXT, "a\xe0\x20")}, "", WSFRAME_EUTF8, 0, 3},
    {"6.14.2 3-byte, last missing (overlong)", {F(TXT, "\xe0\x80")}, "", WSFRAME_EUTF8, 0, 2},
    {"6.14.6 2-byte, last missing", {F(TXT, "\xdf")}, "", WSFRAME_EUTF8},
    {"6.14.7 3-byte, last missing", {F(TXT, "\xef\xbf")}, "", WSFRAME_EUTF8},
    {"6.14.8 4-byte, last missing", {F(TXT, "\xf7\xbf\xbf")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.16.1 impossible 0xfe", {F(TXT, "\xfe")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.16.2 impossible 0xff", {F(TXT, "\xff")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.17.1 overlong '/', 2 bytes", {F(TXT, "\xc0\xaf")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.17.2 overlong '/', 3 bytes", {F(TXT, "\xe0\x80\xaf")}, "", WSFRAME_EUTF8, 0, 2},
    {"6.17.3 overlong '/', 4 bytes", {F(TXT, "\xf0\x80\x80\xaf")}, "", WSFRAME_EUTF8, 0, 2},
    {"6.18.1 largest overlong, 2 bytes", {F(TXT, "\xc1\xbf")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.18.2 largest overlong, 3 bytes", {F(TXT, "\xe0\x9f\xbf")}, "", WSFRAME_EUTF8, 0, 2},
    {"6.18.3 largest overlong, 4 bytes", {F(TXT, "\xf0\x8f\xbf\xbf")}, "", WSFRAME_EUTF8, 0, 2},
    {"6.19.1 overlong NUL", {F(TXT, "\xc0\x80")}, "", WSFRAME_EUTF8, 0, 1},
    {"6.19.2 overlong NUL, 3 bytes", {F(TXT, "\xe0\x80\x80")}, "", WSFRAME_EUTF8, 0, 2},
    {"6.20.1 surrogate U+D800", {F(TXT, "\xed\xa0\x80")}, "", WSFRAME_EUTF8, 0, 2},
    {"6.20.7 surrogate U+DFFF", {F(TXT, "\xed\xbf\xbf")}, "", WSFRAME_EUTF8, 0, 2},
    {"6.21.1 surrogate pair", {F(TXT, "\xed\xa0\x80\xed\xb0\x80")}, "", WSFRAME_EUTF8, 0, 2},
    {"6.22.1 noncharacter U+FFFE is valid", {F(TXT, "\xef\xbf\xbe")}, "T:\xef\xbf\xbe"},
    {"6.22.33 noncharacter U+10FFFE is valid", {F(TXT, "\xf4\x8f\xbf\xbe")}, "T:\xf4\x8f\xbf\xbe"},
    {"ours: a code point cut across fragments, a ping between",
     {F(TXT_, "\xe1\xbd"), F(PNG, "p"), F(CNT, "\xb9")}, "PING:p T:\xe1\xbd\xb9"},
    {"ours: a message ends inside a code point", {F(TXT_, "a"), F(CNT, "\xe1\xbd")}, "",
     WSFRAME_EUTF8},
    {"ours: an invalid first fragment fails before the message ends",
     {F(TXT_, "\xff"), F(CNT, "a")}, "", WSFRAME_EUTF8, 0, 1},

    /* ---- 7.x close ---- */
    {"7.1.1 text, then close", {F(TXT, "Hello World"), F(CLS, "\x03\xe8")},
     "T:Hello World CLOSE:1000:"},
    {"7.1.2 close twice", {F(CLS, "\x03\xe8"), F(CLS, "\x03\xe8")}, "CLOSE:1000: CLOSE:1000:"},
    {"7.1.3 ping after close", {F(CLS, "\x03\xe8"), F(PNG, "")}, "CLOSE:1000: PING:"},
    {"7.3.1 close, empty", {F(CLS, "")}, "CLOSE"},
    {"7.3.2 close, 1 byte", {F(CLS, "a")}, "", WSFRAME_ECLOSE_LEN},
    {"7.3.3 close, code only", {F(CLS, "\x03\xe8")}, "CLOSE:1000:"},
    {"7.3.4 close, code and reason", {F(CLS, "\x03\xe8Hello World!")}, "CLOSE:1000:Hello World!"},
    {"7.3.5 close, 123-byte reason", {FILL(CLS, 125)}, "CLOSE:1000:#123*"},
    {"7.3.6 close, 124-byte reason", {FILL(CLS, 126)}, "", WSFRAME_ECONTROL_LEN},
    {"7.5.1 close, reason not UTF-8", {F(CLS, "\x03\xe8" KOSME "\xed\xa0\x80" "edited")}, "",
     WSFRAME_ECLOSE_UTF8, 0, 15},
    {"ours: close reason ends inside a code point", {F(CLS, "\x03\xe8\xce")}, "",
     WSFRAME_ECLOSE_UTF8},
    {"ours: close code refused at its second byte", {F(CLS, "\x03\xed" "abc")}, "",
     WSFRAME_ECLOSE_CODE, 0, 2},
};

#pragma GCC diagnostic pop

START_TEST(test_autobahn_table)
{
    run_case(&framing[_i]);
}
END_TEST

/* 7.7.x: codes that must be accepted; 7.9.x and 7.13.x: codes that must be refused. */
static const int valid_codes[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                  3000, 3999, 4000, 4999,
                                  1012, 1013, 1014 /* IANA-registered: our choice */};
static const int invalid_codes[] = {0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, /* 7.9 */
                                    5000, 65535, /* 7.13 */ 1015 /* ours */};

static void close_case(int code, bool valid)
{
    char payload[2] = {(char)(code >> 8), (char)code}, want[32];
    snprintf(want, sizeof want, "CLOSE:%d:", code);
    struct wcase c = {.name = want, .fr = {{CLS, payload, 2, 0}}, .want = valid ? want : "",
                      .err = valid ? 0 : WSFRAME_ECLOSE_CODE, .bad_at = valid ? 0 : 2};
    run_case(&c);
}

START_TEST(test_close_codes)
{
    for (size_t i = 0; i < sizeof valid_codes / sizeof *valid_codes; i++)
        close_case(valid_codes[i], true);
    for (size_t i = 0; i < sizeof invalid_codes / sizeof *invalid_codes; i++)
        close_case(invalid_codes[i], false);
    int n = 0;
    for (int code = 0; code < 65536; code++)
        n += wsframe_close_code_valid(code);
    ck_assert_int_eq(n, 12 + 2000); /* 1000-1003, 1007-1014, 3000-4999 */
}
END_TEST

START_TEST(test_error_close_codes)
{
    ck_assert_int_eq(wsframe_close_code(WSFRAME_ERSV), 1002);
    ck_assert_int_eq(wsframe_close_code(WSFRAME_EUNMASKED), 1002);
    ck_assert_int_eq(wsframe_close_code(WSFRAME_ECLOSE_LEN), 1002);
    ck_assert_int_eq(wsframe_close_code(WSFRAME_EUTF8), 1007);
    ck_assert_int_eq(wsframe_close_code(WSFRAME_ECLOSE_UTF8), 1007);
    ck_assert_int_eq(wsframe_close_code(WSFRAME_ETOO_BIG), 1009);
    for (int e = WSFRAME_ENOMEM; e < 0; e++)
        ck_assert_str_ne(wsframe_strerror(e), "unknown result");
}
END_TEST

/* The frame layer's own events: the header as sent, the payload unmasked in place. */
START_TEST(test_frame_events)
{
    static const size_t lens[] = {0, 5, 126, 70000};
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        size_t len = lens[k];
        uint8_t *payload = malloc(len + 1), *frame = malloc(len + WSFRAME_MAX_HEADER);
        for (size_t i = 0; i < len; i++)
            payload[i] = (uint8_t)(i * 7);
        size_t n = wsframe_build(frame, len + WSFRAME_MAX_HEADER, false, WSFRAME_BINARY, payload,
                                 len, key);
        ck_assert_uint_eq(n, len + 2 + (len > 125 ? (len > 65535 ? 8 : 2) : 0) + 4);
        struct wsframe_parser p;
        wsframe_init(&p, WSFRAME_SERVER, 0);
        struct wsframe_event ev;
        size_t used, at = 0, got = 0;
        ck_assert_int_eq(wsframe_parse(&p, frame, n, &used, &ev), WSFRAME_HEADER);
        ck_assert(!ev.hdr.fin && ev.hdr.masked && ev.hdr.opcode == WSFRAME_BINARY);
        ck_assert_uint_eq(ev.hdr.length, len);
        ck_assert_mem_eq(ev.hdr.mask_key, key, 4);
        at = used;
        int rc;
        while ((rc = wsframe_parse(&p, frame + at, n - at, &used, &ev)) == WSFRAME_DATA) {
            ck_assert_mem_eq(ev.data, payload + got, ev.len);
            got += ev.len;
            at += used;
        }
        ck_assert_int_eq(rc, WSFRAME_FRAME_END);
        ck_assert_uint_eq(got, len);
        ck_assert_int_eq(wsframe_parse(&p, frame + at, n - at, &used, &ev), WSFRAME_MORE);
        wsframe_free(&p);
        free(payload);
        free(frame);
    }
}
END_TEST

START_TEST(test_builder)
{
    uint8_t out[200];
    ck_assert_uint_eq(wsframe_build(out, sizeof out, true, WSFRAME_TEXT, "Hello", 5, NULL), 7);
    ck_assert_mem_eq(out, "\x81\x05Hello", 7); /* RFC 6455 §5.7 */
    ck_assert_uint_eq(wsframe_build(out, sizeof out, true, WSFRAME_TEXT, "Hello", 5, key), 11);
    ck_assert_mem_eq(out, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
    ck_assert_uint_eq(wsframe_build(out, 3, true, WSFRAME_TEXT, "Hello", 5, NULL), 7);
    ck_assert_uint_eq(wsframe_build_header(out, true, WSFRAME_BINARY, 256, NULL), 4);
    ck_assert_mem_eq(out, "\x82\x7e\x01\x00", 4);
    ck_assert_uint_eq(wsframe_build_header(out, true, WSFRAME_BINARY, 65536, NULL), 10);
    ck_assert_mem_eq(out, "\x82\x7f\0\0\0\0\0\x01\0\0", 10);
    ck_assert_uint_eq(wsframe_build_close(out, sizeof out, 1000, "bye", 3, NULL), 7);
    ck_assert_mem_eq(out, "\x88\x05\x03\xe8" "bye", 7);
    ck_assert_uint_eq(wsframe_build_close(out, sizeof out, 0, NULL, 0, NULL), 2);
    char reason[124];
    memset(reason, 'r', sizeof reason);
    ck_assert_uint_eq(wsframe_build_close(out, sizeof out, 1000, reason, 124, NULL), 0);
}
END_TEST

/* After an error the parser stays failed. */
START_TEST(test_error_sticks)
{
    struct wsframe_parser p;
    wsframe_init(&p, WSFRAME_SERVER, 0);
    uint8_t bad[] = {0x83, 0x80, 0, 0, 0, 0}, good[16];
    size_t used, n = wsframe_build(good, sizeof good, true, WSFRAME_TEXT, "a", 1, key);
    struct wsframe_message m;
    ck_assert_int_eq(wsframe_next(&p, bad, sizeof bad, &used, &m), WSFRAME_EOPCODE);
    ck_assert_uint_eq(used, 2);
    ck_assert_int_eq(wsframe_next(&p, good, n, &used, &m), WSFRAME_EOPCODE);
    ck_assert_uint_eq(used, 0);
    wsframe_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wsframe");
    TCase *tc = tcase_create("wsframe");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_autobahn_table, 0, (int)(sizeof framing / sizeof *framing));
    tcase_add_test(tc, test_close_codes);
    tcase_add_test(tc, test_error_close_codes);
    tcase_add_test(tc, test_frame_events);
    tcase_add_test(tc, test_builder);
    tcase_add_test(tc, test_error_sticks);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
