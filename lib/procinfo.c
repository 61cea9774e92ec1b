/* The one-value files of /proc/PID: owner, loginuid, OOM scores, autogroup, wchan,
 * coredump_filter, personality, ksm_stat. */
#include <string.h>
#include <sys/stat.h>

#include <memlens/procinfo.h>

#include "internal/pinfo.h"

int ml_uid_read(const ml_proc *p, uid_t *ret_uid, gid_t *ret_gid)
{
	if (!p)
		return -EINVAL;
	struct stat sb;
	int r = fstat(ml_proc_dirfd(p), &sb) < 0 ? ml_neg_errno() : 0;
	/* The directory's owner changes with setuid() in the target; the state check makes
	 * sure it is still the process the handle was opened on. */
	r = ml__proc_after_read(p, r, 1);
	if (r < 0)
		return r;
	if (ret_uid)
		*ret_uid = sb.st_uid;
	if (ret_gid)
		*ret_gid = sb.st_gid;
	return 0;
}

int ml_procinfo_int_parse(const char *buf, size_t len, int64_t *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	const char *e = buf + len;
	if (e > buf && e[-1] == '\n')
		e--;
	int64_t v;
	const char *p = buf;
	if (ml__parse_sdec(&p, e, &v) < 0 || p != e)
		return -EBADMSG;
	*ret = v;
	return 0;
}

static int int_cb(const char *b, size_t l, void *r) { return ml_procinfo_int_parse(b, l, r); }

static int read_int(const ml_proc *p, const char *name, int64_t lo, int64_t hi, int64_t *ret)
{
	if (!ret)
		return -EINVAL;
	int64_t v;
	int r = ml__read_parse(p, name, int_cb, &v);
	if (r < 0)
		return r;
	if (v < lo || v > hi)
		return -EBADMSG;
	*ret = v;
	return 0;
}

int ml_loginuid_read(const ml_proc *p, uint32_t *ret)
{
	int64_t v;
	int r = read_int(p, "loginuid", 0, UINT32_MAX, &v);
	if (r == 0)
		*ret = (uint32_t)v;
	return r;
}

int ml_oom_score_read(const ml_proc *p, int *ret)
{
	int64_t v;
	int r = read_int(p, "oom_score", INT32_MIN, INT32_MAX, &v);
	if (r == 0)
		*ret = (int)v;
	return r;
}

int ml_oom_score_adj_read(const ml_proc *p, int *ret)
{
	int64_t v;
	int r = read_int(p, "oom_score_adj", -1000, 1000, &v);
	if (r == 0)
		*ret = (int)v;
	return r;
}

int ml_autogroup_parse(const char *buf, size_t len, ml_autogroup *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	static const char pre[] = "/autogroup-", mid[] = " nice ";
	const char *p = buf, *e = buf + len;
	if (e > p && e[-1] == '\n')
		e--;
	uint64_t id;
	int64_t nice;
	/* The kernel prints nothing for a task in the default group: its session has not
	 * called setsid() since boot (init's own, and every kernel thread's). */
	if (e == p)
		return -ENODATA;
	if ((size_t)(e - p) < sizeof(pre) - 1 || memcmp(p, pre, sizeof(pre) - 1))
		return -EBADMSG;
	p += sizeof(pre) - 1;
	if (ml__parse_dec(&p, e, &id) < 0)
		return -EBADMSG;
	if ((size_t)(e - p) < sizeof(mid) - 1 || memcmp(p, mid, sizeof(mid) - 1))
		return -EBADMSG;
	p += sizeof(mid) - 1;
	if (ml__parse_sdec(&p, e, &nice) < 0 || p != e || nice < -20 || nice > 19)
		return -EBADMSG;
	ret->id = id;
	ret->nice = (int)nice;
	return 0;
}

static int autogroup_cb(const char *b, size_t l, void *r) { return ml_autogroup_parse(b, l, r); }
int ml_autogroup_read(const ml_proc *p, ml_autogroup *ret) { return ml__read_parse(p, "autogroup", autogroup_cb, ret); }

ssize_t ml_wchan_read(const ml_proc *p, char *buf, size_t cap)
{
	if (!p || !buf || !cap)
		return -EINVAL;
	char *text;
	size_t len;
	int r = ml_proc_read_file(p, "wchan", &text, &len);
	if (r < 0)
		return r;
	if (len && text[len - 1] == '\n')
		len--;
	if (len == 1 && text[0] == '0')
		len = 0;
	len = ML_MIN(len, cap - 1);
	memcpy(buf, text, len);
	buf[len] = '\0';
	free(text);
	return (ssize_t)len;
}

