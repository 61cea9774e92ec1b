/* memlens info --show: every Process method reachable by its procfs name, as text or JSON. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/json.h"
#include "info/show.h"

/* ---- one writer, two formats: JSON, or an indented "key: value" outline ---- */

#define EM_DEPTH 16

typedef struct em {
	bool json, human;
	ml_json j;
	int depth;                 /* text: open containers (0: the document) */
	bool arr[EM_DEPTH];        /* text: the container at each depth is an array */
	bool item[EM_DEPTH];       /* text: it is an item of an array */
	bool opened[EM_DEPTH];     /* text: its header line was printed */
	bool dash[EM_DEPTH];       /* text: an object item whose first line still owes "- " */
	char hkey[EM_DEPTH][256];   /* text: its key, printed with its first child */
	char key[256];             /* text: the key of the next value */
} em;

static void indent(int n)
{
	for (int i = 0; i < n; i++)
		fputs("  ", stdout);
}

/* The start of a line at @level: an object item's first line carries its dash. */
static void t_lead(em *e, int level)
{
	if (level >= 1 && e->dash[level]) {
		e->dash[level] = false;
		indent(level - 1);
		fputs("- ", stdout);
		return;
	}
	indent(level);
}

/* Prints the headers of the open containers that have none yet (a header waits for the
 * first child, so that an empty container prints as "key: []" on one line). */
static void t_open(em *e, int upto)
{
	for (int d = 1; d <= upto; d++) {
		if (e->opened[d])
			continue;
		e->opened[d] = true;
		if (e->item[d] && !e->arr[d]) {
			e->dash[d] = true;
			continue;
		}
		t_lead(e, d - 1);
		if (e->item[d])
			fputs("-\n", stdout);
		else
			printf("%s:\n", e->hkey[d]);
	}
}

static void t_prefix(em *e)
{
	t_open(e, e->depth);
	t_lead(e, e->depth);
	if (e->depth >= 1 && e->arr[e->depth])
		fputs("- ", stdout);
	else
		printf("%s: ", e->key);
}

static void em_key(em *e, const char *k)
{
	if (e->json)
		ml_json_key(&e->j, k);
	else
		snprintf(e->key, sizeof(e->key), "%s", k);
}

static void em_begin(em *e, bool array)
{
	if (e->json) {
		array ? ml_json_arr_begin(&e->j) : ml_json_obj_begin(&e->j);
		return;
	}
	if (e->depth + 1 >= EM_DEPTH)
		return;
	bool item = e->depth >= 1 && e->arr[e->depth];
	int d = ++e->depth;
	e->arr[d] = array;
	e->item[d] = item;
	e->opened[d] = false;
	e->dash[d] = false;
	snprintf(e->hkey[d], sizeof(e->hkey[d]), "%s", e->key);
}

static void em_end(em *e, bool array)
{
	if (e->json) {
		array ? ml_json_arr_end(&e->j) : ml_json_obj_end(&e->j);
		return;
	}
	int d = e->depth;
	if (d < 1)
		return;
	if (!e->opened[d]) {
		t_open(e, d - 1);
		t_lead(e, d - 1);
		if (e->item[d])
			printf("- %s\n", array ? "[]" : "{}");
		else
			printf("%s: %s\n", e->hkey[d], array ? "[]" : "{}");
	}
	e->depth--;
}

static void em_u64(em *e, uint64_t v)
{
	if (e->json)
		return ml_json_u64(&e->j, v);
	t_prefix(e);
	printf("%" PRIu64 "\n", v);
}

static void em_i64(em *e, int64_t v)
{
	if (e->json)
		return ml_json_i64(&e->j, v);
	t_prefix(e);
	printf("%" PRId64 "\n", v);
}

static void em_addr(em *e, uint64_t v)
{
	if (e->json)
		return ml_json_addr(&e->j, v);
	t_prefix(e);
	printf("0x%" PRIx64 "\n", v);
}

static void em_size(em *e, uint64_t v)
{
	if (e->json)
		return ml_json_u64(&e->j, v);
	char b[32];
	t_prefix(e);
	printf("%s\n", ml_cli_fmt_size(b, v, e->human));
}

static void em_bool(em *e, bool v)
{
	if (e->json)
		return ml_json_bool(&e->j, v);
	t_prefix(e);
	puts(v ? "true" : "false");
}

static void em_null(em *e)
{
	if (e->json)
		return ml_json_null(&e->j);
	t_prefix(e);
	puts("-");
}

static void em_str(em *e, const char *s, size_t len)
{
	if (e->json)
		return ml_json_str(&e->j, s ? s : "", s ? len : 0);
	t_prefix(e);
	ml_cli_put_escaped(stdout, s ? s : "", s ? len : 0);
	putchar('\n');
}

static void em_cstr(em *e, const char *s) { em_str(e, s, s ? strlen(s) : 0); }

#define K_U64(e, k, v) (em_key(e, k), em_u64(e, v))
#define K_I64(e, k, v) (em_key(e, k), em_i64(e, v))
#define K_ADDR(e, k, v) (em_key(e, k), em_addr(e, v))
#define K_SIZE(e, k, v) (em_key(e, k), em_size(e, v))
#define K_BOOL(e, k, v) (em_key(e, k), em_bool(e, v))
#define K_STR(e, k, s, n) (em_key(e, k), em_str(e, s, n))
#define K_CSTR(e, k, s) (em_key(e, k), em_cstr(e, s))
#define K_OBJ(e, k) (em_key(e, k), em_begin(e, false))
#define K_ARR(e, k) (em_key(e, k), em_begin(e, true))
#define END_OBJ(e) em_end(e, false)
#define END_ARR(e) em_end(e, true)

/* ---- the methods ---- */

typedef struct ctx {
	const ml_source *s;
	const ml_proc *p;   /* NULL on a snapshot */
	bool live;
	bool zombie;        /* a live handle on a zombie: what left with the address space is ESRCH */
	em *e;
	const char *method; /* the one being shown: names its errors */
	/* errors: "method" or "method.part" -> reason */
	struct { char what[64]; int err; const char *why; } errs[256];
	size_t nerrs;
} ctx;

static void err_note(ctx *c, const char *part, int err, const char *why)
{
	if (c->nerrs >= sizeof(c->errs) / sizeof(c->errs[0]))
		return;
	if (part)
		snprintf(c->errs[c->nerrs].what, sizeof(c->errs[0].what), "%s.%s", c->method, part);
	else
		snprintf(c->errs[c->nerrs].what, sizeof(c->errs[0].what), "%s", c->method);
	c->errs[c->nerrs].err = err;
	c->errs[c->nerrs].why = why;
	c->nerrs++;
}

/* Methods return 0 after writing their value, or -errno (nothing written: the caller
 * writes null and names the error). */
typedef int (*show_fn)(ctx *c);

static int need_live(ctx *c)
{
	return c->live ? 0 : -EOPNOTSUPP;
}

/* A /proc file of the source: live, or the copy a snapshot saved (-ENOENT if none). */
static int text(ctx *c, const char *name, char **buf, size_t *len)
{
	return ml_source_read_file(c->s, name, buf, len);
}

#define PARSE_TEXT(c, name, parse_call)                                                                      \
	do {                                                                                                 \
		char *buf_;                                                                                  \
		size_t len_;                                                                                 \
		int r_ = text(c, name, &buf_, &len_);                                                        \
		if (r_ < 0)                                                                                  \
			return r_;                                                                           \
		const char *b = buf_;                                                                        \
		size_t n = len_;                                                                             \
		r_ = (parse_call);                                                                           \
		free(buf_);                                                                                  \
		if (r_ < 0)                                                                                  \
			return r_;                                                                           \
	} while (0)

/* On a live process the library's reader (with its liveness and kernel-thread rules);
 * on a snapshot the saved text through the same parser. */
