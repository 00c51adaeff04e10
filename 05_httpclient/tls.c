/* tls — see tls.h. A context is an SSL_CTX and the side it is for. */
#include "tls.h"

#include "loop_internal.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

struct tls_context {
    SSL_CTX *ctx;
    bool server_side;
};

/* "what file: OpenSSL's reason" into err; false, for returning. */
static bool load_error(char *err, size_t errlen, const char *what, const char *file)
{
    unsigned long e = ERR_peek_last_error();
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    snprintf(err, errlen, "cannot load %s %s: %s", what, file, why ? why : "unknown error");
    ERR_clear_error();
    return false;
}

static bool load_own_certificate(SSL_CTX *ctx, const struct tls_options *o, char *err,
                                 size_t errlen)
{
    const char *key = o->keyfile ? o->keyfile : o->certfile;
    if (SSL_CTX_use_certificate_chain_file(ctx, o->certfile) != 1)
        return load_error(err, errlen, "certfile", o->certfile);
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        return load_error(err, errlen, "keyfile", key);
    return true;
}

/* Who is trusted, and whether the peer must prove itself (see tls.h). */
static bool set_verification(SSL_CTX *ctx, const struct tls_options *o, char *err, size_t errlen)
{
    if (o->server_side ? !o->ca_certs : o->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return true;
    }
    if (o->ca_certs && SSL_CTX_load_verify_locations(ctx, o->ca_certs, NULL) != 1)
        return load_error(err, errlen, "ca_certs", o->ca_certs);
    if (!o->ca_certs && SSL_CTX_set_default_verify_paths(ctx) != 1)
        return load_error(err, errlen, "the system's", "certificates");
    int mode = SSL_VERIFY_PEER | (o->server_side ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(ctx, mode, NULL);
    return true;
}

tls_context_t *tls_context_new(const struct tls_options *opts, char *err, size_t errlen)
{
    struct tls_options o = opts ? *opts : (struct tls_options){0};
    if (o.server_side && !o.certfile) {
        snprintf(err, errlen, "a server's TLS context needs a certfile");
        return NULL;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(o.server_side ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        load_error(err, errlen, "OpenSSL's", "TLS methods");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* iostream's write buffer moves when it grows, and takes what a record sends. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if ((o.certfile && !load_own_certificate(ctx, &o, err, errlen)) ||
        !set_verification(ctx, &o, err, errlen)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    tls_context_t *t = loop_xmalloc(sizeof *t);
    *t = (struct tls_context){.ctx = ctx, .server_side = o.server_side};
    return t;
}

void tls_context_free(tls_context_t *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ctx); /* each SSL made from it holds a reference of its own */
    free(ctx);
}

bool tls_context_server_side(const tls_context_t *ctx)
{
    return ctx->server_side;
}

struct ssl_ctx_st *tls_context_ssl_ctx(const tls_context_t *ctx)
{
    return ctx->ctx;
}
