/* /proc/PID/cmdline and /proc/PID/environ: NUL-separated strings, split in one allocation. */
#include <string.h>

#include <memlens/cmdline.h>

#include "internal/pinfo.h"

int ml_strv_parse(const char *buf, size_t len, ml_strv **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			n++;
	bool unterminated = len && buf[len - 1] != '\0';
	if (unterminated)
		n++;
	/* One block: the header, the array, then a NUL-terminated copy of the bytes. */
	size_t hdr = sizeof(ml_strv) + sizeof(ml_bstr) - 1;
	hdr -= hdr % sizeof(ml_bstr);
	if (n > (SIZE_MAX - hdr - len - 2) / sizeof(ml_bstr))
		return -ENOMEM;
	char *block = malloc(hdr + n * sizeof(ml_bstr) + len + 1);
	if (!block)
		return -ENOMEM;
	ml_strv *v = (ml_strv *)(void *)block;
	ml_bstr *arr = (ml_bstr *)(void *)(block + hdr);
	char *text = (char *)(arr + n);
	if (len)
		memcpy(text, buf, len);
	text[len] = '\0';
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= len && k < n; i++) {
		if (i == len || text[i] == '\0') {
			if (i == len && !unterminated)
				break;
			arr[k].ptr = text + start;
			arr[k].len = i - start;
			k++;
			start = i + 1;
		}
	}
	v->v = arr;
	v->n = k;
	v->unterminated = unterminated;
	*ret = v;
	return 0;
}

static int read_strv(const ml_proc *p, const char *name, ml_strv **ret)
{
	if (!p || !ret)
		return -EINVAL;
	char *buf;
	size_t len;
	int r = ml_proc_read_file(p, name, &buf, &len);
	if (r == -ESRCH && ml_proc_is_live(p) && ml_proc_alive(p) == 1)
		return ml_strv_parse("", 0, ret); /* a kernel thread: no address space at all */
	if (r < 0)
		return r;
	r = ml_strv_parse(buf, len, ret);
	free(buf);
	return r;
}

int ml_cmdline_read(const ml_proc *p, ml_strv **ret) { return read_strv(p, "cmdline", ret); }
int ml_environ_read(const ml_proc *p, ml_strv **ret) { return read_strv(p, "environ", ret); }

bool ml_environ_get(const ml_strv *env, const char *name, ml_bstr *ret)
{
	if (!env || !name || !ret)
		return false;
	size_t nl = strlen(name);
	for (size_t i = 0; i < env->n; i++) {
		const ml_bstr *e = &env->v[i];
		if (e->len > nl && e->ptr[nl] == '=' && !memcmp(e->ptr, name, nl)) {
			ret->ptr = e->ptr + nl + 1;
			ret->len = e->len - nl - 1;
			return true;
		}
	}
	return false;
}

void ml_strv_free(ml_strv *v) { free(v); }
