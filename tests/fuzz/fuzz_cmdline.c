/* Fuzz target: ml_strv_parse (cmdline/environ) on arbitrary bytes; strings rebuild the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/cmdline.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ml_strv *v;
	if (ml_strv_parse((const char *)data, size, &v) < 0)
		return 0;
	/* joining the strings with NULs gives back the input (less one final NUL) */
	size_t off = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (off + v->v[i].len > size || memcmp(data + off, v->v[i].ptr, v->v[i].len) ||
		    v->v[i].ptr[v->v[i].len] != '\0')
			abort();
		off += v->v[i].len + 1;
	}
	if (off != size + (v->unterminated ? 1 : 0))
		abort();
	ml_bstr val;
	(void)ml_environ_get(v, "PATH", &val);
	ml_strv_free(v);
	return 0;
}
