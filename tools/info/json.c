/* memlens info: the summary as one JSON document (schema memlens.info/1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/resource.h>

#include "common/cli.h"
#include "common/json.h"
#include "info/info.h"

static void json_size_or_null(json_writer *j, const char *k, uint64_t v)
{
	json_key(j, k);
	if (v == ML_LIMIT_UNLIMITED)
		json_null(j);
	else
		json_u64(j, v);
}

static void json_bstr(json_writer *j, const char *k, ml_bstr b)
{
	json_key(j, k);
	json_str(j, b.ptr, b.len);
}

static void json_link(json_writer *j, const char *k, const ml_link *l)
{
	json_key(j, k);
	if (!l) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_key(j, "path");
	json_str(j, l->path, l->len);
	JSON_KBOOL(j, "deleted", l->deleted);
	if (l->via_tid)
		JSON_KI64(j, "via_tid", l->via_tid);
	json_obj_end(j);
}

static void json_status(json_writer *j, const ml_status *s)
{
	json_key(j, "status");
	if (!s) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
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
	json_key(j, "name");
	json_str(j, s->name, s->name_len);
	char st[2] = { s->state, 0 };
	JSON_KSTR(j, "state", st);
	json_bstr(j, "state_desc", s->state_desc);
	if (ml_status_has(s, ML_STATUS_UMASK))
		JSON_KU64(j, "umask", s->umask);
	JSON_KI64(j, "tgid", s->tgid);
	JSON_KI64(j, "ngid", s->ngid);
	JSON_KI64(j, "pid", s->pid);
	JSON_KI64(j, "ppid", s->ppid);
	JSON_KI64(j, "tracer_pid", s->tracer_pid);
	static const char *const idn[4] = { "real", "effective", "saved", "fs" };
	for (int g = 0; g < 2; g++) {
		json_key(j, g ? "gid" : "uid");
		json_obj_begin(j);
		for (int i = 0; i < 4; i++)
			JSON_KU64(j, idn[i], g ? s->gid[i] : s->uid[i]);
		json_obj_end(j);
	}
	json_key(j, "groups");
	json_arr_begin(j);
	for (size_t i = 0; i < s->n_groups; i++)
		json_u64(j, s->groups[i]);
	json_arr_end(j);
	const pid_t *nsl[4] = { s->ns_tgid, s->ns_pid, s->ns_pgid, s->ns_sid };
	static const char *const nsn[4] = { "ns_tgid", "ns_pid", "ns_pgid", "ns_sid" };
	for (int k = 0; k < 4; k++) {
		json_key(j, nsn[k]);
		json_arr_begin(j);
		for (size_t i = 0; i < s->n_ns; i++)
			json_i64(j, nsl[k][i]);
		json_arr_end(j);
	}
	if (ml_status_has(s, ML_STATUS_KTHREAD))
		JSON_KBOOL(j, "kthread", s->kthread);
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
		if (ml_status_has(s, u64s[i].key)) {
			uint64_t v;
			memcpy(&v, (const char *)s + u64s[i].off, sizeof(v));
			JSON_KU64(j, u64s[i].k, v);
		}
	for (size_t i = 0; i < sizeof(hexs) / sizeof(hexs[0]); i++)
		if (ml_status_has(s, hexs[i].key)) {
			uint64_t v;
			memcpy(&v, (const char *)s + hexs[i].off, sizeof(v));
			JSON_KADDR(j, hexs[i].k, v);
		}
	if (ml_status_has(s, ML_STATUS_COREDUMPING))
		JSON_KBOOL(j, "core_dumping", s->core_dumping);
	if (ml_status_has(s, ML_STATUS_THP_ENABLED))
		JSON_KBOOL(j, "thp_enabled", s->thp_enabled);
	if (ml_status_has(s, ML_STATUS_NONEWPRIVS))
		JSON_KBOOL(j, "no_new_privs", s->no_new_privs);
	if (ml_status_has(s, ML_STATUS_SECCOMP))
		JSON_KI64(j, "seccomp", s->seccomp);
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
	json_key(j, "extra");
	json_obj_begin(j);
	for (size_t i = 0; i < s->n_extra; i++) {
		char key[128];
		snprintf(key, sizeof(key), "%.*s", (int)INFO_MIN(s->extra[i].name.len, sizeof(key) - 1), s->extra[i].name.ptr);
		json_key(j, key);
		json_str(j, s->extra[i].value.ptr, s->extra[i].value.len);
	}
	json_obj_end(j);
	json_obj_end(j);
}

/* Writes key @k of stat field @n unless the kernel did not write the field; true when its
 * value is to follow, false after writing null for a value hidden from the reader. */
static bool stat_key(json_writer *j, const ml_stat *st, info_hid hid, unsigned n, const char *k)
{
	if (n > st->nfields)
		return false;
	json_key(j, k);
	if (info_stat_known(st, n, hid))
		return true;
	json_null(j);
	return false;
}

