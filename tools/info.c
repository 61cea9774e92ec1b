/* memlens info: the first screen for a memory investigation of one process (or snapshot). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/json.h"
#include "common/select.h"
#include "info/show.h"

int cmd_info(int argc, char **argv);

enum { OPT_JSON = 256, OPT_BYTES, OPT_HUMAN, OPT_NO_THREADS, OPT_SHOW };

static const ml_opt opts[] = {
	{ "json", OPT_JSON, 0, NULL, "print one JSON document (schema memlens.info/1) with every field" },
	{ "bytes", OPT_BYTES, 0, NULL, "print sizes as exact byte counts (default when not a terminal)" },
	{ "human", OPT_HUMAN, 0, NULL, "print sizes in binary units (default on a terminal)" },
	{ "no-threads", OPT_NO_THREADS, 0, NULL, "do not list threads in JSON (count only)" },
	{ "show", OPT_SHOW, 1, "LIST", "show these procfs Process methods instead (status,fd,net.tcp,...; all; help)" },
	ML_SEL_OPT_PID,
	ML_SEL_OPT_PGREP,
	ML_SEL_OPT_FULL,
	ML_SEL_OPT_ALL,
	ML_OPT_HELP,
	ML_OPT_END,
};

static const ml_cmd cmd = {
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
	ml_sel sel;
} args;

static int on_opt(int key, const char *arg, void *ctx)
{
	args *a = ctx;
	int sr = ml_sel_opt(&a->sel, &cmd, key, arg);
	if (sr)
		return sr < 0 ? -1 : 0;
	switch (key) {
	case OPT_JSON: a->json = true; break;
	case OPT_BYTES: a->human = false; a->human_set = 1; break;
	case OPT_HUMAN: a->human = true; a->human_set = 1; break;
	case OPT_NO_THREADS: a->no_threads = true; break;
	case OPT_SHOW:
		if (!strcmp(arg, "help")) {
			ml_info_show_names();
			exit(ML_EXIT_OK);
		}
		if (ml_info_show_check(arg) < 0)
			return -1;
		a->show = arg;
		break;
	default: return -1;
	}
	return 0;
}

#define ML_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX_ERRS 32
#define MAX_NS 10

typedef struct thread_info {
	pid_t tid;
	char name[64];
	char state;
} thread_info;

typedef struct info {
	pid_t pid;
	bool live;
	const ml_proc *proc;
	ml_status *status;
	ml_stat stat;
	bool have_stat;
	ml_strv *cmdline;
	ml_link *exe, *cwd;
	bool have_owner;
	uid_t owner;
	ssize_t nfds;
	thread_info *threads;
	size_t nthreads;
	ml_limits limits;
	bool have_limits;
	ml_coredump_filter cdf;
	bool have_cdf;
	ml_ksm_stat ksm;
	bool have_ksm;
	int oom_score, oom_adj;
	bool have_oom_score, have_oom_adj;
	/* smaps_rollup */
	bool have_rollup, have_pss_split;
	uint64_t pss, pss_anon, pss_file, pss_shmem, uss, swap_pss, rollup_rss, rollup_swap;
	/* cgroup */
	char *cgroup_path;
	int cgroup_version;
	bool have_cg_max, have_cg_current, have_cg_eff, have_cg_peak;
	uint64_t cg_max, cg_current, cg_eff, cg_peak;
	/* namespaces: name and inode of ns/ links */
	struct { char name[24]; uint64_t ino; bool same_as_self; } ns[MAX_NS];
	size_t nns;
	char ns_err[200]; /* "namespaces ipc, mnt" that could not be read, for errors */
	/* what could not be read: field name and error */
	struct info_err { const char *what; int err; } errs[MAX_ERRS];
	size_t nerrs;
} info;

static void note_err(info *in, const char *what, int err)
{
	if (in->nerrs < MAX_ERRS)
		in->errs[in->nerrs++] = (struct info_err){ what, err };
}

/* Reads a /proc text file from the source (live or snapshot) and parses it. */
static int source_text(const ml_source *s, const char *name, char **buf, size_t *len)
{
	return ml_source_read_file(s, name, buf, len);
}

static void read_status(info *in, const ml_source *s)
{
	char *b;
	size_t n;
	int r = source_text(s, "status", &b, &n);
	if (r == 0) {
		r = ml_status_parse(b, n, &in->status);
		free(b);
	}
	if (r < 0)
		note_err(in, "status", r);
}

static void read_stat(info *in, const ml_source *s)
{
	char *b;
	size_t n;
	int r = source_text(s, "stat", &b, &n);
	if (r == 0) {
		r = ml_stat_parse(b, n, &in->stat);
		free(b);
	}
	if (r == 0)
		in->have_stat = true;
	else if (r != -ENOENT || in->live)
		note_err(in, "stat", r);
}

static void read_cmdline(info *in, const ml_source *s)
{
	char *b;
	size_t n;
	int r = source_text(s, "cmdline", &b, &n);
	if (r == 0) {
		r = ml_strv_parse(b, n, &in->cmdline);
		free(b);
	}
	if (r < 0)
		note_err(in, "cmdline", r);
}

static void read_limits(info *in, const ml_source *s)
{
	char *b;
	size_t n;
	int r = source_text(s, "limits", &b, &n);
	if (r == 0) {
		r = ml_limits_parse(b, n, &in->limits);
		free(b);
	}
	if (r == 0)
		in->have_limits = true;
	else
		note_err(in, "limits", r);
}

