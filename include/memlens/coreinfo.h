/* coreinfo: what the notes of an ELF core say about the process (NT_PRPSINFO, NT_PRSTATUS, NT_SIGINFO, NT_AUXV, NT_FILE). */
#ifndef MEMLENS_COREINFO_H
#define MEMLENS_COREINFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <memlens/common.h>
#include <memlens/source.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One thread: one NT_PRSTATUS note. */
typedef struct ml_core_thread {
	pid_t tid;          /**< pr_pid */
	int cursig;         /**< pr_cursig: the signal the thread was stopped by (0: none) */
	uint64_t sigpend, sighold; /**< pending and blocked signal masks */
	bool have_regs;     /**< @pc and @sp are decoded (x86_64 and aarch64 only) */
	uint64_t pc, sp;
} ml_core_thread;

/** A file mapping listed by NT_FILE. */
typedef struct ml_core_file {
	uint64_t start, end;  /**< the mapping */
	uint64_t offset;      /**< its offset in the file, in bytes */
	const char *name;     /**< the path (borrowed, NUL-terminated; any byte but NUL) */
	size_t name_len;
} ml_core_file;

/** One note, of any owner (borrowed from the ml_core_info). */
typedef struct ml_core_note {
	const char *name;     /**< owner ("CORE", "LINUX", "GDB", ...), NUL-terminated */
	uint32_t type;
	const void *desc;
	size_t len;
} ml_core_note;

/**
 * The process as the notes describe it. Fields a core does not have are 0/false/empty:
 * @have_prpsinfo, @have_siginfo and @nthreads say what was there.
 */
typedef struct ml_core_info {
	uint16_t machine;          /**< e_machine of the core (EM_X86_64, EM_AARCH64, ...) */
	bool have_prpsinfo;
	pid_t pid, ppid, pgrp, sid;
	uint32_t uid, gid;
	char state;                /**< pr_sname: 'R', 'S', 'D', ... (0 if unknown) */
	char comm[17];             /**< pr_fname, NUL-terminated (at most 15 bytes in the kernel's) */
	char psargs[81];           /**< pr_psargs: the first 80 bytes of the command line, NULs as spaces */
	const ml_core_thread *threads; /**< in note order: the dumping thread first in a kernel core */
	size_t nthreads;
	bool have_siginfo;         /**< NT_SIGINFO: the signal that caused the dump */
	int signo, sigcode, sigerrno;
	uint64_t sigaddr;          /**< si_addr for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP */
	pid_t sender_pid;          /**< si_pid for a signal sent by a process (si_code <= 0) */
	uint32_t sender_uid;
	const uint8_t *auxv;       /**< NT_AUXV bytes (borrowed), or NULL */
	size_t auxv_len;
	const ml_core_file *files; /**< NT_FILE entries */
	size_t nfiles;
	const ml_core_note *notes; /**< every note in file order, of any owner */
	size_t nnotes;
} ml_core_info;

/**
 * Decodes the notes of an ELF64 core (the bytes of its PT_NOTE segments, 4-byte aligned
 * as Linux writes them) for @machine (e_machine). Note descriptors are read at the
 * offsets the 64-bit Linux structures share on every architecture (the registers only
 * for x86_64 and aarch64); notes of other owners or types are counted and skipped.
 * @return 0; -EBADMSG a note runs past the data, or a CORE note is shorter than its
 *         structure, or NT_FILE is malformed; -EINVAL; -ENOMEM.
 */
ML_API int ml_core_info_parse(const void *notes, size_t len, uint16_t machine, ml_core_info **ret);

/**
 * The notes of a source as ml_core_info: an ELF core file (plain or compressed) or an
 * mlcore snapshot (its canonical notes). @return 0; -ENOENT a live process (no notes);
 * as ml_core_info_parse().
 */
ML_API int ml_source_core_info(const ml_source *s, ml_core_info **ret);

ML_API void ml_core_info_free(ml_core_info *ci);

#ifdef __cplusplus
}
#endif
#endif
