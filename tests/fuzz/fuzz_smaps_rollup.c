/* Fuzz target: the smaps_rollup text parser. */
#include <stdint.h>
#include <stdlib.h>

#include <memlens/smaps.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ml_smaps_rollup *r;
	if (ml_smaps_rollup_parse((const char *)data, size, &r) < 0)
		return 0;
	for (size_t k = 0; k < r->n_extra; k++)
		if (r->extra[k].key[r->extra[k].key_len] != '\0')
			abort();
	if (r->f.v[ML_SMAPS_RSS] != r->f.rss)
		abort();
	(void)ml_smaps_uss(&r->f);
	ml_smaps_rollup_free(r);
	return 0;
}
