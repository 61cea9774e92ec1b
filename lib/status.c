/* /proc/PID/status: a key-driven parser into ml_status, keeping unknown keys verbatim. */
#include <string.h>

#include <memlens/status.h>

#include "internal/pinfo.h"

enum kind {
	K_NAME, K_OCT, K_STATE, K_PID, K_DEC, K_IDS4, K_GROUPS, K_NSLIST, K_BOOL, K_KB,
	K_HEX, K_SIGQ, K_INT, K_TEXT, K_CPUMASK,
};

typedef struct keydef {
	const char *name;
	unsigned char len;
	unsigned char kind;
	unsigned short off; /* offset of the field in ml_status */
} keydef;

#define KD(n, k, f) { n, sizeof(n) - 1, k, offsetof(ml_status, f) }

/* In the order the kernel writes them, so the lookup usually hits on the first try. */
static const keydef keys[ML_STATUS_KEY_COUNT] = {
	[ML_STATUS_NAME] = KD("Name", K_NAME, name),
	[ML_STATUS_UMASK] = KD("Umask", K_OCT, umask),
	[ML_STATUS_STATE] = KD("State", K_STATE, state),
	[ML_STATUS_TGID] = KD("Tgid", K_PID, tgid),
	[ML_STATUS_NGID] = KD("Ngid", K_PID, ngid),
	[ML_STATUS_PID] = KD("Pid", K_PID, pid),
	[ML_STATUS_PPID] = KD("PPid", K_PID, ppid),
	[ML_STATUS_TRACERPID] = KD("TracerPid", K_PID, tracer_pid),
	[ML_STATUS_UID] = KD("Uid", K_IDS4, uid),
	[ML_STATUS_GID] = KD("Gid", K_IDS4, gid),
	[ML_STATUS_FDSIZE] = KD("FDSize", K_DEC, fd_size),
	[ML_STATUS_GROUPS] = KD("Groups", K_GROUPS, groups),
	[ML_STATUS_NSTGID] = KD("NStgid", K_NSLIST, ns_tgid),
	[ML_STATUS_NSPID] = KD("NSpid", K_NSLIST, ns_pid),
	[ML_STATUS_NSPGID] = KD("NSpgid", K_NSLIST, ns_pgid),
	[ML_STATUS_NSSID] = KD("NSsid", K_NSLIST, ns_sid),
	[ML_STATUS_KTHREAD] = KD("Kthread", K_BOOL, kthread),
	[ML_STATUS_VMPEAK] = KD("VmPeak", K_KB, vm_peak),
	[ML_STATUS_VMSIZE] = KD("VmSize", K_KB, vm_size),
	[ML_STATUS_VMLCK] = KD("VmLck", K_KB, vm_lck),
	[ML_STATUS_VMPIN] = KD("VmPin", K_KB, vm_pin),
	[ML_STATUS_VMHWM] = KD("VmHWM", K_KB, vm_hwm),
	[ML_STATUS_VMRSS] = KD("VmRSS", K_KB, vm_rss),
	[ML_STATUS_RSSANON] = KD("RssAnon", K_KB, rss_anon),
	[ML_STATUS_RSSFILE] = KD("RssFile", K_KB, rss_file),
	[ML_STATUS_RSSSHMEM] = KD("RssShmem", K_KB, rss_shmem),
	[ML_STATUS_VMDATA] = KD("VmData", K_KB, vm_data),
	[ML_STATUS_VMSTK] = KD("VmStk", K_KB, vm_stk),
	[ML_STATUS_VMEXE] = KD("VmExe", K_KB, vm_exe),
	[ML_STATUS_VMLIB] = KD("VmLib", K_KB, vm_lib),
	[ML_STATUS_VMPTE] = KD("VmPTE", K_KB, vm_pte),
	[ML_STATUS_VMSWAP] = KD("VmSwap", K_KB, vm_swap),
	[ML_STATUS_HUGETLBPAGES] = KD("HugetlbPages", K_KB, hugetlb_pages),
	[ML_STATUS_COREDUMPING] = KD("CoreDumping", K_BOOL, core_dumping),
	[ML_STATUS_THP_ENABLED] = KD("THP_enabled", K_BOOL, thp_enabled),
	[ML_STATUS_UNTAG_MASK] = KD("untag_mask", K_HEX, untag_mask),
	[ML_STATUS_THREADS] = KD("Threads", K_DEC, threads),
	[ML_STATUS_SIGQ] = KD("SigQ", K_SIGQ, sigq_queued),
	[ML_STATUS_SIGPND] = KD("SigPnd", K_HEX, sig_pnd),
	[ML_STATUS_SHDPND] = KD("ShdPnd", K_HEX, shd_pnd),
	[ML_STATUS_SIGBLK] = KD("SigBlk", K_HEX, sig_blk),
	[ML_STATUS_SIGIGN] = KD("SigIgn", K_HEX, sig_ign),
	[ML_STATUS_SIGCGT] = KD("SigCgt", K_HEX, sig_cgt),
	[ML_STATUS_CAPINH] = KD("CapInh", K_HEX, cap_inh),
	[ML_STATUS_CAPPRM] = KD("CapPrm", K_HEX, cap_prm),
	[ML_STATUS_CAPEFF] = KD("CapEff", K_HEX, cap_eff),
	[ML_STATUS_CAPBND] = KD("CapBnd", K_HEX, cap_bnd),
	[ML_STATUS_CAPAMB] = KD("CapAmb", K_HEX, cap_amb),
	[ML_STATUS_NONEWPRIVS] = KD("NoNewPrivs", K_BOOL, no_new_privs),
	[ML_STATUS_SECCOMP] = KD("Seccomp", K_INT, seccomp),
	[ML_STATUS_SECCOMP_FILTERS] = KD("Seccomp_filters", K_DEC, seccomp_filters),
	[ML_STATUS_SPEC_STORE_BYPASS] = KD("Speculation_Store_Bypass", K_TEXT, spec_store_bypass),
	[ML_STATUS_SPEC_INDIRECT_BRANCH] = KD("SpeculationIndirectBranch", K_TEXT, spec_indirect_branch),
	[ML_STATUS_CPUS_ALLOWED] = KD("Cpus_allowed", K_CPUMASK, cpus_allowed),
	[ML_STATUS_CPUS_ALLOWED_LIST] = KD("Cpus_allowed_list", K_TEXT, cpus_allowed_list),
	[ML_STATUS_MEMS_ALLOWED] = KD("Mems_allowed", K_TEXT, mems_allowed),
	[ML_STATUS_MEMS_ALLOWED_LIST] = KD("Mems_allowed_list", K_TEXT, mems_allowed_list),
	[ML_STATUS_VOLUNTARY_CTXT] = KD("voluntary_ctxt_switches", K_DEC, voluntary_ctxt_switches),
	[ML_STATUS_NONVOLUNTARY_CTXT] = KD("nonvoluntary_ctxt_switches", K_DEC, nonvoluntary_ctxt_switches),
	[ML_STATUS_X86_THREAD_FEATURES] = KD("x86_Thread_features", K_TEXT, x86_thread_features),
	[ML_STATUS_X86_THREAD_FEATURES_LOCKED] = KD("x86_Thread_features_locked", K_TEXT, x86_thread_features_locked),
};

