/* Fuzz target: /proc/PID/cgroup text, cgroup value files and namespace link text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	ml_cgroups *cg;
	if (ml_cgroups_parse(buf, size, &cg) == 0) {
		static const char mounts[] =
			"1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
			"2 0 0:2 /a /c rw - cgroup cgroup rw,memory,name=x\n";
		ml_mountinfo *mi = NULL;
		if (ml_mountinfo_parse(mounts, sizeof(mounts) - 1, &mi) != 0)
			__builtin_trap();
		for (size_t i = 0; i < ml_cgroups_count(cg); i++) {
			const ml_cgroup *c = ml_cgroups_get(cg, i);
			size_t n = c->path_len + strlen(c->controllers);
			for (size_t j = 0; j < c->nnames; j++)
				n += strlen(c->names[j]);
			for (size_t j = 0; j < c->path_len; j++)
				n += (unsigned char)c->path[j];
			if (c->path[c->path_len] != '\0')
				__builtin_trap();
			char *dir;
			size_t dl;
			if (ml_cgroup_dir(c, mi, &dir, &dl) == 0) {
				if (strlen(dir) > dl)
					__builtin_trap();
				free(dir);
			}
			sink += n;
		}
		ml_mountinfo_free(mi);
		ml_cgroups_free(cg);
	}
	uint64_t v;
	if (ml_cgroup_value_parse(buf, size, &v) == 0)
		sink += v;
	if (ml_cgroup_keyed_parse(buf, size, "oom_kill", &v) == 0)
		sink += v;
	size_t tl;
	if (ml_ns_parse_link(buf, size, &tl, &v) == 0 && tl >= size)
		__builtin_trap();
	return 0;
}
