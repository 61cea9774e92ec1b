/* Fuzz target: ml_status_parse on arbitrary bytes; every borrowed span must lie in the record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/status.h>

static volatile unsigned sink;

static void touch(ml_bstr b)
{
	for (size_t i = 0; i < b.len; i++)
		sink += (unsigned char)b.ptr[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ml_status *s;
	if (ml_status_parse((const char *)data, size, &s) < 0)
		return 0;
	for (size_t i = 0; i < s->name_len; i++)
		sink += (unsigned char)s->name[i];
	if (s->name && s->name[s->name_len] != '\0')
		abort();
	touch(s->state_desc);
	touch(s->cpus_allowed);
	touch(s->cpus_allowed_list);
	touch(s->mems_allowed);
	touch(s->spec_store_bypass);
	for (size_t i = 0; i < s->n_groups; i++)
		sink += s->groups[i];
	for (size_t i = 0; i < s->n_ns; i++)
		sink += (unsigned)(s->ns_tgid[i] + s->ns_pid[i] + s->ns_pgid[i] + s->ns_sid[i]);
	for (size_t i = 0; i < s->n_extra; i++) {
		touch(s->extra[i].name);
		touch(s->extra[i].value);
	}
	ml_status_free(s);
	return 0;
}
