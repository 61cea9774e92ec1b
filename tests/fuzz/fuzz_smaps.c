/* Fuzz target: the smaps text parser, and the invariants its result must keep. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/smaps.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ml_smaps *s;
	if (ml_smaps_parse((const char *)data, size, &s) < 0)
		return 0;
	uint64_t prev_end = 0;
	for (size_t i = 0; i < ml_smaps_count(s); i++) {
		const ml_smaps_vma *v = ml_smaps_get(s, i);
		if (v->vma.start < prev_end || v->vma.name[v->vma.name_len] != '\0' ||
		    v->vm_flags_raw[v->vm_flags_raw_len] != '\0')
			abort();
		/* the header line lies in the input and is one line, ending at its '\n' or the end */
		if (v->line_len == 0 || v->line_off > size || v->line_len > size - v->line_off ||
		    memchr(data + v->line_off, '\n', v->line_len - 1) ||
		    (v->line_off + v->line_len < size && data[v->line_off + v->line_len - 1] != '\n'))
			abort();
		for (size_t k = 0; k < v->n_extra; k++)
			if (v->extra[k].key[v->extra[k].key_len] != '\0' ||
			    v->extra[k].value[v->extra[k].value_len] != '\0')
				abort();
		for (unsigned f = 0; f < ML_SMAPS_NFIELDS; f++)
			if (v->f.v[f] && !(v->f.present & (1ull << f)))
				abort();
		prev_end = v->vma.end;
	}
	ml_smaps_fields t;
	ml_smaps_total(s, &t);
	ml_smaps_free(s);
	return 0;
}
