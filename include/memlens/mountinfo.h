/* mountinfo: the mounts of a process's mount namespace, from /proc/PID/mountinfo. */
#ifndef MEMLENS_MOUNTINFO_H
#define MEMLENS_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * One comma-separated option ("rw", "size=1024k", "mode=755"). Name and value are
 * decoded exact bytes (the kernel escapes ' ', '\\t', '\\n', '\\\\' and, in filesystem
 * options, ',' and '=' as "\\ooo"), each NUL-terminated; a value may hold NUL bytes only
 * if the kernel escaped one as "\\000", so use the lengths.
 */
typedef struct ml_mount_opt {
	const char *name;
	size_t name_len;
	const char *value;   /**< NULL when the option has no '=' */
	size_t value_len;
} ml_mount_opt;

/** One optional field of a mount ("shared:1", "master:3", "propagate_from:2", "unbindable"). */
typedef struct ml_mount_tag {
	const char *tag;     /**< "shared", "master", ... (decoded, NUL-terminated) */
	const char *value;   /**< the text after ':', or NULL */
} ml_mount_tag;

/**
 * One line of mountinfo:
 * `ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS`.
 * Byte fields are decoded (every "\\ooo" becomes its byte), NUL-terminated, with their
 * exact length; paths may contain any byte, including newlines and NUL-free invalid UTF-8.
 * All pointers are borrowed from the ml_mountinfo.
 */
typedef struct ml_mount {
	uint32_t mount_id;          /**< unique ID of the mount (may be reused after umount) */
	uint32_t parent_id;         /**< ID of the parent mount (itself for the namespace root) */
	uint32_t dev_major, dev_minor; /**< st_dev of files on this filesystem */
	const char *root;           /**< the directory of the filesystem mounted here ("/" for all of it) */
	size_t root_len;
	const char *mount_point;    /**< relative to the reading process's root directory */
	size_t mount_point_len;
	const char *options;        /**< per-mount options as the kernel printed them (raw, still escaped) */
	const ml_mount_opt *opts;   /**< the same, split and decoded */
	size_t nopts;
	const ml_mount_tag *tags;   /**< optional fields, in order */
	size_t ntags;
	uint32_t shared;            /**< peer group of "shared:N", 0 if none */
	uint32_t master;            /**< peer group of "master:N", 0 if none */
	uint32_t propagate_from;    /**< "propagate_from:N", 0 if none */
	bool unbindable;            /**< "unbindable" present */
	bool read_only;             /**< per-mount option "ro" */
	const char *fs_type;        /**< "ext4", "cgroup2", "fuse.sshfs" ... (decoded) */
	size_t fs_type_len;
	const char *source;         /**< mount source ("/dev/vda", "tmpfs", "none"); decoded */
	size_t source_len;
	const char *super_options;  /**< superblock options, raw (still escaped) */
	const ml_mount_opt *super_opts; /**< the same, split and decoded */
	size_t nsuper_opts;
} ml_mount;

/** The parsed mount table, in the kernel's order. */
typedef struct ml_mountinfo ml_mountinfo;

/**
 * Reads /proc/PID/mountinfo of @p (the mounts of its mount namespace, with mount points
 * relative to the process's root directory).
 * @return 0; -ESRCH gone; -EACCES/-EPERM denied; -ENOENT no such file; -EBADMSG a line
 *         does not parse; -ENOMEM; -EINVAL misuse.
 */
ML_API int ml_mountinfo_read(const ml_proc *p, ml_mountinfo **ret);

/**
 * Parses mountinfo text from @buf (@len bytes, need not be NUL-terminated). Empty lines
 * are skipped; any other line that does not have every mandatory field makes the parse
 * fail with -EBADMSG (so a torn or foreign file is never half-read silently).
 * @return 0; -EBADMSG; -ENOMEM; -EINVAL (@buf NULL with @len > 0, or @ret NULL).
 */
ML_API int ml_mountinfo_parse(const char *buf, size_t len, ml_mountinfo **ret);

/** Number of mounts. */
ML_API size_t ml_mountinfo_count(const ml_mountinfo *mi);
/** Mount @i (borrowed), or NULL if out of range. */
ML_API const ml_mount *ml_mountinfo_get(const ml_mountinfo *mi, size_t i);
/** The mount with @mount_id, or NULL. */
ML_API const ml_mount *ml_mountinfo_find_id(const ml_mountinfo *mi, uint32_t mount_id);
/**
 * The mount whose mount point is the longest prefix (on a '/' boundary) of the path
 * @path (@len bytes); later mounts win over earlier ones on the same point (they hide
 * them). NULL if none.
 */