#define READ_OR_PARSE(c, live_call, name, parse_call)                                                        \
	do {                                                                                                 \
		if ((c)->live) {                                                                             \
			int lr_ = (live_call);                                                               \
			if (lr_ < 0)                                                                         \
				return lr_;                                                                  \
		} else {                                                                                     \
			PARSE_TEXT(c, name, parse_call);                                                     \
		}                                                                                            \
	} while (0)

static int m_cmdline(ctx *c)
{
	ml_strv *v;
	READ_OR_PARSE(c, ml_cmdline_read(c->p, &v), "cmdline", ml_strv_parse(b, n, &v));
	em_begin(c->e, true);
	for (size_t i = 0; i < v->n; i++)
		em_str(c->e, v->v[i].ptr, v->v[i].len);
	END_ARR(c->e);
	ml_strv_free(v);
	return 0;
}

static int m_environ(ctx *c)
{
	ml_strv *v;
	READ_OR_PARSE(c, ml_environ_read(c->p, &v), "environ", ml_strv_parse(b, n, &v));
	em_begin(c->e, false);
	for (size_t i = 0; i < v->n; i++) {
		const ml_bstr *a = &v->v[i];
		const char *eq = memchr(a->ptr, '=', a->len);
		size_t kl = eq ? (size_t)(eq - a->ptr) : a->len;
		/* the first definition wins, as getenv() sees it */
		bool dup = false;
		for (size_t k = 0; k < i && !dup; k++) {
			const char *e2 = memchr(v->v[k].ptr, '=', v->v[k].len);
			size_t l2 = e2 ? (size_t)(e2 - v->v[k].ptr) : v->v[k].len;
			dup = l2 == kl && !memcmp(v->v[k].ptr, a->ptr, kl);
		}
		if (dup)
			continue;
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)(kl < sizeof(key) - 1 ? kl : sizeof(key) - 1), a->ptr);
		em_key(c->e, key);
		if (eq)
			em_str(c->e, eq + 1, a->len - kl - 1);
		else
			em_null(c->e);
	}
	END_OBJ(c->e);
	ml_strv_free(v);
	return 0;
}

static void lower_key(char *out, size_t cap, const char *k)
{
	size_t i = 0;
	for (; k[i] && i + 1 < cap; i++)
		out[i] = (char)(k[i] >= 'A' && k[i] <= 'Z' ? k[i] + 32 : k[i]);
	out[i] = '\0';
}

static void set_list(em *e, int r, ml_bitmap *bm)
{
	if (r < 0) {
		em_null(e);
		return;
	}
	em_begin(e, true);
	for (ssize_t i = ml_bitmap_next(bm, 0); i >= 0; i = ml_bitmap_next(bm, (size_t)i + 1))
		em_u64(e, (uint64_t)i);
	END_ARR(e);
	ml_bitmap_free(bm);
}

static int m_status(ctx *c)
{
	ml_status *s;
	READ_OR_PARSE(c, ml_status_read(c->p, &s), "status", ml_status_parse(b, n, &s));
	em *e = c->e;
	em_begin(e, false);
	for (int k = 0; k < ML_STATUS_KEY_COUNT; k++) {
		if (!ml_status_has(s, (ml_status_key)k))
			continue;
		char key[64];
		/* procfs's field names: the kernel's key in lower case, two spelled out */
		if (k == ML_STATUS_SPEC_INDIRECT_BRANCH)
			snprintf(key, sizeof(key), "speculation_indirect_branch");
		else if (k == ML_STATUS_COREDUMPING)
			snprintf(key, sizeof(key), "core_dumping");
		else
			lower_key(key, sizeof(key), ml_status_key_name((ml_status_key)k));
		em_key(e, key);
		ml_bitmap *bm = NULL;
		int r;
		switch (k) {
		case ML_STATUS_NAME: em_str(e, s->name, s->name_len); break;
		case ML_STATUS_UMASK: {
			char um[16];
			snprintf(um, sizeof(um), "%04o", s->umask);
			em_cstr(e, um);
			break;
		}
		case ML_STATUS_STATE: {
			char st[2] = { s->state, 0 };
			em_begin(e, false);
			K_CSTR(e, "letter", st);
			K_CSTR(e, "name", ml_proc_state_name(ml_proc_state_from_char(s->state)));
			K_STR(e, "description", s->state_desc.ptr, s->state_desc.len);
			END_OBJ(e);
			break;
		}
		case ML_STATUS_TGID: em_i64(e, s->tgid); break;
		case ML_STATUS_NGID: em_i64(e, s->ngid); break;
		case ML_STATUS_PID: em_i64(e, s->pid); break;
		case ML_STATUS_PPID: em_i64(e, s->ppid); break;
		case ML_STATUS_TRACERPID: em_i64(e, s->tracer_pid); break;
		case ML_STATUS_UID: case ML_STATUS_GID: {
			static const char *const idn[4] = { "real", "effective", "saved", "fs" };
			em_begin(e, false);
			for (int i = 0; i < 4; i++)
				K_U64(e, idn[i], k == ML_STATUS_UID ? s->uid[i] : s->gid[i]);
			END_OBJ(e);
			break;
		}
		case ML_STATUS_FDSIZE: em_u64(e, s->fd_size); break;
		case ML_STATUS_GROUPS:
			em_begin(e, true);
			for (size_t i = 0; i < s->n_groups; i++)
				em_u64(e, s->groups[i]);
			END_ARR(e);
			break;
		case ML_STATUS_NSTGID: case ML_STATUS_NSPID: case ML_STATUS_NSPGID: case ML_STATUS_NSSID: {
			const pid_t *v = k == ML_STATUS_NSTGID ? s->ns_tgid : k == ML_STATUS_NSPID ? s->ns_pid
					 : k == ML_STATUS_NSPGID ? s->ns_pgid : s->ns_sid;
			em_begin(e, true);
			for (size_t i = 0; i < s->n_ns; i++)
				em_i64(e, v[i]);
			END_ARR(e);
			break;
		}
		case ML_STATUS_KTHREAD: em_bool(e, s->kthread); break;
		case ML_STATUS_VMPEAK: em_size(e, s->vm_peak); break;
		case ML_STATUS_VMSIZE: em_size(e, s->vm_size); break;
		case ML_STATUS_VMLCK: em_size(e, s->vm_lck); break;
		case ML_STATUS_VMPIN: em_size(e, s->vm_pin); break;
		case ML_STATUS_VMHWM: em_size(e, s->vm_hwm); break;
		case ML_STATUS_VMRSS: em_size(e, s->vm_rss); break;
		case ML_STATUS_RSSANON: em_size(e, s->rss_anon); break;
		case ML_STATUS_RSSFILE: em_size(e, s->rss_file); break;
		case ML_STATUS_RSSSHMEM: em_size(e, s->rss_shmem); break;
		case ML_STATUS_VMDATA: em_size(e, s->vm_data); break;
		case ML_STATUS_VMSTK: em_size(e, s->vm_stk); break;
		case ML_STATUS_VMEXE: em_size(e, s->vm_exe); break;
		case ML_STATUS_VMLIB: em_size(e, s->vm_lib); break;
		case ML_STATUS_VMPTE: em_size(e, s->vm_pte); break;
		case ML_STATUS_VMSWAP: em_size(e, s->vm_swap); break;
		case ML_STATUS_HUGETLBPAGES: em_size(e, s->hugetlb_pages); break;
		case ML_STATUS_COREDUMPING: em_bool(e, s->core_dumping); break;
		case ML_STATUS_THP_ENABLED: em_bool(e, s->thp_enabled); break;
		case ML_STATUS_UNTAG_MASK: em_addr(e, s->untag_mask); break;
		case ML_STATUS_THREADS: em_u64(e, s->threads); break;
		case ML_STATUS_SIGQ:
			em_begin(e, false);
			K_U64(e, "queued", s->sigq_queued);
			K_U64(e, "limit", s->sigq_limit);
			END_OBJ(e);
			break;
		case ML_STATUS_SIGPND: em_addr(e, s->sig_pnd); break;
		case ML_STATUS_SHDPND: em_addr(e, s->shd_pnd); break;
		case ML_STATUS_SIGBLK: em_addr(e, s->sig_blk); break;
		case ML_STATUS_SIGIGN: em_addr(e, s->sig_ign); break;
		case ML_STATUS_SIGCGT: em_addr(e, s->sig_cgt); break;
		case ML_STATUS_CAPINH: em_addr(e, s->cap_inh); break;
		case ML_STATUS_CAPPRM: em_addr(e, s->cap_prm); break;
		case ML_STATUS_CAPEFF: em_addr(e, s->cap_eff); break;
		case ML_STATUS_CAPBND: em_addr(e, s->cap_bnd); break;
		case ML_STATUS_CAPAMB: em_addr(e, s->cap_amb); break;
		case ML_STATUS_NONEWPRIVS: em_bool(e, s->no_new_privs); break;
		case ML_STATUS_SECCOMP: em_i64(e, s->seccomp); break;
		case ML_STATUS_SECCOMP_FILTERS: em_u64(e, s->seccomp_filters); break;
		case ML_STATUS_SPEC_STORE_BYPASS: em_str(e, s->spec_store_bypass.ptr, s->spec_store_bypass.len); break;
		case ML_STATUS_SPEC_INDIRECT_BRANCH:
			em_str(e, s->spec_indirect_branch.ptr, s->spec_indirect_branch.len);
			break;
		case ML_STATUS_CPUS_ALLOWED: case ML_STATUS_CPUS_ALLOWED_LIST:
			r = ml_status_cpus_allowed(s, k == ML_STATUS_CPUS_ALLOWED_LIST, &bm);
			set_list(e, r, bm);
			break;
		case ML_STATUS_MEMS_ALLOWED: case ML_STATUS_MEMS_ALLOWED_LIST:
			r = ml_status_mems_allowed(s, k == ML_STATUS_MEMS_ALLOWED_LIST, &bm);
			set_list(e, r, bm);
			break;
		case ML_STATUS_VOLUNTARY_CTXT: em_u64(e, s->voluntary_ctxt_switches); break;
		case ML_STATUS_NONVOLUNTARY_CTXT: em_u64(e, s->nonvoluntary_ctxt_switches); break;
		case ML_STATUS_X86_THREAD_FEATURES:
			em_str(e, s->x86_thread_features.ptr, s->x86_thread_features.len);
			break;
		case ML_STATUS_X86_THREAD_FEATURES_LOCKED:
			em_str(e, s->x86_thread_features_locked.ptr, s->x86_thread_features_locked.len);
			break;
		default: em_null(e); break;
		}
	}
	for (size_t i = 0; i < s->n_extra; i++) {
		char key[128];
		snprintf(key, sizeof(key), "%.*s", (int)(s->extra[i].name.len < 127 ? s->extra[i].name.len : 127),
			 s->extra[i].name.ptr);
		K_STR(e, key, s->extra[i].value.ptr, s->extra[i].value.len);
	}
	END_OBJ(e);
	ml_status_free(s);
	return 0;
}

