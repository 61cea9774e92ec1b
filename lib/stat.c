/* /proc/PID/stat: the comm is delimited by the last ')', the rest are numbers in a fixed order. */
#include <string.h>
#include <time.h>
#include <unistd.h>

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

ml_proc_state ml_proc_state_from_char(char c)
{
	switch (c) {
	case 'R': return ML_STATE_RUNNING;
	case 'S': return ML_STATE_SLEEPING;
	case 'D': return ML_STATE_DISK_SLEEP;
	case 'Z': return ML_STATE_ZOMBIE;
	case 'T': return ML_STATE_STOPPED;
	case 't': return ML_STATE_TRACING_STOP;
	case 'X': case 'x': return ML_STATE_DEAD;
	case 'K': return ML_STATE_WAKEKILL;
	case 'W': return ML_STATE_WAKING;
	case 'P': return ML_STATE_PARKED;
	case 'I': return ML_STATE_IDLE;
	default: return ML_STATE_UNKNOWN;
	}
}

const char *ml_proc_state_name(ml_proc_state s)
{
	static const char *const names[] = {
		"unknown", "running", "sleeping", "disk-sleep", "zombie", "stopped",
		"tracing-stop", "dead", "wakekill", "waking", "parked", "idle",
	};
	return (unsigned)s < ML_ARRAY_SIZE(names) ? names[s] : "unknown";
}

const char *ml_stat_flag_name(unsigned bit)
{
	static const char *const names[32] = {
		"PF_VCPU", "PF_IDLE", "PF_EXITING", "PF_POSTCOREDUMP", "PF_IO_WORKER",
		"PF_WQ_WORKER", "PF_FORKNOEXEC", "PF_MCE_PROCESS", "PF_SUPERPRIV", "PF_DUMPCORE",
		"PF_SIGNALED", "PF_MEMALLOC", "PF_NPROC_EXCEEDED", "PF_USED_MATH", "PF_USER_WORKER",
		"PF_NOFREEZE", "PF_KCOMPACTD", "PF_KSWAPD", "PF_MEMALLOC_NOFS", "PF_MEMALLOC_NOIO",
		"PF_LOCAL_THROTTLE", "PF_KTHREAD", "PF_RANDOMIZE", NULL, NULL, NULL,
		"PF_NO_SETAFFINITY", "PF_MCE_EARLY", "PF_MEMALLOC_PIN", "PF_BLOCK_TS", NULL,
		"PF_SUSPEND_TASK",
	};
	return bit < 32 ? names[bit] : NULL;
}

/* new_encode_dev(): minor bits 0-7 at 0-7, major at 8-19, minor bits 8-19 at 20-31 */
unsigned ml_stat_tty_major(const ml_stat *st)
{
	return st ? ((uint32_t)st->tty_nr >> 8) & 0xfffu : 0;
}

unsigned ml_stat_tty_minor(const ml_stat *st)
{
	if (!st)
		return 0;
	uint32_t v = (uint32_t)st->tty_nr;
	return (v & 0xffu) | ((v >> 12) & 0xfff00u);
}

int ml_sysinfo_read(ml_sysinfo *ret)
{
	if (!ret)
		return -EINVAL;
	long ps = sysconf(_SC_PAGESIZE), tck = sysconf(_SC_CLK_TCK);
	struct timespec rt, bt;
	/* Read the boot clock between two wall-clock reads and keep the closest pair, so a
	 * preemption between the two calls costs at most the smaller gap. */
	struct timespec rt2;
	if (clock_gettime(CLOCK_REALTIME, &rt) < 0 || clock_gettime(CLOCK_BOOTTIME, &bt) < 0 ||
	    clock_gettime(CLOCK_REALTIME, &rt2) < 0)
		return ml_neg_errno();
	int64_t r1 = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
	int64_t r2 = (int64_t)rt2.tv_sec * 1000000000 + rt2.tv_nsec;
	int64_t b = (int64_t)bt.tv_sec * 1000000000 + bt.tv_nsec;
	ml_sysinfo si = {
		.page_size = ps > 0 ? (uint64_t)ps : 4096,
		.ticks_per_sec = tck > 0 ? (uint64_t)tck : 100,
		.boot_time_ns = r1 + (r2 - r1) / 2 - b,
	};
	*ret = si;
	return 0;
}

uint64_t ml_ticks_to_ns(uint64_t ticks, const ml_sysinfo *si)
{
	if (!si || !si->ticks_per_sec)
		return 0;
	uint64_t hz = si->ticks_per_sec;
	return ticks / hz * 1000000000u + ticks % hz * 1000000000u / hz;
}

int ml_stat_start_time(const ml_stat *st, const ml_sysinfo *si, int64_t *ret_ns)
{
	if (!st || !si || !ret_ns || !si->ticks_per_sec)
		return -EINVAL;
	uint64_t hz = si->ticks_per_sec;
	if (st->starttime / hz > (uint64_t)INT64_MAX / 1000000000u - 1)
		return -ERANGE;
	uint64_t ns = ml_ticks_to_ns(st->starttime, si);
	if (si->boot_time_ns > 0 && ns > (uint64_t)(INT64_MAX - si->boot_time_ns))
		return -ERANGE;
	*ret_ns = si->boot_time_ns + (int64_t)ns;
	return 0;
}

int ml_stat_rss_bytes(const ml_stat *st, const ml_sysinfo *si, uint64_t *ret)
{
	if (!st || !si || !ret)
		return -EINVAL;
	if (st->rss < 0)
		return -ERANGE;
	uint64_t pages = (uint64_t)st->rss;
	if (si->page_size && pages > UINT64_MAX / si->page_size)
		return -ERANGE;
	*ret = pages * si->page_size;
	return 0;
}
