/* fuzz_url — libFuzzer on url_parse and url_resolve. Invariants: whatever parses is
 * normal already (its href parses to the same href), the target starts with '/', the
 * port is not 0, and resolving a reference against a parsed base gives a URL that is
 * normal too. Built and run by fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

static void check_normal(const struct url *u)
{
    if (u->target[0] != '/' || u->port == 0 || !*u->host)
        abort();
    if (strstr(u->path, "/./") || strstr(u->path, "/../"))
        abort(); /* dot segments were removed */
    struct url again;
    if (url_parse(&again, u->href) != URL_OK || strcmp(again.href, u->href) != 0 ||
        strcmp(again.host, u->host) != 0 || again.port != u->port)
        abort();
    url_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    /* The first line is a base, the rest a reference to resolve against it. */
    char *ref = strchr(text, '\n');
    if (ref)
        *ref++ = '\0';
    struct url base, out;
    int rc = url_parse(&base, text);
    if (rc != URL_OK && !*url_strerror(rc))
        abort();
    if (rc == URL_OK) {
        check_normal(&base);
        if (ref && url_resolve(&out, &base, ref) == URL_OK) {
            check_normal(&out);
            url_free(&out);
        }
        url_free(&base);
    }
    static struct url fixed;
    if (!fixed.href && url_parse(&fixed, "http://a/b/c/d;p?q") != URL_OK)
        abort();
    if (url_resolve(&out, &fixed, text) == URL_OK) {
        check_normal(&out);
        url_free(&out);
    }
    free(text);
    return 0;
}
