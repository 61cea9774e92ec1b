/* Fuzz target: ml_io_parse and ml_schedstat_parse. */
#include <stdint.h>

#include <memlens/io.h>
#include <memlens/schedstat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ml_io io;
	ml_schedstat ss;
	(void)ml_io_parse((const char *)data, size, &io);
	(void)ml_schedstat_parse((const char *)data, size, &ss);
	return 0;
}
