/* Octal-escape decoding and token splitting for /proc text parsers. */
#include <string.h>

#include "internal/escape.h"
#include "internal/internal.h"

static int octal(char c) { return c >= '0' && c <= '7' ? c - '0' : -1; }

size_t ml__unescape_octal(char *dst, const char *src, size_t n)
{
	size_t i = 0, o = 0;
	while (i < n) {
		if (src[i] == '\\' && n - i >= 4) {
			int a = octal(src[i + 1]), b = octal(src[i + 2]), c = octal(src[i + 3]);
			if (a >= 0 && b >= 0 && c >= 0 && a <= 3) {
				dst[o++] = (char)(a * 64 + b * 8 + c);
				i += 4;
				continue;
			}
		}
		dst[o++] = src[i++];
	}
	return o;
}

static bool is_delim(char c, const char *delims)
{
	for (; *delims; delims++)
		if (c == *delims)
			return true;
	return false;
}

const char *ml__next_token(const char **p, const char *end, const char *delims, const char **tok_end)
{
	const char *s = *p;
	while (s < end && is_delim(*s, delims))
		s++;
	const char *t = s;
	while (t < end && !is_delim(*t, delims))
		t++;
	*tok_end = t;
	*p = t;
	return s;
}
