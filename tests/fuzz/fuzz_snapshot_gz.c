/* Fuzz target: a gzip export opened as a source (member table, inflate, the ELF core inside: headers, notes, NT_FILE). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include <memlens/memlens.h>

#include "snapshot/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Inputs whose last byte is odd are an expanded core rather than a gzip file: they are
 * packed into well-formed members first (size from the byte before), so mutations reach
 * the ELF header, program header and note checks behind the gzip layer.
 */
static void pack(int fd, const uint8_t *core, size_t len, size_t member)
{
	uint8_t *out = malloc(member + member / 100 + 1024);
	if (!out)
		return;
	/* the export id: the SHA-256 of the core's bytes before its data (as far as they go) */
	uint64_t head = len;
	if (len >= 64 + 56) {
		uint64_t noff = get64(core + 64 + 8), nsz = get64(core + 64 + 32);
		if (noff < len && nsz < len)
			head = ML_MIN((noff + nsz + 4095) & ~(uint64_t)4095, (uint64_t)len);
	}
	ml__sha256 h;
	uint8_t d[32];
	ml__sha256_init(&h);
	ml__sha256_update(&h, core, (size_t)head);
	ml__sha256_final(&h, d);
	for (size_t pos = 0; pos < len; pos += member) {
		size_t n = ML_MIN(member, len - pos);
		z_stream z;
		memset(&z, 0, sizeof(z));
		if (deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			break;
		z.next_in = (Bytef *)(uintptr_t)(core + pos);
		z.avail_in = (uInt)n;
		z.next_out = out + 48;
		z.avail_out = (uInt)(member + member / 100 + 1024 - 56);
		int zr = deflate(&z, Z_FINISH);
		size_t csz = 48 + z.total_out + 8;
		deflateEnd(&z);
		if (zr != Z_STREAM_END)
			break;
		memset(out, 0, 48);
		out[0] = 0x1f, out[1] = 0x8b, out[2] = 8, out[3] = 4, out[9] = 3;
		put16(out + 10, 36);
		out[12] = 'M', out[13] = 'L';
		put16(out + 14, 32);
		put32(out + 16, (uint32_t)csz);
		put32(out + 20, (uint32_t)n);
		put64(out + 24, pos);
		put64(out + 32, len);
		memcpy(out + 40, d, 8);
		put32(out + csz - 8, (uint32_t)crc32(0L, core + pos, (uInt)n));
		put32(out + csz - 4, (uint32_t)n);
		if (snap_write_all(fd, out, csz) < 0)
			break;
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_snapshot_gz", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size >= 2 && (data[size - 1] & 1))
		pack(fd, data, size - 2, 256 + (size_t)data[size - 2] * 97);
	else
		(void)snap_write_all(fd, data, size);
	ml_source *s;
	char *msg = NULL;
	if (snap_gz_source_open_fd(fd, &s, &msg) < 0) {
		if (!msg || !*msg)
			abort(); /* every refusal says why */
		free(msg);
		return 0;
	}
	free(msg);
	(void)ml_source_pid(s);
	char *f;
	size_t fl;
	if (ml_source_read_file(s, "auxv", &f, &fl) == 0)
		free(f);
	ml_maps *m;
	if (ml_source_maps(s, &m) == 0) {
		size_t n = ml_maps_count(m);
		uint8_t *buf = malloc(1 << 16);
		for (size_t i = 0; i < n && i < 64 && buf; i++) {
			const ml_vma *v = ml_maps_get(m, i);
			ssize_t r = ml_source_read(s, v->start, buf, 1 << 16, 0);
			if (r > (ssize_t)(1 << 16))
				abort();
			uint64_t lo, hi;
			if (r == -EBADMSG && ml_source_damage(s, v->start, &lo, &hi) == 0 && (lo > v->start || hi <= v->start))
				abort(); /* the damaged range holds the address that failed */
			(void)ml_source_read(s, v->end - 1, buf, 2, 0);
			(void)ml_source_read(s, v->start + (v->end - v->start) / 2, buf, 4097, 0);
		}
		free(buf);
		if (n) {
			ml_run vec[3];
			uint64_t start = ml_maps_get(m, 0)->start, end = ml_maps_get(m, n - 1)->end, next = start;
			for (int guard = 0; guard < 10000; guard++) {
				ssize_t k = ml_source_runs(s, next, end, 0, vec, 3, &next);
				if (k <= 0 || next >= end)
					break;
				for (ssize_t j = 0; j < k; j++)
					if (vec[j].start >= vec[j].end || vec[j].end > end)
						abort();
			}
		}
		ml_maps_free(m);
	}
	ml_source_free(s);
	return 0;
}
