/* /proc/PID/statm: seven page counts. */
#include <unistd.h>

#include <memlens/statm.h>

#include "internal/pinfo.h"

int ml_statm_parse(const char *buf, size_t len, ml_statm *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	const char *p = buf, *end = buf + len;
	if (end > p && end[-1] == '\n')
		end--;
	uint64_t v[7];
	if (ml__tok_decs(p, end, ' ', v, 7) < 0)
		return -EBADMSG;
	*ret = (ml_statm){ v[0], v[1], v[2], v[3], v[4], v[5], v[6] };
	return 0;
}

static int parse_cb(const char *buf, size_t len, void *ret) { return ml_statm_parse(buf, len, ret); }

int ml_statm_read(const ml_proc *p, ml_statm *ret)
{
	return ml__read_parse(p, "statm", parse_cb, ret);
}

uint64_t ml_statm_page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	return ps > 0 ? (uint64_t)ps : 4096;
}
