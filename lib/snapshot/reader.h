/* Private to lib/snapshot/reader*.c: an open snapshot's state and what its files share. */
#ifndef MEMLENS_SNAPSHOT_READER_H
#define MEMLENS_SNAPSHOT_READER_H

#include <libelf.h>
#include <pthread.h>

#include "snapshot/snap.h"

#define NCACHE 8

typedef struct note_ref {
	const char *name;
	uint32_t type;
	const uint8_t *desc;
	size_t len;
} note_ref;

typedef struct file_ref {
	char *name;
	const uint8_t *data;
	size_t len;
} file_ref;

struct ml_snapshot {
	int fd;
	uint64_t fsize;
	Elf *elf;
	uint16_t machine;
	uint8_t osabi;
	uint32_t version, chunk_size, page_size;
	uint64_t data_off, data_size;

	ml_buf canon;            /* canonical notes re-serialised, as in the expanded core */
	note_ref *notes;
	size_t nnotes, nthreads;
	file_ref *files;
	size_t nfiles;
	char *manifest;
	size_t manifest_len;
	snap_kv *kv;
	size_t nkv;
	pid_t pid;
	uint8_t sha[32];
	bool have_sha;
	const uint8_t *seal;     /* the seal note's descriptor, or NULL (written before seals) */
	const uint8_t *raw_notes, *raw_idx; /* the segments as stored (libelf's copies) */
	size_t raw_notes_len, raw_idx_len;

	ml_snapshot_vma *vmas;
	size_t nvma;
	size_t *vma_first;       /* first entry of each mapping */
	snap_entry *ent;
	size_t nent;
	ml_snapshot_stats total;
	snap_core core;

	pthread_mutex_t mu;
	struct {
		size_t idx;
		uint8_t *buf;
		uint64_t stamp;
	} cache[NCACHE];
	uint64_t clock;
	uint8_t *spare[2 * NCACHE]; /* chunk-sized buffers to reuse */
	size_t nspare;
};


/* Sets the calling thread's error detail (ml_error_detail()). */
void snap_reader_err(const ml_snapshot *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* First entry whose end is above @addr. */
size_t snap_reader_lower_entry(const ml_snapshot *s, uint64_t addr);

#endif
