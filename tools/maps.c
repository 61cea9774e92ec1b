/* memlens maps: one row per mapping with its smaps accounting, sorted and filtered, with totals. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/json.h"
#include "common/select.h"
#include "common/table.h"

enum {
	OPT_SORT = 256,
	OPT_KIND,
	OPT_PERM,
	OPT_ADDR,
	OPT_NAME,
	OPT_ROLLUP,
	OPT_JSON,
	OPT_BYTES,
	OPT_TOP,
};

static const cli_opt opts[] = {
	{ "extended", 'x', 0, NULL, "show every smaps field, THPeligible, ProtectionKey and VmFlags" },
	{ "sort", 's', 1, "KEY", "order rows by rss, pss, swap or size (largest first) or addr" },
	{ "reverse", 'r', 0, NULL, "reverse the order (smallest first; with addr, highest address first)" },
	{ "top", OPT_TOP, 1, "N", "only the first N rows of the order (by rss unless --sort says otherwise); totals are theirs" },
	{ "kind", OPT_KIND, 1, "KINDS", "only these kinds (comma list): anon file heap stack vdso vvar "
					"vsyscall anon-named shmem sysv memfd other" },
	{ "perm", OPT_PERM, 1, "PERMS", "only mappings with all these permissions: r w x, s (shared) or p (private)" },
	{ "addr", OPT_ADDR, 1, "A-B", "only mappings overlapping the hex range [A, B)" },
	{ "name", OPT_NAME, 1, "GLOB", "only mappings whose name, or its last path component, matches GLOB ('[heap]' and '[anon]' literally)" },
	{ "rollup", OPT_ROLLUP, 0, NULL, "print the whole-process totals of smaps_rollup instead" },
	{ "json", OPT_JSON, 0, NULL, "write one JSON document (schema memlens.maps/1)" },
	{ "bytes", OPT_BYTES, 0, NULL, "exact sizes in bytes (the default when not on a terminal)" },
	SEL_OPT_PID,
	SEL_OPT_PGREP,
	SEL_OPT_FULL,
	SEL_OPT_ALL,
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const cli_cmd cmd = {
	.name = "maps",
	.usage = "[options] <PID | NAME | snapshot>\n       memlens maps [options] -p PID,... | --pgrep REGEX [-f] | --all",
	.summary = "List the mappings of a process (or a snapshot) with their size, resident, proportional, "
		   "dirty and swapped memory from smaps, and a totals row; like pmap -X.",
	.opts = opts,
	.min_args = 0,
	.max_args = -1,
};

typedef enum { SORT_ADDR, SORT_RSS, SORT_PSS, SORT_SWAP, SORT_SIZE } sort_key;

typedef struct args {
	bool extended, rollup, json, bytes;
	sort_key sort;
	bool sort_set, reverse;
	unsigned long top;
	unsigned kinds; /* bit per ml_vma_kind; 0 = all */
	uint32_t perm_need, perm_not;
	bool have_addr;
	uint64_t addr_lo, addr_hi;
	const char *name_glob;
	selection sel;
} args;

