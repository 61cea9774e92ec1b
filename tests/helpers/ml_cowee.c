/* The child that copy-on-write dump tests capture: it logs getpid() into shared memory, counts SIGCHLD, stamps generations.
 * Commands, one answer line each:
 *   setup        maps the regions below -> ok log=A dontfork=A wipe=A gen=A npages=N
 *   run          starts a thread that loops: log getpid() into the shared log, then stamp
 *                the turn number into the first 8 bytes of each gen page, in order -> ok (after the first full turn)
 *   stats        -> ok sigchld=N otherpid=N turns=N (otherpid: log entries not our pid)
 *   seccomp      denies clone, clone3, fork and vfork with EPERM in every thread -> ok
 *   pid          -> ok pid=N
 *   exit N       _exit(N) */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096ul
#define LOG_SLOTS 1024
#define GEN_PAGES 256

/* Shared with any process that has this mapping: a copy that ran our code would write its pid here. */
static struct shared {
	atomic_uint sigchld;
	atomic_uint log[LOG_SLOTS];
} *S;
static unsigned char *dontfork, *wipe, *gen;
static atomic_ulong turns;
static pthread_t worker;

static void on_chld(int sig)
{
	(void)sig;
	atomic_fetch_add(&S->sigchld, 1);
}

static void *loop(void *arg)
{
	(void)arg;
	for (unsigned long t = 1;; t++) {
		atomic_store(&S->log[t % LOG_SLOTS], (unsigned)getpid());
		for (size_t i = 0; i < GEN_PAGES; i++)
			__atomic_store_n((volatile uint64_t *)(gen + i * PAGE), t, __ATOMIC_RELEASE);
		atomic_store(&turns, t);
	}
	return NULL;
}

static void *map(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

static int deny_fork(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fork, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_vfork, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
}

int main(void)
{
	char line[256];
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sigaction(SIGCHLD, &sa, NULL);
	printf("ready pid=%d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "setup", 5)) {
			S = map(sizeof(*S), MAP_SHARED | MAP_ANONYMOUS);
			dontfork = map(4 * PAGE, MAP_PRIVATE | MAP_ANONYMOUS);
			wipe = map(4 * PAGE, MAP_PRIVATE | MAP_ANONYMOUS);
			gen = map(GEN_PAGES * PAGE, MAP_PRIVATE | MAP_ANONYMOUS);
			for (size_t i = 0; i < 4 * PAGE; i++) {
				dontfork[i] = (unsigned char)(0x5a ^ i);
				wipe[i] = (unsigned char)(0xc3 ^ (i * 7));
			}
			memset(gen, 0, GEN_PAGES * PAGE);
			if (madvise(dontfork, 4 * PAGE, MADV_DONTFORK) < 0 || madvise(wipe, 4 * PAGE, MADV_WIPEONFORK) < 0) {
				printf("err madvise %s\n", strerror(errno));
				continue;
			}
			printf("ok log=%p dontfork=%p wipe=%p gen=%p npages=%d\n", (void *)S, (void *)dontfork,
			       (void *)wipe, (void *)gen, (int)GEN_PAGES);
		} else if (!strncmp(line, "run", 3)) {
			pthread_create(&worker, NULL, loop, NULL);
			/* answer once every gen page holds a turn: a capture from then on sees no 0 */
			while (atomic_load(&turns) == 0)
				sched_yield();
			printf("ok\n");
		} else if (!strncmp(line, "stats", 5)) {
			unsigned other = 0, me = (unsigned)getpid();
			for (size_t i = 0; i < LOG_SLOTS; i++) {
				unsigned v = atomic_load(&S->log[i]);
				other += v && v != me;
			}
			printf("ok sigchld=%u otherpid=%u turns=%lu\n", atomic_load(&S->sigchld), other,
			       (unsigned long)atomic_load(&turns));
		} else if (!strncmp(line, "seccomp", 7)) {
			if (deny_fork() < 0)
				printf("err seccomp %s\n", strerror(errno));
			else
				printf("ok\n");
		} else if (!strncmp(line, "pid", 3)) {
			printf("ok pid=%d\n", (int)getpid());
		} else if (!strncmp(line, "exit", 4)) {
			_exit(atoi(line + 5));
		} else {
			printf("err unknown command\n");
		}
	}
	return 0;
}
