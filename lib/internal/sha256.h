/* Private: SHA-256 for snapshot digests (lib/snapshot/) and the public ml_digest_sha256() (lib/digest.c). */
#ifndef MEMLENS_INTERNAL_SHA256_H
#define MEMLENS_INTERNAL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct ml__sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t fill;
	void *fn;
} ml__sha256;

void ml__sha256_init(ml__sha256 *c);
void ml__sha256_update(ml__sha256 *c, const void *data, size_t n);
void ml__sha256_final(ml__sha256 *c, uint8_t out[32]);
/* Lower-case hex of a digest, NUL-terminated. */
void ml__sha256_hex(const uint8_t d[32], char out[65]);

#endif