static int on_opt(int key, const char *arg, void *ctx)
{
	args *a = ctx;
	int sr = sel_opt(&a->sel, &cmd, key, arg);
	if (sr)
		return sr < 0 ? -1 : 0;
	switch (key) {
	case 'x':
		a->extended = true;
		return 0;
	case 's':
		if (!strcmp(arg, "rss"))
			a->sort = SORT_RSS;
		else if (!strcmp(arg, "pss"))
			a->sort = SORT_PSS;
		else if (!strcmp(arg, "swap"))
			a->sort = SORT_SWAP;
		else if (!strcmp(arg, "size"))
			a->sort = SORT_SIZE;
		else if (!strcmp(arg, "addr"))
			a->sort = SORT_ADDR;
		else
			return cli_usage_error(&cmd, "--sort: unknown key '%s' (rss, pss, swap, size, addr)", arg), -1;
		a->sort_set = true;
		return 0;
	case 'r':
		a->reverse = true;
		return 0;
	case OPT_TOP: {
		char *end;
		errno = 0;
		unsigned long v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || v == 0 || *arg == '-')
			return cli_usage_error(&cmd, "--top: expected a positive number of rows, got '%s'", arg), -1;
		a->top = v;
		return 0;
	}
	case OPT_KIND: {
		char *dup = strdup(arg), *save = NULL;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			int k;
			for (k = 0; k < ML_VMA_KIND_COUNT; k++)
				if (!strcmp(t, ml_vma_kind_name((ml_vma_kind)k)))
					break;
			if (k == ML_VMA_KIND_COUNT) {
				cli_usage_error(&cmd, "--kind: unknown kind '%s'", t);
				free(dup);
				return -1;
			}
			a->kinds |= 1u << k;
		}
		free(dup);
		return 0;
	}
	case OPT_PERM:
		for (const char *c = arg; *c; c++) {
			switch (*c) {
			case 'r': a->perm_need |= ML_PERM_READ; break;
			case 'w': a->perm_need |= ML_PERM_WRITE; break;
			case 'x': a->perm_need |= ML_PERM_EXEC; break;
			case 's': a->perm_need |= ML_PERM_SHARED; break;
			case 'p': a->perm_not |= ML_PERM_SHARED; break;
			case '-': break;
			default:
				return cli_usage_error(&cmd, "--perm: unknown permission '%c' (r, w, x, s, p)", *c), -1;
			}
		}
		return 0;
	case OPT_ADDR:
		if (!cli_parse_range(arg, &a->addr_lo, &a->addr_hi) || a->addr_hi <= a->addr_lo)
			return cli_usage_error(&cmd, "--addr: expected a hex range A-B with A < B, got '%s'", arg), -1;
		a->have_addr = true;
		return 0;
	case OPT_NAME:
		a->name_glob = arg;
		return 0;
	case OPT_ROLLUP:
		a->rollup = true;
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_BYTES:
		a->bytes = true;
		return 0;
	}
	return -1;
}

/* snake_case JSON keys of the smaps fields, in ml_smaps_field order */
static const char *const json_keys[ML_SMAPS_NFIELDS] = {
	"size", "kernel_page_size", "mmu_page_size", "rss", "pss", "pss_dirty", "pss_anon", "pss_file",
	"pss_shmem", "shared_clean", "shared_dirty", "private_clean", "private_dirty", "referenced",
	"anonymous", "ksm", "lazyfree", "anon_huge_pages", "shmem_pmd_mapped", "file_pmd_mapped",
	"shared_hugetlb", "private_hugetlb", "swap", "swap_pss", "locked",
};

/* A shown row: a mapping and, when smaps had it, its accounting. */
typedef struct row {
	const ml_vma *v;
	const ml_smaps_vma *s;
} row;

static uint64_t field(const row *r, ml_smaps_field f) { return r->s ? r->s->f.v[f] : 0; }
static uint64_t dirty(const row *r) { return field(r, ML_SMAPS_SHARED_DIRTY) + field(r, ML_SMAPS_PRIVATE_DIRTY); }

static sort_key g_sort;

static int row_cmp(const void *pa, const void *pb)
{
	const row *a = pa, *b = pb;
	uint64_t x = 0, y = 0;
	switch (g_sort) {
	case SORT_RSS: x = field(a, ML_SMAPS_RSS); y = field(b, ML_SMAPS_RSS); break;
	case SORT_PSS: x = field(a, ML_SMAPS_PSS); y = field(b, ML_SMAPS_PSS); break;
	case SORT_SWAP: x = field(a, ML_SMAPS_SWAP); y = field(b, ML_SMAPS_SWAP); break;
	case SORT_SIZE: x = a->v->end - a->v->start; y = b->v->end - b->v->start; break;
	case SORT_ADDR: break;
	}
	if (x != y)
		return x > y ? -1 : 1;
	return a->v->start < b->v->start ? -1 : a->v->start > b->v->start;
}

static bool shown(const args *a, const ml_vma *v)
{
	if (a->kinds && !(a->kinds & (1u << v->kind)))
		return false;
	if ((v->perms & a->perm_need) != a->perm_need || (v->perms & a->perm_not))
		return false;
	if (a->have_addr && (v->end <= a->addr_lo || v->start >= a->addr_hi))
		return false;
	if (a->name_glob && !cli_name_match(a->name_glob, v->name, v->name_len))
		return false;
	return true;
}

