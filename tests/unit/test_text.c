/* core/utf8width: decoding, widths, prefixes that fit, and the built-in
 * table checked against the C library's own wcwidth(). */
#define _XOPEN_SOURCE 700

#include <locale.h>
#include <wchar.h>

#include "unit.h"
#include "utf8width.h"

static size_t width_of(const char *s)
{
    return mlpz_utf8_width(s, strlen(s));
}

static void test_decode(void)
{
    static const struct {
        const char *s;
        size_t len;
        uint32_t cp;
        const char *what;
    } cases[] = {
        {"A", 1, 'A', "ASCII"},
        {"\xC3\xA9", 2, 0xE9, "two bytes"},
        {"\xE4\xB8\x83", 3, 0x4E03, "three bytes"},
        {"\xF0\x9F\x98\x80", 4, 0x1F600, "four bytes"},
        {"\xF4\x8F\xBF\xBF", 4, 0x10FFFF, "last code point"},
        {"\xC0\x80", 1, MLPZ_UTF8_INVALID, "overlong NUL"},
        {"\xE0\x80\xAF", 1, MLPZ_UTF8_INVALID, "overlong slash"},
        {"\xED\xA0\x80", 1, MLPZ_UTF8_INVALID, "surrogate"},
        {"\xF4\x90\x80\x80", 1, MLPZ_UTF8_INVALID, "above U+10FFFF"},
        {"\xE4\xB8", 1, MLPZ_UTF8_INVALID, "truncated"},
        {"\x80", 1, MLPZ_UTF8_INVALID, "lone continuation"},
        {"\xFF", 1, MLPZ_UTF8_INVALID, "0xFF"},
        {"\xC3(", 1, MLPZ_UTF8_INVALID, "lead byte then ASCII"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t cp = 0;
        size_t n = mlpz_utf8_decode(cases[i].s, strlen(cases[i].s), &cp);
        CHECK(n == cases[i].len && cp == cases[i].cp, "decode %s: %zu bytes, U+%04X",
              cases[i].what, n, (unsigned)cp);
    }
}

static void test_width(void)
{
    static const struct {
        const char *s;
        size_t width;
        const char *what;
    } cases[] = {
        {"", 0, "empty"},
        {"Godfather, The (1972)", 21, "ASCII"},
        {"L\xC3\xA9on", 4, "precomposed accent"},
        {"e\xCC\x81", 1, "combining acute"},
        {"\xE4\xB8\x83\xE4\xBA\xBA\xE3\x81\xAE\xE4\xBE\x8D", 8, "CJK 七人の侍"},
        {"\xED\x95\x9C\xEA\xB5\xAD", 4, "Hangul 한국"},
        {"\xEF\xBC\xA1", 2, "fullwidth A"},
        {"\xF0\x9F\x98\x80", 2, "emoji"},
        {"\t\n\r\x1B\x7F", 0, "C0 controls and DEL"},
        {"\xC2\x85", 0, "C1 control NEL"},
        {"\xFF\xFE", 2, "invalid bytes"},
        {"a\xE4\xB8z", 4, "truncated sequence"},
        {"\xE2\x80\x8B", 0, "zero width space"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t w = width_of(cases[i].s);
        CHECK(w == cases[i].width, "width %s = %zu (got %zu)", cases[i].what,
              cases[i].width, w);
    }
}

/* Every prefix returned ends on a character boundary, fits, and is the
 * longest that fits. */
static void test_fit(void)
{
    static const char *samples[] = {
        "L\xC3\xA9on: The Professional",
        "e\xCC\x81t\xC3\xA9",
        "\xE4\xB8\x83\xE4\xBA\xBA\xE3\x81\xAE\xE4\xBE\x8D (1954)",
        "\xF0\x9F\x98\x80\xF0\x9F\x8E\xAC!",
        "ok\xFF\xE4\xB8z",
    };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        const char *s = samples[i];
        size_t len = strlen(s), total = width_of(s);
        int good = 1;
        for (size_t cols = 0; cols <= total + 1; cols++) {
            size_t w;
            size_t n = mlpz_utf8_fit(s, len, cols, &w);
            size_t at = 0;
            while (at < n) {
                uint32_t cp;
                at += mlpz_utf8_decode(s + at, len - at, &cp);
            }
            int boundary = at == n;
            int fits = w <= cols && w == mlpz_utf8_width(s, n);
            int longest = n == len;
            if (!longest) {
                uint32_t cp;
                size_t next = mlpz_utf8_decode(s + n, len - n, &cp);
                longest = mlpz_utf8_width(s, n + next) > cols;
            }
            if (!(boundary && fits && longest)) {
                good = 0;
                printf("# sample %zu cols %zu: %zu bytes, width %zu\n", i, cols, n, w);
            }
        }
        CHECK(good, "fit sample %zu: every prefix whole, fitting and longest", i);
    }
    size_t w;
    CHECK(mlpz_utf8_fit("e\xCC\x81x", 4, 1, &w) == 3 && w == 1,
          "fit keeps a combining mark with its base");
    CHECK(mlpz_utf8_fit("\xE4\xB8\x83x", 4, 1, &w) == 0 && w == 0,
          "fit does not take half of a wide character");
}

/* The table must agree with glibc where both know the answer; checked over
 * whole blocks rather than a few picks. */
static void test_builtin_against_libc(void)
{
    locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    CHECK(loc != (locale_t)0, "C.UTF-8 locale exists on this machine");
    if (loc == (locale_t)0)
        return;
    CHECK(mlpz_utf8width_uses_libc(), "widths come from libc's wcwidth");
    static const struct {
        uint32_t lo, hi;
        const char *what;
    } blocks[] = {
        {0x20, 0x7E, "ASCII"},
        {0xA0, 0x2FF, "Latin"},
        {0x300, 0x36F, "combining diacritics"},
        {0x3041, 0x3096, "Hiragana"},
        {0x4E00, 0x9FFF, "CJK ideographs"},
        {0xAC00, 0xD7A3, "Hangul syllables"},
        {0xFF01, 0xFF60, "fullwidth forms"},
        {0x1F600, 0x1F64F, "emoticons"},
    };
    locale_t saved = uselocale(loc);
    for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
        size_t bad = 0;
        for (uint32_t cp = blocks[b].lo; cp <= blocks[b].hi; cp++) {
            int want = wcwidth((wchar_t)cp);
            if (want >= 0 && mlpz_codepoint_width_builtin(cp) != want)
                bad++;
        }
        CHECK(bad == 0, "built-in table matches wcwidth on %s (%zu differ)",
              blocks[b].what, bad);
    }
    uselocale(saved);
    freelocale(loc);
}

static void test_process_locale_unchanged(void)
{
    const char *before = setlocale(LC_CTYPE, NULL);
    char copy[64];
    snprintf(copy, sizeof copy, "%s", before ? before : "");
    width_of("\xE4\xB8\x83");
    const char *after = setlocale(LC_CTYPE, NULL);
    CHECK(after && strcmp(copy, after) == 0, "process locale unchanged (%s)", copy);
    CHECK(uselocale((locale_t)0) == LC_GLOBAL_LOCALE,
          "thread is back on the global locale");
}

int main(void)
{
    test_decode();
    test_width();
    test_fit();
    test_builtin_against_libc();
    test_process_locale_unchanged();
    return unit_done();
}
