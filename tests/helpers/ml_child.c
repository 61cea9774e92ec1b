/* A scriptable test child: one command per stdin line, one answer per stdout line.
 * Commands (numbers accept 0x hex):
 *   pid                      -> ok pid=N
 *   exit N                   exits with status N (no answer)
 *   exec PATH [ARG...]       execv (the new image answers "ready" if it is a helper)
 *   map SIZE                 anonymous private RW mapping -> ok addr=A
 *   touch ADDR LEN STRIDE    writes one byte every STRIDE bytes of [ADDR, ADDR+LEN) -> ok
 *   unmap ADDR LEN           -> ok
 *   thread                   starts a thread that blocks until "thread_exit" -> ok tid=N
 *   thread_exit              ends the last started thread and joins it -> ok
 *   write ADDR STRING        copies STRING (no spaces) to ADDR -> ok
 *   leader_exit              a new thread takes over this loop, the main thread exits
 *                            -> ok tid=N (from the new thread)
 *   churn                    starts a thread that keeps creating threads that end at once
 *                            (pthread_create, then pthread_join) -> ok tid=N
 *   leader_churn             a new thread takes over this loop, the main thread churns as
 *                            above -> ok tid=N (from the new thread, once the main thread
 *                            has made a thread)
 *   churned                  -> ok made=N (threads the churners have made and joined so far)
 *   vfork_wait               a thread starts a child with clone(CLONE_VM | CLONE_VFORK) on a
 *                            stack of its own, which pauses until killed; the thread waits
 *                            for it in uninterruptible sleep (state D), then reaps it and
 *                            ends -> ok child=N tid=T (once T is in that sleep)
 *   vm_clone [vfork]         starts a child with clone(CLONE_VM | SIGCHLD) on a stack of its
 *                            own: a process of its own that shares this address space and
 *                            waits for "vm_exec" (killed when its parent dies). With
 *                            "vfork", a thread starts it with CLONE_VM | CLONE_VFORK and
 *                            waits until it execs, then for its exit, which it reaps
 *                            -> ok child=N
 *   vm_exec PATH [ARG...]    the vm_clone child execs PATH -> ok (once the exec has
 *                            succeeded), or err exec ...
 * "ml_child pause" only sleeps until killed: an image to exec that reads and prints nothing. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "page_grain.h"
#include "task_state.h"

static int thr_pipe[2] = { -1, -1 };
static pthread_t thr;
static pid_t thr_tid;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *thread_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	thr_tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	char c;
	while (read(thr_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void *serve(void *arg);

static pthread_t leader;

static atomic_ulong churned;
static atomic_int churn_tid;

static void *churn_child(void *arg) { return arg; }

/* Threads that live for an instant, one after another, for ever. */
static void churn(void)
{
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 << 10);
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, &at, churn_child, NULL) == 0 && pthread_join(t, NULL) == 0)
			atomic_fetch_add(&churned, 1);
		else
			sched_yield();
	}
}

static void *churn_main(void *arg)
{
	(void)arg;
	atomic_store(&churn_tid, (int)syscall(SYS_gettid));
	churn();
	return NULL;
}

static atomic_int vf_child, vf_tid;

static int vf_child_main(void *arg)
{
	(void)arg;
	atomic_store(&vf_child, (int)syscall(SYS_getpid));
	for (;;)
		pause();
	return 0;
}

