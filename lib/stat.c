/* /proc/PID/stat: the comm is delimited by the last ')', the rest are numbers in a fixed order. */
#include <string.h>

#include <memlens/stat.h>

#include "internal/pinfo.h"

enum ty { U64, I64, PID, INT, U32 };

typedef struct field {
	unsigned short off;
	unsigned char ty;
} field;

#define F(m, t) { offsetof(ml_stat, m), t }

/* Fields 4..52, in order (1 pid, 2 comm and 3 state are parsed by hand). */
static const field fields[] = {
	F(ppid, PID), F(pgrp, PID), F(session, PID), F(tty_nr, INT), F(tpgid, PID),
	F(flags, U32), F(minflt, U64), F(cminflt, U64), F(majflt, U64), F(cmajflt, U64),
	F(utime, U64), F(stime, U64), F(cutime, I64), F(cstime, I64), F(priority, I64),
	F(nice, I64), F(num_threads, I64), F(itrealvalue, I64), F(starttime, U64),
	F(vsize, U64), F(rss, I64), F(rsslim, U64), F(start_code, U64), F(end_code, U64),
	F(start_stack, U64), F(kstkesp, U64), F(kstkeip, U64), F(signal, U64),
	F(blocked, U64), F(sigignore, U64), F(sigcatch, U64), F(wchan, U64), F(nswap, U64),
	F(cnswap, U64), F(exit_signal, INT), F(processor, INT), F(rt_priority, U32),
	F(policy, U32), F(delayacct_blkio_ticks, U64), F(guest_time, U64),
	F(cguest_time, I64), F(start_data, U64), F(end_data, U64), F(start_brk, U64),
	F(arg_start, U64), F(arg_end, U64), F(env_start, U64), F(env_end, U64),
	F(exit_code, INT),
};

/* Through rss (field 24): what every kernel since 2.6 writes. */
#define MIN_FIELDS 24

int ml_stat_parse(const char *buf, size_t len, ml_stat *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	const char *p = buf, *end = buf + len;
	/* A trailing newline is the only whitespace allowed after the last number. */
	if (end > p && end[-1] == '\n')
		end--;
	ml_stat st;
	memset(&st, 0, sizeof(st));
	int64_t sv;
	if (ml__parse_sdec(&p, end, &sv) < 0 || sv < 0 || sv > INT32_MAX)
		return -EBADMSG;
	st.pid = (pid_t)sv;
	if (end - p < 2 || p[0] != ' ' || p[1] != '(')
		return -EBADMSG;
	const char *cs = p + 2, *ce = NULL;
	for (const char *q = end; q > cs;)
		if (*--q == ')') {
			ce = q;
			break;
		}
	if (!ce || end - ce < 3 || ce[1] != ' ')
		return -EBADMSG;
	st.comm_len = ML_MIN((size_t)(ce - cs), (size_t)ML_STAT_COMM_MAX);
	memcpy(st.comm, cs, st.comm_len);
	st.comm[st.comm_len] = '\0';
	p = ce + 2;
	st.state = *p++;
	st.nfields = 3;
	for (size_t i = 0; i < ML_ARRAY_SIZE(fields) && p < end; i++) {
		if (*p != ' ')
			return -EBADMSG;
		p++;
		void *f = (char *)&st + fields[i].off;
		uint64_t v;
		switch (fields[i].ty) {
		case U64:
			if (ml__parse_dec(&p, end, &v) < 0)
				return -EBADMSG;
			*(uint64_t *)f = v;
			break;
		case U32:
			if (ml__parse_dec(&p, end, &v) < 0 || v > UINT32_MAX)
				return -EBADMSG;
			*(uint32_t *)f = (uint32_t)v;
			break;
		case I64:
			if (ml__parse_sdec(&p, end, &sv) < 0)
				return -EBADMSG;
			*(int64_t *)f = sv;
			break;
		case PID:
		case INT:
			if (ml__parse_sdec(&p, end, &sv) < 0 || sv < INT32_MIN || sv > INT32_MAX)
				return -EBADMSG;
			*(int *)f = (int)sv;
			break;
		}
		st.nfields++;
	}
	/* Newer kernels may append fields: ignore what follows field 52, if it is numbers. */
	while (p < end) {
		if (*p != ' ' && (*p < '0' || *p > '9') && *p != '-')
			return -EBADMSG;
		p++;
	}
	if (st.nfields < MIN_FIELDS)
		return -EBADMSG;
	*ret = st;
	return 0;
}

static int parse_cb(const char *buf, size_t len, void *ret) { return ml_stat_parse(buf, len, ret); }

int ml_stat_read(const ml_proc *p, ml_stat *ret)
{
	return ml__read_parse(p, "stat", parse_cb, ret);
}
