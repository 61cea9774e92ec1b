/* Loading PCRE2 and Vectorscan at first use (see dl.h). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#ifdef MEMLENS_HAVE_VECTORSCAN
#include <hs/hs.h>
#endif

#include "grep/dl.h"

gp_pcre2_fns gp_pcre2;
#ifdef MEMLENS_HAVE_VECTORSCAN
gp_hs_fns gp_hs;
#endif

typedef struct lib {
	pthread_once_t once;
	const char *soname;
	void *slots; /* the table: one function pointer per name */
	const char *const *names;
	size_t n;
	char err[256];
	bool ok;
} lib;

static void load(lib *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(l->err, sizeof(l->err), "cannot load %s: %s", l->soname, e ? e : "unknown error");
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		void *sym = dlsym(h, l->names[i]);
		memcpy((char *)l->slots + i * sizeof(sym), &sym, sizeof(sym));
		if (!sym) {
			snprintf(l->err, sizeof(l->err), "%s has no %s", l->soname, l->names[i]);
			dlclose(h);
			return;
		}
	}
	l->ok = true; /* kept loaded for the life of the process */
}

static int use(lib *l, void (*once)(void), char **err)
{
	pthread_once(&l->once, once);
	if (l->ok)
		return 0;
	if (err)
		*err = strdup(l->err);
	return -ENOENT;
}

static const char *const pcre2_names[] = {
	"pcre2_compile_8", "pcre2_code_free_8", "pcre2_get_error_message_8",
	"pcre2_get_ovector_pointer_8", "pcre2_jit_compile_8", "pcre2_match_8",
	"pcre2_match_data_create_8", "pcre2_match_data_free_8", "pcre2_pattern_info_8",
	"pcre2_match_context_create_8", "pcre2_match_context_free_8", "pcre2_jit_stack_create_8",
	"pcre2_jit_stack_free_8", "pcre2_jit_stack_assign_8", "pcre2_set_callout_8",
};
_Static_assert(sizeof(pcre2_names) / sizeof(pcre2_names[0]) == sizeof(gp_pcre2_fns) / sizeof(void *),
	       "one name per PCRE2 slot");
static lib pcre2_lib = {
	.once = PTHREAD_ONCE_INIT, .soname = GREP_PCRE2_SONAME, .slots = &gp_pcre2,
	.names = pcre2_names, .n = sizeof(pcre2_names) / sizeof(pcre2_names[0]),
};
static void load_pcre2(void) { load(&pcre2_lib); }
int gp_dl_pcre2(char **err) { return use(&pcre2_lib, load_pcre2, err); }
bool gp_dl_pcre2_loaded(void) { return pcre2_lib.ok; }

#ifdef MEMLENS_HAVE_VECTORSCAN
static const char *const hs_names[] = {
	"hs_alloc_scratch", "hs_close_stream", "hs_compile", "hs_compile_multi", "hs_free_compile_error",
	"hs_free_database", "hs_free_scratch", "hs_open_stream", "hs_reset_stream", "hs_scan_stream",
};
_Static_assert(sizeof(hs_names) / sizeof(hs_names[0]) == sizeof(gp_hs_fns) / sizeof(void *),
	       "one name per Vectorscan slot");
static lib hs_lib = {
	.once = PTHREAD_ONCE_INIT, .soname = GREP_HS_SONAME, .slots = &gp_hs,
	.names = hs_names, .n = sizeof(hs_names) / sizeof(hs_names[0]),
};
static void load_hs(void) { load(&hs_lib); }
int gp_dl_hs(char **err) { return use(&hs_lib, load_hs, err); }
#endif
