/* Unit tests for 06_websocket_chat/wshandshake: the server's decision on request heads,
 * the client's request and its check of the answer, and the two together.
 *
 * The server table is RFC 6455 §4.2.1's list of what a handshake must have, one row per
 * way to break it, plus the header variants a strict reader must still accept (case,
 * comma lists, whitespace, repeated fields). Every reply must parse back with http1 as a
 * response whose status is the decision and whose body is exactly Content-Length. */
#include "wshandshake.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IN(s) s, sizeof(s) - 1
#define SAMPLE_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define SAMPLE_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define H "Host: server.example.com\r\n"
#define UP "Upgrade: websocket\r\nConnection: Upgrade\r\n"
#define K "Sec-WebSocket-Key: " SAMPLE_KEY "\r\n"
#define V "Sec-WebSocket-Version: 13\r\n"
#define GET "GET /chat HTTP/1.1\r\n"
#define GOOD GET H UP K V

/* The server options a row runs with. */
enum { PLAIN, SUBPROTOCOLS, ALLOW_ALL, DENY_ALL };

struct scase {
    const char *name;
    const char *in;
    size_t len;
    int opts;
    int status;
    const char *want;   /* must appear in the reply, or NULL */
    const char *unwant; /* must not appear, or NULL */
};

static const struct scase server_cases[] = {
    /* ---- RFC 6455 §1.3 and §4.2.1 ---- */
    {"rfc sample key", IN(GOOD "\r\n"), PLAIN, 101, "Sec-WebSocket-Accept: " SAMPLE_ACCEPT "\r\n",
     "Sec-WebSocket-Protocol"},
    {"101 says upgrade", IN(GOOD "\r\n"), PLAIN, 101,
     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", NULL},
    {"POST is 405", IN("POST /chat HTTP/1.1\r\n" H UP K V "\r\n"), PLAIN, 405, "Allow: GET\r\n",
     NULL},
    {"method is case-sensitive", IN("get /chat HTTP/1.1\r\n" H UP K V "\r\n"), PLAIN, 405,
     "a WebSocket handshake is a GET", NULL},
    {"HTTP/1.0", IN("GET /chat HTTP/1.0\r\n" H UP K V "\r\n"), PLAIN, 400, "HTTP/1.1", NULL},
    {"no Host", IN(GET UP K V "\r\n"), PLAIN, 400, "Host", NULL},
    {"two Hosts", IN(GOOD H "\r\n"), PLAIN, 400, "Host", NULL},
    {"no Upgrade", IN(GET H "Connection: Upgrade\r\n" K V "\r\n"), PLAIN, 400, "Upgrade must", NULL},
    {"Upgrade: h2c", IN(GET H "Upgrade: h2c\r\nConnection: Upgrade\r\n" K V "\r\n"), PLAIN, 400,
     "Upgrade must", NULL},
    {"Upgrade: websockets", IN(GET H "Upgrade: websockets\r\nConnection: Upgrade\r\n" K V "\r\n"),
     PLAIN, 400, NULL, NULL},
    {"no Connection", IN(GET H "Upgrade: websocket\r\n" K V "\r\n"), PLAIN, 400, "Connection must",
     NULL},
    {"Connection: close", IN(GET H "Upgrade: websocket\r\nConnection: close\r\n" K V "\r\n"),
     PLAIN, 400, "Connection must", NULL},
    {"Connection: upgraded", IN(GET H "Upgrade: websocket\r\nConnection: upgraded\r\n" K V "\r\n"),
     PLAIN, 400, NULL, NULL},
    {"no version", IN(GET H UP K "\r\n"), PLAIN, 400, "Sec-WebSocket-Version", "426"},
    {"two versions", IN(GOOD V "\r\n"), PLAIN, 400, NULL, NULL},
    {"version 8 is 426", IN(GET H UP K "Sec-WebSocket-Version: 8\r\n\r\n"), PLAIN, 426,
     "Sec-WebSocket-Version: 13\r\n", NULL},
    {"version 7 is 426", IN(GET H UP K "Sec-WebSocket-Version: 7\r\n\r\n"), PLAIN, 426, NULL, NULL},
    {"version 013 is 426", IN(GET H UP K "Sec-WebSocket-Version: 013\r\n\r\n"), PLAIN, 426, NULL, NULL},
    {"version list is 426", IN(GET H UP K "Sec-WebSocket-Version: 13, 8\r\n\r\n"), PLAIN, 426, NULL,
     NULL},
    {"no key", IN(GET H UP V "\r\n"), PLAIN, 400, "Sec-WebSocket-Key", NULL},
    {"two keys", IN(GOOD K "\r\n"), PLAIN, 400, "Sec-WebSocket-Key", NULL},
    {"empty key", IN(GET H UP V "Sec-WebSocket-Key:\r\n\r\n"), PLAIN, 400, NULL, NULL},
    {"key of 10 bytes", IN(GET H UP V "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n\r\n"), PLAIN, 400,
     NULL, NULL},
    {"key of 17 bytes", IN(GET H UP V "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSE=\r\n\r\n"), PLAIN,
     400, NULL, NULL},
    {"key of 18 bytes", IN(GET H UP V "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSEh\r\n\r\n"), PLAIN,
     400, NULL, NULL},
    {"key with stray bits", IN(GET H UP V "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n\r\n"),
     PLAIN, 400, NULL, NULL},
    {"key not base64", IN(GET H UP V "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j!Q==\r\n\r\n"), PLAIN,
     400, NULL, NULL},
    {"key base64url", IN(GET H UP V "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j_Q==\r\n\r\n"), PLAIN,
     400, NULL, NULL},
    /* ---- header variants a strict server still accepts ---- */
    {"names and tokens in any case",
     IN(GET "host: server.example.com\r\nUPGRADE: WebSocket\r\nconnection: UPGRADE\r\n"
            "sec-websocket-key: " SAMPLE_KEY "\r\nSEC-WEBSOCKET-VERSION: 13\r\n\r\n"),
     PLAIN, 101, SAMPLE_ACCEPT, NULL},
    {"Connection list", IN(GET H "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" K V "\r\n"),
     PLAIN, 101, NULL, NULL},
    {"Connection list with whitespace",
     IN(GET H "Upgrade: websocket\r\nConnection:  keep-alive ,\t upgrade \r\n" K V "\r\n"), PLAIN,
     101, NULL, NULL},
    {"Connection repeated", IN(GET H "Upgrade: websocket\r\nConnection: keep-alive\r\n"
                                     "Connection: Upgrade\r\n" K V "\r\n"),
     PLAIN, 101, NULL, NULL},
    {"Upgrade list", IN(GET H "Upgrade: foo/2, websocket\r\nConnection: Upgrade\r\n" K V "\r\n"),
     PLAIN, 101, NULL, NULL},
    {"values trimmed", IN(GET H UP "Sec-WebSocket-Key:   " SAMPLE_KEY "\t\r\nSec-WebSocket-Version:  13 \r\n\r\n"),
     PLAIN, 101, SAMPLE_ACCEPT, NULL},
    {"HTTP/1.1 absolute target", IN("GET http://server.example.com/chat HTTP/1.1\r\n" H UP K V "\r\n"),
     PLAIN, 101, NULL, NULL},
    /* ---- check_origin: Tornado's default, same host and port as Host ---- */
    {"same origin", IN(GOOD "Origin: http://server.example.com\r\n\r\n"), PLAIN, 101, NULL, NULL},
    {"origin host in another case", IN(GOOD "Origin: HTTP://Server.Example.COM\r\n\r\n"), PLAIN, 101,
     NULL, NULL},
    {"origin with its default port", IN(GOOD "Origin: http://server.example.com:80\r\n\r\n"), PLAIN,
     101, NULL, NULL},
    {"Host with the default port",
     IN(GET "Host: server.example.com:80\r\n" UP K V "Origin: http://server.example.com\r\n\r\n"),
     PLAIN, 101, NULL, NULL},
    {"https origin, Host with 443",
     IN(GET "Host: server.example.com:443\r\n" UP K V "Origin: https://server.example.com\r\n\r\n"),
     PLAIN, 101, NULL, NULL},
    {"both with port 8443",
     IN(GET "Host: server.example.com:8443\r\n" UP K V "Origin: https://server.example.com:8443\r\n\r\n"),
     PLAIN, 101, NULL, NULL},
    {"origin port differs", IN(GOOD "Origin: http://server.example.com:8080\r\n\r\n"), PLAIN, 403,
     "cross-origin", NULL},
    {"Host port differs",
     IN(GET "Host: server.example.com:8080\r\n" UP K V "Origin: http://server.example.com\r\n\r\n"),
     PLAIN, 403, NULL, NULL},
    {"https origin, Host with 80",
     IN(GET "Host: server.example.com:80\r\n" UP K V "Origin: https://server.example.com\r\n\r\n"),
     PLAIN, 403, NULL, NULL},
    {"other host", IN(GOOD "Origin: http://evil.example.com\r\n\r\n"), PLAIN, 403, NULL, NULL},
    {"suffix host", IN(GOOD "Origin: http://server.example.com.evil\r\n\r\n"), PLAIN, 403, NULL, NULL},
    {"origin null", IN(GOOD "Origin: null\r\n\r\n"), PLAIN, 403, NULL, NULL},
    {"origin with a path", IN(GOOD "Origin: http://server.example.com/\r\n\r\n"), PLAIN, 403, NULL,
     NULL},
    {"origin with userinfo", IN(GOOD "Origin: http://u@server.example.com\r\n\r\n"), PLAIN, 403,
     NULL, NULL},
    {"origin of another scheme", IN(GOOD "Origin: ftp://server.example.com\r\n\r\n"), PLAIN, 403,
     NULL, NULL},
    {"empty origin", IN(GOOD "Origin:\r\n\r\n"), PLAIN, 403, NULL, NULL},
    {"two origins", IN(GOOD "Origin: http://server.example.com\r\nOrigin: http://server.example.com\r\n\r\n"),
     PLAIN, 403, NULL, NULL},
    {"IPv6 same", IN(GET "Host: [::1]:8888\r\n" UP K V "Origin: http://[::1]:8888\r\n\r\n"), PLAIN,
     101, NULL, NULL},
    {"IPv6 default port", IN(GET "Host: [::1]\r\n" UP K V "Origin: http://[::1]:80\r\n\r\n"), PLAIN,
     101, NULL, NULL},
    {"IPv6 other address", IN(GET "Host: [::1]:8888\r\n" UP K V "Origin: http://[::2]:8888\r\n\r\n"),
     PLAIN, 403, NULL, NULL},
    {"IPv6 other port", IN(GET "Host: [::1]:8888\r\n" UP K V "Origin: http://[::1]:8889\r\n\r\n"),
     PLAIN, 403, NULL, NULL},
    {"IPv6 against a name", IN(GET "Host: localhost:8888\r\n" UP K V "Origin: http://[::1]:8888\r\n\r\n"),
     PLAIN, 403, NULL, NULL},
    {"IPv4 same", IN(GET "Host: 127.0.0.1:8888\r\n" UP K V "Origin: http://127.0.0.1:8888\r\n\r\n"),
     PLAIN, 101, NULL, NULL},
    {"checked after the key", IN(GET H UP V "Origin: http://evil.example.com\r\n\r\n"), PLAIN, 400,
     NULL, NULL},
    {"callback allows any origin", IN(GOOD "Origin: http://evil.example.com\r\n\r\n"), ALLOW_ALL, 101,
     NULL, NULL},
    {"callback denies", IN(GOOD "Origin: http://server.example.com\r\n\r\n"), DENY_ALL, 403, NULL,
     NULL},
    {"callback not asked without Origin", IN(GOOD "\r\n"), DENY_ALL, 101, NULL, NULL},
    /* ---- subprotocols: the server's {"chat.v2", "chat"}, in that order ---- */
    {"server's preference wins", IN(GOOD "Sec-WebSocket-Protocol: chat, chat.v2\r\n\r\n"),
     SUBPROTOCOLS, 101, "Sec-WebSocket-Protocol: chat.v2\r\n", NULL},
    {"the one offered", IN(GOOD "Sec-WebSocket-Protocol: x, chat\r\n\r\n"), SUBPROTOCOLS, 101,
     "Sec-WebSocket-Protocol: chat\r\n", "chat.v2"},
    {"offered over repeated fields",
     IN(GOOD "Sec-WebSocket-Protocol: x\r\nSec-WebSocket-Protocol: y ,chat\r\n\r\n"), SUBPROTOCOLS,
     101, "Sec-WebSocket-Protocol: chat\r\n", NULL},
    {"names are case-sensitive", IN(GOOD "Sec-WebSocket-Protocol: CHAT\r\n\r\n"), SUBPROTOCOLS, 101,
     NULL, "Sec-WebSocket-Protocol"},
    {"no match, no subprotocol", IN(GOOD "Sec-WebSocket-Protocol: mqtt\r\n\r\n"), SUBPROTOCOLS, 101,
     NULL, "Sec-WebSocket-Protocol"},
    {"none offered", IN(GOOD "\r\n"), SUBPROTOCOLS, 101, NULL, "Sec-WebSocket-Protocol"},
    {"server has none", IN(GOOD "Sec-WebSocket-Protocol: chat\r\n\r\n"), PLAIN, 101, NULL,
     "Sec-WebSocket-Protocol"},
};

static const char *const our_protocols[] = {"chat.v2", "chat", NULL};

static bool allow_all(struct http1_str origin, const struct http1_request *req, void *arg)
{
    (void)origin, (void)req;
    ck_assert_ptr_eq(arg, our_protocols); /* the argument gets through */
    return true;
}

static bool deny_all(struct http1_str origin, const struct http1_request *req, void *arg)
{
    (void)origin, (void)req, (void)arg;
    return false;
}

static const struct wshs_server_opts opts_of[] = {
    [PLAIN] = {0},
    [SUBPROTOCOLS] = {.subprotocols = our_protocols},
    [ALLOW_ALL] = {.check_origin = allow_all, .check_origin_arg = (void *)our_protocols},
    [DENY_ALL] = {.check_origin = deny_all},
};

/* The reply parses as a response with that status and a body of Content-Length bytes. */
static void check_reply_parses(const struct wshs_reply *r)
{
    struct http1_response resp;
    int n = http1_parse_response(r->head, r->head_len, &resp, NULL);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(resp.status, r->status);
    struct http1_framing f = http1_response_framing(&resp, "GET");
    if (r->status == 101) {
        ck_assert_int_eq(n, (int)r->head_len);
        ck_assert_ptr_null(r->why);
    } else {
        ck_assert_int_eq(f.kind, HTTP1_BODY_LENGTH);
        ck_assert_uint_eq(f.length, r->head_len - (size_t)n);
        ck_assert_ptr_nonnull(strstr(r->head + n, r->why));
        ck_assert(http1_header_has_token(&resp.headers, "connection", "close"));
    }
}

START_TEST(server_table)
{
    const struct scase *c = &server_cases[_i];
    static struct http1_request req;
    ck_assert_msg(http1_parse_request(c->in, c->len, &req, NULL) == (int)c->len, "%s: parse",
                  c->name);
    struct wshs_reply r;
    ck_assert_int_eq(wshs_server_reply(&req, c->opts == PLAIN ? NULL : &opts_of[c->opts], &r),
                     WSHS_OK);
    ck_assert_msg(r.status == c->status, "%s: status %d, want %d\n%s", c->name, r.status,
                  c->status, r.head);
    ck_assert_msg(!c->want || strstr(r.head, c->want), "%s: no \"%s\" in\n%s", c->name, c->want,
                  r.head);
    ck_assert_msg(!c->unwant || !strstr(r.head, c->unwant), "%s: \"%s\" in\n%s", c->name,
                  c->unwant, r.head);
    check_reply_parses(&r);
    wshs_reply_free(&r);
}
END_TEST

START_TEST(accept_sample)
{
    char out[WSHS_ACCEPT_LEN + 1];
    wshs_accept(IN(SAMPLE_KEY), out);
    ck_assert_str_eq(out, SAMPLE_ACCEPT);
    ck_assert(wshs_key_valid(IN(SAMPLE_KEY)));
    ck_assert(wshs_key_valid(IN("AAAAAAAAAAAAAAAAAAAAAA==")));
    ck_assert(!wshs_key_valid(IN("AAAAAAAAAAAAAAAAAAAAAB==")));
    ck_assert(!wshs_key_valid(IN("AAAAAAAAAAAAAAAAAAAAA===")));
    ck_assert(!wshs_key_valid(IN("AAAAAAAAAAAAAAAAAAAAAAA=")));
}
END_TEST

/* ---- the client ---- */

struct ucase {
    const char *url;
    int rc;
    bool tls;
    const char *target, *host;
    int port;
};

static const struct ucase url_cases[] = {
    {"ws://example.com/chat", WSHS_OK, false, "/chat", "example.com", 80},
    {"ws://example.com", WSHS_OK, false, "/", "example.com", 80},
    {"WS://Example.COM:8080/a/../chat?room=1", WSHS_OK, false, "/chat?room=1", "example.com:8080", 8080},
    {"ws://example.com:80/", WSHS_OK, false, "/", "example.com", 80},
    {"wss://example.com/", WSHS_OK, true, "/", "example.com", 443},
    {"wss://example.com:80/", WSHS_OK, true, "/", "example.com:80", 80},
    {"ws://[::1]:9000/x", WSHS_OK, false, "/x", "[::1]:9000", 9000},
    {"http://example.com/", WSHS_EURL, false, NULL, NULL, 0},
    {"wsx://example.com/", WSHS_EURL, false, NULL, NULL, 0},
    {"ws://example.com/#frag", WSHS_EURL, false, NULL, NULL, 0},
    {"ws:///chat", WSHS_EURL, false, NULL, NULL, 0},
    {"ws://example.com:0/", WSHS_EURL, false, NULL, NULL, 0},
    {"example.com/chat", WSHS_EURL, false, NULL, NULL, 0},
};

START_TEST(client_request)
{
    const struct ucase *u = &url_cases[_i];
    static const char *const offer[] = {"chat", "superchat", NULL};
    struct wshs_client c;
    char *head = NULL;
    size_t len = 0;
    int rc = wshs_client_request(&c, u->url, offer, "http://example.com", &head, &len);
    ck_assert_msg(rc == u->rc, "%s: %s", u->url, wshs_strerror(rc));
    if (rc != WSHS_OK)
        return;
    ck_assert_int_eq(c.tls, u->tls);
    ck_assert_int_eq(c.url.port, u->port);
    static struct http1_request req;
    ck_assert_int_eq(http1_parse_request(head, len, &req, NULL), (int)len);
    ck_assert(http1_str_ieq(req.method, "GET"));
    ck_assert_int_eq(req.minor_version, 1);
    ck_assert_int_eq(req.target.len, strlen(u->target));
    ck_assert(memcmp(req.target.p, u->target, req.target.len) == 0);
    ck_assert(http1_str_ieq(http1_header_get(&req.headers, "host")->value, u->host));
    const struct http1_header *k = http1_header_get(&req.headers, "sec-websocket-key");
    ck_assert(wshs_key_valid(k->value.p, k->value.len));
    ck_assert(memcmp(k->value.p, c.key, WSHS_KEY_LEN) == 0);
    ck_assert_ptr_nonnull(strstr(head, "Sec-WebSocket-Protocol: chat, superchat\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Origin: http://example.com\r\n"));
    free(head);
    wshs_client_free(&c);
}
END_TEST

START_TEST(client_keys_differ)
{
    struct wshs_client a, b;
    char *ha, *hb;
    size_t la, lb;
    ck_assert_int_eq(wshs_client_request(&a, "ws://h/", NULL, NULL, &ha, &la), WSHS_OK);
    ck_assert_int_eq(wshs_client_request(&b, "ws://h/", NULL, NULL, &hb, &lb), WSHS_OK);
    ck_assert_str_ne(a.key, b.key);
    ck_assert_ptr_null(strstr(ha, "Sec-WebSocket-Protocol"));
    ck_assert_ptr_null(strstr(ha, "Origin"));
    free(ha), free(hb);
    wshs_client_free(&a), wshs_client_free(&b);
}
END_TEST

/* Responses to a request with key SAMPLE_KEY offering "chat" and "superchat". */
struct ccase {
    const char *name;
    const char *in;
    int rc;
    const char *subprotocol;
};

#define R101 "HTTP/1.1 101 Switching Protocols\r\n"
#define RUP "Upgrade: websocket\r\nConnection: Upgrade\r\n"
#define RA "Sec-WebSocket-Accept: " SAMPLE_ACCEPT "\r\n"

static const struct ccase client_cases[] = {
    {"good", R101 RUP RA "\r\n", WSHS_OK, NULL},
    {"good in other cases", R101 "upgrade: WebSocket\r\nCONNECTION: upgrade\r\n"
                                 "sec-websocket-accept: " SAMPLE_ACCEPT "\r\n\r\n", WSHS_OK, NULL},
    {"Connection list", R101 "Upgrade: websocket\r\nConnection: keep-alive, upgrade\r\n" RA "\r\n",
     WSHS_OK, NULL},
    {"subprotocol chosen", R101 RUP RA "Sec-WebSocket-Protocol: superchat\r\n\r\n", WSHS_OK,
     "superchat"},
    {"200", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", WSHS_ESTATUS, NULL},
    {"426", "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n", WSHS_ESTATUS, NULL},
    {"no Upgrade", R101 "Connection: Upgrade\r\n" RA "\r\n", WSHS_EUPGRADE, NULL},
    {"Upgrade: h2c", R101 "Upgrade: h2c\r\nConnection: Upgrade\r\n" RA "\r\n", WSHS_EUPGRADE, NULL},
    {"no Connection", R101 "Upgrade: websocket\r\n" RA "\r\n", WSHS_ECONNECTION, NULL},
    {"no Accept", R101 RUP "\r\n", WSHS_EACCEPT, NULL},
    {"wrong Accept", R101 RUP "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOQ=\r\n\r\n",
     WSHS_EACCEPT, NULL},
    {"Accept of the key itself", R101 RUP "Sec-WebSocket-Accept: " SAMPLE_KEY "\r\n\r\n",
     WSHS_EACCEPT, NULL},
    {"two Accepts", R101 RUP RA RA "\r\n", WSHS_EACCEPT, NULL},
    {"an extension", R101 RUP RA "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
     WSHS_EEXTENSION, NULL},
    {"subprotocol not offered", R101 RUP RA "Sec-WebSocket-Protocol: mqtt\r\n\r\n", WSHS_EPROTOCOL,
     NULL},
    {"subprotocol in another case", R101 RUP RA "Sec-WebSocket-Protocol: Chat\r\n\r\n",
     WSHS_EPROTOCOL, NULL},
    {"two subprotocols in a list", R101 RUP RA "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n",
     WSHS_EPROTOCOL, NULL},
    {"two subprotocol fields",
     R101 RUP RA "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
     WSHS_EPROTOCOL, NULL},
};

START_TEST(client_check)
{
    const struct ccase *cc = &client_cases[_i];
    static const char *const offer[] = {"chat", "superchat", NULL};
    struct wshs_client c = {.subprotocols = offer, .key = SAMPLE_KEY};
    static struct http1_response resp;
    ck_assert_int_gt(http1_parse_response(cc->in, strlen(cc->in), &resp, NULL), 0);
    int rc = wshs_client_check(&c, &resp);
    ck_assert_msg(rc == cc->rc, "%s: %d (%s)", cc->name, rc, wshs_strerror(rc));
    if (cc->subprotocol)
        ck_assert_str_eq(c.subprotocol, cc->subprotocol);
    else
        ck_assert_ptr_null(c.subprotocol);
}
END_TEST

START_TEST(client_no_subprotocol_offered)
{
    struct wshs_client c = {.key = SAMPLE_KEY};
    static struct http1_response resp;
    const char *in = R101 RUP RA "Sec-WebSocket-Protocol: chat\r\n\r\n";
    ck_assert_int_gt(http1_parse_response(in, strlen(in), &resp, NULL), 0);
    ck_assert_int_eq(wshs_client_check(&c, &resp), WSHS_EPROTOCOL);
}
END_TEST

START_TEST(strerror_all)
{
    for (int code = WSHS_EEXTENSION; code <= WSHS_OK; code++)
        ck_assert_str_ne(wshs_strerror(code), "unknown error");
    ck_assert_str_eq(wshs_strerror(-100), "unknown error");
}
END_TEST

/* Client request -> server decision -> client check, with an origin and subprotocols. */
START_TEST(round_trip)
{
    static const char *const offer[] = {"chat", "chat.v2", NULL};
    struct wshs_client c;
    char *head;
    size_t len;
    ck_assert_int_eq(wshs_client_request(&c, "ws://server.example.com:8888/chat", offer,
                                         "http://server.example.com:8888", &head, &len),
                     WSHS_OK);
    static struct http1_request req;
    ck_assert_int_eq(http1_parse_request(head, len, &req, NULL), (int)len);
    struct wshs_reply r;
    ck_assert_int_eq(wshs_server_reply(&req, &opts_of[SUBPROTOCOLS], &r), WSHS_OK);
    ck_assert_int_eq(r.status, 101);
    ck_assert_str_eq(r.subprotocol, "chat.v2");
    static struct http1_response resp;
    ck_assert_int_eq(http1_parse_response(r.head, r.head_len, &resp, NULL), (int)r.head_len);
    ck_assert_int_eq(wshs_client_check(&c, &resp), WSHS_OK);
    ck_assert_ptr_eq(c.subprotocol, offer[1]);
    wshs_reply_free(&r);
    free(head);
    wshs_client_free(&c);
}
END_TEST

/* The same, cross-origin: the server refuses and the client reports the status. */
START_TEST(round_trip_refused)
{
    struct wshs_client c;
    char *head;
    size_t len;
    ck_assert_int_eq(wshs_client_request(&c, "wss://server.example.com/chat", NULL,
                                         "https://evil.example.com", &head, &len),
                     WSHS_OK);
    static struct http1_request req;
    ck_assert_int_eq(http1_parse_request(head, len, &req, NULL), (int)len);
    struct wshs_reply r;
    ck_assert_int_eq(wshs_server_reply(&req, NULL, &r), WSHS_OK);
    ck_assert_int_eq(r.status, 403);
    static struct http1_response resp;
    ck_assert_int_gt(http1_parse_response(r.head, r.head_len, &resp, NULL), 0);
    ck_assert_int_eq(wshs_client_check(&c, &resp), WSHS_ESTATUS);
    wshs_reply_free(&r);
    free(head);
    wshs_client_free(&c);
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

int main(void)
{
    Suite *s = suite_create("wshandshake");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, server_table, 0, N(server_cases));
    tcase_add_test(tc, accept_sample);
    tcase_add_loop_test(tc, client_request, 0, N(url_cases));
    tcase_add_test(tc, client_keys_differ);
    tcase_add_loop_test(tc, client_check, 0, N(client_cases));
    tcase_add_test(tc, client_no_subprotocol_offered);
    tcase_add_test(tc, strerror_all);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, round_trip_refused);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
