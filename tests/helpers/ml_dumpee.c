/* The child that dump tests capture: known run-time memory, parked threads, a line protocol.
 * Commands (numbers accept 0x hex), one answer line each:
 *   setup                  builds every test region -> ok key=addr ... (see cmd_setup)
 *   threads N              starts N threads parked in dumpee_park_{read,futex,sleep} -> ok tids=a,b,..
 *   spawn_start            a thread that keeps creating parked threads -> ok
 *   spawn_stop             stops it -> ok made=N
 *   churn_start N          N threads that each keep starting and joining a thread that
 *                          exits at once, so task/ always lists threads about to vanish -> ok
 *   churn_stop             stops them -> ok made=N (threads started and joined)
 *   stats                  -> ok eintr=N cont=N threads=N
 *   sum                    FNV-1a of every populated test byte -> ok sum=HEX
 *   map_touch SIZE STRIDE  private anon mapping, one byte written every STRIDE bytes -> ok addr=A
 *   map_fill SIZE [thp]    private anon mapping filled with heap-like words (with thp:
 *                          MADV_HUGEPAGE first) -> ok addr=A
 *   forktime               fork()s once (the child exits at once) -> ok us=N (how long fork()
 *                          took in the parent: the kernel's cost of copying this address space)
 *   crash DIR              chdir DIR, unlimited core size, abort() (the kernel writes DIR/core)
 *   pid                    -> ok pid=N
 *   exit N                 _exit(N) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "page_grain.h"

/* Written at run time, so a core that lost them cannot be rescued by the executable's .data. */
volatile uint64_t dumpee_runtime_magic;
char dumpee_runtime_str[64];
char *dumpee_heap_str;

static atomic_int eintr_count, cont_count, nthreads;
static int park_pipe[2];
static pthread_mutex_t park_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_cv = PTHREAD_COND_INITIALIZER;
static atomic_int spawn_run, spawn_made;
static pthread_t spawner;

#define PAGE 4096ul
#define SPARSE_SIZE (64ul << 20)
#define THP_SIZE (4ul << 20)

static struct {
	char *sparse, *dontdump, *shared, *memfd, *thp, *guard;
	int memfd_fd;
} R;

static void on_cont(int sig)
{
	(void)sig;
	cont_count++;
}

/* The parking functions: kept out of line so backtraces name them. */
void dumpee_park_read(void);
void dumpee_park_futex(void);
void dumpee_park_sleep(void);

__attribute__((noinline)) void dumpee_park_read(void)
{
	char c;
	for (;;) {
		ssize_t n = read(park_pipe[0], &c, 1);
		if (n < 0 && errno == EINTR)
			eintr_count++;
		else if (n <= 0)
			break;
	}
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void dumpee_park_futex(void)
{
	pthread_mutex_lock(&park_mu);
	for (;;)
		pthread_cond_wait(&park_cv, &park_mu);
	pthread_mutex_unlock(&park_mu);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void dumpee_park_sleep(void)
{
	for (;;) {
		struct timespec ts = { 3600, 0 };
		if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
			eintr_count++;
	}
	__asm__ volatile("" ::: "memory");
}

typedef struct { int kind; pid_t *tid; atomic_int *ready; } park_arg;

static void *park_main(void *arg)
{
	park_arg a = *(park_arg *)arg;
	*a.tid = (pid_t)syscall(SYS_gettid);
	nthreads++;
	atomic_store(a.ready, 1);
	switch (a.kind % 3) {
	case 0: dumpee_park_read(); break;
	case 1: dumpee_park_futex(); break;
	default: dumpee_park_sleep(); break;
	}
	return NULL;
}

static pid_t start_parked(int kind)
{
	pthread_t t;
	pid_t tid = 0;
	atomic_int ready = 0;
	park_arg a = { kind, &tid, &ready };
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 128 << 10);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, park_main, &a) != 0)
		return 0;
	pthread_attr_destroy(&at);
	while (!atomic_load(&ready))
		sched_yield();
	/* Answer only once the thread sits in its blocking call, so that nothing of ours
	 * still runs when the test looks at memory (read 0, futex 202, clock_nanosleep 230). */
	static const long want[3] = { 0, 202, 230 };
	char path[64], buf[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	for (;;) {
		FILE *f = fopen(path, "r");
		long nr = -2;
		if (f) {
			if (fgets(buf, sizeof(buf), f))
				nr = strtol(buf, NULL, 10);
			fclose(f);
		}
		if (nr == want[kind % 3])
			break;
		sched_yield();
	}
	return tid;
}

static void *spawn_main(void *arg)
{
	(void)arg;
	while (atomic_load(&spawn_run) && atomic_load(&spawn_made) < 400) {
		if (start_parked(1))
			spawn_made++;
	}
	return NULL;
}

