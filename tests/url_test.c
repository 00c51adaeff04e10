/* Unit tests for 05_httpclient/url: parsing http(s) URLs, and resolving references
 * against a base with RFC 3986 §5.4's own examples (normal and abnormal). */
#include "url.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A URL and what must come of it: `want` lists "|"-separated items of the summary
 * (href, scheme, user, pass, host, kind, port, path, query, target, hh, auth). */
struct pcase {
    const char *in;
    int err;
    const char *want;
};

static const struct pcase parses[] = {
    {"http://example.com/", URL_OK, "href=http://example.com/|host=example.com|port=80|target=/|hh=example.com"},
    {"http://example.com", URL_OK, "href=http://example.com/|path=/|target=/"},
    {"https://example.com", URL_OK, "scheme=https|port=443|hh=example.com"},
    {"HTTP://EXAMPLE.com/A/B", URL_OK, "href=http://example.com/A/B|scheme=http|host=example.com|path=/A/B"},
    {"HtTpS://x/", URL_OK, "scheme=https"},
    {"http://example.com:8080/x", URL_OK, "port=8080|hh=example.com:8080|href=http://example.com:8080/x"},
    {"http://example.com:80/x", URL_OK, "port=80|hh=example.com|href=http://example.com/x"},
    {"https://example.com:443/", URL_OK, "hh=example.com"},
    {"https://example.com:80/", URL_OK, "port=80|hh=example.com:80"},
    {"http://example.com:/x", URL_OK, "port=80|href=http://example.com/x"},
    {"http://example.com:0080/", URL_OK, "port=80"},
    {"http://example.com:65535/", URL_OK, "port=65535"},
    {"http://example.com:65536/", URL_EPORT, NULL},
    {"http://example.com:0/", URL_EPORT, NULL},
    {"http://example.com:99999999999999999999/", URL_EPORT, NULL},
    {"http://example.com:8o/", URL_EPORT, NULL},
    {"http://example.com:-1/", URL_EPORT, NULL},
    {"http://example.com: 80/", URL_EPORT, NULL},
    {"http://a/b?c=d&e=f", URL_OK, "path=/b|query=c=d&e=f|target=/b?c=d&e=f"},
    {"http://a/b?", URL_OK, "query=|target=/b?|href=http://a/b?"},
    {"http://a?x=1", URL_OK, "path=/|query=x=1|target=/?x=1"},
    {"http://a/b#frag", URL_OK, "href=http://a/b|target=/b|query=(null)"},
    {"http://a/b?q#frag?/x", URL_OK, "target=/b?q"},
    {"http://a#", URL_OK, "href=http://a/"},
    {"http://a/b#fr ag", URL_ECHAR, NULL},
    {"http://user:pass@host/", URL_OK, "user=user|pass=pass|host=host|auth=user:pass@host|href=http://user:pass@host/"},
    {"http://user@host/", URL_OK, "user=user|pass=(null)"},
    {"http://user:@host/", URL_OK, "user=user|pass="},
    {"http://:pw@host/", URL_OK, "user=|pass=pw"},
    {"http://a%20b:p%40ss%3a@host/", URL_OK, "user=a b|pass=p@ss:"},
    {"http://a%12:b!&*$@hypnotoad.org:1234/toto", URL_OK, "user=a\\x12|pass=b!&*$|port=1234"},
    {"http://u%00:p@host/", URL_EPERCENT, NULL},
    {"http://u:p%00@host/", URL_EPERCENT, NULL},
    {"http://u%zz@host/", URL_EPERCENT, NULL},
    {"http://u@v@host/", URL_ECHAR, NULL},
    {"http://u p@host/", URL_ECHAR, NULL},
    {"http://u:p@/", URL_EHOST, NULL},
    {"http://127.0.0.1/", URL_OK, "host=127.0.0.1|kind=ipv4"},
    {"http://255.255.255.255:1/", URL_OK, "kind=ipv4|port=1"},
    {"http://0.0.0.0/", URL_OK, "kind=ipv4"},
    {"http://256.0.0.1/", URL_EHOST, NULL},
    {"http://1.2.3/", URL_EHOST, NULL},
    {"http://1.2.3.4.5/", URL_EHOST, NULL},
    {"http://01.2.3.4/", URL_EHOST, NULL},
    {"http://1..3.4/", URL_EHOST, NULL},
    {"http://1.2.3.4./", URL_EHOST, NULL},
    {"http://1234/", URL_EHOST, NULL},
    {"http://33333333333333333333333.1.1.1/", URL_EHOST, NULL},
    {"http://1.2.3.4a/", URL_OK, "kind=name|host=1.2.3.4a"},
    {"http://[::1]/", URL_OK, "host=::1|kind=ipv6|hh=[::1]|href=http://[::1]/"},
    {"http://[2001:DB8::1]:8080/x", URL_OK, "host=2001:db8::1|port=8080|hh=[2001:db8::1]:8080"},
    {"http://[::ffff:1.2.3.4]/", URL_OK, "kind=ipv6|host=::ffff:1.2.3.4"},
    {"http://[::1/", URL_EHOST, NULL},
    {"http://[]/", URL_EHOST, NULL},
    {"http://[::1]x/", URL_EHOST, NULL},
    {"http://[1:2:3:4:5:6:7:8:9]/", URL_EHOST, NULL},
    {"http://[fe80::1%25eth0]/", URL_EHOST, NULL},
    {"http://[v1.x]/", URL_EHOST, NULL},
    {"http://[::1]:99999/", URL_EPORT, NULL},
    {"http://::1/", URL_EHOST, NULL},
    {"http://exa%4Dple.com/", URL_OK, "host=example.com"},
    {"http://ex%2Fample/", URL_EHOST, NULL},
    {"http://ex%C3%A4mple/", URL_EHOST, NULL},
    {"http://ex%4/", URL_EPERCENT, NULL},
    {"http://home_0.netscape.com/", URL_OK, "host=home_0.netscape.com"},
    {"http://a!$&'()*+,;=b/", URL_OK, "host=a!$&'()*+,;=b"},
    {"http://ex ample.com/", URL_EHOST, NULL},
    {"http://ex\"ample.com/", URL_EHOST, NULL},
    {"http://", URL_EHOST, NULL},
    {"http:///path", URL_EHOST, NULL},
    {"http://:80/", URL_EHOST, NULL},
    {"http:example.com", URL_EAUTHORITY, NULL},
    {"http:/example.com", URL_EAUTHORITY, NULL},
    {"ftp://example.com/", URL_ESCHEME, NULL},
    {"httpx://example.com/", URL_ESCHEME, NULL},
    {"ws://example.com/", URL_ESCHEME, NULL},
    {"example.com/path", URL_ESCHEME, NULL},
    {"//example.com/", URL_ESCHEME, NULL},
    {"/relative", URL_ESCHEME, NULL},
    {"", URL_ESCHEME, NULL},
    {"1http://x/", URL_ESCHEME, NULL},
    {"http://a/b c", URL_ECHAR, NULL},
    {"http://a/b\"c", URL_ECHAR, NULL},
    {"http://a/<b>", URL_ECHAR, NULL},
    {"http://a/b\\c", URL_ECHAR, NULL},
    {"http://a/b^c", URL_ECHAR, NULL},
    {"http://a/b`c", URL_ECHAR, NULL},
    {"http://a/{b}", URL_ECHAR, NULL},
    {"http://a/b|c", URL_ECHAR, NULL},
    {"http://a/b\x7f", URL_ECHAR, NULL},
    {"http://a/b\tc", URL_ECHAR, NULL},
    {"http://a/\xc3\xa4", URL_ECHAR, NULL},
    {"http://a/?q=\"x\"", URL_ECHAR, NULL},
    {"http://a/b%", URL_EPERCENT, NULL},
    {"http://a/b%4", URL_EPERCENT, NULL},
    {"http://a/b%4g", URL_EPERCENT, NULL},
    {"http://a/?x=%zz", URL_EPERCENT, NULL},
    {"http://a/#%", URL_EPERCENT, NULL},
    {"http://a/b%2Fc%20d", URL_OK, "path=/b%2Fc%20d"},
    {"http://a/~user/_x-y.z!$&'()*+,;=:@", URL_OK, "path=/~user/_x-y.z!$&'()*+,;=:@"},
    {"http://a/?/?:@", URL_OK, "query=/?:@"},
    {"http://a/./b/../c/./d", URL_OK, "path=/c/d"},
    {"http://a/b/c/./../../g", URL_OK, "path=/g"},
    {"http://a/..", URL_OK, "path=/"},
    {"http://a/../../x", URL_OK, "path=/x"},
    {"http://a/b/.", URL_OK, "path=/b/"},
    {"http://a/b/..", URL_OK, "path=/"},
    {"http://a/b/%2e%2e/c", URL_OK, "path=/b/%2e%2e/c"},
    {"http://a/b//c", URL_OK, "path=/b//c"},
    {"http://a/b?x/../y", URL_OK, "query=x/../y"},
};

