/* Test support: fixture paths, helper children driven over pipes, skips with a reason. */
#ifndef MEMLENS_TEST_SUPPORT_H
#define MEMLENS_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>

/* CTest treats this exit code as "skipped" (SKIP_RETURN_CODE). */
#define MLT_SKIP_CODE 77

/* Directory of tests/fixtures in the source tree, and of the built helper programs. */
const char *mlt_fixture_dir(void);
const char *mlt_helper_dir(void);
/* Path of a built helper program: mlt_helper_path("ml_child") (static buffer per call site copy). */
char *mlt_helper_path(const char *name);
/* Reads tests/fixtures/proc/@rel whole (any size) into a NUL-terminated malloc'd buffer;
 * fails the test if it is missing. */
char *mlt_read_fixture(const char *rel, size_t *len);
/* Path of the memlens binary under test. */
const char *mlt_memlens_bin(void);

/* The system's transparent huge page mode for anonymous memory, from
 * /sys/kernel/mm/transparent_hugepage/enabled: a region with MADV_HUGEPAGE can get huge
 * pages under "always" and "madvise", never under "never" or without THP in the kernel. */
typedef enum { MLT_THP_ABSENT, MLT_THP_NEVER, MLT_THP_MADVISE, MLT_THP_ALWAYS } mlt_thp_mode;
mlt_thp_mode mlt_thp(void);
/* Whether MADV_HUGEPAGE memory can be given huge pages on this system (and why not). */
bool mlt_thp_possible(const char **why);

/* Prints "SKIP: <reason>" and exits the whole test binary with MLT_SKIP_CODE. */
void mlt_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * A child process running a helper program. The helper reads one command per line on
 * its stdin and answers one line on its stdout; mlt_cmd() sends and waits for the answer,
 * so the test and the child are synchronised by the protocol, never by sleeping.
 */
typedef struct mlt_child {
	pid_t pid;
	int to_child;   /* write end of the child's stdin */
	int from_child; /* read end of the child's stdout */
	char line[4096];
	bool reaped;
	int status;
} mlt_child;

/* Starts helper @name (from mlt_helper_dir) with NULL-terminated @argv (argv[0] filled in). */
mlt_child *mlt_spawn(const char *name, const char *const *args);
/* Sends a command line (printf-style) and returns the answer line (without '\n'), or NULL on EOF. */
const char *mlt_cmd(mlt_child *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads one more line from the child (NULL on EOF). */
const char *mlt_read_line(mlt_child *c);
/* Like mlt_cmd, but fails the test unless the answer starts with "ok"; returns what follows "ok ". */
const char *mlt_cmd_ok(mlt_child *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends a command (printf-style), requires "ok", and returns the nonzero number @key=... of the answer. */
uint64_t mlt_cmd_u64(mlt_child *c, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Present pages of [addr, addr + npages pages) of @pid, counted with plain pagemap reads
 * (an oracle independent of the library). */
size_t mlt_present_pages(pid_t pid, uint64_t addr, size_t npages);
/* ... and those that are swapped out (a swap entry, not present). */
size_t mlt_swapped_pages(pid_t pid, uint64_t addr, size_t npages);
/*
 * Waits until the child's main thread is back in read() on its command pipe (fd 0), so
 * that none of its code runs while its memory is compared: its answer line reaches the
 * test before it has finished with stdio and its stack.
 */
void mlt_wait_idle(pid_t pid);
/*
 * mlt_wait_idle(), and every other thread of @pid blocked in a system call too: after a
 * freeze ends, each thread leaves its interrupted call and enters it again, and until it
 * has, its registers (orig_rax, rip) are not those a capture a moment later sees.
 */
void mlt_wait_parked(pid_t pid);
/* The byte the ml_pages child writes at address @x (its "write" command): never 0. */
unsigned char mlt_page_pattern(uint64_t x);
/*
 * Whether the page at @addr of @pid, which the child read-faulted while untouched (private
 * anonymous memory), is the shared zero page (true), or a private page of its own (false:
 * a kernel without a shared zero page, e.g. pvm_no_zero_page=1): the truth a test asserts
 * against, told by pagemap's exclusive bit, so without PFNs too. Fails if not present.
 */
bool mlt_zero_page_mapped(pid_t pid, uint64_t addr);
/* [start, end) of the first mapping of @pid whose maps line contains @name (from /proc text). */
bool mlt_find_mapping(pid_t pid, const char *name, uint64_t *start, uint64_t *end);
/* Waits for the child to exit (reaps it) and returns its wait status. */
int mlt_wait(mlt_child *c);
/* Waits until the child is a zombie without reaping it (waitid WNOWAIT). */
void mlt_wait_zombie(mlt_child *c);
/* Kills (SIGKILL) and reaps the child if needed, and frees it. NULL is fine. */
void mlt_child_free(mlt_child *c);

/* Parses "key=value" from a line of "k1=v1 k2=v2"; 0 if absent. Numbers: 0x hex or decimal. */
uint64_t mlt_kv(const char *line, const char *key);
/* Reads /proc/PID/status field (in kB, or the raw number) — the truth the kernel shows. */
long mlt_status_kb(pid_t pid, const char *field);

/* Field @field (e.g. "Rss") in kB of the mapping of @pid that starts at @start, from
 * /proc/PID/smaps; -1 if there is no such mapping. */
long mlt_smaps_kb(pid_t pid, uint64_t start, const char *field);

/* Runs a command line through /bin/sh, captures stdout (malloc'd, NUL-terminated) and exit status. */
char *mlt_run(const char *cmdline, int *status);

/* Skips the whole test program (with the reason) when Yama keeps a non-root process from
 * tracing its child's children, as the copy-on-write capture of a test child must. */
void mlt_skip_unless_may_trace_grandchildren(void);

/* A new directory $TMPDIR/PREFIXXXXXXX (else under /tmp) in @dir (@n bytes); fails the test
 * if it cannot be made. */
void mlt_mkdtemp(char *dir, size_t n, const char *prefix);
/* Removes @dir and everything in it (nothing when @dir is empty). */
void mlt_rmtree(const char *dir);
/* "@dir/@name" in one of 8 rotating buffers: valid until 8 later calls. */
char *mlt_path_in(const char *dir, const char *name);
/* Fails the test unless the names in @dir (hidden ones too), sorted, one per line, are
 * @want ("" for an empty directory). */
void mlt_assert_listing(const char *dir, const char *want);
/* Writes @text to @path (created or truncated, mode 0644); fails the test if it cannot. */
void mlt_write_file(const char *path, const char *text);

/* One rule of a seccomp filter: system call @nr, when argument @arg (its low 32 bits)
 * masked with @mask equals @value (@arg < 0: always), gets @action. */
typedef struct mlt_sc_rule {
	int nr;
	int arg;
	uint32_t mask, value;
	uint32_t action;
} mlt_sc_rule;
/* Installs @n (at most 8) rules in this (forked) test process, to emulate a file system
 * that lacks something; skips where seccomp filters cannot be set or the rules are not
 * written for this machine (x86-64 only). */
void mlt_seccomp(const mlt_sc_rule *rules, size_t n);
/* Installs a filter under which every stat(2) call fails (EIO) except statx() with
 * AT_STATX_DONT_SYNC, which answers from the attributes the kernel holds: a file system
 * never asked (a dead network mount would never answer). No shell runs under it. */
void mlt_seccomp_cached_stat_only(void);

/* Check's suite runner: runs @s with CK_NORMAL output, returns the process exit code. */
int mlt_run_suite(Suite *s);

#endif
