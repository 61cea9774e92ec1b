/* Example: open a process with libmemlens and print its state line. Build:
 *     cc proc_info.c $(pkg-config --cflags --libs memlens) -o proc_info */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

int main(int argc, char **argv)
{
	ml_proc *p;
	int r = argc > 1 ? ml_proc_open((pid_t)atoi(argv[1]), &p) : ml_proc_self(&p);
	if (r < 0) {
		fprintf(stderr, "proc_info: %s\n", ml_strerror(r));
		return 2;
	}
	char *status;
	size_t len;
	r = ml_proc_read_file(p, "status", &status, &len);
	if (r < 0) {
		fprintf(stderr, "proc_info: pid %d: %s\n", (int)ml_proc_pid(p), ml_strerror(r));
		ml_proc_free(p);
		return 2;
	}
	const char *state = strstr(status, "State:");
	printf("memlens %s: pid %d alive=%d %.*s\n", ml_version(), (int)ml_proc_pid(p), ml_proc_alive(p),
	       state ? (int)strcspn(state, "\n") : 0, state ? state : "");
	free(status);
	ml_proc_free(p);
	return 0;
}
