/* Number parsing for text input: the out-of-line half of internal/num.h (semantics there). */
#include "internal/num.h"

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

int ml__parse_oct(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	if (s >= end || *s < '0' || *s > '7')
		return -EBADMSG;
	while (s < end && *s >= '0' && *s <= '7') {
		if (v >> 61)
			return -EBADMSG;
		v = (v << 3) | (uint64_t)(*s - '0');
		s++;
	}
	*p = s;
	*ret = v;
	return 0;
}

/* [s, e) must be exactly what the scanner reads. */
#define WHOLE(scan, type, s, e, ret)                        \
	do {                                                \
		const char *q_ = (s);                       \
		type v_;                                    \
		if (scan(&q_, (e), &v_) < 0 || q_ != (e))   \
			return -EBADMSG;                    \
		*(ret) = v_;                                \
		return 0;                                   \
	} while (0)

int ml__tok_dec(const char *s, const char *e, uint64_t *ret) { WHOLE(ml__parse_dec, uint64_t, s, e, ret); }
int ml__tok_sdec(const char *s, const char *e, int64_t *ret) { WHOLE(ml__parse_sdec, int64_t, s, e, ret); }
int ml__tok_hex(const char *s, const char *e, uint64_t *ret) { WHOLE(ml__parse_hex, uint64_t, s, e, ret); }
int ml__tok_xhex(const char *s, const char *e, uint64_t *ret)
{
	if (e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	return ml__tok_hex(s, e, ret);
}

int ml__tok_oct(const char *s, const char *e, uint64_t *ret) { WHOLE(ml__parse_oct, uint64_t, s, e, ret); }

int ml__tok_u32(const char *s, const char *e, uint32_t *ret)
{
	uint64_t v;
	if (ml__tok_dec(s, e, &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	*ret = (uint32_t)v;
	return 0;
}

int ml__tok_s32(const char *s, const char *e, int32_t *ret)
{
	int64_t v;
	if (ml__tok_sdec(s, e, &v) < 0 || v < INT32_MIN || v > INT32_MAX)
		return -EBADMSG;
	*ret = (int32_t)v;
	return 0;
}

int ml__tok_decs(const char *s, const char *e, char sep, uint64_t *ret, size_t n)
{
	uint64_t v[16];
	if (n > 16)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (i && (s >= e || *s++ != sep))
			return -EBADMSG;
		if (ml__parse_dec(&s, e, &v[i]) < 0)
			return -EBADMSG;
	}
	if (s != e)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		ret[i] = v[i];
	return 0;
}