ML_API const ml_mount *ml_mountinfo_find_path(const ml_mountinfo *mi, const char *path, size_t len);
/** The per-mount or super option @name of @m (NULL if absent). @super selects the list. */
ML_API const ml_mount_opt *ml_mount_find_opt(const ml_mount *m, bool super, const char *name);
/** Frees @mi (NULL is fine). */
ML_API void ml_mountinfo_free(ml_mountinfo *mi);

/* ---- /proc/PID/mountstats ---- */

/** A "key: value" line of a mount's statistics ("opts", "age", "events", "bytes", "xprt" ...). */
typedef struct ml_mountstats_field {
	const char *name;           /**< the key without ':' (NUL-terminated) */
	const char *value;          /**< the rest of the line, leading blanks removed (NUL-terminated) */
	size_t value_len;
	const uint64_t *numbers;    /**< the value as numbers when every word of it is decimal */
	size_t nnumbers;            /**< 0 when the value is not all numbers */
} ml_mountstats_field;

/** One per-operation statistics line ("READ: 12 12 0 1536 1200 3 4 9 0"). */
typedef struct ml_mountstats_op {
	const char *name;           /**< "READ", "GETATTR", ... */
	const uint64_t *values;     /**< the numbers in the kernel's order (for NFS: ops,
	                                 transmissions, major timeouts, bytes sent, bytes
	                                 received, queue ms, rtt ms, execute ms[, errors]) */
	size_t nvalues;
} ml_mountstats_op;

/** One "device ..." entry and the statistics lines that follow it. */
typedef struct ml_mountstats_mount {
	const char *device;         /**< decoded; NULL for "no device" */
	size_t device_len;
	const char *mount_point;    /**< decoded */
	size_t mount_point_len;
	const char *fs_type;        /**< decoded */
	size_t fs_type_len;
	const char *statvers;       /**< "1.1" for NFS ("statvers=1.1"), NULL if absent */
	const ml_mountstats_field *fields; /**< every "key: value" line, in order */
	size_t nfields;
	const ml_mountstats_op *ops; /**< lines after "per-op statistics" */
	size_t nops;
} ml_mountstats_mount;

/** The parsed mountstats of a process. */
typedef struct ml_mountstats ml_mountstats;

/**
 * Reads /proc/PID/mountstats of @p. Only NFS adds statistics; other filesystems give one
 * "device" line each.
 * @return 0; -ESRCH; -EACCES/-EPERM; -ENOENT; -EBADMSG; -ENOMEM; -EINVAL.
 */
ML_API int ml_mountstats_read(const ml_proc *p, ml_mountstats **ret);
/**
 * Parses mountstats text. A "device" line must read `device D mounted on M with fstype T`
 * (optionally followed by more words, e.g. "statvers=1.1"); indented lines belong to the
 * device before them: "key: value" lines become fields, lines after "per-op statistics"
 * become ops ("NAME: n n n ..."), any other indented line is kept as a field whose name
 * is the whole line and whose value is empty. Unindented lines that are not "device"
 * lines fail with -EBADMSG.
 * @return 0; -EBADMSG; -ENOMEM; -EINVAL.
 */
ML_API int ml_mountstats_parse(const char *buf, size_t len, ml_mountstats **ret);
ML_API size_t ml_mountstats_count(const ml_mountstats *ms);
ML_API const ml_mountstats_mount *ml_mountstats_get(const ml_mountstats *ms, size_t i);
/** The field @name of @m, or NULL. */
ML_API const ml_mountstats_field *ml_mountstats_find_field(const ml_mountstats_mount *m, const char *name);
/** The op @name of @m, or NULL. */
ML_API const ml_mountstats_op *ml_mountstats_find_op(const ml_mountstats_mount *m, const char *name);
ML_API void ml_mountstats_free(ml_mountstats *ms);

/* ---- NFS statistics of a mountstats entry, typed (procfs's MountNFSStatistics) ---- */

/** The "events:" counters of an NFS mount (fs/nfs/iostat.h order; procfs's NFSEventCounter). */
typedef struct ml_nfs_events {
	uint64_t inode_revalidate, dentry_revalidate, data_invalidate, attr_invalidate;
	uint64_t vfs_open, vfs_lookup, vfs_access, vfs_update_page, vfs_read_page, vfs_read_pages;
	uint64_t vfs_write_page, vfs_write_pages, vfs_getdents, vfs_setattr, vfs_flush, vfs_fsync;
	uint64_t vfs_lock, vfs_release, congestion_wait, setattr_trunc, extend_write, silly_rename;
	uint64_t short_read, short_write, delay, pnfs_read, pnfs_write;
} ml_nfs_events;
#define ML_NFS_EVENTS 27