static int m_stat(ctx *c)
{
	ml_stat st;
	READ_OR_PARSE(c, ml_stat_read(c->p, &st), "stat", ml_stat_parse(b, n, &st));
	em *e = c->e;
	ml_sysinfo si;
	bool have_si = c->live && ml_sysinfo_read(&si) == 0;
	em_begin(e, false);
	K_I64(e, "pid", st.pid);
	K_STR(e, "comm", st.comm, st.comm_len);
	char sc[2] = { st.state, 0 };
	K_CSTR(e, "state", sc);
	K_CSTR(e, "state_name", ml_proc_state_name(ml_proc_state_from_char(st.state)));
	K_I64(e, "ppid", st.ppid);
	K_I64(e, "pgrp", st.pgrp);
	K_I64(e, "session", st.session);
	K_I64(e, "tty_nr", st.tty_nr);
	K_U64(e, "tty_major", ml_stat_tty_major(&st));
	K_U64(e, "tty_minor", ml_stat_tty_minor(&st));
	K_I64(e, "tpgid", st.tpgid);
	K_U64(e, "flags", st.flags);
	K_ARR(e, "flag_names");
	for (unsigned bit = 0; bit < 32; bit++)
		if (st.flags & (1u << bit)) {
			const char *nm = ml_stat_flag_name(bit);
			char other[16];
			snprintf(other, sizeof(other), "bit%u", bit);
			em_cstr(e, nm ? nm : other);
		}
	END_ARR(e);
	static const struct { const char *k; size_t off; } u64s[] = {
#define U(f) { #f, offsetof(ml_stat, f) }
		U(minflt), U(cminflt), U(majflt), U(cmajflt), U(utime), U(stime),
#undef U
	};
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++) {
		uint64_t v;
		memcpy(&v, (const char *)&st + u64s[i].off, sizeof(v));
		K_U64(e, u64s[i].k, v);
	}
	K_I64(e, "cutime", st.cutime);
	K_I64(e, "cstime", st.cstime);
	K_I64(e, "priority", st.priority);
	K_I64(e, "nice", st.nice);
	K_I64(e, "num_threads", st.num_threads);
	K_I64(e, "itrealvalue", st.itrealvalue);
	K_U64(e, "starttime", st.starttime);
	int64_t t;
	if (have_si && ml_stat_start_time(&st, &si, &t) == 0)
		K_I64(e, "start_time_ns", t);
	K_SIZE(e, "vsize", st.vsize);
	K_I64(e, "rss", st.rss);
	uint64_t rb;
	if (have_si && ml_stat_rss_bytes(&st, &si, &rb) == 0)
		K_SIZE(e, "rss_bytes", rb);
	K_U64(e, "rsslim", st.rsslim);
	K_ADDR(e, "startcode", st.start_code);
	K_ADDR(e, "endcode", st.end_code);
	K_ADDR(e, "startstack", st.start_stack);
	K_ADDR(e, "kstkesp", st.kstkesp);
	K_ADDR(e, "kstkeip", st.kstkeip);
	K_ADDR(e, "signal", st.signal);
	K_ADDR(e, "blocked", st.blocked);
	K_ADDR(e, "sigignore", st.sigignore);
	K_ADDR(e, "sigcatch", st.sigcatch);
	K_U64(e, "wchan", st.wchan);
	K_U64(e, "nswap", st.nswap);
	K_U64(e, "cnswap", st.cnswap);
	K_I64(e, "exit_signal", st.exit_signal);
	K_I64(e, "processor", st.processor);
	K_U64(e, "rt_priority", st.rt_priority);
	K_U64(e, "policy", st.policy);
	K_U64(e, "delayacct_blkio_ticks", st.delayacct_blkio_ticks);
	K_U64(e, "guest_time", st.guest_time);
	K_I64(e, "cguest_time", st.cguest_time);
	K_ADDR(e, "start_data", st.start_data);
	K_ADDR(e, "end_data", st.end_data);
	K_ADDR(e, "start_brk", st.start_brk);
	K_ADDR(e, "arg_start", st.arg_start);
	K_ADDR(e, "arg_end", st.arg_end);
	K_ADDR(e, "env_start", st.env_start);
	K_ADDR(e, "env_end", st.env_end);
	K_I64(e, "exit_code", st.exit_code);
	END_OBJ(e);
	return 0;
}

