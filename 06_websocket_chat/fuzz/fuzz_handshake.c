/* fuzz_handshake — libFuzzer on the server's handshake decision: random request heads
 * through http1_parse_request and wshs_server_reply. Invariants: the reply parses back
 * as a response with the decided status and its whole body; a 101 passes the client's
 * own check for the request's key; the origin check never reads outside its spans.
 * Built and run by fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"
#include "wshandshake.h"

static const char *const protocols[] = {"chat", "superchat", "v1.chat", NULL};

static bool half(struct http1_str origin, const struct http1_request *req, void *arg)
{
    (void)req, (void)arg;
    return origin.len % 2;
}

static void check_reply(const struct http1_request *req, const struct wshs_reply *r)
{
    static struct http1_response resp;
    int n = http1_parse_response(r->head, r->head_len, &resp, NULL);
    if (n <= 0 || resp.status != r->status)
        abort();
    struct http1_framing f = http1_response_framing(&resp, "GET");
    if (r->status != 101) {
        if (f.kind != HTTP1_BODY_LENGTH || f.length != r->head_len - (size_t)n)
            abort();
        return;
    }
    const struct http1_header *key = http1_header_get(&req->headers, "sec-websocket-key");
    if (n != (int)r->head_len || !key || key->value.len != WSHS_KEY_LEN)
        abort();
    struct wshs_client c = {.subprotocols = protocols};
    memcpy(c.key, key->value.p, WSHS_KEY_LEN);
    if (wshs_client_check(&c, &resp) != WSHS_OK || c.subprotocol != r->subprotocol)
        abort();
}

/* The input cut in two at its first byte, as an Origin and a Host value of their own
 * allocation, so that ASan sees a read past either. */
static void check_origin_alone(const uint8_t *data, size_t size)
{
    size_t cut = data[0] < size - 1 ? data[0] : size - 1;
    char *o = malloc(cut + 1), *h = malloc(size - 1 - cut + 1);
    memcpy(o, data + 1, cut);
    memcpy(h, data + 1 + cut, size - 1 - cut);
    (void)wshs_same_origin((struct http1_str){o, cut}, (struct http1_str){h, size - 1 - cut});
    free(o);
    free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct wshs_server_opts opts[] = {{0}, {.subprotocols = protocols}, {.check_origin = half}};
    const struct wshs_server_opts *o = &opts[data[0] % 3];
    check_origin_alone(data, size);
    data++, size--;
    char *buf = malloc(size);
    memcpy(buf, data, size);
    static struct http1_request req;
    if (http1_parse_request(buf, size, &req, NULL) > 0) {
        struct wshs_reply r;
        if (wshs_server_reply(&req, o, &r) != WSHS_OK)
            abort();
        check_reply(&req, &r);
        wshs_reply_free(&r);
    }
    free(buf);
    return 0;
}
