/* http1 — RFC 9112 message heads and bodies, sans-I/O. The head parser is one pass
 * left to right over the bytes received so far; it stops with HTTP1_INCOMPLETE where
 * they run out and with an error at the first byte that cannot be right, so a prefix
 * never gives an answer the whole buffer would not. The body decoder is a byte-driven
 * state machine for the same reason. */
#include "http1.h"

#include <stdlib.h>
#include <string.h>

/* A read position in [p, end). */
struct cur {
    const char *p;
    const char *end;
};

static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* field-vchar, SP or HTAB (RFC 9110 §5.5): what a value or reason phrase may hold. */
static bool is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

bool http1_str_ieq(struct http1_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s.p[i]) != lower((unsigned char)lit[i]))
            return false;
    return true;
}

/* Expects CRLF at c->p. A lone CR or LF is refused: it is how one parser sees a line
 * end that another does not. */
static int take_crlf(struct cur *c)
{
    if (c->p == c->end)
        return HTTP1_INCOMPLETE;
    if (*c->p == '\n')
        return HTTP1_EBARE_LF;
    if (*c->p != '\r')
        return HTTP1_EBARE_CR; /* callers only come here on CR or LF */
    if (c->p + 1 == c->end)
        return HTTP1_INCOMPLETE;
    if (c->p[1] != '\n')
        return HTTP1_EBARE_CR;
    c->p += 2;
    return 1;
}

/* "HTTP/" DIGIT "." DIGIT, then the byte `next` must follow (SP or CR). */
static int take_version(struct cur *c, int *minor, char next)
{
    static const char shape[] = "HTTP/9.9";
    for (size_t i = 0; i < 8; i++) {
        if (c->p + i == c->end)
            return HTTP1_INCOMPLETE;
        unsigned char ch = (unsigned char)c->p[i];
        bool ok = shape[i] == '9' ? ch >= '0' && ch <= '9' : ch == (unsigned char)shape[i];
        if (!ok)
            return HTTP1_EVERSION;
    }
    if (c->p + 8 == c->end)
        return HTTP1_INCOMPLETE;
    if (c->p[8] != next && !(next == '\r' && c->p[8] == '\n'))
        return HTTP1_EVERSION;
    if (c->p[5] != '1' || (c->p[7] != '0' && c->p[7] != '1'))
        return HTTP1_EVERSION_UNSUPPORTED;
    *minor = c->p[7] - '0';
    c->p += 8;
    return 1;
}

/* RFC 9112 §2.2: a server SHOULD ignore empty lines before the request line; we do
 * the same before a status line, where old servers leave a CRLF after a body. */
static int skip_empty_lines(struct cur *c)
{
    while (c->p < c->end && (*c->p == '\r' || *c->p == '\n')) {
        int rc = take_crlf(c);
        if (rc <= 0)
            return rc;
    }
    return c->p == c->end ? HTTP1_INCOMPLETE : 1;
}

/* Bytes while pred holds; returns the span, c->p at the first byte that fails. */
static struct http1_str take_while(struct cur *c, bool (*pred)(unsigned char))
{
    struct http1_str s = {c->p, 0};
    while (c->p < c->end && pred((unsigned char)*c->p))
        c->p++;
    s.len = (size_t)(c->p - s.p);
    return s;
}

static bool is_target_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

static int parse_request_line(struct cur *c, struct http1_request *r)
{
    int rc = skip_empty_lines(c);
    if (rc <= 0)
        return rc;
    r->method = take_while(c, is_tchar);
    if (c->p == c->end)
        return HTTP1_INCOMPLETE;
    if (*c->p != ' ' || r->method.len == 0)
        return HTTP1_EMETHOD;
    c->p++;
    r->target = take_while(c, is_target_char);
    if (c->p == c->end)
        return HTTP1_INCOMPLETE;
    if (*c->p != ' ' || r->target.len == 0)
        return HTTP1_ETARGET;
    c->p++;
    rc = take_version(c, &r->minor_version, '\r');
    return rc <= 0 ? rc : take_crlf(c);
}