struct rcase {
    const char *ref;
    int err;
    const char *href;
};

/* RFC 3986 §5.4: base "http://a/b/c/d;p?q"; fragments are dropped, and an empty
 * path is written "/" (so "//g" gives "http://g/"). */
static const struct rcase resolves[] = {
    {"g:h", URL_ESCHEME, NULL},
    {"g", URL_OK, "http://a/b/c/g"},
    {"./g", URL_OK, "http://a/b/c/g"},
    {"g/", URL_OK, "http://a/b/c/g/"},
    {"/g", URL_OK, "http://a/g"},
    {"//g", URL_OK, "http://g/"},
    {"?y", URL_OK, "http://a/b/c/d;p?y"},
    {"g?y", URL_OK, "http://a/b/c/g?y"},
    {"#s", URL_OK, "http://a/b/c/d;p?q"},
    {"g#s", URL_OK, "http://a/b/c/g"},
    {"g?y#s", URL_OK, "http://a/b/c/g?y"},
    {";x", URL_OK, "http://a/b/c/;x"},
    {"g;x", URL_OK, "http://a/b/c/g;x"},
    {"g;x?y#s", URL_OK, "http://a/b/c/g;x?y"},
    {"", URL_OK, "http://a/b/c/d;p?q"},
    {".", URL_OK, "http://a/b/c/"},
    {"./", URL_OK, "http://a/b/c/"},
    {"..", URL_OK, "http://a/b/"},
    {"../", URL_OK, "http://a/b/"},
    {"../g", URL_OK, "http://a/b/g"},
    {"../..", URL_OK, "http://a/"},
    {"../../", URL_OK, "http://a/"},
    {"../../g", URL_OK, "http://a/g"},
    {"../../../g", URL_OK, "http://a/g"},
    {"../../../../g", URL_OK, "http://a/g"},
    {"/./g", URL_OK, "http://a/g"},
    {"/../g", URL_OK, "http://a/g"},
    {"g.", URL_OK, "http://a/b/c/g."},
    {".g", URL_OK, "http://a/b/c/.g"},
    {"g..", URL_OK, "http://a/b/c/g.."},
    {"..g", URL_OK, "http://a/b/c/..g"},
    {"./../g", URL_OK, "http://a/b/g"},
    {"./g/.", URL_OK, "http://a/b/c/g/"},
    {"g/./h", URL_OK, "http://a/b/c/g/h"},
    {"g/../h", URL_OK, "http://a/b/c/h"},
    {"g;x=1/./y", URL_OK, "http://a/b/c/g;x=1/y"},
    {"g;x=1/../y", URL_OK, "http://a/b/c/y"},
    {"g?y/./x", URL_OK, "http://a/b/c/g?y/./x"},
    {"g?y/../x", URL_OK, "http://a/b/c/g?y/../x"},
    {"g#s/./x", URL_OK, "http://a/b/c/g"},
    {"g#s/../x", URL_OK, "http://a/b/c/g"},
    {"http:g", URL_EAUTHORITY, NULL}, /* the strict reading of §5.4.2 */
    {"https://other.example:8443/x?y", URL_OK, "https://other.example:8443/x?y"},
    {"//other.example:81/p?q", URL_OK, "http://other.example:81/p?q"},
    {"//[::1]/p", URL_OK, "http://[::1]/p"},
    {"//u:p@h/", URL_OK, "http://u:p@h/"},
    {"//", URL_EHOST, NULL},
    {"/a b", URL_ECHAR, NULL},
    {"g#a b", URL_ECHAR, NULL},
    {"%zz", URL_EPERCENT, NULL},
    {"ftp://x/", URL_ESCHEME, NULL},
};

/* Appends "|key=value" to the summary, "(null)" for an absent value. */
static void item(char *sum, const char *key, const char *value)
{
    size_t n = strlen(sum);
    snprintf(sum + n, 2048 - n, "%s=", key);
    n = strlen(sum);
    for (const char *p = value ? value : "(null)"; *p && n + 6 < 2048; p++) {
        unsigned char c = (unsigned char)*p;
        n += (size_t)(c < 0x20 || c >= 0x7f ? sprintf(sum + n, "\\x%02x", c) : sprintf(sum + n, "%c", c));
    }
    snprintf(sum + n, 2048 - n, "|");
}

static void summarize(const struct url *u, char *sum)
{
    static const char *const kinds[] = {"name", "ipv4", "ipv6"};
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)u->port);
    strcpy(sum, "|");
    item(sum, "href", u->href);
    item(sum, "scheme", u->scheme);
    item(sum, "user", u->user);
    item(sum, "pass", u->password);
    item(sum, "host", u->host);
    item(sum, "kind", kinds[u->host_kind]);
    item(sum, "port", port);
    item(sum, "path", u->path);
    item(sum, "query", u->query);
    item(sum, "target", u->target);
    item(sum, "hh", u->host_header);
    item(sum, "auth", u->authority);
}

START_TEST(parse_cases)
{
    const struct pcase *c = &parses[_i];
    struct url u;
    int rc = url_parse(&u, c->in);
    ck_assert_msg(rc == c->err, "%s: got %s, want %s", c->in, url_strerror(rc), url_strerror(c->err));
    if (rc != URL_OK) {
        ck_assert_ptr_null(u.mem_);
        return;
    }
    char sum[2048], want[512];
    summarize(&u, sum);
    snprintf(want, sizeof want, "%s", c->want);
    for (char *save, *it = strtok_r(want, "|", &save); it; it = strtok_r(NULL, "|", &save)) {
        char needle[600];
        snprintf(needle, sizeof needle, "|%s|", it);
        ck_assert_msg(strstr(sum, needle), "%s: want %s in %s", c->in, it, sum);
    }
    /* What parses is normal already: its href parses to itself. */
    struct url again;
    ck_assert_int_eq(url_parse(&again, u.href), URL_OK);
    ck_assert_str_eq(again.href, u.href);
    url_free(&again);
    url_free(&u);
    ck_assert_ptr_null(u.mem_);
}
END_TEST

