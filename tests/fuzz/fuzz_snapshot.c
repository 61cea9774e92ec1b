/* Fuzz target: the snapshot reader on arbitrary bytes (open, list, runs, random reads, verify, expand). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <elf.h>
#include <zlib.h>

#include <memlens/memlens.h>

#include "snapshot/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Checksums stop nearly every mutation at the door. For inputs whose last byte is odd,
 * the index, note and header-area checksums are recomputed first (where the layout
 * allows), so mutations reach the structural checks behind them.
 */
static void fix_checksums(uint8_t *p, size_t n)
{
	if (n < sizeof(Elf64_Ehdr))
		return;
	Elf64_Ehdr eh;
	memcpy(&eh, p, sizeof(eh));
	if (eh.e_phnum > 16 || eh.e_phoff > n || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > n - eh.e_phoff)
		return;
	uint64_t no = 0, nl = 0, dof = 0, io = 0, il = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, p + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_offset > n || ph.p_filesz > n - ph.p_offset)
			return;
		if (ph.p_type == PT_NOTE) { no = ph.p_offset; nl = ph.p_filesz; }
		if (ph.p_type == SNAP_PT_DATA) dof = ph.p_offset;
		if (ph.p_type == SNAP_PT_INDEX) { io = ph.p_offset; il = ph.p_filesz; }
	}
	if (il < SNAP_IDX_HDR_SIZE || dof > n)
		return;
	uint8_t *h = p + io;
	put32(h + 48, (uint32_t)crc32(0L, h + SNAP_IDX_HDR_SIZE, (uInt)(il - SNAP_IDX_HDR_SIZE)));
	put32(h + 52, (uint32_t)crc32(0L, p + no, (uInt)nl));
	if (io >= dof)
		put32(h + 60, (uint32_t)crc32(0L, p, (uInt)dof));
	put32(h + 76, (uint32_t)crc32(0L, h, 76));
}

/* expanding hashes every byte of the core: only small ones */
#define EXPAND_LIMIT (16u << 20)

static int null_progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	return done > total; /* never more than announced */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_snapshot", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	uint8_t *copy = NULL;
	if (size && (data[size - 1] & 1) && (copy = malloc(size))) {
		memcpy(copy, data, size);
		fix_checksums(copy, size);
		data = copy;
	}
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ml_snapshot *s;
	free(copy);
	if (ml_snapshot_open(path, &s) < 0) {
		close(fd);
		return 0;
	}
	/* everything listable */
	size_t nv = ml_snapshot_vma_count(s), ne = ml_snapshot_entry_count(s);
	for (size_t i = 0; i < nv; i++) {
		const ml_snapshot_vma *v = ml_snapshot_vma_get(s, i);
		ml_snapshot_stats st;
		ml_snapshot_stats_get(s, i, &st);
		if (ml_snapshot_vma_find(s, v->vma.start) != v)
			abort();
	}
	for (size_t i = 0; i < ml_snapshot_note_count(s); i++) {
		ml_snapshot_note n;
		ml_snapshot_note_get(s, i, &n);
	}
	for (size_t i = 0; i < ml_snapshot_file_count(s); i++) {
		char *b;
		size_t l;
		if (ml_snapshot_read_file(s, ml_snapshot_file_name(s, i), &b, &l) == 0)
			free(b);
	}
	(void)ml_snapshot_manifest(s, NULL);
	(void)ml_snapshot_field(s, "pid");
	/* runs over everything, a few at a time */
	if (nv) {
		ml_run vec[5];
		uint64_t start = ml_snapshot_vma_get(s, 0)->vma.start, end = ml_snapshot_vma_get(s, nv - 1)->vma.end;
		uint64_t next = start;
		for (int guard = 0; guard < 10000; guard++) {
			ssize_t n = ml_snapshot_runs(s, next, end, guard & 1 ? ML_RUNS_SPLIT_ZERO : 0, vec, 5, &next);
			if (n <= 0 || next >= end)
				break;
		}
	}
	/* reads at entry boundaries and inside entries, deterministic from the input */
	uint8_t *buf = malloc(1 << 16);
	uint64_t x = size * 2654435761u + 1;
	for (size_t k = 0; k < ne && k < 64; k++) {
		ml_snapshot_entry e;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (ml_snapshot_entry_get(s, (size_t)(x % ne), &e) < 0)
			abort();
		uint64_t a = e.addr + (e.len ? x % e.len : 0);
		ssize_t r = ml_snapshot_read(s, a, buf, (size_t)(x >> 20) % (1 << 16));
		if (r > (ssize_t)(1 << 16))
			abort();
		(void)ml_snapshot_read(s, e.addr + e.len - 1, buf, 2);
	}
	free(buf);
	size_t bad;
	(void)ml_snapshot_verify(s, 0, &bad);
	if (ml_snapshot_expanded_size(s) <= EXPAND_LIMIT) {
		(void)ml_snapshot_verify(s, ML_SNAPSHOT_VERIFY_SHA256, &bad);
		int out = memfd_create("fuzz_core", MFD_CLOEXEC);
		if (out >= 0) {
			ML_OPTS(ml_snapshot_expand_opts, o, .progress = null_progress, .verify = true);
			(void)ml_snapshot_expand(s, out, &o, NULL);
			close(out);
		}
	}
	ml_snapshot_free(s);
	close(fd);
	return 0;
}