/* The name as a terminal shows it: escaped so nothing is lost, with the kernel's suffix. */
static char *display_name(const ml_vma *v)
{
	/* the common case, plain printable ASCII, needs no escaping */
	bool plain = true;
	for (size_t i = 0; i < v->name_len && plain; i++)
		plain = v->name[i] >= 0x20 && v->name[i] < 0x7f && v->name[i] != '\\';
	plain = plain && !v->name_uncertain;
	if (plain) {
		/* an empty name is "[anon]", as every table names it */
		const char *nm = v->name_len ? v->name : "[anon]";
		size_t n = v->name_len ? v->name_len : 6, extra = v->deleted ? 10 : 0;
		char *s = malloc(n + extra + 1);
		if (!s)
			return NULL;
		memcpy(s, nm, n);
		memcpy(s + n, " (deleted)", extra);
		s[n + extra] = '\0';
		return s;
	}
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	if (!f)
		return NULL;
	if (v->name_len)
		cli_put_escaped(f, v->name, v->name_len);
	else
		fputs("[anon]", f); /* as every table names it */
	if (v->deleted)
		fputs(" (deleted)", f);
	if (v->name_uncertain) /* each \n may have been the four bytes \012: say so */
		fputs(" (name uncertain)", f);
	fclose(f);
	return s;
}

static void json_fields(json_writer *j, const ml_smaps_fields *f)
{
	for (unsigned k = 0; k < ML_SMAPS_NFIELDS; k++)
		if (f->present & (1ull << k))
			JSON_KU64(j, json_keys[k], f->v[k]);
}

static void json_extras(json_writer *j, const ml_smaps_extra *x, size_t n)
{
	if (!n)
		return;
	json_key(j, "extra");
	json_obj_begin(j);
	for (size_t i = 0; i < n; i++) {
		json_key(j, x[i].key);
		if (x[i].numeric)
			json_u64(j, x[i].bytes);
		else
			json_str(j, x[i].value, x[i].value_len);
	}
	json_obj_end(j);
}

static int print_rollup(const args *a, ml_source *src, pid_t pid, const char *spec)
{
	ml_smaps_rollup *r = NULL;
	bool summed;
	const ml_proc *p = ml_source_proc(src);
	int err = ml_source_read_rollup(src, &r, &summed);
	if (err < 0) {
		if (p && err == -ESRCH)
			return cli_pid_error(pid, "cannot read smaps_rollup", err);
		return p ? cli_pid_error(pid, "cannot read smaps_rollup", err)
			 : cli_file_error(spec, "cannot read smaps_rollup", err);
	}
	if (a->json) {
		json_writer j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		JSON_KSTR(&j, "schema", "memlens.maps/1");
		JSON_KI64(&j, "pid", pid);
		JSON_KSTR(&j, "source", p ? "live" : "snapshot");
		if (summed)
			JSON_KBOOL(&j, "summed_from_smaps", true);
		json_key(&j, "rollup");
		json_obj_begin(&j);
		JSON_KADDR(&j, "start", r->start);
		JSON_KADDR(&j, "end", r->end);
		json_fields(&j, &r->f);
		JSON_KU64(&j, "uss", ml_smaps_uss(&r->f));
		json_extras(&j, r->extra, r->n_extra);
		json_obj_end(&j);
		json_obj_end(&j);
		fputc('\n', stdout);
	} else {
		bool human = !a->bytes && cli_stdout_tty();
		static const char *const hdr[] = { "Field", "Value" };
		static const bool right[] = { false, true };
		table *t = table_new(2, hdr, right);
		char b[32], range[80];
		snprintf(range, sizeof(range), "%llx-%llx", (unsigned long long)r->start, (unsigned long long)r->end);
		table_add(t, (const char *const[]){ "Range", range });
		for (unsigned k = 0; k < ML_SMAPS_NFIELDS; k++)
			if (r->f.present & (1ull << k))
				table_add(t, (const char *const[]){ ml_smaps_field_name((ml_smaps_field)k),
								       cli_fmt_size(b, r->f.v[k], human) });
		table_add(t, (const char *const[]){ "USS", cli_fmt_size(b, ml_smaps_uss(&r->f), human) });
		for (size_t i = 0; i < r->n_extra; i++)
			table_add(t, (const char *const[]){ r->extra[i].key,
							       r->extra[i].numeric ? cli_fmt_size(b, r->extra[i].bytes, human)
										   : r->extra[i].value });
		table_print(t, stdout);
		table_free(t);
		if (summed)
			printf("(summed from the snapshot's smaps: it holds no smaps_rollup)\n");
	}
	ml_smaps_rollup_free(r);
	return CLI_EXIT_OK;
}

/* "%02x:%02x" */
static void fmt_dev(char *b, unsigned major, unsigned minor)
{
	size_t k = 0;
	if (major < 16)
		b[k++] = '0';
	k += cli_fmt_hex(b + k, major);
	b[k++] = ':';
	if (minor < 16)
		b[k++] = '0';
	cli_fmt_hex(b + k, minor);
}

