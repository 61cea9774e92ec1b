/* Process selection: NAME, -p, --pgrep [-f], --all, resolved through the library's process iterator. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "common/select.h"

int sel_opt(selection *s, const cli_cmd *cmd, int key, const char *arg)
{
	switch (key) {
	case 'p':
	case SEL_O_PID: {
		char *copy = strdup(arg), *save = NULL;
		if (!copy)
			return cli_usage_error(cmd, "out of memory"), -1;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			pid_t pid;
			if (!cli_parse_pid(t, &pid)) {
				cli_usage_error(cmd, "-p: '%s' is not a PID", t);
				free(copy);
				return -1;
			}
			bool dup = false;
			for (size_t i = 0; i < s->npids && !dup; i++)
				dup = s->pids[i] == pid;
			if (dup)
				continue;
			pid_t *n = realloc(s->pids, (s->npids + 1) * sizeof(*n));
			if (!n) {
				free(copy);
				return cli_usage_error(cmd, "out of memory"), -1;
			}
			s->pids = n;
			s->pids[s->npids++] = pid;
		}
		free(copy);
		return 1;
	}
	case SEL_O_PGREP:
		s->pgrep = arg;
		return 1;
	case 'f':
	case SEL_O_FULL:
		s->full = true;
		return 1;
	case SEL_O_ALL:
		s->all = true;
		return 1;
	default:
		return 0;
	}
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int add(sel_list *l, pid_t pid, const char *comm, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->procs[i].pid == pid)
			return 0;
	sel_proc *n = realloc(l->procs, (l->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	l->procs = n;
	sel_proc *p = &n[l->n++];
	p->pid = pid;
	p->comm[0] = '\0';
	if (comm) {
		char *buf = NULL;
		size_t sz = 0;
		FILE *f = open_memstream(&buf, &sz);
		if (f) {
			cli_put_escaped(f, comm, len);
			fclose(f);
			snprintf(p->comm, sizeof(p->comm), "%s", buf ? buf : "");
			free(buf);
		}
	}
	return 0;
}

/*
 * Adds every process matching @o; returns how many, or -errno. Those the iterator could
 * not examine (permission: another user's process under /proc mounted with hidepid=1) are
 * never dropped unsaid: with @add_denied (--all) they are added, so that the command names
 * each as it fails on it; otherwise whether they match is unknown, and stderr says so.
 */