static void read_coredump(info *in, const ml_source *s)
{
	char *b;
	size_t n;
	int r = source_text(s, "coredump_filter", &b, &n);
	if (r == 0) {
		r = ml_coredump_filter_parse(b, n, &in->cdf);
		free(b);
	}
	if (r == 0)
		in->have_cdf = true;
	else
		note_err(in, "coredump_filter", r);
}

static void read_oom(info *in, const ml_source *s)
{
	static const char *const names[2] = { "oom_score", "oom_score_adj" };
	for (int i = 0; i < 2; i++) {
		char *b;
		size_t n;
		int64_t v = 0;
		int r = source_text(s, names[i], &b, &n);
		if (r == 0) {
			r = ml_procinfo_int_parse(b, n, &v);
			free(b);
		}
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

static void read_ksm(info *in, const ml_source *s)
{
	char *b;
	size_t n;
	int r = source_text(s, "ksm_stat", &b, &n);
	if (r == 0) {
		r = ml_ksm_stat_parse(b, n, &in->ksm);
		free(b);
	}
	if (r == 0)
		in->have_ksm = in->ksm.present != 0;
	else if (r != -ENOENT)
		note_err(in, "ksm_stat", r);
}

/* Live only: links, owner, descriptors, threads. */
static void read_live(info *in, bool want_threads)
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
			snprintf(ti->name, sizeof(ti->name), "%.*s", (int)ML_MIN(st.comm_len, sizeof(ti->name) - 1), st.comm);
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
static void read_cgroup(info *in, const ml_source *s)
{
	char *b;
	size_t n;
	int r = source_text(s, "cgroup", &b, &n);
	ml_cgroups *cgs = NULL;
	if (r == 0) {
		r = ml_cgroups_parse(b, n, &cgs);
		free(b);
	}
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

static void read_namespaces(info *in)
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

static void read_rollup(info *in, const ml_source *s)
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

static void info_free(info *in)
{
	ml_status_free(in->status);
	ml_strv_free(in->cmdline);
	ml_link_free(in->exe);
	ml_link_free(in->cwd);
	free(in->threads);
	free(in->cgroup_path);
}

/* ---- human output ---- */

static bool human;

static const char *sz(char buf[32], uint64_t v) { return ml_cli_fmt_size(buf, v, human); }

static const char *lim(char buf[32], uint64_t v, bool bytes)
{
	if (v == ML_LIMIT_UNLIMITED)
		return "unlimited";
	if (bytes)
		return sz(buf, v);
	snprintf(buf, 32, "%llu", (unsigned long long)v);
	return buf;
}

static void put_arg(const ml_bstr *a)
{
	bool plain = a->len > 0;
	for (size_t i = 0; i < a->len; i++) {
		unsigned char c = (unsigned char)a->ptr[i];
		if (c <= ' ' || c == '\'' || c == '"' || c == '\\' || c >= 0x7f)
			plain = false;
	}
	if (plain) {
		fwrite(a->ptr, 1, a->len, stdout);
		return;
	}
	putchar('\'');
	ml_cli_put_escaped(stdout, a->ptr, a->len);
	putchar('\'');
}

static void print_human(const info *in)
{
	char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
	const ml_status *s = in->status;
	printf("pid          %d", (int)in->pid);
	if (s) {
		printf("  ");
		ml_cli_put_escaped(stdout, s->name, s->name_len);
		printf("  state %c", s->state);
		if (s->state_desc.len)
			printf(" (%.*s)", (int)s->state_desc.len, s->state_desc.ptr);
		if (s->kthread)
			printf("  kernel thread");
	}
	printf("%s\n", in->live ? "" : "  [snapshot]");
	printf("command      ");
	if (in->cmdline && in->cmdline->n) {
		for (size_t i = 0; i < in->cmdline->n; i++) {
			if (i)
				putchar(' ');
			put_arg(&in->cmdline->v[i]);
		}
	} else {
		printf(in->cmdline ? "(none)" : "-");
	}
	putchar('\n');
	if (in->live) {
		printf("executable   ");
		if (in->exe) {
			ml_cli_put_escaped(stdout, in->exe->path, in->exe->len);
			printf("%s", in->exe->deleted ? "  (deleted)" : "");
		} else {
			printf("-");
		}
		printf("\ncwd          ");
		if (in->cwd) {
			ml_cli_put_escaped(stdout, in->cwd->path, in->cwd->len);
			printf("%s", in->cwd->deleted ? "  (deleted)" : "");
		} else {
			printf("-");
		}
		putchar('\n');
	}
	if (s) {
		struct passwd *pw = getpwuid(s->uid[0]);
		printf("user         %s (uid %u", pw ? pw->pw_name : "?", (unsigned)s->uid[0]);
		if (s->uid[1] != s->uid[0])
			printf(", euid %u", (unsigned)s->uid[1]);
		printf(", gid %u)  parent %d\n", (unsigned)s->gid[0], (int)s->ppid);
		printf("threads      %llu\n", (unsigned long long)s->threads);
	}
	if (in->live && in->nfds >= 0) {
		printf("descriptors  %zd open", in->nfds);
		if (in->have_limits && in->limits.lim[RLIMIT_NOFILE].present)
			printf(", limit %s", lim(b1, in->limits.lim[RLIMIT_NOFILE].soft, false));
		putchar('\n');
	}
	if (s && ml_status_has(s, ML_STATUS_VMRSS)) {
		printf("memory       RSS %s (anon %s, file %s, shmem %s)  peak RSS %s\n", sz(b1, s->vm_rss),
		       sz(b2, s->rss_anon), sz(b3, s->rss_file), sz(b4, s->rss_shmem), sz(b5, s->vm_hwm));
		printf("             virtual %s (peak %s)  swap %s  locked %s  page tables %s\n",
		       sz(b1, s->vm_size), sz(b2, s->vm_peak), sz(b3, s->vm_swap), sz(b4, s->vm_lck),
		       sz(b5, s->vm_pte));
	}
	if (in->have_rollup && in->have_pss_split)
		printf("             PSS %s (anon %s, file %s, shmem %s)  USS %s  swap PSS %s\n", sz(b1, in->pss),
		       sz(b2, in->pss_anon), sz(b3, in->pss_file), sz(b4, in->pss_shmem), sz(b5, in->uss),
		       sz(b6, in->swap_pss));
	else if (in->have_rollup)
		printf("             PSS %s  USS %s  swap PSS %s\n", sz(b1, in->pss), sz(b5, in->uss),
		       sz(b6, in->swap_pss));
	if (in->have_ksm && (in->ksm.merging_pages || in->ksm.zero_pages || in->ksm.mergeable || in->ksm.merge_any))
		printf("             KSM %s merged, %s to the zero page, profit %s%s\n",
		       sz(b1, in->ksm.merging_pages * ml_statm_page_size()),
		       sz(b2, in->ksm.zero_pages * ml_statm_page_size()),
		       in->ksm.process_profit < 0 ? "-" : "",
		       sz(b3, (uint64_t)(in->ksm.process_profit < 0 ? -in->ksm.process_profit : in->ksm.process_profit)));
	if (s && ml_status_has(s, ML_STATUS_THP_ENABLED))
		printf("             THP %s\n", s->thp_enabled ? "allowed" : "disabled for this process (prctl)");
	if (in->have_limits) {
		static const int show[] = { RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_MEMLOCK, RLIMIT_CORE, RLIMIT_RSS };
		static const char *const label[] = { "address space", "data", "stack", "locked memory", "core size", "rss" };
		for (size_t i = 0; i < sizeof(show) / sizeof(show[0]); i++) {
			const ml_limit *l = &in->limits.lim[show[i]];
			if (!l->present)
				continue;
			printf("%-13s%-14s %s", i ? "" : "limits", label[i], lim(b1, l->soft, true));
			if (l->hard != l->soft)
				printf(" (hard %s)", lim(b2, l->hard, true));
			putchar('\n');
		}
	}
	if (in->have_cdf) {
		printf("coredump     ");
		if (!in->cdf.set) {
			printf("no filter (no address space)\n");
		} else {
			printf("filter 0x%x:", in->cdf.mask);
			for (unsigned bit = 0; bit < 32; bit++)
				if (in->cdf.mask & (1u << bit)) {
					const char *n = ml_coredump_filter_bit_name(bit);
					n ? printf(" %s", n) : printf(" bit%u", bit);
				}
			putchar('\n');
		}
	}
	if (in->have_oom_score || in->have_oom_adj) {
		printf("oom          score %s", in->have_oom_score ? "" : "-");
		if (in->have_oom_score)
			printf("%d", in->oom_score);
		if (in->have_oom_adj)
			printf("  adj %d%s", in->oom_adj, in->oom_adj == -1000 ? " (never killed)" : "");
		putchar('\n');
	}
	if (in->cgroup_path) {
		printf("cgroup       ");
		ml_cli_put_escaped(stdout, in->cgroup_path, strlen(in->cgroup_path));
		printf(" (v%d)", in->cgroup_version);
		if (in->have_cg_max)
			printf("  memory limit %s", in->cg_max == ML_CGROUP_UNLIMITED ? "none" : sz(b1, in->cg_max));
		if (in->have_cg_eff && in->cg_eff != ML_CGROUP_UNLIMITED &&
		    (!in->have_cg_max || in->cg_eff != in->cg_max))
			printf(" (bound by a parent: %s)", sz(b3, in->cg_eff));
		if (in->have_cg_current)
			printf("  usage %s", sz(b2, in->cg_current));
		if (in->have_cg_peak)
			printf(" (peak %s)", sz(b4, in->cg_peak));
		putchar('\n');
	}
	if (in->nns) {
		printf("namespaces  ");
		bool any = false;
		for (size_t i = 0; i < in->nns; i++)
			if (!in->ns[i].same_as_self) {
				printf(" %s:[%llu]", in->ns[i].name, (unsigned long long)in->ns[i].ino);
				any = true;
			}
		printf("%s\n", any ? "  (others as memlens's)" : " all the same as memlens's");
	}
}

/* ---- JSON ---- */

static void json_size_or_null(ml_json *j, const char *k, uint64_t v)
{
	ml_json_key(j, k);
	if (v == ML_LIMIT_UNLIMITED)
		ml_json_null(j);
	else
		ml_json_u64(j, v);
}

static void json_bstr(ml_json *j, const char *k, ml_bstr b)
{
	ml_json_key(j, k);
	ml_json_str(j, b.ptr, b.len);
}

static void json_link(ml_json *j, const char *k, const ml_link *l)
{
	ml_json_key(j, k);
	if (!l) {
		ml_json_null(j);
		return;
	}
	ml_json_obj_begin(j);
	ml_json_key(j, "path");
	ml_json_str(j, l->path, l->len);
	ML_JSON_KBOOL(j, "deleted", l->deleted);
	if (l->via_tid)
		ML_JSON_KI64(j, "via_tid", l->via_tid);
	ml_json_obj_end(j);
}

static void json_status(ml_json *j, const ml_status *s)
{
	ml_json_key(j, "status");
	if (!s) {
		ml_json_null(j);
		return;
	}
	ml_json_obj_begin(j);
	static const struct { const char *k; size_t off; ml_status_key key; } u64s[] = {
#define U(k, f, key) { k, offsetof(ml_status, f), key }
		U("fd_size", fd_size, ML_STATUS_FDSIZE), U("vm_peak", vm_peak, ML_STATUS_VMPEAK),
		U("vm_size", vm_size, ML_STATUS_VMSIZE), U("vm_lck", vm_lck, ML_STATUS_VMLCK),
		U("vm_pin", vm_pin, ML_STATUS_VMPIN), U("vm_hwm", vm_hwm, ML_STATUS_VMHWM),
		U("vm_rss", vm_rss, ML_STATUS_VMRSS), U("rss_anon", rss_anon, ML_STATUS_RSSANON),
		U("rss_file", rss_file, ML_STATUS_RSSFILE), U("rss_shmem", rss_shmem, ML_STATUS_RSSSHMEM),
		U("vm_data", vm_data, ML_STATUS_VMDATA), U("vm_stk", vm_stk, ML_STATUS_VMSTK),
		U("vm_exe", vm_exe, ML_STATUS_VMEXE), U("vm_lib", vm_lib, ML_STATUS_VMLIB),
		U("vm_pte", vm_pte, ML_STATUS_VMPTE), U("vm_swap", vm_swap, ML_STATUS_VMSWAP),
		U("hugetlb_pages", hugetlb_pages, ML_STATUS_HUGETLBPAGES),
		U("threads", threads, ML_STATUS_THREADS), U("sigq_queued", sigq_queued, ML_STATUS_SIGQ),
		U("sigq_limit", sigq_limit, ML_STATUS_SIGQ),
		U("seccomp_filters", seccomp_filters, ML_STATUS_SECCOMP_FILTERS),
		U("cpus_allowed_count", n_cpus_allowed, ML_STATUS_CPUS_ALLOWED),
		U("voluntary_ctxt_switches", voluntary_ctxt_switches, ML_STATUS_VOLUNTARY_CTXT),
		U("nonvoluntary_ctxt_switches", nonvoluntary_ctxt_switches, ML_STATUS_NONVOLUNTARY_CTXT),
#undef U
	};
	static const struct { const char *k; size_t off; ml_status_key key; } hexs[] = {
#define H(k, f, key) { k, offsetof(ml_status, f), key }
		H("untag_mask", untag_mask, ML_STATUS_UNTAG_MASK), H("sig_pnd", sig_pnd, ML_STATUS_SIGPND),
		H("shd_pnd", shd_pnd, ML_STATUS_SHDPND), H("sig_blk", sig_blk, ML_STATUS_SIGBLK),
		H("sig_ign", sig_ign, ML_STATUS_SIGIGN), H("sig_cgt", sig_cgt, ML_STATUS_SIGCGT),
		H("cap_inh", cap_inh, ML_STATUS_CAPINH), H("cap_prm", cap_prm, ML_STATUS_CAPPRM),
		H("cap_eff", cap_eff, ML_STATUS_CAPEFF), H("cap_bnd", cap_bnd, ML_STATUS_CAPBND),
		H("cap_amb", cap_amb, ML_STATUS_CAPAMB),
#undef H
	};
	ml_json_key(j, "name");
	ml_json_str(j, s->name, s->name_len);
	char st[2] = { s->state, 0 };
	ML_JSON_KSTR(j, "state", st);
	json_bstr(j, "state_desc", s->state_desc);
	if (ml_status_has(s, ML_STATUS_UMASK))
		ML_JSON_KU64(j, "umask", s->umask);
	ML_JSON_KI64(j, "tgid", s->tgid);
	ML_JSON_KI64(j, "ngid", s->ngid);
	ML_JSON_KI64(j, "pid", s->pid);
	ML_JSON_KI64(j, "ppid", s->ppid);
	ML_JSON_KI64(j, "tracer_pid", s->tracer_pid);
	static const char *const idn[4] = { "real", "effective", "saved", "fs" };
	for (int g = 0; g < 2; g++) {
		ml_json_key(j, g ? "gid" : "uid");
		ml_json_obj_begin(j);
		for (int i = 0; i < 4; i++)
			ML_JSON_KU64(j, idn[i], g ? s->gid[i] : s->uid[i]);
		ml_json_obj_end(j);
	}
	ml_json_key(j, "groups");
	ml_json_arr_begin(j);
	for (size_t i = 0; i < s->n_groups; i++)
		ml_json_u64(j, s->groups[i]);
	ml_json_arr_end(j);
	const pid_t *nsl[4] = { s->ns_tgid, s->ns_pid, s->ns_pgid, s->ns_sid };
	static const char *const nsn[4] = { "ns_tgid", "ns_pid", "ns_pgid", "ns_sid" };
	for (int k = 0; k < 4; k++) {
		ml_json_key(j, nsn[k]);
		ml_json_arr_begin(j);
		for (size_t i = 0; i < s->n_ns; i++)
			ml_json_i64(j, nsl[k][i]);
		ml_json_arr_end(j);
	}
	if (ml_status_has(s, ML_STATUS_KTHREAD))
		ML_JSON_KBOOL(j, "kthread", s->kthread);
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
		if (ml_status_has(s, u64s[i].key)) {
			uint64_t v;
			memcpy(&v, (const char *)s + u64s[i].off, sizeof(v));
			ML_JSON_KU64(j, u64s[i].k, v);
		}
	for (size_t i = 0; i < sizeof(hexs) / sizeof(hexs[0]); i++)
		if (ml_status_has(s, hexs[i].key)) {
			uint64_t v;
			memcpy(&v, (const char *)s + hexs[i].off, sizeof(v));
			ML_JSON_KADDR(j, hexs[i].k, v);
		}
	if (ml_status_has(s, ML_STATUS_COREDUMPING))
		ML_JSON_KBOOL(j, "core_dumping", s->core_dumping);
	if (ml_status_has(s, ML_STATUS_THP_ENABLED))
		ML_JSON_KBOOL(j, "thp_enabled", s->thp_enabled);
	if (ml_status_has(s, ML_STATUS_NONEWPRIVS))
		ML_JSON_KBOOL(j, "no_new_privs", s->no_new_privs);
	if (ml_status_has(s, ML_STATUS_SECCOMP))
		ML_JSON_KI64(j, "seccomp", s->seccomp);
	json_bstr(j, "speculation_store_bypass", s->spec_store_bypass);
	json_bstr(j, "speculation_indirect_branch", s->spec_indirect_branch);
	json_bstr(j, "cpus_allowed", s->cpus_allowed);
	json_bstr(j, "cpus_allowed_list", s->cpus_allowed_list);
	json_bstr(j, "mems_allowed", s->mems_allowed);
	json_bstr(j, "mems_allowed_list", s->mems_allowed_list);
	if (ml_status_has(s, ML_STATUS_X86_THREAD_FEATURES))
		json_bstr(j, "x86_thread_features", s->x86_thread_features);
	if (ml_status_has(s, ML_STATUS_X86_THREAD_FEATURES_LOCKED))
		json_bstr(j, "x86_thread_features_locked", s->x86_thread_features_locked);
	ml_json_key(j, "extra");
	ml_json_obj_begin(j);
	for (size_t i = 0; i < s->n_extra; i++) {
		char key[128];
		snprintf(key, sizeof(key), "%.*s", (int)ML_MIN(s->extra[i].name.len, sizeof(key) - 1), s->extra[i].name.ptr);
		ml_json_key(j, key);
		ml_json_str(j, s->extra[i].value.ptr, s->extra[i].value.len);
	}
	ml_json_obj_end(j);
	ml_json_obj_end(j);
}

static void print_json(const info *in, bool threads)
{
	ml_json jj, *j = &jj;
	ml_json_init(j, stdout);
	ml_json_obj_begin(j);
	ML_JSON_KSTR(j, "schema", "memlens.info/1");
	ML_JSON_KI64(j, "pid", in->pid);
	ML_JSON_KSTR(j, "source", in->live ? "live" : "snapshot");
	ml_json_key(j, "cmdline");
	if (in->cmdline) {
		ml_json_arr_begin(j);
		for (size_t i = 0; i < in->cmdline->n; i++)
			ml_json_str(j, in->cmdline->v[i].ptr, in->cmdline->v[i].len);
		ml_json_arr_end(j);
	} else {
		ml_json_null(j);
	}
	json_link(j, "exe", in->exe);
	json_link(j, "cwd", in->cwd);
	ml_json_key(j, "owner_uid");
	in->have_owner ? ml_json_u64(j, in->owner) : ml_json_null(j);
	ml_json_key(j, "user");
	struct passwd *pw = in->status ? getpwuid(in->status->uid[0]) : NULL;
	pw ? ml_json_cstr(j, pw->pw_name) : ml_json_null(j);
	json_status(j, in->status);
	ml_json_key(j, "stat");
	if (in->have_stat) {
		const ml_stat *st = &in->stat;
		ml_json_obj_begin(j);
		ml_json_key(j, "comm");
		ml_json_str(j, st->comm, st->comm_len);
		char sc[2] = { st->state, 0 };
		ML_JSON_KSTR(j, "state", sc);
		ML_JSON_KI64(j, "ppid", st->ppid);
		ML_JSON_KI64(j, "pgrp", st->pgrp);
		ML_JSON_KI64(j, "session", st->session);
		ML_JSON_KI64(j, "tty_nr", st->tty_nr);
		ML_JSON_KI64(j, "tpgid", st->tpgid);
		ML_JSON_KU64(j, "flags", st->flags);
		ML_JSON_KU64(j, "minflt", st->minflt);
		ML_JSON_KU64(j, "cminflt", st->cminflt);
		ML_JSON_KU64(j, "majflt", st->majflt);
		ML_JSON_KU64(j, "cmajflt", st->cmajflt);
		ML_JSON_KU64(j, "utime_ticks", st->utime);
		ML_JSON_KU64(j, "stime_ticks", st->stime);
		ML_JSON_KI64(j, "cutime_ticks", st->cutime);
		ML_JSON_KI64(j, "cstime_ticks", st->cstime);
		ML_JSON_KI64(j, "priority", st->priority);
		ML_JSON_KI64(j, "nice", st->nice);
		ML_JSON_KI64(j, "num_threads", st->num_threads);
		ML_JSON_KU64(j, "starttime_ticks", st->starttime);
		ML_JSON_KU64(j, "vsize", st->vsize);
		ML_JSON_KI64(j, "rss_pages", st->rss);
		ML_JSON_KU64(j, "rsslim", st->rsslim);
		ML_JSON_KADDR(j, "start_code", st->start_code);
		ML_JSON_KADDR(j, "end_code", st->end_code);
		ML_JSON_KADDR(j, "start_stack", st->start_stack);
		ML_JSON_KADDR(j, "kstkesp", st->kstkesp);
		ML_JSON_KADDR(j, "kstkeip", st->kstkeip);
		ML_JSON_KU64(j, "wchan", st->wchan);
		ML_JSON_KI64(j, "exit_signal", st->exit_signal);
		ML_JSON_KI64(j, "processor", st->processor);
		ML_JSON_KU64(j, "rt_priority", st->rt_priority);
		ML_JSON_KU64(j, "policy", st->policy);
		ML_JSON_KU64(j, "delayacct_blkio_ticks", st->delayacct_blkio_ticks);
		ML_JSON_KU64(j, "guest_time_ticks", st->guest_time);
		ML_JSON_KI64(j, "cguest_time_ticks", st->cguest_time);
		ML_JSON_KADDR(j, "start_data", st->start_data);
		ML_JSON_KADDR(j, "end_data", st->end_data);
		ML_JSON_KADDR(j, "start_brk", st->start_brk);
		ML_JSON_KADDR(j, "arg_start", st->arg_start);
		ML_JSON_KADDR(j, "arg_end", st->arg_end);
		ML_JSON_KADDR(j, "env_start", st->env_start);
		ML_JSON_KADDR(j, "env_end", st->env_end);
		ML_JSON_KI64(j, "exit_code", st->exit_code);
		ml_json_obj_end(j);
	} else {
		ml_json_null(j);
	}
	ml_json_key(j, "fd_count");
	in->live && in->nfds >= 0 ? ml_json_i64(j, in->nfds) : ml_json_null(j);
	if (threads && in->live) {
		ml_json_key(j, "threads");
		ml_json_arr_begin(j);
		for (size_t i = 0; i < in->nthreads; i++) {
			ml_json_obj_begin(j);
			ML_JSON_KI64(j, "tid", in->threads[i].tid);
			ml_json_key(j, "name");
			ml_json_str(j, in->threads[i].name, strlen(in->threads[i].name));
			char st[2] = { in->threads[i].state, 0 };
			ML_JSON_KSTR(j, "state", st);
			ml_json_obj_end(j);
		}
		ml_json_arr_end(j);
	}
	ml_json_key(j, "rollup");
	if (in->have_rollup) {
		ml_json_obj_begin(j);
		ML_JSON_KU64(j, "rss", in->rollup_rss);
		ML_JSON_KU64(j, "pss", in->pss);
		if (in->have_pss_split) {
			ML_JSON_KU64(j, "pss_anon", in->pss_anon);
			ML_JSON_KU64(j, "pss_file", in->pss_file);
			ML_JSON_KU64(j, "pss_shmem", in->pss_shmem);
		}
		ML_JSON_KU64(j, "uss", in->uss);
		ML_JSON_KU64(j, "swap", in->rollup_swap);
		ML_JSON_KU64(j, "swap_pss", in->swap_pss);
		ml_json_obj_end(j);
	} else {
		ml_json_null(j);
	}
	ml_json_key(j, "limits");
	if (in->have_limits) {
		ml_json_obj_begin(j);
		for (int r = 0; r < ML_LIMIT_COUNT; r++) {
			const ml_limit *l = &in->limits.lim[r];
			if (!l->present)
				continue;
			ml_json_key(j, ml_limit_key(r));
			ml_json_obj_begin(j);
			json_size_or_null(j, "soft", l->soft);
			json_size_or_null(j, "hard", l->hard);
			ML_JSON_KSTR(j, "units", l->units);
			ml_json_obj_end(j);
		}
		ml_json_obj_end(j);
	} else {
		ml_json_null(j);
	}
	ml_json_key(j, "coredump_filter");
	if (in->have_cdf && in->cdf.set) {
		ml_json_obj_begin(j);
		ML_JSON_KU64(j, "mask", in->cdf.mask);
		ml_json_key(j, "bits");
		ml_json_arr_begin(j);
		for (unsigned bit = 0; bit < 32; bit++)
			if (in->cdf.mask & (1u << bit)) {
				const char *n = ml_coredump_filter_bit_name(bit);
				char other[16];
				snprintf(other, sizeof(other), "bit%u", bit);
				ml_json_cstr(j, n ? n : other);
			}
		ml_json_arr_end(j);
		ml_json_obj_end(j);
	} else {
		ml_json_null(j);
	}
	ml_json_key(j, "ksm");
	if (in->have_ksm) {
		uint64_t ps = ml_statm_page_size();
		ml_json_obj_begin(j);
		ML_JSON_KU64(j, "rmap_items", in->ksm.rmap_items);
		ML_JSON_KU64(j, "merging_bytes", in->ksm.merging_pages * ps);
		ML_JSON_KU64(j, "zero_page_bytes", in->ksm.zero_pages * ps);
		ML_JSON_KI64(j, "process_profit", in->ksm.process_profit);
		ML_JSON_KBOOL(j, "merge_any", in->ksm.merge_any);
		ML_JSON_KBOOL(j, "mergeable", in->ksm.mergeable);
		ml_json_obj_end(j);
	} else {
		ml_json_null(j);
	}
	ml_json_key(j, "oom_score");
	in->have_oom_score ? ml_json_i64(j, in->oom_score) : ml_json_null(j);
	ml_json_key(j, "oom_score_adj");
	in->have_oom_adj ? ml_json_i64(j, in->oom_adj) : ml_json_null(j);
	ml_json_key(j, "cgroup");
	if (in->cgroup_path) {
		ml_json_obj_begin(j);
		ML_JSON_KSTR(j, "path", in->cgroup_path);
		ML_JSON_KI64(j, "version", in->cgroup_version);
		ml_json_key(j, "memory_max");
		if (in->have_cg_max && in->cg_max != ML_CGROUP_UNLIMITED)
			ml_json_u64(j, in->cg_max);
		else
			ml_json_null(j);
		ML_JSON_KBOOL(j, "memory_max_known", in->have_cg_max);
		ml_json_key(j, "memory_effective_max");
		if (in->have_cg_eff && in->cg_eff != ML_CGROUP_UNLIMITED)
			ml_json_u64(j, in->cg_eff);
		else
			ml_json_null(j);
		ml_json_key(j, "memory_current");
		in->have_cg_current ? ml_json_u64(j, in->cg_current) : ml_json_null(j);
		ml_json_key(j, "memory_peak");
		in->have_cg_peak ? ml_json_u64(j, in->cg_peak) : ml_json_null(j);
		ml_json_obj_end(j);
	} else {
		ml_json_null(j);
	}
	ml_json_key(j, "namespaces");
	if (in->nns) {
		ml_json_obj_begin(j);
		for (size_t i = 0; i < in->nns; i++) {
			ml_json_key(j, in->ns[i].name);
			ml_json_obj_begin(j);
			ML_JSON_KU64(j, "inode", in->ns[i].ino);
			ML_JSON_KBOOL(j, "same_as_reader", in->ns[i].same_as_self);
			ml_json_obj_end(j);
		}
		ml_json_obj_end(j);
	} else {
		ml_json_null(j);
	}
	ml_json_key(j, "errors");
	ml_json_obj_begin(j);
	for (size_t i = 0; i < in->nerrs; i++)
		ML_JSON_KSTR(j, in->errs[i].what, ml_strerror(in->errs[i].err));
	ml_json_obj_end(j);
	ml_json_obj_end(j);
	ml_json_line_end(j);
}

/* ---- an ELF core: what its notes say ---- */

static const char *sig_name(int sig)
{
	static const char *const names[] = { NULL, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
					     "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE",
					     "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP",
					     "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ",
					     "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS" };
	return sig > 0 && sig < (int)(sizeof(names) / sizeof(names[0])) ? names[sig] : NULL;
}

/* The process as a core's notes (NT_PRPSINFO, NT_PRSTATUS, NT_SIGINFO, NT_FILE) describe it. */
static void print_core(const ml_core_info *ci, bool json, bool threads)
{
	if (json) {
		ml_json jj, *j = &jj;
		ml_json_init(j, stdout);
		ml_json_obj_begin(j);
		ML_JSON_KSTR(j, "schema", "memlens.info/1");
		ML_JSON_KI64(j, "pid", ci->pid);
		ML_JSON_KSTR(j, "source", "core");
		ml_json_key(j, "core");
		ml_json_obj_begin(j);
		ml_json_key(j, "comm");
		ci->have_prpsinfo ? ml_json_str(j, ci->comm, strlen(ci->comm)) : ml_json_null(j);
		ml_json_key(j, "psargs");
		ci->have_prpsinfo ? ml_json_str(j, ci->psargs, strlen(ci->psargs)) : ml_json_null(j);
		char st[2] = { ci->state, 0 };
		ml_json_key(j, "state");
		ci->state ? ml_json_cstr(j, st) : ml_json_null(j);
		if (ci->have_prpsinfo) {
			ML_JSON_KI64(j, "ppid", ci->ppid);
			ML_JSON_KI64(j, "pgrp", ci->pgrp);
			ML_JSON_KI64(j, "sid", ci->sid);
			ML_JSON_KU64(j, "uid", ci->uid);
			ML_JSON_KU64(j, "gid", ci->gid);
		}
		ML_JSON_KU64(j, "thread_count", ci->nthreads);
		if (threads) {
			ml_json_key(j, "threads");
			ml_json_arr_begin(j);
			for (size_t i = 0; i < ci->nthreads; i++) {
				const ml_core_thread *t = &ci->threads[i];
				ml_json_obj_begin(j);
				ML_JSON_KI64(j, "tid", t->tid);
				ML_JSON_KI64(j, "signal", t->cursig);
				if (t->have_regs) {
					ML_JSON_KADDR(j, "pc", t->pc);
					ML_JSON_KADDR(j, "sp", t->sp);
				}
				ml_json_obj_end(j);
			}
			ml_json_arr_end(j);
		}
		ml_json_key(j, "siginfo");
		if (ci->have_siginfo) {
			ml_json_obj_begin(j);
			ML_JSON_KI64(j, "signo", ci->signo);
			ML_JSON_KI64(j, "code", ci->sigcode);
			ML_JSON_KI64(j, "errno", ci->sigerrno);
			if (ci->sigcode <= 0) {
				ML_JSON_KI64(j, "sender_pid", ci->sender_pid);
				ML_JSON_KU64(j, "sender_uid", ci->sender_uid);
			} else {
				ML_JSON_KADDR(j, "addr", ci->sigaddr);
			}
			ml_json_obj_end(j);
		} else {
			ml_json_null(j);
		}
		ML_JSON_KU64(j, "mapped_files", ci->nfiles);
		ML_JSON_KU64(j, "notes", ci->nnotes);
		ml_json_obj_end(j);
		ml_json_obj_end(j);
		ml_json_line_end(j);
		return;
	}
	printf("pid          %d", (int)ci->pid);
	if (ci->have_prpsinfo) {
		printf("  ");
		ml_cli_put_escaped(stdout, ci->comm, strlen(ci->comm));
		if (ci->state)
			printf("  state %c", ci->state);
	}
	printf("  [core]\n");
	if (ci->have_prpsinfo) {
		/* the kernel keeps the first 80 bytes of the command line, NULs made spaces */
		printf("command      ");
		ml_cli_put_escaped(stdout, ci->psargs, strlen(ci->psargs));
		printf("%s\n", strlen(ci->psargs) >= 79 ? "  (first 80 bytes)" : "");
		struct passwd *pw = getpwuid(ci->uid);
		printf("user         %s (uid %u, gid %u)  parent %d\n", pw ? pw->pw_name : "?", (unsigned)ci->uid,
		       (unsigned)ci->gid, (int)ci->ppid);
	}
	printf("threads      %zu", ci->nthreads);
	for (size_t i = 0; i < ci->nthreads && i < 16; i++)
		printf("%s%d", i ? " " : ": ", (int)ci->threads[i].tid);
	printf("%s\n", ci->nthreads > 16 ? " ..." : "");
	if (ci->have_siginfo) {
		const char *n = sig_name(ci->signo);
		printf("signal       %s (%d), code %d", n ? n : "?", ci->signo, ci->sigcode);
		if (ci->sigcode <= 0)
			printf(", sent by pid %d (uid %u)", (int)ci->sender_pid, (unsigned)ci->sender_uid);
		else if (ci->signo == SIGSEGV || ci->signo == SIGBUS || ci->signo == SIGILL || ci->signo == SIGFPE ||
			 ci->signo == SIGTRAP)
			printf(", at 0x%llx", (unsigned long long)ci->sigaddr);
		putchar('\n');
	}
	printf("files        %zu mapped (NT_FILE)\n", ci->nfiles);
}

static int info_one(args a, const char *spec)
{
	human = a.human;
	ml_source *s;
	int r = ml_cli_source_open(spec, &s);
	if (r)
		return r;
	if (a.show) {
		r = ml_info_show(spec, s, a.show, a.json, a.human);
		ml_source_free(s);
		return r;
	}
	info in;
	memset(&in, 0, sizeof(in));
	in.pid = ml_source_pid(s);
	in.live = ml_source_get_type(s) == ML_SOURCE_LIVE;
	in.proc = ml_source_proc(s);
	in.nfds = -1;

	read_status(&in, s);
	ml_core_info *ci;
	if (!in.status && !in.live && in.nerrs && in.errs[0].err == -ENOENT && ml_source_core_info(s, &ci) == 0) {
		/* a core file without saved /proc files: its notes */
		print_core(ci, a.json, !a.no_threads);
		ml_core_info_free(ci);
		int rc = fflush(stdout) == 0 ? ML_EXIT_OK : ML_EXIT_ERROR;
		if (ml_source_partial(s) && rc == ML_EXIT_OK)
			rc = ML_EXIT_PARTIAL; /* said when opened */
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
				ml_cli_is_gzip(spec) ? " (a gzip core export keeps memory and notes only)" : "");
			return ML_EXIT_ERROR;
		}
		return in.live ? ml_cli_pid_error(in.pid, "cannot read status", err)
			      : ml_cli_file_error(spec, "cannot read the saved status", err);
	}
	read_stat(&in, s);
	read_cmdline(&in, s);
	if (in.live)
		read_live(&in, a.json && !a.no_threads);
	read_rollup(&in, s);
	read_limits(&in, s);
	read_coredump(&in, s);
	read_oom(&in, s);
	read_ksm(&in, s);
	read_cgroup(&in, s);
	if (in.live)
		read_namespaces(&in);
	/* The process may have exited while we read: then nothing above can be trusted. */
	if (in.live && ml_proc_check(in.proc) == -ESRCH && in.status->state != 'Z') {
		info_free(&in);
		ml_source_free(s);
		return ml_cli_pid_error(in.pid, "process exited while being read", -ESRCH);
	}
	if (a.json)
		print_json(&in, !a.no_threads);
	else
		print_human(&in);
	int rc = ML_EXIT_OK;
	bool zombie = in.status->state == 'Z';
	if (zombie) {
		/* Everything tied to the address space is gone: one line says why, not five. */
		fprintf(stderr, "memlens: pid %d: a zombie (exited; parent %d has not reaped it): "
				"only what the kernel keeps is shown\n", (int)in.pid, (int)in.status->ppid);
		rc = ML_EXIT_PARTIAL;
	}
	for (size_t i = 0; i < in.nerrs; i++) {
		if (zombie && in.errs[i].err == -ESRCH)
			continue;
		char what[256];
		snprintf(what, sizeof(what), "cannot read %s", in.errs[i].what);
		if (in.live)
			ml_cli_pid_error(in.pid, what, in.errs[i].err);
		else
			ml_cli_file_error(spec, what, in.errs[i].err);
		rc = ML_EXIT_PARTIAL;
	}
	info_free(&in);
	ml_source_free(s);
	return rc;
}

static int info_one_cb(void *argp, const char *spec) { return info_one(*(const args *)argp, spec); }

int cmd_info(int argc, char **argv)
{
	args a = { .human = ml_cli_stdout_tty() };
	int first;
	int pr = ml_cli_parse(&cmd, argc, argv, on_opt, &a, &first);
	if (pr != 0) {
		ml_sel_free(&a.sel);
		return pr > 0 ? ML_EXIT_OK : ML_EXIT_USAGE;
	}
	return ml_sel_run(&a.sel, &cmd, argc, argv, first, a.json, info_one_cb, &a);
}