static int print_table(const args *a, row *rows, size_t n, const ml_smaps *sm)
{
	bool human = !a->bytes && cli_stdout_tty();
	/* columns: the maps fields, then the smaps fields, then the name last */
	const char *hdr[48];
	bool right[48];
	int fcol[48]; /* smaps field index per column, or -1 */
	size_t nc = 0;
	static const char *const fixed[] = { "Address", "Perm", "Offset", "Device", "Inode" };
	for (size_t i = 0; i < 5; i++) {
		hdr[nc] = fixed[i];
		right[nc] = i >= 2;
		fcol[nc++] = -1;
	}
	uint64_t present = 0;
	for (size_t i = 0; sm && i < ml_smaps_count(sm); i++)
		present |= ml_smaps_get(sm, i)->f.present;
	enum { C_DIRTY = 100, C_THP, C_PKEY, C_FLAGS };
	if (a->extended) {
		for (unsigned k = 0; k < ML_SMAPS_NFIELDS; k++)
			if (present & (1ull << k)) {
				hdr[nc] = ml_smaps_field_name((ml_smaps_field)k);
				right[nc] = true;
				fcol[nc++] = (int)k;
			}
		hdr[nc] = "THP";
		right[nc] = true;
		fcol[nc++] = C_THP;
		hdr[nc] = "PKey";
		right[nc] = true;
		fcol[nc++] = C_PKEY;
		hdr[nc] = "VmFlags";
		right[nc] = false;
		fcol[nc++] = C_FLAGS;
	} else {
		static const struct { const char *h; int f; } cols[] = {
			{ "Size", ML_SMAPS_SIZE }, { "Rss", ML_SMAPS_RSS }, { "Pss", ML_SMAPS_PSS },
			{ "Dirty", C_DIRTY },      { "Swap", ML_SMAPS_SWAP },
		};
		for (size_t i = 0; i < 5; i++) {
			hdr[nc] = cols[i].h;
			right[nc] = true;
			fcol[nc++] = cols[i].f;
		}
	}
	hdr[nc] = "Name";
	right[nc] = false;
	fcol[nc++] = -1;
	table *t = table_new(nc, hdr, right);
	if (!t)
		return -ENOMEM;
	uint64_t tot[48] = { 0 };
	char cells[48][64];
	const char *cp[48];
	for (size_t i = 0; i < n; i++) {
		const ml_vma *v = rows[i].v;
		const ml_smaps_vma *s = rows[i].s;
		size_t k = cli_fmt_hex(cells[0], v->start);
		cells[0][k++] = '-';
		cli_fmt_hex(cells[0] + k, v->end);
		ml_vma_perms_str(v->perms, cells[1]);
		cli_fmt_hex(cells[2], v->offset);
		fmt_dev(cells[3], v->dev_major, v->dev_minor);
		cli_fmt_dec(cells[4], v->inode);
		char *flags = NULL;
		for (size_t c = 5; c < nc - 1; c++) {
			int f = fcol[c];
			uint64_t val;
			if (f == C_THP || f == C_PKEY) {
				int iv = !s ? -1 : f == C_THP ? s->thp_eligible : s->protection_key;
				snprintf(cells[c], 64, iv < 0 ? "-" : "%d", iv);
				continue;
			}
			if (f == C_FLAGS) {
				cells[c][0] = '\0';
				flags = s ? strdup(s->vm_flags_raw) : NULL;
				continue;
			}
			if (f == ML_SMAPS_SIZE && !s)
				val = v->end - v->start;
			else if (!s) {
				snprintf(cells[c], 64, "-");
				continue;
			} else
				val = f == C_DIRTY ? dirty(&rows[i]) : s->f.v[f];
			tot[c] += val;
			cli_fmt_size(cells[c], val, human);
		}
		for (size_t c = 0; c < nc - 1; c++)
			cp[c] = fcol[c] == C_FLAGS ? flags : cells[c];
		char *name = display_name(v);
		cp[nc - 1] = name ? name : "";
		table_add(t, cp);
		free(name);
		free(flags);
	}
	table_rule(t);
	for (size_t c = 0; c < nc; c++) {
		cells[c][0] = '\0';
		cp[c] = cells[c];
		int f = fcol[c];
		if (c >= 5 && c < nc - 1 && f != C_THP && f != C_PKEY && f != C_FLAGS &&
		    f != ML_SMAPS_KERNEL_PAGE_SIZE && f != ML_SMAPS_MMU_PAGE_SIZE)
			cli_fmt_size(cells[c], tot[c], human);
	}
	snprintf(cells[0], 64, "total");
	snprintf(cells[nc - 1], 64, "%zu mapping%s", n, n == 1 ? "" : "s");
	table_add(t, cp);
	table_print(t, stdout);
	table_free(t);
	return 0;
}

