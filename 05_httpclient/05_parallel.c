/* 05_parallel — lesson 05: several lookups at once, as a list and as a dict (document
 * 000, Tornado异步, 并行协程).
 *
 * IndexHandler.get asks where four addresses are, two at a time: a list of two
 * get_ip_info coroutines (`rep1, rep2 = yield [...]`, coro_multi), then a dict of two
 * (`yield dict(rep3=..., rep4=...)`, coro_multi_named). The two of each pair run at the
 * same time and a pair is back when its slower lookup is: with the service's delay of
 * 1 s per answer, 2 s in all, not 4 s. The handler says so; --measure adds the time it
 * took, measured, which varies from run to run (so the transcripts leave it out: under
 * load, connecting and scheduling add hundreds of milliseconds). 16.130.112.24 is not
 * in the service's table: its block shows the error line.
 */
#include "coro.h"
#include "ipservice.h"

#include <stdlib.h>
#include <string.h>

static const char *const ips[] = {"14.130.112.24", "15.130.112.24", "16.130.112.24",
                                  "17.130.112.24"};
static bool measure;

static bool set_measure(const char *value)
{
    (void)value;
    measure = true;
    return true;
}

static void *get_ip_info(void *arg)
{
    const char *ip = arg;
    char *url = ipservice_url(ip);
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    lesson_sayf("get_ip_info(%s): fetch", "get_ip_info(%s): fetch", ip);
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(ipservice_client(), &req), (void **)&resp);
    free(url);
    struct ip_info *rep = lesson_alloc(sizeof *rep);
    ipservice_parse(resp, rep);
    return rep;
}

static future_t *get_ip_info_async(const char *ip)
{
    return coro_spawn("get_ip_info", get_ip_info, (void *)ip);
}

/* "ip:" and the place, or the error line; frees rep. */
static void write_response(handler_t *h, const char *ip, struct ip_info *rep)
{
    char *line = ipservice_describe(rep);
    handler_write(h, ip, strlen(ip));
    handler_write(h, ":\n", 2);
    handler_write(h, line, strlen(line));
    handler_write(h, "\n", 1);
    free(line);
    free(rep);
}

static void index_get(handler_t *h)
{
    double start = ioloop_time(ioloop_current());
    void *r;
    lesson_say("IndexHandler.get: rep1, rep2 = yield [get_ip_info(ips[0]), get_ip_info(ips[1])]",
               "IndexHandler.get: rep1, rep2 = yield [get_ip_info(ips[0]), get_ip_info(ips[1])]");
    future_t *list[] = {get_ip_info_async(ips[0]), get_ip_info_async(ips[1])};
    coro_await(coro_multi(list, 2), &r);
    struct ip_info *rep1 = ((void **)r)[0], *rep2 = ((void **)r)[1];
    lesson_say("IndexHandler.get: the list is back, in the order asked",
               "IndexHandler.get: 列表结果按请求顺序返回");

    lesson_say("IndexHandler.get: rep34_dict = yield dict(rep3=get_ip_info(ips[2]), rep4=get_ip_info(ips[3]))",
               "IndexHandler.get: rep34_dict = yield dict(rep3=get_ip_info(ips[2]), rep4=get_ip_info(ips[3]))");
    const char *names[] = {"rep3", "rep4"};
    future_t *dict[] = {get_ip_info_async(ips[2]), get_ip_info_async(ips[3])};
    coro_await(coro_multi_named(names, dict, 2), &r);
    struct ip_info *rep3 = coro_named_get(r, "rep3"), *rep4 = coro_named_get(r, "rep4");
    lesson_say("IndexHandler.get: the dict is back, by name", "IndexHandler.get: 字典结果按名字返回");

    lesson_say("IndexHandler.get: each pair waited for its slower lookup: 1 s + 1 s = 2 s, not 4 s",
               "IndexHandler.get: 每对查询并行, 等待较慢的一个: 1 秒 + 1 秒 = 2 秒, 而不是依次执行的 4 秒");
    if (measure)
        lesson_sayf("IndexHandler.get: measured: %.2f s", "IndexHandler.get: 实测用时 %.2f 秒",
                    (ioloop_time(ioloop_current()) - start) / lesson_seconds(1));
    write_response(h, ips[0], rep1);
    write_response(h, ips[1], rep2);
    write_response(h, ips[2], rep3);
    write_response(h, ips[3], rep4);
}

static const struct handler_class index_handler = {.get = index_get};

int main(int argc, char **argv)
{
    static const struct lesson_option options[] = {
        IPSERVICE_OPTION,
        {"measure", NULL, "also print the time the lookups took, measured (it varies)", set_measure},
        {NULL, NULL, NULL, NULL},
    };
    static const struct lesson_info info = {
        .about = "lookups in parallel, as a list and as a dict (document 000, 并行协程).\n"
                 "Each pair runs at once: 4 answers of 1 s each take 2 s, not 4 s.",
        .pool = true,
        .options = options,
    };
    lesson_init(argc, argv, &info);
    ipservice_start(lesson_seconds(1));
    ipservice_browse(&index_handler);
    ipservice_stop();
    return lesson_exit();
}
