/* What a test's stand-in for a library forwards to: the real library, loaded once by its path. */
#ifndef MEMLENS_TEST_SHIM_REAL_H
#define MEMLENS_TEST_SHIM_REAL_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#define VIS __attribute__((visibility("default")))

/* Symbol @name of the library at @path (loaded on first use); aborts, naming @tag, if either
 * is missing. */
static void *shim_real(const char *path, const char *tag, const char *name)
{
	static void *h;
	if (!h && !(h = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
		fprintf(stderr, "%s: %s\n", tag, dlerror());
		abort();
	}
	void *f = dlsym(h, name);
	if (!f) {
		fprintf(stderr, "%s: %s has no %s\n", tag, path, name);
		abort();
	}
	return f;
}

/* A function of the stand-in that calls the real one. */
#define FWD(ret, name, params, args)                                           \
	VIS ret name params                                                     \
	{                                                                       \
		return ((__typeof__(name) *)real(#name)) args;                  \
	}

#endif
