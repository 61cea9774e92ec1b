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

/* Each library and the names of its slots, in the table's order. */
static const struct dl_lib {
	const char *soname;
	const char *const *names;
	size_t n;
} libs[] = {
#define LIB(so, ...) { so, (const char *const[]){ __VA_ARGS__ }, sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *) }
	LIB(ML_SONAME_ZLIB, "crc32", "deflate", "deflateEnd", "deflateInit2_", "deflateInit_", "deflateReset",
	    "inflate", "inflateEnd", "inflateInit2_", "inflateReset", "uncompress2"),
	LIB(ML_SONAME_LZ4, "LZ4F_createDecompressionContext", "LZ4F_decompress", "LZ4F_freeDecompressionContext",
	    "LZ4F_getErrorName", "LZ4F_isError", "LZ4_compress_HC_extStateHC", "LZ4_compress_default",
	    "LZ4_decompress_safe", "LZ4_sizeofStateHC"),
	LIB(ML_SONAME_ZSTD, "ZSTD_CCtx_setParameter", "ZSTD_compress2", "ZSTD_createCCtx", "ZSTD_createDStream",
	    "ZSTD_decompress", "ZSTD_decompressStream", "ZSTD_findFrameCompressedSize", "ZSTD_freeCCtx",
	    "ZSTD_freeDStream", "ZSTD_getErrorName", "ZSTD_getFrameContentSize", "ZSTD_initDStream",
	    "ZSTD_isError", "ZSTD_maxCLevel"),
	LIB(ML_SONAME_LZMA, "lzma_code", "lzma_end", "lzma_stream_decoder"),
	LIB(ML_SONAME_ELF, "elf64_xlatetof", "elf_begin", "elf_end", "elf_errmsg", "elf_getdata_rawchunk",
	    "elf_getphdrnum", "elf_kind", "elf_version", "gelf_getehdr", "gelf_getnote", "gelf_getphdr"),
#undef LIB
};

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

/* One name per slot, all slots pointers of the same size. */
_Static_assert(sizeof(ml__dl_table) == (11 + 9 + 14 + 3 + 11) * sizeof(void *), "one name per slot");
