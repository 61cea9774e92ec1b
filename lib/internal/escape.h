/* Private helpers for /proc text that escapes bytes as backslash + three octal digits. */
#ifndef MEMLENS_INTERNAL_ESCAPE_H
#define MEMLENS_INTERNAL_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes [src, src+n) into @dst, turning every "\ooo" (three octal digits, value < 256)
 * into that byte; any other backslash is copied as is. Returns the decoded length
 * (always <= n). @dst may equal @src. Never reads past src+n.
 */
size_t ml__unescape_octal(char *dst, const char *src, size_t n);

/* Splits the next token delimited by any byte of @delims (not NUL-aware); returns its
 * start and sets *tok_end; advances *p past the token and one delimiter run. */
const char *ml__next_token(const char **p, const char *end, const char *delims, const char **tok_end);

#endif
