/* 05_fetch_callback — lesson 05: a handler that asks another server, with a callback
 * (document 000, Tornado异步, 3. 回调异步).
 *
 * IndexHandler.get asks the IP service where 14.130.112.24 is. It does not wait: it
 * marks the response asynchronous (@tornado.web.asynchronous), hands the fetch a
 * callback, and returns. The connection stays open until on_response, called by the
 * loop when the answer is there, writes the place and finishes the response.
 */
#include "ipservice.h"

#include <stdlib.h>
#include <string.h>

static const char sample_ip[] = "14.130.112.24";

static void on_response(const struct httpclient_response *resp, void *arg)
{
    handler_t *h = arg;
    lesson_sayf("on_response: HTTP %d %s", "on_response: HTTP %d %s", resp->code, resp->body);
    struct ip_info info;
    if (ipservice_parse(resp, &info) < 0) {
        handler_send_error(h, 500);
        return;
    }
    char *line = ipservice_describe(&info);
    handler_write(h, line, strlen(line));
    free(line);
    lesson_say("on_response: finish()", "on_response: finish() 发送响应");
    handler_finish(h);
}

static void index_get(handler_t *h)
{
    handler_asynchronous(h); /* @tornado.web.asynchronous: returning does not finish */
    char *url = ipservice_url(sample_ip);
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    lesson_sayf("IndexHandler.get: fetch(ip=%s, callback=on_response)",
                "IndexHandler.get: fetch(ip=%s, callback=on_response)", sample_ip);
    httpclient_fetch_cb(ipservice_client(), &req, on_response, h);
    free(url);
    lesson_say("IndexHandler.get: returns, the response stays open",
               "IndexHandler.get: 返回, 连接不关闭, 响应尚未发送");
}

static const struct handler_class index_handler = {.get = index_get};

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "a handler fetches from another server with a callback (document 000, 回调异步).\n"
                 "get() returns at once; on_response writes the answer and finishes.",
        .pool = true,
        .options = ipservice_options,
    };
    lesson_init(argc, argv, &info);
    ipservice_start(lesson_seconds(1));
    ipservice_browse(&index_handler);
    ipservice_stop();
    return lesson_exit();
}
