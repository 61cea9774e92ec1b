/* Test support implementation. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mltest.h"

const char *mlt_fixture_dir(void) { return ML_TEST_FIXTURE_DIR; }
const char *mlt_helper_dir(void) { return ML_TEST_HELPER_DIR; }
const char *mlt_memlens_bin(void) { return ML_TEST_MEMLENS_BIN; }

char *mlt_helper_path(const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", mlt_helper_dir(), name) < 0)
		abort();
	return p;
}

char *mlt_read_fixture(const char *rel, size_t *len)
{
	char *path;
	if (asprintf(&path, "%s/proc/%s", mlt_fixture_dir(), rel) < 0)
		abort();
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "fixture %s missing", path);
	free(path);
	size_t cap = 1 << 16, n = 0, got;
	char *buf = malloc(cap);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n < 2)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

mlt_thp_mode mlt_thp(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
	if (!f)
		return MLT_THP_ABSENT;
	bool got = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	ck_assert_msg(got, "transparent_hugepage/enabled is empty");
	if (strstr(buf, "[always]"))
		return MLT_THP_ALWAYS;
	if (strstr(buf, "[madvise]"))
		return MLT_THP_MADVISE;
	ck_assert_msg(strstr(buf, "[never]") != NULL, "transparent_hugepage/enabled: unknown mode \"%s\"", buf);
	return MLT_THP_NEVER;
}

bool mlt_thp_possible(const char **why)
{
	mlt_thp_mode m = mlt_thp();
	if (why)
		*why = m == MLT_THP_ABSENT ? "kernel without transparent huge pages" :
		       m == MLT_THP_NEVER  ? "transparent_hugepage/enabled is never" : NULL;
	return m == MLT_THP_MADVISE || m == MLT_THP_ALWAYS;
}

void mlt_skip(const char *fmt, ...)
{
	va_list ap;
	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(MLT_SKIP_CODE);
}

mlt_child *mlt_spawn(const char *name, const char *const *args)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		ck_abort_msg("pipe: %s", strerror(errno));
	char *path = mlt_helper_path(name);
	size_t n = 0;
	while (args && args[n])
		n++;
	char **argv = calloc(n + 2, sizeof(char *));
	argv[0] = path;
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = (char *)args[i];
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		ck_abort_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execv(path, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	free(argv);
	free(path);
	mlt_child *c = calloc(1, sizeof(*c));
	c->pid = pid;
	c->to_child = in[1];
	c->from_child = out[0];
	/* Every helper announces itself with one "ready ..." line once set up. */
	const char *l = mlt_read_line(c);
	ck_assert_msg(l && !strncmp(l, "ready", 5), "helper %s did not start: %s", name, l ? l : "EOF");
	return c;
}

const char *mlt_read_line(mlt_child *c)
{
	size_t n = 0;
	while (n < sizeof(c->line) - 1) {
		char ch;
		ssize_t r = read(c->from_child, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return n ? c->line : NULL;
		if (ch == '\n')
			break;
		c->line[n++] = ch;
	}
	c->line[n] = '\0';
	return c->line;
}

__attribute__((format(printf, 2, 0)))
static const char *vcmd(mlt_child *c, const char *fmt, va_list ap)
{
	char buf[4096];
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	buf[n++] = '\n';
	if (write(c->to_child, buf, (size_t)n) != n)
		return NULL;
	return mlt_read_line(c);
}

const char *mlt_cmd(mlt_child *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *r = vcmd(c, fmt, ap);
	va_end(ap);
	return r;
}

const char *mlt_cmd_ok(mlt_child *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *r = vcmd(c, fmt, ap);
	va_end(ap);
	ck_assert_msg(r && !strncmp(r, "ok", 2), "helper command '%s' failed: %s", fmt, r ? r : "EOF");
	return r[2] == ' ' ? r + 3 : r + 2;
}

uint64_t mlt_cmd_u64(mlt_child *c, const char *key, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	uint64_t v = mlt_kv(mlt_cmd_ok(c, "%s", cmd), key);
	ck_assert_uint_ne(v, 0);
	return v;
}

/* Pages of [addr, addr + npages pages) whose pagemap entry is present, or (@swapped) a
 * swap entry that is not present. */
static size_t count_pages(pid_t pid, uint64_t addr, size_t npages, bool swapped)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	size_t count = 0, chunk = 65536;
	uint64_t *e = malloc(chunk * 8);
	for (size_t i = 0; i < npages; i += chunk) {
		size_t k = npages - i < chunk ? npages - i : chunk;
		ck_assert_int_eq(pread(fd, e, k * 8, (off_t)((addr / 4096 + i) * 8)), (ssize_t)(k * 8));
		for (size_t j = 0; j < k; j++)
			count += swapped ? ((e[j] >> 62) & 1) && !((e[j] >> 63) & 1) : (e[j] >> 63) & 1;
	}
	free(e);
	close(fd);
	return count;
}