static int m_statm(ctx *c)
{
	ml_statm m;
	READ_OR_PARSE(c, ml_statm_read(c->p, &m), "statm", ml_statm_parse(b, n, &m));
	em *e = c->e;
	em_begin(e, false);
	K_U64(e, "size", m.size);
	K_U64(e, "resident", m.resident);
	K_U64(e, "shared", m.shared);
	K_U64(e, "text", m.text);
	K_U64(e, "lib", m.lib);
	K_U64(e, "data", m.data);
	K_U64(e, "dt", m.dt);
	if (c->live)
		K_U64(e, "page_size", ml_statm_page_size());
	END_OBJ(e);
	return 0;
}

static int m_io(ctx *c)
{
	ml_io io;
	READ_OR_PARSE(c, ml_io_read(c->p, &io), "io", ml_io_parse(b, n, &io));
	em *e = c->e;
	static const char *const names[] = { "rchar", "wchar", "syscr", "syscw", "read_bytes", "write_bytes",
					     "cancelled_write_bytes" };
	const uint64_t v[] = { io.rchar, io.wchar, io.syscr, io.syscw, io.read_bytes, io.write_bytes,
			       io.cancelled_write_bytes };
	em_begin(e, false);
	for (int i = 0; i < 7; i++)
		if (io.present & (1u << i))
			K_U64(e, names[i], v[i]);
	END_OBJ(e);
	return 0;
}

static int m_auxv(ctx *c)
{
	ml_auxv *a;
	READ_OR_PARSE(c, ml_auxv_read(c->p, ML_AUXV_AUTO, &a), "auxv", ml_auxv_parse(b, n, ML_AUXV_AUTO, &a));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < a->n; i++) {
		em_begin(e, false);
		K_U64(e, "type", a->v[i].type);
		const char *nm = ml_auxv_type_name(a->v[i].type);
		em_key(e, "name");
		nm ? em_cstr(e, nm) : em_null(e);
		K_ADDR(e, "value", a->v[i].value);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_auxv_free(a);
	return 0;
}

static int m_wchan(ctx *c)
{
	if (c->live) {
		char w[256];
		ssize_t wl = ml_wchan_read(c->p, w, sizeof(w));
		if (wl < 0)
			return (int)wl;
		em_str(c->e, w, (size_t)wl);
		return 0;
	}
	char *buf;
	size_t len;
	int r = text(c, "wchan", &buf, &len);
	if (r < 0)
		return r;
	/* "0" means running, or hidden from the caller */
	if (len == 1 && buf[0] == '0')
		len = 0;
	em_str(c->e, buf, len);
	free(buf);
	return 0;
}

static int m_loginuid(ctx *c)
{
	uint32_t v = 0;
	int64_t t;
	READ_OR_PARSE(c, ml_loginuid_read(c->p, &v), "loginuid", (ml_procinfo_int_parse(b, n, &t) < 0 || t < 0 || t > UINT32_MAX) ? -EBADMSG : (v = (uint32_t)t, 0));
	em_u64(c->e, v);
	return 0;
}

/* A process whose session never called setsid() since boot (and every kernel thread)
 * stays in the default group, where the kernel prints nothing: that is an answer, not an
 * error, so it shows as {"id": null, "nice": null} and exit 0. */
static int autogroup_get(ctx *c, ml_autogroup *ag)
{
	READ_OR_PARSE(c, ml_autogroup_read(c->p, ag), "autogroup", ml_autogroup_parse(b, n, ag));
	return 0;
}

static int m_autogroup(ctx *c)
{
	ml_autogroup ag;
	int r = autogroup_get(c, &ag);
	if (r < 0 && r != -ENODATA)
		return r;
	em_begin(c->e, false);
	if (r == -ENODATA) {
		em_key(c->e, "id");
		em_null(c->e);
		em_key(c->e, "nice");
		em_null(c->e);
	} else {
		K_U64(c->e, "id", ag.id);
		K_I64(c->e, "nice", ag.nice);
	}
	END_OBJ(c->e);
	return 0;
}

static int m_schedstat(ctx *c)
{
	ml_schedstat s;
	READ_OR_PARSE(c, ml_schedstat_read(c->p, &s), "schedstat", ml_schedstat_parse(b, n, &s));
	em_begin(c->e, false);
	K_U64(c->e, "sum_exec_runtime", s.run_ns);
	K_U64(c->e, "run_delay", s.wait_ns);
	K_U64(c->e, "pcount", s.timeslices);
	END_OBJ(c->e);
	return 0;
}

static void limit_val(em *e, const char *k, uint64_t v)
{
	em_key(e, k);
	if (v == ML_LIMIT_UNLIMITED)
		em_cstr(e, "unlimited");
	else
		em_u64(e, v);
}

static int m_limits(ctx *c)
{
	ml_limits l;
	READ_OR_PARSE(c, ml_limits_read(c->p, &l), "limits", ml_limits_parse(b, n, &l));
	em *e = c->e;
	em_begin(e, false);
	for (int i = 0; i < ML_LIMIT_COUNT; i++) {
		if (!l.lim[i].present)
			continue;
		K_OBJ(e, ml_limit_key(i));
		limit_val(e, "soft_limit", l.lim[i].soft);
		limit_val(e, "hard_limit", l.lim[i].hard);
		K_CSTR(e, "units", l.lim[i].units);
		END_OBJ(e);
	}
	END_OBJ(e);
	return 0;
}

static int m_oom(ctx *c, const char *name)
{
	int64_t v;
	int iv = 0;
	bool score = !strcmp(name, "oom_score");
	READ_OR_PARSE(c, score ? ml_oom_score_read(c->p, &iv) : ml_oom_score_adj_read(c->p, &iv), name,
		      ml_procinfo_int_parse(b, n, &v));
	if (c->live)
		v = iv;
	em_i64(c->e, v);
	return 0;
}

static int m_oom_score(ctx *c) { return m_oom(c, "oom_score"); }
static int m_oom_score_adj(ctx *c) { return m_oom(c, "oom_score_adj"); }

static int m_coredump_filter(ctx *c)
{
	ml_coredump_filter f;
	READ_OR_PARSE(c, ml_coredump_filter_read(c->p, &f), "coredump_filter", ml_coredump_filter_parse(b, n, &f));
	em *e = c->e;
	if (!f.set) {
		em_null(e); /* no address space: procfs's Ok(None) */
		return 0;
	}
	em_begin(e, false);
	K_U64(e, "mask", f.mask);
	K_ARR(e, "flags");
	for (unsigned bit = 0; bit < 32; bit++)
		if (f.mask & (1u << bit)) {
			const char *nm = ml_coredump_filter_bit_name(bit);
			char other[16];
			snprintf(other, sizeof(other), "bit%u", bit);
			em_cstr(e, nm ? nm : other);
		}
	END_ARR(e);
	END_OBJ(e);
	return 0;
}

static int m_personality(ctx *c)
{
	uint32_t v;
	READ_OR_PARSE(c, ml_personality_read(c->p, &v), "personality", ml_personality_parse(b, n, &v));
	em *e = c->e;
	em_begin(e, false);
	K_U64(e, "value", v);
	K_U64(e, "domain", v & 0xffu);
	K_ARR(e, "flags");
	for (unsigned bit = 8; bit < 32; bit++)
		if (v & (1u << bit)) {
			const char *nm = ml_personality_flag_name(bit);
			char other[16];
			snprintf(other, sizeof(other), "bit%u", bit);
			em_cstr(e, nm ? nm : other);
		}
	END_ARR(e);
	END_OBJ(e);
	return 0;
}

static int m_uid(ctx *c)
{
	int r = need_live(c);
	uid_t u;
	if (r < 0 || (r = ml_uid_read(c->p, &u, NULL)) < 0)
		return r;
	em_u64(c->e, u);
	return 0;
}

