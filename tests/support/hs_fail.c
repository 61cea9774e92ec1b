/* A stand-in for Vectorscan's library whose scans fail: every call goes to the real library
 * (ML_REAL_HS, loaded by its path) except hs_scan_stream(), which returns HS_UNKNOWN_ERROR.
 * memlens grep loads it by the SONAME through LD_LIBRARY_PATH, to show what it makes of a
 * search that fails (tests/cli/grep.sh). */
#include <hs/hs.h>

#include "shim_real.h"

static void *real(const char *name) { return shim_real(ML_REAL_HS, "hs_fail", name); }

FWD(hs_error_t, hs_alloc_scratch, (const hs_database_t *db, hs_scratch_t **scratch), (db, scratch))
FWD(hs_error_t, hs_close_stream, (hs_stream_t *id, hs_scratch_t *scratch, match_event_handler onEvent, void *ctxt),
    (id, scratch, onEvent, ctxt))
FWD(hs_error_t, hs_compile, (const char *expression, unsigned int flags, unsigned int mode,
			     const hs_platform_info_t *platform, hs_database_t **db, hs_compile_error_t **error),
    (expression, flags, mode, platform, db, error))
FWD(hs_error_t, hs_compile_multi, (const char *const *expressions, const unsigned int *flags, const unsigned int *ids,
				   unsigned int elements, unsigned int mode, const hs_platform_info_t *platform,
				   hs_database_t **db, hs_compile_error_t **error),
    (expressions, flags, ids, elements, mode, platform, db, error))
FWD(hs_error_t, hs_free_compile_error, (hs_compile_error_t *error), (error))
FWD(hs_error_t, hs_free_database, (hs_database_t *db), (db))
FWD(hs_error_t, hs_free_scratch, (hs_scratch_t *scratch), (scratch))
FWD(hs_error_t, hs_open_stream, (const hs_database_t *db, unsigned int flags, hs_stream_t **stream), (db, flags, stream))
FWD(hs_error_t, hs_reset_stream, (hs_stream_t *id, unsigned int flags, hs_scratch_t *scratch,
				  match_event_handler onEvent, void *context),
    (id, flags, scratch, onEvent, context))

VIS hs_error_t hs_scan_stream(hs_stream_t *id, const char *data, unsigned int length, unsigned int flags,
			      hs_scratch_t *scratch, match_event_handler onEvent, void *ctxt)
{
	(void)id, (void)data, (void)length, (void)flags, (void)scratch, (void)onEvent, (void)ctxt;
	return HS_UNKNOWN_ERROR;
}
