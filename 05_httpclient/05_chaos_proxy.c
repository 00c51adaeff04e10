/* 05_chaos_proxy — document 003's Part 4: an HTTP proxy that adds latency, a total rate
 * limit, jitter and resets (chaos.h), for trying a client against a bad network.
 *
 *     05_chaos_proxy [--port 8890] [--latency MS] [--speed BYTES_PER_S] ...
 *     curl -x http://127.0.0.1:8890 http://127.0.0.1:8888/       # a forward proxy
 *     05_chaos_proxy --upstream http://127.0.0.1:8888 ...          # or a reverse one
 *
 * It says where it listens, serves until SIGINT or SIGTERM (read from a signalfd, as
 * 05_hello_server does), then prints what it did on stderr and exits 0.
 */
#include "chaos.h"
#include "ioloop.h"
#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct config {
    const char *address;
    int port;
    struct chaos_options o;
};

static void usage(void)
{
    printf("%s: document 003's chaos proxy: HTTP with latency, a total rate limit,\n"
           "jitter and resets, all from one seeded generator; serves until SIGINT/SIGTERM.\n\n"
           "Usage: %s [options]\n\n"
           "  --address A         listen on this address (default 127.0.0.1)\n"
           "  --port N            listen on this port (default 8890; 0: any free port)\n"
           "  --upstream URL      send origin-form requests (GET /p) to this http URL;\n"
           "                      absolute-form ones (curl -x) go where they say\n"
           "simple mode:\n"
           "  --latency MS        hold each response's first byte back MS ms\n"
           "  --speed B           all responses together: at most B bytes per second\n"
           "advanced mode:\n"
           "  --latency-min MS, --latency-max MS   a latency drawn per response, uniform\n"
           "  --speed-min B, --speed-max B         a total rate drawn every second\n"
           "  --jitter-prob P     before each piece forwarded (<= 16 KiB), with probability P,\n"
           "  --jitter-min MS, --jitter-max MS     stop all forwarding for that long\n"
           "  --reset-enable      drop requests with a TCP RST, with probability\n"
           "  --reset-prob P      P per request (default 0.1)\n"
           "  --seed N            seed of the generator (default 1): same seed, same draws\n"
           "  --timeout S         bound on every wait for a client or upstream (30)\n"
           "  --lang en|zh        messages in English (default) or Chinese [LESSON_LANG]\n"
           "  --help              show this help\n",
           program_invocation_short_name, program_invocation_short_name);
}

enum {
    OPT_LATENCY = 256, OPT_LATENCY_MIN, OPT_LATENCY_MAX, OPT_SPEED, OPT_SPEED_MIN,
    OPT_SPEED_MAX, OPT_JITTER_PROB, OPT_JITTER_MIN, OPT_JITTER_MAX, OPT_RESET_ENABLE,
    OPT_RESET_PROB, OPT_SEED, OPT_TIMEOUT, OPT_UPSTREAM,
};

static const struct option options[] = {
    {"address", required_argument, NULL, 'a'},
    {"port", required_argument, NULL, 'p'},
    {"lang", required_argument, NULL, 'l'},
    {"help", no_argument, NULL, 'h'},
    {"upstream", required_argument, NULL, OPT_UPSTREAM},
    {"latency", required_argument, NULL, OPT_LATENCY},
    {"latency-min", required_argument, NULL, OPT_LATENCY_MIN},
    {"latency-max", required_argument, NULL, OPT_LATENCY_MAX},
    {"speed", required_argument, NULL, OPT_SPEED},
    {"speed-min", required_argument, NULL, OPT_SPEED_MIN},
    {"speed-max", required_argument, NULL, OPT_SPEED_MAX},
    {"jitter-prob", required_argument, NULL, OPT_JITTER_PROB},
    {"jitter-min", required_argument, NULL, OPT_JITTER_MIN},
    {"jitter-max", required_argument, NULL, OPT_JITTER_MAX},
    {"reset-enable", no_argument, NULL, OPT_RESET_ENABLE},
    {"reset-prob", required_argument, NULL, OPT_RESET_PROB},
    {"seed", required_argument, NULL, OPT_SEED},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {NULL, 0, NULL, 0},
};

#define MS_MAX 3600000.0
#define SPEED_MAX 1e12

/* The flags given, to refuse contradictions: a bit per option code above 256. */
static unsigned given;
#define GIVEN(opt) ((given & (1u << ((opt)-256))) != 0)

static void check_consistent(struct config *cfg, double reset_prob)
{
    struct chaos_options *o = &cfg->o;
    if (GIVEN(OPT_LATENCY) && (GIVEN(OPT_LATENCY_MIN) || GIVEN(OPT_LATENCY_MAX)))
        tool_usage_error("--latency and --latency-min/--latency-max exclude each other");
    if (GIVEN(OPT_SPEED) && (GIVEN(OPT_SPEED_MIN) || GIVEN(OPT_SPEED_MAX)))
        tool_usage_error("--speed and --speed-min/--speed-max exclude each other");
    if (GIVEN(OPT_LATENCY_MIN) && !GIVEN(OPT_LATENCY_MAX))
        o->latency_max = o->latency_min;
    if (GIVEN(OPT_JITTER_MIN) && !GIVEN(OPT_JITTER_MAX))
        o->jitter_max = o->jitter_min;
    if (GIVEN(OPT_SPEED_MIN) != GIVEN(OPT_SPEED_MAX))
        tool_usage_error("--speed-min and --speed-max go together");
    if (o->latency_max < o->latency_min)
        tool_usage_error("--latency-max must not be below --latency-min");
    if (o->speed_max < o->speed_min)
        tool_usage_error("--speed-max must not be below --speed-min");
    if (o->jitter_max < o->jitter_min)
        tool_usage_error("--jitter-max must not be below --jitter-min");
    if ((GIVEN(OPT_JITTER_MIN) || GIVEN(OPT_JITTER_MAX)) && !GIVEN(OPT_JITTER_PROB))
        tool_usage_error("--jitter-min/--jitter-max need --jitter-prob");
    if (GIVEN(OPT_RESET_PROB) && !GIVEN(OPT_RESET_ENABLE))
        tool_usage_error("--reset-prob needs --reset-enable");
    o->reset_prob = GIVEN(OPT_RESET_ENABLE) ? reset_prob : 0;
}