/* The record, with the storage its borrowed pointers point into. */
typedef struct status_impl {
	ml_status pub;
	char *text;          /* copy of the input; name/value bytes point into it */
	gid_t *groups;
	pid_t *ns[4];
	size_t ns_len[4];
	ml_status_extra *extra;
	size_t extra_cap;
} status_impl;

const char *ml_status_key_name(ml_status_key k)
{
	return (unsigned)k < ML_STATUS_KEY_COUNT ? keys[k].name : NULL;
}

bool ml_status_has(const ml_status *s, ml_status_key k)
{
	if (!s || (unsigned)k >= ML_STATUS_KEY_COUNT)
		return false;
	return (s->present[k / 64] >> (k % 64)) & 1;
}

void ml_status_free(ml_status *s)
{
	if (!s)
		return;
	status_impl *im = (status_impl *)s;
	free(im->text);
	free(im->groups);
	for (int i = 0; i < 4; i++)
		free(im->ns[i]);
	free(im->extra);
	free(im);
}

static int lookup(const char *k, size_t klen, int hint)
{
	if (hint >= 0 && hint < ML_STATUS_KEY_COUNT && keys[hint].len == klen && !memcmp(keys[hint].name, k, klen))
		return hint;
	for (int i = 0; i < ML_STATUS_KEY_COUNT; i++)
		if (keys[i].len == klen && !memcmp(keys[i].name, k, klen))
			return i;
	return -1;
}

/* The kernel escapes the comm in status: '\n' as "\n" and '\\' as "\\". Unescaping only
 * shrinks, so it is done in place in the record's own copy of the text, and the line's
 * end ('\n' or the copy's final NUL) leaves room for the terminator. */
static int parse_name(status_impl *im, const char *p, const char *e)
{
	char *n = im->text + (p - im->text);
	size_t o = 0;
	for (const char *s = p; s < e; s++) {
		if (*s == '\\' && s + 1 < e && (s[1] == 'n' || s[1] == '\\')) {
			n[o++] = s[1] == 'n' ? '\n' : '\\';
			s++;
		} else {
			n[o++] = *s;
		}
	}
	n[o] = '\0';
	im->pub.name = n;
	im->pub.name_len = o;
	return 0;
}

