/* Fuzz target: ml_limits_parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/limits.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ml_limits l;
	if (ml_limits_parse((const char *)data, size, &l) == 0)
		for (int i = 0; i < ML_LIMIT_COUNT; i++)
			if (strlen(l.lim[i].units) >= sizeof(l.lim[i].units))
				abort();
	return 0;
}