static struct config parse_args(int argc, char **argv)
{
    struct config cfg = {.address = "127.0.0.1", .port = 8890, .o = {.seed = 1}};
    struct chaos_options *o = &cfg.o;
    const char *lang = NULL;
    double reset_prob = 0.1;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (c >= 256)
            given |= 1u << (c - 256);
        switch (c) {
        case 'a': cfg.address = optarg; break;
        case 'p': cfg.port = (int)tool_integer("--port", optarg, 0, 65535); break;
        case 'l': lang = optarg; break;
        case 'h': usage(); exit(0);
        case OPT_UPSTREAM: o->upstream = optarg; break;
        case OPT_LATENCY:
            o->latency_min = o->latency_max = tool_number("--latency", optarg, 0, MS_MAX);
            break;
        case OPT_LATENCY_MIN: o->latency_min = tool_number("--latency-min", optarg, 0, MS_MAX); break;
        case OPT_LATENCY_MAX: o->latency_max = tool_number("--latency-max", optarg, 0, MS_MAX); break;
        case OPT_SPEED:
            o->speed_min = o->speed_max = tool_number("--speed", optarg, 1, SPEED_MAX);
            break;
        case OPT_SPEED_MIN: o->speed_min = tool_number("--speed-min", optarg, 1, SPEED_MAX); break;
        case OPT_SPEED_MAX: o->speed_max = tool_number("--speed-max", optarg, 1, SPEED_MAX); break;
        case OPT_JITTER_PROB: o->jitter_prob = tool_number("--jitter-prob", optarg, 0, 1); break;
        case OPT_JITTER_MIN: o->jitter_min = tool_number("--jitter-min", optarg, 0, MS_MAX); break;
        case OPT_JITTER_MAX: o->jitter_max = tool_number("--jitter-max", optarg, 0, MS_MAX); break;
        case OPT_RESET_ENABLE: break;
        case OPT_RESET_PROB: reset_prob = tool_number("--reset-prob", optarg, 0, 1); break;
        case OPT_SEED: o->seed = (uint64_t)tool_integer("--seed", optarg, 0, 1L << 53); break;
        case OPT_TIMEOUT: o->timeout = tool_number("--timeout", optarg, 0.001, 86400); break;
        case ':': tool_usage_error("%s needs a value", argv[optind - 1]);
        default: tool_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        tool_usage_error("unexpected argument '%s'", argv[optind]);
    tool_set_lang(lang);
    check_consistent(&cfg, reset_prob);
    return cfg;
}

static void on_signal(int fd, int events, void *arg)
{
    (void)events;
    (void)arg;
    if (tool_signal_read(fd))
        ioloop_stop(ioloop_current());
}

static void print_stats(const struct chaos_stats *s)
{
    fprintf(stderr,
            tool_text("%s: %" PRIu64 " connections, %" PRIu64 " requests, %" PRIu64
                      " resets, %" PRIu64 " responses, %" PRIu64 " pieces, %" PRIu64
                      " jitters, %" PRIu64 " errors\n",
                      "%s: 连接 %" PRIu64 " 个, 请求 %" PRIu64 " 个, 断开 %" PRIu64
                      " 次, 响应 %" PRIu64 " 个, 数据块 %" PRIu64 " 个, 抖动 %" PRIu64
                      " 次, 错误 %" PRIu64 " 个\n"),
            program_invocation_short_name, s->connections, s->requests, s->resets,
            s->responses, s->pieces, s->jitters, s->errors);
}

int main(int argc, char **argv)
{
    struct config cfg = parse_args(argc, argv);
    ioloop_t *loop = ioloop_current();
    chaos_proxy_t *p = chaos_proxy_new(&cfg.o);
    if (!p)
        tool_usage_error("--upstream must be an http URL whose host resolves, not '%s'",
                         cfg.o.upstream);
    int sfd = tool_signals_fd();
    if (sfd < 0 || chaos_proxy_listen(p, cfg.address, cfg.port) < 0) {
        fprintf(stderr, tool_text("%s: cannot listen on %s port %d: %m\n",
                                  "%s: 无法在 %s 端口 %d 上监听: %m\n"),
                program_invocation_short_name, cfg.address, cfg.port);
        return 1;
    }
    bool v6 = strchr(cfg.address, ':') != NULL;
    printf(tool_text("listening on http://%s%s%s:%d/\n", "正在监听 http://%s%s%s:%d/\n"),
           v6 ? "[" : "", cfg.address, v6 ? "]" : "", chaos_proxy_port(p));
    fflush(stdout);
    ioloop_add_handler(loop, sfd, IOLOOP_READ, on_signal, NULL);
    ioloop_start(loop);

    print_stats(chaos_proxy_stats(p));
    chaos_proxy_close(p);
    while (chaos_proxy_connections(p) > 0)
        ioloop_run_once(loop);
    chaos_proxy_free(p);
    ioloop_remove_handler(loop, sfd);
    close(sfd);
    ioloop_free(loop);
    return 0;
}
