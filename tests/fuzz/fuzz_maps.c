/* Fuzz target: the maps text parser, and the invariants its result must keep. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/maps.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ml_maps *m;
	if (ml_maps_parse((const char *)data, size, &m) < 0)
		return 0;
	uint64_t prev_end = 0;
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		const ml_vma *v = ml_maps_get(m, i);
		/* sorted, no overlaps, NUL-terminated names of the stated length */
		if (v->start < prev_end || v->end < v->start || v->name[v->name_len] != '\0' ||
		    (unsigned)v->kind >= ML_VMA_KIND_COUNT)
			abort();
		if (ml_maps_find(m, v->start) != v && v->end > v->start)
			abort();
		prev_end = v->end;
	}
	ml_maps_free(m);
	return 0;
}
