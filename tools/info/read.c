/* memlens info: reading the summary of a live process or a snapshot: status, stat, links, threads, limits, OOM, KSM, cgroup, namespaces, rollup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/json.h"
#include "info/info.h"

static void note_err(info *in, const char *what, int err)
{
	if (in->nerrs < MAX_ERRS)
		in->errs[in->nerrs++] = (struct info_err){ what, err };
}

/* Sets @r to the result of reading /proc file @name from source @s (live or snapshot) and
 * parsing it with @parse into @out (the library's ml_*_parse(buf, len, out) shape). */
#define READ_PARSED(r, s, name, parse, out)                                          \
	do {                                                                         \
		char *b_;                                                            \
		size_t n_;                                                           \
		if (((r) = ml_source_read_file((s), (name), &b_, &n_)) == 0) {       \
			(r) = parse(b_, n_, (out));                                  \
			free(b_);                                                    \
		}                                                                    \
	} while (0)

void info_read_status(info *in, const ml_source *s)
{
	int r;
	READ_PARSED(r, s, "status", ml_status_parse, &in->status);
	if (r < 0)
		note_err(in, "status", r);
}

void info_read_stat(info *in, const ml_source *s)
{
	int r;
	READ_PARSED(r, s, "stat", ml_stat_parse, &in->stat);
	if (r == 0)
		in->have_stat = true;
	else if (r != -ENOENT || in->live)
		note_err(in, "stat", r);
	if (r < 0)
		return;
	in->stat_hid = info_stat_hid(&in->stat, in->live ? info_may_ptrace_read(in->proc) : -1);
	if (in->stat_hid == INFO_HID_NONE)
		return;
	/* what the kernel hid from this reader: written as 0 or 1, shown as unknown */
	static const struct { unsigned n; const char *what; } guarded[] = {
		{ 26, "stat.start_code" }, { 27, "stat.end_code" }, { 28, "stat.start_stack" },
		{ 29, "stat.kstkesp" }, { 30, "stat.kstkeip" }, { 35, "stat.wchan" },
		{ 45, "stat.start_data" }, { 46, "stat.end_data" }, { 47, "stat.start_brk" },
		{ 48, "stat.arg_start" }, { 49, "stat.arg_end" }, { 50, "stat.env_start" },
		{ 51, "stat.env_end" }, { 52, "stat.exit_code" },
	};
	for (size_t i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++)
		if (!info_stat_known(&in->stat, guarded[i].n, in->stat_hid) && guarded[i].n <= in->stat.nfields)
			note_err(in, guarded[i].what, -EACCES);
}

int info_may_ptrace_read(const ml_proc *p)
{
	ml_link *l = NULL;
	int r = ml_cwd_read(p, &l);
	ml_link_free(l);
	return r == -EACCES || r == -EPERM ? 0 : 1;
}

void info_read_cmdline(info *in, const ml_source *s)
{
	int r;
	READ_PARSED(r, s, "cmdline", ml_strv_parse, &in->cmdline);
	if (r < 0)
		note_err(in, "cmdline", r);
}

void info_read_limits(info *in, const ml_source *s)
{
	int r;
	READ_PARSED(r, s, "limits", ml_limits_parse, &in->limits);
	if (r == 0)
		in->have_limits = true;
	else
		note_err(in, "limits", r);
}

void info_read_coredump(info *in, const ml_source *s)
{
	int r;
	READ_PARSED(r, s, "coredump_filter", ml_coredump_filter_parse, &in->cdf);
	if (r == 0)
		in->have_cdf = true;
	else
		note_err(in, "coredump_filter", r);
}

void info_read_oom(info *in, const ml_source *s)
{
	static const char *const names[2] = { "oom_score", "oom_score_adj" };
	for (int i = 0; i < 2; i++) {
		int64_t v = 0;
		int r;
		READ_PARSED(r, s, names[i], ml_procinfo_int_parse, &v);
		if (r < 0) {
			/* a snapshot that saved neither simply has none */
			if (r != -ENOENT || in->live)
				note_err(in, names[i], r);
			continue;
		}
		if (i == 0) {
			in->oom_score = (int)v;
			in->have_oom_score = true;
		} else {
			in->oom_adj = (int)v;
			in->have_oom_adj = true;
		}
	}
}

void info_read_ksm(info *in, const ml_source *s)
{
	int r;
	READ_PARSED(r, s, "ksm_stat", ml_ksm_stat_parse, &in->ksm);
	if (r == 0)
		in->have_ksm = in->ksm.present != 0;
	else if (r != -ENOENT)
		note_err(in, "ksm_stat", r);
}

/* Live only: links, owner, descriptors, threads. */
void info_read_live(info *in, bool want_threads)
{
	const ml_proc *p = in->proc;
	int r;
	if ((r = ml_exe_read(p, &in->exe)) < 0 && r != -ENOENT)
		note_err(in, "exe", r);
	if ((r = ml_cwd_read(p, &in->cwd)) < 0)
		note_err(in, "cwd", r);
	if ((r = ml_uid_read(p, &in->owner, NULL)) == 0)
		in->have_owner = true;
	else
		note_err(in, "owner", r);
	if ((in->nfds = ml_fd_count(p)) < 0)
		note_err(in, "fd", (int)in->nfds);
	if (!want_threads)
		return;
	ml_tasks *it;
	if ((r = ml_tasks_open(p, &it)) < 0) {
		note_err(in, "task", r);
		return;
	}
	size_t cap = 0;
	ml_proc *t;
	while ((r = ml_tasks_next(it, &t)) == 1) {
		ml_stat st;
		if (ml_stat_read(t, &st) == 0) {
			if (in->nthreads == cap) {
				cap = cap ? cap * 2 : 16;
				thread_info *nt = realloc(in->threads, cap * sizeof(*nt));
				if (!nt) {
					ml_proc_free(t);
					r = -ENOMEM;
					break;
				}
				in->threads = nt;
			}
			thread_info *ti = &in->threads[in->nthreads++];
			ti->tid = ml_proc_pid(t);
			snprintf(ti->name, sizeof(ti->name), "%.*s", (int)INFO_MIN(st.comm_len, sizeof(ti->name) - 1), st.comm);
			ti->state = st.state;
		}
		ml_proc_free(t);
	}
	if (r < 0)
		note_err(in, "task", r);
	ml_tasks_free(it);
}

