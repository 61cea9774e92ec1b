/* Digests: SHA-256 (FIPS 180-4), as used for snapshot checksums and redacted grep hits. */
#ifndef MEMLENS_DIGEST_H
#define MEMLENS_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <memlens/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** SHA-256 of @len bytes at @data into @out (uses the CPU's SHA extensions where present). */
ML_API void ml_digest_sha256(const void *data, size_t len, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif
