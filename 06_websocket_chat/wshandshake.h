/* wshandshake — the WebSocket opening handshake (RFC 6455 §4) as bytes in, results out.
 *
 * A WebSocket starts as an HTTP/1.1 GET that asks to switch protocols. This module
 * decides that exchange and nothing else: no sockets, no loop. The server side takes a
 * request head already parsed by http1 and answers with a status and the whole
 * response head (101, or a refusal with a short body saying why); the client side
 * makes the request head for a ws:// or wss:// URL and checks the server's answer.
 * The frames that follow are another module's business.
 *
 * The proof that a server speaks WebSocket is Sec-WebSocket-Accept: base64 of the SHA-1
 * of the client's key followed by a fixed GUID (§1.3), both from OpenSSL's libcrypto.
 * With the RFC's sample key "dGhlIHNhbXBsZSBub25jZQ==" it is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
 *
 * The server is stricter than Tornado's WebSocketHandler.get() on purpose (see
 * tornado-semantics.md §7), in this order:
 *     405  the method is not GET (with Allow: GET);
 *     400  HTTP/1.0, no single Host, Upgrade without the token "websocket", Connection
 *          without the token "upgrade" (tokens in comma lists, repeated fields, any
 *          case), a missing or repeated Sec-WebSocket-Version;
 *     426  a Sec-WebSocket-Version other than exactly "13" (Tornado also takes 7 and 8),
 *          answered with "Sec-WebSocket-Version: 13";
 *     400  a Sec-WebSocket-Key that is missing, repeated, or not the canonical base64 of
 *          exactly 16 bytes;
 *     403  check_origin says no. The default is Tornado's: no Origin is allowed (not a
 *          browser), else Origin's host and port must be Host's (host without regard to
 *          case, default ports filled in from Origin's scheme); "null", a path or several
 *          Origin fields are refused.
 * Subprotocols: the first of the server's list, in its order of preference, that the
 * client offered (names compared exactly, RFC 6455 §4.1); none if there is no match,
 * and the connection goes on without one, as the RFC lets the client decide.
 */
#ifndef WSHANDSHAKE_H
#define WSHANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "http1.h"
#include "url.h"

#define WSHS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WSHS_KEY_LEN 24    /* base64 of 16 bytes */
#define WSHS_ACCEPT_LEN 28 /* base64 of a 20-byte SHA-1 */

/* Results of the functions below; 0 is success, every error is negative. */
enum {
    WSHS_OK = 0,
    WSHS_ENOMEM = -1,
    WSHS_EURL = -2,        /* not an absolute ws:// or wss:// URL, or it has a fragment */
    WSHS_ERANDOM = -3,     /* getrandom failed */
    WSHS_ESTATUS = -4,     /* the server answered with a status other than 101 */
    WSHS_EUPGRADE = -5,    /* the 101 has no Upgrade: websocket */
    WSHS_ECONNECTION = -6, /* the 101 has no Connection: upgrade */
    WSHS_EACCEPT = -7,     /* Sec-WebSocket-Accept missing, repeated or not our key's */
    WSHS_EPROTOCOL = -8,   /* a subprotocol we did not offer, or several */
    WSHS_EEXTENSION = -9,  /* an extension we did not offer (we offer none) */
};

/* What the error code means, in one sentence; never NULL. */
const char *wshs_strerror(int code);

/* Writes the Sec-WebSocket-Accept value for key[0, len) and its NUL into out. */
void wshs_accept(const char *key, size_t len, char out[WSHS_ACCEPT_LEN + 1]);

/* Whether key[0, len) is the canonical base64 of exactly 16 bytes (§4.2.1 item 5). */
bool wshs_key_valid(const char *key, size_t len);

/* The default check_origin: whether `origin` (an Origin field value) names the same
 * host and port as `host` (the Host field value). */
bool wshs_same_origin(struct http1_str origin, struct http1_str host);

/* A server's own origin policy: true lets the handshake go on. `origin` is the single
 * Origin field; it is only called when there is one. */
typedef bool (*wshs_check_origin_fn)(struct http1_str origin, const struct http1_request *req,
                                     void *arg);

struct wshs_server_opts {
    const char *const *subprotocols;  /* preference order, NULL-terminated; NULL: none */
    wshs_check_origin_fn check_origin; /* NULL: wshs_same_origin against Host */
    void *check_origin_arg;
};

/* The server's decision. head is malloc'd: free it with wshs_reply_free. */
struct wshs_reply {
    int status;              /* 101, 400, 403, 405 or 426 */
    const char *why;         /* for a refusal, the sentence in the body; NULL for 101 */
    const char *subprotocol; /* the chosen entry of opts->subprotocols, or NULL */
    char *head;              /* the response head (and a refusal's body), ready to send */
    size_t head_len;
};

/* Decides the handshake for a parsed request. opts may be NULL. Returns WSHS_OK and
 * fills *r, or WSHS_ENOMEM and leaves *r empty. */
int wshs_server_reply(const struct http1_request *req, const struct wshs_server_opts *opts,
                      struct wshs_reply *r);

void wshs_reply_free(struct wshs_reply *r);

/* One client handshake: the URL, the key sent, the subprotocols offered, the choice. */
struct wshs_client {
    struct url url;                  /* http(s) for ws(s): host, port, tls, target */
    bool tls;                        /* wss */
    char key[WSHS_KEY_LEN + 1];
    const char *const *subprotocols; /* offered, NULL-terminated, or NULL */
    const char *subprotocol;         /* after wshs_client_check: the server's choice or NULL */
};

/* Starts a handshake to `ws_url` with a fresh key (16 bytes from getrandom) and writes
 * the request head into *head (malloc'd, the caller frees it) and *head_len.
 * `subprotocols` (NULL-terminated, may be NULL) must outlive c; `origin` may be NULL.
 * Returns WSHS_OK, WSHS_EURL, WSHS_ERANDOM or WSHS_ENOMEM; on error c needs no freeing. */
int wshs_client_request(struct wshs_client *c, const char *ws_url,
                        const char *const *subprotocols, const char *origin, char **head,
                        size_t *head_len);

/* Checks the server's response head against the request. Returns WSHS_OK (and sets
 * c->subprotocol) or a WSHS_E* error. */
int wshs_client_check(struct wshs_client *c, const struct http1_response *resp);

void wshs_client_free(struct wshs_client *c);

#endif
