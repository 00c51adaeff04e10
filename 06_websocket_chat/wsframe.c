/* wsframe — see wsframe.h for the story. */
#include "wsframe.h"

#include <stdlib.h>
#include <string.h>

enum { S_HEAD, S_PAYLOAD, S_END };

const char *wsframe_strerror(int code)
{
    switch (code) {
    case WSFRAME_MORE: return "need more bytes";
    case WSFRAME_HEADER: return "a frame header";
    case WSFRAME_DATA: return "frame payload";
    case WSFRAME_FRAME_END: return "the end of a frame";
    case WSFRAME_MESSAGE: return "a whole message";
    case WSFRAME_CONTROL: return "a control frame";
    case WSFRAME_ERSV: return "reserved bit set without a negotiated extension";
    case WSFRAME_EOPCODE: return "reserved opcode";
    case WSFRAME_ECONTROL_FRAG: return "fragmented control frame";
    case WSFRAME_ECONTROL_LEN: return "control frame payload longer than 125 bytes";
    case WSFRAME_ECONT_NO_START: return "continuation frame without a message to continue";
    case WSFRAME_ENOT_CONT: return "new data frame inside a fragmented message";
    case WSFRAME_ELEN_NOT_MINIMAL: return "payload length not in its shortest encoding";
    case WSFRAME_ELEN_TOP_BIT: return "64-bit payload length with the top bit set";
    case WSFRAME_EUNMASKED: return "client frame not masked";
    case WSFRAME_EMASKED: return "server frame masked";
    case WSFRAME_ECLOSE_LEN: return "close payload of one byte";
    case WSFRAME_ECLOSE_CODE: return "close code not allowed on the wire";
    case WSFRAME_EUTF8: return "text message is not valid UTF-8";
    case WSFRAME_ECLOSE_UTF8: return "close reason is not valid UTF-8";
    case WSFRAME_ETOO_BIG: return "message larger than the maximum size";
    case WSFRAME_ENOMEM: return "out of memory";
    default: return "unknown result";
    }
}

int wsframe_close_code(int err)
{
    switch (err) {
    case WSFRAME_EUTF8:
    case WSFRAME_ECLOSE_UTF8: return 1007;
    case WSFRAME_ETOO_BIG: return 1009;
    case WSFRAME_ENOMEM: return 1011;
    default: return 1002;
    }
}

bool wsframe_close_code_valid(int code)
{
    if (code >= 1000 && code <= 1014)
        return code != 1004 && code != 1005 && code != 1006;
    return code >= 3000 && code <= 4999;
}

void wsframe_init(struct wsframe_parser *p, enum wsframe_role role, uint64_t max_message)
{
    memset(p, 0, sizeof *p);
    p->role = role;
    p->max_message = max_message ? max_message : WSFRAME_DEFAULT_MAX_MESSAGE;
    p->hneed = 2;
}

void wsframe_free(struct wsframe_parser *p)
{
    free(p->buf);
    p->buf = NULL;
    p->buf_len = p->buf_cap = 0;
}

static bool is_control(uint8_t opcode)
{
    return opcode & 0x8;
}

/* One step of a UTF-8 check that fails at the first byte that cannot continue a valid
 * sequence. `need` counts the continuation bytes still due and [lo, hi] is the range
 * the next one must fall in: the ranges after E0, ED, F0 and F4 are narrower, which
 * is what rules out overlong forms, surrogates and code points above U+10FFFF. */
static bool utf8_step(uint8_t *need, uint8_t *lo, uint8_t *hi, uint8_t b)
{
    if (*need) {
        if (b < *lo || b > *hi)
            return false;
        --*need;
        *lo = 0x80, *hi = 0xBF;
        return true;
    }
    *lo = 0x80, *hi = 0xBF;
    if (b < 0x80)
        return true;
    if (b >= 0xC2 && b <= 0xDF)
        *need = 1;
    else if (b >= 0xE0 && b <= 0xEF) {
        *need = 2;
        if (b == 0xE0)
            *lo = 0xA0;
        else if (b == 0xED)
            *hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        *need = 3;
        if (b == 0xF0)
            *lo = 0x90;
        else if (b == 0xF4)
            *hi = 0x8F;
    } else
        return false;
    return true;
}

static int fail(struct wsframe_parser *p, int err)
{
    p->error = err;
    return err;
}