static int m_is_alive(ctx *c)
{
	int r = need_live(c);
	if (r < 0 || (r = ml_proc_alive(c->p)) < 0)
		return r;
	em_bool(c->e, r == 1);
	return 0;
}

static int show_link(ctx *c, const char *name)
{
	int r = need_live(c);
	ml_link *l;
	if (r < 0 || (r = ml_link_read(c->p, name, &l)) < 0)
		return r;
	em *e = c->e;
	em_begin(e, false);
	K_STR(e, "path", l->path, l->len);
	K_BOOL(e, "deleted", l->deleted);
	if (l->via_tid)
		K_I64(e, "via_tid", l->via_tid);
	END_OBJ(e);
	ml_link_free(l);
	return 0;
}

static int m_cwd(ctx *c) { return show_link(c, "cwd"); }
static int m_exe(ctx *c) { return show_link(c, "exe"); }
static int m_root(ctx *c) { return show_link(c, "root"); }

static int m_fd_count(ctx *c)
{
	int r = need_live(c);
	if (r < 0)
		return r;
	ssize_t n = ml_fd_count(c->p);
	if (n < 0)
		return (int)n;
	em_u64(c->e, (uint64_t)n);
	return 0;
}

static int m_fd(ctx *c)
{
	int r = need_live(c);
	ml_fds *it;
	if (r < 0 || (r = ml_fds_open(c->p, &it)) < 0)
		return r;
	em *e = c->e;
	ml_fd f;
	/* open the array only once the first entry (or the end) is known to read */
	bool begun = false;
	while ((r = ml_fds_next(it, &f)) == 1) {
		if (!begun) {
			em_begin(e, true);
			begun = true;
		}
		em_begin(e, false);
		K_I64(e, "fd", f.fd);
		K_CSTR(e, "type", ml_fd_type_name(f.type));
		K_STR(e, "target", f.target.ptr, f.target.len);
		if (f.inode)
			K_U64(e, "inode", f.inode);
		if (f.name.len)
			K_STR(e, "name", f.name.ptr, f.name.len);
		K_BOOL(e, "deleted", f.deleted);
		char mode[8];
		snprintf(mode, sizeof(mode), "%c%c%c", f.mode & ML_FD_MODE_READ ? 'r' : '-',
			 f.mode & ML_FD_MODE_WRITE ? 'w' : '-', f.mode & ML_FD_MODE_EXEC ? 'x' : '-');
		K_CSTR(e, "mode", mode);
		ml_fdinfo *fi;
		int fr = ml_fd_from_fd(c->p, f.fd, &fi);
		if (fr == 0) {
			K_U64(e, "pos", fi->pos);
			char fl[16];
			snprintf(fl, sizeof(fl), "0%o", fi->flags);
			K_CSTR(e, "flags", fl);
			K_I64(e, "mnt_id", fi->mnt_id);
			ml_fdinfo_free(fi);
		} else if (fr != -EBADF) {
			char part[32];
			snprintf(part, sizeof(part), "%d", f.fd);
			err_note(c, part, fr, NULL);
		}
		END_OBJ(e);
	}
	ml_fds_free(it);
	if (r < 0) {
		if (!begun)
			return r;
		err_note(c, NULL, r, NULL);
	}
	if (!begun)
		em_begin(e, true);
	END_ARR(e);
	return 0;
}

static void put_bytes_key(em *e, const char *k, const char *s, size_t n)
{
	em_key(e, k);
	s ? em_str(e, s, n) : em_null(e);
}

static int m_mountinfo(ctx *c)
{
	ml_mountinfo *mi;
	READ_OR_PARSE(c, ml_mountinfo_read(c->p, &mi), "mountinfo", ml_mountinfo_parse(b, n, &mi));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_mountinfo_count(mi); i++) {
		const ml_mount *m = ml_mountinfo_get(mi, i);
		em_begin(e, false);
		K_U64(e, "mnt_id", m->mount_id);
		K_U64(e, "pid", m->parent_id);
		char mm[32];
		snprintf(mm, sizeof(mm), "%u:%u", m->dev_major, m->dev_minor);
		K_CSTR(e, "majmin", mm);
		K_STR(e, "root", m->root, m->root_len);
		K_STR(e, "mount_point", m->mount_point, m->mount_point_len);
		K_OBJ(e, "mount_options");
		for (size_t k = 0; k < m->nopts; k++) {
			char key[128];
			snprintf(key, sizeof(key), "%.*s", (int)(m->opts[k].name_len < 127 ? m->opts[k].name_len : 127),
				 m->opts[k].name);
			put_bytes_key(e, key, m->opts[k].value, m->opts[k].value_len);
		}
		END_OBJ(e);
		K_ARR(e, "opt_fields");
		for (size_t k = 0; k < m->ntags; k++) {
			char tag[128];
			snprintf(tag, sizeof(tag), "%s%s%s", m->tags[k].tag, m->tags[k].value ? ":" : "",
				 m->tags[k].value ? m->tags[k].value : "");
			em_cstr(e, tag);
		}
		END_ARR(e);
		K_STR(e, "fs_type", m->fs_type, m->fs_type_len);
		put_bytes_key(e, "mount_source", m->source, m->source_len);
		K_OBJ(e, "super_options");
		for (size_t k = 0; k < m->nsuper_opts; k++) {
			char key[128];
			const ml_mount_opt *o = &m->super_opts[k];
			snprintf(key, sizeof(key), "%.*s", (int)(o->name_len < 127 ? o->name_len : 127), o->name);
			put_bytes_key(e, key, o->value, o->value_len);
		}
		END_OBJ(e);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_mountinfo_free(mi);
	return 0;
}

