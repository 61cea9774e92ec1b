/* Public digest entry points over the library's SHA-256. */
#include <memlens/digest.h>

#include "snapshot/snap.h"

void ml_digest_sha256(const void *data, size_t len, uint8_t out[32])
{
	snap_sha256 c;
	snap_sha256_init(&c);
	snap_sha256_update(&c, data, len);
	snap_sha256_final(&c, out);
}
