/* fuzz_frame — libFuzzer on wsframe_parse and wsframe_next. The first byte picks the
 * role, a small or the default max_message_size, the RSV bits allowed and a slice size;
 * the rest is the stream. Invariants: fed whole and fed in slices, each layer gives the
 * same error at the same byte and the same events (headers, payload bytes, messages,
 * close codes; for the frame layer, when no error comes); messages stay under
 * max_message_size, control payloads under 126 bytes, and a close code that came
 * through is one allowed on the wire; a copied message is NUL-terminated, text passes
 * wsframe_utf8_valid. Also wsframe_mask against the one-byte rule and
 * wsframe_utf8_valid against a plain decoder. Built and run by fuzz.sh. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsframe.h"

struct digest {
    uint64_t h;
    int err;
    size_t err_at;
};

static void mix(struct digest *d, const void *data, size_t len)
{
    const uint8_t *b = data;
    for (size_t i = 0; i < len; i++)
        d->h = (d->h ^ b[i]) * 0x100000001b3ULL; /* FNV-1a */
}

static void mix_int(struct digest *d, uint64_t v)
{
    mix(d, &v, sizeof v);
}

struct setup {
    enum wsframe_role role;
    uint64_t max;
    uint8_t rsv;
};

static void start(struct wsframe_parser *p, const struct setup *s)
{
    wsframe_init(p, s->role, s->max);
    p->rsv_allowed = s->rsv;
}

/* Frame layer: payload bytes are mixed without their slicing, which differs. */
static void frame_events(struct wsframe_parser *p, uint8_t *buf, size_t len, size_t base,
                         struct digest *d)
{
    for (size_t at = 0;;) {
        struct wsframe_event ev;
        size_t used;
        int rc = wsframe_parse(p, buf + at, len - at, &used, &ev);
        at += used;
        if (rc < 0) {
            d->err = rc;
            d->err_at = base + at;
            return;
        }
        if (rc == WSFRAME_MORE)
            return;
        if (rc == WSFRAME_HEADER) {
            mix_int(d, ev.hdr.length);
            mix_int(d, ev.hdr.opcode | ev.hdr.rsv << 4 | ev.hdr.fin << 8 | ev.hdr.masked << 9);
        } else if (rc == WSFRAME_DATA)
            mix(d, ev.data, ev.len);
        else
            mix_int(d, 0xE7D);
    }
}

static void message_events(struct wsframe_parser *p, uint8_t *buf, size_t len, size_t base,
                           struct digest *d)
{
    for (size_t at = 0;;) {
        struct wsframe_message m;
        size_t used;
        int rc = wsframe_next(p, buf + at, len - at, &used, &m);
        at += used;
        if (rc < 0) {
            d->err = rc;
            d->err_at = base + at;
            return;
        }
        if (rc == WSFRAME_MORE)
            return;
        if (m.len > p->max_message || (rc == WSFRAME_CONTROL && m.len > WSFRAME_MAX_CONTROL))
            abort();
        if (m.opcode == WSFRAME_CLOSE && m.len && !wsframe_close_code_valid(m.close_code))
            abort();
        /* The whole-buffer check agrees with the incremental one, and the NUL is there. */
        if (rc == WSFRAME_MESSAGE && ((!m.in_place && m.data[m.len] != 0) ||
                                      (m.opcode == WSFRAME_TEXT && !wsframe_utf8_valid(m.data, m.len))))
            abort();
        mix_int(d, m.opcode | (uint64_t)m.close_code << 8);
        mix(d, m.data, m.len);
    }
}

typedef void events_fn(struct wsframe_parser *, uint8_t *, size_t, size_t, struct digest *);

static struct digest run(events_fn *fn, const struct setup *s, const uint8_t *in, size_t len,
                         size_t step)
{
    struct digest d = {.h = 0xcbf29ce484222325ULL};
    struct wsframe_parser p;
    start(&p, s);
    for (size_t pos = 0; pos < len && !d.err; pos += step) {
        size_t n = len - pos < step ? len - pos : step;
        uint8_t *slice = malloc(n);
        memcpy(slice, in + pos, n);
        fn(&p, slice, n, pos, &d);
        free(slice);
    }
    wsframe_free(&p);
    return d;
}

static void check(events_fn *fn, const struct setup *s, const uint8_t *in, size_t len,
                  size_t step)
{
    struct digest whole = run(fn, s, in, len, len ? len : 1);
    struct digest sliced = run(fn, s, in, len, step);
    if (whole.err != sliced.err || whole.err_at != sliced.err_at)
        abort();
    /* Before an error, the frame layer has handed out the payload that came ahead of
     * the bad byte, which is more or less of it as the slices go; messages never differ. */
    if (whole.h != sliced.h && (fn == message_events || !whole.err))
        abort();
    if (whole.err && (!*wsframe_strerror(whole.err) || wsframe_close_code(whole.err) < 1002))
        abort();
}

/* wsframe_mask (eight bytes at a time) against the RFC's one-byte rule, from every
 * offset, and the UTF-8 check against a byte-at-a-time decoder of RFC 3629. */
static void check_mask_and_utf8(const uint8_t *in, size_t len)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t *a = malloc(len + 1), *b = malloc(len + 1);
    for (size_t off = 0; off < 4 && off <= len; off++) {
        memcpy(a, in, len);
        wsframe_mask(a + off, len - off, key, off * 5);
        for (size_t i = off; i < len; i++)
            if (a[i] != (in[i] ^ key[(off * 5 + i - off) & 3]))
                abort();
    }
    memcpy(b, in, len);
    bool ok = true;
    for (size_t i = 0; i < len && ok;) {
        uint8_t c = b[i];
        size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!n || i + n > len) {
            ok = false;
            break;
        }
        uint32_t cp = n == 1 ? c : c & (0x7F >> n);
        for (size_t k = 1; k < n; k++) {
            if ((b[i + k] & 0xC0) != 0x80)
                ok = false;
            cp = cp << 6 | (b[i + k] & 0x3F);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            ok = false;
        i += n;
    }
    if (ok != wsframe_utf8_valid(in, len))
        abort();
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    check_mask_and_utf8(data + 1, size - 1);
    uint8_t pick = data[0];
    struct setup s = {.role = pick & 1 ? WSFRAME_CLIENT : WSFRAME_SERVER,
                      .max = pick & 2 ? 200 : 0,
                      .rsv = pick & 4 ? 0x4 : 0};
    size_t step = 1 + (pick >> 3);
    check(frame_events, &s, data + 1, size - 1, step);
    check(message_events, &s, data + 1, size - 1, step);
    return 0;
}
