/* Private to lib/snapshot/writer*.c: the writer's state and what its three files share. */
#ifndef MEMLENS_SNAPSHOT_WRITER_H
#define MEMLENS_SNAPSHOT_WRITER_H

#include <pthread.h>

#include "snapshot/snap.h"

#define NSLOT 64
#define WRITEBACK_STEP (32u << 20)

typedef struct chunk {
	uint8_t *buf;
	const uint8_t *ref;         /* caller-owned bytes (add_data_ref), else NULL */
	ml_snapshot_release_fn release;
	void *release_ctx;
	uint64_t addr;
	size_t len;
	size_t lease;       /* bytes lent by reserve(), 0 when not lent */
	uint32_t vma;
	bool leased;
	struct chunk *next;
} chunk;

typedef struct pfile {
	char *name;
	uint8_t *data;
	size_t len;
} pfile;

typedef struct xfield {
	char *key, *val;
} xfield;

struct ml_snapshot_writer {
	ml_snapshot_writer_opts o;
	snap_out out;

	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_free, cv_idle;
	pthread_t thr[64];
	unsigned nthr;
	bool stop;
	int err;
	char msg[512];              /* the message of the failing call (guarded by mu) */
	char sticky[512];           /* the message of the error that killed the writer (w->err) */

	chunk *freelist;
	size_t nbuf, maxbuf;
	chunk *q_head, *q_tail;
	size_t busy;                /* chunks queued or being processed */
	chunk *open[NSLOT];

	ml_buf notes;               /* canonical notes, serialised */
	size_t nnotes, nprstatus;
	pfile *files;
	size_t nfiles, capfiles;
	ml_snapshot_info info;
	char *s_comm, *s_exe, *s_freeze, *s_kernel, *s_tool, *s_machine;
	uint8_t build_id[32];
	bool have_info;
	xfield *extra;
	size_t nextra, capextra;

	ml_snapshot_vma *vmas;
	size_t nvma;
	bool have_maps;
	uint64_t *vma_off;          /* ELF format: file offset of each mapping's data */
	uint64_t elf_data_end;      /* ELF format: end of the data area */

	snap_entry *ent;
	size_t nent, capent;
	uint64_t data_end;          /* next free offset of the data segment (mlcore) */

	ml_snapshot_progress prog;
	uint64_t written, kicked;   /* bytes written to the file; when writeback was last started */
	uint64_t kicked_prev;       /* ... and the time before */
	uint64_t raw_chunks, data_chunks;
	bool finished;

	/* Write-behind and ML_SNAPSHOT_COMPRESS_AUTO (guarded by mu; writer_data.c) */
	uint64_t dump_total;        /* bytes in the dumped parts of the mappings */
	int64_t backlog0;           /* the machine's Dirty + Writeback when the writer began, or -1 */
	bool out_in_memory;         /* the output is on tmpfs or ramfs */
	bool disk_behind;           /* writeback did not keep up at the last step (snap_disk_behind) */
	bool no_room_raw;           /* the file system lacks room for the rest stored raw */
	uint64_t raw_keep_up;       /* chunks AUTO stored raw without trying to compress them */
};

/* What ML_SNAPSHOT_COMPRESS_AUTO decides a chunk on. */
typedef struct snap_adapt {
	size_t waiting;             /* chunks handed to the workers and not yet done */
	size_t budget;              /* the writer's own chunk buffers (maxbuf) */
	bool out_in_memory, disk_behind, no_room_raw;
} snap_adapt;

/* Whether AUTO compresses the next chunk: yes, unless more than half the budget waits for
 * the workers (they are what holds the capture back) and the output keeps up with raw
 * bytes (not in memory, writeback not behind, room for the rest). */
bool snap_adapt_compress(const snap_adapt *a);

/* What a writeback step (every WRITEBACK_STEP bytes stored) learns about the disk. */
typedef enum { SNAP_DISK_UNKNOWN, SNAP_DISK_CACHESTAT, SNAP_DISK_MEMINFO } snap_disk_source;
typedef struct snap_disk_probe {
	snap_disk_source source;
	uint64_t unwritten_pages;   /* CACHESTAT: pages of the step before the last still dirty
				       or under writeback */
	uint64_t step_pages;        /* CACHESTAT: pages in that step */
	int64_t backlog_growth;     /* MEMINFO: growth of the machine's Dirty + Writeback, bytes */
} snap_disk_probe;

/* Whether the disk is behind: more than half of the step before the last still unwritten
 * (CACHESTAT), the machine's unwritten memory grown by more than four steps since the
 * writer began (MEMINFO), or not known (UNKNOWN: counted as behind, so AUTO compresses). */
bool snap_disk_behind(const snap_disk_probe *p);
/* /proc/meminfo's Dirty + Writeback in bytes, or -1. */
int64_t snap_meminfo_backlog(void);
/* Pages of [@off, @off+@len) of @fd still dirty or under writeback; -1 where cachestat()
 * is not there (before Linux 6.5, refused by a seccomp filter, or MEMLENS_NO_CACHESTAT set). */
int64_t snap_unwritten_pages(int fd, uint64_t off, uint64_t len);
/* Whether cachestat() counts @fd's pages here. */
bool snap_cachestat_works(int fd);

/* The output's file system: whether it keeps its files in memory (tmpfs, ramfs), and the
 * bytes an unprivileged writer may still add (f_bavail); -errno when fstatfs fails. */
int snap_out_space(int fd, bool *in_memory, uint64_t *avail);

/* Sets the failing call's message (when @fmt); an error other than -EINVAL also kills the
 * writer and is kept (writer.c). */
void snap_writer_err(ml_snapshot_writer *w, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Chunks in, compressed entries out (writer_data.c). */
void *snap_writer_worker(void *arg);
void snap_writer_seal_idle(ml_snapshot_writer *w); /* mutex held */
int snap_writer_add_data(ml_snapshot_writer *w, uint64_t addr, const void *buf, size_t len);
int snap_writer_reserve(ml_snapshot_writer *w, uint64_t addr, size_t want, void **ret, size_t *ret_len);
int snap_writer_commit(ml_snapshot_writer *w, uint64_t addr, size_t len);
int snap_writer_add_data_ref(ml_snapshot_writer *w, uint64_t addr, const void *buf, size_t len,
			     ml_snapshot_release_fn release, void *ctx);
int snap_writer_add_run(ml_snapshot_writer *w, uint64_t addr, uint64_t len, ml_run_kind kind);

/* The finished file's layout (writer_layout.c). */
int snap_writer_elf_head(const ml_snapshot_writer *w, uint64_t *ret_off);
int snap_writer_settle(ml_snapshot_writer *w);
int snap_writer_finish_mlcore(ml_snapshot_writer *w);
int snap_writer_finish_elf(ml_snapshot_writer *w);

#endif