size_t mlt_present_pages(pid_t pid, uint64_t addr, size_t npages) { return count_pages(pid, addr, npages, false); }
size_t mlt_swapped_pages(pid_t pid, uint64_t addr, size_t npages) { return count_pages(pid, addr, npages, true); }

bool mlt_zero_page_mapped(pid_t pid, uint64_t addr)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	uint64_t e = 0;
	ck_assert_int_eq(pread(fd, &e, 8, (off_t)(addr / 4096 * 8)), 8);
	close(fd);
	ck_assert_msg(e >> 63, "the read-faulted page at 0x%llx is not present", (unsigned long long)addr);
	/* the zero page is never the process's own (bit 56) and not a file page (bit 61) */
	bool exclusive = (e >> 56) & 1, file = (e >> 61) & 1;
	return !exclusive && !file;
}

bool mlt_find_mapping(pid_t pid, const char *name, uint64_t *start, uint64_t *end)
{
	char path[64], line[4096];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	bool found = false;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		if (strstr(line, name) && sscanf(line, "%llx-%llx", &a, &b) == 2) {
			*start = a;
			*end = b;
			found = true;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

int mlt_wait(mlt_child *c)
{
	if (!c->reaped) {
		while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
			;
		c->reaped = true;
	}
	return c->status;
}

void mlt_wait_zombie(mlt_child *c)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
}

void mlt_child_free(mlt_child *c)
{
	if (!c)
		return;
	if (!c->reaped) {
		kill(c->pid, SIGKILL);
		mlt_wait(c);
	}
	close(c->to_child);
	close(c->from_child);
	free(c);
}

uint64_t mlt_kv(const char *line, const char *key)
{
	size_t kl = strlen(key);
	for (const char *s = line; s && *s;) {
		if (!strncmp(s, key, kl) && s[kl] == '=')
			return strtoull(s + kl + 1, NULL, 0);
		s = strchr(s, ' ');
		if (s)
			s++;
	}
	return 0;
}

long mlt_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t fl = strlen(field);
	long v = -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, fl) && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

long mlt_smaps_kb(pid_t pid, uint64_t start, const char *field)
{
	char path[64], line[4096];
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t fl = strlen(field);
	long v = -1;
	bool in = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		char dash;
		if (sscanf(line, "%llx%c%llx ", &a, &dash, &b) == 3 && dash == '-') { /* a mapping's header */
			if (in)
				break;
			in = a == start;
			continue;
		}
		if (in && !strncmp(line, field, fl) && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

char *mlt_run(const char *cmdline, int *status)
{
	fflush(NULL);
	FILE *p = popen(cmdline, "r");
	if (!p)
		return NULL;
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	int st = pclose(p);
	if (status)
		*status = st;
	return buf;
}

int mlt_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_SILENT);
	int total = srunner_ntests_run(sr), nfail = srunner_ntests_failed(sr);
	int skipped = 0, failed = 0;
	TestResult **tr = srunner_failures(sr);
	for (int i = 0; i < nfail; i++) {
		const char *msg = tr_msg(tr[i]);
		/* mlt_skip() in a forked test exits with MLT_SKIP_CODE after printing why */
		if (msg && strstr(msg, "Early exit with return value 77")) {
			printf("skipped: %s:%s (reason printed above)\n", tr_tcname(tr[i]), tr_lfile(tr[i]));
			skipped++;
			continue;
		}
		printf("%s:%d:%s:%s: %s\n", tr_lfile(tr[i]), tr_lno(tr[i]),
		       tr_rtype(tr[i]) == CK_ERROR ? "E" : "F", tr_tcname(tr[i]), msg ? msg : "");
		failed++;
	}
	free(tr);
	printf("%d%%: Checks: %d, Failures: %d, Errors: 0\n",
	       total ? 100 * (total - failed) / total : 100, total, failed);
	printf("%d passed, %d failed, %d skipped\n", total - failed - skipped, failed, skipped);
	srunner_free(sr);
	return failed ? 1 : 0;
}

unsigned char mlt_page_pattern(uint64_t x)
{
	unsigned char b = (unsigned char)((x >> 12) * 31 + (x & 0xfff));
	return b ? b : 1;
}

/* The first line of a syscall file ("NR args...", "running", "-1 ..."), or "" if it is gone. */
static void syscall_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, (int)n, f))
		buf[0] = 0;
	if (f)
		fclose(f);
}

/* Polls @done(@pid) until it holds (a yield between tries; no sleeping), else fails with @what. */
static void wait_until(bool (*done)(pid_t), pid_t pid, const char *what)
{
	for (long i = 0; i < 10000000; i++) {
		if (done(pid))
			return;
		sched_yield();
	}
	ck_abort_msg("%s (pid %d)", what, (int)pid);
}

