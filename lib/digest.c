/* Public digest entry points over the library's SHA-256. */
#include <memlens/digest.h>

#include "internal/sha256.h"

void ml_digest_sha256(const void *data, size_t len, uint8_t out[32])
{
	ml__sha256 c;
	ml__sha256_init(&c);
	ml__sha256_update(&c, data, len);
	ml__sha256_final(&c, out);
}
