/* memlens pagemap: per-mapping page-state breakdown, and a run-length page listing of one range. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/select.h"
#include "pagemap/pagemap.h"

int cmd_pagemap(int argc, char **argv);

enum { OPT_JSON = 256, OPT_BYTES, OPT_ADDR, OPT_NOKPAGE, OPT_EMULATE, OPT_POPULATED, OPT_PAGES, OPT_SVG,
       OPT_SVG_AXIS, OPT_SORT };

static const cli_opt opts[] = {
	{ "json", OPT_JSON, 0, NULL, "one JSON document (schema memlens.pagemap/1)" },
	{ "bytes", OPT_BYTES, 0, NULL, "exact byte counts, also on a terminal" },
	{ "pages", OPT_PAGES, 0, NULL, "counts in pages instead of sizes" },
	{ "addr", OPT_ADDR, 1, "A-B", "list the page runs of [A, B) (hex), like page-types -l" },
	{ "populated", OPT_POPULATED, 0, NULL, "only mappings with present or swapped pages" },
	{ "sort", 's', 1, "KEY", "order rows by a column, largest first (present, swapped, zero, thp, file, mapped, ...; data, unpopulated, excluded for a snapshot) or addr" },
	{ "reverse", 'r', 0, NULL, "reverse the order (smallest first; with addr, highest address first)" },
	{ "no-kpage", OPT_NOKPAGE, 0, NULL, "do not read /proc/kpageflags and kpagecount (root)" },
	{ "emulate", OPT_EMULATE, 0, NULL, "find pages with plain pagemap reads, not PAGEMAP_SCAN" },
	SEL_OPT_PID,
	SEL_OPT_PGREP,
	SEL_OPT_FULL_LONG, /* -f is --force, as in every command that writes a file */
	SEL_OPT_ALL,
	{ "svg", OPT_SVG, 1, "FILE", "also draw the address space as a map into FILE (SVG)" },
	{ "svg-axis", OPT_SVG_AXIS, 1, "AXIS", "folded (default: mappings to scale, gaps folded) or log (box width by log2 of size)" },
	{ "force", 'f', 0, NULL, "replace an existing regular --svg file (never a symlink, directory, device or FIFO)" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

const cli_cmd pagemap_cmd = {
	.name = "pagemap",
	.usage = "[options] <PID | NAME | snapshot>\n       memlens pagemap [options] -p PID,... | --pgrep REGEX [-f] | --all",
	.summary = "Counts, per mapping, the pages that are present, swapped, mapped to the zero page, "
		   "in transparent huge pages, file-backed, exclusive, soft-dirty and uffd write-protected; "
		   "as root also KSM, dirty, LRU, active, referenced, idle and shared pages from "
		   "/proc/kpageflags and /proc/kpagecount. Nothing is faulted in. With --addr, lists the "
		   "runs of pages of one range with their flags and PFNs. For a snapshot, counts pages "
		   "by what the snapshot holds (data, zero, unpopulated, excluded, unreadable).",
	.opts = opts,
	.min_args = 0,
	.max_args = -1,
};
static int on_opt(int key, const char *arg, void *ctx)
{
	args *a = ctx;
	if (key == 'f') { /* --force here; --full is long-only (select.c takes -f as --full) */
		a->force = true;
		return 0;
	}
	int sr = sel_opt(&a->sel, &pagemap_cmd, key, arg);
	if (sr)
		return sr < 0 ? -1 : 0;
	switch (key) {
	case OPT_JSON: a->json = true; break;
	case OPT_BYTES: a->bytes = true; break;
	case OPT_PAGES: a->pages = true; break;
	case OPT_POPULATED: a->populated = true; break;
	case OPT_NOKPAGE: a->nokpage = true; break;
	case OPT_EMULATE: a->emulate = true; break;
	case 'f': a->force = true; break;
	case 's': a->sort = arg; break;
	case 'r': a->reverse = true; break;
	case OPT_SVG:
		if (!*arg || !strcmp(arg, "-")) {
			cli_usage_error(&pagemap_cmd, "--svg needs a file name");
			return -1;
		}
		a->svg = arg;
		break;
	case OPT_SVG_AXIS:
		if (strcmp(arg, "folded") && strcmp(arg, "log")) {
			cli_usage_error(&pagemap_cmd, "--svg-axis must be folded or log, not '%s'", arg);
			return -1;
		}
		a->svg_log = !strcmp(arg, "log");
		break;
	case OPT_ADDR:
		if (!cli_parse_range(arg, &a->lo, &a->hi) || a->hi <= a->lo) {
			cli_usage_error(&pagemap_cmd, "bad range '%s' (want A-B, hex, A < B)", arg);
			return -1;
		}
		a->have_addr = true;
		break;
	default: return -1;
	}
	return 0;
}

static int pagemap_one(args a, const char *spec)
{
	pagemap_ctx c = { 0 };
	c.a = a;
	int r;
	pid_t pid = 0;
	if (c.a.svg && c.a.have_addr)
		return cli_usage_error(&pagemap_cmd, "--svg draws the whole address space; it does not go with --addr");
	if (c.a.svg && (r = cli_output_check(c.a.svg, c.a.force)))
		return r;
	r = cli_source_open(spec, &c.src);
	if (r)
		return r;
	pid = ml_source_pid(c.src);
	c.proc = ml_source_proc(c.src);
	int rc;
	if (c.proc) {
		r = ml_pagemap_open(c.proc, &c.pm);
		if (r < 0) {
			rc = cli_pid_error(pid, "cannot open pagemap", r);
			goto out;
		}
		c.scan_cats = ml_pagemap_scan_categories(c.pm, c.a.emulate || !ml_pagemap_has_scan(c.pm));
		if (!c.a.nokpage && ml_pagemap_pfn_visible(c.pm)) {
			r = ml_kpage_open(ML_KPAGE_FLAGS | ML_KPAGE_COUNT, &c.kp);
			if (r < 0) {
				cli_warn("no physical page flags: /proc/kpageflags: %s", ml_strerror(r));
				c.kp = NULL;
			}
		}
		c.ent = malloc(ENTRY_CHUNK * 8);
		c.reg = malloc(REGIONS * sizeof(*c.reg));
		if (c.kp || c.a.have_addr) {
			c.pfn = malloc(KPAGE_BATCH * 8);
			c.kf = malloc(KPAGE_BATCH * 8);
			c.kc = malloc(KPAGE_BATCH * 8);
			c.owner = malloc(KPAGE_BATCH * sizeof(*c.owner));
		}
		if (!c.ent || !c.reg || ((c.kp || c.a.have_addr) && (!c.pfn || !c.kf || !c.kc || !c.owner))) {
			rc = cli_pid_error(pid, "pagemap", -ENOMEM);
			goto out;
		}
	} else if (c.a.have_addr) {
		rc = cli_usage_error(&pagemap_cmd, "--addr needs a live process (a snapshot keeps no page flags)");
		goto out;
	}
	rc = c.a.have_addr ? pagemap_list_range(&c) : pagemap_report(&c, spec);
out:
	free(c.ent);
	free(c.pfn);
	free(c.kf);
	free(c.kc);
	free(c.owner);
	free(c.reg);
	ml_kpage_free(c.kp);
	ml_pagemap_free(c.pm);
	if (rc == CLI_EXIT_OK && c.src && ml_source_partial(c.src))
		rc = CLI_EXIT_PARTIAL; /* an incomplete core: said when opened */
	ml_source_free(c.src);
	return rc;
}

static int pagemap_one_cb(void *argp, const char *spec) { return pagemap_one(*(const args *)argp, spec); }

int cmd_pagemap(int argc, char **argv)
{
	args a = { 0 };
	int first;
	int pr = cli_parse(&pagemap_cmd, argc, argv, on_opt, &a, &first);
	if (pr != 0) {
		sel_free(&a.sel);
		return pr > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	return sel_run(&a.sel, &pagemap_cmd, argc, argv, first, a.json, pagemap_one_cb, &a);
}
