/* tls — what TLS connections of one kind share: Tornado's ssl_options, which Python
 * makes into an ssl.SSLContext (OpenSSL's SSL_CTX).
 *
 * A context holds the protocol versions (TLS 1.2 at least), the certificates trusted to
 * sign the peer's, and our own certificate and key. Making one reads and parses files,
 * which is slow next to a connection, so a program makes one per kind of connection
 * and hands it to every stream it secures (iostream_start_tls does the handshake):
 *
 *     char err[256];
 *     tls_context_t *ctx = tls_context_new(&(struct tls_options){.ca_certs = "ca.pem"},
 *                                          err, sizeof err);
 *     if (!ctx)
 *         fprintf(stderr, "%s\n", err);   // "cannot load ca_certs ca.pem: No such file..."
 *     ...
 *     coro_await(iostream_start_tls(s, ctx, "example.com"), NULL);
 *     ...
 *     tls_context_free(ctx);              // streams using it keep what they need
 *
 * Verification is Tornado's validate_cert: a client checks the server's certificate
 * against ca_certs (or the system's trusted certificates when ca_certs is NULL) and the
 * name it asked for (iostream_start_tls's server_hostname), unless the options say
 * insecure. A server asks for a client certificate only when given ca_certs to check
 * it with, and then requires one.
 *
 * Contexts may be shared between threads once made (OpenSSL locks what it must).
 */
#ifndef TLS_H
#define TLS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tls_context tls_context_t;

/* Zero (or NULL options) is a client that verifies the server against the system's
 * certificates. Paths are PEM files, read by tls_context_new and not kept. */
struct tls_options {
    bool server_side;
    bool insecure;        /* a client that accepts any certificate: validate_cert=False */
    const char *ca_certs; /* the certificates trusted to sign the peer's */
    const char *certfile; /* our certificate chain: a server's must; a client's may */
    const char *keyfile;  /* its private key; NULL: in certfile too */
};

/* A new context, or NULL with what went wrong in err (errlen bytes; a sentence naming
 * the option and file, with OpenSSL's reason). */
tls_context_t *tls_context_new(const struct tls_options *opts, char *err, size_t errlen);
/* Drops the program's reference; streams still using the context keep theirs. */
void tls_context_free(tls_context_t *ctx);
bool tls_context_server_side(const tls_context_t *ctx);

/* For iostream: the context's SSL_CTX. */
struct ssl_ctx_st *tls_context_ssl_ctx(const tls_context_t *ctx);

#endif