#define CHURN_MAX 64
static atomic_int churn_run;
static atomic_long churn_made;
static pthread_t churners[CHURN_MAX];
static int nchurners;

static void *churn_quick(void *arg)
{
	return arg;
}

static void *churn_main(void *arg)
{
	(void)arg;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 << 10);
	while (atomic_load(&churn_run)) {
		pthread_t t;
		if (pthread_create(&t, &at, churn_quick, NULL) == 0 && pthread_join(t, NULL) == 0)
			churn_made++;
	}
	pthread_attr_destroy(&at);
	return NULL;
}

static void fill(char *p, size_t len, const char *tag)
{
	size_t tl = strlen(tag);
	for (size_t o = 0; o + tl <= len; o += tl)
		memcpy(p + o, tag, tl);
}

static void cmd_setup(void)
{
	pid_t pid = getpid();
	dumpee_runtime_magic = 0x5eed0000ull ^ ((uint64_t)pid << 20) ^ (uint64_t)time(NULL);
	snprintf(dumpee_runtime_str, sizeof(dumpee_runtime_str), "runtime-string-%d", (int)pid);
	dumpee_heap_str = malloc(64);
	snprintf(dumpee_heap_str, 64, "heap-string-%d-ok", (int)pid);

	R.sparse = mmap_pages(SPARSE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* three touched pages: first, one in the middle, last */
	strcpy(R.sparse, "sparse-first");
	strcpy(R.sparse + SPARSE_SIZE / 2, "sparse-middle");
	strcpy(R.sparse + SPARSE_SIZE - PAGE, "sparse-last");

	R.dontdump = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* The canary: a pattern made from the PID, written in place, so it exists nowhere else. */
	for (size_t i = 0; i < 4 * PAGE; i++)
		R.dontdump[i] = (char)(0xa5 ^ (i * 13) ^ (unsigned)pid);
	madvise(R.dontdump, 4 * PAGE, MADV_DONTDUMP);

	R.shared = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fill(R.shared, 2 * PAGE, "shared-anon-");

	R.memfd_fd = (int)syscall(SYS_memfd_create, "dumpee", 0);
	if (ftruncate(R.memfd_fd, 16 * PAGE) < 0)
		abort();
	R.memfd = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, R.memfd_fd, 0);
	fill(R.memfd, PAGE, "memfd-mapped-");

	/* THP: a 2 MiB-aligned stretch inside a larger mapping, asked for huge pages */
	char *t = mmap(NULL, THP_SIZE + (2ul << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R.thp = (char *)(((uintptr_t)t + (2ul << 20) - 1) & ~((2ul << 20) - 1));
	madvise(R.thp, THP_SIZE, MADV_HUGEPAGE);
	for (size_t o = 0; o < THP_SIZE; o += PAGE)
		R.thp[o] = (char)(o >> 12) | 1;

	R.guard = mmap(NULL, 16 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	printf("ok magic=0x%llx runtime_str=%p heap_str=%p heap_ptr=%p sparse=%p sparse_size=0x%lx "
	       "dontdump=%p shared=%p memfd=%p thp=%p guard=%p\n",
	       (unsigned long long)dumpee_runtime_magic, (void *)dumpee_runtime_str,
	       (void *)dumpee_heap_str, (void *)&dumpee_heap_str, (void *)R.sparse, SPARSE_SIZE,
	       (void *)R.dontdump, (void *)R.shared, (void *)R.memfd, (void *)R.thp, (void *)R.guard);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t sum(void)
{
	uint64_t h = 0xcbf29ce484222325ull;
	h = fnv(h, (const void *)&dumpee_runtime_magic, 8);
	h = fnv(h, dumpee_runtime_str, sizeof(dumpee_runtime_str));
	if (dumpee_heap_str)
		h = fnv(h, dumpee_heap_str, 64);
	if (R.sparse) {
		h = fnv(h, R.sparse, PAGE);
		h = fnv(h, R.sparse + SPARSE_SIZE / 2, PAGE);
		h = fnv(h, R.sparse + SPARSE_SIZE - PAGE, PAGE);
		h = fnv(h, R.dontdump, 4 * PAGE);
		h = fnv(h, R.shared, 2 * PAGE);
		h = fnv(h, R.memfd, PAGE);
		h = fnv(h, R.thp, THP_SIZE);
	}
	return h;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_cont;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCONT, &sa, NULL);
	if (pipe(park_pipe) < 0)
		return 1;
	printf("ready pid=%d\n", (int)getpid());
	char line[4096];
	for (;;) {
		if (!fgets(line, sizeof(line), stdin)) {
			if (errno == EINTR) {
				eintr_count++;
				clearerr(stdin);
				continue;
			}
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		char *save, *cmd = strtok_r(line, " ", &save);
		if (!cmd)
			continue;
		char *a1 = strtok_r(NULL, " ", &save), *a2 = strtok_r(NULL, " ", &save);
		if (!strcmp(cmd, "pid")) {
			printf("ok pid=%d\n", (int)getpid());
		} else if (!strcmp(cmd, "exit")) {
			_exit(a1 ? atoi(a1) : 0);
		} else if (!strcmp(cmd, "setup")) {
			cmd_setup();
		} else if (!strcmp(cmd, "threads")) {
			int n = a1 ? atoi(a1) : 3;
			char out[4096] = "";
			size_t o = 0;
			for (int i = 0; i < n; i++) {
				pid_t tid = start_parked(i);
				o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%d", i ? "," : "", (int)tid);
				if (o >= sizeof(out))
					break;
			}
			printf("ok tids=%s\n", out);
		} else if (!strcmp(cmd, "spawn_start")) {
			atomic_store(&spawn_run, 1);
			pthread_create(&spawner, NULL, spawn_main, NULL);
			while (atomic_load(&spawn_made) < 2)
				sched_yield();
			printf("ok\n");
		} else if (!strcmp(cmd, "spawn_stop")) {
			atomic_store(&spawn_run, 0);
			pthread_join(spawner, NULL);
			printf("ok made=%d\n", atomic_load(&spawn_made));
		} else if (!strcmp(cmd, "churn_start")) {
			int n = a1 ? atoi(a1) : 4;
			atomic_store(&churn_run, 1);
			for (nchurners = 0; nchurners < n && nchurners < CHURN_MAX; nchurners++)
				if (pthread_create(&churners[nchurners], NULL, churn_main, NULL) != 0)
					break;
			if (nchurners == 0) {
				printf("err pthread_create\n");
				continue;
			}
			long want = atomic_load(&churn_made) + 100;
			while (atomic_load(&churn_made) < want)
				sched_yield();
			printf("ok\n");
		} else if (!strcmp(cmd, "churn_stop")) {
			atomic_store(&churn_run, 0);
			for (int i = 0; i < nchurners; i++)
				pthread_join(churners[i], NULL);
			nchurners = 0;
			printf("ok made=%ld\n", atomic_load(&churn_made));
		} else if (!strcmp(cmd, "stats")) {
			printf("ok eintr=%d cont=%d threads=%d\n", atomic_load(&eintr_count),
			       atomic_load(&cont_count), atomic_load(&nthreads));
		} else if (!strcmp(cmd, "sum")) {
			printf("ok sum=0x%llx\n", (unsigned long long)sum());
		} else if (!strcmp(cmd, "map_touch")) {
			size_t sz = strtoull(a1 ? a1 : "0", NULL, 0), stride = strtoull(a2 ? a2 : "4096", NULL, 0);
			char *p = mmap_pages(sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) {
				printf("err mmap %s\n", strerror(errno));
				continue;
			}
			for (size_t o = 0; o < sz; o += stride ? stride : PAGE)
				p[o] = (char)((o >> 12) * 7 + 1);
			printf("ok addr=%p\n", (void *)p);
		} else if (!strcmp(cmd, "map_fill")) {
			/* Heap-like contents: pointers, counters and text, compressible about 3-5x. */
			size_t sz = strtoull(a1 ? a1 : "0", NULL, 0);
			uint64_t *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) {
				printf("err mmap %s\n", strerror(errno));
				continue;
			}
			/* 4 KiB pages unless asked for huge ones, whatever the system default */
			if (!(a2 && !strcmp(a2, "thp")))
				page_grain(p, sz);
			else if (madvise(p, sz, MADV_HUGEPAGE) < 0) {
				printf("err madvise %s\n", strerror(errno));
				continue;
			}
			uint64_t x = 0x9e3779b97f4a7c15ull;
			for (size_t i = 0; i < sz / 8; i++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				switch (i & 7) {
				case 0: case 1: p[i] = 0x00007f0000000000ull | (x & 0xffffff8ull); break;
				case 2: p[i] = i; break;
				case 3: p[i] = 0; break;
				case 4: memcpy(&p[i], "obj-name", 8); break;
				default: p[i] = x & 0xffff; break;
				}
			}
			printf("ok addr=%p\n", (void *)p);
		} else if (!strcmp(cmd, "forktime")) {
			struct timespec t0, t1;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			pid_t ch = fork();
			if (ch == 0)
				_exit(0);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (ch < 0) {
				printf("err fork %s\n", strerror(errno));
				continue;
			}
			waitpid(ch, NULL, 0);
			printf("ok us=%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
		} else if (!strcmp(cmd, "crash")) {
			struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
			if (!a1 || chdir(a1) < 0 || setrlimit(RLIMIT_CORE, &rl) < 0) {
				printf("err crash setup %s\n", strerror(errno));
				continue;
			}
			prctl(PR_SET_DUMPABLE, 1);
			fflush(stdout);
			abort();
		} else {
			printf("err unknown command %s\n", cmd);
		}
	}
	return 0;
}