/* The first two bytes alone break most rules; checking them at once fails fast. */
static int check_first_two(struct wsframe_parser *p)
{
    uint8_t b0 = p->hbuf[0], b1 = p->hbuf[1];
    uint8_t opcode = b0 & 0x0F, len7 = b1 & 0x7F;
    bool fin = b0 & 0x80, masked = b1 & 0x80;
    if ((b0 >> 4) & 0x7 & ~p->rsv_allowed)
        return WSFRAME_ERSV;
    if (opcode > WSFRAME_BINARY && opcode != WSFRAME_CLOSE && opcode != WSFRAME_PING &&
        opcode != WSFRAME_PONG)
        return WSFRAME_EOPCODE;
    if (is_control(opcode) && !fin)
        return WSFRAME_ECONTROL_FRAG;
    if (is_control(opcode) && len7 > WSFRAME_MAX_CONTROL)
        return WSFRAME_ECONTROL_LEN;
    if (p->role == WSFRAME_SERVER && !masked)
        return WSFRAME_EUNMASKED;
    if (p->role == WSFRAME_CLIENT && masked)
        return WSFRAME_EMASKED;
    if (opcode == WSFRAME_CONT && !p->msg_opcode)
        return WSFRAME_ECONT_NO_START;
    if ((opcode == WSFRAME_TEXT || opcode == WSFRAME_BINARY) && p->msg_opcode)
        return WSFRAME_ENOT_CONT;
    p->hdr = (struct wsframe_header){.fin = fin, .rsv = (b0 >> 4) & 0x7, .opcode = opcode,
                                     .masked = masked, .length = len7};
    p->hneed = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    return 0;
}

/* The whole header is in: the extended length, the mask key, the message's size. */
static int check_rest(struct wsframe_parser *p)
{
    struct wsframe_header *h = &p->hdr;
    const uint8_t *at = p->hbuf + 2;
    if (h->length == 126) {
        h->length = (uint64_t)at[0] << 8 | at[1];
        at += 2;
        if (h->length < 126)
            return WSFRAME_ELEN_NOT_MINIMAL;
    } else if (h->length == 127) {
        h->length = 0;
        for (int i = 0; i < 8; i++)
            h->length = h->length << 8 | at[i];
        at += 8;
        if (h->length <= 0xFFFF)
            return WSFRAME_ELEN_NOT_MINIMAL;
    }
    if (h->masked)
        memcpy(h->mask_key, at, 4);
    if (is_control(h->opcode))
        return 0;
    uint64_t before = h->opcode == WSFRAME_CONT ? p->msg_len : 0;
    if (h->length > p->max_message - before)
        return WSFRAME_ETOO_BIG;
    p->msg_len = before + h->length;
    p->msg_opcode = h->opcode == WSFRAME_CONT ? p->msg_opcode : h->opcode;
    if (h->opcode == WSFRAME_TEXT)
        p->utf8_need = 0;
    return 0;
}

static int parse_header(struct wsframe_parser *p, const uint8_t *buf, size_t len, size_t *used,
                        struct wsframe_event *ev)
{
    size_t i = 0;
    while (i < len && p->hlen < p->hneed) {
        p->hbuf[p->hlen++] = buf[i++];
        int rc = p->hlen == 2 ? check_first_two(p) : 0;
        if (p->hlen == 3 && (p->hbuf[1] & 0x7F) == 127 && (p->hbuf[2] & 0x80))
            rc = WSFRAME_ELEN_TOP_BIT; /* at once, not after 7 more bytes */
        if (!rc && p->hlen == p->hneed)
            rc = check_rest(p);
        if (rc) {
            *used = i;
            return fail(p, rc);
        }
    }
    *used = i;
    if (p->hlen < p->hneed)
        return WSFRAME_MORE;
    p->hlen = 0;
    p->hneed = 2;
    p->done = 0;
    p->ctl_len = 0;
    p->cutf8_need = 0;
    p->state = p->hdr.length ? S_PAYLOAD : S_END;
    ev->hdr = p->hdr;
    return WSFRAME_HEADER;
}

/* utf8_step over data[0, n), eight ASCII bytes at a time between characters (text is
 * mostly ASCII). False, with *bad the index of the byte that proved it, if it is not
 * UTF-8 so far. */
static bool utf8_run(uint8_t *need, uint8_t *lo, uint8_t *hi, const uint8_t *data, size_t n,
                     size_t *bad)
{
    size_t i = 0;
    while (i < n) {
        if (!*need) {
            uint64_t w;
            while (i + 8 <= n && (memcpy(&w, data + i, 8), !(w & 0x8080808080808080ull)))
                i += 8;
            if (i == n)
                break;
        }
        if (!utf8_step(need, lo, hi, data[i])) {
            *bad = i;
            return false;
        }
        i++;
    }
    return true;
}

bool wsframe_utf8_valid(const void *data, size_t len)
{
    uint8_t need = 0, lo = 0x80, hi = 0xBF;
    size_t bad;
    return utf8_run(&need, &lo, &hi, data, len, &bad) && need == 0;
}

