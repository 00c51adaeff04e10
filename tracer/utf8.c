/* utf8 — display widths of UTF-8 text, locale-free (see utf8.h). */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

size_t utf8_decode(const char *s, size_t n, int32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len;
    int32_t c;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    if (u[0] >= 0xc2 && u[0] <= 0xdf) {
        len = 2, c = u[0] & 0x1f;
    } else if (u[0] >= 0xe0 && u[0] <= 0xef) {
        len = 3, c = u[0] & 0x0f;
    } else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
        len = 4, c = u[0] & 0x07;
    } else {
        *cp = -1;
        return 1;
    }
    if (len > n) {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *cp = -1;
            return 1;
        }
        c = (c << 6) | (u[i] & 0x3f);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff)) {
        *cp = -1;
        return 1;
    }
    *cp = c;
    return len;
}

int utf8_cp_width(int32_t cp)
{
    if (cp >= 0x300 && cp <= 0x36f)
        return 0; /* combining diacritical marks */
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
        (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
        (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
        (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
        (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
        (cp >= 0x20000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

/* A character the terminal must not receive as is. */
static bool is_unsafe(int32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0);
}

/* The columns CP takes as shown: a replaced character takes one. */
static int shown_width(int32_t cp, bool ascii)
{
    return cp < 0 || is_unsafe(cp) || (ascii && cp >= 0x80) ? 1 : utf8_cp_width(cp);
}

/* The columns S takes as shown. */
static int measure(const char *s, bool ascii)
{
    size_t n = strlen(s);
    int w = 0;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        i += utf8_decode(s + i, n - i, &cp);
        w += shown_width(cp, ascii);
    }
    return w;
}

int utf8_width(const char *s)
{
    return measure(s, false);
}

/* Appends the LEN bytes at S to OUT if they fit; false if not. */
static bool append(char *out, size_t outsz, size_t *used, const char *s, size_t len)
{
    if (*used + len + 1 > outsz)
        return false;
    memcpy(out + *used, s, len);
    *used += len;
    out[*used] = '\0';
    return true;
}

int utf8_fit(char *out, size_t outsz, const char *s, int maxw, bool ascii)
{
    const char *ellipsis = ascii ? "~" : "\u2026";
    const char *replacement = ascii ? "?" : "\uFFFD";
    size_t used = strlen(out), n = strlen(s);
    int total = measure(s, ascii), w = 0;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        bool bad = cp < 0 || is_unsafe(cp) || (ascii && cp >= 0x80);
        int cw = shown_width(cp, ascii);
        /* Leave a column for the ellipsis unless the rest fits whole. */
        int room = total <= maxw ? maxw : maxw - 1;
        if (w + cw > room)
            break;
        const char *shown = cp == '\t' ? " " : bad ? replacement : s + i;
        size_t shown_len = cp == '\t' ? 1 : bad ? strlen(replacement) : len;
        if (!append(out, outsz, &used, shown, shown_len))
            return w;
        w += cw;
        i += len;
        if (i == n)
            return w;
    }
    if (total > maxw && maxw > 0 && append(out, outsz, &used, ellipsis, strlen(ellipsis)))
        w++;
    return w;
}

void utf8_pad(char *out, size_t outsz, int n)
{
    size_t used = strlen(out);
    while (n-- > 0 && used + 2 <= outsz)
        out[used++] = ' ';
    out[used] = '\0';
}

int utf8_fit_middle(char *out, size_t outsz, const char *s, int maxw, bool ascii)
{
    const int tail_w = 2;
    size_t n = strlen(s);
    size_t *starts = malloc((n + 1) * sizeof *starts);
    char *head = strndup(s, n);
    if (!starts || !head || measure(s, ascii) <= maxw || maxw < tail_w + 2) {
        free(starts);
        free(head);
        return utf8_fit(out, outsz, s, maxw, ascii);
    }
    size_t k = 0;
    for (size_t i = 0; i < n; k++) {
        int32_t cp;
        starts[k] = i;
        i += utf8_decode(s + i, n - i, &cp);
    }
    /* The tail: the last characters that fit in two columns. */
    size_t tail = n;
    int w = 0;
    for (size_t j = k; j > 0; j--) {
        int32_t cp;
        utf8_decode(s + starts[j - 1], n - starts[j - 1], &cp);
        if (w + shown_width(cp, ascii) > tail_w)
            break;
        w += shown_width(cp, ascii);
        tail = starts[j - 1];
    }
    head[tail] = '\0';
    int used = utf8_fit(out, outsz, head, maxw - w, ascii);
    used += utf8_fit(out, outsz, s + tail, w, ascii);
    free(starts);
    free(head);
    return used;
}
