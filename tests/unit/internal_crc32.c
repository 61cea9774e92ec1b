/* lib/internal/crc32.c: the folded CRC-32 against a bit-at-a-time reference and zlib, for
 * every length 0-1100 at every alignment, for chained calls and large buffers: as chosen,
 * folded with PCLMULQDQ (where the CPU has it) and with zlib's code alone; and the choice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mltest.h"
#include "internal/crc32.h"
#include "internal/dl.h"

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The reflected CRC register, one bit at a time (the definition, nothing shared with the code
 * under test): crc32(c, M) = ~reg(~c, M). */
static uint32_t ref_step(uint32_t reg, uint8_t b)
{
	reg ^= b;
	for (int i = 0; i < 8; i++)
		reg = (reg >> 1) ^ ((reg & 1u) ? 0xedb88320u : 0);
	return reg;
}

static uint8_t *random_buf(size_t n, uint64_t seed)
{
	uint8_t *b = malloc(n);
	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(rnd(&seed) >> 24);
	return b;
}

/* Every length 0-1100 at 16 alignments and 3 seeds against the definition, then 3 MiB
 * whole, in uneven pieces, and zeros against zlib, computed by @crc. NULL when all agree,
 * else what differed. */
typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static const char *check_all(crc_fn crc, char *msg, size_t msglen)
{
	if (ml__dl_load() != 0)
		return "the compression libraries did not load";
	enum { MAXLEN = 1100 };
	uint8_t *buf = random_buf(MAXLEN + 16, 7);
	static const uint32_t seeds[] = { 0, 0xffffffffu, 0x12345678u };
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++)
		for (size_t off = 0; off < 16; off++) {
			uint32_t reg = ~seeds[s];
			for (size_t len = 0; len <= MAXLEN; len++) {
				uint32_t got = crc(seeds[s], buf + off, len);
				if (got != ~reg) {
					snprintf(msg, msglen, "seed %08x offset %zu length %zu: %08x, the definition gives %08x",
						 seeds[s], off, len, got, ~reg);
					free(buf);
					return msg;
				}
				if (len < MAXLEN)
					reg = ref_step(reg, buf[off + len]);
			}
		}
	free(buf);

	size_t n = (3u << 20) + 77;
	buf = random_buf(n, 99);
	const char *bad = NULL;
	uint32_t whole = crc(0, buf, n);
	if (whole != (uint32_t)ml__dl_fns()->crc32(0, buf, (unsigned)n))
		bad = "3 MiB of random bytes: not zlib's value";
	/* in uneven pieces, as a chunk reader or the gzip export computes it */
	uint64_t st = 5;
	uint32_t c = 0;
	for (size_t at = 0; at < n && !bad;) {
		size_t k = 1 + rnd(&st) % 70000;
		if (k > n - at)
			k = n - at;
		c = crc(c, buf + at, k);
		at += k;
	}
	if (!bad && c != whole)
		bad = "3 MiB in uneven pieces: not the value of the whole";
	/* zeros: all-zero lanes fold to zero, the checksum must still count them */
	memset(buf, 0, n);
	if (!bad && crc(0, buf, n) != (uint32_t)ml__dl_fns()->crc32(0, buf, (unsigned)n))
		bad = "3 MiB of zeros: not zlib's value";
	if (!bad && crc(0, buf, 4096) == crc(0, buf, 8192))
		bad = "4 KiB and 8 KiB of zeros give the same value";
	free(buf);
	return bad;
}

START_TEST(crc32_check_value_and_constants)
{
	ck_assert_int_eq(ml__dl_load(), 0);
	/* the catalogue's check value of CRC-32/ISO-HDLC */
	ck_assert_uint_eq(ml__crc32(0, "123456789", 9), 0xcbf43926u);
	char msg[200];
	memset(msg, 'a', sizeof(msg));
	ck_assert_uint_eq(ml__crc32(0, msg, sizeof(msg)), (uint32_t)ml__dl_fns()->crc32(0, (const unsigned char *)msg, sizeof(msg)));
	/* x^n mod P: below x^32 a power is itself, x^32 is the polynomial's lower terms, and
	 * x^64 mod P is the known 0x04d101df (x^32 times the polynomial, reduced) */
	ck_assert_uint_eq(ml__crc32_xpow(0), 1);
	ck_assert_uint_eq(ml__crc32_xpow(31), 0x80000000u);
	ck_assert_uint_eq(ml__crc32_xpow(32), 0x04c11db7u);
	uint32_t r = 0x04c11db7u; /* x^32 mod P, times x^32 by shifting */
	for (int i = 0; i < 32; i++)
		r = (r << 1) ^ ((r & 0x80000000u) ? 0x04c11db7u : 0);
	ck_assert_uint_eq(ml__crc32_xpow(64), r);
}
END_TEST

START_TEST(crc32_every_length)
{
	char msg[200];
	/* as the library computes it (the folding where the CPU has it) */
	printf("crc32: %s\n", ml__crc32_clmul() ? "PCLMULQDQ folding" : "this CPU has no PCLMULQDQ: zlib's code");
	const char *bad = check_all(ml__crc32, msg, sizeof(msg));
	ck_assert_msg(bad == NULL, "ml__crc32: %s", bad);
	/* each way on its own, whatever was chosen */
	bad = check_all(ml__crc32_zlib, msg, sizeof(msg));
	ck_assert_msg(bad == NULL, "zlib's code: %s", bad);
	bad = check_all(ml__crc32_fold, msg, sizeof(msg));
	ck_assert_msg(bad == NULL, "folding: %s", bad);
}
END_TEST

START_TEST(crc32_choice)
{
	/* the folding only where the CPU has it and MEMLENS_NO_CLMUL is not set */
	ck_assert(ml__crc32_choose(false, true));
	ck_assert(!ml__crc32_choose(true, true));
	ck_assert(!ml__crc32_choose(false, false));
	ck_assert(!ml__crc32_choose(true, false));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("internal_crc32");
	TCase *tc = tcase_create("crc32");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, crc32_check_value_and_constants);
	tcase_add_test(tc, crc32_every_length);
	tcase_add_test(tc, crc32_choice);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