/* Checks payload bytes as they come: UTF-8 of a text message, the close code and
 * reason. Returns 0 or an error, with *bad the index of the byte that proved it. */
static int check_payload(struct wsframe_parser *p, const uint8_t *data, size_t n, size_t *bad)
{
    uint8_t op = p->hdr.opcode;
    if (op == WSFRAME_CLOSE) {
        for (size_t i = 0; i < n; i++) {
            uint64_t pos = p->done + i;
            *bad = i;
            if (pos == 1 && !wsframe_close_code_valid(p->ctl[0] << 8 | data[i]))
                return WSFRAME_ECLOSE_CODE;
            if (pos >= 2 && !utf8_step(&p->cutf8_need, &p->cutf8_lo, &p->cutf8_hi, data[i]))
                return WSFRAME_ECLOSE_UTF8;
            p->ctl[pos] = data[i];
        }
        return 0;
    }
    if (is_control(op)) {
        memcpy(p->ctl + p->done, data, n);
        return 0;
    }
    if (p->msg_opcode != WSFRAME_TEXT)
        return 0;
    return utf8_run(&p->utf8_need, &p->utf8_lo, &p->utf8_hi, data, n, bad) ? 0 : WSFRAME_EUTF8;
}

/* A frame's payload is complete: what only its end can prove, and the message's end. */
static int end_frame(struct wsframe_parser *p)
{
    const struct wsframe_header *h = &p->hdr;
    p->state = S_HEAD;
    if (h->opcode == WSFRAME_CLOSE) {
        if (h->length == 1)
            return fail(p, WSFRAME_ECLOSE_LEN);
        if (p->cutf8_need)
            return fail(p, WSFRAME_ECLOSE_UTF8);
    }
    if (is_control(h->opcode))
        p->ctl_len = h->length;
    if (!is_control(h->opcode) && h->fin) {
        if (p->msg_opcode == WSFRAME_TEXT && p->utf8_need)
            return fail(p, WSFRAME_EUTF8);
        p->msg_opcode = 0;
        p->msg_len = 0;
    }
    return WSFRAME_FRAME_END;
}

int wsframe_parse(struct wsframe_parser *p, uint8_t *buf, size_t len, size_t *used,
                  struct wsframe_event *ev)
{
    *used = 0;
    if (p->error)
        return p->error;
    if (p->state == S_HEAD)
        return parse_header(p, buf, len, used, ev);
    ev->hdr = p->hdr;
    if (p->state == S_END)
        return end_frame(p);
    uint64_t left = p->hdr.length - p->done;
    size_t n = len < left ? len : (size_t)left;
    if (!n)
        return WSFRAME_MORE;
    if (p->hdr.masked)
        wsframe_mask(buf, n, p->hdr.mask_key, p->done);
    size_t bad = 0;
    int rc = check_payload(p, buf, n, &bad);
    if (rc) {
        *used = bad + 1;
        return fail(p, rc);
    }
    *used = n;
    p->done += n;
    if (p->done == p->hdr.length)
        p->state = S_END;
    ev->data = buf;
    ev->len = n;
    return WSFRAME_DATA;
}

#define BUF_KEEP ((size_t)1 << 20) /* a reassembly buffer bigger than this is freed */

static int append(struct wsframe_parser *p, const uint8_t *data, size_t n)
{
    if (p->buf_len + n + 1 > p->buf_cap) { /* + 1: the NUL after a message */
        size_t cap = p->buf_cap ? p->buf_cap : 256;
        while (cap < p->buf_len + n + 1)
            cap *= 2;
        uint8_t *grown = realloc(p->buf, cap);
        if (!grown)
            return fail(p, WSFRAME_ENOMEM);
        p->buf = grown;
        p->buf_cap = cap;
    }
    if (n)
        memcpy(p->buf + p->buf_len, data, n);
    p->buf_len += n;
    return 0;
}

static void fill_control(const struct wsframe_parser *p, struct wsframe_message *m)
{
    *m = (struct wsframe_message){.opcode = p->hdr.opcode, .data = p->ctl, .len = p->ctl_len};
    if (p->hdr.opcode != WSFRAME_CLOSE)
        return;
    m->close_code = 1005;
    if (p->ctl_len >= 2) {
        m->close_code = p->ctl[0] << 8 | p->ctl[1];
        m->reason = (const char *)p->ctl + 2;
        m->reason_len = p->ctl_len - 2;
    }
}

