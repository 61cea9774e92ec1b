/* Fuzz target: the bitmap parsers (mask and list) and the task children parser. */
#include <stdint.h>
#include <stdlib.h>

#include <memlens/bitmap.h>
#include <memlens/task.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	ml_bitmap *m;
	for (int list = 0; list < 2; list++) {
		if ((list ? ml_bitmap_parse_list(b, size, &m) : ml_bitmap_parse_mask(b, size, &m)) < 0)
			continue;
		/* walking the members visits exactly count() bits, all below size() */
		size_t n = 0;
		for (ssize_t i = ml_bitmap_next(m, 0); i >= 0; i = ml_bitmap_next(m, (size_t)i + 1)) {
			if ((size_t)i >= ml_bitmap_size(m) || !ml_bitmap_test(m, (size_t)i))
				abort();
			n++;
		}
		if (n != ml_bitmap_count(m) || !ml_bitmap_equal(m, m))
			abort();
		ml_bitmap_free(m);
	}
	pid_t *v;
	size_t n;
	ssize_t r = ml_task_children_parse(b, size, &v, &n);
	if (r >= 0) {
		if ((size_t)r != n)
			abort();
		for (size_t i = 0; i < n; i++)
			if (v[i] <= 0)
				abort();
		free(v);
	}
	return 0;
}
