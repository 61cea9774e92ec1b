/* A test child with known process information: it re-executes itself with a fixed argv
 * and environment, then sets values on command (one command per stdin line, one answer).
 * The fixed argv is: ml_infochild "arg with space" "" "x) (y" "\xff\xfe"
 * The fixed environment: ML_INFO_VAR=hello world, ML_INFO_EMPTY=, ML_INFO_BYTES=\xff\xfe,
 * ML_INFOCHILD=1 (plus PATH=/usr/bin:/bin).
 * Commands:
 *   threads N                starts N threads named "mlw-0".."mlw-N-1" -> ok tids=A,B,...
 *   thread_stop I            ends thread I (joins it) -> ok
 *   comm NAME                prctl(PR_SET_NAME) of the main thread (NAME may be hex: x<hex>) -> ok
 *   rlimit RES SOFT HARD     setrlimit (numbers or "inf") -> ok
 *   cwd PATH                 chdir (PATH may be hex: x<hex>) -> ok
 *   open PATH                open read-only -> ok fd=N
 *   seek FD OFF              lseek SEEK_SET -> ok
 *   sockets                  unix socketpair + TCP listener on 127.0.0.1 + UDP socket
 *                            -> ok fds=A,B,C,D inos=a,b,c,d
 *   pipe                     -> ok rfd=N wfd=M ino=I
 *   eventfd                  -> ok fd=N
 *   oom_adj N                writes /proc/self/oom_score_adj -> ok
 *   coredump HEX             writes /proc/self/coredump_filter -> ok
 *   personality HEX          personality(2) -> ok
 *   nnp                      prctl(PR_SET_NO_NEW_PRIVS) -> ok
 *   thp_disable              prctl(PR_SET_THP_DISABLE) -> ok
 *   map SIZE                 anonymous RW mapping, touched -> ok addr=A
 *   zombie                   forks a child that exits at once and is never reaped
 *                            -> ok pid=N (once it is a zombie)
 *   mergeable SIZE           anonymous mapping marked MADV_MERGEABLE (KSM) -> ok addr=A
 *   main_exit                answers ok, then the main thread calls pthread_exit (needs threads)
 *   exit N                   _exit(N) */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "page_grain.h"

#define MAXT 64

static struct worker {
	pthread_t th;
	int pipe[2];
	pid_t tid;
	bool running;
} workers[MAXT];
static int nworkers;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	pthread_mutex_lock(&mu);
	w->tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	char c;
	while (read(w->pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, s, strlen(s));
	int r = n == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return r;
}

static unsigned long long ino_of(int fd)
{
	struct stat sb;
	return fstat(fd, &sb) == 0 ? (unsigned long long)sb.st_ino : 0;
}

static rlim_t parse_rlim(const char *s)
{
	return !strcmp(s, "inf") ? RLIM_INFINITY : (rlim_t)strtoull(s, NULL, 0);
}

/* "x<hex>" decodes to bytes so names with blanks or odd bytes fit on one line. */
static void decode_arg(const char *s, char *out, size_t cap)
{
	if (s[0] != 'x') {
		snprintf(out, cap, "%s", s);
		return;
	}
	size_t o = 0;
	for (s++; s[0] && s[1] && o + 1 < cap; s += 2) {
		char h[3] = { s[0], s[1], 0 };
		out[o++] = (char)strtoul(h, NULL, 16);
	}
	out[o] = '\0';
}

