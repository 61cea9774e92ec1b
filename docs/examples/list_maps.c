/* Example: list the mappings of a process (default: this one) with their resident and
 * proportional sizes, joining maps records with smaps accounting. Build:
 *     cc list_maps.c $(pkg-config --cflags --libs memlens) -o list_maps */
#include <stdio.h>
#include <stdlib.h>

#include <memlens/memlens.h>

int main(int argc, char **argv)
{
	ml_proc *p;
	int r = argc > 1 ? ml_proc_open((pid_t)atoi(argv[1]), &p) : ml_proc_self(&p);
	if (r < 0) {
		fprintf(stderr, "list_maps: %s\n", ml_strerror(r));
		return 2;
	}
	ml_maps *m = NULL;
	ml_smaps *s = NULL;
	ml_smaps_rollup *roll = NULL;
	if ((r = ml_maps_read(p, ML_MAPS_AUTO, &m)) < 0 || (r = ml_smaps_read(p, &s)) < 0 ||
	    (r = ml_smaps_rollup_read(p, &roll)) < 0) {
		fprintf(stderr, "list_maps: pid %d: %s\n", (int)ml_proc_pid(p), ml_strerror(r));
		ml_maps_free(m);
		ml_smaps_free(s);
		ml_proc_free(p);
		return 2;
	}
	uint64_t rss = 0;
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		const ml_vma *v = ml_maps_get(m, i);
		/* maps and smaps are separate reads: join on the exact range */
		const ml_smaps_vma *sv = ml_smaps_match(s, v);
		char perms[5];
		printf("%012llx-%012llx %s %-10s %8llu %8llu %s%s\n", (unsigned long long)v->start,
		       (unsigned long long)v->end, ml_vma_perms_str(v->perms, perms), ml_vma_kind_name(v->kind),
		       sv ? (unsigned long long)sv->f.rss : 0ull, sv ? (unsigned long long)sv->f.pss : 0ull,
		       v->name, v->deleted ? " (deleted)" : "");
		rss += sv ? sv->f.rss : 0;
	}
	printf("%zu mappings (origin %s), Rss %llu bytes; smaps_rollup: Rss %llu, Pss %llu, USS %llu\n",
	       ml_maps_count(m), ml_maps_origin(m) == ML_MAPS_PROCMAP_QUERY ? "PROCMAP_QUERY" : "text",
	       (unsigned long long)rss, (unsigned long long)roll->f.rss, (unsigned long long)roll->f.pss,
	       (unsigned long long)ml_smaps_uss(&roll->f));
	ml_smaps_rollup_free(roll);
	ml_smaps_free(s);
	ml_maps_free(m);
	ml_proc_free(p);
	return 0;
}
