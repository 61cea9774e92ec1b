/* memlens info --show, the process itself: cmdline, environ, status, stat, statm, io, auxv, scheduling, limits, oom, ids. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "info/info.h"
#include "info/show.h"

int show_cmdline(show_ctx *c)
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

int show_environ(show_ctx *c)
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

int show_status(show_ctx *c)
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

/* Key @k of stat field @n, unless the kernel did not write the field; true when its value
 * is to follow, false after null for a value hidden from the reader (named in errors). */
static bool stat_key(show_ctx *c, const ml_stat *st, info_hid hid, unsigned n, const char *k)
{
	if (n > st->nfields)
		return false;
	em_key(c->e, k);
	if (info_stat_known(st, n, hid))
		return true;
	em_null(c->e);
	show_err_note(c, k, -EACCES, NULL);
	return false;
}

int show_stat(show_ctx *c)
{
	ml_stat st;
	READ_OR_PARSE(c, ml_stat_read(c->p, &st), "stat", ml_stat_parse(b, n, &st));
	info_hid hid = info_stat_hid(&st, c->live ? info_may_ptrace_read(c->p) : -1);
	em *e = c->e;
	ml_sysinfo si;
	bool have_si = c->live && ml_sysinfo_read(&si) == 0;
	em_begin(e, false);
	K_I64(e, "pid", st.pid);
	K_STR(e, "comm", st.comm, st.comm_len);
	char sc[2] = { st.state, 0 };
	K_CSTR(e, "state", sc);
	K_CSTR(e, "state_name", ml_proc_state_name(ml_proc_state_from_char(st.state)));
	/* each by its proc(5) number: left out when this kernel wrote fewer fields; null when
	 * hidden from this reader, and named in errors */
#define S_(n, k) stat_key(c, &st, hid, n, k)
#define S_I64(n, k, v) (S_(n, k) ? em_i64(e, v) : (void)0)
#define S_U64(n, k, v) (S_(n, k) ? em_u64(e, v) : (void)0)
#define S_ADDR(n, k, v) (S_(n, k) ? em_addr(e, v) : (void)0)
	S_I64(4, "ppid", st.ppid);
	S_I64(5, "pgrp", st.pgrp);
	S_I64(6, "session", st.session);
	S_I64(7, "tty_nr", st.tty_nr);
	S_U64(7, "tty_major", ml_stat_tty_major(&st));
	S_U64(7, "tty_minor", ml_stat_tty_minor(&st));
	S_I64(8, "tpgid", st.tpgid);
	S_U64(9, "flags", st.flags);
	if (S_(9, "flag_names")) {
		em_begin(e, true);
		em_bit_names(e, st.flags, 0, ml_stat_flag_name);
		END_ARR(e);
	}
	S_U64(10, "minflt", st.minflt);
	S_U64(11, "cminflt", st.cminflt);
	S_U64(12, "majflt", st.majflt);
	S_U64(13, "cmajflt", st.cmajflt);
	S_U64(14, "utime", st.utime);
	S_U64(15, "stime", st.stime);
	S_I64(16, "cutime", st.cutime);
	S_I64(17, "cstime", st.cstime);
	S_I64(18, "priority", st.priority);
	S_I64(19, "nice", st.nice);
	S_I64(20, "num_threads", st.num_threads);
	S_I64(21, "itrealvalue", st.itrealvalue);
	S_U64(22, "starttime", st.starttime);
	int64_t t;
	if (have_si && ml_stat_start_time(&st, &si, &t) == 0)
		K_I64(e, "start_time_ns", t);
	if (S_(23, "vsize"))
		em_size(e, st.vsize);
	S_I64(24, "rss", st.rss);
	uint64_t rb;
	if (have_si && ml_stat_rss_bytes(&st, &si, &rb) == 0)
		K_SIZE(e, "rss_bytes", rb);
	S_U64(25, "rsslim", st.rsslim);
	S_ADDR(26, "startcode", st.start_code);
	S_ADDR(27, "endcode", st.end_code);
	S_ADDR(28, "startstack", st.start_stack);
	S_ADDR(29, "kstkesp", st.kstkesp);
	S_ADDR(30, "kstkeip", st.kstkeip);
	S_ADDR(31, "signal", st.signal);
	S_ADDR(32, "blocked", st.blocked);
	S_ADDR(33, "sigignore", st.sigignore);
	S_ADDR(34, "sigcatch", st.sigcatch);
	S_U64(35, "wchan", st.wchan);
	S_U64(36, "nswap", st.nswap);
	S_U64(37, "cnswap", st.cnswap);
	S_I64(38, "exit_signal", st.exit_signal);
	S_I64(39, "processor", st.processor);
	S_U64(40, "rt_priority", st.rt_priority);
	S_U64(41, "policy", st.policy);
	S_U64(42, "delayacct_blkio_ticks", st.delayacct_blkio_ticks);
	S_U64(43, "guest_time", st.guest_time);
	S_I64(44, "cguest_time", st.cguest_time);
	S_ADDR(45, "start_data", st.start_data);
	S_ADDR(46, "end_data", st.end_data);
	S_ADDR(47, "start_brk", st.start_brk);
	S_ADDR(48, "arg_start", st.arg_start);
	S_ADDR(49, "arg_end", st.arg_end);
	S_ADDR(50, "env_start", st.env_start);
	S_ADDR(51, "env_end", st.env_end);
	S_I64(52, "exit_code", st.exit_code);
#undef S_ADDR
#undef S_U64
#undef S_I64
#undef S_
	END_OBJ(e);
	return 0;
}

