/* The child that copy-on-write dump tests capture: it logs getpid() into shared memory, counts SIGCHLD, stamps generations.
 * Commands, one answer line each:
 *   setup        maps the regions below -> ok log=A dontfork=A wipe=A gen=A npages=N
 *   run          starts a thread that loops: log getpid() into the shared log, then stamp
 *                the turn number into the first 8 bytes of each gen page, in order -> ok (after the first full turn)
 *   stats        -> ok sigchld=N otherpid=N turns=N (otherpid: log entries not our pid)
 *   seccomp      denies clone, clone3, fork and vfork with EPERM in every thread -> ok
 *   sud          turns on syscall user dispatch in the main thread (the one thread unless
 *                run), every call allowed by its selector -> ok, or err sud ERROR
 *   pid          -> ok pid=N
 *   sig R        SIGUSR1 handler with SA_SIGINFO (and SA_RESTART if R is 1) that records
 *                what it was sent; the count is reset -> ok
 *   block read F opens FIFO F read-write, answers "ok fd=N", reads one byte on the main
 *                thread, then answers -> ok ret=N errno=N sigs=N code=N value=N spid=N
 *   block sleep MS  answers "ok", sleeps MS ms (nanosleep), then -> ok ret=N errno=N ms=N sigs=N
 *   block futex F   a thread opens FIFO F, reads one byte from it, then sets a word to 1 and
 *                wakes it; the main thread answers "ok" and waits on the word with one
 *                FUTEX_WAIT (no time-out), then -> ok ret=N errno=N word=N
 *   block futex_to MS  answers "ok", one FUTEX_WAIT on a word nobody changes, with a time-out
 *                of MS ms, then -> ok ret=N errno=N ms=N
 *   block ppoll MS  answers "ok", waits MS ms in ppoll() with SIGUSR2 blocked for the call
 *                only, then -> ok ret=N usr2blocked=0|1 (whether SIGUSR2 is still blocked after it)
 *   altstack     runs the rest of the command loop in a SIGUSR2 handler on a sigaltstack
 *                that is a plain buffer (no guard page below it) -> ok
 *   rseqinfo     -> ok lo=A hi=A seq=A (the critical section below, and the word that holds
 *                the number of the section being run), or err norseq (glibc did not register
 *                rseq)
 *   rseq MS      runs that critical section on the main thread for MS ms: each spins about
 *                a millisecond in glibc's registered rseq area, then commits; the sections are
 *                numbered from 0 and the number of each is in the seq word before it begins
 *                -> ok done=N aborts=N
 *   rseqout N    how section N of the last run ended -> ok committed | ok aborted, or
 *                err none (not run, or past the first 2^20)
 *   vfork        a thread calls vfork(); the child pauses (until killed) -> ok child=N
 *   fork         fork(); the child (its own address space, the same open files) pauses
 *                until killed -> ok child=N
 *   zombie0      a child made with exit signal 0 that exits at once with status 3 and is
 *                never reaped (a zombie that is not a dump's copy) -> ok child=N, once it
 *                is a zombie
 *   leader_exit  a new thread takes over this loop and the main thread exits (a zombie
 *                listed in task/ while the others run) -> ok tid=N (from the new thread)
 *   exit N       _exit(N) */
#include <errno.h>
#include <linux/filter.h>
#include <linux/futex.h>
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
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "page_grain.h"

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

/* What SIGUSR1 brought. */
static volatile sig_atomic_t usr1_count;
static volatile int usr1_code, usr1_value, usr1_pid;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	usr1_code = si->si_code;
	usr1_value = si->si_value.sival_int;
	usr1_pid = si->si_pid;
	usr1_count = usr1_count + 1;
}

static _Atomic uint32_t futex_word;

static long futex_wait(_Atomic uint32_t *w, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, ts, NULL, 0);
}

