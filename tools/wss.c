/* memlens wss: working-set size over measured windows: one shot, repeated, cumulative, profile, per region. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/prom.h"
#include "common/select.h"
#include "wss/wss.h"

enum {
	OPT_JSON = 256, OPT_CSV, OPT_BYTES, OPT_NO_FLUSH, OPT_PROBE, OPT_RESET_PEAK, OPT_FILE_ONLY, OPT_PROM, OPT_TEXTFILE,
	OPT_TOP, OPT_SVG,
};

static const cli_opt wss_opts[] = {
	{ "interval", 'i', 1, "DUR", "window length: 250ms, 1s, 1.5s, 2m (default 1s)" },
	{ "count", 'n', 1, "N", "windows (-C, -P: reads); 0 = until interrupted (default 1; -C 0; -P 8)" },
	{ "cumulative", 'C', 0, NULL, "one clear, then read every interval: growth since the clear" },
	{ "profile", 'P', 0, NULL, "one clear, reads after 1, 2, 4, 8... intervals: WSS vs window" },
	{ "pids", 'p', 1, "PID,PID", "measure several processes over the same window" },
	{ "backend", 'b', 1, "NAME", "referenced, idle or soft-dirty (default: best available)" },
	{ "anon-only", 'a', 0, NULL, "anonymous mappings only (clear_refs 2): ignores page-cache use by others" },
	{ "file-only", OPT_FILE_ONLY, 0, NULL, "file-backed mappings only, shmem included (clear_refs 3)" },
	{ "regions", 'r', 0, NULL, "break WSS down per mapping and per kind" },
	{ "top", OPT_TOP, 1, "N", "with --regions: show the N mappings with the largest WSS" },
	{ "json", OPT_JSON, 0, NULL, "JSON Lines, one record per process and sample (schema memlens.wss/1)" },
	{ "csv", OPT_CSV, 0, NULL, "CSV, one row per process and sample" },
	{ "prometheus", OPT_PROM, 0, NULL, "one window, written in the Prometheus text format (gauges per process)" },
	{ "textfile", OPT_TEXTFILE, 1, "FILE", "with --prometheus: write FILE atomically (node_exporter's textfile collector)" },
	{ "bytes", OPT_BYTES, 0, NULL, "exact byte counts instead of human units" },
	{ "svg", OPT_SVG, 1, "FILE", "also draw WSS and RSS over time into FILE (SVG; with --regions, the mappings' WSS too)" },
	{ "force", 'f', 0, NULL, "replace an existing regular --svg file (never a symlink, directory, device or FIFO)" },
	{ "no-flush", OPT_NO_FLUSH, 0, NULL, "do not flush the TLB after the clear (shows the undercount)" },
	{ "probe", OPT_PROBE, 0, NULL, "list the backends this kernel offers, and why others are unavailable" },
	{ "reset-peak", OPT_RESET_PEAK, 0, NULL, "reset the peak RSS (VmHWM) to the current RSS (clear_refs 5)" },
	SEL_OPT_PGREP,
	SEL_OPT_FULL_LONG, /* -f is --force, as in every command that writes a file */
	SEL_OPT_ALL,
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const cli_cmd wss_cmd = {
	"wss", "[options] PID | NAME | -p PID,PID... | --pgrep REGEX [-f] | --all | --probe [PID] | --reset-peak PID",
	"Working-set size: the memory a process touches within a window. Clears the kernel's\n"
	"accessed state (this changes the target's page-table bits, which cannot be undone,\n"
	"and costs it a TLB flush), waits, then reads what was touched since. Reports RSS, PSS\n"
	"and WSS (anonymous, file, total; THP share), the real window and what the\n"
	"measurement cost. See memlens-wss(1) for the method and its caveats.",
	wss_opts, 0, 1,
};

volatile sig_atomic_t wss_interrupted;
static void on_signal(int sig) { (void)sig; wss_interrupted = 1; }

static int add_pid(opts *o, const char *s)
{
	pid_t pid;
	if (!cli_parse_pid(s, &pid))
		return cli_usage_error(&wss_cmd, "'%s' is not a PID", s), -1;
	for (size_t i = 0; i < o->nt; i++)
		if (o->t[i].pid == pid)
			return 0;
	target *n = realloc(o->t, (o->nt + 1) * sizeof(*n));
	if (!n)
		return cli_usage_error(&wss_cmd, "out of memory"), -1;
	o->t = n;
	o->t[o->nt++] = (target){ .pid = pid };
	return 0;
}