/* Three digits, 100..999, followed by SP or the line end. */
static int take_status(struct cur *c, int *status)
{
    int v = 0;
    for (int i = 0; i < 3; i++, c->p++) {
        if (c->p == c->end)
            return HTTP1_INCOMPLETE;
        if (*c->p < '0' || *c->p > '9')
            return HTTP1_ESTATUS;
        v = v * 10 + (*c->p - '0');
    }
    if (c->p == c->end)
        return HTTP1_INCOMPLETE;
    if ((*c->p != ' ' && *c->p != '\r' && *c->p != '\n') || v < 100)
        return HTTP1_ESTATUS;
    *status = v;
    return 1;
}

static int parse_status_line(struct cur *c, struct http1_response *r)
{
    int rc = skip_empty_lines(c);
    if (rc <= 0)
        return rc;
    if ((rc = take_version(c, &r->minor_version, ' ')) <= 0)
        return rc;
    c->p++;
    if ((rc = take_status(c, &r->status)) <= 0)
        return rc;
    if (*c->p == ' ')
        c->p++;
    r->reason = take_while(c, is_field_char);
    if (c->p == c->end)
        return HTTP1_INCOMPLETE;
    if (*c->p != '\r' && *c->p != '\n')
        return HTTP1_EREASON;
    return take_crlf(c);
}

/* One field line into *h, or the blank line that ends the block (returns 2). */
static int parse_field_line(struct cur *c, struct http1_header *h)
{
    if (c->p == c->end)
        return HTTP1_INCOMPLETE;
    if (*c->p == '\r' || *c->p == '\n') {
        int rc = take_crlf(c);
        return rc <= 0 ? rc : 2;
    }
    if (is_ws((unsigned char)*c->p))
        return HTTP1_EOBS_FOLD; /* RFC 9112 §5.2: obs-fold is refused, not unfolded */
    h->name = take_while(c, is_tchar);
    if (c->p == c->end)
        return HTTP1_INCOMPLETE;
    if (*c->p != ':' || h->name.len == 0)
        return HTTP1_EHEADER_NAME; /* includes "Name : v", refused by RFC 9112 §5.1 */
    c->p++;
    while (c->p < c->end && is_ws((unsigned char)*c->p))
        c->p++;
    h->value = take_while(c, is_field_char);
    if (c->p == c->end)
        return HTTP1_INCOMPLETE;
    if (*c->p != '\r' && *c->p != '\n')
        return HTTP1_EHEADER_VALUE;
    while (h->value.len && is_ws((unsigned char)h->value.p[h->value.len - 1]))
        h->value.len--;
    return take_crlf(c);
}

static size_t max_headers(const struct http1_limits *lim)
{
    size_t n = lim && lim->max_headers ? lim->max_headers : HTTP1_DEFAULT_MAX_HEADERS;
    return n < HTTP1_MAX_HEADERS ? n : HTTP1_MAX_HEADERS;
}

static size_t max_head(const struct http1_limits *lim)
{
    return lim && lim->max_head ? lim->max_head : HTTP1_DEFAULT_MAX_HEAD;
}

static int parse_fields(struct cur *c, struct http1_fields *f, size_t limit)
{
    f->count = 0;
    for (;;) {
        struct http1_header h;
        int rc = parse_field_line(c, &h);
        if (rc <= 0 || rc == 2)
            return rc;
        if (f->count == limit)
            return HTTP1_ETOO_MANY_HEADERS;
        f->at[f->count++] = h;
    }
}

/* One Content-Length field value: 1*DIGIT, or a list of equal ones ("5, 5"), which
 * RFC 9112 §6.3 lets a recipient take as one. Adds to *seen and checks against *n. */