void info_print_json(const info *in, bool threads)
{
	json_writer jj, *j = &jj;
	json_init(j, stdout);
	json_obj_begin(j);
	JSON_KSTR(j, "schema", "memlens.info/1");
	JSON_KI64(j, "pid", in->pid);
	JSON_KSTR(j, "source", in->live ? "live" : "snapshot");
	JSON_KBOOL(j, "main_thread_exited", info_main_exited(in->status));
	json_key(j, "cmdline");
	if (in->cmdline) {
		json_arr_begin(j);
		for (size_t i = 0; i < in->cmdline->n; i++)
			json_str(j, in->cmdline->v[i].ptr, in->cmdline->v[i].len);
		json_arr_end(j);
	} else {
		json_null(j);
	}
	json_link(j, "exe", in->exe);
	json_link(j, "cwd", in->cwd);
	json_key(j, "owner_uid");
	in->have_owner ? json_u64(j, in->owner) : json_null(j);
	json_key(j, "user");
	struct passwd *pw = in->status ? getpwuid(in->status->uid[0]) : NULL;
	pw ? json_cstr(j, pw->pw_name) : json_null(j);
	json_status(j, in->status);
	json_key(j, "stat");
	if (in->have_stat) {
		const ml_stat *st = &in->stat;
		json_obj_begin(j);
		json_key(j, "comm");
		json_str(j, st->comm, st->comm_len);
		char sc[2] = { st->state, 0 };
		JSON_KSTR(j, "state", sc);
		/* each by its proc(5) number: left out when this kernel wrote fewer fields, as
		 * status leaves out lines it did not write; null when hidden from this reader
		 * (named in errors) */
#define S_(n, k) stat_key(j, st, in->stat_hid, n, k)
#define S_I64(n, k, v) (S_(n, k) ? json_i64(j, v) : (void)0)
#define S_U64(n, k, v) (S_(n, k) ? json_u64(j, v) : (void)0)
#define S_ADDR(n, k, v) (S_(n, k) ? json_addr(j, v) : (void)0)
		S_I64(4, "ppid", st->ppid);
		S_I64(5, "pgrp", st->pgrp);
		S_I64(6, "session", st->session);
		S_I64(7, "tty_nr", st->tty_nr);
		S_I64(8, "tpgid", st->tpgid);
		S_U64(9, "flags", st->flags);
		S_U64(10, "minflt", st->minflt);
		S_U64(11, "cminflt", st->cminflt);
		S_U64(12, "majflt", st->majflt);
		S_U64(13, "cmajflt", st->cmajflt);
		S_U64(14, "utime_ticks", st->utime);
		S_U64(15, "stime_ticks", st->stime);
		S_I64(16, "cutime_ticks", st->cutime);
		S_I64(17, "cstime_ticks", st->cstime);
		S_I64(18, "priority", st->priority);
		S_I64(19, "nice", st->nice);
		S_I64(20, "num_threads", st->num_threads);
		S_U64(22, "starttime_ticks", st->starttime);
		S_U64(23, "vsize", st->vsize);
		S_I64(24, "rss_pages", st->rss);
		S_U64(25, "rsslim", st->rsslim);
		S_ADDR(26, "start_code", st->start_code);
		S_ADDR(27, "end_code", st->end_code);
		S_ADDR(28, "start_stack", st->start_stack);
		S_ADDR(29, "kstkesp", st->kstkesp);
		S_ADDR(30, "kstkeip", st->kstkeip);
		S_U64(35, "wchan", st->wchan);
		S_I64(38, "exit_signal", st->exit_signal);
		S_I64(39, "processor", st->processor);
		S_U64(40, "rt_priority", st->rt_priority);
		S_U64(41, "policy", st->policy);
		S_U64(42, "delayacct_blkio_ticks", st->delayacct_blkio_ticks);
		S_U64(43, "guest_time_ticks", st->guest_time);
		S_I64(44, "cguest_time_ticks", st->cguest_time);
		S_ADDR(45, "start_data", st->start_data);
		S_ADDR(46, "end_data", st->end_data);
		S_ADDR(47, "start_brk", st->start_brk);
		S_ADDR(48, "arg_start", st->arg_start);
		S_ADDR(49, "arg_end", st->arg_end);
		S_ADDR(50, "env_start", st->env_start);
		S_ADDR(51, "env_end", st->env_end);
		S_I64(52, "exit_code", st->exit_code);
#undef S_ADDR
#undef S_U64
#undef S_I64
#undef S_
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "fd_count");
	in->live && in->nfds >= 0 ? json_i64(j, in->nfds) : json_null(j);
	if (threads && in->live) {
		json_key(j, "threads");
		json_arr_begin(j);
		for (size_t i = 0; i < in->nthreads; i++) {
			json_obj_begin(j);
			JSON_KI64(j, "tid", in->threads[i].tid);
			json_key(j, "name");
			json_str(j, in->threads[i].name, strlen(in->threads[i].name));
			char st[2] = { in->threads[i].state, 0 };
			JSON_KSTR(j, "state", st);
			json_obj_end(j);
		}
		json_arr_end(j);
	}
	json_key(j, "rollup");
	if (in->have_rollup) {
		json_obj_begin(j);
		JSON_KU64(j, "rss", in->rollup_rss);
		JSON_KU64(j, "pss", in->pss);
		if (in->have_pss_split) {
			JSON_KU64(j, "pss_anon", in->pss_anon);
			JSON_KU64(j, "pss_file", in->pss_file);
			JSON_KU64(j, "pss_shmem", in->pss_shmem);
		}
		JSON_KU64(j, "uss", in->uss);
		JSON_KU64(j, "swap", in->rollup_swap);
		JSON_KU64(j, "swap_pss", in->swap_pss);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "limits");
	if (in->have_limits) {
		json_obj_begin(j);
		for (int r = 0; r < ML_LIMIT_COUNT; r++) {
			const ml_limit *l = &in->limits.lim[r];
			if (!l->present)
				continue;
			json_key(j, ml_limit_key(r));
			json_obj_begin(j);
			json_size_or_null(j, "soft", l->soft);
			json_size_or_null(j, "hard", l->hard);
			JSON_KSTR(j, "units", l->units);
			json_obj_end(j);
		}
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "coredump_filter");
	if (in->have_cdf && in->cdf.set) {
		json_obj_begin(j);
		JSON_KU64(j, "mask", in->cdf.mask);
		json_key(j, "bits");
		json_arr_begin(j);
		for (unsigned bit = 0; bit < 32; bit++)
			if (in->cdf.mask & (1u << bit)) {
				const char *n = ml_coredump_filter_bit_name(bit);
				char other[16];
				snprintf(other, sizeof(other), "bit%u", bit);
				json_cstr(j, n ? n : other);
			}
		json_arr_end(j);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "ksm");
	if (in->have_ksm) {
		uint64_t ps = ml_statm_page_size();
		json_obj_begin(j);
		/* the lines of ksm_stat came one by one with kernel versions: those this
		 * kernel did not write are left out */
		const ml_ksm_stat *k = &in->ksm;
		if (k->present & (1u << 0))
			JSON_KU64(j, "rmap_items", k->rmap_items);
		if (k->present & (1u << 2))
			JSON_KU64(j, "merging_bytes", k->merging_pages * ps);
		if (k->present & (1u << 1))
			JSON_KU64(j, "zero_page_bytes", k->zero_pages * ps);
		if (k->present & (1u << 3))
			JSON_KI64(j, "process_profit", k->process_profit);
		if (k->present & (1u << 4))
			JSON_KBOOL(j, "merge_any", k->merge_any);
		if (k->present & (1u << 5))
			JSON_KBOOL(j, "mergeable", k->mergeable);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "oom_score");
	in->have_oom_score ? json_i64(j, in->oom_score) : json_null(j);
	json_key(j, "oom_score_adj");
	in->have_oom_adj ? json_i64(j, in->oom_adj) : json_null(j);
	json_key(j, "cgroup");
	if (in->cgroup_path) {
		json_obj_begin(j);
		JSON_KSTR(j, "path", in->cgroup_path);
		JSON_KI64(j, "version", in->cgroup_version);
		json_key(j, "memory_max");
		if (in->have_cg_max && in->cg_max != ML_CGROUP_UNLIMITED)
			json_u64(j, in->cg_max);
		else
			json_null(j);
		JSON_KBOOL(j, "memory_max_known", in->have_cg_max);
		json_key(j, "memory_effective_max");
		if (in->have_cg_eff && in->cg_eff != ML_CGROUP_UNLIMITED)
			json_u64(j, in->cg_eff);
		else
			json_null(j);
		json_key(j, "memory_current");
		in->have_cg_current ? json_u64(j, in->cg_current) : json_null(j);
		json_key(j, "memory_peak");
		in->have_cg_peak ? json_u64(j, in->cg_peak) : json_null(j);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "namespaces");
	if (in->nns) {
		json_obj_begin(j);
		for (size_t i = 0; i < in->nns; i++) {
			json_key(j, in->ns[i].name);
			json_obj_begin(j);
			JSON_KU64(j, "inode", in->ns[i].ino);
			JSON_KBOOL(j, "same_as_reader", in->ns[i].same_as_self);
			json_obj_end(j);
		}
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "errors");
	json_obj_begin(j);
	for (size_t i = 0; i < in->nerrs; i++)
		JSON_KSTR(j, in->errs[i].what, ml_strerror(in->errs[i].err));
	json_obj_end(j);
	json_obj_end(j);
	json_line_end(j);
}