static int parse_long(const char *s, long *ret)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -1;
	*ret = v;
	return 0;
}

static int on_opt(int key, const char *arg, void *ctx)
{
	opts *o = ctx;
	if (key == SEL_O_PGREP || key == SEL_O_FULL || key == SEL_O_ALL)
		return sel_opt(&o->sel, &wss_cmd, key, arg) < 0 ? -1 : 0;
	switch (key) {
	case 'i':
		if (!cli_parse_duration(arg, &o->interval) || o->interval == 0)
			return cli_usage_error(&wss_cmd, "bad interval '%s'", arg), -1;
		return 0;
	case 'n':
		if (parse_long(arg, &o->count) < 0)
			return cli_usage_error(&wss_cmd, "bad count '%s'", arg), -1;
		o->count_set = true;
		return 0;
	case 'C':
	case 'P': {
		enum mode m = key == 'C' ? MODE_CUMULATIVE : MODE_PROFILE;
		if (o->mode != MODE_ONESHOT && o->mode != m)
			return cli_usage_error(&wss_cmd, "-C and -P exclude each other"), -1;
		o->mode = m;
		return 0;
	}
	case 'p': {
		char *dup = strdup(arg), *save = NULL;
		if (!dup)
			return -1;
		int r = 0;
		for (char *s = strtok_r(dup, ",", &save); s && r == 0; s = strtok_r(NULL, ",", &save))
			r = add_pid(o, s);
		free(dup);
		return r;
	}
	case 'b': {
		int b = ml_wss_backend_parse(arg);
		if (b < 0)
			return cli_usage_error(&wss_cmd, "unknown backend '%s' (referenced, idle, soft-dirty)", arg), -1;
		o->backend = (ml_wss_backend)b;
		return 0;
	}
	case 'a':
	case OPT_FILE_ONLY: {
		ml_wss_scope s = key == 'a' ? ML_WSS_SCOPE_ANON : ML_WSS_SCOPE_FILE;
		if (o->scope != ML_WSS_SCOPE_ALL && o->scope != s)
			return cli_usage_error(&wss_cmd, "--anon-only and --file-only exclude each other"), -1;
		o->scope = s;
		return 0;
	}
	case 'r': o->regions = true; return 0;
	case OPT_TOP:
		if (parse_long(arg, &o->top) < 0 || o->top == 0)
			return cli_usage_error(&wss_cmd, "bad --top '%s'", arg), -1;
		return 0;
	case OPT_JSON: o->json = true; return 0;
	case OPT_SVG:
		if (!*arg || !strcmp(arg, "-"))
			return cli_usage_error(&wss_cmd, "--svg needs a file name"), -1;
		o->svg = arg;
		return 0;
	case 'f': o->force = true; return 0;
	case OPT_CSV: o->csv = true; return 0;
	case OPT_PROM: o->prom = true; return 0;
	case OPT_TEXTFILE: o->textfile = arg; o->prom = true; return 0;
	case OPT_BYTES: o->bytes = true; return 0;
	case OPT_NO_FLUSH: o->flush = ML_WSS_FLUSH_NEVER; return 0;
	case OPT_PROBE: o->probe = true; return 0;
	case OPT_RESET_PEAK: o->reset_peak = true; return 0;
	}
	return -1;
}