static int content_length_value(struct http1_str v, uint64_t *n, bool *seen)
{
    const char *p = v.p, *end = v.p + v.len;
    for (;;) {
        while (p < end && is_ws((unsigned char)*p))
            p++;
        if (p == end || *p < '0' || *p > '9')
            return HTTP1_ECONTENT_LENGTH;
        uint64_t x = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (x > (UINT64_MAX - 9) / 10)
                return HTTP1_ECONTENT_LENGTH;
            x = x * 10 + (uint64_t)(*p - '0');
        }
        if (*seen && x != *n)
            return HTTP1_ECONTENT_LENGTH_CONFLICT;
        *n = x;
        *seen = true;
        while (p < end && is_ws((unsigned char)*p))
            p++;
        if (p == end)
            return 0;
        if (*p++ != ',')
            return HTTP1_ECONTENT_LENGTH;
    }
}

/* What Transfer-Encoding fields say, in order of appearance. */
struct te_scan {
    int codings;       /* non-empty list elements */
    int chunked;       /* of which "chunked" */
    bool last_chunked; /* the final coding is chunked */
    bool unknown;      /* a coding we do not know (refused in requests) */
};

static bool is_known_coding(struct http1_str name)
{
    static const char *const known[] = {"gzip", "x-gzip", "deflate", "compress", "x-compress"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (http1_str_ieq(name, known[i]))
            return true;
    return false;
}

/* One Transfer-Encoding value: #( token *( OWS ";" OWS transfer-parameter ) ). */
static int te_value(struct http1_str v, struct te_scan *t)
{
    struct cur c = {v.p, v.p + v.len};
    for (;;) {
        while (c.p < c.end && (is_ws((unsigned char)*c.p) || *c.p == ','))
            c.p++;
        if (c.p == c.end)
            return 0;
        struct http1_str name = take_while(&c, is_tchar);
        if (name.len == 0)
            return HTTP1_ETRANSFER_ENCODING;
        bool chunked = http1_str_ieq(name, "chunked");
        t->codings++;
        t->chunked += chunked;
        t->last_chunked = chunked;
        t->unknown |= !chunked && !is_known_coding(name);
        while (c.p < c.end && is_ws((unsigned char)*c.p))
            c.p++;
        if (c.p < c.end && *c.p == ';') {
            if (chunked)
                return HTTP1_ETRANSFER_ENCODING; /* chunked takes no parameters */
            while (c.p < c.end && *c.p != ',')
                c.p++;
        }
        if (c.p < c.end && *c.p != ',')
            return HTTP1_ETRANSFER_ENCODING;
    }
}

/* Decides the framing from the fields, refusing every combination that two
 * implementations could frame differently (RFC 9112 §6.1, §6.3). */
static int decide_framing(const struct http1_fields *f, int minor, bool request,
                          struct http1_framing *out)
{
    uint64_t cl = 0;
    bool has_cl = false, has_te = false;
    struct te_scan te = {0};
    for (size_t i = 0; i < f->count; i++) {
        int rc = 0;
        if (http1_str_ieq(f->at[i].name, "content-length"))
            rc = content_length_value(f->at[i].value, &cl, &has_cl);
        else if (http1_str_ieq(f->at[i].name, "transfer-encoding")) {
            has_te = true;
            rc = te_value(f->at[i].value, &te);
        }
        if (rc < 0)
            return rc;
    }
    if (has_te && has_cl)
        return HTTP1_ECL_AND_TE;
    if (has_te) {
        if (minor == 0)
            return HTTP1_ETE_HTTP10;
        if (te.codings == 0 || te.chunked > 1)
            return HTTP1_ETRANSFER_ENCODING;
        if (request && (!te.last_chunked || te.unknown))
            return HTTP1_ETRANSFER_ENCODING;
        *out = (struct http1_framing){te.last_chunked ? HTTP1_BODY_CHUNKED : HTTP1_BODY_UNTIL_CLOSE, 0};
    } else if (has_cl) {
        *out = (struct http1_framing){HTTP1_BODY_LENGTH, cl};
    } else {
        *out = (struct http1_framing){request ? HTTP1_BODY_NONE : HTTP1_BODY_UNTIL_CLOSE, 0};
    }
    return 1;
}

/* The bytes parsed are capped at the head limit, so a head that does not end within
 * it is an error however the bytes arrived. */
static int finish_head(int rc, struct cur *c, const char *buf, size_t len, size_t limit)
{
    if (rc == HTTP1_INCOMPLETE && len >= limit)
        return HTTP1_EHEAD_TOO_LARGE;
    return rc <= 0 ? rc : (int)(c->p - buf);
}

int http1_parse_request(const char *buf, size_t len, struct http1_request *req,
                        const struct http1_limits *lim)
{
    size_t limit = max_head(lim);
    struct cur c = {buf, buf + (len < limit ? len : limit)};
    int rc = parse_request_line(&c, req);
    if (rc > 0)
        rc = parse_fields(&c, &req->headers, max_headers(lim));
    if (rc > 0)
        rc = decide_framing(&req->headers, req->minor_version, true, &req->framing);
    return finish_head(rc, &c, buf, len, limit);
}

int http1_parse_response(const char *buf, size_t len, struct http1_response *resp,
                         const struct http1_limits *lim)
{
    size_t limit = max_head(lim);
    struct cur c = {buf, buf + (len < limit ? len : limit)};
    int rc = parse_status_line(&c, resp);
    if (rc > 0)
        rc = parse_fields(&c, &resp->headers, max_headers(lim));
    if (rc > 0)
        rc = decide_framing(&resp->headers, resp->minor_version, false, &resp->framing);
    return finish_head(rc, &c, buf, len, limit);
}

const struct http1_header *http1_header_next(const struct http1_fields *f, const char *name,
                                             const struct http1_header *prev)
{
    size_t i = prev ? (size_t)(prev - f->at) + 1 : 0;
    for (; i < f->count; i++)
        if (http1_str_ieq(f->at[i].name, name))
            return &f->at[i];
    return NULL;
}

const struct http1_header *http1_header_get(const struct http1_fields *f, const char *name)
{
    return http1_header_next(f, name, NULL);
}

/* Whether the comma-separated list v holds token, ignoring case and OWS. */
static bool list_has(struct http1_str v, const char *token)
{
    const char *p = v.p, *end = v.p + v.len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        struct http1_str item = {p, (size_t)(e - p)};
        while (item.len && is_ws((unsigned char)*item.p))
            item.p++, item.len--;
        while (item.len && is_ws((unsigned char)item.p[item.len - 1]))
            item.len--;
        if (http1_str_ieq(item, token))
            return true;
        p = comma ? comma + 1 : end;
    }
    return false;
}

