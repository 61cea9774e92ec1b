/* Number and line scanning for /proc text, bounded by explicit end pointers. */
#include "internal/internal.h"

void ml__skip_blank(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

const char *ml__line_end(const char *p, const char *end)
{
	while (p < end && *p != '\n')
		p++;
	return p;
}

int ml__hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ml__parse_hex(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;
	if (s >= end || ml__hexval(*s) < 0)
		return -EBADMSG;
	while (s < end && (d = ml__hexval(*s)) >= 0) {
		if (v >> 60)
			return -EBADMSG;
		v = (v << 4) | (uint64_t)d;
		s++;
	}
	*p = s;
	*ret = v;
	return 0;
}

int ml__parse_dec(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	if (s >= end || *s < '0' || *s > '9')
		return -EBADMSG;
	while (s < end && *s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
		s++;
	}
	*p = s;
	*ret = v;
	return 0;
}

int ml__parse_sdec(const char **p, const char *end, int64_t *ret)
{
	const char *s = *p;
	bool neg = false;
	uint64_t v;
	if (s < end && (*s == '-' || *s == '+')) {
		neg = *s == '-';
		s++;
	}
	int r = ml__parse_dec(&s, end, &v);
	if (r < 0)
		return r;
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return -EBADMSG;
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	*p = s;
	return 0;
}