static int m_mountstats(ctx *c)
{
	ml_mountstats *ms;
	READ_OR_PARSE(c, ml_mountstats_read(c->p, &ms), "mountstats", ml_mountstats_parse(b, n, &ms));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_mountstats_count(ms); i++) {
		const ml_mountstats_mount *m = ml_mountstats_get(ms, i);
		em_begin(e, false);
		put_bytes_key(e, "device", m->device, m->device_len);
		K_STR(e, "mount_point", m->mount_point, m->mount_point_len);
		K_STR(e, "fs", m->fs_type, m->fs_type_len);
		em_key(e, "statvers");
		m->statvers ? em_cstr(e, m->statvers) : em_null(e);
		if (m->nfields || m->nops) {
			K_OBJ(e, "statistics");
			for (size_t k = 0; k < m->nfields; k++) {
				const ml_mountstats_field *f = &m->fields[k];
				em_key(e, f->name);
				if (f->nnumbers > 1) {
					em_begin(e, true);
					for (size_t x = 0; x < f->nnumbers; x++)
						em_u64(e, f->numbers[x]);
					END_ARR(e);
				} else if (f->nnumbers == 1) {
					em_u64(e, f->numbers[0]);
				} else {
					em_str(e, f->value, f->value_len);
				}
			}
			K_OBJ(e, "per_op_stats");
			for (size_t k = 0; k < m->nops; k++) {
				ml_nfs_op op;
				if (ml_mountstats_nfs_op(&m->ops[k], &op) == 0) {
					K_OBJ(e, op.name);
					K_U64(e, "operations", op.operations);
					K_U64(e, "transmissions", op.transmissions);
					K_U64(e, "major_timeouts", op.major_timeouts);
					K_U64(e, "bytes_sent", op.bytes_sent);
					K_U64(e, "bytes_recv", op.bytes_recv);
					K_U64(e, "cum_queue_time_ms", op.cum_queue_ms);
					K_U64(e, "cum_resp_time_ms", op.cum_resp_ms);
					K_U64(e, "cum_total_req_time_ms", op.cum_total_req_ms);
					if (op.has_errors)
						K_U64(e, "errors", op.errors);
					END_OBJ(e);
					continue;
				}
				K_ARR(e, m->ops[k].name);
				for (size_t x = 0; x < m->ops[k].nvalues; x++)
					em_u64(e, m->ops[k].values[x]);
				END_ARR(e);
			}
			END_OBJ(e);
			END_OBJ(e);
			ml_nfs_stats ns;
			if (ml_mountstats_nfs(m, &ns) == 0) {
				static const char *const ev[ML_NFS_EVENTS] = {
					"inode_revalidate", "dentry_revalidate", "data_invalidate", "attr_invalidate",
					"vfs_open", "vfs_lookup", "vfs_access", "vfs_update_page", "vfs_read_page",
					"vfs_read_pages", "vfs_write_page", "vfs_write_pages", "vfs_getdents",
					"vfs_setattr", "vfs_flush", "vfs_fsync", "vfs_lock", "vfs_release",
					"congestion_wait", "setattr_trunc", "extend_write", "silly_rename", "short_read",
					"short_write", "delay", "pnfs_read", "pnfs_write",
				};
				static const char *const by[ML_NFS_BYTES] = { "normal_read", "normal_write", "direct_read",
					"direct_write", "server_read", "server_write", "pages_read", "pages_write" };
				K_OBJ(e, "nfs");
				if (ns.has_age)
					K_U64(e, "age", ns.age_s);
				if (ns.has_caps) {
					K_ARR(e, "server_caps");
					for (unsigned bit = 0; bit < 32; bit++)
						if (ns.caps & (1u << bit)) {
							const char *nm = ml_nfs_cap_name(bit);
							char other[16];
							snprintf(other, sizeof(other), "bit%u", bit);
							em_cstr(e, nm ? nm : other);
						}
					END_ARR(e);
				}
				if (ns.has_events) {
					uint64_t v[ML_NFS_EVENTS];
					memcpy(v, &ns.events, sizeof(v));
					K_OBJ(e, "events");
					for (size_t x = 0; x < ns.nevents; x++)
						K_U64(e, ev[x], v[x]);
					END_OBJ(e);
				}
				if (ns.has_bytes) {
					uint64_t v[ML_NFS_BYTES];
					memcpy(v, &ns.bytes, sizeof(v));
					K_OBJ(e, "bytes");
					for (size_t x = 0; x < ML_NFS_BYTES; x++)
						K_U64(e, by[x], v[x]);
					END_OBJ(e);
				}
				END_OBJ(e);
			}
		}
		END_OBJ(e);
	}
	END_ARR(e);
	ml_mountstats_free(ms);
	return 0;
}

static int m_namespaces(ctx *c)
{
	int r = need_live(c);
	ml_namespaces *ns;
	if (r < 0 || (r = ml_namespaces_read(c->p, &ns)) < 0)
		return r;
	em *e = c->e;
	em_begin(e, false);
	for (size_t i = 0; i < ml_namespaces_count(ns); i++) {
		const ml_ns *x = ml_namespaces_get(ns, i);
		if (x->err) {
			/* named in errors with its reason, never silently left out */
			err_note(c, x->name, x->err, x->err == -ENOENT ? "not in this kernel" : NULL);
			continue;
		}
		K_OBJ(e, x->name);
		K_CSTR(e, "ns_type", x->type);
		K_CSTR(e, "path", x->path);
		K_U64(e, "identifier", x->inode);
		em_key(e, "device_id");
		x->dev_known ? em_u64(e, x->dev) : em_null(e);
		END_OBJ(e);
	}
	END_OBJ(e);
	ml_namespaces_free(ns);
	return 0;
}

static int m_cgroups(ctx *c)
{
	ml_cgroups *cg;
	READ_OR_PARSE(c, ml_cgroups_read(c->p, &cg), "cgroup", ml_cgroups_parse(b, n, &cg));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_cgroups_count(cg); i++) {
		const ml_cgroup *g = ml_cgroups_get(cg, i);
		em_begin(e, false);
		K_U64(e, "hierarchy", g->hierarchy);
		K_ARR(e, "controllers");
		for (size_t k = 0; k < g->nnames; k++)
			em_cstr(e, g->names[k]);
		END_ARR(e);
		K_STR(e, "pathname", g->path, g->path_len);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_cgroups_free(cg);
	return 0;
}

static int m_tasks(ctx *c)
{
	int r = need_live(c);
	ml_tasks *it;
	if (r < 0 || (r = ml_tasks_open(c->p, &it)) < 0)
		return r;
	em *e = c->e;
	em_begin(e, true);
	ml_proc *t;
	while ((r = ml_tasks_next(it, &t)) == 1) {
		ml_stat st;
		int sr = ml_stat_read(t, &st);
		em_begin(e, false);
		K_I64(e, "tid", ml_proc_pid(t));
		if (sr == 0) {
			K_STR(e, "comm", st.comm, st.comm_len);
			char sc[2] = { st.state, 0 };
			K_CSTR(e, "state", sc);
			K_U64(e, "utime", st.utime);
			K_U64(e, "stime", st.stime);
			K_I64(e, "processor", st.processor);
		}
		pid_t *kids;
		size_t nk;
		ssize_t kr = ml_task_children_read(t, &kids, &nk);
		em_key(e, "children");
		if (kr >= 0) {
			em_begin(e, true);
			for (size_t k = 0; k < nk; k++)
				em_i64(e, kids[k]);
			END_ARR(e);
			free(kids);
		} else {
			em_null(e);
		}
		END_OBJ(e);
		ml_proc_free(t);
	}
	ml_tasks_free(it);
	if (r < 0)
		err_note(c, NULL, r, NULL);
	END_ARR(e);
	return 0;
}

static int m_smaps_rollup(ctx *c)
{
	ml_smaps_rollup *ru;
	READ_OR_PARSE(c, ml_smaps_rollup_read(c->p, &ru), "smaps_rollup", ml_smaps_rollup_parse(b, n, &ru));
	em *e = c->e;
	em_begin(e, false);
	for (int f = 0; f < ML_SMAPS_NFIELDS; f++)
		if (ru->f.present & (1ull << f)) {
			char key[64];
			lower_key(key, sizeof(key), ml_smaps_field_name((ml_smaps_field)f));
			K_SIZE(e, key, ru->f.v[f]);
		}
	END_OBJ(e);
	ml_smaps_rollup_free(ru);
	return 0;
}

static int m_maps(ctx *c)
{
	ml_maps *m;
	int r = ml_source_maps(c->s, &m);
	if (r < 0)
		return r;
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		const ml_vma *v = ml_maps_get(m, i);
		char perms[5];
		em_begin(e, false);
		K_ADDR(e, "start", v->start);
		K_ADDR(e, "end", v->end);
		K_CSTR(e, "perms", ml_vma_perms_str(v->perms, perms));
		K_U64(e, "offset", v->offset);
		char dev[32];
		snprintf(dev, sizeof(dev), "%02x:%02x", v->dev_major, v->dev_minor);
		K_CSTR(e, "dev", dev);
		K_U64(e, "inode", v->inode);
		K_CSTR(e, "kind", ml_vma_kind_name(v->kind));
		K_STR(e, "pathname", v->name, v->name_len);
		K_BOOL(e, "deleted", v->deleted);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_maps_free(m);
	return 0;
}

/* ---- net ---- */

static void put_addr(em *e, const char *k, int family, const uint8_t *a, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN], out[INET6_ADDRSTRLEN + 16];
	inet_ntop(family, a, ip, sizeof(ip));
	snprintf(out, sizeof(out), family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
	K_CSTR(e, k, out);
}

