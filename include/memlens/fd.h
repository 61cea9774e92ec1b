/* fd: the open file descriptors of a process (fd/ links) and their fdinfo. */
#ifndef MEMLENS_FD_H
#define MEMLENS_FD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/bstr.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a descriptor refers to, decoded from its link text. */
typedef enum ml_fd_type {
	ML_FD_PATH = 0,   /**< a file, directory or device with a path ("/...") */
	ML_FD_SOCKET,     /**< "socket:[INODE]" */
	ML_FD_PIPE,       /**< "pipe:[INODE]" (also a FIFO opened by path shows its path) */
	ML_FD_ANON,       /**< "anon_inode:[eventfd]", "anon_inode:inotify", ... */
	ML_FD_MEMFD,      /**< "/memfd:NAME (deleted)" */
	ML_FD_NS,         /**< a namespace file: "net:[INODE]", "mnt:[INODE]", ... */
	ML_FD_OTHER,      /**< anything else ("TYPE:[N]" of another pseudo filesystem) */
	ML_FD_TYPE_COUNT
} ml_fd_type;

/** One descriptor. Strings are borrowed (see where each is returned). */
typedef struct ml_fd {
	int fd;
	ml_fd_type type;
	ml_bstr target;   /**< the link text, exact bytes (deleted suffix removed when @deleted) */
	/** ML_FD_SOCKET / PIPE / NS / OTHER with "[N]": the inode number; else 0. */
	uint64_t inode;
	/** ML_FD_ANON: the kind without brackets ("eventfd", "inotify"); ML_FD_MEMFD: the
	 *  memfd name; ML_FD_NS / OTHER: the prefix ("net"); else empty. */
	ml_bstr name;
	/** A path the kernel marked " (deleted)" (the suffix is kept in a name that merely
	 *  ends so only by ml_fd_from_fd(), which checks the file itself). */
	bool deleted;
	/** The access mode, from the permission bits of the fd/N link itself (the kernel
	 *  sets them from how the file was opened): ML_FD_MODE_READ and/or ML_FD_MODE_WRITE
	 *  (with ML_FD_MODE_EXEC whenever either is set, as procfs's FDPermissions shows).
	 *  0 when unknown: on a directory tree (fixture) the links are plain symlinks, or
	 *  from ml_fd_parse_target(), which sees only the text. */
	uint16_t mode;
} ml_fd;

/** Bits of ml_fd.mode: S_IRUSR, S_IWUSR, S_IXUSR of the fd link. */
#define ML_FD_MODE_READ 0400u
#define ML_FD_MODE_WRITE 0200u
#define ML_FD_MODE_EXEC 0100u

/** A short name of a type: "path", "socket", "pipe", "anon", "memfd", "ns", "other". */
ML_API const char *ml_fd_type_name(ml_fd_type t);

/**
 * Decodes a descriptor link text (what readlink(2) gives for fd/N) of @len bytes into
 * *ret (type, inode, name), borrowing from @buf; ret->fd is left as the caller set it.
 * Never fails on content.
 */
ML_API int ml_fd_parse_target(const char *buf, size_t len, ml_fd *ret);

/**
 * Counts the open descriptors: the entries of fd/ (getdents only, no readlink, so it is
 * cheap even with a million descriptors). Needs ptrace read access.
 * @return the count; -ESRCH; -EACCES/-EPERM; -ENOENT a zombie has no fd/ entries
 *         (reported as -ESRCH on a live handle).
 */
ML_API ssize_t ml_fd_count(const ml_proc *p);

/** An iterator over fd/: lazy; a descriptor closed before it is reached is skipped. */
typedef struct ml_fds ml_fds;

/** Starts iterating. @return 0; -ESRCH; -EACCES/-EPERM; -ENOMEM. */
ML_API int ml_fds_open(const ml_proc *p, ml_fds **ret);

/**
 * The next descriptor with its link decoded. ret->target and ret->name are borrowed from
 * the iterator and valid until the next call.
 * Where the main thread has exited, fd/ is listed through another thread; if that one
 * exits once some entries have been given, the rest of the listing is lost with it, and
 * the list is reported incomplete (-EAGAIN) rather than ended: list again with a new
 * iterator (which reads through a thread that runs).
 * @return 1; 0 at the end; -ESRCH the process is gone (and after an error that ended the
 *         iterator); -EAGAIN the listing stopped short (above); -EACCES; -ENOMEM.
 */
ML_API int ml_fds_next(ml_fds *it, ml_fd *ret);

ML_API void ml_fds_free(ml_fds *it);

/** /proc/PID/fdinfo/N, with the descriptor's target. */
typedef struct ml_fdinfo {
	ml_fd fd;           /**< the link (when read through ml_fd_from_fd()) */
	uint64_t pos;       /**< file offset */
	uint32_t flags;     /**< open flags (octal in the file): O_ACCMODE, O_APPEND, O_CLOEXEC... */
	int mnt_id;         /**< mount ID (see mountinfo); -1 if absent */
	uint64_t ino;       /**< inode number (Linux 5.14+); 0 if absent */
	bool has_ino;
	const ml_kv *extra; /**< every other line (eventfd-count, tfd, inotify, lock...), in order */
	size_t n_extra;
} ml_fdinfo;

/**
 * Parses fdinfo text. pos, flags and mnt_id are required (as every kernel since 3.15
 * writes them); -EBADMSG otherwise. The record copies what it keeps.
 */
ML_API int ml_fdinfo_parse(const char *buf, size_t len, ml_fdinfo **ret);

/**
 * Reads descriptor @fd of @p: its link (decoded; on a live handle " (deleted)" is
 * checked against the file itself) and its fdinfo.
 * @return 0; -EBADF no such descriptor (the process lives); -ESRCH; -EACCES; -EBADMSG.
 */
ML_API int ml_fd_from_fd(const ml_proc *p, int fd, ml_fdinfo **ret);

ML_API void ml_fdinfo_free(ml_fdinfo *fi);

#ifdef __cplusplus
}
#endif
#endif