int ml_coredump_filter_parse(const char *buf, size_t len, ml_coredump_filter *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	const char *e = buf + len;
	if (e > buf && e[-1] == '\n')
		e--;
	if (e == buf) {
		*ret = (ml_coredump_filter){ .set = false };
		return 0;
	}
	uint64_t v;
	ml__trim(&buf, &e);
	if (ml__tok_xhex(buf, e, &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	*ret = (ml_coredump_filter){ .set = true, .mask = (uint32_t)v };
	return 0;
}

static int coredump_cb(const char *b, size_t l, void *r) { return ml_coredump_filter_parse(b, l, r); }

int ml_coredump_filter_read(const ml_proc *p, ml_coredump_filter *ret)
{
	return ml__read_parse(p, "coredump_filter", coredump_cb, ret);
}

const char *ml_coredump_filter_bit_name(unsigned bit)
{
	static const char *const names[] = { "anon-private", "anon-shared", "file-private",
		"file-shared", "elf-headers", "hugetlb-private", "hugetlb-shared", "dax-private",
		"dax-shared" };
	return bit < ML_ARRAY_SIZE(names) ? names[bit] : NULL;
}

int ml_personality_parse(const char *buf, size_t len, uint32_t *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	const char *e = buf + len;
	if (e > buf && e[-1] == '\n')
		e--;
	uint64_t v;
	ml__trim(&buf, &e);
	if (ml__tok_xhex(buf, e, &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	*ret = (uint32_t)v;
	return 0;
}

static int personality_cb(const char *b, size_t l, void *r) { return ml_personality_parse(b, l, r); }
int ml_personality_read(const ml_proc *p, uint32_t *ret) { return ml__read_parse(p, "personality", personality_cb, ret); }

const char *ml_personality_flag_name(unsigned bit)
{
	/* <sys/personality.h> flag bits, above the PER_* byte */
	switch (bit) {
	case 17: return "UNAME26";
	case 18: return "ADDR_NO_RANDOMIZE";
	case 19: return "FDPIC_FUNCPTRS";
	case 20: return "MMAP_PAGE_ZERO";
	case 21: return "ADDR_COMPAT_LAYOUT";
	case 22: return "READ_IMPLIES_EXEC";
	case 23: return "ADDR_LIMIT_32BIT";
	case 24: return "SHORT_INODE";
	case 25: return "WHOLE_SECONDS";
	case 26: return "STICKY_TIMEOUTS";
	case 27: return "ADDR_LIMIT_3GB";
	default: return NULL;
	}
}

int ml_ksm_stat_parse(const char *buf, size_t len, ml_ksm_stat *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	static const char *const keys[] = { "ksm_rmap_items", "ksm_zero_pages", "ksm_merging_pages",
		"ksm_process_profit", "ksm_merge_any", "ksm_mergeable" };
	ml_ksm_stat k;
	memset(&k, 0, sizeof(k));
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *le = ml__line_end(p, end);
		/* "key value" or "key: value" */
		const char *sp = p;
		while (sp < le && *sp != ' ' && *sp != ':')
			sp++;
		size_t kl = (size_t)(sp - p);
		const char *v = sp < le && *sp == ':' ? sp + 1 : sp;
		for (unsigned i = 0; i < ML_ARRAY_SIZE(keys); i++) {
			if (strlen(keys[i]) != kl || memcmp(keys[i], p, kl))
				continue;
			const char *vs = v, *ve = le;
			ml__trim(&vs, &ve);
			uint64_t u;
			int64_t s;
			if (i >= 4) {
				bool yes = ve - vs == 3 && !memcmp(vs, "yes", 3);
				if (!yes && !(ve - vs == 2 && !memcmp(vs, "no", 2)))
					return -EBADMSG;
				*(i == 4 ? &k.merge_any : &k.mergeable) = yes;
			} else if (i == 3) {
				if (ml__tok_sdec(vs, ve, &s) < 0)
					return -EBADMSG;
				k.process_profit = s;
			} else {
				if (ml__tok_dec(vs, ve, &u) < 0)
					return -EBADMSG;
				*(i == 0 ? &k.rmap_items : i == 1 ? &k.zero_pages : &k.merging_pages) = u;
			}
			k.present |= 1u << i;
		}
		p = le < end ? le + 1 : le;
	}
	*ret = k;
	return 0;
}

static int ksm_cb(const char *b, size_t l, void *r) { return ml_ksm_stat_parse(b, l, r); }
int ml_ksm_stat_read(const ml_proc *p, ml_ksm_stat *ret) { return ml__read_parse(p, "ksm_stat", ksm_cb, ret); }
