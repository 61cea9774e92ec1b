/* CRC-32 as zlib computes it, folded 64 bytes at a time with carry-less multiplication
 * (PCLMULQDQ) where the CPU has it, zlib's own code elsewhere and for the last bytes.
 *
 * The arithmetic. Let raw(s, M) be the CRC register after message M from state s (zlib's
 * crc32(c, M) is ~raw(~c, M)); raw(0, M) = M(x) * x^32 mod P, bits taken least significant
 * first, and raw(s, M) = raw(0, M with s XORed into its first four bytes). A 16-byte block
 * loaded little-endian into a 128-bit lane has bit k as the coefficient of x^(127-k): its low
 * 64 bits are the high half H of the block's polynomial, its high 64 bits the low half L.
 * Moving the block D bits further on multiplies it by x^D; modulo P that is
 *     H * (x^(D+64) mod P) + L * (x^D mod P),
 * two 64 x 32-bit carry-less products of at most 95 bits, which fit the next block's lane.
 * PCLMULQDQ of a 64-bit half (bit i <-> x^(63-i)) and a bit-reversed 32-bit constant
 * (bit j <-> x^(31-j)) yields bit m <-> x^(94-m); read as a lane that is the product times
 * x^33, so the constants are x^(D+31) and x^(D-33) mod P, bit-reversed. Four lanes are folded
 * 512 bits at a time, then into one lane 128 bits at a time; the remaining lane X and the
 * tail T give crc = crc32(crc32(0xffffffff, X, 16), T), since crc32(0xffffffff, X, 16) is
 * ~raw(0, X). The constants are computed here, not written down: ml__crc32_xpow(). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "internal/crc32.h"
#define ML__DL_REDIRECT
#include "internal/dl.h"

#define POLY 0x04c11db7u /* x^32 + ... , the plain (not reflected) form without x^32 */

uint32_t ml__crc32_xpow(unsigned n)
{
	uint32_t r = 1;
	while (n--)
		r = (r << 1) ^ ((r & 0x80000000u) ? POLY : 0);
	return r;
}

uint32_t ml__crc32_zlib(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	/* zlib takes uInt lengths */
	while (len > 0) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;
		crc = (uint32_t)crc32(crc, p, (uInt)n);
		p += n;
		len -= n;
	}
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#define CLMUL_TARGET __attribute__((target("pclmul,sse2")))

static uint32_t rev32(uint32_t v)
{
	uint32_t r = 0;
	for (int i = 0; i < 32; i++)
		r |= ((v >> i) & 1u) << (31 - i);
	return r;
}

/* The lane constants for a fold of @d bits: low 64 bits multiply the block's high half. */
static void fold_consts(unsigned d, uint64_t k[2])
{
	k[0] = rev32(ml__crc32_xpow(d + 31));
	k[1] = rev32(ml__crc32_xpow(d - 33));
}

static uint64_t k512[2], k128[2];

CLMUL_TARGET static inline __m128i fold(__m128i x, __m128i k, __m128i next)
{
	return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)),
			     next);
}

#define LOAD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

/* @len >= 64. */
CLMUL_TARGET static uint32_t crc_clmul(uint32_t crc, const uint8_t *p, size_t len)
{
	const __m128i K4 = _mm_set_epi64x((long long)k512[1], (long long)k512[0]);
	const __m128i K1 = _mm_set_epi64x((long long)k128[1], (long long)k128[0]);
	__m128i x0 = _mm_xor_si128(LOAD(p), _mm_cvtsi32_si128((int)~crc));
	__m128i x1 = LOAD(p + 16), x2 = LOAD(p + 32), x3 = LOAD(p + 48);
	p += 64;
	len -= 64;
	while (len >= 64) {
		x0 = fold(x0, K4, LOAD(p));
		x1 = fold(x1, K4, LOAD(p + 16));
		x2 = fold(x2, K4, LOAD(p + 32));
		x3 = fold(x3, K4, LOAD(p + 48));
		p += 64;
		len -= 64;
	}
	__m128i x = fold(fold(fold(x0, K1, x1), K1, x2), K1, x3);
	for (; len >= 16; p += 16, len -= 16)
		x = fold(x, K1, LOAD(p));
	uint8_t lane[16];
	_mm_storeu_si128((__m128i *)(void *)lane, x);
	return ml__crc32_zlib(ml__crc32_zlib(0xffffffffu, lane, 16), p, len);
}

static bool cpu_has_clmul(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 1)) && (d & (1u << 26)); /* PCLMULQDQ, SSE2 */
}
#endif

bool ml__crc32_choose(bool no_clmul_env, bool cpu_has)
{
	return cpu_has && !no_clmul_env;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool use_clmul, have_clmul;

static void decide(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	have_clmul = cpu_has_clmul();
	if (have_clmul) {
		fold_consts(512, k512);
		fold_consts(128, k128);
	}
#endif
	use_clmul = ml__crc32_choose(getenv("MEMLENS_NO_CLMUL") != NULL, have_clmul);
}

int ml__crc32_clmul(void)
{
	pthread_once(&once, decide);
	return use_clmul;
}

uint32_t ml__crc32_fold(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&once, decide);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (have_clmul && len >= 64)
		return crc_clmul(crc, buf, len);
#endif
	return ml__crc32_zlib(crc, buf, len);
}

uint32_t ml__crc32(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (len >= 64 && ml__crc32_clmul())
		return crc_clmul(crc, buf, len); /* decide() computed the constants */
#endif
	return ml__crc32_zlib(crc, buf, len);
}
