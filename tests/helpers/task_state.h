/* The state letter of one of our own threads, for the test helpers that wait on it. */
#ifndef MEMLENS_TEST_TASK_STATE_H
#define MEMLENS_TEST_TASK_STATE_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

/* The state letter of thread @tid of this process (/proc/self/task/TID/stat), or 0 once it
 * has left /proc. */
static inline char task_state(pid_t tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : 0;
}

#endif
