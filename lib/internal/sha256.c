/* SHA-256 (FIPS 180-4) for snapshot digests and ml_digest_sha256(): portable rounds, and SHA-NI where the CPU has it. */
#include <string.h>

#include "internal/internal.h"
#include "internal/sha256.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void blocks_portable(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	uint32_t w[64];
	while (nblocks--) {
		for (int i = 0; i < 16; i++)
			w[i] = be32(p + 4 * i);
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
		for (int i = 0; i < 64; i++) {
			uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
			uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
			hh = g; g = f; f = e; e = d + t1;
			d = c; c = b; b = a; a = t1 + t2;
		}
		h[0] += a; h[1] += b; h[2] += c; h[3] += d;
		h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
		p += 64;
	}
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#define SHANI_TARGET __attribute__((target("sha,sse4.1")))

/* Four rounds with message words @m (already in host order in 32-bit lanes). */
#define SHANI_4ROUNDS(m, k)                                              \
	do {                                                             \
		__m128i t_ = _mm_add_epi32((m), _mm_loadu_si128((const __m128i *)(k))); \
		st1 = _mm_sha256rnds2_epu32(st1, st0, t_);               \
		t_ = _mm_shuffle_epi32(t_, 0x0e);                        \
		st0 = _mm_sha256rnds2_epu32(st0, st1, t_);               \
	} while (0)

static SHANI_TARGET void blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	/* state layout expected by sha256rnds2: ABEF and CDGH */
	__m128i abcd = _mm_loadu_si128((const __m128i *)&h[0]);
	__m128i efgh = _mm_loadu_si128((const __m128i *)&h[4]);
	__m128i tmp = _mm_shuffle_epi32(abcd, 0xb1);          /* CDAB */
	efgh = _mm_shuffle_epi32(efgh, 0x1b);                 /* HGFE */
	__m128i st0 = _mm_alignr_epi8(tmp, efgh, 8);          /* ABEF */
	__m128i st1 = _mm_blend_epi16(efgh, tmp, 0xf0);       /* CDGH */

	while (nblocks--) {
		__m128i s0 = st0, s1 = st1;
		__m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
		__m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
		__m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
		__m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);

		SHANI_4ROUNDS(m0, &K[0]);
		SHANI_4ROUNDS(m1, &K[4]);
		SHANI_4ROUNDS(m2, &K[8]);
		SHANI_4ROUNDS(m3, &K[12]);
		for (int i = 16; i < 64; i += 16) {
			m0 = _mm_sha256msg1_epu32(m0, m1);
			m0 = _mm_add_epi32(m0, _mm_alignr_epi8(m3, m2, 4));
			m0 = _mm_sha256msg2_epu32(m0, m3);
			SHANI_4ROUNDS(m0, &K[i]);
			m1 = _mm_sha256msg1_epu32(m1, m2);
			m1 = _mm_add_epi32(m1, _mm_alignr_epi8(m0, m3, 4));
			m1 = _mm_sha256msg2_epu32(m1, m0);
			SHANI_4ROUNDS(m1, &K[i + 4]);
			m2 = _mm_sha256msg1_epu32(m2, m3);
			m2 = _mm_add_epi32(m2, _mm_alignr_epi8(m1, m0, 4));
			m2 = _mm_sha256msg2_epu32(m2, m1);
			SHANI_4ROUNDS(m2, &K[i + 8]);
			m3 = _mm_sha256msg1_epu32(m3, m0);
			m3 = _mm_add_epi32(m3, _mm_alignr_epi8(m2, m1, 4));
			m3 = _mm_sha256msg2_epu32(m3, m2);
			SHANI_4ROUNDS(m3, &K[i + 12]);
		}
		st0 = _mm_add_epi32(st0, s0);
		st1 = _mm_add_epi32(st1, s1);
		p += 64;
	}
	tmp = _mm_shuffle_epi32(st0, 0x1b);                   /* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xb1);                   /* DCHG */
	abcd = _mm_blend_epi16(tmp, st1, 0xf0);               /* DCBA */
	efgh = _mm_alignr_epi8(st1, tmp, 8);                  /* HGFE */
	_mm_storeu_si128((__m128i *)&h[0], abcd);
	_mm_storeu_si128((__m128i *)&h[4], efgh);
}

static bool have_shani(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	if (!(b & (1u << 29)))       /* SHA */
		return false;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return false;
	return (c & (1u << 19)) && (c & (1u << 9)); /* SSE4.1, SSSE3 */
}
#endif

typedef void (*blocks_fn)(uint32_t h[8], const uint8_t *p, size_t nblocks);

static blocks_fn pick(void)
{
	static blocks_fn fn;
	blocks_fn f = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	if (f)
		return f;
	f = blocks_portable;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (!getenv("MEMLENS_NO_SHANI") && have_shani())
		f = blocks_shani;
#endif
	__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	return f;
}

void ml__sha256_init(ml__sha256 *c)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->fill = 0;
	c->fn = (void *)pick();
}

void ml__sha256_update(ml__sha256 *c, const void *data, size_t n)
{
	const uint8_t *p = data;
	blocks_fn fn = (blocks_fn)c->fn;
	c->len += n;
	if (c->fill) {
		size_t take = ML_MIN(n, 64 - c->fill);
		memcpy(c->buf + c->fill, p, take);
		c->fill += take;
		p += take;
		n -= take;
		if (c->fill < 64)
			return;
		fn(c->h, c->buf, 1);
		c->fill = 0;
	}
	if (n >= 64) {
		fn(c->h, p, n / 64);
		p += n & ~(size_t)63;
		n &= 63;
	}
	if (n) {
		memcpy(c->buf, p, n);
		c->fill = n;
	}
}

void ml__sha256_final(ml__sha256 *c, uint8_t out[32])
{
	uint64_t bits = c->len * 8;
	uint8_t pad[72] = { 0x80 };
	size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill;
	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
	ml__sha256_update(c, pad, padlen + 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

void ml__sha256_hex(const uint8_t d[32], char out[65])
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[64] = '\0';
}