/* A list of decimal IDs separated by blanks; returns a malloc'd array (may be empty). */
static int parse_idlist(const char *p, const char *e, uint32_t **ret, size_t *n)
{
	size_t cap = 0, cnt = 0;
	uint32_t *v = NULL;
	for (;;) {
		ml__skip_blank(&p, e);
		if (p >= e)
			break;
		uint64_t x;
		int r = ml__parse_dec(&p, e, &x);
		if (r < 0 || x > UINT32_MAX || (p < e && *p != ' ' && *p != '\t')) {
			free(v);
			return -EBADMSG;
		}
		r = ml__grow(&v, &cap, cnt + 1, sizeof(*v));
		if (r < 0) {
			free(v);
			return r;
		}
		v[cnt++] = (uint32_t)x;
	}
	*ret = v;
	*n = cnt;
	return 0;
}

/* Bits set in a hex mask written with comma-separated 32-bit words. */
static int mask_popcount(const char *p, const char *e, uint64_t *ret)
{
	uint64_t n = 0;
	bool any = false;
	for (; p < e; p++) {
		if (*p == ',')
			continue;
		int d = ml__hexval(*p);
		if (d < 0)
			return -EBADMSG;
		any = true;
		n += (uint64_t)__builtin_popcount((unsigned)d);
	}
	if (!any)
		return -EBADMSG;
	*ret = n;
	return 0;
}