int wsframe_next(struct wsframe_parser *p, uint8_t *buf, size_t len, size_t *used,
                 struct wsframe_message *m)
{
    *used = 0;
    for (;;) {
        struct wsframe_event ev;
        size_t took;
        int rc = wsframe_parse(p, buf + *used, len - *used, &took, &ev);
        *used += took;
        if (rc <= 0)
            return rc;
        bool control = is_control(ev.hdr.opcode);
        if (rc == WSFRAME_HEADER && ev.hdr.opcode != WSFRAME_CONT && !control) {
            p->buf_len = 0;
            p->buf_opcode = ev.hdr.opcode;
            /* A whole message in one frame, all in this slice: no copy. */
            p->in_place = ev.hdr.fin && ev.hdr.length <= len - *used;
            p->in_place_data = NULL;
            if (p->buf_cap > BUF_KEEP) { /* a big message's buffer is not kept for ever */
                free(p->buf);
                p->buf = NULL;
                p->buf_cap = 0;
            }
        }
        if (rc == WSFRAME_DATA && !control && p->in_place) {
            if (!p->in_place_data)
                p->in_place_data = ev.data; /* the payload is one run of buf */
        } else if (rc == WSFRAME_DATA && !control) {
            int err = append(p, ev.data, ev.len);
            if (err)
                return err;
        }
        if (rc != WSFRAME_FRAME_END)
            continue;
        if (control) {
            fill_control(p, m);
            return WSFRAME_CONTROL;
        }
        if (ev.hdr.fin && p->in_place) {
            p->in_place = false;
            *m = (struct wsframe_message){.opcode = p->buf_opcode, .in_place = true,
                                          .data = p->in_place_data ? p->in_place_data
                                                                   : (const uint8_t *)"",
                                          .len = ev.hdr.length};
            return WSFRAME_MESSAGE;
        }
        if (ev.hdr.fin) {
            int err = append(p, NULL, 0); /* an empty message has no buffer yet */
            if (err)
                return err;
            p->buf[p->buf_len] = '\0';
            *m = (struct wsframe_message){.opcode = p->buf_opcode, .data = p->buf,
                                          .len = p->buf_len};
            return WSFRAME_MESSAGE;
        }
    }
}

void wsframe_mask(uint8_t *data, size_t len, const uint8_t key[4], uint64_t offset)
{
    size_t i = 0;
    for (; i < len && ((offset + i) & 3); i++)
        data[i] ^= key[(offset + i) & 3];
    /* Now at a key boundary: eight bytes at a time with the key twice over. */
    uint32_t k4;
    memcpy(&k4, key, 4);
    uint64_t k8 = (uint64_t)k4 << 32 | k4;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, data + i, 8);
        w ^= k8;
        memcpy(data + i, &w, 8);
    }
    for (; i < len; i++)
        data[i] ^= key[(offset + i) & 3];
}

size_t wsframe_build_header(uint8_t *out, bool fin, uint8_t opcode, uint64_t length,
                            const uint8_t *mask_key)
{
    size_t n = 2;
    out[0] = (fin ? 0x80 : 0) | (opcode & 0x0F);
    uint8_t mask_bit = mask_key ? 0x80 : 0;
    if (length < 126) {
        out[1] = mask_bit | (uint8_t)length;
    } else if (length <= 0xFFFF) {
        out[1] = mask_bit | 126;
        out[2] = (uint8_t)(length >> 8);
        out[3] = (uint8_t)length;
        n = 4;
    } else {
        out[1] = mask_bit | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(length >> (56 - 8 * i));
        n = 10;
    }
    if (mask_key) {
        memcpy(out + n, mask_key, 4);
        n += 4;
    }
    return n;
}

size_t wsframe_build(uint8_t *out, size_t cap, bool fin, uint8_t opcode, const void *payload,
                     size_t len, const uint8_t *mask_key)
{
    uint8_t head[WSFRAME_MAX_HEADER];
    size_t hn = wsframe_build_header(head, fin, opcode, len, mask_key);
    if (cap < hn + len)
        return hn + len;
    memcpy(out, head, hn);
    if (len)
        memcpy(out + hn, payload, len);
    if (mask_key)
        wsframe_mask(out + hn, len, mask_key, 0);
    return hn + len;
}

size_t wsframe_build_close(uint8_t *out, size_t cap, int code, const char *reason,
                           size_t reason_len, const uint8_t *mask_key)
{
    uint8_t payload[WSFRAME_MAX_CONTROL];
    size_t n = 0;
    if (reason_len > WSFRAME_MAX_CONTROL - 2)
        return 0;
    if (code) {
        payload[0] = (uint8_t)(code >> 8);
        payload[1] = (uint8_t)code;
        if (reason_len)
            memcpy(payload + 2, reason, reason_len);
        n = 2 + reason_len;
    }
    return wsframe_build(out, cap, true, WSFRAME_CLOSE, payload, n, mask_key);
}
