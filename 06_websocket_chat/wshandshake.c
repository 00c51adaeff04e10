/* wshandshake — see wshandshake.h. */
#include "wshandshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define ORIGIN_MAX 512 /* longer Origin or Host values are refused, not compared */

const char *wshs_strerror(int code)
{
    switch (code) {
    case WSHS_OK: return "success";
    case WSHS_ENOMEM: return "out of memory";
    case WSHS_EURL: return "not an absolute ws:// or wss:// URL without a fragment";
    case WSHS_ERANDOM: return "getrandom failed: no key could be made";
    case WSHS_ESTATUS: return "the server did not answer 101 Switching Protocols";
    case WSHS_EUPGRADE: return "the server's 101 has no \"Upgrade: websocket\"";
    case WSHS_ECONNECTION: return "the server's 101 has no \"Connection: upgrade\"";
    case WSHS_EACCEPT: return "Sec-WebSocket-Accept is missing, repeated or not our key's";
    case WSHS_EPROTOCOL: return "the server chose a subprotocol we did not offer";
    case WSHS_EEXTENSION: return "the server chose an extension we did not offer";
    default: return "unknown error";
    }
}

void wshs_accept(const char *key, size_t len, char out[WSHS_ACCEPT_LEN + 1])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) || !EVP_DigestUpdate(ctx, key, len) ||
        !EVP_DigestUpdate(ctx, WSHS_GUID, strlen(WSHS_GUID)) ||
        !EVP_DigestFinal_ex(ctx, md, NULL))
        abort(); /* only when memory runs out: like the loop, give up */
    EVP_MD_CTX_free(ctx);
    EVP_EncodeBlock((unsigned char *)out, md, sizeof md);
}

bool wshs_key_valid(const char *key, size_t len)
{
    if (len != WSHS_KEY_LEN || key[22] != '=' || key[23] != '=')
        return false;
    /* Decoding takes the padding as two zero bytes (18); re-encoding the 16 that count
     * must give the key back, which refuses stray bits in its last character. */
    unsigned char raw[18];
    char again[WSHS_KEY_LEN + 1];
    if (EVP_DecodeBlock(raw, (const unsigned char *)key, WSHS_KEY_LEN) != 18)
        return false;
    EVP_EncodeBlock((unsigned char *)again, raw, 16);
    return memcmp(again, key, WSHS_KEY_LEN) == 0;
}

/* Whether s has none of the bytes in `bad`. */
static bool none_of(struct http1_str s, const char *bad)
{
    for (size_t i = 0; i < s.len; i++)
        if (!s.p[i] || strchr(bad, s.p[i]))
            return false;
    return true;
}

/* Parses scheme "://" authority as a URL; false if it is not one or is too long. */
static bool parse_authority(struct url *u, const char *scheme, struct http1_str auth)
{
    char text[ORIGIN_MAX + 16];
    if (auth.len == 0 || auth.len > ORIGIN_MAX || !none_of(auth, "/?#@"))
        return false;
    snprintf(text, sizeof text, "%s://%.*s", scheme, (int)auth.len, auth.p);
    return url_parse(u, text) == URL_OK;
}

bool wshs_same_origin(struct http1_str origin, struct http1_str host)
{
    /* A serialized origin is scheme "://" host [":" port], nothing more (RFC 6454 §6.2). */
    const char *sep = memmem(origin.p, origin.len, "://", 3);
    if (!sep)
        return false;
    size_t slen = (size_t)(sep - origin.p);
    struct http1_str scheme = {origin.p, slen};
    struct http1_str auth = {sep + 3, origin.len - slen - 3};
    const char *s = http1_str_ieq(scheme, "http")    ? "http"
                    : http1_str_ieq(scheme, "https") ? "https"
                                                     : NULL;
    if (!s)
        return false;
    struct url o = {0}, h = {0}; /* a failed parse leaves them empty: freeing is safe */
    bool same = parse_authority(&o, s, auth) && parse_authority(&h, s, host) &&
                url_same_origin(&o, &h);
    url_free(&o);
    url_free(&h);
    return same;
}

/* The single field `name`, or NULL when it is missing or repeated. */
static const struct http1_header *single(const struct http1_fields *f, const char *name)
{
    const struct http1_header *h = http1_header_get(f, name);
    return h && !http1_header_next(f, name, h) ? h : NULL;
}

/* The next element of a comma-separated list, without its surrounding whitespace;
 * false at the end. Empty elements are skipped (RFC 9110 §5.6.1). */