/* The memory cgroup from the process's cgroup file (live or saved), and on a live process
 * its limit and usage where the caller can see the cgroup filesystem. */
void info_read_cgroup(info *in, const ml_source *s)
{
	ml_cgroups *cgs = NULL;
	int r;
	READ_PARSED(r, s, "cgroup", ml_cgroups_parse, &cgs);
	if (r < 0) {
		if (r != -ENOENT || in->live)
			note_err(in, "cgroup", r);
		return;
	}
	/* v1's memory hierarchy where the process has one, else the unified hierarchy */
	const ml_cgroup *cg = ml_cgroups_v1(cgs, "memory");
	if (!cg)
		cg = ml_cgroups_v2(cgs);
	if (cg) {
		in->cgroup_path = strdup(cg->path);
		in->cgroup_version = cg->v2 ? 2 : 1;
	}
	if (in->live && cg) {
		ML_OPTS(ml_cgroup_memory_opts, o, .cgroups = cgs);
		ml_cgroup_memory *m;
		r = ml_cgroup_memory_read(in->proc, &o, &m);
		if (r == 0) {
			in->cgroup_version = m->version;
			free(in->cgroup_path);
			in->cgroup_path = strndup(m->path, m->path_len);
			if (m->max.err == 0) {
				in->have_cg_max = true;
				in->cg_max = m->max.value;
			}
			if (m->effective_max.err == 0) {
				in->have_cg_eff = true;
				in->cg_eff = m->effective_max.value;
			}
			if (m->current.err == 0) {
				in->have_cg_current = true;
				in->cg_current = m->current.value;
			}
			if (m->peak.err == 0) {
				in->have_cg_peak = true;
				in->cg_peak = m->peak.value;
			}
			ml_cgroup_memory_free(m);
		} else if (r != -ENOENT) {
			note_err(in, "cgroup memory", r);
		}
	}
	ml_cgroups_free(cgs);
}

void info_read_namespaces(info *in)
{
	ml_namespaces *ns, *mine = NULL;
	int r = ml_namespaces_read(in->proc, &ns);
	if (r < 0) {
		note_err(in, "namespaces", r);
		return;
	}
	ml_proc *self;
	if (ml_proc_self(&self) == 0) {
		if (ml_namespaces_read(self, &mine) < 0)
			mine = NULL;
		ml_proc_free(self);
	}
	int ns_err = 0;
	size_t el = 0;
	for (size_t i = 0; i < ml_namespaces_count(ns) && in->nns < MAX_NS; i++) {
		const ml_ns *n = ml_namespaces_get(ns, i);
		/* the *_for_children links repeat the process's own in the usual case */
		if (strstr(n->name, "_for_children"))
			continue;
		if (n->err) {
			/* -ENOENT: this kernel has no such namespace type; anything else is a
			 * namespace that exists and could not be read: say which */
			if (n->err != -ENOENT && el < sizeof(in->ns_err)) {
				int k = snprintf(in->ns_err + el, sizeof(in->ns_err) - el, "%s%s",
						 el ? ", " : "namespaces ", n->name);
				el += k > 0 ? (size_t)k : 0;
				if (!ns_err)
					ns_err = n->err;
			}
			continue;
		}
		const ml_ns *o = mine ? ml_namespaces_find(mine, n->name) : NULL;
		snprintf(in->ns[in->nns].name, sizeof(in->ns[0].name), "%s", n->name);
		in->ns[in->nns].ino = n->inode;
		in->ns[in->nns].same_as_self = o && ml_ns_same(n, o);
		in->nns++;
	}
	if (ns_err)
		note_err(in, in->ns_err, ns_err);
	ml_namespaces_free(mine);
	ml_namespaces_free(ns);
}

void info_read_rollup(info *in, const ml_source *s)
{
	/* the same totals as maps --rollup: the library reads or sums them */
	ml_smaps_rollup *ru = NULL;
	ml_smaps_fields f;
	int r = ml_source_read_rollup(s, &ru, NULL);
	if (r == 0) {
		f = ru->f;
		ml_smaps_rollup_free(ru);
	}
	if (r < 0) {
		if (r != -ENOENT || in->live)
			note_err(in, "smaps_rollup", r);
		return;
	}
	/* a kernel thread's rollup is empty: nothing to show */
	if (!f.present)
		return;
	in->have_rollup = true;
	in->rollup_rss = f.rss;
	in->pss = f.pss;
	/* per-mapping smaps has no Pss_Anon/File/Shmem: only a real rollup splits PSS */
	in->have_pss_split = (f.present >> ML_SMAPS_PSS_ANON) & 1;
	in->pss_anon = f.pss_anon;
	in->pss_file = f.pss_file;
	in->pss_shmem = f.pss_shmem;
	in->uss = ml_smaps_uss(&f);
	in->rollup_swap = f.swap;
	in->swap_pss = f.swap_pss;
}

void info_free(info *in)
{
	ml_status_free(in->status);
	ml_strv_free(in->cmdline);
	ml_link_free(in->exe);
	ml_link_free(in->cwd);
	free(in->threads);
	free(in->cgroup_path);
}
