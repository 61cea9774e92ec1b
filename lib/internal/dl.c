/* Loading the compression and ELF libraries at first use (see dl.h). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/dl.h"
#include "internal/internal.h"

static ml__dl_table tab;

/* Each library and the names of its slots, in the table's order (the lists in dl.h). */
#define NAME(f) #f,
#define LIB(so, LIST) { so, (const char *const[]){ LIST(NAME) }, sizeof((const char *const[]){ LIST(NAME) }) / sizeof(char *) }
static const struct dl_lib {
	const char *soname;
	const char *const *names;
	size_t n;
} libs[] = {
	LIB(ML_SONAME_ZLIB, ML__DL_ZLIB),
	LIB(ML_SONAME_LZ4, ML__DL_LZ4),
	LIB(ML_SONAME_ZSTD, ML__DL_ZSTD),
	LIB(ML_SONAME_LZMA, ML__DL_LZMA),
	LIB(ML_SONAME_ELF, ML__DL_ELF),
};
#undef LIB
#undef NAME

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char err[320];
static bool ok;
static const char *deny;

static void load(void)
{
	size_t slot = 0;
	for (size_t l = 0; l < sizeof(libs) / sizeof(libs[0]); l++) {
		const struct dl_lib *L = &libs[l];
		void *h = NULL;
		if (deny && !strncmp(L->soname, deny, strlen(deny)) && L->soname[strlen(deny)] == '.') {
			snprintf(err, sizeof(err), "cannot load %s: refused for a test", L->soname);
			return;
		}
		if (!(h = dlopen(L->soname, RTLD_NOW | RTLD_LOCAL))) {
			const char *e = dlerror();
			snprintf(err, sizeof(err), "cannot load %s, which snapshots and cores need: %s", L->soname,
				 e ? e : "unknown error");
			return;
		}
		for (size_t i = 0; i < L->n; i++, slot++) {
			if (slot >= sizeof(tab) / sizeof(void *)) {
				snprintf(err, sizeof(err), "internal error: more names than slots");
				return;
			}
			void *sym = dlsym(h, L->names[i]);
			if (!sym) {
				snprintf(err, sizeof(err), "%s has no %s: a version this build cannot use", L->soname,
					 L->names[i]);
				return;
			}
			memcpy((char *)&tab + slot * sizeof(sym), &sym, sizeof(sym));
		}
		/* kept loaded for the life of the process */
	}
	if (slot != sizeof(tab) / sizeof(void *)) {
		snprintf(err, sizeof(err), "internal error: %zu names for %zu slots", slot, sizeof(tab) / sizeof(void *));
		return;
	}
	ok = true;
}

int ml__dl_load(void)
{
	pthread_once(&once, load);
	if (ok)
		return 0;
	ml__error_set("%s", err);
	return -ELIBACC;
}

const ml__dl_table *ml__dl_fns(void)
{
	pthread_once(&once, load);
	if (!ok) {
		fprintf(stderr, "libmemlens: %s\n", err);
		abort();
	}
	return &tab;
}

void ml__dl_deny_for_tests(const char *soname_prefix)
{
	deny = soname_prefix;
}

/* One name per slot: the names and the slots come from the same lists. */
#define ONE(f) +1
_Static_assert(sizeof(ml__dl_table) ==
		       (0 ML__DL_ZLIB(ONE) ML__DL_LZ4(ONE) ML__DL_ZSTD(ONE) ML__DL_LZMA(ONE) ML__DL_ELF(ONE)) * sizeof(void *),
	       "every slot is a function pointer");
#undef ONE
