/* Shared by the process-information unit tests: fixture handles and raw fixture bytes. */
#ifndef ML_TEST_INFO_FIXTURE_H
#define ML_TEST_INFO_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "mltest.h"

/* A handle on tests/fixtures/proc/<name>. */
static inline ml_proc *fx_open(const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/%s", mlt_fixture_dir(), name);
	ml_proc *p = NULL;
	int r = ml_proc_open_path(path, &p);
	ck_assert_msg(r == 0, "open fixture %s: %d", path, r);
	return p;
}

/* The raw bytes of fixture file <case>/<file> (malloc'd, NUL-terminated). */
static inline char *fx_bytes(const char *name, const char *file, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/%s/%s", mlt_fixture_dir(), name, file);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "fixture %s missing", path);
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n + 4096 > cap)
			buf = realloc(buf, cap = (cap ? cap * 2 : 8192));
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The number after "key:" in status-like text (independent of the parser under test). */
static inline unsigned long long fx_kv(const char *text, const char *key)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "\n%s:", key);
	const char *s = strstr(text, pat);
	if (!s && !strncmp(text, pat + 1, strlen(pat + 1)))
		s = text - 1;
	ck_assert_msg(s != NULL, "key %s not in fixture", key);
	return strtoull(s + strlen(pat), NULL, 10);
}

/* The smallest TID in <case>/task/ other than @pid (the first thread the helper started). */
static inline pid_t fx_first_worker(const char *name, pid_t pid)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/%s/task", mlt_fixture_dir(), name);
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	long best = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		long t = strtol(e->d_name, NULL, 10);
		if (t > 0 && t != pid && (!best || t < best))
			best = t;
	}
	closedir(d);
	return (pid_t)best;
}

#endif
