/* The search libraries (PCRE2, Vectorscan), loaded with dlopen when grep first needs them. */
#ifndef MEMLENS_TOOLS_GREP_DL_H
#define MEMLENS_TOOLS_GREP_DL_H

/*
 * Every other command starts without them: linked at start-up they (and libstdc++,
 * which Vectorscan needs) cost each run of memlens their relocations and page faults.
 * Include after <pcre2.h> and <hs/hs.h>; define GP_DL_REDIRECT first to have the calls of
 * the including file go through the tables.
 */
#include <stdbool.h>

typedef struct gp_pcre2_fns {
	__typeof__(pcre2_compile_8) *compile;
	__typeof__(pcre2_code_free_8) *code_free;
	__typeof__(pcre2_get_error_message_8) *get_error_message;
	__typeof__(pcre2_get_ovector_pointer_8) *get_ovector_pointer;
	__typeof__(pcre2_jit_compile_8) *jit_compile;
	__typeof__(pcre2_match_8) *match;
	__typeof__(pcre2_match_data_create_8) *match_data_create;
	__typeof__(pcre2_match_data_free_8) *match_data_free;
	__typeof__(pcre2_pattern_info_8) *pattern_info;
	__typeof__(pcre2_match_context_create_8) *match_context_create;
	__typeof__(pcre2_match_context_free_8) *match_context_free;
	__typeof__(pcre2_jit_stack_create_8) *jit_stack_create;
	__typeof__(pcre2_jit_stack_free_8) *jit_stack_free;
	__typeof__(pcre2_jit_stack_assign_8) *jit_stack_assign;
	__typeof__(pcre2_set_callout_8) *set_callout;
} gp_pcre2_fns;
extern gp_pcre2_fns gp_pcre2;

/* Loads PCRE2 once; 0, or -ENOENT with a message in *err (malloc'd). */
int gp_dl_pcre2(char **err);
/* Whether gp_dl_pcre2() has succeeded (it is not tried here). */
bool gp_dl_pcre2_loaded(void);

#ifdef MEMLENS_HAVE_VECTORSCAN
typedef struct gp_hs_fns {
	__typeof__(hs_alloc_scratch) *alloc_scratch;
	__typeof__(hs_close_stream) *close_stream;
	__typeof__(hs_compile) *compile;
	__typeof__(hs_compile_multi) *compile_multi;
	__typeof__(hs_free_compile_error) *free_compile_error;
	__typeof__(hs_free_database) *free_database;
	__typeof__(hs_free_scratch) *free_scratch;
	__typeof__(hs_open_stream) *open_stream;
	__typeof__(hs_reset_stream) *reset_stream;
	__typeof__(hs_scan_stream) *scan_stream;
} gp_hs_fns;
extern gp_hs_fns gp_hs;

/* Loads Vectorscan once; 0, or -ENOENT with a message in *err (malloc'd). */
int gp_dl_hs(char **err);
#endif

#ifdef GP_DL_REDIRECT
#define pcre2_compile_8 (*gp_pcre2.compile)
#define pcre2_code_free_8 (*gp_pcre2.code_free)
#define pcre2_get_error_message_8 (*gp_pcre2.get_error_message)
#define pcre2_get_ovector_pointer_8 (*gp_pcre2.get_ovector_pointer)
#define pcre2_jit_compile_8 (*gp_pcre2.jit_compile)
#define pcre2_match_8 (*gp_pcre2.match)
#define pcre2_match_data_create_8 (*gp_pcre2.match_data_create)
#define pcre2_match_data_free_8 (*gp_pcre2.match_data_free)
#define pcre2_pattern_info_8 (*gp_pcre2.pattern_info)
#define pcre2_match_context_create_8 (*gp_pcre2.match_context_create)
#define pcre2_match_context_free_8 (*gp_pcre2.match_context_free)
#define pcre2_jit_stack_create_8 (*gp_pcre2.jit_stack_create)
#define pcre2_jit_stack_free_8 (*gp_pcre2.jit_stack_free)
#define pcre2_jit_stack_assign_8 (*gp_pcre2.jit_stack_assign)
#define pcre2_set_callout_8 (*gp_pcre2.set_callout)
#ifdef MEMLENS_HAVE_VECTORSCAN
#define hs_alloc_scratch (*gp_hs.alloc_scratch)
#define hs_close_stream (*gp_hs.close_stream)
#define hs_compile (*gp_hs.compile)
#define hs_compile_multi (*gp_hs.compile_multi)
#define hs_free_compile_error (*gp_hs.free_compile_error)
#define hs_free_database (*gp_hs.free_database)
#define hs_free_scratch (*gp_hs.free_scratch)
#define hs_open_stream (*gp_hs.open_stream)
#define hs_reset_stream (*gp_hs.reset_stream)
#define hs_scan_stream (*gp_hs.scan_stream)
#endif
#endif

#endif
