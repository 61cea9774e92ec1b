/* Fuzz target: ml_auxv_parse in every layout; entries must come from inside the input. */
#include <stdint.h>
#include <stdlib.h>

#include <memlens/auxv.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const ml_auxv_layout layouts[] = { ML_AUXV_AUTO, ML_AUXV_32, ML_AUXV_64 };
	for (unsigned i = 0; i < 3; i++) {
		ml_auxv *a;
		if (ml_auxv_parse(data, size, layouts[i], &a) < 0)
			continue;
		if (a->n * 2 * a->word_size > size)
			abort();
		for (size_t k = 0; k < a->n; k++)
			if (a->v[k].type == 0)
				abort();
		ml_auxv_free(a);
	}
	return 0;
}