/* Whether the main thread of @pid is in read(0, ...). */
static bool in_read(pid_t pid)
{
	char path[64], buf[128];
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	ck_assert_msg(access(path, F_OK) == 0, "%s: %s", path, strerror(errno));
	syscall_line(path, buf, sizeof(buf));
	return !strncmp(buf, "0 0x0 ", 6);
}

void mlt_wait_idle(pid_t pid)
{
	wait_until(in_read, pid, "the child never went back to reading its commands");
}

/* Whether every thread of @pid is blocked in a system call ("NR args..." in its syscall
 * file, not "running" nor "-1 ..."); a thread that is gone is not waited for. */
static bool all_in_syscalls(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	ck_assert_msg(d != NULL, "%s: %s", path, strerror(errno));
	bool all = true;
	struct dirent *de;
	while (all && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		char sp[320], buf[128];
		snprintf(sp, sizeof(sp), "/proc/%d/task/%s/syscall", (int)pid, de->d_name);
		syscall_line(sp, buf, sizeof(buf));
		all = !buf[0] || (buf[0] >= '0' && buf[0] <= '9');
	}
	closedir(d);
	return all;
}

void mlt_wait_parked(pid_t pid)
{
	mlt_wait_idle(pid);
	wait_until(all_in_syscalls, pid, "a thread of the child never went back into its blocking call");
}

void mlt_mkdtemp(char *dir, size_t n, const char *prefix)
{
	const char *t = getenv("TMPDIR");
	int k = snprintf(dir, n, "%s/%sXXXXXX", t && *t ? t : "/tmp", prefix);
	ck_assert_msg(k > 0 && (size_t)k < n, "temporary directory name too long");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));
}

void mlt_rmtree(const char *dir)
{
	if (!dir || !*dir)
		return;
	char cmd[4200];
	if ((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) >= sizeof(cmd))
		return;
	int st;
	free(mlt_run(cmd, &st));
}

char *mlt_path_in(const char *dir, const char *name)
{
	static char buf[8][4200];
	static unsigned k;
	char *b = buf[k++ & 7];
	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

void mlt_skip_unless_may_trace_grandchildren(void)
{
	if (geteuid() == 0)
		return;
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	int scope = 0;
	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = 0;
		fclose(f);
	}
	if (scope > 0)
		mlt_skip("kernel.yama.ptrace_scope=%d: a parent may not trace its child's children", scope);
}

void mlt_seccomp(const mlt_sc_rule *rules, size_t n)
{
#if defined(__x86_64__)
	const uint32_t arch = AUDIT_ARCH_X86_64;
#else
	(void)rules;
	(void)n;
	mlt_skip("the seccomp rules of this test are written for x86-64 only");
	const uint32_t arch = 0;
#endif
	struct sock_filter f[3 + 6 * 8 + 1];
	size_t k = 0;
	ck_assert_uint_le(n, 8);
	/* without a fork per case the filter would stay for every later case */
	const char *fork_mode = getenv("CK_FORK");
	ck_assert_msg(!fork_mode || strcmp(fork_mode, "no"),
		      "a seccomp filter under CK_FORK=no: tag the test case \"seccomp\" (scripts/valgrind.sh leaves it out)");
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (size_t i = 0; i < n; i++) {
		const mlt_sc_rule *r = &rules[i];
		f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
		if (r->arg < 0) {
			f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0, 1);
		} else {
			f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0, 4);
			f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
							      offsetof(struct seccomp_data, args) + 8 * (size_t)r->arg);
			f[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, r->mask);
			f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, r->value, 0, 1);
		}
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, r->action);
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = (unsigned short)k, .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		mlt_skip("cannot install a seccomp filter: %s", strerror(errno));
}

void mlt_seccomp_cached_stat_only(void)
{
	const mlt_sc_rule rules[] = {
		{ __NR_newfstatat, -1, 0, 0, SECCOMP_RET_ERRNO | EIO },
		{ __NR_fstat, -1, 0, 0, SECCOMP_RET_ERRNO | EIO },
		{ __NR_stat, -1, 0, 0, SECCOMP_RET_ERRNO | EIO },
		{ __NR_lstat, -1, 0, 0, SECCOMP_RET_ERRNO | EIO },
		{ __NR_statx, 2, AT_STATX_DONT_SYNC, 0, SECCOMP_RET_ERRNO | EIO },
	};
	mlt_seccomp(rules, sizeof(rules) / sizeof(rules[0]));
}

void mlt_assert_listing(const char *dir, const char *want)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | sort", dir);
	int st;
	char *l = mlt_run(cmd, &st);
	ck_assert_int_eq(st, 0);
	ck_assert_str_eq(l, want);
	free(l);
}

void mlt_write_file(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}
