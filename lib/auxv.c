/* /proc/PID/auxv: (type, value) word pairs, 32- or 64-bit, up to AT_NULL. */
#include <string.h>

#include <memlens/auxv.h>

#include "internal/pinfo.h"

#define MAX_PLAUSIBLE_TYPE 4096

static uint64_t word(const unsigned char *p, unsigned ws)
{
	if (ws == 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Number of entries before AT_NULL (or the end), or -1 if a type is implausible. */
static long long count(const unsigned char *b, size_t len, unsigned ws, bool *terminated)
{
	size_t pair = 2u * ws, n = 0;
	*terminated = false;
	for (size_t off = 0; off + pair <= len; off += pair) {
		uint64_t t = word(b + off, ws);
		if (t == 0) {
			*terminated = true;
			return (long long)n;
		}
		if (t >= MAX_PLAUSIBLE_TYPE)
			return -1;
		n++;
	}
	return (long long)n;
}

int ml_auxv_parse(const void *buf, size_t len, ml_auxv_layout layout, ml_auxv **ret)
{
	if ((!buf && len) || !ret || (layout != ML_AUXV_AUTO && layout != ML_AUXV_32 && layout != ML_AUXV_64))
		return -EINVAL;
	const unsigned char *b = buf;
	unsigned ws = layout;
	bool term = false;
	long long n = -1;
	if (layout == ML_AUXV_AUTO) {
		if (len == 0) {
			ws = sizeof(void *);
			n = 0;
		} else {
			/* A 64-bit reading must be terminated: a 32-bit vector can look plausible
			 * as 64-bit pairs only up to its first non-zero value. */
			n = count(b, len, 8, &term);
			ws = 8;
			if (n < 0 || !term || len % 16) {
				bool t32;
				long long n32 = count(b, len, 4, &t32);
				if (n32 >= 0 && (t32 || n < 0)) {
					n = n32;
					term = t32;
					ws = 4;
				}
			}
		}
	} else {
		n = count(b, len, ws, &term);
	}
	if (n < 0)
		return -EBADMSG;
	ml_auxv *a = malloc(sizeof(*a) + (size_t)n * sizeof(ml_auxv_entry));
	if (!a)
		return -ENOMEM;
	ml_auxv_entry *v = (ml_auxv_entry *)(void *)(a + 1);
	for (long long i = 0; i < n; i++) {
		v[i].type = word(b + (size_t)i * 2 * ws, ws);
		v[i].value = word(b + (size_t)i * 2 * ws + ws, ws);
	}
	a->v = v;
	a->n = (size_t)n;
	a->word_size = ws;
	a->terminated = term;
	*ret = a;
	return 0;
}

int ml_auxv_read(const ml_proc *p, ml_auxv_layout layout, ml_auxv **ret)
{
	if (!p || !ret)
		return -EINVAL;
	char *buf;
	size_t len;
	int r = ml_proc_read_file(p, "auxv", &buf, &len);
	if (r == -ESRCH && ml_proc_is_live(p) && ml_proc_alive(p) == 1)
		return ml_auxv_parse("", 0, layout, ret); /* a kernel thread has no vector */
	if (r < 0)
		return r;
	r = ml_auxv_parse(buf, len, layout, ret);
	free(buf);
	return r;
}

bool ml_auxv_get(const ml_auxv *a, uint64_t type, uint64_t *ret)
{
	if (!a)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].type == type) {
			if (ret)
				*ret = a->v[i].value;
			return true;
		}
	return false;
}

const char *ml_auxv_type_name(uint64_t type)
{
	static const char *const names[] = {
		[0] = "AT_NULL", [1] = "AT_IGNORE", [2] = "AT_EXECFD", [3] = "AT_PHDR",
		[4] = "AT_PHENT", [5] = "AT_PHNUM", [6] = "AT_PAGESZ", [7] = "AT_BASE",
		[8] = "AT_FLAGS", [9] = "AT_ENTRY", [10] = "AT_NOTELF", [11] = "AT_UID",
		[12] = "AT_EUID", [13] = "AT_GID", [14] = "AT_EGID", [15] = "AT_PLATFORM",
		[16] = "AT_HWCAP", [17] = "AT_CLKTCK", [23] = "AT_SECURE",
		[24] = "AT_BASE_PLATFORM", [25] = "AT_RANDOM", [26] = "AT_HWCAP2",
		[27] = "AT_RSEQ_FEATURE_SIZE", [28] = "AT_RSEQ_ALIGN", [29] = "AT_HWCAP3",
		[30] = "AT_HWCAP4", [31] = "AT_EXECFN", [32] = "AT_SYSINFO",
		[33] = "AT_SYSINFO_EHDR", [51] = "AT_MINSIGSTKSZ",
	};
	return type < ML_ARRAY_SIZE(names) ? names[type] : NULL;
}

void ml_auxv_free(ml_auxv *a) { free(a); }