static long collect(sel_list *l, ml_procs_opts *o, const cli_cmd *cmd, bool add_denied)
{
	ml_procs *it;
	int r = ml_procs_open(o, &it);
	if (r < 0)
		return r;
	const ml_procs_entry *e;
	long n = 0;
	while ((r = ml_procs_next(it, &e)) == 1) {
		if (add(l, e->pid, e->comm.ptr, e->comm.len) < 0) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	ml_procs_stats st = ml_procs_get_stats(it);
	for (size_t i = 0; r == 0 && add_denied && i < st.denied; i++) {
		const ml_procs_denied *d = ml_procs_get_denied(it, i);
		if (add(l, d->pid, d->comm.len ? d->comm.ptr : NULL, d->comm.len) < 0)
			r = -ENOMEM;
		n++;
	}
	if (r == 0 && !add_denied && st.denied) {
		/* all denied (EACCES or EPERM): the PIDs, then why */
		bool hidepid = false;
		fprintf(stderr, "memlens %s: %zu process%s not examined:", cmd->name, st.denied,
			st.denied == 1 ? "" : "es");
		for (size_t i = 0; i < st.denied; i++) {
			const ml_procs_denied *d = ml_procs_get_denied(it, i);
			fprintf(stderr, "%s %d", i ? "," : "", (int)d->pid);
			hidepid |= d->dir_denied;
		}
		fprintf(stderr, ": %s%s; whether they match is unknown\n", ml_strerror(ml_procs_get_denied(it, 0)->err),
			hidepid ? " (/proc is mounted with hidepid)" : "");
	}
	ml_procs_free(it);
	return r < 0 ? r : n;
}

static void comm_of(pid_t pid, sel_list *l)
{
	char path[64], buf[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	FILE *f = fopen(path, "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	while (n && buf[n - 1] == '\n')
		n--;
	add(l, pid, f ? buf : NULL, n);
}

static int ambiguous(const cli_cmd *cmd, const char *what, const sel_list *l)
{
	fprintf(stderr, "memlens %s: %s matches %zu processes; give one PID:", cmd->name, what, l->n);
	for (size_t i = 0; i < l->n && i < 20; i++)
		fprintf(stderr, "%s %d (%s)", i ? "," : "", (int)l->procs[i].pid, l->procs[i].comm);
	fprintf(stderr, "%s\n", l->n > 20 ? ", ..." : "");
	return CLI_EXIT_ERROR;
}

static int resolve(const selection *s, const cli_cmd *cmd, const char *spec, bool one, sel_list *ret)
{
	memset(ret, 0, sizeof(*ret));
	int kinds = (spec != NULL) + (s->npids > 0) + (s->pgrep != NULL) + s->all;
	if (kinds == 0)
		return cli_usage_error(cmd, "no process given (a PID, a NAME, -p, --pgrep or --all%s)",
				       one ? "" : ", or a snapshot");
	if (kinds > 1)
		return cli_usage_error(cmd, "give one of a PID or NAME, -p, --pgrep and --all");
	if (s->full && !s->pgrep)
		return cli_usage_error(cmd, "-f/--full applies to --pgrep");
	if (one && (s->all || s->npids > 1))
		return cli_usage_error(cmd, "takes one process");
	long r = 0;
	if (spec) {
		struct stat st;
		if (all_digits(spec) || stat(spec, &st) == 0 || strchr(spec, '/')) {
			ret->file = spec; /* a PID or a path: opened as before */
			return 0;
		}
		ML_OPTS(ml_procs_opts, o, .comm = spec);
		r = collect(ret, &o, cmd, false);
		if (r == 0) {
			fprintf(stderr, "memlens %s: '%s': no such file, and no process has that name (comm)%s\n", cmd->name,
				spec, strlen(spec) > 15 ? "; a comm holds at most 15 bytes: try --pgrep -f" : "");
			return CLI_EXIT_ERROR;
		}
		if (r > 1 && one) {
			char what[300];
			snprintf(what, sizeof(what), "the name '%s'", spec);
			return ambiguous(cmd, what, ret);
		}
	} else if (s->pgrep) {
		ML_OPTS(ml_procs_opts, o, .pattern = s->pgrep, .full = s->full);
		r = collect(ret, &o, cmd, false);
		if (r == -EINVAL)
			return cli_usage_error(cmd, "--pgrep: '%s' is not a valid extended regular expression", s->pgrep);
		if (r == 0) {
			fprintf(stderr, "memlens %s: no process matches --pgrep '%s'%s\n", cmd->name, s->pgrep,
				s->full ? " -f" : "");
			return CLI_EXIT_ERROR;
		}
		if (r > 1 && one) {
			char what[300];
			snprintf(what, sizeof(what), "--pgrep '%s'", s->pgrep);
			return ambiguous(cmd, what, ret);
		}
	} else if (s->all) {
		ML_OPTS(ml_procs_opts, o);
		r = collect(ret, &o, cmd, true);
	} else {
		for (size_t i = 0; i < s->npids; i++)
			comm_of(s->pids[i], ret);
	}
	if (r < 0) {
		fprintf(stderr, "memlens %s: cannot list processes: %s\n", cmd->name, ml_strerror((int)r));
		sel_list_free(ret);
		return CLI_EXIT_ERROR;
	}
	return 0;
}

int sel_resolve(const selection *s, const cli_cmd *cmd, const char *spec, bool one, sel_list *ret)
{
	int rc = resolve(s, cmd, spec, one, ret);
	if (rc)
		sel_list_free(ret); /* nothing is handed back with an error */
	return rc;
}

const char *sel_pidstr(const sel_proc *p, char buf[16])
{
	snprintf(buf, 16, "%d", (int)p->pid);
	return buf;
}

void sel_header(const sel_list *l, size_t i)
{
	if (l->n < 2)
		return;
	printf("%s==> pid %d (%s) <==\n", i ? "\n" : "", (int)l->procs[i].pid, l->procs[i].comm);
}

int sel_merge_rc(int acc, int rc, size_t i)
{
	if (i == 0)
		return rc;
	if (acc == rc)
		return acc;
	if (acc == CLI_EXIT_USAGE || rc == CLI_EXIT_USAGE)
		return CLI_EXIT_USAGE;
	return CLI_EXIT_PARTIAL; /* some read, some not (or partly) */
}

int sel_run(selection *s, const cli_cmd *cmd, int argc, char **argv, int first, bool json,
	    int (*one)(void *ctx, const char *spec), void *ctx)
{
	if (argc - first > 1) {
		sel_free(s);
		return cli_usage_error(cmd, "one PID, NAME or snapshot; several processes with -p, --pgrep or --all");
	}
	sel_list l;
	int rc = sel_resolve(s, cmd, first < argc ? argv[first] : NULL, false, &l);
	if (rc == 0 && l.file)
		rc = one(ctx, l.file);
	else if (rc == 0)
		for (size_t i = 0; i < l.n; i++) {
			char pid[16];
			if (!json)
				sel_header(&l, i);
			fflush(stdout);
			rc = sel_merge_rc(rc, one(ctx, sel_pidstr(&l.procs[i], pid)), i);
		}
	sel_list_free(&l);
	sel_free(s);
	return rc;
}

void sel_list_free(sel_list *l)
{
	free(l->procs);
	l->procs = NULL;
	l->n = 0;
}

void sel_free(selection *s)
{
	free(s->pids);
	s->pids = NULL;
	s->npids = 0;
}

const char *sel_one(const cli_cmd *cmd, const char *spec, char buf[16], int *rc)
{
	selection s = { 0 };
	sel_list l;
	*rc = sel_resolve(&s, cmd, spec, true, &l);
	if (*rc)
		return NULL;
	if (l.file)
		return spec;
	sel_pidstr(&l.procs[0], buf);
	sel_list_free(&l);
	return buf;
}
