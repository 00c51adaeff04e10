/* url — RFC 3986 for the http and https URLs a client fetches. Parsing splits the
 * text into its components, checks each against the RFC's character classes, and
 * writes the normalised pieces into one allocation. Resolution builds the target URL
 * as text by §5.2.2 and parses it like any other, so both paths share the checks. */
#include "url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The components of a reference as written; a NULL pointer means absent. */
struct parts {
    const char *scheme, *auth, *path, *query, *frag;
    size_t scheme_len, auth_len, path_len, query_len, frag_len;
};

static bool is_alpha(unsigned char c)
{
    return (c | 32) >= 'a' && (c | 32) <= 'z';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
    return is_digit(c) || ((c | 32) >= 'a' && (c | 32) <= 'f');
}

static bool is_unreserved(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || (c && strchr("-._~", c));
}

static bool is_sub_delim(unsigned char c)
{
    return c && strchr("!$&'()*+,;=", c) != NULL;
}

/* Checks s[0, n): each byte unreserved, a sub-delim, in `extra`, or a %XX triplet. */
static int check_chars(const char *s, size_t n, const char *extra)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n || !is_hex((unsigned char)s[i + 1]) || !is_hex((unsigned char)s[i + 2]))
                return URL_EPERCENT;
            i += 2;
        } else if (!is_unreserved(c) && !is_sub_delim(c) && !(c && strchr(extra, c))) {
            return URL_ECHAR;
        }
    }
    return URL_OK;
}

/* Splits a reference into scheme, authority, path, query and fragment (RFC 3986
 * appendix B's regular expression, by hand). */
static void split(const char *s, struct parts *p)
{
    memset(p, 0, sizeof *p);
    size_t i = 0;
    if (is_alpha((unsigned char)s[0])) {
        i = 1;
        while (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
               (s[i] && strchr("+-.", s[i])))
            i++;
        if (s[i] == ':') {
            p->scheme = s;
            p->scheme_len = i;
            s += i + 1;
        }
    }
    if (s[0] == '/' && s[1] == '/') {
        p->auth = s + 2;
        p->auth_len = strcspn(p->auth, "/?#");
        s = p->auth + p->auth_len;
    }
    p->path = s;
    p->path_len = strcspn(s, "?#");
    s += p->path_len;
    if (*s == '?') {
        p->query = s + 1;
        p->query_len = strcspn(p->query, "#");
        s = p->query + p->query_len;
    }
    if (*s == '#') {
        p->frag = s + 1;
        p->frag_len = strlen(p->frag);
    }
}

/* The output buffer: every string of a struct url, one after another. */
struct out {
    char *buf;
    size_t len;
};

static const char *put(struct out *o, const char *s, size_t n)
{
    char *start = o->buf + o->len;
    memcpy(start, s, n);
    start[n] = '\0';
    o->len += n + 1;
    return start;
}

/* Writes the concatenation of the NUL-terminated parts (NULL ones skipped). memcpy,
 * not sprintf: the parts may themselves live in the output buffer. */
static const char *put_join(struct out *o, const char *const *parts, size_t n)
{
    char *start = o->buf + o->len, *w = start;
    for (size_t i = 0; i < n; i++) {
        size_t len = parts[i] ? strlen(parts[i]) : 0;
        memcpy(w, parts[i] ? parts[i] : "", len);
        w += len;
    }
    *w = '\0';
    o->len += (size_t)(w - start) + 1;
    return start;
}

/* Percent-decodes s[0, n) into the output; %00 is refused (it would cut the string). */
static int put_decoded(struct out *o, const char *s, size_t n, const char **res)
{
    char *start = o->buf + o->len, *w = start;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            *w = (char)strtol(hex, NULL, 16);
            i += 2;
            if (*w == '\0')
                return URL_EPERCENT;
            w++;
        } else {
            *w++ = s[i];
        }
    }
    *w = '\0';
    o->len += (size_t)(w - start) + 1;
    *res = start;
    return URL_OK;
}

/* dec-octet "." dec-octet "." dec-octet "." dec-octet, no leading zeros. */
static bool is_ipv4(const char *s)
{
    for (int part = 0; part < 4; part++) {
        int v = 0, digits = 0;
        for (; is_digit((unsigned char)*s); s++, digits++)
            if (digits < 3)
                v = v * 10 + (*s - '0');
        if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[-digits] == '0'))
            return false;
        if (part < 3 && *s++ != '.')
            return false;
    }
    return *s == '\0';
}