static void *vf_main(void *arg)
{
	(void)arg;
	/* The child runs on a stack of its own: nothing of ours is overwritten meanwhile. */
	static char stack[64 << 10] __attribute__((aligned(16)));
	atomic_store(&vf_tid, (int)syscall(SYS_gettid));
	pid_t ch = clone(vf_child_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	if (ch > 0)
		waitpid(ch, NULL, 0);
	return NULL;
}

/* vm_clone: the child's pipes (go: told to exec; done: close-on-exec, EOF once it has) and
 * what it execs, written by us before the byte on go (the memory is shared). */
static int vm_go[2] = { -1, -1 }, vm_done[2] = { -1, -1 };
static char vm_args[4096];
static char *vm_argv[64];
static atomic_int vm_child;

static int vm_child_main(void *arg)
{
	(void)arg;
	/* Its parent is the thread that cloned it: it dies with it, an exec of the parent's
	 * leader does not end it. It keeps its copy of go's write end (its descriptor table is
	 * a copy): no EOF while it waits, even once the parent has exec'd. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	atomic_store(&vm_child, (int)syscall(SYS_getpid));
	char c;
	ssize_t n;
	while ((n = read(vm_go[0], &c, 1)) < 0 && errno == EINTR)
		;
	if (n == 1) {
		execv(vm_argv[0], vm_argv);
		int e = errno;
		ssize_t w = write(vm_done[1], &e, sizeof(e));
		(void)w;
	}
	syscall(SYS_exit, 127); /* not exit_group: nothing of the shared libc state is touched */
	return 0;
}

static char vm_stack[64 << 10] __attribute__((aligned(16)));

static pid_t vm_start(int flags)
{
	return clone(vm_child_main, vm_stack + sizeof(vm_stack), flags, NULL);
}

static void *vm_vfork_main(void *arg)
{
	(void)arg;
	pid_t ch = vm_start(CLONE_VM | CLONE_VFORK | SIGCHLD);
	if (ch > 0)
		waitpid(ch, NULL, 0);
	return NULL;
}

static void *serve_beside_churning_leader(void *arg)
{
	unsigned long m0 = atomic_load(&churned);
	while (atomic_load(&churned) == m0)
		sched_yield();
	printf("ok tid=%d\n", (int)syscall(SYS_gettid));
	return serve(arg);
}

/* True once the exited leader's task shows state Z (it stays so while others run). */
static int leader_is_zombie(void) { return task_state(getpid()) == 'Z'; }

static void *serve_thread(void *arg)
{
	/* Answer only once the leader has really exited, so the test sees that state. */
	pthread_join(leader, NULL);
	while (!leader_is_zombie())
		sched_yield();
	printf("ok tid=%d\n", (int)syscall(SYS_gettid));
	return serve(arg);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "pause")) {
		for (;;)
			pause();
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready pid=%d\n", (int)getpid());
	serve(NULL);
	return 0;
}

