/* url — the http and https URLs a client fetches, and the Location of a redirect
 * resolved against them (RFC 3986; RFC 9110 §4.2 for http/https).
 *
 * url_parse() checks an absolute URL and splits it into what a client needs: the
 * host and port to connect to, the request-target for the request line, the Host
 * header, and the user and password for basic auth. The fragment is dropped (it never
 * goes on the wire), the scheme and host are lowercased, dot segments are removed
 * from the path, and percent-encoding is checked but otherwise kept as written.
 * Characters a URI may not hold (space, '"', '<', '>', '\', '^', '`', '{', '|', '}',
 * controls, non-ASCII) are refused rather than guessed at.
 *
 * url_resolve() is RFC 3986 §5.2: a relative reference such as "../x?y" or
 * "//other.host/p" against a base, as a redirect's Location needs.
 *
 * Memory: a parsed url owns one allocation holding all its strings, which are
 * NUL-terminated; url_free() releases it. The input string is not referenced after
 * the call. Sans-I/O: nothing here resolves names or opens sockets.
 */
#ifndef URL_H
#define URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    URL_OK = 0,
    URL_ESCHEME = -1,     /* no scheme, or not http/https */
    URL_EAUTHORITY = -2,  /* no "//host" after the scheme */
    URL_EHOST = -3,       /* empty or malformed host, bad IPv4 or IPv6 literal */
    URL_EPORT = -4,       /* port not digits, or outside 1..65535 */
    URL_EPERCENT = -5,    /* '%' not followed by two hex digits (or %00 in userinfo) */
    URL_ECHAR = -6,       /* a character a URI may not contain */
    URL_ENOMEM = -7,
};

enum url_host_kind {
    URL_HOST_NAME, /* a registered name, lowercased */
    URL_HOST_IPV4, /* dotted decimal, each part 0..255 */
    URL_HOST_IPV6, /* written in brackets; stored without them */
};

struct url {
    const char *href;      /* the whole URL, normalised, without the fragment */
    const char *scheme;    /* "http" or "https" */
    const char *authority; /* [userinfo@]host_header: what a relative reference keeps */
    const char *user;      /* percent-decoded, or NULL when there is no userinfo */
    const char *password;  /* percent-decoded, or NULL when there is no ':' in it */
    const char *host;      /* for connecting: no brackets around IPv6 */
    enum url_host_kind host_kind;
    uint16_t port;         /* as written, or 80/443 by scheme */
    const char *path;      /* at least "/" */
    const char *query;     /* after '?', or NULL when there is none */
    const char *target;    /* path[?query]: the request line's target */
    const char *host_header; /* host, or [v6], with ":port" unless the default */
    char *mem_;            /* private: the one allocation */
};

/* Parses an absolute http(s) URL. Returns URL_OK and fills *u (free it with url_free),
 * or an error and leaves *u empty. */
int url_parse(struct url *u, const char *text);

/* Resolves the reference `ref` (absolute or relative) against `base` (RFC 3986 §5.2)
 * and parses the result into *out. Same results as url_parse. */
int url_resolve(struct url *out, const struct url *base, const char *ref);

/* Removes "." and ".." segments from path[0, len) in place (RFC 3986 §5.2.4);
 * returns the new length. */
size_t url_remove_dot_segments(char *path, size_t len);

/* Whether the two URLs have the same scheme, host and port (RFC 6454 origin): a
 * redirect that changes it must drop the Authorization header. */
bool url_same_origin(const struct url *a, const struct url *b);

void url_free(struct url *u);

/* What the error code means, in one sentence; never NULL. */
const char *url_strerror(int code);

#endif