/* An IPv6 literal "[...]": no zone id, no IPvFuture; stored lowercased, unbracketed. */
static int put_ipv6(struct out *o, struct url *u, const char *h, size_t n)
{
    char addr[INET6_ADDRSTRLEN + 1];
    struct in6_addr bin;
    size_t in = n - 2; /* the caller found the ']' at h[n - 1] */
    if (in == 0 || in >= sizeof addr)
        return URL_EHOST;
    for (size_t i = 0; i < in; i++)
        addr[i] = (char)((h[1 + i] >= 'A' && h[1 + i] <= 'Z') ? h[1 + i] + 32 : h[1 + i]);
    addr[in] = '\0';
    if (inet_pton(AF_INET6, addr, &bin) != 1)
        return URL_EHOST;
    u->host_kind = URL_HOST_IPV6;
    u->host = put(o, addr, in);
    return URL_OK;
}

/* The host, decoded and lowercased into the output, and its kind. */
static int put_host(struct out *o, struct url *u, const char *h, size_t n)
{
    if (n == 0)
        return URL_EHOST;
    if (h[0] == '[')
        return put_ipv6(o, u, h, n);
    int rc = check_chars(h, n, "");
    if (rc != URL_OK)
        return rc == URL_ECHAR ? URL_EHOST : rc;
    const char *host;
    if ((rc = put_decoded(o, h, n, &host)) != URL_OK)
        return rc;
    for (char *w = (char *)host; *w; w++) {
        if (!is_unreserved((unsigned char)*w) && !is_sub_delim((unsigned char)*w))
            return URL_EHOST; /* decoded to something no host name holds */
        if (*w >= 'A' && *w <= 'Z')
            *w = (char)(*w + 32);
    }
    u->host = host;
    if (strspn(host, "0123456789.") == strlen(host)) {
        if (!is_ipv4(host))
            return URL_EHOST; /* looks like an address but is not one */
        u->host_kind = URL_HOST_IPV4;
    }
    return URL_OK;
}

static int parse_port(const char *s, size_t n, uint16_t *port)
{
    unsigned long v = 0;
    if (n == 0)
        return URL_OK; /* "host:" means the default port (RFC 3986 §3.2.3) */
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return URL_EPORT;
        v = v * 10 + (unsigned long)(s[i] - '0');
        if (v > 65535)
            return URL_EPORT;
    }
    if (v == 0)
        return URL_EPORT;
    *port = (uint16_t)v;
    return URL_OK;
}

/* userinfo@host:port → u's user, password, host, port. */
static int parse_authority(struct out *o, struct url *u, const char *a, size_t n)
{
    const char *at = NULL;
    for (size_t i = 0; i < n; i++)
        if (a[i] == '@')
            at = a + i;
    if (at) {
        size_t ulen = (size_t)(at - a);
        int rc = check_chars(a, ulen, ":");
        if (rc != URL_OK)
            return rc;
        const char *colon = memchr(a, ':', ulen);
        size_t name_len = colon ? (size_t)(colon - a) : ulen;
        if ((rc = put_decoded(o, a, name_len, &u->user)) != URL_OK)
            return rc;
        if (colon && (rc = put_decoded(o, colon + 1, ulen - name_len - 1, &u->password)) != URL_OK)
            return rc;
        n -= ulen + 1;
        a = at + 1;
    }
    size_t host_len = n;
    if (n && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close)
            return URL_EHOST;
        host_len = (size_t)(close - a) + 1;
        if (host_len < n && a[host_len] != ':')
            return URL_EHOST;
    } else {
        const char *colon = memchr(a, ':', n);
        host_len = colon ? (size_t)(colon - a) : n;
    }
    int rc = put_host(o, u, a, host_len);
    if (rc != URL_OK)
        return rc;
    return host_len < n ? parse_port(a + host_len + 1, n - host_len - 1, &u->port) : URL_OK;
}