static void *serve(void *arg)
{
	(void)arg;
	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *save, *cmd = strtok_r(line, " ", &save);
		if (!cmd)
			continue;
		if (!strcmp(cmd, "pid")) {
			printf("ok pid=%d\n", (int)getpid());
		} else if (!strcmp(cmd, "exit")) {
			char *a = strtok_r(NULL, " ", &save);
			fflush(stdout);
			_exit(a ? atoi(a) : 0);
		} else if (!strcmp(cmd, "exec")) {
			char *args[64];
			int n = 0;
			char *a;
			while (n < 63 && (a = strtok_r(NULL, " ", &save)))
				args[n++] = a;
			args[n] = NULL;
			if (n == 0) {
				printf("err no path\n");
				continue;
			}
			execv(args[0], args);
			printf("err exec %s\n", strerror(errno));
		} else if (!strcmp(cmd, "map")) {
			size_t sz = strtoull(strtok_r(NULL, " ", &save), NULL, 0);
			void *p = mmap_pages(sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				printf("err mmap %s\n", strerror(errno));
			else
				printf("ok addr=%p\n", p);
		} else if (!strcmp(cmd, "touch")) {
			char *base = (char *)(uintptr_t)strtoull(strtok_r(NULL, " ", &save), NULL, 0);
			size_t len = strtoull(strtok_r(NULL, " ", &save), NULL, 0);
			size_t stride = strtoull(strtok_r(NULL, " ", &save), NULL, 0);
			for (size_t o = 0; o < len; o += stride ? stride : 4096)
				base[o] = (char)(o | 1);
			printf("ok\n");
		} else if (!strcmp(cmd, "unmap")) {
			void *base = (void *)(uintptr_t)strtoull(strtok_r(NULL, " ", &save), NULL, 0);
			size_t len = strtoull(strtok_r(NULL, " ", &save), NULL, 0);
			printf(munmap(base, len) ? "err munmap\n" : "ok\n");
		} else if (!strcmp(cmd, "write")) {
			char *base = (char *)(uintptr_t)strtoull(strtok_r(NULL, " ", &save), NULL, 0);
			char *s = strtok_r(NULL, " ", &save);
			memcpy(base, s, strlen(s));
			printf("ok\n");
		} else if (!strcmp(cmd, "thread")) {
			if (pipe(thr_pipe) < 0) {
				printf("err pipe\n");
				continue;
			}
			thr_tid = 0;
			pthread_create(&thr, NULL, thread_main, NULL);
			pthread_mutex_lock(&mu);
			while (!thr_tid)
				pthread_cond_wait(&cv, &mu);
			pthread_mutex_unlock(&mu);
			printf("ok tid=%d\n", (int)thr_tid);
		} else if (!strcmp(cmd, "leader_exit")) {
			pthread_t t;
			leader = pthread_self();
			pthread_create(&t, NULL, serve_thread, NULL);
			pthread_exit(NULL);
		} else if (!strcmp(cmd, "churn")) {
			pthread_t t;
			atomic_store(&churn_tid, 0);
			if (pthread_create(&t, NULL, churn_main, NULL) != 0) {
				printf("err pthread_create\n");
				continue;
			}
			pthread_detach(t);
			while (!atomic_load(&churn_tid))
				sched_yield();
			printf("ok tid=%d\n", atomic_load(&churn_tid));
		} else if (!strcmp(cmd, "leader_churn")) {
			pthread_t t;
			if (pthread_create(&t, NULL, serve_beside_churning_leader, NULL) != 0) {
				printf("err pthread_create\n");
				continue;
			}
			churn();
		} else if (!strcmp(cmd, "vfork_wait")) {
			pthread_t t;
			atomic_store(&vf_child, 0);
			atomic_store(&vf_tid, 0);
			if (pthread_create(&t, NULL, vf_main, NULL) != 0) {
				printf("err pthread_create\n");
				continue;
			}
			pthread_detach(t);
			while (!atomic_load(&vf_child) || task_state((pid_t)atomic_load(&vf_tid)) != 'D')
				sched_yield();
			printf("ok child=%d tid=%d\n", atomic_load(&vf_child), atomic_load(&vf_tid));
		} else if (!strcmp(cmd, "vm_clone")) {
			char *mode = strtok_r(NULL, " ", &save);
			bool vfork_mode = mode && !strcmp(mode, "vfork");
			if (pipe2(vm_go, O_CLOEXEC) < 0 || pipe2(vm_done, O_CLOEXEC) < 0) {
				printf("err pipe %s\n", strerror(errno));
				continue;
			}
			atomic_store(&vm_child, 0);
			pthread_t t;
			if (vfork_mode) {
				if (pthread_create(&t, NULL, vm_vfork_main, NULL) != 0) {
					printf("err pthread_create\n");
					continue;
				}
				pthread_detach(t);
			} else if (vm_start(CLONE_VM | SIGCHLD) < 0) {
				printf("err clone %s\n", strerror(errno));
				continue;
			}
			while (!atomic_load(&vm_child))
				sched_yield();
			close(vm_go[0]);
			close(vm_done[1]);
			printf("ok child=%d\n", atomic_load(&vm_child));
		} else if (!strcmp(cmd, "vm_exec")) {
			size_t used = 0;
			int n = 0;
			char *a;
			while (n < 63 && (a = strtok_r(NULL, " ", &save))) {
				size_t l = strlen(a) + 1;
				if (used + l > sizeof(vm_args))
					break;
				vm_argv[n++] = memcpy(vm_args + used, a, l);
				used += l;
			}
			vm_argv[n] = NULL;
			int e = 0;
			ssize_t r;
			if (n == 0 || write(vm_go[1], "x", 1) != 1) {
				printf("err no path or no child\n");
				continue;
			}
			while ((r = read(vm_done[0], &e, sizeof(e))) < 0 && errno == EINTR)
				;
			close(vm_go[1]);
			close(vm_done[0]);
			if (r == 0)
				printf("ok\n");
			else
				printf("err exec %s\n", strerror(e));
		} else if (!strcmp(cmd, "churned")) {
			printf("ok made=%lu\n", atomic_load(&churned));
		} else if (!strcmp(cmd, "thread_exit")) {
			close(thr_pipe[1]);
			pthread_join(thr, NULL);
			close(thr_pipe[0]);
			printf("ok\n");
		} else {
			printf("err unknown command %s\n", cmd);
		}
	}
	exit(0);
}
