/* memlens info: the first screen for a memory investigation of one process (or snapshot). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/json.h"
#include "common/select.h"
#include "info/info.h"
#include "info/show.h"

int cmd_info(int argc, char **argv);

enum { OPT_JSON = 256, OPT_BYTES, OPT_HUMAN, OPT_NO_THREADS, OPT_SHOW };

static const cli_opt opts[] = {
	{ "json", OPT_JSON, 0, NULL, "print one JSON document (schema memlens.info/1) with every field" },
	{ "bytes", OPT_BYTES, 0, NULL, "print sizes as exact byte counts (default when not a terminal)" },
	{ "human", OPT_HUMAN, 0, NULL, "print sizes in binary units (default on a terminal)" },
	{ "no-threads", OPT_NO_THREADS, 0, NULL, "do not list threads in JSON (count only)" },
	{ "show", OPT_SHOW, 1, "LIST", "show these procfs Process methods instead (status,fd,net.tcp,...; all; help)" },
	SEL_OPT_PID,
	SEL_OPT_PGREP,
	SEL_OPT_FULL,
	SEL_OPT_ALL,
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const cli_cmd cmd = {
	.name = "info",
	.usage = "[options] <PID | NAME | snapshot>\n       memlens info [options] -p PID,... | --pgrep REGEX [-f] | --all",
	.summary = "Shows what a memory investigation needs first about one process: command line,\n"
		   "executable, user, state, threads, descriptors, RSS/PSS/USS/swap (smaps_rollup),\n"
		   "peak RSS, the limits that bound memory, coredump_filter, OOM score, cgroup memory\n"
		   "limit and namespaces. On a snapshot, what the snapshot saved is shown.\n"
		   "Exit status: 0 everything read, 1 some fields unreadable (named on stderr and in\n"
		   "JSON \"errors\"), 2 the process or snapshot could not be read at all.",
	.opts = opts,
	.min_args = 0,
	.max_args = -1,
};

typedef struct args {
	bool json, human, no_threads;
	const char *show;
	int human_set;
	selection sel;
} args;

static int on_opt(int key, const char *arg, void *ctx)
{
	args *a = ctx;
	int sr = sel_opt(&a->sel, &cmd, key, arg);
	if (sr)
		return sr < 0 ? -1 : 0;
	switch (key) {
	case OPT_JSON: a->json = true; break;
	case OPT_BYTES: a->human = false; a->human_set = 1; break;
	case OPT_HUMAN: a->human = true; a->human_set = 1; break;
	case OPT_NO_THREADS: a->no_threads = true; break;
	case OPT_SHOW:
		if (!strcmp(arg, "help")) {
			info_show_names();
			exit(CLI_EXIT_OK);
		}
		if (info_show_check(arg) < 0)
			return -1;
		a->show = arg;
		break;
	default: return -1;
	}
	return 0;
}

/* How many errors from @i on name parts of one file ("stat.start_code", "stat.end_code")
 * refused for the same cause. */
static size_t same_cause(const info *in, size_t i)
{
	const char *w = in->errs[i].what, *dot = strchr(w, '.');
	size_t n = 1;
	if (!dot)
		return n;
	while (i + n < in->nerrs && in->errs[i + n].err == in->errs[i].err &&
	       !strncmp(in->errs[i + n].what, w, (size_t)(dot - w) + 1))
		n++;
	return n;
}