static int show_socks(ctx *c, const char *file, ml_net_table which)
{
	ml_net_socks *t;
	char name[32];
	snprintf(name, sizeof(name), "net/%s", file);
	READ_OR_PARSE(c, ml_net_socks_read(c->p, which, &t), name, ml_net_socks_parse(b, n, &t));
	em *e = c->e;
	bool tcp = !strncmp(file, "tcp", 3);
	em_begin(e, true);
	for (size_t i = 0; i < ml_net_socks_count(t); i++) {
		const ml_net_sock *s = ml_net_socks_get(t, i);
		em_begin(e, false);
		put_addr(e, "local_address", s->family, s->local_addr, s->local_port);
		put_addr(e, "remote_address", s->family, s->remote_addr, s->remote_port);
		if (tcp)
			K_CSTR(e, "state", ml_tcp_state_name(s->state));
		else
			K_U64(e, "state", s->state);
		K_U64(e, "rx_queue", s->rx_queue);
		K_U64(e, "tx_queue", s->tx_queue);
		K_U64(e, "uid", s->uid);
		K_U64(e, "inode", s->inode);
		if (s->has_drops)
			K_U64(e, "drops", s->drops);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_net_socks_free(t);
	return 0;
}

static int m_tcp(ctx *c) { return show_socks(c, "tcp", ML_NET_TCP); }
static int m_tcp6(ctx *c) { return show_socks(c, "tcp6", ML_NET_TCP6); }
static int m_udp(ctx *c) { return show_socks(c, "udp", ML_NET_UDP); }
static int m_udp6(ctx *c) { return show_socks(c, "udp6", ML_NET_UDP6); }

static int m_unix(ctx *c)
{
	ml_net_unixes *t;
	READ_OR_PARSE(c, ml_net_unixes_read(c->p, &t), "net/unix", ml_net_unixes_parse(b, n, &t));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_net_unixes_count(t); i++) {
		const ml_net_unix *u = ml_net_unixes_get(t, i);
		em_begin(e, false);
		K_U64(e, "ref_count", u->refcount);
		K_U64(e, "socket_type", u->type);
		K_U64(e, "state", u->state);
		K_U64(e, "inode", u->inode);
		K_BOOL(e, "listening", (u->flags & ML_UNIX_ACCEPTCON) != 0);
		put_bytes_key(e, "path", u->path, u->path_len);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_net_unixes_free(t);
	return 0;
}

static int m_arp(ctx *c)
{
	ml_net_arps *t;
	READ_OR_PARSE(c, ml_net_arps_read(c->p, &t), "net/arp", ml_net_arps_parse(b, n, &t));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_net_arps_count(t); i++) {
		const ml_net_arp *a = ml_net_arps_get(t, i);
		char ip[INET_ADDRSTRLEN], hw[100] = "";
		inet_ntop(AF_INET, a->addr, ip, sizeof(ip));
		for (size_t k = 0; k < a->hw_addr_len && k < 32; k++)
			snprintf(hw + strlen(hw), sizeof(hw) - strlen(hw), "%s%02x", k ? ":" : "", a->hw_addr[k]);
		em_begin(e, false);
		K_CSTR(e, "ip_address", ip);
		K_U64(e, "hw_type", a->hw_type);
		K_U64(e, "flags", a->flags);
		K_CSTR(e, "hw_address", hw);
		K_CSTR(e, "mask", a->mask);
		K_CSTR(e, "device", a->device);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_net_arps_free(t);
	return 0;
}

static int m_route(ctx *c)
{
	ml_net_routes *t;
	READ_OR_PARSE(c, ml_net_routes_read(c->p, &t), "net/route", ml_net_routes_parse(b, n, &t));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_net_routes_count(t); i++) {
		const ml_net_route *r = ml_net_routes_get(t, i);
		char d[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, r->destination, d, sizeof(d));
		inet_ntop(AF_INET, r->gateway, g, sizeof(g));
		inet_ntop(AF_INET, r->mask, m, sizeof(m));
		em_begin(e, false);
		K_CSTR(e, "iface", r->iface);
		K_CSTR(e, "destination", d);
		K_CSTR(e, "gateway", g);
		K_U64(e, "flags", r->flags);
		K_I64(e, "refcnt", r->refcnt);
		K_U64(e, "in_use", r->use);
		K_I64(e, "metrics", r->metric);
		K_CSTR(e, "mask", m);
		K_U64(e, "mtu", r->mtu);
		K_U64(e, "window", r->window);
		K_U64(e, "irtt", r->irtt);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_net_routes_free(t);
	return 0;
}

static int m_dev_status(ctx *c)
{
	ml_net_devs *t;
	READ_OR_PARSE(c, ml_net_devs_read(c->p, &t), "net/dev", ml_net_devs_parse(b, n, &t));
	em *e = c->e;
	em_begin(e, false);
	for (size_t i = 0; i < ml_net_devs_count(t); i++) {
		const ml_net_dev *d = ml_net_devs_get(t, i);
		K_OBJ(e, d->name);
		K_U64(e, "recv_bytes", d->rx_bytes);
		K_U64(e, "recv_packets", d->rx_packets);
		K_U64(e, "recv_errs", d->rx_errs);
		K_U64(e, "recv_drop", d->rx_drop);
		K_U64(e, "recv_fifo", d->rx_fifo);
		K_U64(e, "recv_frame", d->rx_frame);
		K_U64(e, "recv_compressed", d->rx_compressed);
		K_U64(e, "recv_multicast", d->rx_multicast);
		K_U64(e, "sent_bytes", d->tx_bytes);
		K_U64(e, "sent_packets", d->tx_packets);
		K_U64(e, "sent_errs", d->tx_errs);
		K_U64(e, "sent_drop", d->tx_drop);
		K_U64(e, "sent_fifo", d->tx_fifo);
		K_U64(e, "sent_colls", d->tx_colls);
		K_U64(e, "sent_carrier", d->tx_carrier);
		K_U64(e, "sent_compressed", d->tx_compressed);
		END_OBJ(e);
	}
	END_OBJ(e);
	ml_net_devs_free(t);
	return 0;
}

static int show_snmp(ctx *c, bool six)
{
	ml_net_snmp *s;
	READ_OR_PARSE(c, six ? ml_net_snmp6_read(c->p, &s) : ml_net_snmp_read(c->p, &s), six ? "net/snmp6" : "net/snmp", six ? ml_net_snmp6_parse(b, n, &s) : ml_net_snmp_parse(b, n, &s));
	em *e = c->e;
	em_begin(e, false);
	for (size_t i = 0; i < ml_net_snmp_count(s); i++) {
		const ml_snmp_proto *p = ml_net_snmp_get(s, i);
		K_OBJ(e, p->name);
		for (size_t k = 0; k < p->ncounters; k++) {
			K_I64(e, p->counters[k].name, p->counters[k].value);
			/* the enumerations procfs types, decoded alongside the number */
			const char *vn = ml_snmp_value_name(p->name, p->counters[k].name, p->counters[k].value);
			if (vn) {
				char key[96];
				snprintf(key, sizeof(key), "%s_name", p->counters[k].name);
				K_CSTR(e, key, vn);
			}
		}
		END_OBJ(e);
	}
	END_OBJ(e);
	ml_net_snmp_free(s);
	return 0;
}

static int m_snmp(ctx *c) { return show_snmp(c, false); }
static int m_snmp6(ctx *c) { return show_snmp(c, true); }

/* ---- the table: procfs's method names, and the net.X spellings ---- */

static const struct method {
	const char *name;   /* procfs's Process method: the JSON key */
	const char *alias;  /* also accepted on the command line */
	show_fn fn;
} methods[] = {
	{ "is_alive", NULL, m_is_alive },
	{ "uid", NULL, m_uid },
	{ "cmdline", NULL, m_cmdline },
	{ "environ", NULL, m_environ },
	{ "exe", NULL, m_exe },
	{ "cwd", NULL, m_cwd },
	{ "root", NULL, m_root },
	{ "status", NULL, m_status },
	{ "stat", NULL, m_stat },
	{ "statm", NULL, m_statm },
	{ "io", NULL, m_io },
	{ "limits", NULL, m_limits },
	{ "auxv", NULL, m_auxv },
	{ "wchan", NULL, m_wchan },
	{ "loginuid", NULL, m_loginuid },
	{ "autogroup", NULL, m_autogroup },
	{ "schedstat", NULL, m_schedstat },
	{ "oom_score", NULL, m_oom_score },
	{ "oom_score_adj", NULL, m_oom_score_adj },
	{ "coredump_filter", NULL, m_coredump_filter },
	{ "personality", NULL, m_personality },
	{ "fd_count", NULL, m_fd_count },
	{ "fd", NULL, m_fd },
	{ "tasks", NULL, m_tasks },
	{ "maps", NULL, m_maps },
	{ "smaps_rollup", NULL, m_smaps_rollup },
	{ "mountinfo", NULL, m_mountinfo },
	{ "mountstats", NULL, m_mountstats },
	{ "namespaces", NULL, m_namespaces },
	{ "cgroups", NULL, m_cgroups },
	{ "tcp", "net.tcp", m_tcp },
	{ "tcp6", "net.tcp6", m_tcp6 },
	{ "udp", "net.udp", m_udp },
	{ "udp6", "net.udp6", m_udp6 },
	{ "unix", "net.unix", m_unix },
	{ "arp", "net.arp", m_arp },
	{ "route", "net.route", m_route },
	{ "dev_status", "net.dev", m_dev_status },
	{ "snmp", "net.snmp", m_snmp },
	{ "snmp6", "net.snmp6", m_snmp6 },
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static int find_method(const char *s, size_t len)
{
	for (size_t i = 0; i < NMETHODS; i++) {
		if (strlen(methods[i].name) == len && !memcmp(methods[i].name, s, len))
			return (int)i;
		if (methods[i].alias && strlen(methods[i].alias) == len && !memcmp(methods[i].alias, s, len))
			return (int)i;
	}
	return -1;
}

/* Fills @want from @list. @return 0, or -1 with bad and badlen naming the unknown word. */
static int parse_list(const char *list, bool want[NMETHODS], const char **bad, size_t *badlen)
{
	memset(want, 0, NMETHODS * sizeof(bool));
	const char *p = list;
	bool any = false;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 3 && !memcmp(p, "all", 3)) {
			for (size_t i = 0; i < NMETHODS; i++)
				want[i] = true;
			any = true;
		} else {
			int m = find_method(p, len);
			if (m < 0) {
				*bad = p;
				*badlen = len;
				return -1;
			}
			want[m] = true;
			any = true;
		}
		p += len + (e ? 1 : 0);
	}
	if (!any) {
		*bad = list;
		*badlen = 0;
		return -1;
	}
	return 0;
}