static void print_json(row *rows, size_t n, pid_t pid, bool live, const ml_maps *m)
{
	json_writer j;
	json_init(&j, stdout);
	json_obj_begin(&j);
	JSON_KSTR(&j, "schema", "memlens.maps/1");
	JSON_KI64(&j, "pid", pid);
	JSON_KSTR(&j, "source", live ? "live" : "snapshot");
	JSON_KSTR(&j, "maps_origin", ml_maps_origin(m) == ML_MAPS_PROCMAP_QUERY ? "procmap_query" : "text");
	json_key(&j, "mappings");
	json_arr_begin(&j);
	ml_smaps_fields tot;
	memset(&tot, 0, sizeof(tot));
	for (size_t i = 0; i < n; i++) {
		const ml_vma *v = rows[i].v;
		const ml_smaps_vma *s = rows[i].s;
		char pb[5];
		json_obj_begin(&j);
		JSON_KADDR(&j, "start", v->start);
		JSON_KADDR(&j, "end", v->end);
		JSON_KSTR(&j, "perms", ml_vma_perms_str(v->perms, pb));
		JSON_KU64(&j, "offset", v->offset);
		char dev[24];
		snprintf(dev, sizeof(dev), "%02x:%02x", v->dev_major, v->dev_minor);
		JSON_KSTR(&j, "dev", dev);
		JSON_KU64(&j, "inode", v->inode);
		JSON_KSTR(&j, "kind", ml_vma_kind_name(v->kind));
		json_key(&j, "name");
		json_str(&j, v->name, v->name_len);
		JSON_KBOOL(&j, "deleted", v->deleted);
		if (v->name_uncertain)
			JSON_KBOOL(&j, "name_uncertain", true);
		if (v->build_id_len) {
			char hx[65];
			for (unsigned b = 0; b < v->build_id_len; b++)
				snprintf(hx + 2 * b, 3, "%02x", v->build_id[b]);
			JSON_KSTR(&j, "build_id", hx);
		}
		if (s) {
			json_fields(&j, &s->f);
			if (s->thp_eligible >= 0)
				JSON_KI64(&j, "thp_eligible", s->thp_eligible);
			if (s->protection_key >= 0)
				JSON_KI64(&j, "protection_key", s->protection_key);
			if (s->has_vm_flags) {
				json_key(&j, "vm_flags");
				json_str(&j, s->vm_flags_raw, s->vm_flags_raw_len);
			}
			json_extras(&j, s->extra, s->n_extra);
			for (unsigned k = 0; k < ML_SMAPS_NFIELDS; k++)
				tot.v[k] += s->f.v[k];
			tot.present |= s->f.present;
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "totals");
	json_obj_begin(&j);
	JSON_KU64(&j, "mappings", n);
	tot.present &= ~((1ull << ML_SMAPS_KERNEL_PAGE_SIZE) | (1ull << ML_SMAPS_MMU_PAGE_SIZE));
	json_fields(&j, &tot);
	json_obj_end(&j);
	json_obj_end(&j);
	fputc('\n', stdout);
}

static int maps_one(args a, const char *spec)
{
	pid_t pid;
	ml_source *src;
	int err = cli_source_open(spec, &src);
	if (err)
		return err;
	pid = ml_source_pid(src);
	bool live = ml_source_get_type(src) == ML_SOURCE_LIVE;
	if (a.rollup) {
		int rc = print_rollup(&a, src, pid, spec);
		ml_source_free(src);
		return rc;
	}
	/*
	 * The table of a live process needs nothing beyond smaps: its header lines are the
	 * maps text of the same moment. The mappings are read separately (text, and
	 * PROCMAP_QUERY for file mappings) only for what smaps cannot say: build IDs (JSON),
	 * and names that plain text leaves ambiguous ("\012", " (deleted)"), which the
	 * maps reader settles through map_files/ and the target's root.
	 */
	int rc = CLI_EXIT_OK;
	ml_smaps *sm = NULL;
	char *buf = NULL;
	size_t len = 0;
	if (live) {
		err = ml_smaps_read(ml_source_proc(src), &sm); /* parsed as it is read */
	} else {
		err = ml_source_read_file(src, "smaps", &buf, &len);
		if (err == 0) {
			err = ml_smaps_parse(buf, len, &sm);
			free(buf);
		}
	}
	if (err == -ESRCH && live) {
		ml_source_free(src);
		return cli_pid_error(pid, "cannot read smaps", err);
	}
	bool smaps_only = live && err == 0 && !a.json;
	for (size_t i = 0; smaps_only && i < ml_smaps_count(sm); i++) {
		const ml_vma *v = &ml_smaps_get(sm, i)->vma;
		smaps_only = !(v->kind == ML_VMA_FILE && v->inode && (v->name_uncertain || v->deleted));
	}
	ml_maps *m = NULL;
	if (!smaps_only) {
		int merr = ml_source_maps(src, &m);
		if (merr < 0) {
			int mrc = !live ? cli_file_error(spec, "cannot read mappings", merr)
			       : cli_pid_error(pid, "cannot read mappings", merr);
			ml_smaps_free(sm);
			ml_source_free(src);
			return mrc;
		}
	}
	if (err < 0) {
		/* the mappings alone are still worth showing; say what is missing (an ELF core
		 * never has smaps: nothing is missing there) */
		bool core_no_smaps = err == -ENOENT && ml_source_get_type(src) == ML_SOURCE_CORE;
		if (core_no_smaps)
			;
		else if (live)
			cli_pid_error(pid, "cannot read smaps (sizes only)", err);
		else if (err == -ENOENT)
			cli_warn("%s: no smaps saved in it%s: sizes only", spec,
				 cli_is_gzip(spec) ? " (a gzip core export keeps memory and notes only)" : "");
		else
			cli_file_error(spec, "cannot read its saved smaps (sizes only)", err);
		if (!core_no_smaps)
			rc = CLI_EXIT_PARTIAL;
	}
	size_t n = m ? ml_maps_count(m) : ml_smaps_count(sm), nr = 0;
	row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		ml_smaps_free(sm);
		ml_maps_free(m);
		ml_source_free(src);
		return cli_pid_error(pid, "listing mappings", -ENOMEM);
	}
	for (size_t i = 0; i < n; i++) {
		if (!m) {
			const ml_smaps_vma *s = ml_smaps_get(sm, i);
			if (shown(&a, &s->vma))
				rows[nr++] = (row){ &s->vma, s };
			continue;
		}
		const ml_vma *v = ml_maps_get(m, i);
		if (!shown(&a, v))
			continue;
		/* maps and smaps are two reads: join only records describing the same range */
		rows[nr++] = (row){ v, ml_smaps_match(sm, v) };
	}
	if (a.top && !a.sort_set)
		a.sort = SORT_RSS; /* the top N of what? of resident memory, as top(1) */
	g_sort = a.sort;
	if (a.sort != SORT_ADDR)
		qsort(rows, nr, sizeof(*rows), row_cmp);
	for (size_t i = 0; a.reverse && i < nr / 2; i++) {
		row tmp = rows[i];
		rows[i] = rows[nr - 1 - i];
		rows[nr - 1 - i] = tmp;
	}
	if (a.top && nr > a.top)
		nr = a.top;
	if (a.json)
		print_json(rows, nr, pid, live, m);
	else if (print_table(&a, rows, nr, sm) < 0)
		rc = CLI_EXIT_ERROR;
	if (fflush(stdout) != 0)
		rc = CLI_EXIT_ERROR;
	free(rows);
	ml_smaps_free(sm);
	ml_maps_free(m);
	if (rc == CLI_EXIT_OK && ml_source_partial(src))
		rc = CLI_EXIT_PARTIAL; /* an incomplete core: said when opened */
	ml_source_free(src);
	if (rc == CLI_EXIT_OK && nr == 0 && (a.kinds || a.perm_need || a.perm_not || a.have_addr || a.name_glob))
		return CLI_EXIT_PARTIAL; /* a filter matched nothing */
	return rc;
}

static int maps_one_cb(void *argp, const char *spec) { return maps_one(*(const args *)argp, spec); }

int cmd_maps(int argc, char **argv);
int cmd_maps(int argc, char **argv)
{
	args a = { 0 };
	int first;
	int pr = cli_parse(&cmd, argc, argv, on_opt, &a, &first);
	if (pr != 0) {
		sel_free(&a.sel);
		return pr > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	return sel_run(&a.sel, &cmd, argc, argv, first, a.json, maps_one_cb, &a);
}
