/* memlens ps: one line per process with RSS, PSS, USS, swap PSS and the anon/file/shmem split, from smaps_rollup. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/json.h"
#include "common/progress.h"
#include "common/prom.h"
#include "common/table.h"

int cmd_ps(int argc, char **argv);

enum {
	O_SORT = 256, O_BY, O_JSON, O_BYTES, O_USER, O_NAME, O_PGREP, O_CGROUP, O_NO_TOTALS, O_STRICT,
	O_PROM, O_TEXTFILE,
};

static const cli_opt opts[] = {
	{ "sort", 's', 1, "FIELD", "sort by pid, user, command, rss, pss (default), uss, swap, anon, file, shmem" },
	{ "reverse", 'r', 0, NULL, "reverse the order (largest first is the default for sizes)" },
	{ "by", O_BY, 1, "KEY", "one line per user, cgroup or name, with the sums of its processes" },
	{ "pid", 'p', 1, "PID,...", "only these processes (repeatable)" },
	{ "user", O_USER, 1, "USER", "only processes whose effective user is USER (name or UID)" },
	{ "name", O_NAME, 1, "COMM", "only processes whose comm is exactly COMM" },
	{ "pgrep", O_PGREP, 1, "REGEX", "only processes whose comm matches REGEX (POSIX extended, like pgrep)" },
	{ "full", 'f', 0, NULL, "--pgrep matches the full command line (like pgrep -f)" },
	{ "cgroup", O_CGROUP, 1, "PATH", "only processes in this cgroup (v2 path) or beneath it" },
	{ "json", O_JSON, 0, NULL, "one JSON document: processes (or groups), totals, and the processes not read" },
	{ "prometheus", O_PROM, 0, NULL, "Prometheus text exposition format on stdout (or into --textfile)" },
	{ "textfile", O_TEXTFILE, 1, "FILE", "write the Prometheus metrics atomically into FILE (node_exporter's textfile collector)" },
	{ "bytes", O_BYTES, 0, NULL, "exact bytes (the default when stdout is not a terminal)" },
	{ "no-totals", O_NO_TOTALS, 0, NULL, "leave out the totals line" },
	{ "strict", O_STRICT, 0, NULL, "exit 1 when any process could not be read (by default only a process named with -p)" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const cli_cmd cmd = {
	.name = "ps",
	.usage = "[options] [NAME...]",
	.summary = "One line per process with its user, command line and memory from smaps_rollup: RSS,\n"
		   "PSS (each shared page divided among the processes that map it), USS (pages only this\n"
		   "process maps), swap PSS, and PSS split into anonymous, file and shmem. NAME selects\n"
		   "processes by exact comm. Processes that could not be read are counted and named in a\n"
		   "summary line on stderr, never dropped silently. Exit status: 0, also when processes of\n"
		   "other users were denied to a non-root user (named on stderr); 1 when a process named\n"
		   "with -p could not be read (any process with --strict); 2 error; 64 usage.",
	.opts = opts,
	.min_args = 0,
	.max_args = -1,
};

enum { F_PID, F_USER, F_CMD, F_RSS, F_PSS, F_USS, F_SWAP, F_ANON, F_FILE, F_SHMEM };
static const char *const sort_names[] = { "pid", "user", "command", "rss", "pss", "uss", "swap", "anon", "file", "shmem", NULL };
enum { BY_NONE, BY_USER, BY_CGROUP, BY_NAME };

#define NSIZES 7 /* rss pss uss swap anon file shmem */
static const char *const size_hdr[NSIZES] = { "RSS", "PSS", "USS", "SWAPPSS", "ANON", "FILE", "SHMEM" };
static const char *const size_key[NSIZES] = { "rss", "pss", "uss", "swap_pss", "pss_anon", "pss_file", "pss_shmem" };

