/* memlens grep: search the memory of processes and snapshots for literals, hex patterns and regexes. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grep/command.h"

int cmd_grep(int argc, char **argv);
int cmd_grep(int argc, char **argv)
{
	gopts o = { 0 };
	int first, rc = CLI_EXIT_ERROR;
	gp_set *set = NULL;
	int r = cli_parse(&grep_cmd, argc, argv, grep_on_opt, &o, &first);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	progress_init(&grep_progress, "grep", false);
	for (size_t i = 0; i < o.nfiles; i++)
		if (grep_read_pattern_file(&o, o.pattern_files[i]) < 0)
			goto out;
	int ai = first;
	if (!o.npats && o.nfiles == 0) {
		if (ai >= argc) {
			rc = cli_usage_error(&grep_cmd, "no pattern given");
			goto out;
		}
		if (grep_add_pattern(&o, GP_LITERAL, argv[ai], strlen(argv[ai])) < 0)
			goto out;
		ai++;
	}
	if (!o.npats) {
		rc = cli_usage_error(&grep_cmd, "no pattern given (the pattern files are empty)");
		goto out;
	}
	size_t nsrc = (size_t)(argc - ai);
	if (!nsrc && !o.npids && !o.all) {
		rc = cli_usage_error(&grep_cmd, "no PID or snapshot given");
		goto out;
	}
	if (o.raw && (o.npids || o.all)) {
		rc = cli_usage_error(&grep_cmd, "--raw takes files, not PIDs");
		goto out;
	}
	if (o.redact && o.ctx) {
		rc = cli_usage_error(&grep_cmd, "--redact and -C cannot be combined (context shows bytes)");
		goto out;
	}
	if (o.regex && o.so.enc & GP_ENC_UTF16LE) {
		rc = cli_usage_error(&grep_cmd, "--encoding applies to literals, not to regexes (-E)");
		goto out;
	}
	if (!o.jobs) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o.jobs = n > 0 ? (unsigned)(n > 64 ? 64 : n) : 1;
	}
	set = gp_set_new(&o.so);
	if (!set)
		goto out;
	for (size_t i = 0; i < o.npats; i++) {
		char *err = NULL;
		gp_kind k = o.pats[i].kind == GP_HEX ? GP_HEX : o.regex ? GP_REGEX : GP_LITERAL;
		r = gp_set_add(set, k, o.pats[i].text, o.pats[i].len, &err);
		if (r < 0) {
			if (r == -ENOMEM)
				fprintf(stderr, "memlens grep: out of memory\n");
			else if (r == -ENOENT) /* a search library could not be loaded */
				fprintf(stderr, "memlens grep: %s\n", err ? err : ml_strerror(r));
			else
				rc = cli_usage_error(&grep_cmd, "%s", err ? err : "bad pattern");
			free(err);
			goto out;
		}
	}
	{
		char *err = NULL;
		r = gp_set_compile(set, &err);
		if (r < 0) {
			fprintf(stderr, "memlens grep: %s\n", err ? err : ml_strerror(r));
			free(err);
			goto out;
		}
	}
	bool matched = false, error = false, usage = false, damaged = false;
	atomic_bool stop = false;
	for (int i = ai; i < argc && !atomic_load(&stop); i++) {
		int x = grep_source(&o, set, argv[i], 0, false, &stop);
		matched |= x == CLI_EXIT_OK;
		error |= x == CLI_EXIT_ERROR;
		usage |= x == CLI_EXIT_USAGE;
		damaged |= x == GREP_DAMAGED;
	}
	for (size_t i = 0; i < o.npids && !atomic_load(&stop); i++) {
		int x = grep_source(&o, set, NULL, o.pids[i], false, &stop);
		matched |= x == CLI_EXIT_OK;
		error |= x == CLI_EXIT_ERROR;
		damaged |= x == GREP_DAMAGED;
	}
	if (o.all) {
		ML_OPTS(ml_procs_opts, po);
		ml_procs *it = NULL;
		size_t denied = 0, searched = 0, gone = 0;
		r = ml_procs_open(&po, &it);
		if (r < 0)
			fprintf(stderr, "memlens grep: --all: cannot list /proc: %s\n", ml_strerror(r));
		const ml_procs_entry *e;
		while (it && !atomic_load(&stop) && (r = ml_procs_next(it, &e)) == 1) {
			pid_t pid = e->pid;
			ml_source *probe;
			r = ml_source_open_pid(pid, &probe);
			if (r == 0) {
				ml_maps *m = NULL;
				r = ml_source_maps(probe, &m);
				ml_maps_free(m);
				ml_source_free(probe);
			}
			if (r == -EACCES || r == -EPERM) {
				denied++;
				fprintf(stderr, "memlens grep: pid %d: skipped: %s\n", (int)pid, ml_strerror(r));
				continue;
			}
			if (r < 0) {
				gone++;
				continue;
			}
			int x = grep_source(&o, set, NULL, pid, true, &stop);
			matched |= x == CLI_EXIT_OK;
			searched += x != CLI_EXIT_ERROR;
		}
		if (r < 0 && it)
			fprintf(stderr, "memlens grep: --all: cannot list /proc: %s\n", ml_strerror(r));
		ml_procs_stats ps = ml_procs_get_stats(it);
		/* those the listing could not even examine (another user's under hidepid=1) */
		for (size_t i = 0; it && i < ps.denied; i++) {
			const ml_procs_denied *d = ml_procs_get_denied(it, i);
			fprintf(stderr, "memlens grep: pid %d: skipped: %s%s\n", (int)d->pid, ml_strerror(d->err),
				d->dir_denied ? " (/proc is mounted with hidepid)" : "");
			denied++;
		}
		ml_procs_free(it);
		size_t kthreads = ps.kthreads;
		gone += ps.gone;
		if (o.stats || denied)
			fprintf(stderr, "memlens grep: --all: %zu kernel threads skipped, %zu processes denied, %zu exited before the scan\n",
				kthreads, denied, gone);
		if (!searched && !atomic_load(&stop)) {
			/* nothing was read: that is not "no match" */
			fprintf(stderr, "memlens grep: --all: no process could be searched\n");
			error = true;
		}
	}
	if (usage)
		rc = CLI_EXIT_USAGE;
	else if (error && !(o.quiet && matched))
		rc = CLI_EXIT_ERROR;
	else if (damaged)
		rc = CLI_EXIT_PARTIAL;
	else
		rc = matched ? CLI_EXIT_OK : CLI_EXIT_PARTIAL;
out:
	gp_set_free(set);
	for (size_t i = 0; i < o.npats; i++)
		free(o.pats[i].text);
	free(o.pats);
	free(o.pattern_files);
	free(o.pids);
	return rc;
}
