/* cmdline and environ: the NUL-separated argument and environment strings of a process. */
#ifndef MEMLENS_CMDLINE_H
#define MEMLENS_CMDLINE_H

#include <stdbool.h>
#include <memlens/bstr.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A list of byte strings split at NUL bytes. Each v[i].ptr is also NUL-terminated (a
 * string read from NUL-separated data cannot hold a NUL), so it can be passed to C string
 * functions; v[i].len excludes the terminator. Bytes are exact (no UTF-8 assumed).
 */
typedef struct ml_strv {
	const ml_bstr *v;
	size_t n;
	/** The data did not end with a NUL: the last string was cut (a process that rewrote
	 *  its argv area, or environ data changed while being read). */
	bool unterminated;
} ml_strv;

/**
 * Splits NUL-separated @buf of @len bytes. One trailing NUL ends the last string; empty
 * strings in the middle are kept ("a\0\0b\0" is three strings). Never fails on content.
 * @return 0; -ENOMEM; -EINVAL.
 */
ML_API int ml_strv_parse(const char *buf, size_t len, ml_strv **ret);

/**
 * Reads /proc/PID/cmdline. A kernel thread's is an empty list (n == 0). A zombie's reads
 * 0 bytes: that is reported as -ESRCH, not as an empty command line (the handle checks
 * liveness before trusting an empty read). A process may rewrite its argv area
 * (setproctitle): then the kernel shows whatever is there, often one string with spaces.
 * @return 0; -ESRCH gone or zombie; -EACCES; -ENOMEM.
 */
ML_API int ml_cmdline_read(const ml_proc *p, ml_strv **ret);

/**
 * Reads /proc/PID/environ: the environment the process was started with, as it stands in
 * its memory (later setenv() calls that moved strings to the heap are not seen). Needs
 * ptrace read access (same user and not undumpable, or CAP_SYS_PTRACE).
 * An empty environment is an empty list, and so is a kernel thread's (the kernel
 * answers ESRCH for a live kernel thread; the reader checks liveness and reports no
 * environment). A zombie's gives -ESRCH.
 * @return 0; -ESRCH; -EACCES/-EPERM denied; -ENOMEM.
 */
ML_API int ml_environ_read(const ml_proc *p, ml_strv **ret);

/**
 * Looks up variable @name in an environ list ("NAME=value" strings): the first match.
 * @return true and *ret (the value, borrowed) if found.
 */
ML_API bool ml_environ_get(const ml_strv *env, const char *name, ml_bstr *ret);

ML_API void ml_strv_free(ml_strv *v);

#ifdef __cplusplus
}
#endif
#endif
