/* Benchmark: what the handle's state check costs on three kinds of process.
 *   check_bench N ROUNDS MODE   (MODE: exec, fork or vm)
 * Starts a child that sleeps: exec, one that has exec'd (/bin/sleep); fork, a fork() child
 * that has not; vm, a clone(CLONE_VM) child, which runs our address space and whose exec
 * the handle watches in its stat flags. Prints microseconds per ml_proc_check(), per
 * ml_proc_read_file("status") (N/10 of them) and per ml_proc_open() + ml_proc_free() (N/10),
 * once per round. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memlens/memlens.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char vm_stack[64 << 10] __attribute__((aligned(16)));

static int vm_main(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/* PF_FORKNOEXEC in the flags of @pid's stat: set until it execs. */
static int forknoexec(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	unsigned long flags = 0;
	char *rp = strrchr(buf, ')');
	if (rp)
		sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags);
	return (flags & 0x40) != 0;
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[3], "exec") && strcmp(argv[3], "fork") && strcmp(argv[3], "vm"))) {
		fprintf(stderr, "usage: check_bench N ROUNDS exec|fork|vm\n");
		return 64;
	}
	int n = atoi(argv[1]), rounds = atoi(argv[2]);
	const char *mode = argv[3];
	pid_t c;
	if (!strcmp(mode, "vm")) {
		c = clone(vm_main, vm_stack + sizeof(vm_stack), CLONE_VM | SIGCHLD, NULL);
	} else if ((c = fork()) == 0) {
		if (!strcmp(mode, "exec"))
			execl("/bin/sleep", "sleep", "1000000", (char *)NULL);
		for (;;)
			pause();
	}
	if (c < 0)
		return 1;
	if (!strcmp(mode, "exec"))
		while (forknoexec(c))
			sched_yield();
	ml_proc *p;
	int r = ml_proc_open(c, &p);
	for (int round = 0; r == 0 && round < rounds; round++) {
		double t0 = now();
		for (int i = 0; r == 0 && i < n; i++)
			r = ml_proc_check(p);
		double t1 = now();
		for (int i = 0; r == 0 && i < n / 10; i++) {
			char *buf;
			size_t len;
			if ((r = ml_proc_read_file(p, "status", &buf, &len)) == 0)
				free(buf);
		}
		double t2 = now();
		for (int i = 0; r == 0 && i < n / 10; i++) {
			ml_proc *q;
			if ((r = ml_proc_open(c, &q)) == 0)
				ml_proc_free(q);
		}
		double t3 = now();
		if (r == 0)
			printf("%-4s check %6.2f us  status read %6.2f us  open+free %6.2f us\n", mode,
			       (t1 - t0) * 1e6 / n, (t2 - t1) * 1e6 / (n / 10), (t3 - t2) * 1e6 / (n / 10));
	}
	if (r < 0)
		fprintf(stderr, "check_bench: pid %d: %s\n", (int)c, ml_strerror(r));
	if (r == 0)
		ml_proc_free(p);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	return r < 0;
}
