/* Fuzz target: any file opened as an ELF core source (headers, segments, notes, NT_FILE) and the compressed readers in front of it (zstd, LZ4 frame, xz, gzip). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "internal/source_impl.h"
#include "snapshot/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A decompression bomb must not fill the disk while fuzzing: the readers' own cap. */
#define MAX_OUT (64u << 20)

static void exercise(ml_source *s)
{
	(void)ml_source_pid(s);
	(void)ml_source_partial(s);
	(void)ml_source_notice(s);
	ml_core_info *ci;
	if (ml_source_core_info(s, &ci) == 0) {
		for (size_t i = 0; i < ci->nfiles; i++)
			if (strlen(ci->files[i].name) != ci->files[i].name_len)
				abort();
		if (ci->nthreads && !ci->threads)
			abort();
		ml_core_info_free(ci);
	}
	char *f;
	size_t fl;
	if (ml_source_read_file(s, "auxv", &f, &fl) == 0)
		free(f);
	ml_maps *m;
	if (ml_source_maps(s, &m) != 0)
		return;
	size_t n = ml_maps_count(m);
	uint8_t *buf = malloc(1 << 16);
	for (size_t i = 0; i < n && i < 64 && buf; i++) {
		const ml_vma *v = ml_maps_get(m, i);
		ssize_t r = ml_source_read(s, v->start, buf, 1 << 16, 0);
		if (r > (ssize_t)(1 << 16))
			abort();
		(void)ml_source_read(s, v->end - 1, buf, 2, 0);
		(void)ml_source_read(s, v->start + (v->end - v->start) / 2, buf, 4097, 0);
	}
	free(buf);
	if (n) {
		ml_run vec[3];
		uint64_t start = ml_maps_get(m, 0)->start, end = ml_maps_get(m, n - 1)->end, next = start;
		for (unsigned flags = 0; flags < 2; flags++) {
			next = start;
			for (int guard = 0; guard < 10000; guard++) {
				uint64_t from = next;
				ssize_t k = ml_source_runs(s, from, end, flags, vec, 3, &next);
				if (k < 0 || (k == 0 && next != end))
					abort(); /* every call gives runs or says it is done */
				for (ssize_t j = 0; j < k; j++)
					if (vec[j].start >= vec[j].end || vec[j].start < from || vec[j].end > end)
						abort();
				if (k == 0 || next >= end)
					break;
				if (next <= from)
					abort(); /* a walk that does not move would never end */
			}
		}
	}
	ml_maps_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the notes decoder alone, on the same bytes */
	ml_core_info *ci;
	if (ml_core_info_parse(data, size, 62, &ci) == 0)
		ml_core_info_free(ci);
	int fd = memfd_create("fuzz_elfcore", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (snap_write_all(fd, data, size) < 0) {
		close(fd);
		return 0;
	}
	ml_source *s;
	char *msg = NULL;
	if (ml__core_source_open_limit(fd, MAX_OUT, &s, &msg) < 0) {
		if (!msg || !*msg)
			abort(); /* every refusal says why */
		free(msg);
		return 0;
	}
	free(msg);
	exercise(s);
	ml_source_free(s);
	return 0;
}
