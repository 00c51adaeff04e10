/* chaos — an HTTP proxy that makes the network bad on purpose (document 003, Part 4).
 *
 * A client that only ever met a fast, faithful loopback has never seen a timeout, a
 * reset or a slow body. The chaos proxy stands between a client and its server and adds
 * exactly those, under control and repeatably:
 *
 *     latency   each response's first byte is held back latency_min..latency_max ms
 *               (uniform; one value when they are equal);
 *     speed     all bytes of all responses, whatever the connection, share one token
 *               bucket of speed_min..speed_max bytes per second (saving up at most
 *               100 ms of it while idle), the rate drawn again every speed_period
 *               (1 s) when the two differ;
 *     jitter    before each piece of a response is passed on (its head, then its body
 *               16 KiB at most at a time, less when the rate is low), with probability
 *               jitter_prob, all forwarding stops for jitter_min..jitter_max ms: a
 *               short outage every connection feels;
 *     reset     with probability reset_prob per request, the connection is dropped with
 *               a TCP RST (SO_LINGER 0) where the response would begin: the client gets
 *               ECONNRESET and no byte of the answer.
 * Every random choice comes from one xoshiro256** generator seeded with `seed`, drawn
 * in a fixed order per request (reset, then latency, then a jitter draw per piece), so
 * a run with the same seed and the same requests makes the same choices.
 *
 *     struct chaos_options o = {.latency_min = 300, .latency_max = 300};
 *     chaos_proxy_t *p = chaos_proxy_new(&o);
 *     chaos_proxy_listen(p, "127.0.0.1", 0);          // a free port: chaos_proxy_port(p)
 *     // ... fetch http://origin/ with the proxy as the URL's host, or absolute-form
 *     chaos_proxy_free(p);                            // once its connections are over
 *
 * What it speaks: HTTP/1.1, one request per connection (the request goes upstream with
 * "Connection: close", the response comes back with it). A request line in absolute form
 * ("GET http://127.0.0.1:8888/p HTTP/1.1", what `curl -x` sends) goes to that host, which
 * must be an IP address or "localhost" (the proxy never blocks on DNS); with `upstream`
 * set, an origin-form request ("GET /p HTTP/1.1") goes there: a reverse proxy. Each
 * response gets the header X-Chaos-Latency: the milliseconds drawn for it.
 *
 * What it refuses, never crashing: a request the http1 parser rejects or a target it
 * cannot route → 400; a head over max_head → 431; CONNECT or https → 501; a chunked
 * request body → 411; an upstream that refuses, times out or answers garbage → 502
 * (once a response has begun, the client connection is just closed). Every wait (the
 * client's head and body, the upstream's connect and each read) is bounded by timeout.
 *
 * Times: ms above are the documents' ms; time_scale (a lesson's lesson_seconds(1))
 * multiplies every delay and divides every rate, so a lesson run at --speed N draws the
 * same numbers and runs N times faster.
 *
 * The generator and the bucket are public so that they can be tested alone.
 */
#ifndef CHAOS_H
#define CHAOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the generator: xoshiro256**, its state filled by splitmix64 from one seed ---- */

struct chaos_rng {
    uint64_t s[4];
};

void chaos_rng_seed(struct chaos_rng *r, uint64_t seed);
uint64_t chaos_rng_next(struct chaos_rng *r);
/* Uniform in [0, 1), from the top 53 bits. */
double chaos_rng_unit(struct chaos_rng *r);
/* Uniform in [min, max]; min when they are equal (and then draws nothing). With whole
 * ends it is a whole number, each equally likely: a latency of 50..250 ms is one of 201. */
double chaos_rng_range(struct chaos_rng *r, double min, double max);
/* True with probability p (draws nothing when p <= 0). */
bool chaos_rng_chance(struct chaos_rng *r, double p);

/* ---- the bucket: one total rate for many senders ---- */

/* Tokens are bytes. A sender takes what it is about to send and waits as long as the
 * bucket says; the bucket may go into debt, so senders that come together are paced one
 * after another and the total never passes rate (beyond one burst). */
struct chaos_bucket {
    double rate;   /* bytes per second; 0: no limit */
    double burst;  /* most tokens saved up while idle, in seconds of rate: this also
                      makes up for a sender the loop wakes a little late */
    double tokens; /* may be negative: owed */
    double last;   /* when tokens was last brought up to date */
};

void chaos_bucket_init(struct chaos_bucket *b, double rate, double burst, double now);
/* A new rate from now on (what is owed stays owed; the burst is as many seconds). */
void chaos_bucket_set_rate(struct chaos_bucket *b, double rate, double now);
/* Takes n bytes' tokens at time now; returns the seconds to wait before sending them. */
double chaos_bucket_take(struct chaos_bucket *b, size_t n, double now);

/* ---- the proxy ---- */

typedef struct chaos_proxy chaos_proxy_t;

/* Zero means "off" (or the default where one is named). */
struct chaos_options {
    const char *upstream;      /* "http://127.0.0.1:8888" for origin-form requests; NULL */
    double latency_min;        /* ms */
    double latency_max;        /* ms; below latency_min counts as latency_min */
    double speed_min;          /* bytes per second; 0: unlimited */
    double speed_max;          /* bytes per second; below speed_min counts as speed_min */
    double speed_period;       /* seconds between two draws of the rate (1) */
    double jitter_prob;        /* 0..1, per piece forwarded */
    double jitter_min;         /* ms */
    double jitter_max;         /* ms */
    double reset_prob;         /* 0..1, per request */
    uint64_t seed;
    double timeout;            /* seconds each wait may take (30) */
    size_t max_head;           /* bytes of a request or response head (64 KiB) */
    double time_scale;         /* real seconds per documented second (1) */
};

/* What the proxy did so far. */
struct chaos_stats {
    uint64_t connections; /* accepted */
    uint64_t requests;    /* well-formed requests read */
    uint64_t resets;      /* of those, dropped with a RST */
    uint64_t responses;   /* responses passed on to their end */
    uint64_t pieces;      /* pieces forwarded, heads too (one jitter draw each) */
    uint64_t jitters;     /* outages started */
    uint64_t errors;      /* 4xx/5xx the proxy answered itself */
};

/* A proxy on the current loop. NULL with errno EINVAL for options out of range or an
 * upstream that is not an http URL to an address the resolver finds (looked up now). */
chaos_proxy_t *chaos_proxy_new(const struct chaos_options *opts);
/* Listens on address and port (0: the kernel picks, see chaos_proxy_port). Returns 0,
 * or -1 with errno. */
int chaos_proxy_listen(chaos_proxy_t *p, const char *address, int port);
int chaos_proxy_port(const chaos_proxy_t *p);
const struct chaos_stats *chaos_proxy_stats(const chaos_proxy_t *p);
/* Connections being served now. */
size_t chaos_proxy_connections(const chaos_proxy_t *p);
/* Stops listening and closes every connection; their coroutines end in the next
 * iterations of the loop. */
void chaos_proxy_close(chaos_proxy_t *p);
/* Closes, and frees the proxy once its last connection has ended (run the loop). */
void chaos_proxy_free(chaos_proxy_t *p);

#endif
