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

#ifdef __cplusplus
}
#endif
#endif