typedef struct row {
	pid_t pid;
	uid_t uid;
	char *user, *comm, *cmd, *cgroup; /* NUL-terminated; comm and cmd exact bytes */
	size_t comm_len, cmd_len, cgroup_len;
	uint64_t v[NSIZES];
	unsigned have; /* bit i: v[i] was read (a kernel may lack Pss_Anon...) */
	size_t nprocs; /* in a --by group */
} row;

typedef struct bad {
	pid_t pid;
	char *comm;   /* as the tables show it (escaped); NULL when not known (its /proc directory was denied) */
	char raw[64]; /* as it is, for JSON (which escapes it in its own way) */
	size_t raw_len;
	int err;
	bool examined; /* false: denied before the filters were decided (hidepid) */
	bool dir_denied;
} bad;

typedef struct args {
	int sort;
	bool sort_set, reverse, json, prom, bytes, no_totals, strict, full;
	int by;
	pid_t *pids;
	size_t npids;
	const char *user, *name, *pgrep, *cgroup, *textfile;
	bool have_uid;
	uid_t uid;
} args;

static int add_pids(args *a, const char *s)
{
	char *copy = strdup(s), *save = NULL;
	if (!copy)
		return -1;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		pid_t pid;
		if (!cli_parse_pid(t, &pid)) {
			cli_usage_error(&cmd, "-p: '%s' is not a PID", t);
			free(copy);
			return -1;
		}
		pid_t *n = realloc(a->pids, (a->npids + 1) * sizeof(*n));
		if (!n) {
			free(copy);
			return -1;
		}
		a->pids = n;
		a->pids[a->npids++] = pid;
	}
	free(copy);
	return 0;
}

static int on_opt(int key, const char *arg, void *ctx)
{
	args *a = ctx;
	switch (key) {
	case 's':
		for (int i = 0; sort_names[i]; i++)
			if (!strcmp(arg, sort_names[i])) {
				a->sort = i;
				a->sort_set = true;
				return 0;
			}
		return cli_usage_error(&cmd, "--sort: unknown field '%s' (pid, user, command, rss, pss, uss, swap, anon, file, shmem)", arg), -1;
	case 'r': a->reverse = true; break;
	case O_BY:
		if (!strcmp(arg, "user"))
			a->by = BY_USER;
		else if (!strcmp(arg, "cgroup"))
			a->by = BY_CGROUP;
		else if (!strcmp(arg, "name"))
			a->by = BY_NAME;
		else
			return cli_usage_error(&cmd, "--by: '%s' is not user, cgroup or name", arg), -1;
		break;
	case 'p': return add_pids(a, arg);
	case O_USER: {
		a->user = arg;
		struct passwd *pw = getpwnam(arg);
		pid_t n;
		if (pw)
			a->uid = pw->pw_uid;
		else if (!strcmp(arg, "0"))
			a->uid = 0;
		else if (cli_parse_pid(arg, &n))
			a->uid = (uid_t)n;
		else
			return cli_usage_error(&cmd, "--user: no such user '%s'", arg), -1;
		a->have_uid = true;
		break;
	}
	case O_NAME: a->name = arg; break;
	case O_PGREP: a->pgrep = arg; break;
	case 'f': a->full = true; break;
	case O_CGROUP: a->cgroup = arg; break;
	case O_JSON: a->json = true; break;
	case O_PROM: a->prom = true; break;
	case O_TEXTFILE: a->textfile = arg; a->prom = true; break;
	case O_BYTES: a->bytes = true; break;
	case O_NO_TOTALS: a->no_totals = true; break;
	case O_STRICT: a->strict = true; break;
	default: return -1;
	}
	return 0;
}

/* User names, looked up once per UID. */
typedef struct ucache {
	uid_t uid;
	char *name;
} ucache;
static ucache *users;
static size_t nusers;

static const char *user_name(uid_t uid)
{
	for (size_t i = 0; i < nusers; i++)
		if (users[i].uid == uid)
			return users[i].name;
	struct passwd *pw = getpwuid(uid);
	char num[24];
	snprintf(num, sizeof(num), "%u", (unsigned)uid);
	ucache *n = realloc(users, (nusers + 1) * sizeof(*n));
	if (!n)
		return "?";
	users = n;
	users[nusers].uid = uid;
	users[nusers].name = strdup(pw ? pw->pw_name : num);
	return users[nusers++].name ? users[nusers - 1].name : "?";
}