bool http1_header_has_token(const struct http1_fields *f, const char *name, const char *token)
{
    for (const struct http1_header *h = http1_header_get(f, name); h;
         h = http1_header_next(f, name, h))
        if (list_has(h->value, token))
            return true;
    return false;
}

struct http1_framing http1_request_framing(const struct http1_request *req)
{
    return req->framing;
}

static bool str_eq(struct http1_str s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

struct http1_framing http1_response_framing(const struct http1_response *resp,
                                            const char *request_method)
{
    struct http1_str m = {request_method ? request_method : "GET", 0};
    m.len = strlen(m.p);
    int s = resp->status;
    bool tunnel = str_eq(m, "CONNECT") && s / 100 == 2;
    if (str_eq(m, "HEAD") || s / 100 == 1 || s == 204 || s == 304 || tunnel)
        return (struct http1_framing){HTTP1_BODY_NONE, 0};
    return resp->framing;
}

static bool keep_alive(const struct http1_fields *f, int minor)
{
    if (http1_header_has_token(f, "connection", "close"))
        return false;
    return minor == 1 || http1_header_has_token(f, "connection", "keep-alive");
}

bool http1_request_keep_alive(const struct http1_request *req)
{
    return keep_alive(&req->headers, req->minor_version);
}

bool http1_response_keep_alive(const struct http1_response *resp, const char *request_method)
{
    if (http1_response_framing(resp, request_method).kind == HTTP1_BODY_UNTIL_CLOSE)
        return false;
    return keep_alive(&resp->headers, resp->minor_version);
}

/* ---- bodies ---- */

/* The chunked decoder's states, in the order a chunk passes through them. */
enum {
    S_SIZE_FIRST, /* chunk-size: at least one hex digit */
    S_SIZE,
    S_SIZE_WS,    /* BWS after the size: only before ';' */
    S_EXT_NAME_FIRST,
    S_EXT_NAME,
    S_EXT_NAME_WS,  /* BWS after a name: '=' or ';' must follow */
    S_EXT_VAL_FIRST,
    S_EXT_VAL_TOKEN,
    S_EXT_QUOTED,
    S_EXT_QUOTED_ESC,
    S_EXT_VAL_END,  /* after a quoted value: BWS, ';' or CR */
    S_EXT_VAL_WS,   /* BWS after a value: ';' must follow */
    S_SIZE_LF,
    S_DATA,
    S_DATA_CR,
    S_DATA_LF,
    S_TRAILER,      /* buffering trailer lines */
    S_TRAILER_LF,
    S_DONE,
    S_ERROR,
};

int http1_body_init(struct http1_body_decoder *d, struct http1_framing f,
                    const struct http1_limits *lim)
{
    memset(d, 0, sizeof *d);
    d->kind = f.kind;
    d->remaining = f.length;
    d->max_body = lim && lim->max_body ? lim->max_body : HTTP1_DEFAULT_MAX_BODY;
    d->max_trailers = max_head(lim);
    d->max_headers = max_headers(lim);
    d->state = f.kind == HTTP1_BODY_CHUNKED ? S_SIZE_FIRST : S_DATA;
    if (f.kind == HTTP1_BODY_NONE || (f.kind == HTTP1_BODY_LENGTH && f.length == 0))
        d->state = S_DONE;
    if (f.kind == HTTP1_BODY_LENGTH && f.length > d->max_body) {
        d->state = S_ERROR;
        d->error = HTTP1_EBODY_TOO_LARGE;
        return d->error;
    }
    return 0;
}

uint64_t http1_body_wanted(const struct http1_body_decoder *d)
{
    return d->state == S_DATA && !d->error ? d->remaining : 0;
}

void http1_body_free(struct http1_body_decoder *d)
{
    free(d->tbuf);
    free(d->trailers);
    d->tbuf = NULL;
    d->trailers = NULL;
}

static int fail(struct http1_body_decoder *d, int code)
{
    d->state = S_ERROR;
    d->error = code;
    return code;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* qdtext or the characters a quoted-pair may escape (RFC 9110 §5.6.4). */
static bool is_qdtext(unsigned char c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

/* Chunk-size digits: the size grows, and must fit the body limit. */
static int size_digit(struct http1_body_decoder *d, unsigned char c)
{
    int v = hex_value(c);
    if (d->remaining > (UINT64_MAX >> 4))
        return fail(d, HTTP1_ECHUNK_SIZE);
    d->remaining = d->remaining << 4 | (uint64_t)v;
    if (d->remaining > d->max_body - d->total)
        return fail(d, HTTP1_EBODY_TOO_LARGE);
    d->state = S_SIZE;
    return 0;
}

/* After the size line: data, or trailers after the last chunk. */
static void chunk_header_done(struct http1_body_decoder *d)
{
    d->state = d->remaining ? S_DATA : S_TRAILER;
    d->line_len = 0;
}

/* The size line and its extensions, one byte at a time; returns 0 or an error. */
static int size_line_byte(struct http1_body_decoder *d, unsigned char c)
{
    if (++d->line_len > HTTP1_MAX_CHUNK_LINE)
        return fail(d, HTTP1_ECHUNK_LINE_TOO_LONG);
    switch (d->state) {
    case S_SIZE_FIRST:
        return hex_value(c) >= 0 ? size_digit(d, c) : fail(d, HTTP1_ECHUNK_SIZE);
    case S_SIZE:
        if (hex_value(c) >= 0)
            return size_digit(d, c);
        if (is_ws(c))
            d->state = S_SIZE_WS;
        else if (c == ';')
            d->state = S_EXT_NAME_FIRST;
        else if (c == '\r')
            d->state = S_SIZE_LF;
        else
            return fail(d, c == '\n' ? HTTP1_EBARE_LF : HTTP1_ECHUNK_SIZE);
        return 0;
    case S_SIZE_WS:
        if (c == ';')
            d->state = S_EXT_NAME_FIRST;
        else if (!is_ws(c))
            return fail(d, HTTP1_ECHUNK_SIZE);
        return 0;
    case S_EXT_NAME_FIRST:
        if (is_tchar(c))
            d->state = S_EXT_NAME;
        else if (!is_ws(c))
            return fail(d, HTTP1_ECHUNK_EXT);
        return 0;
    case S_EXT_NAME:
    case S_EXT_NAME_WS:
        if (is_tchar(c) && d->state == S_EXT_NAME)
            return 0;
        if (c == '=')
            d->state = S_EXT_VAL_FIRST;
        else if (c == ';')
            d->state = S_EXT_NAME_FIRST;
        else if (is_ws(c))
            d->state = S_EXT_NAME_WS;
        else if (c == '\r' && d->state == S_EXT_NAME)
            d->state = S_SIZE_LF;
        else
            return fail(d, c == '\n' ? HTTP1_EBARE_LF : HTTP1_ECHUNK_EXT);
        return 0;
    case S_EXT_VAL_FIRST:
        if (c == '"')
            d->state = S_EXT_QUOTED;
        else if (is_tchar(c))
            d->state = S_EXT_VAL_TOKEN;
        else if (!is_ws(c))
            return fail(d, HTTP1_ECHUNK_EXT);
        return 0;
    case S_EXT_QUOTED:
        if (c == '"')
            d->state = S_EXT_VAL_END;
        else if (c == '\\')
            d->state = S_EXT_QUOTED_ESC;
        else if (!is_qdtext(c))
            return fail(d, HTTP1_ECHUNK_EXT);
        return 0;
    case S_EXT_QUOTED_ESC:
        if (!is_qdtext(c) && c != '"' && c != '\\')
            return fail(d, HTTP1_ECHUNK_EXT);
        d->state = S_EXT_QUOTED;
        return 0;
    case S_EXT_VAL_TOKEN:
    case S_EXT_VAL_END:
    case S_EXT_VAL_WS:
        if (is_tchar(c) && d->state == S_EXT_VAL_TOKEN)
            return 0;
        if (c == ';')
            d->state = S_EXT_NAME_FIRST;
        else if (is_ws(c))
            d->state = S_EXT_VAL_WS;
        else if (c == '\r' && d->state != S_EXT_VAL_WS)
            d->state = S_SIZE_LF;
        else
            return fail(d, c == '\n' ? HTTP1_EBARE_LF : HTTP1_ECHUNK_EXT);
        return 0;
    case S_SIZE_LF:
        if (c != '\n')
            return fail(d, HTTP1_EBARE_CR);
        chunk_header_done(d);
        return 0;
    }
    return fail(d, HTTP1_ECHUNK_SIZE);
}

/* Parses the buffered trailers into d->trailers; each line was checked already. */
static int trailers_done(struct http1_body_decoder *d)
{
    d->state = S_DONE;
    if (d->trailer_lines == 0)
        return HTTP1_BODY_DONE;
    d->trailers = malloc(sizeof *d->trailers);
    if (!d->trailers)
        return fail(d, HTTP1_ENOMEM);
    struct cur c = {d->tbuf, d->tbuf + d->tlen};
    parse_fields(&c, d->trailers, d->max_headers);
    return HTTP1_BODY_DONE;
}

/* Appends a trailer byte to the decoder's own copy, growing it by doubling. */
static int trailer_append(struct http1_body_decoder *d, char c)
{
    if (d->tlen == d->max_trailers)
        return fail(d, HTTP1_ETRAILERS_TOO_LARGE);
    if (d->tlen == d->tcap) {
        size_t cap = d->tcap ? d->tcap * 2 : 256;
        char *b = realloc(d->tbuf, cap);
        if (!b)
            return fail(d, HTTP1_ENOMEM);
        d->tbuf = b;
        d->tcap = cap;
    }
    d->tbuf[d->tlen++] = c;
    return 0;
}

/* Trailer bytes: each line is checked with the head's field parser when it ends, so
 * an error shows at the same byte however the input was sliced. */
static int trailer_byte(struct http1_body_decoder *d, char c)
{
    if (d->state == S_TRAILER_LF && c != '\n')
        return fail(d, HTTP1_EBARE_CR);
    if (d->state == S_TRAILER && c == '\n')
        return fail(d, HTTP1_EBARE_LF);
    int rc = trailer_append(d, c);
    if (rc < 0)
        return rc;
    if (c == '\r') {
        d->state = S_TRAILER_LF;
        return 0;
    }
    if (c != '\n')
        return 0;
    d->state = S_TRAILER;
    /* In the trailers, line_len is where the current line starts in tbuf. */
    struct cur line = {d->tbuf + d->line_len, d->tbuf + d->tlen};
    struct http1_header h;
    d->line_len = d->tlen;
    rc = parse_field_line(&line, &h);
    if (rc == 2)
        return trailers_done(d);
    if (rc < 0)
        return fail(d, rc);
    if (++d->trailer_lines > d->max_headers)
        return fail(d, HTTP1_ETOO_MANY_HEADERS);
    return 0;
}

/* Chunked framing: walks bytes until data is due, the body ends, or input runs out. */
static int decode_chunked(struct http1_body_decoder *d, const char *in, size_t len,
                          size_t *used, const char **data, size_t *data_len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        int rc = 0;
        if (d->state == S_DATA) {
            uint64_t n = len - i < d->remaining ? len - i : d->remaining;
            *data = in + i;
            *data_len = (size_t)n;
            d->remaining -= n;
            d->total += n;
            if (d->remaining == 0)
                d->state = S_DATA_CR;
            *used = i + (size_t)n;
            return HTTP1_BODY_DATA;
        } else if (d->state == S_DATA_CR || d->state == S_DATA_LF) {
            if (c != (d->state == S_DATA_CR ? '\r' : '\n'))
                rc = fail(d, HTTP1_ECHUNK_DATA);
            else
                d->state = d->state == S_DATA_CR ? S_DATA_LF : S_SIZE_FIRST;
        } else if (d->state == S_TRAILER || d->state == S_TRAILER_LF) {
            rc = trailer_byte(d, (char)c);
        } else {
            rc = size_line_byte(d, c);
        }
        i++;
        if (rc < 0 || rc == HTTP1_BODY_DONE) {
            *used = i;
            return rc;
        }
    }
    *used = i;
    return HTTP1_INCOMPLETE;
}

int http1_body_decode(struct http1_body_decoder *d, const char *in, size_t len,
                      size_t *consumed, const char **data, size_t *data_len)
{
    *consumed = 0;
    *data = NULL;
    *data_len = 0;
    if (d->state == S_ERROR)
        return d->error;
    if (d->state == S_DONE)
        return HTTP1_BODY_DONE;
    if (d->kind == HTTP1_BODY_CHUNKED)
        return decode_chunked(d, in, len, consumed, data, data_len);
    if (len == 0)
        return HTTP1_INCOMPLETE;
    /* A length or until close: the input is body, up to what is left or allowed. */
    uint64_t room = d->kind == HTTP1_BODY_LENGTH ? d->remaining : d->max_body - d->total;
    if (room == 0)
        return fail(d, HTTP1_EBODY_TOO_LARGE);
    size_t n = len < room ? len : (size_t)room;
    d->total += n;
    if (d->kind == HTTP1_BODY_LENGTH && (d->remaining -= n) == 0)
        d->state = S_DONE;
    *data = in;
    *data_len = n;
    *consumed = n;
    return HTTP1_BODY_DATA;
}

int http1_body_finish(struct http1_body_decoder *d)
{
    if (d->state == S_ERROR)
        return d->error;
    if (d->state == S_DONE || d->kind == HTTP1_BODY_UNTIL_CLOSE) {
        d->state = S_DONE;
        return HTTP1_BODY_DONE;
    }
    return fail(d, HTTP1_ETRUNCATED);
}

const char *http1_strerror(int code)
{
    switch (code) {
    case HTTP1_INCOMPLETE: return "incomplete: more bytes are needed";
    case HTTP1_BODY_DATA: return "body data";
    case HTTP1_BODY_DONE: return "body complete";
    case HTTP1_EMETHOD: return "invalid method: empty, or a character that is not allowed in a token";
    case HTTP1_ETARGET: return "invalid request-target: empty, or a space, control or non-ASCII byte";
    case HTTP1_EVERSION: return "malformed HTTP version (expected HTTP/1.0 or HTTP/1.1)";
    case HTTP1_EVERSION_UNSUPPORTED: return "unsupported HTTP version (only HTTP/1.0 and HTTP/1.1)";
    case HTTP1_ESTATUS: return "invalid status code (expected three digits, 100 to 999)";
    case HTTP1_EREASON: return "control character in the reason phrase";
    case HTTP1_EBARE_CR: return "CR not followed by LF";
    case HTTP1_EBARE_LF: return "line ends in LF without CR";
    case HTTP1_EHEADER_NAME: return "invalid header name: empty, not a token, or not followed by ':'";
    case HTTP1_EHEADER_VALUE: return "control character in a header value";
    case HTTP1_EOBS_FOLD: return "header line starts with whitespace (obs-fold is not accepted)";
    case HTTP1_ETOO_MANY_HEADERS: return "too many header lines";
    case HTTP1_EHEAD_TOO_LARGE: return "message head larger than the limit";
    case HTTP1_ECONTENT_LENGTH: return "invalid Content-Length (expected digits only, no sign, no overflow)";
    case HTTP1_ECONTENT_LENGTH_CONFLICT: return "several Content-Length values that differ";
    case HTTP1_ECL_AND_TE: return "both Content-Length and Transfer-Encoding (possible request smuggling)";
    case HTTP1_ETRANSFER_ENCODING: return "invalid Transfer-Encoding (chunked must come once and last; unknown codings are refused in requests)";
    case HTTP1_ETE_HTTP10: return "Transfer-Encoding in an HTTP/1.0 message";
    case HTTP1_ECHUNK_SIZE: return "invalid chunk size (hex digits expected, at most 64 bits)";
    case HTTP1_ECHUNK_EXT: return "malformed chunk extension";
    case HTTP1_ECHUNK_LINE_TOO_LONG: return "chunk size line longer than the limit";
    case HTTP1_ECHUNK_DATA: return "chunk data not followed by CRLF";
    case HTTP1_EBODY_TOO_LARGE: return "body larger than the limit";
    case HTTP1_ETRAILERS_TOO_LARGE: return "trailers larger than the limit";
    case HTTP1_ETRUNCATED: return "connection closed before the body was complete";
    case HTTP1_ENOMEM: return "out of memory";
    }
    return "unknown http1 result code";
}
