/* Fuzz target: the working-set smaps parser and the sample built from what it parsed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/wss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first half is the window's "before" (maps), the rest its "after" (smaps) */
	size_t half = size / 2;
	ml__wss_vmas before = { 0 }, after = { 0 };
	int rb = ml__wss_smaps_parse((const char *)data, half, &before);
	int ra = ml__wss_smaps_parse((const char *)data + half, size - half, &after);
	if (ra == 0) {
		ml_wss_sample *s = ml__wss_sample_new();
		if (s) {
			s->scope = (ml_wss_scope)(size % 3);
			if (ml__wss_build(s, rb == 0 ? &before : NULL, &after) == 0) {
				for (size_t i = 0; i < s->nregions; i++)
					if (s->regions[i].name_len != strlen(s->regions[i].name) ||
					    s->regions[i].wss_huge_min > s->regions[i].wss_huge_max)
						abort();
			}
			ml_wss_sample_free(s);
		}
	}
	ml__wss_vmas_free(&before);
	ml__wss_vmas_free(&after);
	return 0;
}
