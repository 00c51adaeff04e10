/* 05_get_ip_info — lesson 05: a coroutine that returns a value to the one awaiting it
 * (document 000, Tornado异步, 4. 协程异步, get_ip_info).
 *
 * The fetch moves out of the handler into a coroutine of its own, get_ip_info(ip),
 * which returns the parsed answer (Python 2's `raise gen.Return(rep)`; a C coroutine's
 * body just returns it). IndexHandler.get awaits it as it awaited the fetch:
 * `rep = yield self.get_ip_info(ip)`.
 */
#include "coro.h"
#include "ipservice.h"

#include <stdlib.h>
#include <string.h>

static const char sample_ip[] = "14.130.112.24";

/* The answer for ip, as a struct ip_info its awaiter frees (ret 0 if none came). */
static void *get_ip_info(void *arg)
{
    const char *ip = arg;
    char *url = ipservice_url(ip);
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    lesson_sayf("get_ip_info(%s): response = yield fetch(...)",
                "get_ip_info(%s): response = yield fetch(...)", ip);
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(ipservice_client(), &req), (void **)&resp);
    free(url);
    struct ip_info *rep = lesson_alloc(sizeof *rep);
    ipservice_parse(resp, rep);
    lesson_sayf("get_ip_info(%s): HTTP %d, return rep (ret %d)",
                "get_ip_info(%s): HTTP %d, raise gen.Return(rep) (ret %d)", ip, resp->code,
                rep->ret);
    return rep;
}

static void index_get(handler_t *h)
{
    lesson_sayf("IndexHandler.get: rep = yield get_ip_info(%s)",
                "IndexHandler.get: rep = yield get_ip_info(%s)", sample_ip);
    void *r;
    coro_await(coro_spawn("get_ip_info", get_ip_info, (void *)sample_ip), &r);
    struct ip_info *rep = r;
    lesson_sayf("IndexHandler.get: rep[\"ret\"] = %d", "IndexHandler.get: rep[\"ret\"] = %d",
                rep->ret);
    char *line = ipservice_describe(rep);
    handler_write(h, line, strlen(line));
    free(line);
    free(rep);
}

static const struct handler_class index_handler = {.get = index_get};

int main(int argc, char **argv)
{
    static const struct lesson_info info = {
        .about = "a sub-coroutine returns a value (document 000, get_ip_info and gen.Return).\n"
                 "rep = yield get_ip_info(ip): the handler awaits it like a fetch.",
        .pool = true,
        .options = ipservice_options,
    };
    lesson_init(argc, argv, &info);
    ipservice_start(lesson_seconds(1));
    ipservice_browse(&index_handler);
    ipservice_stop();
    return lesson_exit();
}