int cmd_wss(int argc, char **argv);
int cmd_wss(int argc, char **argv)
{
	opts o = { .interval = 1000000000ull, .count = 1, .backend = ML_WSS_AUTO };
	int first;
	int pr = cli_parse(&wss_cmd, argc, argv, on_opt, &o, &first);
	int rc = CLI_EXIT_OK;
	if (pr != 0) {
		free(o.t);
		return pr > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	pid_t one;
	if (first < argc && cli_parse_pid(argv[first], &one) && !o.sel.pgrep && !o.sel.all) {
		if (add_pid(&o, argv[first]) < 0) {
			free(o.t);
			return CLI_EXIT_USAGE;
		}
	} else if (first < argc || o.sel.pgrep || o.sel.all || o.sel.full) {
		/* a NAME, --pgrep or --all: resolved to PIDs now (a path names no process here) */
		if (o.nt) {
			free(o.t);
			return cli_usage_error(&wss_cmd, "give one of a PID or NAME, -p, --pgrep and --all");
		}
		const char *spec = first < argc ? argv[first] : NULL;
		if (spec && strchr(spec, '/')) {
			free(o.t);
			return cli_usage_error(&wss_cmd, "'%s' is not a PID or a process name (wss measures live processes)", spec);
		}
		sel_list l;
		int sr = sel_resolve(&o.sel, &wss_cmd, spec, o.probe || o.reset_peak, &l);
		if (sr == 0 && l.file) {
			sel_list_free(&l);
			free(o.t);
			return cli_usage_error(&wss_cmd, "'%s' is a file; wss measures live processes", spec);
		}
		for (size_t i = 0; sr == 0 && i < l.n; i++) {
			char pid[16];
			if (add_pid(&o, sel_pidstr(&l.procs[i], pid)) < 0)
				sr = CLI_EXIT_USAGE;
		}
		sel_list_free(&l);
		if (sr) {
			free(o.t);
			return sr;
		}
	}
	o.human = !o.bytes && cli_stdout_tty();
	if (o.prom && (o.json || o.csv || o.regions || o.mode != MODE_ONESHOT || (o.count_set && o.count != 1) || o.probe || o.reset_peak)) {
		free(o.t);
		return cli_usage_error(&wss_cmd, "--prometheus writes one window of totals: not with --json, --csv, --regions, -n, -C, -P, --probe or --reset-peak");
	}
	if (o.textfile && prom_textfile_check(o.textfile)) {
		free(o.t);
		return CLI_EXIT_ERROR;
	}
	if (o.json && o.csv) {
		free(o.t);
		return cli_usage_error(&wss_cmd, "--json and --csv exclude each other");
	}
	if (o.mode == MODE_ONESHOT && o.count_set && o.count != 1)
		o.mode = MODE_REPEAT;
	if (o.top && !o.regions) {
		free(o.t);
		return cli_usage_error(&wss_cmd, "--top needs --regions");
	}
	if (!o.probe && o.nt == 0) {
		free(o.t);
		return cli_usage_error(&wss_cmd, "missing PID");
	}
	if (o.svg && (o.probe || o.reset_peak)) {
		free(o.t);
		return cli_usage_error(&wss_cmd, "--svg draws measured windows; it does not go with --probe or --reset-peak");
	}
	if (o.svg && (rc = cli_output_check(o.svg, o.force))) {
		free(o.t);
		return rc;
	}
	if ((o.probe || o.reset_peak) && o.nt > 1) {
		free(o.t);
		return cli_usage_error(&wss_cmd, "--probe and --reset-peak take one PID");
	}
	for (size_t i = 0; i < o.nt; i++) {
		int r = ml_proc_open(o.t[i].pid, &o.t[i].p);
		if (r < 0) {
			cli_pid_error(o.t[i].pid, "cannot open", r);
			o.t[i].dead = true;
			continue;
		}
		wss_read_comm(&o.t[i]);
	}
	if (o.probe) {
		rc = (o.nt && o.t[0].dead) ? CLI_EXIT_ERROR : wss_probe(&o, o.nt ? o.t[0].p : NULL);
	} else if (o.reset_peak) {
		rc = o.t[0].dead ? CLI_EXIT_ERROR : wss_reset_peak(&o, &o.t[0]);
	} else if (wss_alive_count(&o) == 0) {
		rc = CLI_EXIT_ERROR;
	} else {
		struct sigaction sa = { .sa_handler = on_signal };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = wss_measure(&o);
		if (o.svg && rc != CLI_EXIT_ERROR) {
			int r = wss_svg_write(&o);
			if (r)
				rc = r;
		}
	}
	for (size_t i = 0; i < o.nt; i++) {
		ml_wss_free(o.t[i].w);
		ml_proc_free(o.t[i].p);
		wss_svg_free(&o.t[i]);
	}
	wss_prom_free();
	free(o.t);
	return rc;
}
