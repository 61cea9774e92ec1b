/* Stand-ins for PCRE2's library, under its SONAME: every call goes to the real library
 * (ML_REAL_PCRE2, loaded by its path) except, as built:
 *  - ML_STANDIN_NOANCHOR: compiling a regex anchored (PCRE2_ANCHORED at compile time) fails,
 *    as out of memory would; memlens grep then crosses a regex's failing starts without its
 *    anchored copy;
 *  - ML_STANDIN_COUNT: pcre2_match() calls are counted, and the count is written at exit to
 *    the file that ML_PCRE2_MATCH_COUNT names, so that a test can tell how much a search
 *    tried without timing it.
 * memlens grep loads it through LD_LIBRARY_PATH (tests/cli/grep.sh). */

#include "shim_real.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

static void *real(const char *name) { return shim_real(ML_REAL_PCRE2, "pcre2_standin", name); }

FWD(void, pcre2_code_free_8, (pcre2_code_8 *c), (c))
FWD(int, pcre2_get_error_message_8, (int e, PCRE2_UCHAR8 *b, PCRE2_SIZE n), (e, b, n))
FWD(PCRE2_SIZE *, pcre2_get_ovector_pointer_8, (pcre2_match_data_8 *md), (md))
FWD(int, pcre2_jit_compile_8, (pcre2_code_8 *c, uint32_t o), (c, o))
FWD(pcre2_match_data_8 *, pcre2_match_data_create_8, (uint32_t n, pcre2_general_context_8 *g), (n, g))
FWD(void, pcre2_match_data_free_8, (pcre2_match_data_8 *md), (md))
FWD(int, pcre2_pattern_info_8, (const pcre2_code_8 *c, uint32_t w, void *r), (c, w, r))
FWD(pcre2_match_context_8 *, pcre2_match_context_create_8, (pcre2_general_context_8 *g), (g))
FWD(void, pcre2_match_context_free_8, (pcre2_match_context_8 *mc), (mc))
FWD(pcre2_jit_stack_8 *, pcre2_jit_stack_create_8, (PCRE2_SIZE a, PCRE2_SIZE b, pcre2_general_context_8 *g), (a, b, g))
FWD(void, pcre2_jit_stack_free_8, (pcre2_jit_stack_8 *j), (j))
FWD(void, pcre2_jit_stack_assign_8, (pcre2_match_context_8 *mc, pcre2_jit_callback_8 cb, void *d), (mc, cb, d))
FWD(int, pcre2_set_callout_8, (pcre2_match_context_8 *mc, int (*cb)(pcre2_callout_block_8 *, void *), void *d),
    (mc, cb, d))

VIS pcre2_code_8 *pcre2_compile_8(PCRE2_SPTR8 p, PCRE2_SIZE n, uint32_t o, int *ec, PCRE2_SIZE *eo,
				  pcre2_compile_context_8 *cc)
{
#ifdef ML_STANDIN_NOANCHOR
	if (o & PCRE2_ANCHORED) {
		*ec = PCRE2_ERROR_HEAPLIMIT;
		*eo = 0;
		return NULL;
	}
#endif
	return ((__typeof__(pcre2_compile_8) *)real("pcre2_compile_8"))(p, n, o, ec, eo, cc);
}

static atomic_ulong matches;

VIS int pcre2_match_8(const pcre2_code_8 *c, PCRE2_SPTR8 s, PCRE2_SIZE l, PCRE2_SIZE off, uint32_t o,
		      pcre2_match_data_8 *md, pcre2_match_context_8 *mc)
{
	atomic_fetch_add(&matches, 1);
	return ((__typeof__(pcre2_match_8) *)real("pcre2_match_8"))(c, s, l, off, o, md, mc);
}

#ifdef ML_STANDIN_COUNT
__attribute__((destructor)) static void write_count(void)
{
	const char *path = getenv("ML_PCRE2_MATCH_COUNT");
	int fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
	if (fd < 0)
		return;
	char b[32];
	int n = snprintf(b, sizeof(b), "%lu\n", atomic_load(&matches));
	if (write(fd, b, (size_t)n) != n)
		(void)unlink(path); /* no count rather than a wrong one */
	close(fd);
}
#endif