START_TEST(resolve_cases)
{
    const struct rcase *c = &resolves[_i];
    struct url base, out;
    ck_assert_int_eq(url_parse(&base, "http://a/b/c/d;p?q"), URL_OK);
    int rc = url_resolve(&out, &base, c->ref);
    ck_assert_msg(rc == c->err, "\"%s\": got %s, want %s", c->ref, url_strerror(rc), url_strerror(c->err));
    if (rc == URL_OK) {
        ck_assert_msg(strcmp(out.href, c->href) == 0, "\"%s\": got %s, want %s", c->ref, out.href, c->href);
        url_free(&out);
    }
    url_free(&base);
}
END_TEST

START_TEST(resolve_keeps_port_userinfo_and_scheme)
{
    struct url base, out;
    ck_assert_int_eq(url_parse(&base, "https://user:pw@h:8443/a/b?x"), URL_OK);
    ck_assert_int_eq(url_resolve(&out, &base, "/c"), URL_OK);
    ck_assert_str_eq(out.href, "https://user:pw@h:8443/c");
    ck_assert_str_eq(out.user, "user");
    ck_assert_int_eq(out.port, 8443);
    ck_assert(url_same_origin(&base, &out));
    url_free(&out);
    ck_assert_int_eq(url_resolve(&out, &base, "//other/p"), URL_OK);
    ck_assert_str_eq(out.href, "https://other/p");
    ck_assert_int_eq(out.port, 443);
    ck_assert_ptr_null(out.user);
    ck_assert(!url_same_origin(&base, &out));
    url_free(&out);
    ck_assert_int_eq(url_resolve(&out, &base, "http://h:8443/a"), URL_OK);
    ck_assert(!url_same_origin(&base, &out)); /* scheme differs */
    url_free(&out);
    ck_assert_int_eq(url_resolve(&out, &base, "HTTPS://H:8443/z"), URL_OK);
    ck_assert(url_same_origin(&base, &out));
    url_free(&out);
    url_free(&base);
}
END_TEST

