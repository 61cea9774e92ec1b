/* Fuzz target: the one-value parsers (procint, autogroup, coredump_filter, personality, ksm_stat). */
#include <stdint.h>
#include <stdlib.h>

#include <memlens/procinfo.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	int64_t i;
	ml_autogroup ag;
	ml_coredump_filter cf;
	uint32_t per;
	ml_ksm_stat k;
	(void)ml_procinfo_int_parse(b, size, &i);
	if (ml_autogroup_parse(b, size, &ag) == 0 && (ag.nice < -20 || ag.nice > 19))
		abort();
	if (ml_coredump_filter_parse(b, size, &cf) == 0 && !cf.set && cf.mask)
		abort();
	(void)ml_personality_parse(b, size, &per);
	if (ml_ksm_stat_parse(b, size, &k) == 0 && k.present >= 64)
		abort();
	return 0;
}
