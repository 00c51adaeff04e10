/* 05_post_upload — lesson 05: requests that carry something, to the program's own
 * echo server (document 004, AsyncHTTPClient 转发, 构造请求, 上传图片).
 *
 * Three requests, one after another, each answered by EchoHandler.post, which prints
 * what it received:
 * 1. `yield fetch(url, method="POST", headers=..., body=json)`: a JSON body with
 *    headers of our own, awaited in a coroutine.
 * 2. A request built first (HTTPRequest: method, a form body, timeouts), then handed
 *    to fetch with a callback, handler_response.
 * 3. An image upload: fields and a file encoded as multipart/form-data by hand, with
 *    the Content-Type that names the boundary and a Content-Length, as the document's
 *    encode_multipart_formdata does.
 */
#include "coro.h"
#include "httpclient.h"
#include "httpserver.h"
#include "lesson.h"
#include "strbuf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOUNDARY "----------ThIs_Is_tHe_bouNdaRY_$"

static httpclient_t *client;

/* One line of the body, after a margin "  |", as printable text: other bytes as \xNN. */
static void say_body_line(const char *p, size_t len)
{
    struct strbuf b = {0};
    strbuf_add(&b, len ? "  | " : "  |", len ? 4 : 3);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (isprint(c))
            strbuf_add(&b, &p[i], 1);
        else
            strbuf_addf(&b, "\\x%02x", c);
    }
    lesson_say(b.p, b.p);
    strbuf_free(&b);
}

static void echo_post(handler_t *h)
{
    struct http1_str type = handler_header(h, "Content-Type");
    struct http1_str tag = handler_header(h, "X-Request-Tag");
    size_t len;
    const char *body = handler_body(h, &len);
    lesson_sayf("EchoHandler.post: Content-Type: %.*s", "EchoHandler.post: Content-Type: %.*s",
                (int)type.len, type.p ? type.p : "");
    if (tag.p)
        lesson_sayf("EchoHandler.post: X-Request-Tag: %.*s", "EchoHandler.post: X-Request-Tag: %.*s",
                    (int)tag.len, tag.p);
    lesson_sayf("EchoHandler.post: a body of %zu bytes:", "EchoHandler.post: 请求体 %zu 字节:", len);
    for (const char *p = body, *end = body + len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
        say_body_line(p, n > 0 && p[n - 1] == '\r' ? n - 1 : n); /* CRLF lines as lines */
        p += n + (eol != NULL);
    }
    char reply[64];
    snprintf(reply, sizeof reply, "received %zu bytes", len);
    handler_write(h, reply, strlen(reply));
}

static const struct handler_class echo_handler = {.post = echo_post};

/* 1. POST with headers and a JSON body, awaited. */
static void post_json(const char *url)
{
    static const char body[] = "{\"name\": \"rsj217\"}";
    const struct httpclient_header headers[] = {
        {"Content-Type", "application/json"},
        {"X-Request-Tag", "forwarded"},
    };
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    req.method = "POST";
    req.headers = headers;
    req.n_headers = 2;
    req.body = body;
    req.body_len = strlen(body);
    lesson_say("client: resp = yield fetch(url, method=\"POST\", headers=headers, body=body)",
               "客户端: resp = yield fetch(url, method=\"POST\", headers=headers, body=body)");
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(client, &req), (void **)&resp);
    lesson_sayf("client: HTTP %d: %s", "客户端: HTTP %d: %s", resp->code, resp->body);
}

static void handler_response(const struct httpclient_response *resp, void *arg)
{
    lesson_sayf("handler_response: HTTP %d: %s", "handler_response: HTTP %d: %s", resp->code,
                resp->body);
    future_set_result(arg, NULL);
    future_unref(arg); /* the reference the fetch's callback held */
}

/* 2. A request built first, then fetched with a callback. The coroutine waits for the
 * callback only to keep the three steps in order. */
static void post_built_request(const char *url)
{
    static const char body[] = "name=rsj217&lesson=05";
    const struct httpclient_header headers[] = {
        {"Content-Type", "application/x-www-form-urlencoded"},
    };
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    req.method = "POST";
    req.headers = headers;
    req.n_headers = 1;
    req.body = body;
    req.body_len = strlen(body);
    req.connect_timeout = 5;
    req.request_timeout = 10;
    lesson_say("client: req = HTTPRequest(url, method=\"POST\", body=body, timeouts 5 s and 10 s)",
               "客户端: req = HTTPRequest(url, method=\"POST\", body=body, 超时 5 秒与 10 秒)");
    lesson_say("client: fetch(req, handler_response)", "客户端: fetch(req, handler_response)");
    future_t *answered = future_new("handler_response");
    future_ref(answered); /* one for the callback, one for coro_await */
    httpclient_fetch_cb(client, &req, handler_response, answered);
    coro_await(answered, NULL);
}

/* The document's encode_multipart_formdata: fields, then one file, CRLF-separated. */
static void multipart_encode(struct strbuf *b, const char *image, size_t image_len)
{
    static const char *const fields[][2] = {{"api_key", "KEY"}, {"api_secret", "SECRET"}};
    for (size_t i = 0; i < 2; i++)
        strbuf_addf(b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n",
                    BOUNDARY, fields[i][0], fields[i][1]);
    strbuf_addf(b, "--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"%s\"\r\n"
                   "Content-Type: image/jpeg\r\n\r\n",
                BOUNDARY, "new_pic.jpg");
    strbuf_add(b, image, image_len);
    strbuf_addf(b, "\r\n--%s--\r\n", BOUNDARY);
}

/* 3. The upload: multipart/form-data with its boundary and length in the headers. */
static void upload_image(const char *url)
{
    static const char image[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00"; /* a JPEG's first bytes */
    struct strbuf body = {0};
    multipart_encode(&body, image, sizeof image - 1);
    char length[32];
    snprintf(length, sizeof length, "%zu", body.len);
    const struct httpclient_header headers[] = {
        {"Content-Type", "multipart/form-data; boundary=" BOUNDARY},
        {"Content-Length", length},
    };
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    req.method = "POST";
    req.headers = headers;
    req.n_headers = 2;
    req.body = body.p;
    req.body_len = body.len;
    lesson_say("client: upload new_pic.jpg as multipart/form-data",
               "客户端: 以 multipart/form-data 上传 new_pic.jpg");
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(client, &req), (void **)&resp);
    strbuf_free(&body);
    lesson_sayf("client: HTTP %d: %s", "客户端: HTTP %d: %s", resp->code, resp->body);
}

static void *requests(void *arg)
{
    post_json(arg);
    post_built_request(arg);
    upload_image(arg);
    return NULL;
}

static future_t *start(void *url)
{
    return coro_spawn("client", requests, url);
}

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "POST with headers and a body, a built request, a multipart upload (document 004).\n"
                 "The program's own echo server prints what each request carried.",
        .pool = true,
    };
    lesson_init(argc, argv, &info);
    ioloop_t *loop = ioloop_current();
    client = httpclient_new(NULL);
    app_t *app = app_new();
    app_add(app, "/echo", &echo_handler, NULL);
    httpserver_t *srv = httpserver_new(app, NULL);
    if (!client || httpserver_listen(srv, "127.0.0.1", 0) < 0) {
        perror("05_post_upload: cannot start");
        return 1;
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", httpserver_port(srv));
    future_unref(ioloop_run_sync(loop, start, url, 0));

    /* The client goes first: it closes its idle connections. */
    httpclient_free(client);
    httpserver_shutdown(srv);
    app_free(app);
    ioloop_free(loop);
    return lesson_exit();
}