/* Reads one byte from the FIFO named by @arg, then changes the word and wakes its waiter. */
static void *futex_waker(void *arg)
{
	int fd = open(arg, O_RDONLY);
	char b;
	if (fd >= 0) {
		(void)!read(fd, &b, 1);
		close(fd);
	}
	atomic_store(&futex_word, 1);
	syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One critical section in glibc's rseq area: about a millisecond of spinning, then the
 * commit (its last instruction). Returns 1 committed, 0 aborted. */
extern const char ml_cs_lo[], ml_cs_hi[];
static volatile uint64_t rseq_seq;    /* the number of the section being run */
static char rseq_out[1 << 20];        /* how each ended: 'c' committed, 'a' aborted */
__attribute__((noinline)) static int rseq_section(void)
{
	uint64_t *rseq_cs = (uint64_t *)((char *)__builtin_thread_pointer() + __rseq_offset + 8);
	int done;
	__asm__ __volatile__(".pushsection __rseq_cs, \"aw\"\n"
			     ".balign 32\n"
			     "3:\n"
			     ".long 0, 0\n"
			     ".quad ml_cs_lo, ml_cs_hi - ml_cs_lo, 4f\n"
			     ".popsection\n"
			     "leaq 3b(%%rip), %%rax\n"
			     "movq %%rax, (%[cs])\n"
			     ".globl ml_cs_lo\n"
			     "ml_cs_lo:\n"
			     "movq $3000000, %%rcx\n"
			     "5: decq %%rcx\n"
			     "jnz 5b\n"
			     "movl $1, %[done]\n"
			     ".globl ml_cs_hi\n"
			     "ml_cs_hi:\n"
			     ".pushsection __rseq_failure, \"ax\"\n"
			     ".long 0x53053053\n"
			     "4:\n"
			     "movl $0, %[done]\n"
			     "jmp ml_cs_hi\n"
			     ".popsection\n"
			     : [done] "=&r"(done)
			     : [cs] "r"(rseq_cs)
			     : "rax", "rcx", "memory", "cc");
	return done;
}

static volatile pid_t vfork_child;

static void *vforker(void *arg)
{
	(void)arg;
	pid_t ch = vfork();
	if (ch == 0) {
		vfork_child = (pid_t)syscall(SYS_getpid);
		for (;;)
			syscall(SYS_pause);
	}
	return NULL;
}

static void serve(void);

static pthread_t leader;

/* Answers once the exited leader shows state Z (it stays so while other threads run). */
static void *serve_after_leader(void *arg)
{
	(void)arg;
	pthread_join(leader, NULL);
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)getpid());
	for (;;) {
		FILE *f = fopen(path, "re");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = '\0';
		char *rp = strrchr(buf, ')');
		if (rp && rp[1] == ' ' && rp[2] == 'Z')
			break;
		sched_yield();
	}
	printf("ok tid=%d\n", (int)syscall(SYS_gettid));
	serve();
	exit(0);
}

static void on_usr2(int sig)
{
	(void)sig;
	printf("ok\n");
	serve();
	_exit(0);
}

static void *map(size_t len, int flags)
{
	void *p = mmap_pages(len, PROT_READ | PROT_WRITE, flags, -1, 0);
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
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sigaction(SIGCHLD, &sa, NULL);
	printf("ready pid=%d\n", (int)getpid());
	serve();
	return 0;
}

