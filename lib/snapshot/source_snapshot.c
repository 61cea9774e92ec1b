/* The snapshot backend of ml_source (replaced by the snapshot reader). */
#include "internal/internal.h"
#include "internal/source_impl.h"

int ml__snapshot_source_open(const char *path, ml_source **ret)
{
	(void)path;
	(void)ret;
	return -EOPNOTSUPP;
}
