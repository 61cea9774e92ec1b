/* How a source backend plugs into ml_source (lib/source.c dispatches through these ops). */
#ifndef MEMLENS_INTERNAL_SOURCE_IMPL_H
#define MEMLENS_INTERNAL_SOURCE_IMPL_H

#include <memlens/source.h>

typedef struct ml_source_ops {
	void (*free)(void *impl);
	pid_t (*pid)(const void *impl);
	int (*maps)(const void *impl, ml_maps **ret);
	int (*read_file)(const void *impl, const char *name, char **ret, size_t *ret_len);
	ssize_t (*runs)(const void *impl, uint64_t start, uint64_t end, unsigned flags,
			ml_run *vec, size_t n, uint64_t *next);
	ssize_t (*read)(const void *impl, uint64_t addr, void *buf, size_t len, unsigned flags);
	const char *(*error)(const void *impl);
	/* the damaged range holding @addr (NULL: the backend stores nothing that can be damaged) */
	int (*damage)(const void *impl, uint64_t addr, uint64_t *ret_lo, uint64_t *ret_hi);
	/* optional: ml_source_read_runs(); without it the runs come from runs() (lib/source.c) */
	ssize_t (*read_runs)(const void *impl, uint64_t addr, void *buf, size_t len, unsigned flags,
			     ml_run *runs, size_t nruns, size_t *ret_nruns);
	/* the canonical notes as the core serialises them, and e_machine (NULL: none) */
	int (*notes)(const void *impl, const uint8_t **ret, size_t *ret_len, uint16_t *machine);
	const char *(*partial)(const void *impl);  /* NULL: never partial */
	const char *(*notice)(const void *impl);   /* NULL: nothing to say */
} ml_source_ops;

/* Wraps a backend into a source (takes ownership of @impl, freeing it on failure). */
int ml__source_new(ml_source_type type, const ml_source_ops *ops, void *impl,
		   const ml_proc *proc, ml_source **ret);
/* The backend object of a source. */
void *ml__source_impl(const ml_source *s);

/* The notes of a source (borrowed). -ENOENT when it has none (live). */
int ml__source_notes(const ml_source *s, const uint8_t **ret, size_t *ret_len, uint16_t *machine);

/* The ELF core backend (lib/snapshot/elfcore.c): opens @fd (taken over, closed on
 * failure), an ELF core or a compressed one; @path names it in messages. */
int ml__core_source_open_fd(int fd, const char *path, ml_source **ret, char **err_msg);
/* As ml__core_source_open_fd(), a compressed core decompressing to at most @max_out bytes
 * (0: no limit). */
int ml__core_source_open_limit(int fd, uint64_t max_out, ml_source **ret, char **err_msg);

/* The snapshot backend (lib/snapshot/source_snapshot.c). */
int ml__snapshot_source_open(const char *path, ml_source **ret, char **err_msg);

#endif