static int parse_value(status_impl *im, int k, const char *p, const char *e)
{
	ml_status *s = &im->pub;
	void *f = (char *)s + keys[k].off;
	uint64_t v;
	int32_t sv;
	int r;
	switch (keys[k].kind) {
	case K_NAME:
		/* The value starts after the tab; a comm may itself begin or end with blanks. */
		return parse_name(im, p, e);
	case K_TEXT:
		ml__trim(&p, &e);
		((ml_bstr *)f)->ptr = p;
		((ml_bstr *)f)->len = (size_t)(e - p);
		return 0;
	case K_CPUMASK:
		ml__trim(&p, &e);
		s->cpus_allowed.ptr = p;
		s->cpus_allowed.len = (size_t)(e - p);
		return mask_popcount(p, e, &s->n_cpus_allowed);
	case K_OCT:
		ml__trim(&p, &e);
		if (ml__tok_oct(p, e, &v) < 0 || v > UINT32_MAX)
			return -EBADMSG;
		*(uint32_t *)f = (uint32_t)v;
		return 0;
	case K_STATE:
		ml__trim(&p, &e);
		if (p >= e)
			return -EBADMSG;
		s->state = *p++;
		ml__skip_blank(&p, e);
		if (p < e && *p == '(' && e[-1] == ')') {
			s->state_desc.ptr = p + 1;
			s->state_desc.len = (size_t)(e - p - 2);
		} else if (p != e) {
			return -EBADMSG;
		}
		return 0;
	case K_PID:
	case K_INT:
		ml__trim(&p, &e);
		if (ml__tok_s32(p, e, &sv) < 0)
			return -EBADMSG;
		*(int *)f = (int)sv;
		return 0;
	case K_DEC:
		ml__trim(&p, &e);
		if ((r = ml__tok_dec(p, e, &v)) < 0)
			return r;
		*(uint64_t *)f = v;
		return 0;
	case K_BOOL:
		ml__trim(&p, &e);
		if ((r = ml__tok_dec(p, e, &v)) < 0)
			return r;
		*(bool *)f = v != 0;
		return 0;
	case K_HEX:
		ml__trim(&p, &e);
		if ((r = ml__tok_xhex(p, e, &v)) < 0)
			return r;
		*(uint64_t *)f = v;
		return 0;
	case K_KB:
		ml__trim(&p, &e);
		if (e - p >= 3 && !memcmp(e - 3, " kB", 3))
			e -= 3;
		ml__trim(&p, &e);
		if (ml__tok_dec(p, e, &v) < 0 || v > UINT64_MAX / 1024)
			return -EBADMSG;
		*(uint64_t *)f = v * 1024;
		return 0;
	case K_SIGQ: {
		const char *sl = memchr(p, '/', (size_t)(e - p));
		if (!sl)
			return -EBADMSG;
		const char *q = sl + 1;
		ml__trim(&p, &sl);
		ml__trim(&q, &e);
		if ((r = ml__tok_dec(p, sl, &s->sigq_queued)) < 0)
			return r;
		return ml__tok_dec(q, e, &s->sigq_limit);
	}
	case K_IDS4: {
		uint32_t *ids;
		size_t n;
		if ((r = parse_idlist(p, e, &ids, &n)) < 0)
			return r;
		if (n != 4) {
			free(ids);
			return -EBADMSG;
		}
		memcpy(f, ids, 4 * sizeof(uint32_t));
		free(ids);
		return 0;
	}
	case K_GROUPS: {
		uint32_t *ids;
		size_t n;
		if ((r = parse_idlist(p, e, &ids, &n)) < 0)
			return r;
		free(im->groups);
		im->groups = (gid_t *)ids;
		s->groups = im->groups;
		s->n_groups = n;
		return 0;
	}
	case K_NSLIST: {
		uint32_t *ids;
		size_t n;
		int slot = k - ML_STATUS_NSTGID;
		if ((r = parse_idlist(p, e, &ids, &n)) < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			if (ids[i] > INT32_MAX) {
				free(ids);
				return -EBADMSG;
			}
		free(im->ns[slot]);
		im->ns[slot] = (pid_t *)ids;
		im->ns_len[slot] = n;
		*(const pid_t **)f = im->ns[slot];
		/* n_ns is the deepest list: all four have one entry per namespace level. */
		if (n > s->n_ns)
			s->n_ns = n;
		return 0;
	}
	}
	return -EBADMSG;
}

int ml_status_parse(const char *buf, size_t len, ml_status **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	status_impl *im = calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	int r = -ENOMEM;
	im->text = ml__memdup0(buf, len);
	if (!im->text)
		goto fail;
	const char *p = im->text, *end = im->text + len;
	int hint = 0;
	while (p < end) {
		const char *le = ml__line_end(p, end);
		const char *colon = memchr(p, ':', (size_t)(le - p));
		r = -EBADMSG;
		if (!colon)
			goto fail;
		int k = lookup(p, (size_t)(colon - p), hint);
		/* Only the tab right after the colon separates; the value's own blanks stay. */
		const char *v = colon + 1;
		if (v < le && *v == '\t')
			v++;
		if (k < 0) {
			r = ml__grow(&im->extra, &im->extra_cap, im->pub.n_extra + 1, sizeof(*im->extra));
			if (r < 0)
				goto fail;
			const char *ve = le;
			ml__trim(&v, &ve);
			im->extra[im->pub.n_extra++] = (ml_status_extra){
				{ p, (size_t)(colon - p) }, { v, (size_t)(ve - v) } };
		} else {
			if ((r = parse_value(im, k, v, le)) < 0)
				goto fail;
			im->pub.present[k / 64] |= 1ull << (k % 64);
			hint = k + 1;
		}
		p = le < end ? le + 1 : le;
	}
	/* The four NS* lines have one entry per namespace level; callers index them by
	 * n_ns, so lists must agree, and a missing one is filled with zeros. */
	const pid_t **slots[4] = { &im->pub.ns_tgid, &im->pub.ns_pid, &im->pub.ns_pgid, &im->pub.ns_sid };
	for (int i = 0; i < 4 && im->pub.n_ns; i++) {
		if (!im->ns[i]) {
			r = -ENOMEM;
			if (!(im->ns[i] = calloc(im->pub.n_ns, sizeof(pid_t))))
				goto fail;
			*slots[i] = im->ns[i];
		} else if (im->ns_len[i] != im->pub.n_ns) {
			r = -EBADMSG;
			goto fail;
		}
	}
	im->pub.extra = im->extra;
	*ret = &im->pub;
	return 0;
fail:
	ml_status_free(&im->pub);
	return r;
}

int ml_status_read(const ml_proc *p, ml_status **ret)
{
	if (!p || !ret)
		return -EINVAL;
	char *buf;
	size_t len;
	int r = ml_proc_read_file(p, "status", &buf, &len);
	if (r < 0)
		return r;
	r = ml_status_parse(buf, len, ret);
	free(buf);
	return r;
}

static int status_set(const ml_status *s, ml_status_key k, ml_bstr v, bool list, ml_bitmap **ret)
{
	if (!s || !ret)
		return -EINVAL;
	if (!ml_status_has(s, k))
		return -ENOENT;
	return list ? ml_bitmap_parse_list(v.ptr, v.len, ret) : ml_bitmap_parse_mask(v.ptr, v.len, ret);
}

int ml_status_cpus_allowed(const ml_status *s, bool list, ml_bitmap **ret)
{
	if (!s)
		return -EINVAL;
	return list ? status_set(s, ML_STATUS_CPUS_ALLOWED_LIST, s->cpus_allowed_list, true, ret)
		    : status_set(s, ML_STATUS_CPUS_ALLOWED, s->cpus_allowed, false, ret);
}

int ml_status_mems_allowed(const ml_status *s, bool list, ml_bitmap **ret)
{
	if (!s)
		return -EINVAL;
	return list ? status_set(s, ML_STATUS_MEMS_ALLOWED_LIST, s->mems_allowed_list, true, ret)
		    : status_set(s, ML_STATUS_MEMS_ALLOWED, s->mems_allowed, false, ret);
}
