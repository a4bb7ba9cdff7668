/* Display width of UTF-8 text in terminal columns, as a terminal draws it:
 * combining marks and control characters take 0 columns, East Asian wide
 * and fullwidth characters (CJK, Hangul, most emoji) take 2, every byte
 * that is not part of a valid UTF-8 sequence takes 1 (terminals show one
 * replacement glyph for it). Widths come from the C library's wcwidth()
 * in the C.UTF-8 locale, selected for the calling thread only (the process
 * locale never changes); a small built-in table stands in when that locale
 * is missing or the C library does not know a code point. */
#ifndef MLPZ_UTF8WIDTH_H
#define MLPZ_UTF8WIDTH_H

#include <stddef.h>
#include <stdint.h>

/* Marks a byte that does not start a valid UTF-8 sequence. */
#define MLPZ_UTF8_INVALID UINT32_C(0xFFFFFFFF)

/* Decodes the character at s (len > 0 bytes): sets *cp and returns its
 * length in bytes. Overlong forms, surrogates, values above U+10FFFF and
 * truncated sequences give *cp = MLPZ_UTF8_INVALID and length 1. */
size_t mlpz_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Columns taken by s (len bytes). */
size_t mlpz_utf8_width(const char *s, size_t len);

/* Length in bytes of the longest prefix of s made of whole characters whose
 * width fits in cols columns; its width goes to *width when not NULL.
 * Zero-width characters right after the cut stay with their base. */
size_t mlpz_utf8_fit(const char *s, size_t len, size_t cols, size_t *width);

/* The built-in table alone (0, 1 or 2 for a valid code point); exposed so
 * the tests can check it against the C library. */
int mlpz_codepoint_width_builtin(uint32_t cp);

/* 1 when the C.UTF-8 locale was found, 0 when the built-in table is used. */
int mlpz_utf8width_uses_libc(void);

#endif
