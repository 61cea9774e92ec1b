/* Fuzzes the hex-pattern parser of memlens grep, and runs what it accepts over the input itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grep/hexpat.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gp_hexpat *h = NULL;
	const char *err = NULL;
	if (gp_hexpat_parse((const char *)data, size, &h, &err) < 0) {
		if (!err)
			abort(); /* every rejection says why */
		return 0;
	}
	if (h->minlen > h->maxlen || h->maxlen > GP_HEX_MAX_LEN || h->n == 0 ||
	    h->anchor_off + h->anchor_len > h->minlen)
		abort();
	/* the matcher stays inside the bytes it is given, at every offset */
	for (size_t i = 0; i <= size && i < 64; i++) {
		long e = gp_hexpat_match_at(h, data + i, size - i);
		if (e >= 0 && ((size_t)e < h->minlen || (size_t)e > h->maxlen || (size_t)e > size - i))
			abort();
	}
	char *re = gp_hexpat_to_regex(h);
	if (!re)
		abort();
	free(re);
	gp_hexpat_free(h);
	return 0;
}