static bool next_element(struct http1_str *list, struct http1_str *el)
{
    while (list->len && (*list->p == ',' || *list->p == ' ' || *list->p == '\t'))
        list->p++, list->len--;
    if (!list->len)
        return false;
    const char *comma = memchr(list->p, ',', list->len);
    size_t n = comma ? (size_t)(comma - list->p) : list->len;
    *el = (struct http1_str){list->p, n};
    while (el->p[el->len - 1] == ' ' || el->p[el->len - 1] == '\t')
        el->len--; /* stops at the first byte, which is neither */
    list->p += n, list->len -= n;
    return true;
}

/* Whether some field `name` lists exactly `sought` (case-sensitive: §4.1). */
static bool lists(const struct http1_fields *f, const char *name, const char *sought)
{
    for (const struct http1_header *h = http1_header_get(f, name); h;
         h = http1_header_next(f, name, h)) {
        struct http1_str list = h->value, el;
        while (next_element(&list, &el))
            if (el.len == strlen(sought) && memcmp(el.p, sought, el.len) == 0)
                return true;
    }
    return false;
}

static const char *choose_subprotocol(const struct http1_fields *f, const char *const *ours)
{
    for (; ours && *ours; ours++)
        if (lists(f, "sec-websocket-protocol", *ours))
            return *ours;
    return NULL;
}

