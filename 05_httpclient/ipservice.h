/* ipservice — what lesson 05's IP lookup programs share: the service they ask, its
 * JSON, and the browser that asks their page.
 *
 * Document 000's handlers ask the Sina IP library where 14.130.112.24 is and write
 * "国家:中国 省份: 北京 城市: 北京". That API no longer answers, so each program starts
 * its own 05_ip_service (the binary beside it, or in build/bin for an exercise built
 * to build/exercises/bin) on a free loopback port, or asks the
 * one --service URL names. A program is its IndexHandler and little else:
 *
 *     static const struct lesson_info info = {.about = "...", .pool = true,
 *                                             .options = ipservice_options};
 *     lesson_init(argc, argv, &info);
 *     ipservice_start(lesson_seconds(1));   // each answer takes 1 documented second
 *     ipservice_browse(&index_handler);     // the page at /, asked once by a browser
 *     ipservice_stop();
 *     return lesson_exit();
 *
 * The handler asks ipservice_url(ip) with ipservice_client(), reads the answer with
 * ipservice_parse and writes ipservice_describe's line. The browser prints the status
 * and the page, line by line, after everything the handler printed: the order of the
 * output is the order of cause and effect, whatever the speed or the load.
 *
 * .pool: the client resolves names on a pool of threads (httpclient.h); the programs
 * ask IP literals only, but the loop's iterations follow the real network, so two runs'
 * traces may group events differently, as with a pool.
 */
#ifndef IPSERVICE_H
#define IPSERVICE_H

#include "httpclient.h"
#include "httpserver.h"
#include "lesson.h"

/* --service URL: ask the service at URL (http://127.0.0.1:8888) instead of starting
 * one. ipservice_options is that option alone, for lesson_info.options; a program with
 * options of its own lists IPSERVICE_OPTION among them. */
bool ipservice_set_service(const char *url);
#define IPSERVICE_OPTION                                                                  \
    {"service", "URL", "ask the IP service at URL (http://127.0.0.1:8888) instead of starting one", \
     ipservice_set_service}
extern const struct lesson_option ipservice_options[];

/* Starts 05_ip_service --delay delay (real seconds) and waits until it listens, unless
 * --service was given. Call it after lesson_init, before the loop exists. A service
 * that cannot start is reported on stderr and ends the program (status 1). */
void ipservice_start(double delay);
/* Stops the service started (SIGTERM, and waits for it). */
void ipservice_stop(void);

/* The lookup URL of ip: BASE/iplookup/iplookup.php?format=json&ip=IP (lesson_alloc'd). */
char *ipservice_url(const char *ip);

/* True for an address no lookup can place: loopback, private (RFC 1918), link-local,
 * unique-local, unspecified, or not an address at all. The documents' note on 练习 4:
 * "局域网的内网IP没有归属地". */
bool ipservice_address_local(const char *ip);

/* The answer's fields the documents use. ret is 1 for a place, -1 for an address the
 * service does not know, 0 when no answer could be read (the documents' {"ret:0"}). */
struct ip_info {
    int ret;
    char country[64], province[64], city[64];
};

/* Reads the answer. Returns 0, or -1 with info->ret 0 for an HTTP error or bad JSON. */
int ipservice_parse(const struct httpclient_response *resp, struct ip_info *info);
/* The documents' line, lesson_alloc'd: "国家:中国 省份: 北京 城市: 北京" (en: "country:
 * 中国 province: 北京 city: 北京") when ret is 1, else "查询IP信息错误" (en: "IP lookup
 * failed"). */
char *ipservice_describe(const struct ip_info *info);

/* The program's AsyncHTTPClient (Tornado keeps one per loop), during ipservice_browse. */
httpclient_t *ipservice_client(void);

/* Serves index at / on a free loopback port, GETs / once as a browser would, prints
 * what came back, then closes the server and the client and frees the loop. */
void ipservice_browse(const struct handler_class *index);

#endif
