/* Fuzz target: ml_stat_parse and ml_statm_parse on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/stat.h>
#include <memlens/statm.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ml_stat st;
	if (ml_stat_parse((const char *)data, size, &st) == 0) {
		if (st.comm_len > ML_STAT_COMM_MAX || st.comm[st.comm_len] != '\0' || st.nfields > 52 ||
		    st.nfields < 24)
			abort();
	}
	ml_statm m;
	(void)ml_statm_parse((const char *)data, size, &m);
	return 0;
}