/* vasprintf into *out; false when memory runs out. */
static bool format(char **out, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool format(char **out, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(out, fmt, ap);
    va_end(ap);
    if (n < 0) {
        *out = NULL;
        return false;
    }
    *len = (size_t)n;
    return true;
}

static int refuse(struct wshs_reply *r, int status, const char *why)
{
    const char *reason = status == 405   ? "Method Not Allowed"
                         : status == 426 ? "Upgrade Required"
                         : status == 403 ? "Forbidden"
                                         : "Bad Request";
    const char *extra = status == 405   ? "Allow: GET\r\n"
                        : status == 426 ? "Sec-WebSocket-Version: 13\r\n"
                                        : "";
    *r = (struct wshs_reply){.status = status, .why = why};
    if (!format(&r->head, &r->head_len,
                "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "Content-Length: %zu\r\nConnection: close\r\n%s\r\n%s\n",
                status, reason, strlen(why) + 1, extra, why))
        return WSHS_ENOMEM;
    return WSHS_OK;
}

/* The first refusal the request earns as a status and *why, or 0 for none. */
static int judge(const struct http1_request *req, const struct wshs_server_opts *o,
                 const char **why)
{
    const struct http1_fields *f = &req->headers;
    const struct http1_header *h;
#define NO(status, text) return (*why = (text), (status))
    if (req->method.len != 3 || memcmp(req->method.p, "GET", 3) != 0)
        NO(405, "a WebSocket handshake is a GET");
    if (req->minor_version < 1)
        NO(400, "a WebSocket handshake needs HTTP/1.1");
    if (!single(f, "host"))
        NO(400, "a WebSocket handshake needs exactly one Host");
    if (!http1_header_has_token(f, "upgrade", "websocket"))
        NO(400, "Upgrade must be \"websocket\"");
    if (!http1_header_has_token(f, "connection", "upgrade"))
        NO(400, "Connection must contain \"upgrade\"");
    if (!(h = single(f, "sec-websocket-version")))
        NO(400, "a WebSocket handshake needs exactly one Sec-WebSocket-Version");
    if (h->value.len != 2 || memcmp(h->value.p, "13", 2) != 0)
        NO(426, "only WebSocket version 13 is spoken");
    if (!(h = single(f, "sec-websocket-key")) || !wshs_key_valid(h->value.p, h->value.len))
        NO(400, "Sec-WebSocket-Key must be one base64 value of 16 bytes");
    if ((h = http1_header_get(f, "origin"))) {
        bool ok = !http1_header_next(f, "origin", h) &&
                  (o->check_origin
                       ? o->check_origin(h->value, req, o->check_origin_arg)
                       : wshs_same_origin(h->value, single(f, "host")->value));
        if (!ok)
            NO(403, "cross-origin WebSocket refused");
    }
#undef NO
    return 0;
}

int wshs_server_reply(const struct http1_request *req, const struct wshs_server_opts *opts,
                      struct wshs_reply *r)
{
    static const struct wshs_server_opts none;
    const struct wshs_server_opts *o = opts ? opts : &none;
    const char *why;
    int status = judge(req, o, &why);
    if (status)
        return refuse(r, status, why);
    const struct http1_header *key = single(&req->headers, "sec-websocket-key");
    char accept[WSHS_ACCEPT_LEN + 1];
    wshs_accept(key->value.p, key->value.len, accept);
    *r = (struct wshs_reply){.status = 101,
                             .subprotocol = choose_subprotocol(&req->headers, o->subprotocols)};
    if (!format(&r->head, &r->head_len,
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                accept, r->subprotocol ? "Sec-WebSocket-Protocol: " : "",
                r->subprotocol ? r->subprotocol : "", r->subprotocol ? "\r\n" : ""))
        return WSHS_ENOMEM;
    return WSHS_OK;
}

void wshs_reply_free(struct wshs_reply *r)
{
    free(r->head);
    *r = (struct wshs_reply){0};
}

/* ws -> http and wss -> https (the same default ports, RFC 6455 §3), so that url.h
 * parses it; a fragment is refused (§3: "MUST NOT be used"). */
static int parse_ws_url(struct wshs_client *c, const char *text)
{
    size_t skip = strncasecmp(text, "ws://", 5) == 0    ? 2
                  : strncasecmp(text, "wss://", 6) == 0 ? 3
                                                         : 0;
    if (!skip || strchr(text, '#'))
        return WSHS_EURL;
    c->tls = skip == 3;
    char *http;
    size_t len;
    if (!format(&http, &len, "%s%s", c->tls ? "https" : "http", text + skip))
        return WSHS_ENOMEM;
    int rc = url_parse(&c->url, http);
    free(http);
    return rc == URL_OK ? WSHS_OK : rc == URL_ENOMEM ? WSHS_ENOMEM : WSHS_EURL;
}

/* "a, b, c" from a NULL-terminated list, or "" for none; NULL when memory runs out. */
static char *join(const char *const *list)
{
    char *s = strdup(""), *longer;
    size_t len;
    for (size_t i = 0; s && list && list[i]; i++, s = longer) {
        if (!format(&longer, &len, "%s%s%s", s, i ? ", " : "", list[i]))
            longer = NULL;
        free(s);
    }
    return s;
}

int wshs_client_request(struct wshs_client *c, const char *ws_url,
                        const char *const *subprotocols, const char *origin, char **head,
                        size_t *head_len)
{
    *c = (struct wshs_client){.subprotocols = subprotocols};
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return WSHS_ERANDOM;
    EVP_EncodeBlock((unsigned char *)c->key, raw, sizeof raw);
    int rc = parse_ws_url(c, ws_url);
    if (rc != WSHS_OK)
        return rc;
    char *offer = join(subprotocols);
    bool ok = offer && format(head, head_len,
                              "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                              "Sec-WebSocket-Version: 13\r\n%s%s%s%s%s%s\r\n",
                              c->url.target, c->url.host_header, c->key,
                              *offer ? "Sec-WebSocket-Protocol: " : "", offer,
                              *offer ? "\r\n" : "", origin ? "Origin: " : "",
                              origin ? origin : "", origin ? "\r\n" : "");
    free(offer);
    if (!ok) {
        wshs_client_free(c);
        return WSHS_ENOMEM;
    }
    return WSHS_OK;
}

/* The subprotocol the server chose: must be one field, one element, one we offered. */
static int check_subprotocol(struct wshs_client *c, const struct http1_fields *f)
{
    const struct http1_header *h = http1_header_get(f, "sec-websocket-protocol");
    if (!h)
        return WSHS_OK;
    if (http1_header_next(f, "sec-websocket-protocol", h))
        return WSHS_EPROTOCOL;
    for (const char *const *p = c->subprotocols; p && *p; p++)
        if (h->value.len == strlen(*p) && memcmp(h->value.p, *p, h->value.len) == 0) {
            c->subprotocol = *p;
            return WSHS_OK;
        }
    return WSHS_EPROTOCOL;
}

int wshs_client_check(struct wshs_client *c, const struct http1_response *resp)
{
    const struct http1_fields *f = &resp->headers;
    c->subprotocol = NULL;
    if (resp->status != 101)
        return WSHS_ESTATUS;
    if (!http1_header_has_token(f, "upgrade", "websocket"))
        return WSHS_EUPGRADE;
    if (!http1_header_has_token(f, "connection", "upgrade"))
        return WSHS_ECONNECTION;
    const struct http1_header *h = single(f, "sec-websocket-accept");
    char want[WSHS_ACCEPT_LEN + 1];
    wshs_accept(c->key, WSHS_KEY_LEN, want);
    if (!h || h->value.len != WSHS_ACCEPT_LEN || memcmp(h->value.p, want, WSHS_ACCEPT_LEN) != 0)
        return WSHS_EACCEPT;
    if (http1_header_get(f, "sec-websocket-extensions"))
        return WSHS_EEXTENSION;
    return check_subprotocol(c, f);
}

void wshs_client_free(struct wshs_client *c)
{
    url_free(&c->url);
    *c = (struct wshs_client){0};
}