static int info_one(args a, const char *spec)
{
	ml_source *s;
	int r = cli_source_open(spec, &s);
	if (r)
		return r;
	if (a.show) {
		r = info_show(spec, s, a.show, a.json, a.human);
		ml_source_free(s);
		return r;
	}
	info in;
	memset(&in, 0, sizeof(in));
	in.pid = ml_source_pid(s);
	in.live = ml_source_get_type(s) == ML_SOURCE_LIVE;
	in.proc = ml_source_proc(s);
	in.nfds = -1;

	info_read_status(&in, s);
	ml_core_info *ci;
	if (!in.status && !in.live && in.nerrs && in.errs[0].err == -ENOENT && ml_source_core_info(s, &ci) == 0) {
		/* a core file without saved /proc files: its notes */
		info_print_core(ci, a.json, !a.no_threads);
		ml_core_info_free(ci);
		int rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
		if (ml_source_partial(s) && rc == CLI_EXIT_OK)
			rc = CLI_EXIT_PARTIAL; /* said when opened */
		info_free(&in);
		ml_source_free(s);
		return rc;
	}
	if (!in.status) {
		int err = in.nerrs ? in.errs[0].err : -EIO;
		ml_source_free(s);
		if (!in.live && err == -ENOENT) {
			fprintf(stderr, "memlens: %s: no saved /proc files in it%s: info needs a PID or a snapshot "
				"written by 'memlens dump'\n", spec,
				cli_is_gzip(spec) ? " (a gzip core export keeps memory and notes only)" : "");
			return CLI_EXIT_ERROR;
		}
		return in.live ? cli_pid_error(in.pid, "cannot read status", err)
			      : cli_file_error(spec, "cannot read the saved status", err);
	}
	info_read_stat(&in, s);
	info_read_cmdline(&in, s);
	if (in.live)
		info_read_live(&in, a.json && !a.no_threads);
	info_read_rollup(&in, s);
	info_read_limits(&in, s);
	info_read_coredump(&in, s);
	info_read_oom(&in, s);
	info_read_ksm(&in, s);
	info_read_cgroup(&in, s);
	if (in.live)
		info_read_namespaces(&in);
	/* state Z with other threads running is a process whose main thread has exited */
	bool zombie = in.status->state == 'Z' && !info_main_exited(in.status);
	/* The process may have exited while we read: then nothing above can be trusted. */
	if (in.live && ml_proc_check(in.proc) == -ESRCH && !zombie) {
		info_free(&in);
		ml_source_free(s);
		return cli_pid_error(in.pid, "process exited while being read", -ESRCH);
	}
	if (a.json)
		info_print_json(&in, !a.no_threads);
	else
		info_print_text(&in, a.human);
	int rc = CLI_EXIT_OK;
	if (zombie) {
		/* Everything tied to the address space is gone: one line says why, not five. */
		fprintf(stderr, "memlens: pid %d: a zombie (exited; parent %d has not reaped it): "
				"only what the kernel keeps is shown\n", (int)in.pid, (int)in.status->ppid);
		rc = CLI_EXIT_PARTIAL;
	}
	for (size_t i = 0, n; i < in.nerrs; i += n) {
		n = same_cause(&in, i);
		if (zombie && in.errs[i].err == -ESRCH)
			continue;
		/* parts of one file refused alike share a line: "stat.start_code, end_code" */
		char what[512];
		const char *dot = strchr(in.errs[i].what, '.');
		size_t pl = dot ? (size_t)(dot - in.errs[i].what) + 1 : 0;
		int k = snprintf(what, sizeof(what), "cannot read %s", in.errs[i].what);
		for (size_t m = 1; m < n && k > 0 && (size_t)k < sizeof(what); m++)
			k += snprintf(what + k, sizeof(what) - (size_t)k, ", %s", in.errs[i + m].what + pl);
		if (in.live)
			cli_pid_error(in.pid, what, in.errs[i].err);
		else
			cli_file_error(spec, what, in.errs[i].err);
		rc = CLI_EXIT_PARTIAL;
	}
	info_free(&in);
	ml_source_free(s);
	return rc;
}

static int info_one_cb(void *argp, const char *spec) { return info_one(*(const args *)argp, spec); }

int cmd_info(int argc, char **argv)
{
	args a = { .human = cli_stdout_tty() };
	int first;
	int pr = cli_parse(&cmd, argc, argv, on_opt, &a, &first);
	if (pr != 0) {
		sel_free(&a.sel);
		return pr > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	return sel_run(&a.sel, &cmd, argc, argv, first, a.json, info_one_cb, &a);
}