int show_statm(show_ctx *c)
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

int show_io(show_ctx *c)
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

int show_auxv(show_ctx *c)
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

/* Whether the kernel hid the wchan flag of the source's stat from this reader
 * (info_stat_hid()): 1, 0, or -errno when no stat could be read. */
static int stat_hidden(show_ctx *c)
{
	ml_stat st;
	int r = 0;
	if (c->live)
		r = ml_stat_read(c->p, &st);
	else
		PARSE_TEXT(c, "stat", (r = ml_stat_parse(b, n, &st)));
	return r < 0 ? r : !info_stat_known(&st, 35, info_stat_hid(&st, c->live ? info_may_ptrace_read(c->p) : -1));
}

int show_wchan(show_ctx *c)
{
	/* The kernel writes "0" both for a task that waits in no function and for a reader
	 * that may not ptrace it: stat's mark (or, for a task without an address space, the
	 * refused cwd link) tells the second. It is read on both sides
	 * of wchan, so that an access that changed in between counts as hidden. */
	int before = stat_hidden(c);
	char w[256], *buf = NULL;
	size_t len;
	if (c->live) {
		ssize_t wl = ml_wchan_read(c->p, w, sizeof(w));
		if (wl < 0)
			return (int)wl;
		len = (size_t)wl;
	} else {
		int r = show_text(c, "wchan", &buf, &len);
		if (r < 0)
			return r;
		if (len && buf[len - 1] == '\n')
			len--;
		if (len == 1 && buf[0] == '0')
			len = 0;
	}
	if (len == 0) {
		int after = stat_hidden(c);
		/* a snapshot without a saved stat has no mark to read: its "0" stands */
		if (before == 1 || after == 1 || (c->live && (before < 0 || after < 0))) {
			free(buf);
			return before == 1 || after == 1 ? -EACCES : before < 0 ? before : after;
		}
	}
	em_str(c->e, c->live ? w : buf, len);
	free(buf);
	return 0;
}

int show_loginuid(show_ctx *c)
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
static int autogroup_get(show_ctx *c, ml_autogroup *ag)
{
	READ_OR_PARSE(c, ml_autogroup_read(c->p, ag), "autogroup", ml_autogroup_parse(b, n, ag));
	return 0;
}

int show_autogroup(show_ctx *c)
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

int show_schedstat(show_ctx *c)
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

int show_limits(show_ctx *c)
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

static int show_oom(show_ctx *c, const char *name)
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

int show_oom_score(show_ctx *c) { return show_oom(c, "oom_score"); }
int show_oom_score_adj(show_ctx *c) { return show_oom(c, "oom_score_adj"); }

/* "flags": the names of the bits set in @mask from bit @from on ("bitN" where @name has none). */
static void flag_names(em *e, uint32_t mask, unsigned from, const char *(*name)(unsigned))
{
	K_ARR(e, "flags");
	em_bit_names(e, mask, from, name);
	END_ARR(e);
}

int show_coredump_filter(show_ctx *c)
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
	flag_names(e, f.mask, 0, ml_coredump_filter_bit_name);
	END_OBJ(e);
	return 0;
}

int show_personality(show_ctx *c)
{
	uint32_t v;
	READ_OR_PARSE(c, ml_personality_read(c->p, &v), "personality", ml_personality_parse(b, n, &v));
	em *e = c->e;
	em_begin(e, false);
	K_U64(e, "value", v);
	K_U64(e, "domain", v & 0xffu);
	flag_names(e, v, 8, ml_personality_flag_name);
	END_OBJ(e);
	return 0;
}

int show_uid(show_ctx *c)
{
	int r = show_need_live(c);
	uid_t u;
	if (r < 0 || (r = ml_uid_read(c->p, &u, NULL)) < 0)
		return r;
	em_u64(c->e, u);
	return 0;
}

int show_is_alive(show_ctx *c)
{
	int r = show_need_live(c);
	if (r < 0 || (r = ml_proc_alive(c->p)) < 0)
		return r;
	em_bool(c->e, r == 1);
	return 0;
}