/* RFC 3986 §5.2.4's worked examples, and the edge where the input is only dots. */
START_TEST(remove_dot_segments_examples)
{
    static const char *const ex[][2] = {
        {"/a/b/c/./../../g", "/a/g"}, {"mid/content=5/../6", "mid/6"}, {"/.", "/"}, {"/..", "/"},
        {".", ""}, {"..", ""}, {"../a", "a"}, {"./a", "a"}, {"/a/./b/", "/a/b/"}, {"", ""},
        {"/a/b/../../../c", "/c"}, {"a/..", "/"}, {"/a//..", "/a/"},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        char buf[64];
        size_t n = strlen(ex[i][0]);
        memcpy(buf, ex[i][0], n);
        n = url_remove_dot_segments(buf, n);
        buf[n] = '\0';
        ck_assert_msg(strcmp(buf, ex[i][1]) == 0, "%s -> %s, want %s", ex[i][0], buf, ex[i][1]);
    }
}
END_TEST

START_TEST(errors_have_messages)
{
    for (int e = URL_ENOMEM; e <= URL_OK; e++) {
        ck_assert_str_ne(url_strerror(e), url_strerror(-999));
        for (int f = URL_ENOMEM; f < e; f++)
            ck_assert_str_ne(url_strerror(e), url_strerror(f));
    }
}
END_TEST

/* A long URL: every component may be as long as the input. */
START_TEST(long_urls)
{
    size_t n = 100000;
    char *s = malloc(n + 64);
    strcpy(s, "http://u:");
    memset(s + 9, 'p', n);
    strcpy(s + 9 + n, "@h:1/");
    memset(s + 14 + n, 'x', 20);
    strcpy(s + 34 + n, "?q");
    struct url u;
    ck_assert_int_eq(url_parse(&u, s), URL_OK);
    ck_assert_uint_eq(strlen(u.password), n);
    ck_assert_uint_eq(strlen(u.href), strlen(s));
    url_free(&u);
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("url");
    TCase *tc = tcase_create("url");
    tcase_add_loop_test(tc, parse_cases, 0, sizeof parses / sizeof parses[0]);
    tcase_add_loop_test(tc, resolve_cases, 0, sizeof resolves / sizeof resolves[0]);
    tcase_add_test(tc, resolve_keeps_port_userinfo_and_scheme);
    tcase_add_test(tc, remove_dot_segments_examples);
    tcase_add_test(tc, errors_have_messages);
    tcase_add_test(tc, long_urls);
    suite_add_tcase(s, tc);
    printf("url: %zu parse cases, %zu resolve cases\n", sizeof parses / sizeof parses[0],
           sizeof resolves / sizeof resolves[0]);
    return unit_run(s);
}
