/* Private helpers shared by the library's readers; never installed. */
#ifndef MEMLENS_INTERNAL_H
#define MEMLENS_INTERNAL_H

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

#include <memlens/proc.h>

#define ML_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ML_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ML_MAX(a, b) ((a) > (b) ? (a) : (b))
#define ML_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* -errno of the last failed libc call, never 0 (a failing call that left errno 0 is -EIO). */
static inline int ml_neg_errno(void) { return errno > 0 ? -errno : -EIO; }

/*
 * The calling thread's error detail, read with ml_error_detail(). A public function that
 * can say more than its -errno clears it on entry and sets it, one line, no trailing
 * period, saying what is wrong (the caller names the file or PID it passed), when it
 * fails.
 */
void ml__error_clear(void);
void ml__error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Frees *p and sets it to NULL. */
#define ML_FREE(p) do { free(p); (p) = NULL; } while (0)

/*
 * Whole-file reading. Reads from @fd until EOF into a growing buffer that stays
 * NUL-terminated. @hint is the first allocation size. Returns 0 or -errno.
 */
int ml__read_fd_all(int fd, size_t hint, char **ret, size_t *ret_len);
/*
 * One read(2) of at most @cap - 1 bytes of @name under @dirfd, NUL-terminated, for the
 * small files that fit one read (stat, the head of status). Returns the byte count (0:
 * empty) or -errno of open or read (ENOENT as is: the caller says what it means).
 */
ssize_t ml__read_small(int dirfd, const char *name, char *buf, size_t cap);

/*
 * A growable byte buffer used by parsers and writers.
 */
typedef struct ml_buf {
	char *data;
	size_t len, cap;
} ml_buf;

int ml_buf_reserve(ml_buf *b, size_t extra);
int ml_buf_append(ml_buf *b, const void *p, size_t n);
void ml_buf_free(ml_buf *b);

/*
 * Growable array of fixed-size elements: ml__grow(&arr, &cap, n + 1, sizeof *arr)
 * makes room for at least @need elements. Returns 0 or -ENOMEM; overflow-checked.
 */
int ml__grow(void *arrp, size_t *cap, size_t need, size_t elem);
/* Memory of exactly @len bytes plus a NUL copied from @buf (NULL on ENOMEM). */
char *ml__memdup0(const char *buf, size_t len);

/*
 * Options structs (first member `size_t sz`, the caller's sizeof, set by ML_OPTS): loads
 * the caller's @src into the library's @dst (@dst_sz bytes, zero or defaults already), so
 * - a NULL @src leaves @dst as it is;
 * - an older caller (sz < @dst_sz but at least @min_sz, never below sizeof(size_t)) gets
 *   @dst's values for the fields its struct lacks;
 * - a newer caller (sz > @dst_sz) is accepted when every byte past @dst_sz is zero (it set
 *   no field this library does not know), otherwise -EINVAL.
 * @dst's sz becomes @dst_sz. Returns 0 or -EINVAL. A field added to a public options
 * struct must start at or past the struct's old sizeof (never in its tail padding), or an
 * older library could not see it was set.
 */
int ml__opts_load(void *dst, size_t dst_sz, const void *src, size_t min_sz);
#define ML_OPTS_LOAD(dst, src) ml__opts_load((dst), sizeof(*(dst)), (src), 0)

/* ---- Text parsing over [p, end) cursors; none reads past end, none needs NUL. ---- */

/* Numbers: ml__parse_<base>() scans one at a cursor, ml__tok_<base>() takes a whole token. */
#include "internal/num.h"
/* Skips spaces and tabs. */
void ml__skip_blank(const char **p, const char *end);
/* Trims spaces and tabs at both ends of [*p, *e). */
void ml__trim(const char **p, const char **e);
/* Returns the end of the current line (the '\n' or end). */
const char *ml__line_end(const char *p, const char *end);

/* ---- The process handle's private side, for readers in lib/. ---- */

/* True if @p is a live procfs handle whose address space is gone (exit or exec). */
int ml__proc_after_read(const ml_proc *p, int err, size_t nread);
/*
 * Reads @file of @p in 256 KiB chunks and hands @fn each run of whole lines as it arrives
 * (what follows the last newline at the end), with its offset in the text, so a file of
 * megabytes (smaps of thousands of mappings) is never held at once and never grown page by
 * page. Where the thread it was read through exits midway (a process whose leader has
 * exited: see ml__proc_reread()), @reset (if not NULL) is called to forget the lines
 * handed over and the file is read again from the start; without @reset that is -ESRCH.
 * @return 0; @fn's error; otherwise as ml__proc_after_read().
 */
