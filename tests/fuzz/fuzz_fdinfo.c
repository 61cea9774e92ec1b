/* Fuzz target: ml_fdinfo_parse and ml_fd_parse_target; borrowed spans must stay inside. */
#include <stdint.h>
#include <stdlib.h>

#include <memlens/fd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

static void touch(ml_bstr b, const char *lo, const char *hi)
{
	if (lo && (b.ptr < lo || b.ptr + b.len > hi))
		abort();
	for (size_t i = 0; i < b.len; i++)
		sink += (unsigned char)b.ptr[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	ml_fd f = { .fd = 1 };
	ml_fd_parse_target(b, size, &f);
	touch(f.target, b, b + size);
	if (f.name.len)
		touch(f.name, b, b + size);
	ml_fdinfo *fi;
	if (ml_fdinfo_parse(b, size, &fi) == 0) {
		for (size_t i = 0; i < fi->n_extra; i++) {
			touch(fi->extra[i].name, NULL, NULL);
			touch(fi->extra[i].value, NULL, NULL);
		}
		ml_fdinfo_free(fi);
	}
	return 0;
}