static void reexec(char **argv)
{
	if (getenv("ML_INFOCHILD"))
		return;
	char *nargv[] = { argv[0], "arg with space", "", "x) (y", "\xff\xfe", NULL };
	char *nenv[] = { "ML_INFOCHILD=1", "ML_INFO_VAR=hello world", "ML_INFO_EMPTY=",
			 "ML_INFO_BYTES=\xff\xfe", "PATH=/usr/bin:/bin", NULL };
	/* Only stdin, stdout and stderr: fds inherited from whoever started us would make the
	 * fd table depend on the caller. */
	syscall(SYS_close_range, 3u, ~0u, 0u);
	/* by its real path, so the comm stays "ml_infochild" (not "exe") */
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		execve(self, nargv, nenv);
	}
	printf("err reexec %s\n", strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	(void)argc;
	reexec(argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready pid=%d\n", (int)getpid());
	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *save, *cmd = strtok_r(line, " ", &save);
		char *a1 = cmd ? strtok_r(NULL, " ", &save) : NULL;
		char *a2 = a1 ? strtok_r(NULL, " ", &save) : NULL;
		char *a3 = a2 ? strtok_r(NULL, " ", &save) : NULL;
		if (!cmd)
			continue;
		if (!strcmp(cmd, "threads") && a1) {
			int n = atoi(a1);
			char out[1024] = "ok tids=";
			for (int i = 0; i < n && nworkers < MAXT; i++) {
				struct worker *w = &workers[nworkers];
				if (pipe2(w->pipe, O_CLOEXEC) < 0)
					break;
				w->tid = 0;
				pthread_create(&w->th, NULL, worker_main, w);
				char name[16];
				snprintf(name, sizeof(name), "mlw-%d", nworkers);
				pthread_setname_np(w->th, name);
				pthread_mutex_lock(&mu);
				while (!w->tid)
					pthread_cond_wait(&cv, &mu);
				pthread_mutex_unlock(&mu);
				w->running = true;
				snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%d", i ? "," : "", (int)w->tid);
				nworkers++;
			}
			printf("%s\n", out);
		} else if (!strcmp(cmd, "thread_stop") && a1) {
			int i = atoi(a1);
			if (i < 0 || i >= nworkers || !workers[i].running) {
				printf("err no such thread\n");
				continue;
			}
			close(workers[i].pipe[1]);
			pthread_join(workers[i].th, NULL);
			close(workers[i].pipe[0]);
			workers[i].running = false;
			printf("ok\n");
		} else if (!strcmp(cmd, "comm") && a1) {
			char name[64];
			decode_arg(a1, name, sizeof(name));
			printf(prctl(PR_SET_NAME, name) ? "err prctl\n" : "ok\n");
		} else if (!strcmp(cmd, "rlimit") && a3) {
			struct rlimit rl = { parse_rlim(a2), parse_rlim(a3) };
			printf(setrlimit(atoi(a1), &rl) ? "err setrlimit %s\n" : "ok\n", strerror(errno));
		} else if (!strcmp(cmd, "cwd") && a1) {
			char path[4096];
			decode_arg(a1, path, sizeof(path));
			int r = chdir(path);
			printf(r ? "err chdir %s\n" : "ok\n", strerror(errno));
		} else if (!strcmp(cmd, "open") && a1) {
			int fd = open(a1, O_RDONLY);
			if (fd < 0)
				printf("err open %s\n", strerror(errno));
			else
				printf("ok fd=%d\n", fd);
		} else if (!strcmp(cmd, "seek") && a2) {
			printf(lseek(atoi(a1), strtoll(a2, NULL, 0), SEEK_SET) < 0 ? "err\n" : "ok\n");
		} else if (!strcmp(cmd, "sockets")) {
			int sp[2], t, u;
			struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
			if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0 || (t = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
			    bind(t, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(t, 4) < 0 ||
			    (u = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
				printf("err socket %s\n", strerror(errno));
				continue;
			}
			printf("ok fds=%d,%d,%d,%d inos=%llu,%llu,%llu,%llu\n", sp[0], sp[1], t, u,
			       ino_of(sp[0]), ino_of(sp[1]), ino_of(t), ino_of(u));
		} else if (!strcmp(cmd, "pipe")) {
			int pp[2];
			if (pipe(pp) < 0)
				printf("err pipe\n");
			else
				printf("ok rfd=%d wfd=%d ino=%llu\n", pp[0], pp[1], ino_of(pp[0]));
		} else if (!strcmp(cmd, "eventfd")) {
			int fd = eventfd(7, 0);
			printf(fd < 0 ? "err eventfd\n" : "ok fd=%d\n", fd);
		} else if (!strcmp(cmd, "oom_adj") && a1) {
			int r = write_file("/proc/self/oom_score_adj", a1);
			printf(r ? "err %s\n" : "ok\n", strerror(-r));
		} else if (!strcmp(cmd, "coredump") && a1) {
			int r = write_file("/proc/self/coredump_filter", a1);
			printf(r ? "err %s\n" : "ok\n", strerror(-r));
		} else if (!strcmp(cmd, "personality") && a1) {
			printf(personality(strtoul(a1, NULL, 16)) < 0 ? "err\n" : "ok\n");
		} else if (!strcmp(cmd, "nnp")) {
			printf(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? "err\n" : "ok\n");
		} else if (!strcmp(cmd, "thp_disable")) {
			printf(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) ? "err\n" : "ok\n");
		} else if (!strcmp(cmd, "map") && a1) {
			size_t sz = strtoull(a1, NULL, 0);
			char *p = mmap_pages(sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) {
				printf("err mmap\n");
				continue;
			}
			for (size_t o = 0; o < sz; o += 4096)
				p[o] = 1;
			printf("ok addr=%p\n", (void *)p);
		} else if (!strcmp(cmd, "mergeable") && a1) {
			size_t sz = strtoull(a1, NULL, 0);
			char *p = mmap_pages(sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED || madvise(p, sz, MADV_MERGEABLE) < 0) {
				printf("err madvise %s\n", strerror(errno));
				continue;
			}
			printf("ok addr=%p\n", (void *)p);
		} else if (!strcmp(cmd, "zombie")) {
			fflush(stdout);
			pid_t z = fork();
			if (z == 0)
				_exit(0);
			siginfo_t si;
			/* WNOWAIT: wait until it has exited, but leave it unreaped */
			if (z < 0 || waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT) < 0)
				printf("err zombie\n");
			else
				printf("ok pid=%d\n", (int)z);
		} else if (!strcmp(cmd, "main_exit")) {
			printf("ok\n");
			fflush(stdout);
			pthread_exit(NULL);
		} else if (!strcmp(cmd, "exit")) {
			fflush(stdout);
			_exit(a1 ? atoi(a1) : 0);
		} else {
			printf("err unknown command %s\n", cmd);
		}
	}
	return 0;
}