int ml__proc_read_lines(const ml_proc *p, const char *file,
			int (*fn)(void *ctx, const char *buf, size_t len, size_t off),
			void (*reset)(void *ctx), void *ctx);
/*
 * The readers' way to the handle's files. For a process whose leader thread has exited
 * while others run, what the leader gave up at its exit (its address space: maps, smaps,
 * pagemap, mem, map_files/, cmdline...; fd/, fdinfo/; cwd, root; ns/, net/, mounts) is read
 * through /proc/TID of a thread that runs, chosen and changed by the handle
 * (docs/architecture.md, "The process handle"). *via is that TID, or 0 when the file was
 * opened through the process's own directory. Unlike ml_proc_openat(), ml__proc_openat_via()
 * leaves it to the caller to ask ml__proc_reread() when what it read came back empty (it
 * then saves asking first, for the files whose emptiness says enough: see proc_leader.c).
 */
int ml__proc_openat_via(const ml_proc *p, const char *name, int flags, pid_t *via);
int ml__proc_readlink_via(const ml_proc *p, const char *name, char **ret, size_t *ret_len, pid_t *via);
/* ml__stat_cached() of @name of @p, through the directory it is read through. 0 or -errno. */
struct stat;
int ml__proc_fstatat(const ml_proc *p, const char *name, struct stat *st, int flags);
/*
 * fstatat(2) answered from the attributes the kernel holds (statx(2) with
 * AT_STATX_DONT_SYNC): a network file system answers from its cache instead of asking its
 * server, which on a dead hard mount never answers, so looking at a target's cwd, exe or
 * open file cannot hang. For identity, type and link count only: a cached size may be
 * stale. Where statx is missing or refused (Linux before 4.11, old container filters),
 * plain fstatat(). 0 or -errno.
 */
int ml__stat_cached(int dfd, const char *name, int flags, struct stat *st);
/* ml_proc_read_file() with the first allocation of @hint bytes. */
int ml__proc_read_all(const ml_proc *p, const char *name, size_t hint, char **ret, size_t *ret_len);
/*
 * Whether a read of @name opened through @via must be done again, because what it went
 * through lost what the file shows while it was read (the next open then goes through
 * another thread). Through a thread (@via a TID) ask after every read: a thread that has
 * begun to exit shows its part empty, or stops a listing short, without an error. Through
 * the process's own directory (@via 0) ask after a read that came back empty or -ESRCH:
 * the leader may have exited since it was asked.
 */
bool ml__proc_reread(const ml_proc *p, const char *name, pid_t via);
/*
 * process_vm_readv(2) of @p's memory, @n iovecs on each side: through the PID, or, once
 * its leader has exited, through the TID of a thread that runs, checked to be alive after
 * the call (a TID names its thread only while it lives). Bytes read, or -errno.
 */
struct iovec;
/*
 * The ID through which system calls that take one reach @p's address space (kcmp): the
 * PID, or once the leader has exited, the TID of the thread read through (0 if none runs).
 * Unlike ml__proc_vm_readv() nothing checks that a TID still names that thread afterwards.
 */
pid_t ml__proc_mm_pid(const ml_proc *p);
ssize_t ml__proc_vm_readv(const ml_proc *p, const struct iovec *local, const struct iovec *remote,
			  size_t n);
/* Opens directory @name of @p (fd/, task/) for readdir: 0, or -errno as ml_proc_openat(). */
int ml__proc_opendir(const ml_proc *p, const char *name, DIR **ret);
/* True when every thread of the handle's group has PF_EXITING set (being killed). */
bool ml__proc_group_exiting(const ml_proc *p);
/* Exact names for records of @m, no longer uncertain: @set holds @n of them, in increasing
 * record order. The names are copied into one new block (all at once: one call per name
 * cost the whole table each time). */
struct ml_maps;
typedef struct ml__vma_name {
	size_t i;
	const char *name;
	size_t len;
	bool deleted;
} ml__vma_name;
int ml__maps_set_names(struct ml_maps *m, const ml__vma_name *set, size_t n);

#endif
