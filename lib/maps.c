/* maps: placeholder until the maps reader lands (ml_maps_read is called by the live source). */
#include "internal/internal.h"
#include <memlens/maps.h>

int ml_maps_read(const ml_proc *p, ml_maps_source how, ml_maps **ret)
{
	(void)p; (void)how; (void)ret;
	return -EOPNOTSUPP;
}