static char *dupbytes(const char *s, size_t len)
{
	char *d = malloc(len + 1);
	if (d) {
		if (len)
			memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

/* The command line as smem and ps show it: arguments joined by spaces; "[comm]" when empty. */
static char *command_of(const ml_procs_entry *e, size_t *len)
{
	size_t l = e->cmdline.len;
	while (l && e->cmdline.ptr[l - 1] == '\0')
		l--;
	if (!l) {
		char *s = malloc(e->comm.len + 3);
		if (!s)
			return NULL;
		s[0] = '[';
		memcpy(s + 1, e->comm.ptr, e->comm.len);
		s[e->comm.len + 1] = ']';
		s[e->comm.len + 2] = '\0';
		*len = e->comm.len + 2;
		return s;
	}
	char *s = dupbytes(e->cmdline.ptr, l);
	if (!s)
		return NULL;
	for (size_t i = 0; i < l; i++)
		if (s[i] == '\0')
			s[i] = ' ';
	*len = l;
	return s;
}

static void row_free(row *r)
{
	free(r->user);
	free(r->comm);
	free(r->cmd);
	free(r->cgroup);
}

static const args *sort_args;

static int cmp_rows(const void *pa, const void *pb)
{
	const row *a = pa, *b = pb;
	int c = 0;
	switch (sort_args->sort) {
	case F_PID: c = (a->pid > b->pid) - (a->pid < b->pid); break;
	case F_USER: c = strcmp(a->user, b->user); break;
	case F_CMD: c = strcmp(a->cmd, b->cmd); break;
	default: {
		int i = sort_args->sort - F_RSS;
		/* sizes: largest first */
		c = (a->v[i] < b->v[i]) - (a->v[i] > b->v[i]);
	}
	}
	if (!c)
		c = (a->pid > b->pid) - (a->pid < b->pid);
	return sort_args->reverse ? -c : c;
}

/* Adds @r into the group of the same key in @g (by user, cgroup or name). */
static int group_add(row **g, size_t *ng, const row *r, int by)
{
	const char *key = by == BY_USER ? r->user : by == BY_CGROUP ? r->cgroup : r->comm;
	size_t klen = by == BY_USER ? strlen(r->user) : by == BY_CGROUP ? r->cgroup_len : r->comm_len;
	for (size_t i = 0; i < *ng; i++) {
		row *x = &(*g)[i];
		if (x->cmd_len == klen && !memcmp(x->cmd, key, klen)) {
			for (int k = 0; k < NSIZES; k++)
				x->v[k] += r->v[k];
			x->have &= r->have;
			x->nprocs++;
			return 0;
		}
	}
	row *n = realloc(*g, (*ng + 1) * sizeof(*n));
	if (!n)
		return -1;
	*g = n;
	row *x = &n[(*ng)++];
	memset(x, 0, sizeof(*x));
	x->cmd = dupbytes(key, klen);
	x->cmd_len = klen;
	x->user = strdup(by == BY_USER ? r->user : "");
	if (!x->cmd || !x->user)
		return -1;
	memcpy(x->v, r->v, sizeof(x->v));
	x->have = r->have;
	x->nprocs = 1;
	return 0;
}

/* The text of @s as the table prints it: escaped so nothing is lost or ambiguous. */
static char *escaped(const char *s, size_t len)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	if (!f)
		return NULL;
	cli_put_escaped(f, s, len);
	fclose(f);
	return buf;
}

static void print_table(const args *a, const row *rows, size_t n, const row *tot, bool human)
{
	bool grouped = a->by != BY_NONE;
	const char *key_hdr = a->by == BY_USER ? "USER" : a->by == BY_CGROUP ? "CGROUP" : "NAME";
	const char *hdr[3 + NSIZES];
	bool right[3 + NSIZES];
	size_t nc = 0;
	if (grouped) {
		hdr[nc] = "PROCS", right[nc++] = true;
	} else {
		hdr[nc] = "PID", right[nc++] = true;
		hdr[nc] = "USER", right[nc++] = false;
	}
	for (int k = 0; k < NSIZES; k++)
		hdr[nc] = size_hdr[k], right[nc++] = true;
	hdr[nc] = grouped ? key_hdr : "COMMAND", right[nc++] = false;
	table *t = table_new(nc, hdr, right);
	if (!t)
		return;
	char cells[3 + NSIZES][32];
	const char *c[3 + NSIZES];
	for (size_t i = 0; i <= n; i++) {
		const row *r = i < n ? &rows[i] : tot;
		if (i == n) {
			if (a->no_totals)
				break;
			table_rule(t);
		}
		size_t k = 0;
		if (grouped) {
			snprintf(cells[k], 32, "%zu", r->nprocs);
			c[k] = cells[k], k++;
		} else {
			if (i < n)
				snprintf(cells[k], 32, "%d", (int)r->pid);
			else
				cells[k][0] = '\0';
			c[k] = cells[k], k++;
			c[k++] = i < n ? r->user : "";
		}
		for (int s = 0; s < NSIZES; s++, k++) {
			if (r->have & (1u << s))
				c[k] = cli_fmt_size(cells[k], r->v[s], human);
			else
				c[k] = "-"; /* not read: never a zero */
		}
		char *name = i < n ? escaped(r->cmd, r->cmd_len) : NULL;
		char totname[64];
		snprintf(totname, sizeof(totname), "total (%zu process%s)", r->nprocs, r->nprocs == 1 ? "" : "es");
		c[k++] = i < n ? (name ? name : "?") : grouped ? "total" : totname;
		table_add(t, c);
		free(name);
	}
	table_print(t, stdout);
	table_free(t);
}

static void json_sizes(json_writer *j, const row *r)
{
	for (int k = 0; k < NSIZES; k++) {
		json_key(j, size_key[k]);
		if (r->have & (1u << k))
			json_u64(j, r->v[k]);
		else
			json_null(j);
	}
}

static void print_json(const args *a, const row *rows, size_t n, const row *tot, const bad *bads, size_t nbad,
		       size_t gone)
{
	json_writer j;
	json_init(&j, stdout);
	json_obj_begin(&j);
	JSON_KSTR(&j, "schema", "memlens.ps/1");
	json_key(&j, a->by == BY_NONE ? "processes" : "groups");
	json_arr_begin(&j);
	for (size_t i = 0; i < n; i++) {
		const row *r = &rows[i];
		json_obj_begin(&j);
		if (a->by == BY_NONE) {
			JSON_KI64(&j, "pid", r->pid);
			JSON_KU64(&j, "uid", r->uid);
			JSON_KSTR(&j, "user", r->user);
			json_key(&j, "comm");
			json_str(&j, r->comm, r->comm_len);
			json_key(&j, "command");
			json_str(&j, r->cmd, r->cmd_len);
			json_key(&j, "cgroup");
			json_str(&j, r->cgroup, r->cgroup_len);
		} else {
			json_key(&j, a->by == BY_USER ? "user" : a->by == BY_CGROUP ? "cgroup" : "name");
			json_str(&j, r->cmd, r->cmd_len);
			JSON_KU64(&j, "processes", r->nprocs);
		}
		json_sizes(&j, r);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "totals");
	json_obj_begin(&j);
	JSON_KU64(&j, "processes", tot->nprocs);
	json_sizes(&j, tot);
	json_obj_end(&j);
	json_key(&j, "unreadable");
	json_arr_begin(&j);
	for (size_t i = 0; i < nbad; i++) {
		json_obj_begin(&j);
		JSON_KI64(&j, "pid", bads[i].pid);
		json_key(&j, "comm");
		if (bads[i].comm)
			json_str(&j, bads[i].raw, bads[i].raw_len);
		else
			json_null(&j);
		JSON_KSTR(&j, "error", ml_strerror(bads[i].err));
		JSON_KBOOL(&j, "examined", bads[i].examined);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	JSON_KU64(&j, "exited", gone);
	json_obj_end(&j);
	json_line_end(&j);
}

static const char *const prom_help[NSIZES] = {
	"Resident set size (smaps_rollup Rss).",
	"Proportional set size: each resident page divided by the number of processes mapping it (smaps_rollup Pss).",
	"Unique set size: pages mapped by this process only (Private_Clean + Private_Dirty + Private_Hugetlb).",
	"Proportional share of swapped-out pages (smaps_rollup SwapPss).",
	"PSS of anonymous memory (smaps_rollup Pss_Anon).",
	"PSS of file-backed memory (smaps_rollup Pss_File).",
	"PSS of shared memory (smaps_rollup Pss_Shmem).",
};

static void print_prom(FILE *f, const row *rows, size_t n, size_t nbad, size_t nunexamined, size_t gone)
{
	for (int k = 0; k < NSIZES; k++) {
		char name[64];
		snprintf(name, sizeof(name), "memlens_process_%s_bytes", size_key[k]);
		prom_family(f, name, prom_help[k], "gauge");
		for (size_t i = 0; i < n; i++) {
			const row *r = &rows[i];
			if (!(r->have & (1u << k)))
				continue; /* not read: no sample rather than a zero */
			char pid[16];
			snprintf(pid, sizeof(pid), "%d", (int)r->pid);
			const prom_label l[] = {
				{ "pid", pid, strlen(pid) },
				{ "comm", r->comm, r->comm_len },
				{ "user", r->user, strlen(r->user) },
				{ "cgroup", r->cgroup, r->cgroup_len },
			};
			prom_sample(f, name, l, 4, r->v[k]);
		}
	}
	prom_family(f, "memlens_ps_processes", "Processes whose smaps_rollup was read.", "gauge");
	prom_sample(f, "memlens_ps_processes", NULL, 0, n);
	prom_family(f, "memlens_ps_unreadable_processes",
		    "Processes that could not be read (permission denied or another error), not exited ones.", "gauge");
	prom_sample(f, "memlens_ps_unreadable_processes", NULL, 0, nbad);
	prom_family(f, "memlens_ps_unexamined_processes",
		    "Of the unreadable processes, those denied before the filters could be applied (/proc mounted "
		    "with hidepid): whether they are in the selection is unknown.", "gauge");
	prom_sample(f, "memlens_ps_unexamined_processes", NULL, 0, nunexamined);
	prom_family(f, "memlens_ps_exited_processes", "Processes that exited between the listing and the read.", "gauge");
	prom_sample(f, "memlens_ps_exited_processes", NULL, 0, gone);
}

typedef struct prom_ctx {
	const row *rows;
	size_t n, nbad, nunexamined, gone;
} prom_ctx;

static void prom_cb(FILE *f, void *ctx)
{
	const prom_ctx *c = ctx;
	print_prom(f, c->rows, c->n, c->nbad, c->nunexamined, c->gone);
}

static bool wanted_pid(const args *a, pid_t pid)
{
	if (!a->npids)
		return true;
	for (size_t i = 0; i < a->npids; i++)
		if (a->pids[i] == pid)
			return true;
	return false;
}

static bool wanted_name(const ml_bstr *comm, char **names, size_t nnames)
{
	if (!nnames)
		return true;
	for (size_t i = 0; i < nnames; i++)
		if (strlen(names[i]) == comm->len && !memcmp(names[i], comm->ptr, comm->len))
			return true;
	return false;
}

/* Appends a process not read to @bads (comm escaped, or NULL when @comm is empty and not
 * known); -1 out of memory. */
static int bad_add(bad **bads, size_t *nbad, size_t *cap, pid_t pid, const ml_bstr *comm, int err, bool examined,
		   bool dir_denied)
{
	if (*nbad == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		bad *nb = realloc(*bads, *cap * sizeof(*nb));
		if (!nb)
			return -1;
		*bads = nb;
	}
	bad *b = &(*bads)[*nbad];
	b->pid = pid;
	b->comm = examined || comm->len ? escaped(comm->ptr, comm->len) : NULL;
	b->raw_len = comm->len < sizeof(b->raw) ? comm->len : sizeof(b->raw);
	if (b->raw_len)
		memcpy(b->raw, comm->ptr, b->raw_len);
	b->err = err;
	b->examined = examined;
	b->dir_denied = dir_denied;
	if ((examined || comm->len) && !b->comm)
		return -1;
	(*nbad)++;
	return 0;
}

/*
 * The summary on stderr of the processes not read: those read as far as their memory
 * (@examined), or those denied before that, whose selection is unknown. One line each.
 */
static void print_bads(const args *a, const bad *bads, size_t nbad, bool examined, bool filtered)
{
	size_t k = 0;
	bool dir = false;
	int err0 = 0;
	for (size_t i = 0; i < nbad; i++)
		if (bads[i].examined == examined) {
			if (!k++)
				err0 = bads[i].err;
			dir |= bads[i].dir_denied;
		}
	if (!k)
		return;
	fprintf(stderr, "memlens ps: %zu process%s not %s:", k, k == 1 ? "" : "es", examined ? "read" : "examined");
	size_t j = 0;
	for (size_t i = 0; i < nbad; i++) {
		const bad *b = &bads[i];
		if (b->examined != examined)
			continue;
		if (examined)
			fprintf(stderr, "%s %d (%s: %s)", j++ ? "," : "", (int)b->pid, b->comm ? b->comm : "?",
				ml_strerror(b->err));
		else if (b->comm && b->err != err0)
			fprintf(stderr, "%s %d (%s: %s)", j++ ? "," : "", (int)b->pid, b->comm, ml_strerror(b->err));
		else if (b->comm)
			fprintf(stderr, "%s %d (%s)", j++ ? "," : "", (int)b->pid, b->comm);
		else if (b->err != err0)
			fprintf(stderr, "%s %d (%s)", j++ ? "," : "", (int)b->pid, ml_strerror(b->err));
		else
			fprintf(stderr, "%s %d", j++ ? "," : "", (int)b->pid);
	}
	if (!examined) {
		fprintf(stderr, ": %s", ml_strerror(err0));
		if (dir)
			fputs(" (/proc is mounted with hidepid: /proc/PID is denied)", stderr);
		if (filtered)
			fputs("; whether they match the selection is unknown", stderr);
		else if (!a->npids)
			fputs("; kernel threads among them cannot be told apart", stderr);
	}
	fprintf(stderr, "%s\n", geteuid() ? "; run as root to read every process" : "");
}

int cmd_ps(int argc, char **argv)
{
	args a = { .sort = F_PSS };
	int first;
	int r = cli_parse(&cmd, argc, argv, on_opt, &a, &first);
	if (r) {
		free(a.pids);
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	int rc = CLI_EXIT_ERROR, textfile_rc = 0;
	row *rows = NULL, *groups = NULL;
	bad *bads = NULL;
	size_t n = 0, nbad = 0, ngroups = 0, gone = 0;
	progress_line pg = { 0 }; /* processes read so far, on a terminal only; erased before any output */
	ml_procs *it = NULL;
	if (a.json + a.prom > 1) {
		rc = cli_usage_error(&cmd, "--json and --prometheus cannot be combined");
		goto out;
	}
	if (a.prom && a.by != BY_NONE) {
		rc = cli_usage_error(&cmd, "--prometheus writes one series per process; group with PromQL (sum by (user))");
		goto out;
	}
	if (a.full && !a.pgrep) {
		rc = cli_usage_error(&cmd, "-f applies to --pgrep");
		goto out;
	}
	if (a.textfile) {
		rc = prom_textfile_check(a.textfile);
		if (rc)
			goto out;
		rc = CLI_EXIT_ERROR;
	}
	ML_OPTS(ml_procs_opts, po, .comm = a.name, .pattern = a.pgrep, .full = a.full, .match_uid = a.have_uid,
		.uid = a.uid, .cgroup = a.cgroup, .want = ML_PROCS_CMDLINE | ML_PROCS_CGROUP);
	r = ml_procs_open(&po, &it);
	if (r == -EINVAL && a.pgrep) {
		rc = cli_usage_error(&cmd, "--pgrep: '%s' is not a valid extended regular expression", a.pgrep);
		goto out;
	}
	if (r < 0) {
		cli_file_error("/proc", "cannot list processes", r);
		goto out;
	}
	size_t cap = 0, bcap = 0;
	bool named_failed = false, other_failed = false;
	const ml_procs_entry *e;
	progress_init(&pg, "ps", false);
	while ((r = ml_procs_next(it, &e)) == 1) {
		if (!wanted_pid(&a, e->pid) || !wanted_name(&e->comm, argv + first, (size_t)(argc - first)))
			continue;
		progress_count(&pg, "processes", n + nbad + gone);
		ml_proc *p = NULL;
		ml_smaps_rollup *ru = NULL;
		r = ml_procs_proc(it, &p);
		if (r == 0)
			r = ml_smaps_rollup_read(p, &ru);
		ml_proc_free(p);
		if (r == -ESRCH) {
			gone++; /* exited (or a zombie) since it was listed */
			continue;
		}
		if (r < 0) {
			if (bad_add(&bads, &nbad, &bcap, e->pid, &e->comm, r, true, false) < 0)
				goto oom;
			if (a.npids)
				named_failed = true;
			if (r != -EACCES && r != -EPERM)
				other_failed = true;
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			row *nr = realloc(rows, cap * sizeof(*nr));
			if (!nr) {
				ml_smaps_rollup_free(ru);
				goto oom;
			}
			rows = nr;
		}
		row *w = &rows[n++];
		memset(w, 0, sizeof(*w));
		w->pid = e->pid;
		w->uid = e->euid;
		w->user = strdup(user_name(e->euid));
		w->comm = dupbytes(e->comm.ptr, e->comm.len);
		w->comm_len = e->comm.len;
		w->cmd = command_of(e, &w->cmd_len);
		w->cgroup = dupbytes(e->cgroup.ptr, e->cgroup.len);
		w->cgroup_len = e->cgroup.len;
		w->nprocs = 1;
		const ml_smaps_fields *f = &ru->f;
		static const ml_smaps_field src[NSIZES] = { ML_SMAPS_RSS, ML_SMAPS_PSS, ML_SMAPS_NFIELDS, ML_SMAPS_SWAP_PSS,
							    ML_SMAPS_PSS_ANON, ML_SMAPS_PSS_FILE, ML_SMAPS_PSS_SHMEM };
		for (int k = 0; k < NSIZES; k++) {
			if (src[k] == ML_SMAPS_NFIELDS) {
				/* USS needs both private counts */
				uint64_t need = (1ull << ML_SMAPS_PRIVATE_CLEAN) | (1ull << ML_SMAPS_PRIVATE_DIRTY);
				if ((f->present & need) == need) {
					w->v[k] = ml_smaps_uss(f);
					w->have |= 1u << k;
				}
			} else if (f->present & (1ull << src[k])) {
				w->v[k] = f->v[src[k]];
				w->have |= 1u << k;
			}
		}
		/* a kernel thread reads as an empty rollup: no memory of its own to show */
		if (!f->present)
			w->have = 0;
		ml_smaps_rollup_free(ru);
		if (!w->user || !w->comm || !w->cmd || !w->cgroup)
			goto oom;
	}
	progress_clear(&pg);
	if (r < 0) {
		cli_file_error("/proc", "cannot list processes", r);
		goto out;
	}
	ml_procs_stats st = ml_procs_get_stats(it);
	gone += st.gone;
	/*
	 * Processes denied before they could be examined (another user's under hidepid=1):
	 * their PIDs are known, so -p applies; a name or filter may not have been decided.
	 */
	size_t nunexamined = 0;
	for (size_t i = 0; i < st.denied; i++) {
		const ml_procs_denied *d = ml_procs_get_denied(it, i);
		if (!d || !wanted_pid(&a, d->pid))
			continue;
		if (d->comm.len && !wanted_name(&d->comm, argv + first, (size_t)(argc - first)))
			continue;
		if (bad_add(&bads, &nbad, &bcap, d->pid, &d->comm, d->err, false, d->dir_denied) < 0)
			goto oom;
		nunexamined++;
		if (a.npids)
			named_failed = true;
	}
	/* -p PIDs that were never listed: they do not exist (or are kernel threads) */
	for (size_t i = 0; i < a.npids; i++) {
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = rows[k].pid == a.pids[i];
		for (size_t k = 0; k < nbad && !found; k++)
			found = bads[k].pid == a.pids[i];
		if (!found) {
			cli_pid_error(a.pids[i], "not listed", -ESRCH);
			named_failed = true;
		}
	}

	row tot = { .have = ~0u };
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < NSIZES; k++)
			tot.v[k] += rows[i].v[k];
		if (rows[i].have) /* kernel threads have nothing and do not make a total unknown */
			tot.have &= rows[i].have;
	}
	tot.have &= (1u << NSIZES) - 1;
	tot.nprocs = n;

	const row *out_rows = rows;
	size_t nout = n;
	if (a.by != BY_NONE) {
		for (size_t i = 0; i < n; i++)
			if (group_add(&groups, &ngroups, &rows[i], a.by) < 0)
				goto oom;
		out_rows = groups;
		nout = ngroups;
	}
	if (!a.sort_set && a.by != BY_NONE)
		a.sort = F_PSS;
	if (a.by != BY_NONE && a.sort == F_PID) {
		rc = cli_usage_error(&cmd, "--sort=pid does not apply to --by groups");
		goto out;
	}
	sort_args = &a;
	if (nout)
		qsort((void *)out_rows, nout, sizeof(row), cmp_rows);

	bool human = !a.bytes && cli_stdout_tty();
	if (a.textfile) {
		prom_ctx pc = { rows, n, nbad, nunexamined, gone };
		textfile_rc = prom_textfile_write(a.textfile, prom_cb, &pc);
		if (textfile_rc == CLI_EXIT_ERROR)
			goto out;
	}
	if (a.json)
		print_json(&a, out_rows, nout, &tot, bads, nbad, gone);
	else if (a.prom && !a.textfile)
		print_prom(stdout, rows, n, nbad, nunexamined, gone);
	else if (!a.prom)
		print_table(&a, out_rows, nout, &tot, human);

	/* every unreadable process named, so nothing is dropped silently: one line for those
	 * whose memory was denied, one for those denied before they could be examined */
	bool filtered = a.name || a.pgrep || a.have_uid || a.cgroup || argc > first;
	print_bads(&a, bads, nbad, true, filtered);
	print_bads(&a, bads, nbad, false, filtered);
	rc = named_failed || other_failed || (a.strict && nbad) || textfile_rc ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
	goto out;
oom:
	progress_clear(&pg);
	fprintf(stderr, "memlens ps: out of memory\n");
	rc = CLI_EXIT_ERROR;
out:
	ml_procs_free(it);
	for (size_t i = 0; i < n; i++)
		row_free(&rows[i]);
	for (size_t i = 0; i < ngroups; i++)
		row_free(&groups[i]);
	for (size_t i = 0; i < nbad; i++)
		free(bads[i].comm);
	free(rows);
	free(groups);
	free(bads);
	free(a.pids);
	for (size_t i = 0; i < nusers; i++)
		free(users[i].name);
	free(users);
	users = NULL;
	nusers = 0;
	return rc;
}
