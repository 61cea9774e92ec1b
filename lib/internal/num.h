/* Private: the library's one set of number parsers for text input (/proc files, manifests). */
#ifndef MEMLENS_INTERNAL_NUM_H
#define MEMLENS_INTERNAL_NUM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every parser here reads one base from a bounded buffer [p, end) (no NUL needed, never a
 * byte past end) and returns 0 or -EBADMSG, writing *ret only on success:
 *   dec   '0'-'9'                          -> uint64_t
 *   sdec  one optional '+' or '-', then dec -> int64_t
 *   hex   '0'-'9' 'a'-'f' 'A'-'F', no "0x" -> uint64_t
 *   xhex  hex after an optional "0x" or "0X" (what printf's %#llx writes: status's
 *         untag_mask) -> uint64_t
 *   oct   '0'-'7'                          -> uint64_t
 *   u32, s32: dec and sdec limited to that type's range
 * No blanks are skipped, no locale is consulted, and a value that does not fit is
 * -EBADMSG, never wrapped or clamped (strtoull's ULLONG_MAX). Two shapes:
 *   ml__parse_<base>(&p, end, &v)  a number at *p: at least one digit, then as many as
 *                                  follow; *p is moved past them (what follows is the
 *                                  caller's: a separator, a unit).
 *   ml__tok_<base>(s, e, &v)       [s, e) is one whole token: exactly one number, nothing
 *                                  before or after it (a caller that allows blanks around
 *                                  a value trims them first: ml__trim()).
 * The scanners are inline: the smaps parser runs them several times per line.
 */

/* The value of one hex digit (either case), -1 for any other byte. */
static inline int ml__hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline int ml__parse_hex(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;
	if (s >= end || (d = ml__hexval(*s)) < 0)
		return -EBADMSG;
	do {
		if (v >> 60)
			return -EBADMSG;
		v = (v << 4) | (uint64_t)d;
		s++;
	} while (s < end && (d = ml__hexval(*s)) >= 0);
	*p = s;
	*ret = v;
	return 0;
}

static inline int ml__parse_dec(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	if (s >= end || (unsigned)(*s - '0') > 9)
		return -EBADMSG;
	do {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
		s++;
	} while (s < end && (unsigned)(*s - '0') <= 9);
	*p = s;
	*ret = v;
	return 0;
}

int ml__parse_sdec(const char **p, const char *end, int64_t *ret);
int ml__parse_oct(const char **p, const char *end, uint64_t *ret);

int ml__tok_dec(const char *s, const char *e, uint64_t *ret);
int ml__tok_sdec(const char *s, const char *e, int64_t *ret);
int ml__tok_hex(const char *s, const char *e, uint64_t *ret);
int ml__tok_xhex(const char *s, const char *e, uint64_t *ret);
int ml__tok_oct(const char *s, const char *e, uint64_t *ret);
int ml__tok_u32(const char *s, const char *e, uint32_t *ret);
int ml__tok_s32(const char *s, const char *e, int32_t *ret);
/* [s, e) is exactly @n dec numbers, each pair separated by one @sep byte (statm, schedstat). */
int ml__tok_decs(const char *s, const char *e, char sep, uint64_t *ret, size_t n);

#endif
