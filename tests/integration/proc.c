/* ml_proc against real children: identity for life, -ESRCH after exit, reaping, PID reuse, exec
 * (also by a process that shares its address space with another). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static mlt_child *child(void) { return mlt_spawn("ml_child", NULL); }

/* The comm-independent "Pid:" line of a status buffer. */
static long status_pid(const char *status)
{
	const char *s = strstr(status, "\nPid:");
	return s ? strtol(s + 5, NULL, 10) : -1;
}

START_TEST(opens_and_reads_live_child)
{
	mlt_child *c = child();
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ck_assert_int_eq(ml_proc_pid(p), c->pid);
	ck_assert(ml_proc_is_live(p));
	ck_assert_int_eq(ml_proc_alive(p), 1);
	ck_assert_int_eq(ml_proc_check(p), 0);
	ck_assert_int_ge(ml_proc_pidfd(p), 0);
	char *buf;
	size_t len;
	ck_assert_int_eq(ml_proc_read_file(p, "status", &buf, &len), 0);
	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_int_eq(status_pid(buf), c->pid);
	free(buf);
	ck_assert_int_eq(ml_proc_readlink(p, "exe", &buf, &len), 0);
	ck_assert_ptr_nonnull(strstr(buf, "ml_child"));
	free(buf);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(rejects_escaping_names_and_bad_args)
{
	ml_proc *p;
	ck_assert_int_eq(ml_proc_self(&p), 0);
	ck_assert_int_eq(ml_proc_openat(p, "../1/status", O_RDONLY), -EINVAL);
	ck_assert_int_eq(ml_proc_openat(p, "task/../../1/status", O_RDONLY), -EINVAL);
	ck_assert_int_eq(ml_proc_openat(p, "/etc/passwd", O_RDONLY), -EINVAL);
	ck_assert_int_eq(ml_proc_openat(p, "", O_RDONLY), -EINVAL);
	ck_assert_int_eq(ml_proc_openat(p, "no-such-file", O_RDONLY), -ENOENT);
	int fd = ml_proc_openat(p, "stat", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(fd);
	ml_proc_free(p);
	ck_assert_int_eq(ml_proc_open(0, &p), -EINVAL);
	ck_assert_int_eq(ml_proc_open(-5, &p), -EINVAL);
	ml_proc_free(NULL);
}
END_TEST

START_TEST(no_such_process)
{
	/* PIDs above pid_max cannot exist. */
	ml_proc *p = NULL;
	ck_assert_int_eq(ml_proc_open(0x3ffffff0, &p), -ESRCH);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(zombie_reads_empty_as_gone)
{
	mlt_child *c = child();
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	int before = ml_proc_openat(p, "maps", O_RDONLY);
	ck_assert_int_ge(before, 0);
	mlt_cmd(c, "exit 3");
	mlt_wait_zombie(c);
	ck_assert_int_eq(ml_proc_alive(p), 0);
	ck_assert_int_eq(ml_proc_check(p), -ESRCH);
	char *buf = (char *)0x1;
	size_t len = 99;
	/* a zombie's maps and cmdline read 0 bytes: that is "gone", not "empty" */
	ck_assert_int_eq(ml_proc_read_file(p, "maps", &buf, &len), -ESRCH);
	ck_assert_int_eq(ml_proc_read_file(p, "cmdline", &buf, &len), -ESRCH);
	ck_assert_ptr_eq(buf, (char *)0x1); /* outputs untouched on failure */
	ck_assert_uint_eq(len, 99);
	/* what a zombie still shows is its own: status says Z */
	ck_assert_int_eq(ml_proc_read_file(p, "status", &buf, &len), 0);
	ck_assert_ptr_nonnull(strstr(buf, "State:\tZ"));
	free(buf);
	close(before);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(reaped_gives_esrch_everywhere)
{
	mlt_child *c = child();
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	mlt_cmd(c, "exit 0");
	mlt_wait(c);
	char *buf;
	size_t len;
	ck_assert_int_eq(ml_proc_alive(p), 0);
	ck_assert_int_eq(ml_proc_read_file(p, "status", &buf, &len), -ESRCH);
	ck_assert_int_eq(ml_proc_read_file(p, "maps", &buf, &len), -ESRCH);
	ck_assert_int_eq(ml_proc_readlink(p, "exe", &buf, &len), -ESRCH);
	ck_assert_int_eq(ml_proc_openat(p, "mem", O_RDONLY), -ESRCH);
	ml_proc *t;
	ck_assert_int_eq(ml_proc_task(p, c->pid, &t), -ESRCH);
	ml_proc_free(p);
	ck_assert_int_eq(ml_proc_open(c->pid, &p), -ESRCH);
	mlt_child_free(c);
}
END_TEST

static int set_last_pid(pid_t pid)
{
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char b[32];
	int n = snprintf(b, sizeof(b), "%d", (int)pid);
	int r = write(fd, b, (size_t)n) == n ? 0 : -errno;
	close(fd);
	return r;
}

START_TEST(pid_reuse_never_reads_the_new_process)
{
	if (access("/proc/sys/kernel/ns_last_pid", W_OK) != 0)
		mlt_skip("cannot write /proc/sys/kernel/ns_last_pid (needs CAP_SYS_ADMIN/CAP_CHECKPOINT_RESTORE): PID reuse cannot be forced");
	mlt_child *a = child();
	pid_t pid = a->pid;
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(pid, &p), 0);
	mlt_cmd(a, "exit 0");
	mlt_wait(a);
	mlt_child *b = NULL;
	/* Other processes on the machine may take the PID first; retry a few times. */
	for (int i = 0; i < 20 && !b; i++) {
		if (set_last_pid(pid - 1) < 0)
			mlt_skip("writing ns_last_pid failed: %s", strerror(errno));
		mlt_child *x = child();
		if (x->pid == pid)
			b = x;
		else
			mlt_child_free(x);
	}
	if (!b)
		mlt_skip("could not get PID %d reused in 20 tries (busy machine)", (int)pid);
	char *buf;
	size_t len;
	ck_assert_int_eq(ml_proc_alive(p), 0);
	ck_assert_int_eq(ml_proc_check(p), -ESRCH);
	ck_assert_int_eq(ml_proc_read_file(p, "status", &buf, &len), -ESRCH);
	ck_assert_int_eq(ml_proc_read_file(p, "maps", &buf, &len), -ESRCH);
	ck_assert_int_eq(ml_proc_readlink(p, "exe", &buf, &len), -ESRCH);
	/* a new handle does see the new process */
	ml_proc *q;
	ck_assert_int_eq(ml_proc_open(pid, &q), 0);
	ck_assert_int_eq(ml_proc_alive(q), 1);
	ml_proc_free(q);
	ml_proc_free(p);
	mlt_child_free(b);
	mlt_child_free(a);
}
END_TEST

START_TEST(exec_ends_the_handle)
{
	mlt_child *c = child();
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	char *path = mlt_helper_path("ml_child");
	const char *l = mlt_cmd(c, "exec %s", path);
	ck_assert_ptr_nonnull(l);
	ck_assert_msg(!strncmp(l, "ready", 5), "exec failed: %s", l);
	char *buf;
	size_t len;
	ck_assert_int_eq(ml_proc_alive(p), 0);
	ck_assert_int_eq(ml_proc_check(p), -ESRCH);
	ck_assert_int_eq(ml_proc_read_file(p, "status", &buf, &len), -ESRCH);
	ck_assert_int_eq(ml_proc_read_file(p, "maps", &buf, &len), -ESRCH);
	ml_proc *q;
	ck_assert_int_eq(ml_proc_open(c->pid, &q), 0);
	ck_assert_int_eq(ml_proc_read_file(q, "maps", &buf, &len), 0);
	ck_assert_uint_gt(len, 0);
	free(buf);
	ml_proc_free(q);
	free(path);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/* Every way of reading through @p ends with -ESRCH; @addr was mapped before the exec. */
static void assert_ended(ml_proc *p, uint64_t addr)
{
	char *buf;
	size_t len;
	char mem[16];
	ml_maps *m;
	ck_assert_int_eq(ml_proc_check(p), -ESRCH);
	ck_assert_int_eq(ml_proc_alive(p), 0);
	ck_assert_int_eq(ml_proc_read_file(p, "status", &buf, &len), -ESRCH);
	ck_assert_int_eq(ml_proc_read_file(p, "maps", &buf, &len), -ESRCH);
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_AUTO, &m), -ESRCH);
	ck_assert_int_eq(ml_proc_readlink(p, "exe", &buf, &len), -ESRCH);
	if (addr)
		ck_assert_int_eq(ml_mem_read(p, addr, mem, sizeof(mem)), -ESRCH);
}

/*
 * A process that shares its address space with another one without being its thread (a
 * vfork() child before its exec, a clone(CLONE_VM) child) leaves that address space alive
 * when it execs: whatever the handle holds on it goes on reading, so that is not how the
 * handle may tell the exec.
 */
static void exec_of_a_vm_sharing_child(const char *mode)
{
	mlt_child *c = child();
	uint64_t addr = mlt_cmd_u64(c, "addr", "map 4096");
	mlt_cmd_ok(c, "write 0x%llx shared-before-exec", (unsigned long long)addr);
	pid_t vc = (pid_t)mlt_cmd_u64(c, "child", "vm_clone%s", mode);
	ml_proc *p, *lazy, *t;
	ck_assert_int_eq(ml_proc_open(vc, &p), 0);
	ck_assert_int_eq(ml_proc_open_lazy(vc, &lazy), 0);
	ck_assert_int_eq(ml_proc_task(p, vc, &t), 0);
	char *buf;
	size_t len;
	ck_assert_int_eq(ml_proc_read_file(lazy, "status", &buf, &len), 0); /* opens its sentinel */
	free(buf);
	char mem[16];
	ck_assert_int_eq(ml_mem_read(p, addr, mem, sizeof(mem)), sizeof(mem));
	ck_assert(!memcmp(mem, "shared-before-ex", sizeof(mem)));
	ck_assert_int_eq(ml_proc_check(t), 0);

	char *path = mlt_helper_path("ml_child");
	mlt_cmd_ok(c, "vm_exec %s pause", path);
	/* the child runs the new image; its old address space lives on in c */
	assert_ended(p, addr);
	assert_ended(lazy, addr);
	assert_ended(t, 0);
	ck_assert_int_eq(mlt_cmd_u64(c, "pid", "pid"), c->pid); /* c still runs */

	ml_proc *q;
	ck_assert_int_eq(ml_proc_open(vc, &q), 0);
	ck_assert_int_eq(ml_proc_check(q), 0);
	ck_assert_int_eq(ml_proc_readlink(q, "exe", &buf, &len), 0);
	free(buf);
	ck_assert_int_eq(ml_proc_check(q), 0);
	ml_proc_free(q);
	kill(vc, SIGKILL);
	free(path);
	ml_proc_free(t);
	ml_proc_free(lazy);
	ml_proc_free(p);
	mlt_child_free(c);
}

START_TEST(exec_of_a_clone_vm_child_ends_the_handle)
{
	exec_of_a_vm_sharing_child("");
}
END_TEST

START_TEST(exec_of_a_vfork_child_ends_the_handle)
{
	exec_of_a_vm_sharing_child(" vfork");
}
END_TEST

/* PIDFD_GET_INFO (Linux 6.13) whatever its size: type 0xFF, number 11, read and write. */
#define PIDFD_GET_INFO_ANY_SIZE 0xc000ff0bu

/* A kernel without PIDFD_GET_INFO (before 6.13): the parent's PID comes from stat, and the
 * PID check at open from the pidfd's fdinfo. */
START_TEST(exec_of_a_clone_vm_child_ends_the_handle_without_pidfd_info)
{
	const mlt_sc_rule rules[] = {
		{ __NR_ioctl, 1, 0xc000ffffu, PIDFD_GET_INFO_ANY_SIZE, SECCOMP_RET_ERRNO | ENOTTY },
	};
	mlt_seccomp(rules, 1);
	exec_of_a_vm_sharing_child("");
}
END_TEST

/* Nor kcmp() (refused by a container's filter, or a kernel without CONFIG_KCMP): the flag
 * itself decides, and every process that has not exec'd is watched. */
START_TEST(exec_of_a_vfork_child_ends_the_handle_without_kcmp)
{
	const mlt_sc_rule rules[] = {
		{ __NR_ioctl, 1, 0xc000ffffu, PIDFD_GET_INFO_ANY_SIZE, SECCOMP_RET_ERRNO | ENOTTY },
		{ __NR_kcmp, -1, 0, 0, SECCOMP_RET_ERRNO | EPERM },
	};
	mlt_seccomp(rules, 2);
	exec_of_a_vm_sharing_child(" vfork");
}
END_TEST

/*
 * A /proc of another PID namespace (unshare -p without mounting one) numbers other
 * processes with the PIDs this process knows: a handle on our own child, PID 2 here, must
 * not read /proc/2 there, another process (kthreadd): -ESRCH. Run in a child made PID 1
 * of a new namespace; exit 0 when refused, 10 when it opened.
 */
static int open_in_a_pid_namespace_without_its_proc(void)
{
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	ml_proc *p;
	int r = ml_proc_open(c, &p);
	int code = r == -ESRCH ? 0 : r == 0 ? 10 : 20;
	if (r == 0)
		ml_proc_free(p);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	return code;
}

START_TEST(proc_of_another_pid_namespace_is_never_read_as_ours)
{
	/* the decision is kept per process: ask it here first, as a program would */
	ml_proc *self;
	ck_assert_int_eq(ml_proc_open(getpid(), &self), 0);
	ml_proc_free(self);
	pid_t a = fork();
	ck_assert_int_ge(a, 0);
	if (a == 0) {
		if (unshare(CLONE_NEWPID) < 0)
			_exit(77);
		pid_t b = fork();
		if (b == 0)
			_exit(open_in_a_pid_namespace_without_its_proc());
		int st;
		if (waitpid(b, &st, 0) != b)
			_exit(30);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 31);
	}
	int st;
	ck_assert_int_eq(waitpid(a, &st, 0), a);
	ck_assert(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		mlt_skip("cannot make a PID namespace (unshare(CLONE_NEWPID) needs CAP_SYS_ADMIN)");
	ck_assert_msg(WEXITSTATUS(st) == 0, "ml_proc_open of PID 2 through another namespace's /proc: exit %d",
		      WEXITSTATUS(st));
}
END_TEST

START_TEST(task_handles)
{
	mlt_child *c = child();
	pid_t tid = (pid_t)mlt_kv(mlt_cmd_ok(c, "thread"), "tid");
	ck_assert_int_gt(tid, 0);
	ck_assert_int_ne(tid, c->pid);
	ml_proc *p, *t;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ck_assert_int_eq(ml_proc_task(p, tid, &t), 0);
	ck_assert_int_eq(ml_proc_pid(t), tid);
	char *buf;
	size_t len;
	ck_assert_int_eq(ml_proc_read_file(t, "status", &buf, &len), 0);
	ck_assert_int_eq(status_pid(buf), tid);
	free(buf);
	ck_assert_int_eq(ml_proc_alive(t), 1);
	mlt_cmd_ok(c, "thread_exit");
	ck_assert_int_eq(ml_proc_alive(t), 0);
	ck_assert_int_eq(ml_proc_read_file(t, "status", &buf, &len), -ESRCH);
	ck_assert_int_eq(ml_proc_alive(p), 1);
	ml_proc *t2;
	ck_assert_int_eq(ml_proc_task(p, tid, &t2), -ESRCH);
	ml_proc_free(t);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(leader_exit_keeps_the_process_alive)
{
	mlt_child *c = child();
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	pid_t tid = (pid_t)mlt_kv(mlt_cmd_ok(c, "leader_exit"), "tid");
	ck_assert_int_gt(tid, 0);
	/* the leader is a zombie now, but the group runs: the handle stays valid */
	char *buf;
	size_t len;
	ck_assert_int_eq(ml_proc_read_file(p, "status", &buf, &len), 0);
	ck_assert_ptr_nonnull(strstr(buf, "State:\tZ"));
	free(buf);
	ck_assert_int_eq(ml_proc_alive(p), 1);
	ck_assert_int_eq(ml_proc_check(p), 0);
	ml_proc *t;
	ck_assert_int_eq(ml_proc_task(p, tid, &t), 0);
	ck_assert_int_eq(ml_proc_read_file(t, "status", &buf, &len), 0);
	ck_assert_ptr_null(strstr(buf, "State:\tZ")); /* running or sleeping: not exited */
	free(buf);
	/* the exited leader is gone as a thread */
	ml_proc *leader;
	ck_assert_int_eq(ml_proc_task(p, c->pid, &leader), -ESRCH);
	/* the surviving thread still answers, then the whole group exits */
	ck_assert_int_eq((pid_t)mlt_kv(mlt_cmd_ok(c, "pid"), "pid"), c->pid);
	mlt_cmd(c, "exit 0");
	mlt_wait(c);
	ck_assert_int_eq(ml_proc_alive(p), 0);
	ck_assert_int_eq(ml_proc_read_file(t, "status", &buf, &len), -ESRCH);
	ml_proc_free(t);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

static void write_file(int dirfd, const char *name, const char *s)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

START_TEST(directory_handles_read_fixtures)
{
	char dir[] = "/tmp/memlens-proc-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	write_file(dfd, "stat", "4242 (a) b) c) S 1 4242 4242 0 -1 4194560 0 0 0 0\n");
	write_file(dfd, "cmdline", "");
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_at(dfd, &p), 0);
	ck_assert(!ml_proc_is_live(p));
	ck_assert_int_eq(ml_proc_pid(p), 4242);
	ck_assert_int_eq(ml_proc_alive(p), 1);
	ck_assert_int_eq(ml_proc_pidfd(p), -1);
	char *buf;
	size_t len;
	/* an empty file in a tree is just empty: there is no process to have died */
	ck_assert_int_eq(ml_proc_read_file(p, "cmdline", &buf, &len), 0);
	ck_assert_uint_eq(len, 0);
	free(buf);
	ck_assert_int_eq(ml_proc_read_file(p, "maps", &buf, &len), -ENOENT);
	write_file(dfd, "stat", "4242 (a) Z 1 4242 4242 0 -1 4194560 0 0 0 0\n");
	ck_assert_int_eq(ml_proc_alive(p), 0);
	ml_proc_free(p);
	/* the caller's fd is untouched */
	ck_assert_int_ge(fcntl(dfd, F_GETFD), 0);
	ck_assert_int_eq(ml_proc_open_at(-1, &p), -EBADF);
	int ffd = openat(dfd, "stat", O_RDONLY);
	ck_assert_int_eq(ml_proc_open_at(ffd, &p), -ENOTDIR);
	close(ffd);
	unlinkat(dfd, "stat", 0);
	unlinkat(dfd, "cmdline", 0);
	close(dfd);
	rmdir(dir);
}
END_TEST

START_TEST(open_path_on_procfs_is_live)
{
	mlt_child *c = child();
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", (int)c->pid);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(path, &p), 0);
	ck_assert(ml_proc_is_live(p));
	ck_assert_int_eq(ml_proc_pid(p), c->pid);
	mlt_cmd(c, "exit 0");
	mlt_wait(c);
	char *buf;
	size_t len;
	ck_assert_int_eq(ml_proc_read_file(p, "status", &buf, &len), -ESRCH);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("handle");
	tcase_add_test(tc, opens_and_reads_live_child);
	tcase_add_test(tc, rejects_escaping_names_and_bad_args);
	tcase_add_test(tc, no_such_process);
	tcase_add_test(tc, zombie_reads_empty_as_gone);
	tcase_add_test(tc, reaped_gives_esrch_everywhere);
	tcase_add_test(tc, exec_ends_the_handle);
	tcase_add_test(tc, exec_of_a_clone_vm_child_ends_the_handle);
	tcase_add_test(tc, exec_of_a_vfork_child_ends_the_handle);
	tcase_add_test(tc, exec_of_a_clone_vm_child_ends_the_handle_without_pidfd_info);
	tcase_add_test(tc, exec_of_a_vfork_child_ends_the_handle_without_kcmp);
	tcase_add_test(tc, task_handles);
	tcase_add_test(tc, leader_exit_keeps_the_process_alive);
	tcase_add_test(tc, directory_handles_read_fixtures);
	tcase_add_test(tc, open_path_on_procfs_is_live);
	suite_add_tcase(s, tc);
	TCase *reuse = tcase_create("pid-reuse");
	tcase_add_test(reuse, pid_reuse_never_reads_the_new_process);
	tcase_add_test(reuse, proc_of_another_pid_namespace_is_never_read_as_ours);
	suite_add_tcase(s, reuse);
	return mlt_run_suite(s);
}
