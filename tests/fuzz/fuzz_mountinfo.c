/* Fuzz target: mountinfo (first byte even) or mountstats (odd) text. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

static volatile size_t sink;

static void touch(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink += (unsigned char)s[i];
	if (s[n] != '\0')
		__builtin_trap();
}

static void mountinfo(const char *buf, size_t size)
{
	ml_mountinfo *mi;
	if (ml_mountinfo_parse(buf, size, &mi) != 0)
		return;
	for (size_t i = 0; i < ml_mountinfo_count(mi); i++) {
		const ml_mount *m = ml_mountinfo_get(mi, i);
		touch(m->root, m->root_len);
		touch(m->mount_point, m->mount_point_len);
		touch(m->fs_type, m->fs_type_len);
		touch(m->source, m->source_len);
		sink += strlen(m->options) + strlen(m->super_options);
		for (size_t j = 0; j < m->nopts; j++) {
			touch(m->opts[j].name, m->opts[j].name_len);
			if (m->opts[j].value)
				touch(m->opts[j].value, m->opts[j].value_len);
		}
		for (size_t j = 0; j < m->nsuper_opts; j++)
			touch(m->super_opts[j].name, m->super_opts[j].name_len);
		for (size_t j = 0; j < m->ntags; j++)
			sink += strlen(m->tags[j].tag) + (m->tags[j].value ? strlen(m->tags[j].value) : 0);
		if (ml_mountinfo_find_path(mi, m->mount_point, m->mount_point_len) == NULL)
			__builtin_trap();
	}
	ml_mountinfo_free(mi);
}

static void mountstats(const char *buf, size_t size)
{
	ml_mountstats *ms;
	if (ml_mountstats_parse(buf, size, &ms) != 0)
		return;
	for (size_t i = 0; i < ml_mountstats_count(ms); i++) {
		const ml_mountstats_mount *m = ml_mountstats_get(ms, i);
		if (m->device)
			touch(m->device, m->device_len);
		touch(m->mount_point, m->mount_point_len);
		touch(m->fs_type, m->fs_type_len);
		for (size_t j = 0; j < m->nfields; j++) {
			touch(m->fields[j].value, m->fields[j].value_len);
			sink += strlen(m->fields[j].name);
			for (size_t k = 0; k < m->fields[j].nnumbers; k++)
				sink += m->fields[j].numbers[k];
		}
		for (size_t j = 0; j < m->nops; j++) {
			sink += strlen(m->ops[j].name);
			for (size_t k = 0; k < m->ops[j].nvalues; k++)
				sink += m->ops[j].values[k];
			ml_nfs_op op;
			if (ml_mountstats_nfs_op(&m->ops[j], &op) == 0 && op.has_errors != (m->ops[j].nvalues > 8))
				abort();
		}
		ml_nfs_stats ns;
		int r = ml_mountstats_nfs(m, &ns);
		if (r == 0 && ns.nevents > ML_NFS_EVENTS)
			abort();
		if (r == -ENOENT && (m->nfields || m->nops))
			abort();
	}
	ml_mountstats_free(ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		mountstats((const char *)data + 1, size - 1);
	else
		mountinfo((const char *)data + 1, size - 1);
	return 0;
}
