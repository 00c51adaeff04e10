/* ipservice — see ipservice.h. */
#include "ipservice.h"

#include "coro.h"
#include "url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SERVICE_BINARY "05_ip_service"
#define LISTENING "listening on "

static struct {
    char *base; /* http://host:port, no '/' at the end */
    pid_t pid;  /* the service we started, or 0 */
} service;

static httpclient_t *client;

bool ipservice_set_service(const char *value)
{
    struct url u;
    if (url_parse(&u, value) != URL_OK) /* http or https, and well formed */
        return false;
    url_free(&u);
    size_t n = strlen(value);
    while (n > 0 && value[n - 1] == '/')
        n--;
    free(service.base);
    service.base = lesson_alloc(n + 1);
    memcpy(service.base, value, n);
    service.base[n] = '\0';
    return true;
}

const struct lesson_option ipservice_options[] = {IPSERVICE_OPTION, {NULL, NULL, NULL, NULL}};

static void fail(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
    exit(1);
}

bool ipservice_address_local(const char *ip)
{
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, ip, &a4) == 1) {
        uint32_t a = ntohl(a4.s_addr);
        return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 20) == (172 << 4 | 1) ||
               (a >> 16) == (192 << 8 | 168) || (a >> 16) == (169 << 8 | 254) || a == 0;
    }
    if (inet_pton(AF_INET6, ip, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_LINKLOCAL(&a6) ||
               (a6.s6_addr[0] & 0xfe) == 0xfc || IN6_IS_ADDR_UNSPECIFIED(&a6);
    return true;
}

/* The service binary: beside our own (build/bin), or for a program built to
 * build/exercises/bin (the exercises), in build/bin two levels up. */
static void binary_path(char *path, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", path, size - 1);
    if (n < 0)
        fail("cannot find /proc/self/exe");
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    static const char up[] = "../../bin/";
    if (dir + sizeof up + sizeof SERVICE_BINARY > size) {
        errno = ENAMETOOLONG;
        fail("cannot name " SERVICE_BINARY);
    }
    strcpy(path + dir, SERVICE_BINARY);
    if (access(path, X_OK) != 0)
        strcpy(stpcpy(path + dir, up), SERVICE_BINARY);
}

/* In the child: stdout to the pipe, no other descriptor of ours (the trace file), exec. */
static void child_exec(const char *path, int out, double delay)
{
    char delay_text[32];
    snprintf(delay_text, sizeof delay_text, "%.17g", delay);
    if (dup2(out, STDOUT_FILENO) < 0 || close_range(3, ~0U, 0) < 0)
        _exit(127);
    execl(path, path, "--port", "0", "--delay", delay_text, "--lang", "en", (char *)NULL);
    fprintf(stderr, "%s: cannot run %s: %s\n", program_invocation_short_name, path,
            strerror(errno));
    _exit(127);
}

/* The service's first line, "listening on http://127.0.0.1:PORT/", into service.base. */
static bool read_base(int fd)
{
    char line[256];
    size_t n = 0;
    while (n < sizeof line - 1 && read(fd, &line[n], 1) == 1 && line[n] != '\n')
        n++;
    line[n] = '\0';
    if (strncmp(line, LISTENING, strlen(LISTENING)))
        return false;
    return ipservice_set_service(line + strlen(LISTENING));
}

void ipservice_start(double delay)
{
    if (service.base)
        return;
    char path[PATH_MAX];
    binary_path(path, sizeof path);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        fail("cannot make a pipe");
    fflush(NULL); /* nothing buffered may be written twice */
    service.pid = fork();
    if (service.pid < 0)
        fail("cannot fork");
    if (service.pid == 0)
        child_exec(path, fds[1], delay);
    close(fds[1]);
    bool ok = read_base(fds[0]); /* blocks until the service listens, or fails */
    close(fds[0]);
    if (!ok) {
        fprintf(stderr, "%s: %s did not start\n", program_invocation_short_name, path);
        ipservice_stop();
        exit(1);
    }
}

void ipservice_stop(void)
{
    if (service.pid > 0) {
        int status;
        kill(service.pid, SIGTERM);
        while (waitpid(service.pid, &status, 0) < 0 && errno == EINTR)
            continue;
        service.pid = 0;
    }
    free(service.base);
    service.base = NULL;
}

char *ipservice_url(const char *ip)
{
    static const char path[] = "/iplookup/iplookup.php?format=json&ip=";
    size_t size = strlen(service.base) + sizeof path + strlen(ip);
    char *url = lesson_alloc(size);
    snprintf(url, size, "%s%s%s", service.base, path, ip);
    return url;
}

static void copy_field(json_t *answer, const char *name, char *out, size_t size)
{
    const char *s = json_string_value(json_object_get(answer, name));
    snprintf(out, size, "%s", s ? s : "");
}

int ipservice_parse(const struct httpclient_response *resp, struct ip_info *info)
{
    *info = (struct ip_info){0};
    if (resp->error)
        return -1;
    json_t *answer = json_loadb(resp->body, resp->body_len, 0, NULL);
    json_t *ret = json_object_get(answer, "ret"); /* NULL when answer is not an object */
    if (!json_is_integer(ret)) {
        json_decref(answer);
        return -1;
    }
    info->ret = (int)json_integer_value(ret);
    copy_field(answer, "country", info->country, sizeof info->country);
    copy_field(answer, "province", info->province, sizeof info->province);
    copy_field(answer, "city", info->city, sizeof info->city);
    json_decref(answer);
    return 0;
}

char *ipservice_describe(const struct ip_info *info)
{
    char *line;
    int n = info->ret == 1
                ? asprintf(&line, lesson_text("country: %s province: %s city: %s",
                                              "国家:%s 省份: %s 城市: %s"),
                           info->country, info->province, info->city)
                : asprintf(&line, "%s", lesson_text("IP lookup failed", "查询IP信息错误"));
    if (n < 0)
        line = lesson_alloc(SIZE_MAX); /* reports running out of memory and exits */
    return line;
}

httpclient_t *ipservice_client(void)
{
    return client;
}

/* The browser: GET / once; prints the status, then the page line by line. */
static void *browse(void *arg)
{
    const char *url = arg;
    struct httpclient_request req;
    httpclient_request_init(&req, url);
    lesson_say("browser: GET /", "浏览器: GET /");
    struct httpclient_response *resp;
    coro_await(httpclient_fetch(client, &req), (void **)&resp);
    lesson_sayf("browser: HTTP %d %s", "浏览器: HTTP %d %s", resp->code, resp->reason);
    for (const char *p = resp->body; *p;) {
        size_t len = strcspn(p, "\n");
        lesson_sayf("%.*s", "%.*s", (int)len, p);
        p += len + (p[len] == '\n');
    }
    return NULL;
}

static future_t *start_browser(void *url)
{
    return coro_spawn("browser", browse, url);
}

void ipservice_browse(const struct handler_class *index)
{
    ioloop_t *loop = ioloop_current();
    client = httpclient_new(NULL);
    if (!client)
        fail("cannot start the HTTP client");
    app_t *app = app_new();
    app_add(app, "/", index, NULL);
    httpserver_t *srv = httpserver_new(app, NULL);
    if (httpserver_listen(srv, "127.0.0.1", 0) < 0)
        fail("cannot listen on 127.0.0.1");
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", httpserver_port(srv));
    future_unref(ioloop_run_sync(loop, start_browser, url, 0));

    /* The client goes first: it closes its idle connections. */
    httpclient_free(client);
    client = NULL;
    httpserver_shutdown(srv);
    app_free(app);
    ioloop_free(loop);
}
