/* 05_fetch_coroutine — lesson 05: a handler that asks another server, as a coroutine
 * (document 000, Tornado异步, 4. 协程异步).
 *
 * IndexHandler.get asks the IP service where 14.130.112.24 is and waits for the answer
 * in its own body: `response = yield http.fetch(url)` is coro_await. It reads like
 * blocking code, yet while it waits the loop serves everyone else; when it returns, the
 * response is finished for it.
 */
#include "coro.h"
#include "ipservice.h"

#include <stdlib.h>
#include <string.h>

static const char sample_ip[] = "14.130.112.24";

static void index_get(handler_t *h)
{
    char *url = ipservice_url(sample_ip);
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    lesson_sayf("IndexHandler.get: response = yield fetch(ip=%s)",
                "IndexHandler.get: response = yield fetch(ip=%s)", sample_ip);
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(ipservice_client(), &req), (void **)&resp);
    free(url);
    lesson_sayf("IndexHandler.get: resumed: HTTP %d %s", "IndexHandler.get: 恢复执行: HTTP %d %s",
                resp->code, resp->body);
    struct ip_info info;
    if (ipservice_parse(resp, &info) < 0) {
        handler_send_error(h, 500);
        return;
    }
    char *line = ipservice_describe(&info);
    handler_write(h, line, strlen(line));
    free(line);
    lesson_say("IndexHandler.get: returns, the response is finished",
               "IndexHandler.get: 返回, 响应自动完成");
}

static const struct handler_class index_handler = {.get = index_get};

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "a handler fetches from another server as a coroutine (document 000, 协程异步).\n"
                 "response = yield fetch(url): it waits in its body, the loop does not.",
        .pool = true,
        .options = ipservice_options,
    };
    lesson_init(argc, argv, &info);
    ipservice_start(lesson_seconds(1));
    ipservice_browse(&index_handler);
    ipservice_stop();
    return lesson_exit();
}
