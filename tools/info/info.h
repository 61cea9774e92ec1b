/* memlens info, the summary: what is read about one process and what the files of tools/info/ that read and print it share. */
#ifndef MEMLENS_TOOLS_INFO_INFO_H
#define MEMLENS_TOOLS_INFO_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <memlens/memlens.h>

#define INFO_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX_ERRS 48
#define MAX_NS 10

typedef struct thread_info {
	pid_t tid;
	char name[64];
	char state;
} thread_info;

/* What of a stat record the kernel hid from this reader: info_stat_hid(). */
typedef enum info_hid { INFO_HID_NONE, INFO_HID_ALL, INFO_HID_TASK } info_hid;

typedef struct info {
	pid_t pid;
	bool live;
	const ml_proc *proc;
	ml_status *status;
	ml_stat stat;
	bool have_stat;
	info_hid stat_hid; /* what of stat the kernel hid from this reader */
	ml_strv *cmdline;
	ml_link *exe, *cwd;
	bool have_owner;
	uid_t owner;
	ssize_t nfds;
	thread_info *threads;
	size_t nthreads;
	ml_limits limits;
	bool have_limits;
	ml_coredump_filter cdf;
	bool have_cdf;
	ml_ksm_stat ksm;
	bool have_ksm;
	int oom_score, oom_adj;
	bool have_oom_score, have_oom_adj;
	/* smaps_rollup */
	bool have_rollup, have_pss_split;
	uint64_t pss, pss_anon, pss_file, pss_shmem, uss, swap_pss, rollup_rss, rollup_swap;
	/* cgroup */
	char *cgroup_path;
	int cgroup_version;
	bool have_cg_max, have_cg_current, have_cg_eff, have_cg_peak;
	uint64_t cg_max, cg_current, cg_eff, cg_peak;
	/* namespaces: name and inode of ns/ links */
	struct { char name[24]; uint64_t ino; bool same_as_self; } ns[MAX_NS];
	size_t nns;
	char ns_err[200]; /* "namespaces ipc, mnt" that could not be read, for errors */
	/* what could not be read: field name and error */
	struct info_err { const char *what; int err; } errs[MAX_ERRS];
	size_t nerrs;
} info;

/*
 * The main thread has exited (pthread_exit()) while other threads run: its status shows
 * state Z, but unlike a zombie's (which counts 1) its thread count includes the threads
 * that still run. Told from the status alone, so a snapshot answers the same.
 */
static inline bool info_main_exited(const ml_status *s)
{
	return s && (s->state == 'Z' || s->state == 'X') && s->threads > 1;
}

/*
 * Fields of /proc/PID/stat, by their proc(5) numbers, that the kernel writes only for a
 * reader allowed to ptrace-read the process (PTRACE_MODE_READ_FSCREDS): the code, stack,
 * data, argument and environment addresses, the kernel stack and instruction pointers,
 * the wchan flag and the exit code. For another reader it writes 0 in their place, except
 * start_code and end_code of a process with an address space, which read 1: the mark
 * info_stat_hidden() looks for.
 */
static inline bool info_stat_guarded(unsigned n)
{
	return (n >= 26 && n <= 30) || n == 35 || (n >= 45 && n <= 52);
}

/*
 * What of a stat record the kernel hid from this reader. With an address space it marks
 * the record: start_code == end_code == 1, which no real address space has, and every
 * guarded field is hidden (INFO_HID_ALL), told from the record alone, so a saved copy
 * answers the same. A task without one (a kernel thread, a zombie) has its addresses 0
 * whoever reads, truly, and no mark; only what the kernel writes about the task itself
 * (kstkesp, kstkeip, the wchan flag, the exit code) reads 0 for a reader that may not
 * ptrace it (INFO_HID_TASK). @permitted says whether this reader may (info_may_ptrace_read():
 * 1, 0, or -1 not known: a saved copy, whose reader could ptrace it).
 */
static inline info_hid info_stat_hid(const ml_stat *st, int permitted)
{
	if (st->nfields < 27)
		return INFO_HID_NONE;
	if (st->start_code == 1 && st->end_code == 1)
		return INFO_HID_ALL;
	if (st->start_code == 0 && st->end_code == 0 && permitted == 0)
		return INFO_HID_TASK;
	return INFO_HID_NONE;
}

/*
 * Whether this reader may ptrace-read the live process @p, as the kernel decides for the
 * guarded stat fields (PTRACE_MODE_READ_FSCREDS): the cwd link, which the same check
 * guards, is refused (EACCES) when not. 1 yes, 0 no.
 */
int info_may_ptrace_read(const ml_proc *p);

/* Whether stat field @n of @st holds what the kernel knows: it was written (older kernels
 * write fewer fields) and not hidden from the reader (@hid: info_stat_hid()). */
static inline bool info_stat_known(const ml_stat *st, unsigned n, info_hid hid)
{
	if (n > st->nfields || !info_stat_guarded(n))
		return n <= st->nfields;
	return hid == INFO_HID_NONE || (hid == INFO_HID_TASK && n != 29 && n != 30 && n != 35 && n != 52);
}

/* read.c: each reads one part of what info shows into @in, noting what it could not read. */
void info_read_status(info *in, const ml_source *s);
void info_read_stat(info *in, const ml_source *s);
void info_read_cmdline(info *in, const ml_source *s);
void info_read_limits(info *in, const ml_source *s);
void info_read_coredump(info *in, const ml_source *s);
void info_read_oom(info *in, const ml_source *s);
void info_read_ksm(info *in, const ml_source *s);
/* Live only: exe, cwd, owner, descriptors and (@want_threads) the threads. */
void info_read_live(info *in, bool want_threads);
void info_read_cgroup(info *in, const ml_source *s);
/* Live only. */
void info_read_namespaces(info *in);
void info_read_rollup(info *in, const ml_source *s);
void info_free(info *in);

/* text.c: the summary for a person; @human: sizes in binary units. */
void info_print_text(const info *in, bool human);
/* json.c: one document, schema memlens.info/1. */
void info_print_json(const info *in, bool threads);
/* core.c: what the notes of an ELF core without saved /proc files say. */
void info_print_core(const ml_core_info *ci, bool json, bool threads);

#endif
