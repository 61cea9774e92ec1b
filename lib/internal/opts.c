/* Loading a caller's options struct whatever version of the headers it was built with. */
#include <string.h>

#include "internal/internal.h"

int ml__opts_load(void *dst, size_t dst_sz, const void *src, size_t min_sz)
{
	if (!src)
		return 0;
	size_t sz;
	memcpy(&sz, src, sizeof(sz));
	if (min_sz < sizeof(size_t))
		min_sz = sizeof(size_t);
	if (sz < min_sz)
		return -EINVAL;
	/* A newer caller: its fields past ours must be unset (zero), or it asked for
	 * something this library cannot do. */
	for (size_t i = dst_sz; i < sz; i++)
		if (((const unsigned char *)src)[i])
			return -EINVAL;
	memcpy(dst, src, ML_MIN(sz, dst_sz));
	memcpy(dst, &dst_sz, sizeof(dst_sz));
	return 0;
}