void ml_info_show_names(void)
{
	for (size_t i = 0; i < NMETHODS; i++)
		printf("%s%s%s\n", methods[i].name, methods[i].alias ? " " : "", methods[i].alias ? methods[i].alias : "");
}

int ml_info_show_check(const char *list)
{
	bool want[NMETHODS];
	const char *bad;
	size_t bl;
	if (parse_list(list, want, &bad, &bl) == 0)
		return 0;
	if (bl == 0)
		fprintf(stderr, "memlens: info: --show needs a list of methods (or \"all\"; --show=help lists them)\n");
	else
		fprintf(stderr, "memlens: info: --show: no method \"%.*s\" (--show=help lists them)\n", (int)bl, bad);
	return -1;
}

static const char *reason(ctx *c, const char *what, int err, const char *why)
{
	if (why)
		return why;
	if (err == -EOPNOTSUPP && !c->live)
		return "only on a live process";
	if (err == -ENOENT && !c->live)
		return "not saved in the snapshot";
	if (err == -ESRCH && c->zombie)
		return "gone with its address space (a zombie)";
	if (err == -ENOENT && !strcmp(what, "exe"))
		return "none (a kernel thread has no executable)";
	return ml_strerror(err);
}

int ml_info_show(const char *spec, ml_source *s, const char *list, bool json, bool human)
{
	bool want[NMETHODS];
	const char *bad;
	size_t bl;
	if (parse_list(list, want, &bad, &bl) < 0)
		return ML_EXIT_USAGE;
	em e = { .json = json, .human = human };
	ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return ml_cli_file_error(spec, "cannot show", -ENOMEM);
	c->s = s;
	c->live = ml_source_get_type(s) == ML_SOURCE_LIVE;
	c->p = c->live ? ml_source_proc(s) : NULL;
	c->zombie = c->live && ml_proc_alive(c->p) == 0 && ml_proc_check(c->p) == -ESRCH;
	c->e = &e;
	pid_t pid = ml_source_pid(s);
	if (json) {
		ml_json_init(&e.j, stdout);
		ml_json_obj_begin(&e.j);
		ML_JSON_KSTR(&e.j, "schema", "memlens.info.show/1");
		ML_JSON_KI64(&e.j, "pid", pid);
		ML_JSON_KSTR(&e.j, "source", c->live ? "live" : "snapshot");
	}
	size_t shown = 0;
	for (size_t i = 0; i < NMETHODS; i++) {
		if (!want[i])
			continue;
		c->method = methods[i].name;
		em_key(&e, methods[i].name);
		/* a method writes its value only when it could read it; otherwise null here
		 * and the reason in errors */
		int r = methods[i].fn(c);
		if (r < 0) {
			if (json)
				ml_json_null(&e.j);
			err_note(c, NULL, r, NULL);
		} else {
			shown++;
		}
	}
	/* Gone (exited, exec'd, reaped) while being read, when it was not already a zombie:
	 * the values above may mix two moments or two images. Said, and exit 2. */
	bool vanished = c->live && !c->zombie && ml_proc_check(c->p) == -ESRCH;
	if (json) {
		ml_json_key(&e.j, "errors");
		ml_json_obj_begin(&e.j);
		for (size_t i = 0; i < c->nerrs; i++)
			ML_JSON_KSTR(&e.j, c->errs[i].what, reason(c, c->errs[i].what, c->errs[i].err, c->errs[i].why));
		ml_json_obj_end(&e.j);
		ml_json_obj_end(&e.j);
		ml_json_line_end(&e.j);
	} else if (c->nerrs) {
		printf("errors:\n");
		for (size_t i = 0; i < c->nerrs; i++)
			printf("  %s: %s\n", c->errs[i].what, reason(c, c->errs[i].what, c->errs[i].err, c->errs[i].why));
	}
	int rc = ML_EXIT_OK;
	for (size_t i = 0; i < c->nerrs; i++) {
		char what[96];
		snprintf(what, sizeof(what), "cannot read %s", c->errs[i].what);
		if (reason(c, c->errs[i].what, c->errs[i].err, c->errs[i].why) != ml_strerror(c->errs[i].err))
			c->live ? fprintf(stderr, "memlens: pid %d: %s: %s\n", (int)pid, what,
					  reason(c, c->errs[i].what, c->errs[i].err, c->errs[i].why))
				: fprintf(stderr, "memlens: %s: %s: %s\n", spec, what,
					  reason(c, c->errs[i].what, c->errs[i].err, c->errs[i].why));
		else if (c->live)
			ml_cli_pid_error(pid, what, c->errs[i].err);
		else
			ml_cli_file_error(spec, what, c->errs[i].err);
		rc = ML_EXIT_PARTIAL;
	}
	if (!shown && c->nerrs)
		rc = ML_EXIT_ERROR;
	if (vanished)
		rc = ml_cli_pid_error(pid, "changed while being read (the output above may be incomplete)",
				      -ESRCH);
	free(c);
	return rc;
}