/* "host", "[v6]", with ":port" when it is not the scheme's default. */
static const char *put_host_header(struct out *o, const struct url *u, uint16_t dflt)
{
    char port[8] = "";
    if (u->port != dflt)
        snprintf(port, sizeof port, ":%u", (unsigned)u->port);
    bool v6 = u->host_kind == URL_HOST_IPV6;
    const char *parts[] = {v6 ? "[" : NULL, u->host, v6 ? "]" : NULL, port};
    return put_join(o, parts, 4);
}

/* The scheme, which must be http or https (case-insensitive), and its default port. */
static int check_scheme(const struct parts *p, const char **scheme, uint16_t *port)
{
    if (!p->scheme)
        return URL_ESCHEME;
    if (p->scheme_len == 4 && strncasecmp(p->scheme, "http", 4) == 0) {
        *scheme = "http";
        *port = 80;
    } else if (p->scheme_len == 5 && strncasecmp(p->scheme, "https", 5) == 0) {
        *scheme = "https";
        *port = 443;
    } else {
        return URL_ESCHEME;
    }
    return p->auth ? URL_OK : URL_EAUTHORITY;
}

/* Path, query and fragment characters; the fragment is checked, then dropped. */
static int check_rest(const struct parts *p)
{
    int rc = check_chars(p->path, p->path_len, ":@/");
    if (rc == URL_OK && p->query)
        rc = check_chars(p->query, p->query_len, ":@/?");
    if (rc == URL_OK && p->frag)
        rc = check_chars(p->frag, p->frag_len, ":@/?");
    return rc;
}

/* Fills u from the split text; everything goes into o. */
static int build(struct url *u, struct out *o, const struct parts *p)
{
    const char *scheme;
    uint16_t dflt;
    int rc = check_scheme(p, &scheme, &dflt);
    if (rc == URL_OK)
        rc = check_rest(p);
    if (rc != URL_OK)
        return rc;
    u->scheme = put(o, scheme, strlen(scheme));
    u->port = dflt;
    if ((rc = parse_authority(o, u, p->auth, p->auth_len)) != URL_OK)
        return rc;
    u->host_header = put_host_header(o, u, dflt);

    char *path = o->buf + o->len;
    size_t n = 0;
    if (p->path_len == 0)
        path[n++] = '/';
    memcpy(path + n, p->path, p->path_len);
    n = url_remove_dot_segments(path, n + p->path_len);
    path[n] = '\0';
    u->path = path;
    o->len += n + 1;
    if (p->query)
        u->query = put(o, p->query, p->query_len);

    const char *target[] = {u->path, u->query ? "?" : NULL, u->query};
    u->target = put_join(o, target, 3);

    /* The userinfo as written, through its '@'; the rest normalised. */
    const char *at = p->auth;
    size_t ui = u->user ? (size_t)((const char *)memrchr(at, '@', p->auth_len) - at) + 1 : 0;
    const char *userinfo = put(o, at, ui);
    const char *authority[] = {userinfo, u->host_header};
    u->authority = put_join(o, authority, 2);
    const char *href[] = {u->scheme, "://", u->authority, u->target};
    u->href = put_join(o, href, 4);
    return URL_OK;
}

/* Parses the split text into a fresh allocation; on error nothing is kept. */
static int parse_parts(struct url *u, const struct parts *p, size_t text_len)
{
    memset(u, 0, sizeof *u);
    /* Each output string is at most the input plus a few bytes of punctuation and a
     * port, and there are fewer than 12 of them. */
    size_t cap = 12 * (text_len + 16);
    struct out o = {malloc(cap), 0};
    if (!o.buf)
        return URL_ENOMEM;
    int rc = build(u, &o, p);
    if (rc != URL_OK) {
        free(o.buf);
        memset(u, 0, sizeof *u);
        return rc;
    }
    u->mem_ = o.buf;
    return URL_OK;
}

int url_parse(struct url *u, const char *text)
{
    struct parts p;
    split(text, &p);
    return parse_parts(u, &p, strlen(text));
}

/* Base path up to and including its last '/', then the reference path (§5.2.3). */
static size_t merge(char *dst, const char *base_path, const char *ref, size_t ref_len)
{
    const char *slash = strrchr(base_path, '/');
    size_t keep = slash ? (size_t)(slash - base_path) + 1 : 0;
    memcpy(dst, base_path, keep);
    memcpy(dst + keep, ref, ref_len);
    return keep + ref_len;
}

