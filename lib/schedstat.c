/* /proc/PID/schedstat: three numbers. */
#include <memlens/schedstat.h>

#include "internal/pinfo.h"

int ml_schedstat_parse(const char *buf, size_t len, ml_schedstat *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	const char *p = buf, *end = buf + len;
	if (end > p && end[-1] == '\n')
		end--;
	uint64_t v[3];
	if (ml__tok_decs(p, end, ' ', v, 3) < 0)
		return -EBADMSG;
	*ret = (ml_schedstat){ v[0], v[1], v[2] };
	return 0;
}

static int ss_cb(const char *b, size_t l, void *r) { return ml_schedstat_parse(b, l, r); }
int ml_schedstat_read(const ml_proc *p, ml_schedstat *ret) { return ml__read_parse(p, "schedstat", ss_cb, ret); }
