/* The character classes and percent-encoding rules of Signature V4. */
#include <string.h>

#include "sigv4_impl.h"

int mlpz_sigv4_is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int mlpz_sigv4_is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int mlpz_sigv4_is_graph(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

int mlpz_sigv4_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void mlpz_sigv4_put_encoded(mlpz_sbuf *b, const char *s, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (mlpz_sigv4_is_unreserved(c) || (keep_slash && c == '/')) {
            mlpz_sb_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            mlpz_sb_putn(b, e, 3);
        }
    }
}

char *mlpz_sigv4_uri_encode(const char *s, size_t n, int keep_slash)
{
    mlpz_sbuf b = {0};
    mlpz_sigv4_put_encoded(&b, s, n, keep_slash);
    return mlpz_sb_take(&b);
}

void mlpz_sigv4_put_decoded(mlpz_sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = mlpz_sigv4_hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = mlpz_sigv4_hexval((unsigned char)s[i + 2])) >= 0) {
            mlpz_sb_putc(b, (char)(hi << 4 | lo));
            i += 2;
        } else {
            mlpz_sb_putc(b, s[i]);
        }
    }
}