int url_resolve(struct url *out, const struct url *base, const char *ref)
{
    struct parts r;
    split(ref, &r);
    if (r.scheme)
        return url_parse(out, ref);
    size_t cap = strlen(ref) + strlen(base->href) + 16;
    char *text = malloc(cap);
    if (!text)
        return URL_ENOMEM;
    int n = sprintf(text, "%s://", base->scheme);
    if (r.auth) {
        n += sprintf(text + n, "%.*s%.*s", (int)r.auth_len, r.auth, (int)r.path_len, r.path);
    } else {
        n += sprintf(text + n, "%s", base->authority);
        if (r.path_len == 0)
            n += sprintf(text + n, "%s", base->path);
        else if (r.path[0] == '/')
            n += sprintf(text + n, "%.*s", (int)r.path_len, r.path);
        else
            n += (int)merge(text + n, base->path, r.path, r.path_len);
    }
    text[n] = '\0';
    const char *query = r.query ? r.query : NULL;
    size_t qlen = r.query_len;
    if (!r.auth && r.path_len == 0 && !r.query && base->query) {
        query = base->query;
        qlen = strlen(base->query);
    }
    if (query)
        n += sprintf(text + n, "?%.*s", (int)qlen, query);
    if (r.frag)
        n += sprintf(text + n, "#%.*s", (int)r.frag_len, r.frag);
    struct parts t;
    split(text, &t);
    int rc = parse_parts(out, &t, (size_t)n);
    free(text);
    return rc;
}

/* Drops the output's last segment and the '/' before it. */
static void pop_segment(const char *s, size_t *w)
{
    while (*w > 0 && s[*w - 1] != '/')
        (*w)--;
    if (*w > 0)
        (*w)--;
}

/* RFC 3986 §5.2.4, in place: the output (at w) never overtakes the input (at r), so
 * where the RFC rewrites the input's head to "/" we may write the '/' into it. */
size_t url_remove_dot_segments(char *s, size_t len)
{
    size_t r = 0, w = 0;
    while (r < len) {
        const char *p = s + r;
        size_t n = len - r;
        if (n >= 3 && memcmp(p, "../", 3) == 0) {
            r += 3;
        } else if (n >= 2 && memcmp(p, "./", 2) == 0) {
            r += 2;
        } else if (n >= 3 && memcmp(p, "/./", 3) == 0) {
            r += 2;
        } else if (n == 2 && memcmp(p, "/.", 2) == 0) {
            s[r + 1] = '/';
            r += 1;
        } else if (n >= 4 && memcmp(p, "/../", 4) == 0) {
            r += 3;
            pop_segment(s, &w);
        } else if (n == 3 && memcmp(p, "/..", 3) == 0) {
            s[r + 2] = '/';
            r += 2;
            pop_segment(s, &w);
        } else if ((n == 1 && p[0] == '.') || (n == 2 && memcmp(p, "..", 2) == 0)) {
            r = len;
        } else {
            size_t e = r + (s[r] == '/');
            while (e < len && s[e] != '/')
                e++;
            memmove(s + w, s + r, e - r);
            w += e - r;
            r = e;
        }
    }
    return w;
}

bool url_same_origin(const struct url *a, const struct url *b)
{
    return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0 &&
           a->port == b->port;
}

void url_free(struct url *u)
{
    free(u->mem_);
    memset(u, 0, sizeof *u);
}

const char *url_strerror(int code)
{
    switch (code) {
    case URL_OK: return "ok";
    case URL_ESCHEME: return "not an absolute http or https URL (missing or unsupported scheme)";
    case URL_EAUTHORITY: return "an http(s) URL needs \"//host\" after the scheme";
    case URL_EHOST: return "invalid host: empty, a bad IPv4 or IPv6 address, or a character no host name holds";
    case URL_EPORT: return "invalid port: digits from 1 to 65535 expected";
    case URL_EPERCENT: return "'%' must be followed by two hex digits (and %00 is not allowed in user or password)";
    case URL_ECHAR: return "a character a URL may not contain (space, quote, '<', '>', '\\', '^', '`', '{', '|', '}', control or non-ASCII)";
    case URL_ENOMEM: return "out of memory";
    }
    return "unknown url result code";
}