static void serve(void)
{
	char line[256];
	for (;;) {
		/* SIGCHLD is counted by a handler without SA_RESTART: a child of ours that ends
		 * (one a test made and killed) interrupts the wait for the next command. */
		errno = 0;
		if (!fgets(line, sizeof(line), stdin)) {
			if (errno == EINTR && !feof(stdin)) {
				clearerr(stdin);
				continue;
			}
			break;
		}
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
		} else if (!strncmp(line, "sud", 3)) {
			/* PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, no region: each call is
			 * checked against the selector, which allows it */
			static volatile char selector = 0; /* SYSCALL_DISPATCH_FILTER_ALLOW */
			if (prctl(59, 1, 0, 0, (unsigned long)(uintptr_t)&selector) < 0)
				printf("err sud %s\n", strerror(errno));
			else
				printf("ok\n");
		} else if (!strncmp(line, "seccomp", 7)) {
			if (deny_fork() < 0)
				printf("err seccomp %s\n", strerror(errno));
			else
				printf("ok\n");
		} else if (!strncmp(line, "pid", 3)) {
			printf("ok pid=%d\n", (int)getpid());
		} else if (!strncmp(line, "sig ", 4)) {
			struct sigaction u;
			memset(&u, 0, sizeof(u));
			u.sa_sigaction = on_usr1;
			u.sa_flags = SA_SIGINFO | (atoi(line + 4) ? SA_RESTART : 0);
			sigaction(SIGUSR1, &u, NULL);
			usr1_count = 0;
			printf("ok\n");
		} else if (!strncmp(line, "block read ", 11)) {
			line[strcspn(line, "\n")] = '\0';
			int fd = open(line + 11, O_RDWR);
			printf("ok fd=%d\n", fd);
			char b;
			errno = 0;
			ssize_t n = fd >= 0 ? read(fd, &b, 1) : -1;
			int e = errno;
			if (fd >= 0)
				close(fd);
			printf("ok ret=%zd errno=%d sigs=%d code=%d value=%d spid=%d\n", n, e, (int)usr1_count, usr1_code,
			       usr1_value, usr1_pid);
		} else if (!strncmp(line, "block sleep ", 12)) {
			long ms = atol(line + 12);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
			printf("ok\n");
			uint64_t t0 = now_ms();
			errno = 0;
			int r = nanosleep(&ts, NULL);
			int e = errno;
			printf("ok ret=%d errno=%d ms=%llu sigs=%d\n", r, e, (unsigned long long)(now_ms() - t0),
			       (int)usr1_count);
		} else if (!strncmp(line, "block futex ", 12)) {
			line[strcspn(line, "\n")] = '\0';
			static char fifo[256];
			snprintf(fifo, sizeof(fifo), "%s", line + 12);
			atomic_store(&futex_word, 0);
			pthread_t t;
			pthread_create(&t, NULL, futex_waker, fifo);
			printf("ok\n");
			errno = 0;
			long r = futex_wait(&futex_word, 0, NULL);
			int e = errno;
			pthread_join(t, NULL);
			printf("ok ret=%ld errno=%d word=%u\n", r, e, (unsigned)atomic_load(&futex_word));
		} else if (!strncmp(line, "block futex_to ", 15)) {
			long ms = atol(line + 15);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
			atomic_store(&futex_word, 0);
			printf("ok\n");
			uint64_t t0 = now_ms();
			errno = 0;
			long r = futex_wait(&futex_word, 0, &ts);
			int e = errno;
			printf("ok ret=%ld errno=%d ms=%llu\n", r, e, (unsigned long long)(now_ms() - t0));
		} else if (!strncmp(line, "block ppoll ", 12)) {
			long ms = atol(line + 12);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
			sigset_t tmp, now;
			sigemptyset(&tmp);
			sigaddset(&tmp, SIGUSR2);
			printf("ok\n");
			int r = ppoll(NULL, 0, &ts, &tmp);
			sigprocmask(SIG_BLOCK, NULL, &now);
			printf("ok ret=%d usr2blocked=%d\n", r, sigismember(&now, SIGUSR2));
		} else if (!strncmp(line, "altstack", 8)) {
			/* A readable page under it, so the mapping below the stack is no guard. */
			unsigned char *buf = map(40 * PAGE, MAP_PRIVATE | MAP_ANONYMOUS);
			mprotect(buf, 4 * PAGE, PROT_READ);
			stack_t ss = { .ss_sp = buf + 4 * PAGE, .ss_size = 36 * PAGE, .ss_flags = 0 };
			struct sigaction u;
			memset(&u, 0, sizeof(u));
			u.sa_handler = on_usr2;
			u.sa_flags = SA_ONSTACK;
			if (sigaltstack(&ss, NULL) < 0 || sigaction(SIGUSR2, &u, NULL) < 0) {
				printf("err sigaltstack %s\n", strerror(errno));
				continue;
			}
			raise(SIGUSR2);
		} else if (!strncmp(line, "rseqinfo", 8)) {
			if (__rseq_size == 0)
				printf("err norseq\n");
			else
				printf("ok lo=%p hi=%p seq=%p\n", (void *)ml_cs_lo, (void *)ml_cs_hi, (void *)&rseq_seq);
		} else if (!strncmp(line, "rseq ", 5)) {
			uint64_t end = now_ms() + (uint64_t)atol(line + 5);
			unsigned long done = 0, aborts = 0;
			memset(rseq_out, 0, sizeof(rseq_out));
			for (unsigned long n = 0; now_ms() < end; n++) {
				rseq_seq = n; /* before the section, where a tracer that stops it can read it */
				int ok = rseq_section();
				done += ok;
				aborts += !ok;
				if (n < sizeof(rseq_out))
					rseq_out[n] = ok ? 'c' : 'a';
			}
			printf("ok done=%lu aborts=%lu\n", done, aborts);
		} else if (!strncmp(line, "rseqout ", 8)) {
			unsigned long n = strtoul(line + 8, NULL, 10);
			char o = n < sizeof(rseq_out) ? rseq_out[n] : 0;
			printf(o == 'c' ? "ok committed\n" : o == 'a' ? "ok aborted\n" : "err none\n");
		} else if (!strncmp(line, "zombie0", 7)) {
			long ch = syscall(SYS_clone, 0L, NULL, NULL, NULL, NULL);
			if (ch == 0)
				syscall(SYS_exit_group, 3);
			/* answered once it is a zombie (WNOWAIT: it stays one) */
			siginfo_t si;
			if (ch > 0)
				waitid(P_PID, (id_t)ch, &si, WEXITED | WNOWAIT | __WALL);
			printf("ok child=%ld\n", ch);
		} else if (!strncmp(line, "fork", 4)) {
			pid_t ch = fork();
			if (ch == 0)
				for (;;)
					pause();
			printf("ok child=%d\n", (int)ch);
		} else if (!strncmp(line, "vfork", 5)) {
			pthread_t t;
			pthread_create(&t, NULL, vforker, NULL);
			while (!vfork_child)
				sched_yield();
			printf("ok child=%d\n", (int)vfork_child);
		} else if (!strncmp(line, "leader_exit", 11)) {
			pthread_t t;
			leader = pthread_self();
			if (pthread_create(&t, NULL, serve_after_leader, NULL) != 0) {
				printf("err pthread_create\n");
				continue;
			}
			pthread_exit(NULL);
		} else if (!strncmp(line, "exit", 4)) {
			_exit(atoi(line + 5));
		} else {
			printf("err unknown command\n");
		}
	}
}
