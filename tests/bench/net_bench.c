/* Times reading one socket table of a process through libmemlens: parsed records, or the
 * raw file only (what the kernel costs). Prints the median of REPS runs in ms and the count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <memlens/memlens.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: net_bench parse|raw PID REPS\n");
		return 64;
	}
	bool raw = !strcmp(argv[1], "raw");
	int reps = atoi(argv[3]);
	ml_proc *p;
	int r = ml_proc_open(atoi(argv[2]), &p);
	if (r < 0 || reps <= 0 || reps > 1000) {
		fprintf(stderr, "net_bench: %s\n", ml_strerror(r));
		return 2;
	}
	double t[1000];
	size_t count = 0;
	for (int i = 0; i < reps; i++) {
		double t0 = now_ms();
		if (raw) {
			char *buf;
			size_t len;
			r = ml_proc_read_file(p, "net/tcp", &buf, &len);
			count = len;
			free(buf);
		} else {
			ml_net_socks *s;
			r = ml_net_socks_read(p, ML_NET_TCP, &s);
			count = ml_net_socks_count(s);
			ml_net_socks_free(s);
		}
		t[i] = now_ms() - t0;
		if (r < 0) {
			fprintf(stderr, "net_bench: %s\n", ml_strerror(r));
			return 2;
		}
	}
	qsort(t, (size_t)reps, sizeof(*t), cmp);
	printf("%.2f %zu\n", t[reps / 2], count);
	ml_proc_free(p);
	return 0;
}
