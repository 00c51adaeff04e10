/* Unit tests for 05_httpclient/http1: request and response heads, framing, bodies.
 *
 * The tables restate, as our own cases, the facts of public parser suites — nodejs/
 * llhttp's test/request/ and test/response/ *.md files, h2o/picohttpparser's test.c —
 * and of RFC 9112. Where those parsers have a "lenient" mode we keep the strict result;
 * where our policy differs from theirs the case says so. Every case runs on the whole
 * buffer and again fed 1, 2, 3, 7 and 64 bytes at a time (each slice in a buffer of
 * its own size, so ASan sees any read past it), and must give the same result. */
#include "http1.h"
#include "unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { REQ, RES, RES_HEAD, RES_CONNECT };
#define INC 100 /* the test's own result: input ended inside a head */
#define IN(s) s, sizeof(s) - 1

/* One or more messages on one connection, and what must come of them. `want` lists
 * "|"-separated items that must all appear in the summary (see summarize). */
struct mcase {
    const char *name;
    int type;
    const char *in;
    size_t len;
    int err; /* 0, INC, HTTP1_ETRUNCATED, or the error */
    const char *want;
    const struct http1_limits *lim;
};

static const struct http1_limits tiny_head = {.max_head = 40};
static const struct http1_limits two_headers = {.max_headers = 2};
static const struct http1_limits small_body = {.max_body = 4};

