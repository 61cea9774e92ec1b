/* A process whose main thread exits (pthread_exit) while its other threads run on: /proc/PID
 * then shows no address space, and memlens reads it through a thread (lib/proc_leader.c).
 *   ml_leaderless [THREADS]        threads besides the main one (1..16, default 3)
 * It maps LEN bytes of private memory (4 KiB pages, a mapping of its own) and writes every
 * byte (the byte at address x is (x >> 12) * 31 + (x & 0xfff) truncated to 8 bits, never
 * 0: mlt_page_pattern()), then at NEEDLE_OFF the needle "mlleaderless" followed by its PID
 * in lowercase hex, put there a byte at a time so that no other copy of it is in the
 * process; it starts the threads and answers on stdout
 *   ready pid=N addr=A len=L needle=A2
 * Commands, one per stdin line, one answer line each:
 *   main_exit   the main thread exits (pthread_exit); a new thread takes over the commands
 *               and answers, once the main thread shows state Z, -> ok tid=T
 *   tids        -> ok tids=T1,T2,...  the threads that run (the one answering first)
 *   end TID     thread TID (one of the THREADS) returns; answered once it is gone from
 *               /proc/self/task -> ok
 *   exec PATH   execv(PATH) from the answering thread (a helper answers "ready" again)
 *   exit N      exit(N) */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "page_grain.h"
#include "task_state.h"

#define LEN (16 * 4096)
#define NEEDLE_OFF (5 * 4096 + 123)
#define MAX_THREADS 16

static struct worker {
	pthread_t t;
	pid_t tid;
	int pipe[2];
	int ended;
} w[MAX_THREADS];
static int nthreads = 3;
static pthread_t main_thread;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *worker_main(void *arg)
{
	struct worker *me = arg;
	pthread_mutex_lock(&mu);
	me->tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	char c;
	while (read(me->pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}


static void print_tids(void)
{
	printf("ok tids=%d", (int)syscall(SYS_gettid));
	for (int i = 0; i < nthreads; i++)
		if (!w[i].ended)
			printf(",%d", (int)w[i].tid);
	printf("\n");
}

static void *serve(void *arg);

static void *serve_after_main(void *arg)
{
	/* Answer only once the main thread has really exited, so the test sees that state. */
	pthread_join(main_thread, NULL);
	while (task_state(getpid()) != 'Z')
		sched_yield();
	printf("ok tid=%d\n", (int)syscall(SYS_gettid));
	return serve(arg);
}

static void *serve(void *arg)
{
	(void)arg;
	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *save, *cmd = strtok_r(line, " ", &save), *a = strtok_r(NULL, " ", &save);
		if (!cmd)
			continue;
		if (!strcmp(cmd, "main_exit")) {
			pthread_t t;
			main_thread = pthread_self();
			pthread_create(&t, NULL, serve_after_main, NULL);
			pthread_exit(NULL);
		} else if (!strcmp(cmd, "tids")) {
			print_tids();
		} else if (!strcmp(cmd, "end") && a) {
			pid_t tid = (pid_t)atoi(a);
			int i = 0;
			while (i < nthreads && (w[i].ended || w[i].tid != tid))
				i++;
			if (i == nthreads) {
				printf("err no running thread %d\n", (int)tid);
				continue;
			}
			close(w[i].pipe[1]);
			pthread_join(w[i].t, NULL);
			w[i].ended = 1;
			while (task_state(tid))
				sched_yield();
			printf("ok\n");
		} else if (!strcmp(cmd, "exec") && a) {
			char *args[] = { a, NULL };
			fflush(stdout);
			execv(a, args);
			printf("err exec %s\n", strerror(errno));
		} else if (!strcmp(cmd, "exit")) {
			fflush(stdout);
			exit(a ? atoi(a) : 0);
		} else {
			printf("err unknown command %s\n", cmd);
		}
	}
	exit(0);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		nthreads = atoi(argv[1]);
	if (nthreads < 1 || nthreads > MAX_THREADS) {
		fprintf(stderr, "ml_leaderless: THREADS must be 1..%d\n", MAX_THREADS);
		return 64;
	}
	/* between two inaccessible pages, so that it stays a mapping of its own (a thread
	 * stack mapped next to it would otherwise merge with it) */
	unsigned char *m = mmap_pages(LEN + 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + 4096, LEN, PROT_READ | PROT_WRITE) < 0) {
		printf("err mmap %s\n", strerror(errno));
		return 1;
	}
	m += 4096;
	for (size_t i = 0; i < LEN; i++) {
		uintptr_t x = (uintptr_t)(m + i);
		unsigned char b = (unsigned char)((x >> 12) * 31 + (x & 0xfff));
		m[i] = b ? b : 1;
	}
	/* the needle, a byte at a time: neither it nor its PID part is formatted anywhere else */
	unsigned char *n = m + NEEDLE_OFF;
	static const char prefix[] = { 'm', 'l', 'l', 'e', 'a', 'd', 'e', 'r', 'l', 'e', 's', 's' };
	for (size_t i = 0; i < sizeof(prefix); i++)
		*n++ = (unsigned char)prefix[i];
	unsigned pid = (unsigned)getpid(), shift = 28;
	while (shift && !(pid >> shift))
		shift -= 4;
	for (;; shift -= 4) {
		*n++ = (unsigned char)"0123456789abcdef"[(pid >> shift) & 0xf];
		if (!shift)
			break;
	}
	for (int i = 0; i < nthreads; i++) {
		if (pipe(w[i].pipe) < 0 || pthread_create(&w[i].t, NULL, worker_main, &w[i]) != 0) {
			printf("err thread %s\n", strerror(errno));
			return 1;
		}
	}
	pthread_mutex_lock(&mu);
	for (int i = 0; i < nthreads; i++)
		while (!w[i].tid)
			pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	printf("ready pid=%d addr=%p len=%d needle=%p\n", (int)getpid(), (void *)m, LEN, (void *)(m + NEEDLE_OFF));
	serve(NULL);
	return 0;
}