/** The "bytes:" counters (procfs's NFSByteCounter). */
typedef struct ml_nfs_bytes {
	uint64_t normal_read, normal_write, direct_read, direct_write, server_read, server_write;
	uint64_t pages_read, pages_write;
} ml_nfs_bytes;
#define ML_NFS_BYTES 8

/** The NFS statistics of one mount. Each part has its own flag: kernels differ in what they print. */
typedef struct ml_nfs_stats {
	const char *statvers;     /**< "1.1" (borrowed from the mount) */
	bool has_age;
	uint64_t age_s;           /**< seconds since the mount */
	bool has_caps;
	uint32_t caps;            /**< the server's capabilities: ML_NFS_CAP_* (procfs's server_caps()) */
	uint32_t wtmult, dtsize, bsize, namlen;
	bool has_events;
	ml_nfs_events events;     /**< counters the kernel did not print are 0 (see nevents) */
	size_t nevents;           /**< how many "events:" numbers there were (27 on current kernels) */
	bool has_bytes;
	ml_nfs_bytes bytes;
	const char *opts;         /**< the mount options as printed (borrowed), or NULL */
	const char *sec;          /**< "flavor=1,pseudoflavor=1" (borrowed), or NULL */
} ml_nfs_stats;

/**
 * Types the statistics of mount @m: age, caps (and wtmult, dtsize, bsize, namlen),
 * events, bytes, opts, sec.
 * @return 0; -ENOENT @m has no statistics (not an NFS mount); -EBADMSG a part that is not
 *         as the kernel prints it (more numbers than known, a caps value that is not hex); -EINVAL.
 */
ML_API int ml_mountstats_nfs(const ml_mountstats_mount *m, ml_nfs_stats *ret);

/** One per-operation line, typed (procfs's NFSOperationStat). Times are cumulative milliseconds. */
typedef struct ml_nfs_op {
	const char *name;
	uint64_t operations, transmissions, major_timeouts, bytes_sent, bytes_recv;
	uint64_t cum_queue_ms, cum_resp_ms, cum_total_req_ms;
	bool has_errors;          /**< the ninth number (Linux 5.3+) */
	uint64_t errors;
} ml_nfs_op;

/** Types one op line. @return 0; -EBADMSG fewer than 8 numbers; -EINVAL. */
ML_API int ml_mountstats_nfs_op(const ml_mountstats_op *op, ml_nfs_op *ret);

/** NFS server capability bits (include/linux/nfs_fs_sb.h, Linux 6.x). */
#define ML_NFS_CAP_READDIRPLUS (1u << 0)
#define ML_NFS_CAP_HARDLINKS (1u << 1)
#define ML_NFS_CAP_SYMLINKS (1u << 2)
#define ML_NFS_CAP_ACLS (1u << 3)
#define ML_NFS_CAP_ATOMIC_OPEN (1u << 4)
#define ML_NFS_CAP_POSIX_LOCK (1u << 14)
#define ML_NFS_CAP_UIDGID_NOMAP (1u << 15)
#define ML_NFS_CAP_STATEID_NFSV41 (1u << 16)
#define ML_NFS_CAP_ATOMIC_OPEN_V1 (1u << 17)
#define ML_NFS_CAP_SECURITY_LABEL (1u << 18)
#define ML_NFS_CAP_SEEK (1u << 19)
#define ML_NFS_CAP_ALLOCATE (1u << 20)
#define ML_NFS_CAP_DEALLOCATE (1u << 21)
#define ML_NFS_CAP_LAYOUTSTATS (1u << 22)
#define ML_NFS_CAP_CLONE (1u << 23)
#define ML_NFS_CAP_COPY (1u << 24)
#define ML_NFS_CAP_OFFLOAD_CANCEL (1u << 25)
#define ML_NFS_CAP_LAYOUTERROR (1u << 26)
#define ML_NFS_CAP_COPY_NOTIFY (1u << 27)
#define ML_NFS_CAP_XATTR (1u << 28)
#define ML_NFS_CAP_READ_PLUS (1u << 29)
#define ML_NFS_CAP_FS_LOCATIONS (1u << 30)
#define ML_NFS_CAP_MOVEABLE (1u << 31)

/** The name of NFS capability bit @bit ("READDIRPLUS"), or NULL where the bit has none
 *  stable across kernel versions. */
ML_API const char *ml_nfs_cap_name(unsigned bit);

#ifdef __cplusplus
}
#endif
#endif