/* Most rows leave the trailing fields (limits, a body limit) at zero. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const struct mcase cases[] = {
    /* ---- picohttpparser test.c, requests ---- */
    {"pico simple", REQ, IN("GET / HTTP/1.0\r\n\r\n"), 0, "m=GET|t=/|v=1.0|n=0|f=none|ka=0"},
    {"pico partial", REQ, IN("GET / HTTP/1.0\r\n\r"), INC, NULL},
    {"pico parse headers", REQ, IN("GET /hoge HTTP/1.1\r\nHost: example.com\r\nCookie: \r\n\r\n"), 0,
     "t=/hoge|v=1.1|n=2|h0=Host:example.com|h1=Cookie:|ka=1"},
    {"pico multibyte value", REQ,
     IN("GET /hoge HTTP/1.1\r\nHost: example.com\r\nUser-Agent: \343\201\262\343/1.0\r\n\r\n"), 0,
     "h1=User-Agent:\\xe3\\x81\\xb2\\xe3/1.0"},
    {"pico multiline is obs-fold (RFC 9112 5.2: refused)", REQ,
     IN("GET / HTTP/1.0\r\nfoo: \r\nfoo: b\r\n  \tc\r\n\r\n"), HTTP1_EOBS_FOLD, NULL},
    {"pico space before colon", REQ, IN("GET / HTTP/1.0\r\nfoo : ab\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"pico incomplete 1", REQ, IN("GET"), INC, NULL},
    {"pico incomplete 2", REQ, IN("GET "), INC, NULL},
    {"pico incomplete 3", REQ, IN("GET /"), INC, NULL},
    {"pico incomplete 4", REQ, IN("GET / "), INC, NULL},
    {"pico incomplete 5", REQ, IN("GET / H"), INC, NULL},
    {"pico incomplete 6", REQ, IN("GET / HTTP/1."), INC, NULL},
    {"pico incomplete 7", REQ, IN("GET / HTTP/1.0"), INC, NULL},
    {"pico incomplete 8", REQ, IN("GET / HTTP/1.0\r"), INC, NULL},
    {"pico slowloris complete", REQ, IN("GET /hoge HTTP/1.0\r\n\r\n"), 0, "t=/hoge"},
    {"pico empty method", REQ, IN(" / HTTP/1.0\r\n\r\n"), HTTP1_EMETHOD, NULL},
    {"pico empty target", REQ, IN("GET  HTTP/1.0\r\n\r\n"), HTTP1_ETARGET, NULL},
    {"pico empty header name", REQ, IN("GET / HTTP/1.0\r\n:a\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"pico header name of a space", REQ, IN("GET / HTTP/1.0\r\n :a\r\n\r\n"), HTTP1_EOBS_FOLD, NULL},
    {"pico NUL in method", REQ, IN("G\0T / HTTP/1.0\r\n\r\n"), HTTP1_EMETHOD, NULL},
    {"pico tab in method", REQ, IN("G\tT / HTTP/1.0\r\n\r\n"), HTTP1_EMETHOD, NULL},
    {"pico colon method", REQ, IN(":GET / HTTP/1.0\r\n\r\n"), HTTP1_EMETHOD, NULL},
    {"pico DEL in path", REQ, IN("GET /\x7fhello HTTP/1.0\r\n\r\n"), HTTP1_ETARGET, NULL},
    {"pico NUL in header name", REQ, IN("GET / HTTP/1.0\r\na\0b: c\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"pico NUL in header value", REQ, IN("GET / HTTP/1.0\r\nab: c\0d\r\n\r\n"), HTTP1_EHEADER_VALUE, NULL},
    {"pico ESC in header name", REQ, IN("GET / HTTP/1.0\r\na\033b: c\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"pico ESC in header value", REQ, IN("GET / HTTP/1.0\r\nab: c\033\r\n\r\n"), HTTP1_EHEADER_VALUE, NULL},
    {"pico slash header name", REQ, IN("GET / HTTP/1.0\r\n/: 1\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"pico MSB in target (we refuse: not visible ASCII)", REQ,
     IN("GET /\xa0 HTTP/1.0\r\nh: c\xa2y\r\n\r\n"), HTTP1_ETARGET, NULL},
    {"pico MSB in value accepted", REQ, IN("GET / HTTP/1.0\r\nh: c\xa2y\r\n\r\n"), 0, "h0=h:c\\xa2y"},
    {"pico |~ in name", REQ, IN("GET / HTTP/1.0\r\n|~: 1\r\n\r\n"), 0, "h0=\\x7c~:1"},
    {"pico { in name", REQ, IN("GET / HTTP/1.0\r\n{: 1\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"pico value trimmed", REQ, IN("GET / HTTP/1.0\r\nfoo: a \t \r\n\r\n"), 0, "h0=foo:a"},
    {"pico several spaces between tokens (RFC: one SP)", REQ, IN("GET   /   HTTP/1.0\r\n\r\n"),
     HTTP1_ETARGET, NULL},

    /* ---- picohttpparser test.c, responses ---- */
    {"pico res simple", RES, IN("HTTP/1.0 200 OK\r\n\r\n"), 0, "s=200|r=OK|v=1.0|n=0|f=close|ka=0"},
    {"pico res partial", RES, IN("HTTP/1.0 200 OK\r\n\r"), INC, NULL},
    {"pico res headers", RES, IN("HTTP/1.1 200 OK\r\nHost: example.com\r\nCookie: \r\n\r\n"), 0,
     "n=2|h0=Host:example.com|h1=Cookie:"},
    {"pico res multiline is obs-fold", RES, IN("HTTP/1.0 200 OK\r\nfoo: \r\nfoo: b\r\n  \tc\r\n\r\n"),
     HTTP1_EOBS_FOLD, NULL},
    {"pico res 500", RES, IN("HTTP/1.0 500 Internal Server Error\r\n\r\n"), 0,
     "s=500|r=Internal Server Error"},
    {"pico res incomplete 1", RES, IN("H"), INC, NULL},
    {"pico res incomplete 2", RES, IN("HTTP/1."), INC, NULL},
    {"pico res incomplete 3", RES, IN("HTTP/1.1"), INC, NULL},
    {"pico res incomplete 4", RES, IN("HTTP/1.1 "), INC, NULL},
    {"pico res incomplete 5", RES, IN("HTTP/1.1 2"), INC, NULL},
    {"pico res incomplete 6", RES, IN("HTTP/1.1 200"), INC, NULL},
    {"pico res incomplete 7", RES, IN("HTTP/1.1 200 "), INC, NULL},
    {"pico res incomplete 8", RES, IN("HTTP/1.1 200 O"), INC, NULL},
    {"pico res incomplete 9", RES, IN("HTTP/1.1 200 OK\r"), INC, NULL},
    {"pico res incomplete 10", RES, IN("HTTP/1.1 200 OK\r\n"), INC, NULL},
    {"pico res incomplete 11 (bare LF refused)", RES, IN("HTTP/1.1 200 OK\n"), HTTP1_EBARE_LF, NULL},
    {"pico res incomplete 12", RES, IN("HTTP/1.1 200 OK\r\nA: 1\r"), INC, NULL},
    {"pico res incomplete 13", RES, IN("HTTP/1.1 200 OK\r\nA: 1\r\n"), INC, NULL},
    {"pico res bad version", RES, IN("HTTP/1. 200 OK\r\n\r\n"), HTTP1_EVERSION, NULL},
    {"pico res bad version 2", RES, IN("HTTP/1.2z 200 OK\r\n\r\n"), HTTP1_EVERSION, NULL},
    {"pico res no status", RES, IN("HTTP/1.1  OK\r\n\r\n"), HTTP1_ESTATUS, NULL},
    {"pico res no SP after status", RES, IN("HTTP/1.1 200\r\n\r\n"), 0, "s=200|r="},
    {"pico res garbage after status 1", RES, IN("HTTP/1.1 200X\r\n\r\n"), HTTP1_ESTATUS, NULL},
    {"pico res garbage after status 2", RES, IN("HTTP/1.1 200X \r\n\r\n"), HTTP1_ESTATUS, NULL},
    {"pico res garbage after status 3", RES, IN("HTTP/1.1 200X OK\r\n\r\n"), HTTP1_ESTATUS, NULL},
    {"pico res value trimmed", RES, IN("HTTP/1.1 200 OK\r\nbar: \t b\t \t\r\n\r\n"), 0, "h0=bar:b"},
    {"pico res several spaces (RFC: one SP)", RES, IN("HTTP/1.1   200   OK\r\n\r\n"), HTTP1_ESTATUS, NULL},
    {"pico headers DEL in value", REQ, IN("GET / HTTP/1.1\r\nHost: e\x7f" "ample.com\r\n\r\n"),
     HTTP1_EHEADER_VALUE, NULL},

    /* ---- llhttp test/request/sample.md ---- */
    {"llhttp simple request", REQ, IN("OPTIONS /url HTTP/1.1\r\nHeader1: Value1\r\nHeader2:\t Value2\r\n\r\n"), 0,
     "m=OPTIONS|t=/url|h0=Header1:Value1|h1=Header2:Value2"},
    {"llhttp HEAD request", REQ, IN("HEAD /url HTTP/1.1\r\n\r\n"), 0, "m=HEAD|f=none"},
    {"llhttp curl GET", REQ,
     IN("GET /test HTTP/1.1\r\nUser-Agent: curl/7.18.0 (i486-pc-linux-gnu) libcurl/7.18.0 OpenSSL/0.9.8g "
        "zlib/1.2.3.3 libidn/1.1\r\nHost: 0.0.0.0=5000\r\nAccept: */*\r\n\r\n"), 0,
     "n=3|h1=Host:0.0.0.0=5000|h2=Accept:*/*"},
    {"llhttp firefox GET", REQ,
     IN("GET /favicon.ico HTTP/1.1\r\nHost: 0.0.0.0=5000\r\nUser-Agent: Mozilla/5.0 (X11; U; Linux i686; "
        "en-US; rv:1.9) Gecko/2008061015 Firefox/3.0\r\nAccept: text/html,application/xhtml+xml,"
        "application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-us,en;q=0.5\r\nAccept-Encoding: gzip,deflate\r\n"
        "Accept-Charset: ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\nKeep-Alive: 300\r\nConnection: keep-alive\r\n\r\n"),
     0, "n=8|h6=Keep-Alive:300|ka=1"},
    {"llhttp dumbpack", REQ, IN("GET /dumbpack HTTP/1.1\r\naaaaaaaaaaaaa:++++++++++\r\n\r\n"), 0,
     "h0=aaaaaaaaaaaaa:++++++++++"},
    {"llhttp no headers no body", REQ, IN("GET /get_no_headers_no_body/world HTTP/1.1\r\n\r\n"), 0,
     "t=/get_no_headers_no_body/world|n=0|f=none|ka=1"},
    {"llhttp one header", REQ, IN("GET /get_one_header_no_body HTTP/1.1\r\nAccept: */*\r\n\r\n"), 0, "n=1"},
    {"llhttp apache bench", REQ,
     IN("GET /test HTTP/1.0\r\nHost: 0.0.0.0:5000\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n"), 0,
     "v=1.0|ka=0"},
    {"llhttp prefix newline", REQ, IN("\r\nGET /test HTTP/1.1\r\n\r\n"), 0, "m=GET|t=/test"},
    {"llhttp no HTTP version", REQ, IN("GET /\r\n\r\n"), HTTP1_ETARGET, NULL},
    {"llhttp line folding with CRLF (strict)", REQ, IN("GET / HTTP/1.1\r\nLine1:   abc\r\n\tdef\r\n\r\n"),
     HTTP1_EOBS_FOLD, NULL},
    {"llhttp line folding with LF", REQ, IN("GET / HTTP/1.1\r\nLine1:   abc\n\tdef\n\r\n"), HTTP1_EBARE_LF,
     NULL},
    {"llhttp fold of an empty value", REQ, IN("GET / HTTP/1.1\r\nConnection:\r\n close\r\n\r\n"),
     HTTP1_EOBS_FOLD, NULL},
    {"llhttp no LF after CR", REQ, IN("GET / HTTP/1.1\rLine: 1\r\n\r\n"), HTTP1_EBARE_CR, NULL},
    {"llhttp request starting with CRLF", REQ, IN("\r\nGET /url HTTP/1.1\r\nHeader1: Value1\r\n\r\n"), 0,
     "t=/url|h0=Header1:Value1"},
    {"llhttp extended characters", REQ, IN("GET / HTTP/1.1\r\nTest: D\xc3\xbcsseldorf\r\n\r\n"), 0,
     "h0=Test:D\\xc3\\xbcsseldorf"},
    {"llhttp 255 in value", REQ, IN("OPTIONS /url HTTP/1.1\r\nHeader1: Value1\r\nHeader2: \xffValue2\r\n\r\n"),
     0, "h1=Header2:\\xffValue2"},
    {"llhttp X-SSL-Nonsense (folded)", REQ,
     IN("GET / HTTP/1.1\r\nX-SSL-Nonsense:   -----BEGIN CERTIFICATE-----\r\n\tMIIFbTCCBFWgAwIBAgICH4cwDQYJ\r\n"
        "\t-----END CERTIFICATE-----\r\n\r\n"), HTTP1_EOBS_FOLD, NULL},

    /* ---- llhttp test/request/invalid.md ---- */
    {"llhttp ICE protocol", REQ, IN("GET /music/sweet/music ICE/1.0\r\nHost: example.com\r\n\r\n"),
     HTTP1_EVERSION, NULL},
    {"llhttp IHTTP protocol", REQ, IN("GET /music/sweet/music IHTTP/1.0\r\nHost: example.com\r\n\r\n"),
     HTTP1_EVERSION, NULL},
    {"llhttp RTSP protocol", REQ, IN("PUT /music/sweet/music RTSP/1.0\r\nHost: example.com\r\n\r\n"),
     HTTP1_EVERSION, NULL},
    {"llhttp ANNOUNCE method (any token is a method here)", REQ,
     IN("ANNOUNCE /music/sweet/music HTTP/1.0\r\nHost: example.com\r\n\r\n"), 0, "m=ANNOUNCE"},
    {"llhttp headers separated by CR", REQ, IN("GET / HTTP/1.1\r\nFoo: 1\rBar: 2\r\n\r\n"), HTTP1_EBARE_CR,
     NULL},
    {"llhttp headers separated by LF", REQ,
     IN("POST / HTTP/1.1\r\nHost: localhost:5000\r\nx:x\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n"),
     HTTP1_EBARE_LF, NULL},
    {"llhttp headers separated by dummy characters", REQ,
     IN("GET / HTTP/1.1\r\nConnection: close\r\nHost: a\r\n\rZGET /evil: HTTP/1.1\r\nHost: a\r\n\r\n"),
     HTTP1_EBARE_CR, NULL},
    {"llhttp empty headers separated by CR", REQ,
     IN("POST / HTTP/1.1\r\nConnection: Close\r\nHost: localhost:5000\r\nx:\rTransfer-Encoding: chunked\r\n"
        "\r\n1\r\nA\r\n0\r\n\r\n"), HTTP1_EBARE_CR, NULL},
    {"llhttp empty headers separated by LF", REQ,
     IN("POST / HTTP/1.1\r\nHost: localhost:5000\r\nx:\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n"),
     HTTP1_EBARE_LF, NULL},
    {"llhttp invalid header token @", REQ, IN("GET / HTTP/1.1\r\nFo@: Failure\r\n\r\n"), HTTP1_EHEADER_NAME,
     NULL},
    {"llhttp invalid header token SOH", REQ, IN("GET / HTTP/1.1\r\nFoo\001\test: Bar\r\n\r\n"),
     HTTP1_EHEADER_NAME, NULL},
    {"llhttp invalid header token empty", REQ, IN("GET / HTTP/1.1\r\n: Bar\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"llhttp MKCOLA is a token (no method list here)", REQ, IN("MKCOLA / HTTP/1.1\r\n\r\n"), 0, "m=MKCOLA"},
    {"llhttp field name folding", REQ, IN("GET / HTTP/1.1\r\nname\r\n : value\r\n\r\n"), HTTP1_EHEADER_NAME,
     NULL},
    {"llhttp corrupted Connection", REQ,
     IN("GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection\r\033\065\325eep-Alive\r\n"
        "Accept-Encoding: gzip\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"llhttp corrupted header name", REQ,
     IN("GET / HTTP/1.1\r\nHost: www.example.com\r\nX-Some-Header\r\033\065\325eep-Alive\r\n"
        "Accept-Encoding: gzip\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"llhttp missing CR between headers (smuggling)", REQ,
     IN("GET / HTTP/1.1\r\nHost: localhost\r\nDummy: x\nContent-Length: 23\r\n\r\nGET / HTTP/1.1\r\n"
        "Dummy: GET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n"), HTTP1_EBARE_LF, NULL},
    {"llhttp HTTP/5.6", REQ, IN("GET / HTTP/5.6\r\n\r\n"), HTTP1_EVERSION_UNSUPPORTED, NULL},
    {"llhttp space after start line", REQ, IN("GET / HTTP/1.1\r\n Host: foo\r\n\r\n"), HTTP1_EOBS_FOLD, NULL},
    {"llhttp only LFs", REQ, IN("POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n"), HTTP1_EBARE_LF, NULL},
    {"llhttp spaces before headers (smuggling)", REQ,
     IN("POST /hello HTTP/1.1\r\nHost: localhost\r\nFoo: bar\r\n Content-Length: 38\r\n\r\nGET /bye HTTP/1.1\r\n"
        "Host: localhost\r\n\r\n"), HTTP1_EOBS_FOLD, NULL},
    {"llhttp form feed in value", REQ, IN("GET /url HTTP/1.1\r\nHeader1: \f\r\n\r\n"), HTTP1_EHEADER_VALUE, NULL},

    /* ---- llhttp test/request/uri.md ---- */
    {"llhttp quotes in URI", REQ, IN("GET /with_\"lovely\"_quotes?foo=\\\"bar\\\" HTTP/1.1\r\n\r\n"), 0,
     "t=/with_\"lovely\"_quotes?foo=\\x5c\"bar\\x5c\""},
    {"llhttp query with ?", REQ, IN("GET /test.cgi?foo=bar?baz HTTP/1.1\r\n\r\n"), 0, "t=/test.cgi?foo=bar?baz"},
    {"llhttp absolute form with query", REQ, IN("GET http://hypnotoad.org?hail=all HTTP/1.1\r\n\r\n"), 0,
     "t=http://hypnotoad.org?hail=all"},
    {"llhttp host:port with query", REQ, IN("GET http://hypnotoad.org:1234?hail=all HTTP/1.1\r\n\r\n"), 0,
     "t=http://hypnotoad.org:1234?hail=all"},
    {"llhttp vertical bar", REQ, IN("GET /test.cgi?query=| HTTP/1.1\r\n\r\n"), 0, "t=/test.cgi?query=\\x7c"},
    {"llhttp host:port", REQ, IN("GET http://hypnotoad.org:1234 HTTP/1.1\r\n\r\n"), 0,
     "t=http://hypnotoad.org:1234"},
    {"llhttp UTF-8 in path refused", REQ, IN("GET /\xce\xb4\xc2\xb6/\xce\xb4t/pope?q=1#narf HTTP/1.1\r\n\r\n"),
     HTTP1_ETARGET, NULL},
    {"llhttp fragment", REQ, IN("GET /forums/1/topics/2375?page=1#posts-17408 HTTP/1.1\r\n\r\n"), 0,
     "t=/forums/1/topics/2375?page=1#posts-17408"},
    {"llhttp CONNECT underscore host", REQ,
     IN("CONNECT home_0.netscape.com:443 HTTP/1.0\r\nUser-agent: Mozilla/1.1N\r\n"
        "Proxy-authorization: basic aGVsbG86d29ybGQ=\r\n\r\n"), 0, "m=CONNECT|t=home_0.netscape.com:443|n=2"},
    {"llhttp userinfo in target", REQ, IN("GET http://a%12:b!&*$@hypnotoad.org:1234/toto HTTP/1.1\r\n\r\n"), 0,
     "t=http://a%12:b!&*$@hypnotoad.org:1234/toto"},
    {"llhttp space in URI", REQ, IN("GET /foo bar/ HTTP/1.1\r\n\r\n"), HTTP1_EVERSION, NULL},

    /* ---- llhttp test/request/method.md ---- */
    {"llhttp REPORT", REQ, IN("REPORT /test HTTP/1.1\r\n\r\n"), 0, "m=REPORT"},
    {"llhttp CONNECT with data after", REQ,
     IN("CONNECT 0-home0.netscape.com:443 HTTP/1.0\r\nUser-agent: Mozilla/1.1N\r\n"
        "Proxy-authorization: basic aGVsbG86d29ybGQ=\r\n\r\nsome data\r\nand yet even more data"), 0,
     "m=CONNECT|f=none|rest=some data\\x0d\\x0aand yet even more data"},
    {"llhttp CONNECT caps", REQ, IN("CONNECT HOME0.NETSCAPE.COM:443 HTTP/1.0\r\nUser-agent: Mozilla/1.1N\r\n\r\n"),
     0, "t=HOME0.NETSCAPE.COM:443"},
    {"llhttp M-SEARCH", REQ,
     IN("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nST: \"ssdp:all\"\r\n\r\n"),
     0, "m=M-SEARCH|t=*|h1=MAN:\"ssdp:discover\""},
    {"llhttp PATCH with body", REQ,
     IN("PATCH /file.txt HTTP/1.1\r\nHost: www.example.com\r\nContent-Type: application/example\r\n"
        "If-Match: \"e0023aa4e\"\r\nContent-Length: 10\r\n\r\ncccccccccc"), 0,
     "m=PATCH|f=length:10|body=cccccccccc"},
    {"llhttp PURGE", REQ, IN("PURGE /file.txt HTTP/1.1\r\nHost: www.example.com\r\n\r\n"), 0, "m=PURGE"},
    {"llhttp SEARCH", REQ, IN("SEARCH / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"), 0, "m=SEARCH"},
    {"llhttp LINK with repeated Link", REQ,
     IN("LINK /images/my_dog.jpg HTTP/1.1\r\nHost: example.com\r\nLink: <http://example.com/profiles/joe>; "
        "rel=\"tag\"\r\nLink: <http://example.com/profiles/sally>; rel=\"tag\"\r\n\r\n"), 0,
     "m=LINK|n=3|h2=Link:<http://example.com/profiles/sally>; rel=\"tag\""},
    {"llhttp UNLINK", REQ, IN("UNLINK /images/my_dog.jpg HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0, "m=UNLINK"},
    {"llhttp SOURCE", REQ, IN("SOURCE /music/sweet/music HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0, "m=SOURCE"},
    {"llhttp SOURCE ICE (not HTTP)", REQ, IN("SOURCE /music/sweet/music ICE/1.0\r\nHost: example.com\r\n\r\n"),
     HTTP1_EVERSION, NULL},
    {"llhttp OPTIONS RTSP (not HTTP)", REQ, IN("OPTIONS /music/sweet/music RTSP/1.0\r\n\r\n"), HTTP1_EVERSION,
     NULL},
    {"llhttp PRI (HTTP/2 preface)", REQ, IN("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"), HTTP1_EMETHOD,
     "m=PRI|t=*|f=none|rest=SM\\x0d\\x0a\\x0d\\x0a"},
    {"llhttp QUERY with body", REQ,
     IN("QUERY /contacts HTTP/1.1\r\nHost: example.org\r\nContent-Type: example/query\r\nAccept: text/csv\r\n"
        "Content-Length: 41\r\n\r\nselect surname, givenname, email limit 10"), 0,
     "m=QUERY|body=select surname, givenname, email limit 10"},

    /* ---- llhttp test/request/content-length.md ---- */
    {"llhttp CL with zeroes", REQ, IN("PUT /url HTTP/1.1\r\nContent-Length: 003\r\n\r\nabc"), 0,
     "f=length:3|body=abc"},
    {"llhttp CL with follow-up headers", REQ, IN("PUT /url HTTP/1.1\r\nContent-Length: 003\r\nOhai: world\r\n\r\nabc"),
     0, "h1=Ohai:world|body=abc"},
    {"llhttp CL overflow", REQ, IN("PUT /url HTTP/1.1\r\nContent-Length: 1000000000000000000000\r\n\r\n"),
     HTTP1_ECONTENT_LENGTH, NULL},
    {"llhttp duplicate CL", REQ, IN("PUT /url HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
     HTTP1_ECONTENT_LENGTH_CONFLICT, NULL},
    {"llhttp CL and TE identity", REQ,
     IN("PUT /url HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: identity\r\n\r\n\r\n"), HTTP1_ECL_AND_TE,
     NULL},
    {"llhttp space before colon in CL", REQ,
     IN("PUT /url HTTP/1.1\r\nConnection: upgrade\r\nContent-Length : 4\r\nUpgrade: ws\r\n\r\nabcdefgh"),
     HTTP1_EHEADER_NAME, NULL},
    {"llhttp funky CL", REQ, IN("GET /get_funky_content_length_body_hello HTTP/1.0\r\nconTENT-Length: 5\r\n\r\nHELLO"),
     0, "f=length:5|body=HELLO|ka=0"},
    {"llhttp spaces around CL", REQ, IN("POST / HTTP/1.1\r\nContent-Length:  42 \r\n\r\n"), HTTP1_ETRUNCATED,
     NULL},
    {"llhttp tabs around CL", REQ, IN("POST / HTTP/1.1\r\nContent-Length:\t42\t  \r\n\r\n"), HTTP1_ETRUNCATED,
     NULL},
    {"llhttp spaces inside CL", REQ, IN("POST / HTTP/1.1\r\nContent-Length: 4 2\r\n\r\n"), HTTP1_ECONTENT_LENGTH,
     NULL},
    {"llhttp spaces inside CL 2", REQ, IN("POST / HTTP/1.1\r\nContent-Length: 13 37\r\n\r\n"),
     HTTP1_ECONTENT_LENGTH, NULL},
    {"llhttp empty CL", REQ, IN("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"), HTTP1_ECONTENT_LENGTH, NULL},
    {"llhttp CR instead of dash", REQ, IN("PUT /url HTTP/1.1\r\nContent\rLength: 003\r\n\r\nabc"),
     HTTP1_EHEADER_NAME, NULL},
    {"llhttp CL: head of the next message is not body", REQ,
     IN("PUT /url HTTP/1.1\r\nContent-Length: 123\r\n\r\n"), HTTP1_ETRUNCATED, NULL},
    {"llhttp missing CRLF-CRLF before body", REQ, IN("PUT /url HTTP/1.1\r\nContent-Length: 3\r\n\rabc"),
     HTTP1_EBARE_CR, NULL},

    /* ---- llhttp test/request/transfer-encoding.md ---- */
    {"llhttp chunked flag", REQ, IN("PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), HTTP1_ETRUNCATED,
     NULL},
    {"llhttp lowercase chunk size", REQ,
     IN("PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n"), 0,
     "f=chunked|body=0123456789|msgs=1"},
    {"llhttp uppercase chunk size", REQ,
     IN("PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"), 0,
     "body=0123456789"},
    {"llhttp POST chunked", REQ,
     IN("POST /post_chunked_all_your_base HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1e\r\n"
        "all your base are belong to us\r\n0\r\n\r\n"), 0, "body=all your base are belong to us"},
    {"llhttp triple zero last chunk", REQ,
     IN("POST /two_chunks_mult_zero_end HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n"
        " world\r\n000\r\n\r\n"), 0, "body=hello world"},
    {"llhttp trailing headers", REQ,
     IN("POST /chunked_w_trailing_headers HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n"
        " world\r\n0\r\nVary: *\r\nContent-Type: text/plain\r\n\r\n"), 0,
     "body=hello world|trailers=2|t0=Vary:*|t1=Content-Type:text/plain"},
    {"llhttp chunk extensions", REQ,
     IN("POST /chunked_w_unicorns_after_length HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ilovew3;somuchlove=aretheseparametersfor;another=withvalue\r\nhello\r\n6;blahblah;blah\r\n world\r\n"
        "0\r\n\r\n"), 0, "body=hello world"},
    {"llhttp no semicolon before extension", REQ,
     IN("POST /chunked_w_unicorns_after_length HTTP/1.1\r\nHost: localhost\r\nTransfer-encoding: chunked\r\n\r\n"
        "2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n"), HTTP1_ECHUNK_SIZE, NULL},
    {"llhttp no extension after semicolon", REQ,
     IN("POST /chunked_w_unicorns_after_length HTTP/1.1\r\nHost: localhost\r\nTransfer-encoding: chunked\r\n\r\n"
        "2;\r\naa\r\n0\r\n\r\n"), HTTP1_ECHUNK_EXT, NULL},
    {"llhttp extension quoting", REQ,
     IN("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ilovew3=\"I \\\"love\\\"; \\\\extensions\\\\\";somuchlove=\"aretheseparametersfor\";blah;foo=bar\r\n"
        "hello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n"), 0, "body=hello world"},
    {"llhttp unbalanced extension quoting", REQ,
     IN("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ilovew3=\"abc\";somuchlove=\"def; ghi\r\nhello\r\n"
        "6;blahblah;blah\r\n world\r\n0\r\n\r\n"), HTTP1_ECHUNK_EXT, NULL},
    {"llhttp TE pigeons", REQ, IN("PUT /url HTTP/1.1\r\nTransfer-Encoding: pigeons\r\n\r\n"),
     HTTP1_ETRANSFER_ENCODING, NULL},
    {"llhttp TE identity and CL", REQ,
     IN("POST /post_identity_body_world?q=search#hey HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: identity\r\n"
        "Content-Length: 5\r\n\r\nWorld"), HTTP1_ECL_AND_TE, NULL},
    {"llhttp empty TEs and CL", REQ,
     IN("POST / HTTP/1.1\r\nHost: foo\r\nContent-Length: 10\r\nTransfer-Encoding:\r\nTransfer-Encoding:\r\n"
        "Transfer-Encoding:\r\n\r\n2\r\nAA\r\n0\r\n"), HTTP1_ECL_AND_TE, NULL},
    {"llhttp chunked before deflate", REQ,
     IN("POST /p HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: chunked, deflate\r\n\r\nWorld"),
     HTTP1_ETRANSFER_ENCODING, NULL},
    {"llhttp chunked then deflate header", REQ,
     IN("POST /p HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: deflate\r\n\r\nWorld"),
     HTTP1_ETRANSFER_ENCODING, NULL},
    {"llhttp deflate, chunked", REQ,
     IN("POST /p HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: deflate, chunked\r\n\r\n5\r\nWorld\r\n0\r\n\r\n"), 0,
     "f=chunked|body=World"},
    {"llhttp deflate then chunked headers", REQ,
     IN("POST /p HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nWorld\r\n0\r\n\r\n"), 0, "f=chunked|body=World"},
    {"llhttp chunkedchunked", REQ,
     IN("POST /p HTTP/1.1\r\nAccept: */*\r\nTransfer-Encoding: chunkedchunked\r\n\r\n5\r\nWorld\r\n0\r\n\r\n"),
     HTTP1_ETRANSFER_ENCODING, NULL},
    {"llhttp missing last chunk", REQ, IN("PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nfoo\r\n\r\n"),
     HTTP1_ECHUNK_SIZE, NULL},
    {"llhttp chunk size with junk", REQ,
     IN("PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3 \n  \r\n\r\nfoo\r\n\r\n"), HTTP1_ECHUNK_SIZE,
     NULL},
    {"llhttp obs-fold after chunked", REQ,
     IN("PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n  abc\r\n\r\n5\r\nWorld\r\n0\r\n\r\n"),
     HTTP1_EOBS_FOLD, NULL},
    {"llhttp chunk line not ended by CRLF (smuggling)", REQ,
     IN("GET / HTTP/1.1\r\nHost: a\r\nConnection: close \r\nTransfer-Encoding: chunked \r\n\r\n5\r\r;ABCD\r\n"
        "34\r\nE\r\n0\r\n\r\nGET / HTTP/1.1 \r\nHost: a\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
     HTTP1_EBARE_CR, NULL},
    {"llhttp chunk data not ended by CRLF (smuggling)", REQ,
     IN("GET / HTTP/1.1\r\nHost: a\r\nConnection: close \r\nTransfer-Encoding: chunked \r\n\r\n5\r\nABCDE0\r\n\r\n"),
     HTTP1_ECHUNK_DATA, NULL},
    {"llhttp space after chunk size", REQ,
     IN("PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na \r\n0123456789\r\n0\r\n\r\n"),
     HTTP1_ECHUNK_SIZE, NULL},

    /* ---- llhttp test/request/connection.md, pipelining.md, finish.md ---- */
    {"llhttp keep-alive flag", REQ, IN("PUT /url HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"), 0, "ka=1"},
    {"llhttp restart after keep-alive", REQ,
     IN("PUT /url HTTP/1.1\r\nConnection: keep-alive\r\n\r\nPUT /url HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"),
     0, "msgs=2|1.m=PUT|1.ka=1"},
    {"llhttp 1.0 is close", REQ, IN("PUT /url HTTP/1.0\r\n\r\nPUT /url HTTP/1.1\r\n\r\n"), 0,
     "ka=0|msgs=1|rest=PUT /url HTTP/1.1\\x0d\\x0a\\x0d\\x0a"},
    {"llhttp CRLF between requests", REQ,
     IN("POST / HTTP/1.1\r\nHost: www.example.com\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 4\r\n\r\nq=42\r\n\r\nGET / HTTP/1.1\r\n"), INC, "body=q=42|ka=1"},
    {"llhttp CR inside Connection value", REQ, IN("PUT /url HTTP/1.1\r\nConnection: keep\ralive\r\n\r\n"),
     HTTP1_EBARE_CR, NULL},
    {"llhttp close flag", REQ, IN("PUT /url HTTP/1.1\r\nConnection: close\r\n\r\n"), 0, "ka=0"},
    {"llhttp close then tab", REQ, IN("PUT /url HTTP/1.1\r\nConnection: close\t\r\n\r\n"), 0,
     "h0=Connection:close|ka=0"},
    {"llhttp explicit close with more data", REQ,
     IN("POST / HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 4\r\nConnection: close\r\n\r\nq=42\r\n\r\n"
        "GET / HTTP/1.1\r\n"), 0,
     "ka=0|body=q=42|msgs=1|rest=\\x0d\\x0a\\x0d\\x0aGET / HTTP/1.1\\x0d\\x0a"},
    {"llhttp many Connection tokens", REQ,
     IN("PUT /url HTTP/1.1\r\nConnection: close, token, upgrade, token, keep-alive\r\n\r\n"), 0, "ka=0"},
    {"llhttp Connection tokens folded", REQ,
     IN("GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Something,\r\n Upgrade, ,Keep-Alive\r\n\r\n"),
     HTTP1_EOBS_FOLD, NULL},
    {"llhttp Connection keep-alive, upgrade", REQ,
     IN("GET /demo HTTP/1.1\r\nConnection: keep-alive, upgrade\r\nUpgrade: WebSocket\r\n\r\nHot diggity dogg"), 0,
     "ka=1|f=none|rest=Hot diggity dogg"},
    {"llhttp Connection with CRLF fold", REQ,
     IN("GET /demo HTTP/1.1\r\nConnection: keep-alive, \r\n upgrade\r\nUpgrade: WebSocket\r\n\r\n"),
     HTTP1_EOBS_FOLD, NULL},
    {"llhttp space before colon in Connection", REQ,
     IN("PUT /url HTTP/1.1\r\nConnection : upgrade\r\nContent-Length: 4\r\nUpgrade: ws\r\n\r\nabcdefgh"),
     HTTP1_EHEADER_NAME, NULL},
    {"llhttp upgrade with body", REQ,
     IN("PUT /url HTTP/1.1\r\nConnection: upgrade\r\nContent-Length: 4\r\nUpgrade: ws\r\n\r\nabcdefgh"), 0,
     "body=abcd|rest=efgh"},
    {"llhttp upgrade GET", REQ,
     IN("GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n"
        "Sec-WebSocket-Protocol: sample\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n"
        "Origin: http://example.com\r\n\r\nHot diggity dogg"), 0,
     "n=7|h2=Sec-WebSocket-Key2:12998 5 Y3 1  .P00|rest=Hot diggity dogg"},
    {"llhttp pipelining", REQ,
     IN("POST /aaa HTTP/1.1\r\nContent-Length: 3\r\n\r\nAAA\r\nPUT /bbb HTTP/1.1\r\nContent-Length: 4\r\n\r\n"
        "BBBB\r\nPATCH /ccc HTTP/1.1\r\nContent-Length: 5\r\n\r\nCCCC"), HTTP1_ETRUNCATED,
     "body=AAA|1.m=PUT|1.body=BBBB|2.m=PATCH"},
    {"llhttp finish after GET", REQ, IN("GET / HTTP/1.1\r\n\r\n"), 0, "f=none"},
    {"llhttp finish inside PUT body", REQ, IN("PUT / HTTP/1.1\r\nContent-Length: 100\r\n\r\n"), HTTP1_ETRUNCATED,
     NULL},
    {"llhttp finish inside head", REQ, IN("PUT / HTTP/1.1\r\nContent-Leng"), INC, NULL},

    /* ---- llhttp test/response/ ---- */
    {"llhttp res Proxy-Connection", RES,
     IN("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: 11\r\nProxy-Connection: close\r\n"
        "Date: Thu, 31 Dec 2009 20:55:48 +0000\r\n\r\nhello world"), 0, "body=hello world|ka=1"},
    {"llhttp res 1.0 keep-alive until close", RES, IN("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nHTTP/1.0 200 OK"),
     0, "f=close|ka=0|body=HTTP/1.0 200 OK"},
    {"llhttp res 1.0 keep-alive 204", RES,
     IN("HTTP/1.0 204 No content\r\nConnection: keep-alive\r\n\r\nHTTP/1.0 200 OK"), INC, "s=204|f=none|ka=1"},
    {"llhttp res 1.1 until close", RES, IN("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK"), 0,
     "f=close|ka=0|body=HTTP/1.1 200 OK"},
    {"llhttp res 1.1 204", RES, IN("HTTP/1.1 204 No content\r\n\r\nHTTP/1.1 200 OK"), INC, "f=none|ka=1"},
    {"llhttp res 204 with close", RES, IN("HTTP/1.1 204 No content\r\nConnection: close\r\n\r\n"), 0,
     "f=none|ka=0"},
    {"llhttp res close with CL, then junk", RES,
     IN("HTTP/1.1 200 No content\r\nContent-Length: 5\r\nConnection: close\r\n\r\n2ad731e3-4dcd"), 0,
     "ka=0|body=2ad73|rest=1e3-4dcd"},
    {"llhttp res 101 with CL", RES,
     IN("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 4\r\n\r\n"
        "bodyproto"), 0, "s=101|f=none|rest=bodyproto"},
    {"llhttp res 101 with TE", RES,
     IN("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\nTransfer-Encoding: chunked\r\n"
        "\r\n2\r\nbo\r\n2\r\ndy\r\n0\r\n\r\nproto"), 0,
     "s=101|f=none|rest=2\\x0d\\x0abo\\x0d\\x0a2\\x0d\\x0ady\\x0d\\x0a0\\x0d\\x0a\\x0d\\x0aproto"},
    {"llhttp res 200 upgrade until close", RES, IN("HTTP/1.1 200 OK\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\nbody"),
     0, "f=close|body=body"},
    {"llhttp res 200 upgrade CL", RES,
     IN("HTTP/1.1 200 OK\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 4\r\n\r\nbody"), 0, "body=body"},
    {"llhttp res 200 upgrade chunked", RES,
     IN("HTTP/1.1 200 OK\r\nConnection: upgrade\r\nUpgrade: h2c\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nbo\r\n"
        "2\r\ndy\r\n0\r\n\r\n"), 0, "f=chunked|body=body"},
    {"llhttp res 304 with CL", RES,
     IN("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
     0, "s=304|f=none|msgs=2|1.s=200|1.body=hello"},
    {"llhttp res 304 with TE", RES,
     IN("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: "
        "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), 0, "s=304|f=none|1.s=200|1.body=hello"},
    {"llhttp res 100 then 404", RES,
     IN("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 14\r\nDate: Fri, 15 Sep 2023 19:47:23 GMT\r\nServer: Python/3.10 aiohttp/4.0.0a2.dev0\r\n"
        "\r\n404: Not Found"), 0, "s=100|f=none|1.s=404|1.r=Not Found|1.body=404: Not Found"},
    {"llhttp res 103 then 200", RES,
     IN("HTTP/1.1 103 Early Hints\r\nLink: </styles.css>; rel=preload; as=style\r\n\r\nHTTP/1.1 200 OK\r\n"
        "Date: Wed, 13 Sep 2023 11:09:41 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
        "Content-Length: 17\r\n\r\nresponse content\n"), 0, "s=103|1.s=200|1.ka=1"},
    {"llhttp res no CL, body until close", RES,
     IN("HTTP/1.1 200 OK\r\nDate: Tue, 04 Aug 2009 07:59:32 GMT\r\nServer: Apache\r\nConnection: close\r\n\r\n"
        "<?xml version=\"1.0\"?>\n<SOAP-ENV:Envelope/>"), 0, "f=close|body=<?xml version=\"1.0\"?>\\x0a<SOAP-ENV:Envelope/>"},
    {"llhttp res Content-Length-X is not CL", RES,
     IN("HTTP/1.1 200 OK\r\nContent-Length-X: 0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n"), 0,
     "f=chunked|body=OK"},
    {"llhttp res tabs around CL", RES, IN("HTTP/1.1 200 OK\r\nContent-Length:\t42\t\r\n\r\n"), HTTP1_ETRUNCATED,
     NULL},
    {"llhttp res HTP", RES, IN("HTP/1.1 200 OK\r\n\r\n"), HTTP1_EVERSION, NULL},
    {"llhttp res HTTP/01.1", RES, IN("HTTP/01.1 200 OK\r\n\r\n"), HTTP1_EVERSION, NULL},
    {"llhttp res HTTP/11.1", RES, IN("HTTP/11.1 200 OK\r\n\r\n"), HTTP1_EVERSION, NULL},
    {"llhttp res HTTP/1.01", RES, IN("HTTP/1.01 200 OK\r\n\r\n"), HTTP1_EVERSION, NULL},
    {"llhttp res tab after version", RES, IN("HTTP/1.1\t200 OK\r\n\r\n"), HTTP1_EVERSION, NULL},
    {"llhttp res CR first", RES, IN("\rHTTP/1.1\t200 OK\r\n\r\n"), HTTP1_EBARE_CR, NULL},
    {"llhttp res headers separated by CR", RES, IN("HTTP/1.1 200 OK\r\nFoo: 1\rBar: 2\r\n\r\n"), HTTP1_EBARE_CR,
     NULL},
    {"llhttp res bare CR after status line", RES, IN("HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n"),
     HTTP1_EBARE_CR, NULL},
    {"llhttp res CR CR after status line", RES, IN("HTTP/1.1 200 OK\r\rContent-Length: 4\r\n\r\nEvil"),
     HTTP1_EBARE_CR, NULL},
    {"llhttp res HTTP/5.6", RES, IN("HTTP/5.6 200 OK\r\n\r\n"), HTTP1_EVERSION_UNSUPPORTED, NULL},
    {"llhttp res space after status line", RES, IN("HTTP/1.1 200 OK\r\n Host: foo\r\n\r\n"), HTTP1_EOBS_FOLD, NULL},
    {"llhttp res two spaces before status", RES, IN("HTTP/1.1  200 OK\r\n\r\n"), HTTP1_ESTATUS, NULL},
    {"llhttp res two spaces after status", RES, IN("HTTP/1.1 200  OK\r\n\r\n"), 0, "s=200|r= OK"},
    {"llhttp res one-digit status", RES, IN("HTTP/1.1 2 OK\r\n\r\n"), HTTP1_ESTATUS, NULL},
    {"llhttp res only LFs", RES, IN("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), HTTP1_EBARE_LF, NULL},
    {"llhttp res pipelining", RES,
     IN("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nAAA\r\nHTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\n"
        "BBBB\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nCCCC"), HTTP1_ETRUNCATED,
     "body=AAA|1.s=201|1.body=BBBB|2.s=202"},
    {"llhttp res simple", RES,
     IN("HTTP/1.1 200 OK\r\nHeader1: Value1\r\nHeader2:\t Value2\r\nContent-Length: 0\r\n\r\n"), 0,
     "h1=Header2:Value2|f=length:0|body="},
    {"llhttp res RTSP", RES, IN("RTSP/1.1 200 OK\r\n\r\n"), HTTP1_EVERSION, NULL},
    {"llhttp res ICE", RES, IN("ICE/1.1 200 OK\r\n\r\n"), HTTP1_EVERSION, NULL},
    {"llhttp res HTTPER", RES, IN("HTTPER/1.1 200 OK\r\n\r\n"), HTTP1_EVERSION, NULL},
    {"llhttp res google 301", RES,
     IN("HTTP/1.1 301 Moved Permanently\r\nLocation: http://www.google.com/\r\nX-$PrototypeBI-Version: 1.6.0.3\r\n"
        "Content-Length:  5  \r\n\r\n<HTML"), 0, "s=301|h0=Location:http://www.google.com/|body=<HTML"},
    {"llhttp res amazon chunked", RES,
     IN("HTTP/1.1 301 MovedPermanently\r\nDate: Wed, 15 May 2013 17:06:33 GMT\r\nTransfer-Encoding: chunked\r\n\r\n"
        "1\r\n\n\r\n0\r\n\r\n"), 0, "r=MovedPermanently|body=\\x0a"},
    {"llhttp res 404 no headers", RES, IN("HTTP/1.1 404 Not Found\r\n\r\n"), 0, "s=404|f=close"},
    {"llhttp res no reason", RES, IN("HTTP/1.1 301\r\n\r\n"), 0, "s=301|r="},
    {"llhttp res empty reason after space", RES, IN("HTTP/1.1 200 \r\n\r\n"), 0, "r="},
    {"llhttp res no carriage return", RES, IN("HTTP/1.1 200 OK\nContent-Type: text/html\n\n"), HTTP1_EBARE_LF, NULL},
    {"llhttp res underscore in name", RES,
     IN("HTTP/1.1 200 OK\r\nServer: DCLK-AdSvr\r\nContent-Length: 0\r\nDCLK_imp: v7;x;114750856;0-0;0\r\n\r\n"), 0,
     "h2=DCLK_imp:v7;x;114750856;0-0;0"},
    {"llhttp res empty Pragma", RES,
     IN("HTTP/1.0 301 Moved Permanently\r\nPragma: \r\nLocation: http://www.bonjourmadame.fr/\r\nContent-Length: 0\r\n"
        "Connection: keep-alive\r\n\r\n"), 0, "h0=Pragma:|ka=1|v=1.0"},
    {"llhttp res odd names, chunked", RES,
     IN("HTTP/1.1 200 OK\r\n.et-Cookie: PlaxoCS=1274804622353690521; path=/\r\n_eep-Alive: timeout=45\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"), 0, "h1=_eep-Alive:timeout=45|ka=0|body="},
    {"llhttp res space in name", RES,
     IN("HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/6.0\r\nen-US Content-Type: text/xml\r\n\r\n"), HTTP1_EHEADER_NAME,
     NULL},
    {"llhttp res non-ASCII reason", RES, IN("HTTP/1.1 500 Ori\xc3\xabntatieprobleem\r\nContent-Length: 0\r\n\r\n"), 0,
     "r=Ori\\xc3\\xabntatieprobleem"},
    {"llhttp res HTTP/0.9", RES, IN("HTTP/0.9 200 OK\r\n\r\n"), HTTP1_EVERSION_UNSUPPORTED, NULL},
    {"llhttp res starting with CRLF", RES, IN("\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0, "s=200"},
    {"llhttp res trailing space on chunk size", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n25  \r\nThis is the data in the first chunk\r\n\r\n"),
     HTTP1_ECHUNK_SIZE, NULL},
    {"llhttp res chunked, deflate: until close (RFC 9112 6.3)", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, deflate\r\n\r\nWorld"), 0, "f=close|ka=0|body=World"},
    {"llhttp res chunked then identity header", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\nWorld"), 0,
     "f=close|body=World"},
    {"llhttp res chunkedchunked: until close", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedchunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n"), 0,
     "f=close|body=2\\x0d\\x0aOK\\x0d\\x0a0\\x0d\\x0a\\x0d\\x0a"},
    {"llhttp res chunk extensions", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-encoding: chunked\r\n\r\n5;ilovew3;somuchlove=aretheseparametersfor\r\nhello\r\n"
        "6;blahblah;blah\r\n world\r\n0\r\n\r\n"), 0, "body=hello world"},
    {"llhttp res no semicolon before extension", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-encoding: chunked\r\n\r\n2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n"),
     HTTP1_ECHUNK_SIZE, NULL},
    {"llhttp res no extension after semicolon", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-encoding: chunked\r\n\r\n2;\r\naa\r\n0\r\n\r\n"), HTTP1_ECHUNK_EXT, NULL},
    {"llhttp res extension quoting", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ilovew3=\"I love; extensions\";"
        "somuchlove=\"aretheseparametersfor\";blah;foo=bar\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n"), 0,
     "body=hello world"},
    {"llhttp res unbalanced extension quoting", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ilovew3=\"abc\";somuchlove=\"def; ghi\r\nhello\r\n"
        "0\r\n\r\n"), HTTP1_ECHUNK_EXT, NULL},
    {"llhttp res obs-fold after chunked", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n  abc\r\n\r\n5\r\nWorld\r\n0\r\n\r\n"), HTTP1_EOBS_FOLD,
     NULL},

    /* ---- RFC 9112 and RFC 9110: framing and smuggling ---- */
    {"9112 6.3: CL list of equal values", REQ, IN("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello"), 0,
     "f=length:5|body=hello"},
    {"9112 6.3: equal duplicate CL fields", REQ,
     IN("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello"), 0, "f=length:5"},
    {"9112 6.3: CL list of unequal values", REQ, IN("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\nhello"),
     HTTP1_ECONTENT_LENGTH_CONFLICT, NULL},
    {"9112 6.3: CL list with empty element", REQ, IN("POST / HTTP/1.1\r\nContent-Length: 5,\r\n\r\nhello"),
     HTTP1_ECONTENT_LENGTH, NULL},
    {"9110 8.6: CL with plus sign", REQ, IN("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello"),
     HTTP1_ECONTENT_LENGTH, NULL},
    {"9110 8.6: negative CL", REQ, IN("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), HTTP1_ECONTENT_LENGTH,
     NULL},
    {"9110 8.6: hex CL", REQ, IN("POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\nhello"), HTTP1_ECONTENT_LENGTH,
     NULL},
    {"9110 8.6: CL with letters", REQ, IN("POST / HTTP/1.1\r\nContent-Length: 5a\r\n\r\nhello"),
     HTTP1_ECONTENT_LENGTH, NULL},
    {"9110 8.6: CL 2^64 overflows", REQ, IN("POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n"),
     HTTP1_ECONTENT_LENGTH, NULL},
    {"9110 8.6: CL over the body limit", REQ, IN("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
     HTTP1_EBODY_TOO_LARGE, NULL, &small_body},
    {"9112 6.1: CL after TE", REQ, IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
     HTTP1_ECL_AND_TE, NULL},
    {"9112 6.1: CL and TE in a response too", RES,
     IN("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), HTTP1_ECL_AND_TE, NULL},
    {"9112 6.1: TE chunked twice", REQ, IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"),
     HTTP1_ETRANSFER_ENCODING, NULL},
    {"9112 6.1: TE chunked twice in fields", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
     HTTP1_ETRANSFER_ENCODING, NULL},
    {"9112 6.1: TE case-insensitive", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: ChUnKeD\r\n\r\n1\r\nx\r\n0\r\n\r\n"), 0, "f=chunked|body=x"},
    {"9112 6.1: gzip, chunked response", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"), 0, "f=chunked|body=x"},
    {"9112 6.1: unknown coding before chunked in a request", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: foo, chunked\r\n\r\n"), HTTP1_ETRANSFER_ENCODING, NULL},
    {"9112 6.1: unknown coding before chunked in a response", RES,
     IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n"), 0, "f=chunked"},
    {"9112 6.1: TE empty alone", REQ, IN("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n"),
     HTTP1_ETRANSFER_ENCODING, NULL},
    {"9112 6.1: TE with empty list elements", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: , chunked ,\r\n\r\n0\r\n\r\n"), 0, "f=chunked"},
    {"9112 6.1: TE chunked with parameter", REQ, IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked;q=1\r\n\r\n"),
     HTTP1_ETRANSFER_ENCODING, NULL},
    {"9112 6.1: TE two words", REQ, IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked chunked\r\n\r\n"),
     HTTP1_ETRANSFER_ENCODING, NULL},
    {"9112 6.1: TE in HTTP/1.0 request", REQ,
     IN("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), HTTP1_ETE_HTTP10, NULL},
    {"9112 6.1: TE in HTTP/1.0 response", RES, IN("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
     HTTP1_ETE_HTTP10, NULL},
    {"9112 6.1: TE with a vertical tab", REQ, IN("POST / HTTP/1.1\r\nTransfer-Encoding: \vchunked\r\n\r\n"),
     HTTP1_EHEADER_VALUE, NULL},
    {"9112 6.1: TE written as Transfer_Encoding is another field", REQ,
     IN("POST / HTTP/1.1\r\nTransfer_Encoding: chunked\r\nContent-Length: 1\r\n\r\nx"), 0, "f=length:1|body=x"},
    {"9112 6.3: request without CL or TE has no body", REQ, IN("POST / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 0,
     "f=none|msgs=2|1.m=GET"},
    {"9112 6.3: response to HEAD has no body", RES_HEAD, IN("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), 0,
     "f=none|ka=1"},
    {"9112 6.3: response to HEAD, chunked, has no body", RES_HEAD,
     IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 0, "f=none"},
    {"9112 6.3: 2xx to CONNECT is a tunnel", RES_CONNECT,
     IN("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01"), 0, "f=none|rest=\\x16\\x03\\x01"},
    {"9112 6.3: 407 to CONNECT has a body", RES_CONNECT,
     IN("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno"), 0, "body=no"},
    {"9112 9.3: 1.0 response keep-alive token", RES,
     IN("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"), 0, "ka=1"},
    {"9112 9.6: close among tokens, other case", RES,
     IN("HTTP/1.1 200 OK\r\nConnection: foo, CLOSE\r\nContent-Length: 0\r\n\r\n"), 0, "ka=0"},
    {"9112 9.6: close in a second Connection field", REQ,
     IN("GET / HTTP/1.1\r\nConnection: upgrade\r\nConnection: close\r\n\r\n"), 0, "ka=0"},
    {"9112 9.6: closed is not close", REQ, IN("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n"), 0, "ka=1"},
    {"9112 2.3: HTTP/1.2 is not spoken here", REQ, IN("GET / HTTP/1.2\r\n\r\n"), HTTP1_EVERSION_UNSUPPORTED, NULL},
    {"9112 2.3: HTTP/2.0 request line", REQ, IN("GET / HTTP/2.0\r\n\r\n"), HTTP1_EVERSION_UNSUPPORTED, NULL},
    {"9112 2.3: lowercase http", REQ, IN("GET / http/1.1\r\n\r\n"), HTTP1_EVERSION, NULL},
    {"9112 3: tab between method and target", REQ, IN("GET\t/ HTTP/1.1\r\n\r\n"), HTTP1_EMETHOD, NULL},
    {"9112 3: trailing space after version", REQ, IN("GET / HTTP/1.1 \r\n\r\n"), HTTP1_EVERSION, NULL},
    {"9112 3: non-ASCII method", REQ, IN("G\xc3\x89T / HTTP/1.1\r\n\r\n"), HTTP1_EMETHOD, NULL},
    {"9112 4: status 099", RES, IN("HTTP/1.1 099 Low\r\n\r\n"), HTTP1_ESTATUS, NULL},
    {"9112 4: status 1000", RES, IN("HTTP/1.1 1000 Big\r\n\r\n"), HTTP1_ESTATUS, NULL},
    {"9112 4: status 999 accepted", RES, IN("HTTP/1.1 999 Request denied\r\nContent-Length: 0\r\n\r\n"), 0, "s=999"},
    {"9112 4: status with sign", RES, IN("HTTP/1.1 +20 OK\r\n\r\n"), HTTP1_ESTATUS, NULL},
    {"9112 4: NUL in reason", RES, IN("HTTP/1.1 200 O\0K\r\n\r\n"), HTTP1_EREASON, NULL},
    {"9112 4: tab in reason", RES, IN("HTTP/1.1 200 O\tK\r\nContent-Length: 0\r\n\r\n"), 0, "r=O\\x09K"},
    {"9112 5.1: tab before colon", REQ, IN("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"9112 5.1: line without colon", REQ, IN("GET / HTTP/1.1\r\nHost\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"9112 5.1: empty value with only spaces", REQ, IN("GET / HTTP/1.1\r\nX:    \r\n\r\n"), 0, "h0=X:"},
    {"9112 5.1: colon inside value", REQ, IN("GET / HTTP/1.1\r\nX: a:b: c\r\n\r\n"), 0, "h0=X:a:b: c"},
    {"9112 5.2: obs-fold with tab", RES, IN("HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n"), HTTP1_EOBS_FOLD, NULL},
    {"9110 5.5: DEL in value", REQ, IN("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n"), HTTP1_EHEADER_VALUE, NULL},
    {"9112 2.2: bare CR in target", REQ, IN("GET /a\rb HTTP/1.1\r\n\r\n"), HTTP1_ETARGET, NULL},
    {"9112 2.2: bare LF after request line", REQ, IN("GET / HTTP/1.1\nHost: a\r\n\r\n"), HTTP1_EBARE_LF, NULL},
    {"9112 2.2: bare LF ends the head", REQ, IN("GET / HTTP/1.1\r\nHost: a\r\n\n"), HTTP1_EBARE_LF, NULL},
    {"9112 2.2: several empty lines first", REQ, IN("\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 0, "m=GET"},
    {"9112 2.2: bare LF as empty line first", REQ, IN("\nGET / HTTP/1.1\r\n\r\n"), HTTP1_EBARE_LF, NULL},
    {"9112 7.1: chunked with trailer and next request", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=\"y\"\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n"
        "GET /n HTTP/1.1\r\n\r\n"), 0, "body=abc|t0=X-Sum:1|msgs=2|1.t=/n"},
    {"9112 7.1: chunk size over the body limit", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), HTTP1_EBODY_TOO_LARGE, NULL,
     &small_body},
    {"9112 7.1: chunks summing over the body limit", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"),
     HTTP1_EBODY_TOO_LARGE, NULL, &small_body},
    {"9112 7.1: body at the limit", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n2\r\nll\r\n0\r\n\r\n"), 0, "body=hell",
     &small_body},
    {"9112 7.1.2: obs-fold in trailers", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\n 2\r\n\r\n"), HTTP1_EOBS_FOLD, NULL},
    {"9112 7.1.2: bad trailer name", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA B: 1\r\n\r\n"), HTTP1_EHEADER_NAME, NULL},
    {"9112 7.1.2: bare LF in trailers", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\n\r\n"), HTTP1_EBARE_LF, NULL},
    {"9112 7.1.2: trailers cut short", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\n"), HTTP1_ETRUNCATED, NULL},
    {"9112 7.1.2: too many trailers", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
     HTTP1_ETOO_MANY_HEADERS, NULL, &two_headers},
    {"limits: head over max_head", REQ, IN("GET / HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"),
     HTTP1_EHEAD_TOO_LARGE, NULL, &tiny_head},
    {"limits: head just within max_head", REQ, IN("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0, "n=1",
     &tiny_head},
    {"limits: too many headers", REQ, IN("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), HTTP1_ETOO_MANY_HEADERS,
     NULL, &two_headers},
    {"limits: headers at the count", REQ, IN("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n"), 0, "n=2", &two_headers},
    {"limits: body until close over the limit", RES, IN("HTTP/1.1 200 OK\r\n\r\nhello"), HTTP1_EBODY_TOO_LARGE,
     NULL, &small_body},
    {"truncated: chunk data", RES, IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
     HTTP1_ETRUNCATED, NULL},
    {"truncated: no last chunk", RES, IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"),
     HTTP1_ETRUNCATED, NULL},
    {"truncated: CL body", RES, IN("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"), HTTP1_ETRUNCATED, NULL},
    {"hostile: empty input", REQ, IN(""), INC, NULL},
    {"hostile: only CRLFs", REQ, IN("\r\n\r\n\r\n"), INC, NULL},
    {"hostile: binary", REQ, IN("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), HTTP1_EMETHOD, NULL},
    {"hostile: TLS to a plain response reader", RES, IN("\x16\x03\x03\x00\x02\x02\x28"), HTTP1_EVERSION, NULL},
    {"hostile: NUL before the head", REQ, IN("\0GET / HTTP/1.1\r\n\r\n"), HTTP1_EMETHOD, NULL},
    {"hostile: chunk size of 17 hex digits", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n"), HTTP1_EBODY_TOO_LARGE, NULL},
    {"hostile: negative chunk size", REQ, IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n"),
     HTTP1_ECHUNK_SIZE, NULL},
    {"hostile: 0x prefix on chunk size", REQ,
     IN("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"), HTTP1_ECHUNK_SIZE, NULL},
};

/* ---- running a case ---- */

struct result {
    int err;
    char sum[8192];
    size_t n;
};

/* Appends to the summary, escaping what would be ambiguous or invisible. */
static void add_raw(struct result *r, const char *s, size_t n)
{
    for (size_t i = 0; i < n && r->n + 5 < sizeof r->sum; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '|' || c == '\\')
            r->n += (size_t)sprintf(r->sum + r->n, "\\x%02x", c);
        else
            r->sum[r->n++] = (char)c;
    }
    r->sum[r->n] = '\0';
}

static void add(struct result *r, int msg, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds "|<msg>.key=value" (no "<msg>." for the first message). */
static void add(struct result *r, int msg, const char *key, const char *fmt, ...)
{
    char v[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    char k[64];
    int kn = msg ? snprintf(k, sizeof k, "|%d.%s=", msg, key) : snprintf(k, sizeof k, "|%s=", key);
    if (r->n + (size_t)kn + strlen(v) + 1 < sizeof r->sum) {
        memcpy(r->sum + r->n, k, (size_t)kn);
        r->n += (size_t)kn;
        memcpy(r->sum + r->n, v, strlen(v) + 1);
        r->n += strlen(v);
    }
}

static void add_span(struct result *r, int msg, const char *key, const char *p, size_t n)
{
    add(r, msg, key, "%s", "");
    add_raw(r, p, n);
}

static void add_fields(struct result *r, int msg, const char *key, const struct http1_fields *f)
{
    for (size_t i = 0; i < f->count; i++) {
        char k[32];
        snprintf(k, sizeof k, "%s%zu", key, i);
        add(r, msg, k, "%s", "");
        add_raw(r, f->at[i].name.p, f->at[i].name.len);
        add_raw(r, ":", 1);
        add_raw(r, f->at[i].value.p, f->at[i].value.len);
    }
}

static const char *kind_name(struct http1_framing f, char *buf)
{
    static const char *const names[] = {"none", "length", "chunked", "close"};
    if (f.kind == HTTP1_BODY_LENGTH)
        sprintf(buf, "length:%llu", (unsigned long long)f.length);
    else
        strcpy(buf, names[f.kind]);
    return buf;
}

static void rebase(struct http1_str *s, const char *from, const char *to)
{
    s->p = to + (s->p - from);
}

static void rebase_fields(struct http1_fields *f, const char *from, const char *to)
{
    for (size_t i = 0; i < f->count; i++) {
        rebase(&f->at[i].name, from, to);
        rebase(&f->at[i].value, from, to);
    }
}

/* Whether the connection now belongs to another protocol: CONNECT, or an upgrade. */
static bool handed_over(const struct mcase *c, const struct http1_request *req,
                        const struct http1_response *resp)
{
    if (c->type == REQ)
        return http1_str_ieq(req->method, "CONNECT") ||
               (http1_header_has_token(&req->headers, "connection", "upgrade") &&
                http1_header_get(&req->headers, "upgrade"));
    return resp->status == 101 || (c->type == RES_CONNECT && resp->status / 100 == 2);
}

/* Parses a head from in[0, len) as the parser would see it arrive `step` bytes at a
 * time (0: all at once); each call sees a buffer of exactly the bytes it was given. */
static int parse_head(const struct mcase *c, const char *in, size_t len, size_t step,
                      struct http1_request *req, struct http1_response *resp)
{
    size_t n = step ? 0 : len;
    for (;;) {
        if (step)
            n = n + step < len ? n + step : len;
        char *copy = malloc(n ? n : 1);
        memcpy(copy, in, n);
        int rc = c->type == REQ ? http1_parse_request(copy, n, req, c->lim)
                                : http1_parse_response(copy, n, resp, c->lim);
        /* The head points into copy: rebase it onto `in`, which outlives it. */
        if (rc > 0 && c->type == REQ) {
            rebase(&req->method, copy, in);
            rebase(&req->target, copy, in);
            rebase_fields(&req->headers, copy, in);
        } else if (rc > 0) {
            rebase(&resp->reason, copy, in);
            rebase_fields(&resp->headers, copy, in);
        }
        free(copy);
        if (rc != HTTP1_INCOMPLETE || n == len)
            return rc;
    }
}

static const char *request_method(int type)
{
    return type == RES_HEAD ? "HEAD" : type == RES_CONNECT ? "CONNECT" : "GET";
}

/* Decodes a body from in[0, len) in slices of `step`; returns the decoder's result and
 * adds body and trailers to the summary; *used is where the next message starts. */
static int decode_body(struct http1_body_decoder *d, const char *in, size_t len, size_t step,
                       struct result *r, int msg, size_t *used)
{
    char *body = malloc(len + 1);
    size_t blen = 0, pos = 0;
    int rc;
    for (;;) {
        size_t n = step && len - pos > step ? step : len - pos;
        char *slice = malloc(n ? n : 1);
        memcpy(slice, in + pos, n);
        size_t k;
        const char *data;
        size_t dlen;
        rc = http1_body_decode(d, slice, n, &k, &data, &dlen);
        ck_assert_uint_le(k, n);
        memcpy(body + blen, data ? data : "", dlen);
        blen += dlen;
        free(slice);
        pos += k;
        if (rc == HTTP1_INCOMPLETE && pos == len)
            rc = http1_body_finish(d);
        else if (rc == HTTP1_BODY_DATA || rc == HTTP1_INCOMPLETE)
            continue;
        break;
    }
    if (rc == HTTP1_BODY_DONE) {
        add_span(r, msg, "body", body, blen);
        add(r, msg, "trailers", "%zu", d->trailers ? d->trailers->count : 0);
        if (d->trailers)
            add_fields(r, msg, "t", d->trailers);
    }
    free(body);
    *used = pos;
    return rc;
}

/* Runs every message of a case, summarising each, until an error or the input ends. */
static void run(const struct mcase *c, size_t step, struct result *r)
{
    memset(r, 0, sizeof *r);
    size_t pos = 0;
    int msg = 0, heads = 0;
    for (;; msg++) {
        static struct http1_request req;
        static struct http1_response resp;
        int rc = parse_head(c, c->in + pos, c->len - pos, step, &req, &resp);
        if (rc <= 0) {
            r->err = rc == HTTP1_INCOMPLETE ? INC : rc;
            break;
        }
        pos += (size_t)rc;
        heads++;
        struct http1_framing f;
        char kb[64];
        bool ka;
        if (c->type == REQ) {
            add_span(r, msg, "m", req.method.p, req.method.len);
            add_span(r, msg, "t", req.target.p, req.target.len);
            add(r, msg, "v", "1.%d", req.minor_version);
            add(r, msg, "n", "%zu", req.headers.count);
            add_fields(r, msg, "h", &req.headers);
            f = http1_request_framing(&req);
            ka = http1_request_keep_alive(&req);
        } else {
            add(r, msg, "s", "%d", resp.status);
            add_span(r, msg, "r", resp.reason.p, resp.reason.len);
            add(r, msg, "v", "1.%d", resp.minor_version);
            add(r, msg, "n", "%zu", resp.headers.count);
            add_fields(r, msg, "h", &resp.headers);
            f = http1_response_framing(&resp, request_method(c->type));
            ka = http1_response_keep_alive(&resp, request_method(c->type));
        }
        add(r, msg, "f", "%s", kind_name(f, kb));
        add(r, msg, "ka", "%d", ka);
        struct http1_body_decoder d;
        size_t used = 0;
        rc = http1_body_init(&d, f, c->lim);
        if (rc == 0)
            rc = decode_body(&d, c->in + pos, c->len - pos, step, r, msg, &used);
        http1_body_free(&d);
        pos += used;
        if (rc != HTTP1_BODY_DONE) {
            r->err = rc;
            break;
        }
        if (pos == c->len)
            break;
        add_span(r, msg, "rest", c->in + pos, c->len - pos);
        if (!ka || handed_over(c, &req, &resp))
            break; /* the rest is not ours to parse */
    }
    add(r, 0, "msgs", "%d", heads);
    add(r, 0, "end", "%s", "");
}

/* Each "|"-separated item of want must be an item of the summary. */
static void check_want(const char *name, const char *want, const char *sum)
{
    if (!want)
        return;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", want);
    for (char *save, *item = strtok_r(buf, "|", &save); item; item = strtok_r(NULL, "|", &save)) {
        char needle[1100];
        snprintf(needle, sizeof needle, "|%s|", item);
        ck_assert_msg(strstr(sum, needle), "%s: want %s in %s", name, item, sum);
    }
}

static const char *err_name(int err)
{
    return err == INC ? "incomplete head" : http1_strerror(err);
}

static const size_t steps[] = {1, 2, 3, 7, 64};

START_TEST(message_cases)
{
    const struct mcase *c = &cases[_i];
    struct result *whole = malloc(sizeof *whole), *split = malloc(sizeof *split);
    run(c, 0, whole);
    ck_assert_msg(whole->err == c->err, "%s: got %d (%s), want %d (%s)\n%s", c->name, whole->err,
                  err_name(whole->err), c->err, err_name(c->err), whole->sum);
    check_want(c->name, c->want, whole->sum);
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        run(c, steps[s], split);
        ck_assert_msg(split->err == whole->err, "%s, %zu at a time: %s, whole: %s", c->name, steps[s],
                      err_name(split->err), err_name(whole->err));
        ck_assert_msg(strcmp(split->sum, whole->sum) == 0, "%s, %zu at a time:\n%s\nwhole:\n%s", c->name,
                      steps[s], split->sum, whole->sum);
    }
    free(whole);
    free(split);
}
END_TEST

/* ---- the chunked decoder alone: picohttpparser's decoder tests, restated ---- */

struct ccase {
    const char *name;
    const char *in;
    size_t len;
    int err;          /* 0 (done), or the error (HTTP1_ETRUNCATED for need-more) */
    const char *body; /* when done */
    const char *rest; /* bytes after the body, when done */
    uint64_t max_body;
};

static const struct ccase chunked[] = {
    {"pico one chunk", IN("b\r\nhello world\r\n0\r\n\r\n"), 0, "hello world", ""},
    {"pico two chunks", IN("6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"), 0, "hello world", ""},
    {"pico extension", IN("6;comment=hi\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"), 0, "hello world", ""},
    {"pico BWS before ; (RFC 9112 7.1.1)", IN("6 ; comment\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"), 0,
     "hello world", ""},
    {"pico trailers", IN("6\r\nhello \r\n5\r\nworld\r\n0\r\na: b\r\nc: d\r\n\r\n"), 0, "hello world", ""},
    {"pico no final CRLF: need more", IN("b\r\nhello world\r\n0\r\n"), HTTP1_ETRUNCATED, NULL, NULL},
    {"pico bad size", IN("z\r\nabcdefg"), HTTP1_ECHUNK_SIZE, NULL, NULL},
    {"pico 2^64-1 chunk after 6 bytes: the total would overflow",
     IN("6\r\nhello \r\nffffffffffffffff\r\nabcdefg"), HTTP1_EBODY_TOO_LARGE, NULL, NULL, UINT64_MAX},
    {"pico 2^64-1 chunk, unlimited body: need more", IN("ffffffffffffffff\r\nabcdefg"), HTTP1_ETRUNCATED, NULL,
     NULL, UINT64_MAX},
    {"pico 17 f's overflow", IN("fffffffffffffffff\r\nabcdefg"), HTTP1_ECHUNK_SIZE, NULL, NULL, UINT64_MAX},
    {"pico 2^64-1 chunk over the default limit", IN("ffffffffffffffff\r\n"), HTTP1_EBODY_TOO_LARGE, NULL, NULL},
    {"pico size then junk", IN("1x\r\na\r\n0\r\n"), HTTP1_ECHUNK_SIZE, NULL, NULL},
    {"pico bare LF after size", IN("6\nhello \r\n5\r\nworld\r\n0\r\n"), HTTP1_EBARE_LF, NULL, NULL},
    {"pico bare LF after data", IN("6\r\nhello \n5\r\nworld\r\n0\r\n"), HTTP1_ECHUNK_DATA, NULL, NULL},
    {"pico bare LF after second data", IN("6\r\nhello \r\n5\r\nworld\n0\r\n"), HTTP1_ECHUNK_DATA, NULL, NULL},
    {"pico bare LF after last chunk", IN("6\r\nhello \r\n5\r\nworld\r\n0\n"), HTTP1_EBARE_LF, NULL, NULL},
    {"pico CR X LF", IN("6\rX\nhello \n5\r\nworld\r\n0\r\n"), HTTP1_EBARE_CR, NULL, NULL},
    {"pico bare LF ending trailers (strict here)", IN("b\r\nhello world\r\n0\r\n\n"), HTTP1_EBARE_LF, NULL, NULL},
    {"pico bare LF in trailers (strict here)", IN("6\r\nhello \r\n5\r\nworld\r\n0\r\na: b\nc: d\n\n"),
     HTTP1_EBARE_LF, NULL, NULL},
    {"pico left data is the next request", IN("5\r\nabcde\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 0, "abcde",
     "GET / HTTP/1.1\r\n\r\n"},
    {"empty body", IN("0\r\n\r\n"), 0, "", ""},
    {"leading zeros", IN("0005\r\nhello\r\n00\r\n\r\n"), 0, "hello", ""},
    {"extension with quoted value and escape", IN("1;a=\"b\\\"c\"\r\nx\r\n0\r\n\r\n"), 0, "x", ""},
    {"extension on the last chunk", IN("1\r\nx\r\n0;last=yes\r\n\r\n"), 0, "x", ""},
    {"extension name then space then CR", IN("1;a \r\nx\r\n0\r\n\r\n"), HTTP1_ECHUNK_EXT, NULL, NULL},
    {"extension = without value", IN("1;a=\r\nx\r\n0\r\n\r\n"), HTTP1_ECHUNK_EXT, NULL, NULL},
    {"extension control char in quotes", IN("1;a=\"\x01\"\r\nx\r\n0\r\n\r\n"), HTTP1_ECHUNK_EXT, NULL, NULL},
    {"extension BWS around =", IN("1;a = b ;c\r\nx\r\n0\r\n\r\n"), 0, "x", ""},
    {"empty size line", IN("\r\nx\r\n0\r\n\r\n"), HTTP1_ECHUNK_SIZE, NULL, NULL},
    {"space before size", IN(" 1\r\nx\r\n0\r\n\r\n"), HTTP1_ECHUNK_SIZE, NULL, NULL},
    {"data longer than the size", IN("1\r\nxy\r\n0\r\n\r\n"), HTTP1_ECHUNK_DATA, NULL, NULL},
    {"CR CR after data", IN("1\r\nx\r\r0\r\n\r\n"), HTTP1_ECHUNK_DATA, NULL, NULL},
    {"NUL in size", IN("1\0\r\nx\r\n0\r\n\r\n"), HTTP1_ECHUNK_SIZE, NULL, NULL},
    {"limit: exactly max_body", IN("3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n"), 0, "abcd", "", 4},
    {"limit: one over max_body", IN("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), HTTP1_EBODY_TOO_LARGE, NULL, NULL, 4},
};

#pragma GCC diagnostic pop

START_TEST(chunked_cases)
{
    const struct ccase *c = &chunked[_i];
    struct http1_limits lim = {.max_body = c->max_body};
    for (size_t s = 0; s <= sizeof steps / sizeof steps[0]; s++) {
        size_t step = s ? steps[s - 1] : 0;
        struct http1_body_decoder d;
        ck_assert_int_eq(http1_body_init(&d, (struct http1_framing){HTTP1_BODY_CHUNKED, 0}, &lim), 0);
        struct result r = {0};
        size_t used;
        int rc = decode_body(&d, c->in, c->len, step, &r, 0, &used);
        ck_assert_msg(rc == (c->err ? c->err : HTTP1_BODY_DONE), "%s (%zu at a time): %s", c->name, step,
                      http1_strerror(rc));
        if (!c->err) {
            struct result want = {0};
            add_span(&want, 0, "body", c->body, strlen(c->body));
            ck_assert_msg(strncmp(r.sum, want.sum, want.n) == 0, "%s: %s", c->name, r.sum);
            ck_assert_uint_eq(c->len - used, strlen(c->rest));
            ck_assert(memcmp(c->in + used, c->rest, strlen(c->rest)) == 0);
        }
        http1_body_free(&d);
    }
}
END_TEST

/* ---- the API around the tables ---- */

START_TEST(lookup_ignores_case_and_iterates)
{
    static const char msg[] = "GET / HTTP/1.1\r\nSet-Cookie: a=1\r\nHost: x\r\nset-cookie: b=2\r\n"
                              "SET-COOKIE: c=3\r\nConnection: Upgrade, keep-alive\r\n\r\n";
    struct http1_request req;
    ck_assert_int_eq(http1_parse_request(msg, sizeof msg - 1, &req, NULL), (int)sizeof msg - 1);
    const struct http1_header *h = http1_header_get(&req.headers, "HOST");
    ck_assert_ptr_nonnull(h);
    ck_assert(http1_str_ieq(h->value, "x"));
    ck_assert_ptr_null(http1_header_get(&req.headers, "hos"));
    const char *want[] = {"a=1", "b=2", "c=3"};
    int n = 0;
    for (h = http1_header_get(&req.headers, "set-cookie"); h; h = http1_header_next(&req.headers, "Set-Cookie", h))
        ck_assert(http1_str_ieq(h->value, want[n++]));
    ck_assert_int_eq(n, 3);
    ck_assert(http1_header_has_token(&req.headers, "connection", "upgrade"));
    ck_assert(http1_header_has_token(&req.headers, "Connection", "KEEP-ALIVE"));
    ck_assert(!http1_header_has_token(&req.headers, "connection", "keep"));
}
END_TEST

/* 64 KiB by default: a head of exactly that size parses, one byte more does not. */
START_TEST(default_head_limit_is_64k)
{
    size_t size = HTTP1_DEFAULT_MAX_HEAD;
    char *buf = malloc(size + 1);
    static const char start[] = "GET / HTTP/1.1\r\nX: ";
    memcpy(buf, start, sizeof start - 1);
    memset(buf + sizeof start - 1, 'a', size - (sizeof start - 1) - 4);
    memcpy(buf + size - 4, "\r\n\r\n", 4);
    struct http1_request *req = malloc(sizeof *req);
    ck_assert_int_eq(http1_parse_request(buf, size, req, NULL), (int)size);
    memmove(buf + sizeof start, buf + sizeof start - 1, size - (sizeof start - 1));
    ck_assert_int_eq(http1_parse_request(buf, size + 1, req, NULL), HTTP1_EHEAD_TOO_LARGE);
    ck_assert_int_eq(http1_parse_request(buf, size, req, NULL), HTTP1_EHEAD_TOO_LARGE);
    ck_assert_int_eq(http1_parse_request(buf, size - 1, req, NULL), HTTP1_INCOMPLETE);
    free(req);
    free(buf);
}
END_TEST

START_TEST(header_count_caps_at_the_array)
{
    char buf[8192];
    size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP1_MAX_HEADERS + 1; i++)
        n += (size_t)sprintf(buf + n, "h%d: v\r\n", i);
    n += (size_t)sprintf(buf + n, "\r\n");
    struct http1_limits lim = {.max_headers = 100000};
    struct http1_request *req = malloc(sizeof *req);
    ck_assert_int_eq(http1_parse_request(buf, n, req, &lim), HTTP1_ETOO_MANY_HEADERS);
    ck_assert_int_eq(http1_parse_request(buf, n, req, NULL), HTTP1_ETOO_MANY_HEADERS);
    free(req);
}
END_TEST

START_TEST(every_error_has_its_own_message)
{
    for (int a = HTTP1_ENOMEM; a <= HTTP1_BODY_DONE; a++) {
        ck_assert_ptr_nonnull(http1_strerror(a));
        ck_assert_str_ne(http1_strerror(a), http1_strerror(-999));
        for (int b = HTTP1_ENOMEM; b < a; b++)
            ck_assert_str_ne(http1_strerror(a), http1_strerror(b));
    }
    ck_assert_str_eq(http1_strerror(-999), "unknown http1 result code");
}
END_TEST

/* A length body: the decoder stops at the length and leaves the rest alone; errors stick. */
START_TEST(decoder_stops_and_errors_stick)
{
    struct http1_body_decoder d;
    http1_body_init(&d, (struct http1_framing){HTTP1_BODY_LENGTH, 3}, NULL);
    size_t used;
    const char *data;
    size_t n;
    ck_assert_int_eq(http1_body_decode(&d, "abcdef", 6, &used, &data, &n), HTTP1_BODY_DATA);
    ck_assert_uint_eq(used, 3);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(http1_body_decode(&d, "def", 3, &used, &data, &n), HTTP1_BODY_DONE);
    ck_assert_uint_eq(used, 0);
    ck_assert_int_eq(http1_body_finish(&d), HTTP1_BODY_DONE);
    http1_body_free(&d);

    http1_body_init(&d, (struct http1_framing){HTTP1_BODY_CHUNKED, 0}, NULL);
    ck_assert_int_eq(http1_body_decode(&d, "q", 1, &used, &data, &n), HTTP1_ECHUNK_SIZE);
    ck_assert_int_eq(http1_body_decode(&d, "1\r\n", 3, &used, &data, &n), HTTP1_ECHUNK_SIZE);
    ck_assert_int_eq(http1_body_finish(&d), HTTP1_ECHUNK_SIZE);
    http1_body_free(&d);

    struct http1_limits lim = {.max_body = 10};
    ck_assert_int_eq(http1_body_init(&d, (struct http1_framing){HTTP1_BODY_LENGTH, 11}, &lim),
                     HTTP1_EBODY_TOO_LARGE);
    http1_body_free(&d);
}
END_TEST

/* picohttpparser's overhead test: a million 1-byte chunks are fine (no per-chunk cost
 * grows), and a chunk line bigger than HTTP1_MAX_CHUNK_LINE is refused. */
START_TEST(many_chunks_and_long_extensions)
{
    struct http1_body_decoder d;
    http1_body_init(&d, (struct http1_framing){HTTP1_BODY_CHUNKED, 0}, NULL);
    size_t used, n;
    const char *data;
    static const char one[] = "1\r\nA\r\n";
    for (int i = 0; i < 1000000; i++) {
        ck_assert_int_eq(http1_body_decode(&d, one, 6, &used, &data, &n), HTTP1_BODY_DATA);
        ck_assert_int_eq(http1_body_decode(&d, &one[used], 6 - used, &used, &data, &n), HTTP1_INCOMPLETE);
    }
    ck_assert_int_eq(http1_body_decode(&d, "0\r\n\r\n", 5, &used, &data, &n), HTTP1_BODY_DONE);
    ck_assert_uint_eq(d.total, 1000000);
    http1_body_free(&d);

    char line[HTTP1_MAX_CHUNK_LINE + 16] = "1;x=";
    memset(line + 4, 'a', sizeof line - 4);
    http1_body_init(&d, (struct http1_framing){HTTP1_BODY_CHUNKED, 0}, NULL);
    ck_assert_int_eq(http1_body_decode(&d, line, sizeof line, &used, &data, &n), HTTP1_ECHUNK_LINE_TOO_LONG);
    http1_body_free(&d);
}
END_TEST

START_TEST(trailers_are_limited_in_bytes)
{
    struct http1_limits lim = {.max_head = 32};
    struct http1_body_decoder d;
    http1_body_init(&d, (struct http1_framing){HTTP1_BODY_CHUNKED, 0}, &lim);
    static const char in[] = "0\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    size_t used, n;
    const char *data;
    ck_assert_int_eq(http1_body_decode(&d, in, sizeof in - 1, &used, &data, &n), HTTP1_ETRAILERS_TOO_LARGE);
    http1_body_free(&d);
}
END_TEST

START_TEST(response_framing_rules)
{
    static const char msg[] = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n";
    struct http1_response resp;
    ck_assert_int_eq(http1_parse_response(msg, sizeof msg - 1, &resp, NULL), (int)sizeof msg - 1);
    ck_assert_int_eq(http1_response_framing(&resp, "GET").kind, HTTP1_BODY_LENGTH);
    ck_assert_int_eq(http1_response_framing(&resp, NULL).kind, HTTP1_BODY_LENGTH);
    ck_assert_int_eq(http1_response_framing(&resp, "HEAD").kind, HTTP1_BODY_NONE);
    ck_assert_int_eq(http1_response_framing(&resp, "head").kind, HTTP1_BODY_LENGTH); /* methods are case-sensitive */
    const int none[] = {100, 101, 102, 103, 199, 204, 304};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        resp.status = none[i];
        ck_assert_int_eq(http1_response_framing(&resp, "GET").kind, HTTP1_BODY_NONE);
    }
    resp.status = 205;
    ck_assert_int_eq(http1_response_framing(&resp, "GET").kind, HTTP1_BODY_LENGTH);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http1");
    TCase *tc = tcase_create("tables");
    tcase_add_loop_test(tc, message_cases, 0, sizeof cases / sizeof cases[0]);
    tcase_add_loop_test(tc, chunked_cases, 0, sizeof chunked / sizeof chunked[0]);
    suite_add_tcase(s, tc);
    TCase *api = tcase_create("api");
    tcase_set_timeout(api, 60);
    tcase_add_test(api, lookup_ignores_case_and_iterates);
    tcase_add_test(api, default_head_limit_is_64k);
    tcase_add_test(api, header_count_caps_at_the_array);
    tcase_add_test(api, every_error_has_its_own_message);
    tcase_add_test(api, decoder_stops_and_errors_stick);
    tcase_add_test(api, many_chunks_and_long_extensions);
    tcase_add_test(api, trailers_are_limited_in_bytes);
    tcase_add_test(api, response_framing_rules);
    suite_add_tcase(s, api);
    printf("http1: %zu message cases, %zu chunked-decoder cases\n", sizeof cases / sizeof cases[0],
           sizeof chunked / sizeof chunked[0]);
    return unit_run(s);
}
