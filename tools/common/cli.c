/* Option parsing and help from one table, error messages, and number/size parsing. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "common/cli.h"

enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };
static int color_mode = COLOR_AUTO;

bool cli_color(void)
{
	static int decided = -1;
	if (decided < 0) {
		const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
		decided = color_mode == COLOR_ALWAYS ||
			  (color_mode == COLOR_AUTO && cli_stdout_tty() && !(nc && *nc) &&
			   !(term && !strcmp(term, "dumb")));
	}
	return decided;
}

/* The option of @cmd named by the long option @name (up to '=' or the end), or NULL. */
static const cli_opt *find_long(const cli_cmd *cmd, const char *name)
{
	size_t n = strcspn(name, "=");
	for (const cli_opt *o = cmd->opts; o && o->lng; o++)
		if (strlen(o->lng) == n && !strncmp(o->lng, name, n))
			return o;
	return NULL;
}

static const cli_opt *find_short(const cli_cmd *cmd, char c)
{
	for (const cli_opt *o = cmd->opts; o && o->lng; o++)
		if (o->key == (unsigned char)c)
			return o;
	return NULL;
}

/*
 * Takes --color[=WHEN] (or --color WHEN) out of argv, wherever it is among the options:
 * the one option every command has. The words that are arguments of other options (grep
 * -e --color) are left alone. Returns the new argc, or -1 after a usage error.
 */
static int take_color(const cli_cmd *cmd, int argc, char **argv)
{
	int k = 1;
	for (int i = 1; i < argc; i++) {
		char *w = argv[i];
		if (!strcmp(w, "--")) {
			while (i < argc)
				argv[k++] = argv[i++];
			break;
		}
		if (!strncmp(w, "--color", 7) && (w[7] == '\0' || w[7] == '=')) {
			const char *when = w[7] == '=' ? w + 8 : NULL;
			if (!when && i + 1 < argc &&
			    (!strcmp(argv[i + 1], "auto") || !strcmp(argv[i + 1], "always") || !strcmp(argv[i + 1], "never")))
				when = argv[++i];
			if (!when || !strcmp(when, "auto"))
				color_mode = COLOR_AUTO;
			else if (!strcmp(when, "always"))
				color_mode = COLOR_ALWAYS;
			else if (!strcmp(when, "never"))
				color_mode = COLOR_NEVER;
			else {
				cli_usage_error(cmd, "--color must be auto, always or never, not '%s'", when);
				return -1;
			}
			continue;
		}
		argv[k++] = w;
		/* the next word is this option's argument: keep it as it is */
		if (w[0] == '-' && w[1] == '-' && w[2]) {
			const cli_opt *o = find_long(cmd, w + 2);
			if (o && o->has_arg && !strchr(w, '=') && i + 1 < argc)
				argv[k++] = argv[++i];
		} else if (w[0] == '-' && w[1] && w[1] != '-') {
			for (const char *c = w + 1; *c; c++) {
				const cli_opt *o = find_short(cmd, *c);
				if (o && o->has_arg) {
					if (!c[1] && i + 1 < argc)
						argv[k++] = argv[++i];
					break;
				}
			}
		}
	}
	argv[k] = NULL;
	return k;
}

void cli_help(const cli_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: memlens %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (!cmd->opts || !cmd->opts[0].lng)
		return;
	fprintf(f, "\noptions:\n");
	for (const cli_opt *o = cmd->opts; o->lng; o++) {
		char left[64];
		int n = 0;
		if (o->key > 0 && o->key < 256)
			n = snprintf(left, sizeof(left), "-%c, --%s", o->key, o->lng);
		else
			n = snprintf(left, sizeof(left), "    --%s", o->lng);
		if (o->has_arg && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, "%s%s", o->key < 256 ? " " : "=",
				 o->argname ? o->argname : "ARG");
		fprintf(f, "  %-26s %s\n", left, o->help);
	}
	fprintf(f, "  %-26s %s\n", "    --color=WHEN",
		"colour: auto (default: on a terminal, unless NO_COLOR is set), always or never");
}

int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "memlens %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'memlens %s --help')\n", cmd->name);
	return CLI_EXIT_USAGE;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv,
	      int (*fn)(int key, const char *arg, void *ctx), void *ctx, int *first_arg)
{
	/* callers index argv up to their own argc: positional arguments end there whatever
	 * --color took out */
	int orig_argc = argc;
	argc = take_color(cmd, argc, argv);
	if (argc < 0)
		return -1;
	size_t n = 0;
	for (const cli_opt *o = cmd->opts; o && o->lng; o++)
		n++;
	struct option *lo = calloc(n + 1, sizeof(*lo));
	char *so = calloc(2 * n + 3, 1);
	if (!lo || !so) {
		free(lo);
		free(so);
		fprintf(stderr, "memlens: out of memory\n");
		return -1;
	}
	size_t k = 0;
	so[k++] = '+'; /* stop at the first positional argument */
	so[k++] = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < n; i++) {
		const cli_opt *o = &cmd->opts[i];
		lo[i] = (struct option){ o->lng, o->has_arg ? required_argument : no_argument, NULL, o->key };
		if (o->key > 0 && o->key < 256) {
			so[k++] = (char)o->key;
			if (o->has_arg)
				so[k++] = ':';
		}
	}
	int ret = 0, c;
	optind = 1;
	opterr = 0;
	/* "+" keeps getopt from permuting; options after the PID are common, so positional
	 * arguments are collected one at a time and parsing resumes after each. */
	char **av = calloc((size_t)argc + 1, sizeof(char *));
	char **pos = calloc((size_t)argc + 1, sizeof(char *));
	int npos = 0;
	if (!av || !pos) {
		ret = -1;
		goto out;
	}
	memcpy(av, argv, (size_t)argc * sizeof(char *));
	for (;;) {
		int lidx = -1, at = optind;
		c = getopt_long(argc, av, so, lo, &lidx);
		if (c == -1) {
			if (optind < argc) {
				/* getopt steps over a "--" that ends the options; one before optind may
				 * instead be an option's argument (-e --), which ends nothing */
				if (optind > at && !strcmp(av[optind - 1], "--")) {
					while (optind < argc)
						pos[npos++] = av[optind++];
					break;
				}
				pos[npos++] = av[optind++];
				continue;
			}
			break;
		}
		if (c == 'h') {
			cli_help(cmd, stdout);
			ret = 1;
			goto out;
		}
		if (c == '?') {
			if (optopt)
				cli_usage_error(cmd, "unknown option '-%c'", optopt);
			else
				cli_usage_error(cmd, "unknown option '%s'", av[optind - 1]);
			ret = -1;
			goto out;
		}
		if (c == ':') {
			cli_usage_error(cmd, "option '%s' needs an argument", av[optind - 1]);
			ret = -1;
			goto out;
		}
		if (fn(c, optarg, ctx) < 0) {
			ret = -1;
			goto out;
		}
	}
	/* Put positional arguments back, in order, after the options. */
	for (int i = 0; i < npos; i++)
		argv[orig_argc - npos + i] = pos[i];
	*first_arg = orig_argc - npos;
	if (npos < cmd->min_args || (cmd->max_args >= 0 && npos > cmd->max_args)) {
		if (npos < cmd->min_args)
			cli_usage_error(cmd, "missing argument");
		else
			cli_usage_error(cmd, "unexpected argument '%s'", pos[cmd->max_args]);
		ret = -1;
	}
out:
	free(av);
	free(pos);
	free(lo);
	free(so);
	return ret;
}

const char *cli_err_hint(int err)
{
	switch (err < 0 ? -err : err) {
	case EACCES:
	case EPERM:
		return "needs CAP_SYS_PTRACE, or the same user with ptrace access";
	default:
		return "";
	}
}

/* What a fresh look at @pid says about why it has no memory to read, or NULL. */
const char *cli_gone_reason(pid_t pid)
{
	ml_proc *p = NULL;
	if (ml_proc_open(pid, &p) < 0)
		return NULL;
	ml_stat st;
	const char *why = NULL;
	if (ml_stat_read(p, &st) == 0) {
		if (st.flags & ML_PF_KTHREAD)
			why = "it is a kernel thread, which has no user memory";
		else if ((st.state == 'Z' || st.state == 'X') && st.num_threads > 1)
			/* the main thread shows Z while the others run: the library reads through
			 * them, so this is the rest of the group exiting (or an exec) */
			why = "its main thread has exited and its other threads are exiting";
		else if (st.state == 'Z' || st.state == 'X')
			why = "it is a zombie: it has exited and its memory is gone (its parent has not reaped it yet)";
	}
	ml_proc_free(p);
	return why;
}

static const char *cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};
#define CLI_CAP_SYS_PTRACE 19

/*
 * Why ptrace access to @pid is denied, as far as can be seen from here, into @buf: who is
 * asked to have what. Facts only: our capabilities, the target's owner and capabilities,
 * whether it is dumpable (a non-dumpable process's /proc files belong to root), Yama.
 */
static const char *perm_hint(pid_t pid, char *buf, size_t len)
{
	ml_proc *self = NULL, *t = NULL;
	ml_status *me = NULL, *ts = NULL;
	const char *hint = cli_err_hint(EPERM);
	if (ml_proc_self(&self) < 0 || ml_status_read(self, &me) < 0)
		goto out;
	if (ml_proc_open(pid, &t) < 0 || ml_status_read(t, &ts) < 0) {
		if (!(me->cap_eff >> CLI_CAP_SYS_PTRACE & 1))
			hint = "its status is not readable either; needs CAP_SYS_PTRACE";
		goto out;
	}
	if (me->cap_eff >> CLI_CAP_SYS_PTRACE & 1) {
		uint64_t extra = ts->cap_prm & ~me->cap_prm;
		int n = snprintf(buf, len, "denied although this process has CAP_SYS_PTRACE");
		if (extra && n > 0 && (size_t)n < len) {
			int k = 0;
			n += snprintf(buf + n, len - (size_t)n, ": pid %d holds capabilities this one lacks (", (int)pid);
			for (unsigned c = 0; c < 64 && n > 0 && (size_t)n < len; c++)
				if (extra >> c & 1)
					n += snprintf(buf + n, len - (size_t)n, "%s%s", k++ ? ", " : "",
						      c < sizeof(cap_names) / sizeof(cap_names[0]) ? cap_names[c] : "?");
			if (n > 0 && (size_t)n < len)
				snprintf(buf + n, len - (size_t)n, "), so the kernel or a security module refuses, "
					 "as it would a debugger");
		} else if (n > 0 && (size_t)n < len) {
			snprintf(buf + n, len - (size_t)n, ": a security module or a user namespace refuses, "
				 "as it would a debugger");
		}
		hint = buf;
		goto out;
	}
	struct stat sb;
	char path[40];
	/* the files of a non-dumpable process belong to root (its directory may not) */
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	bool same_user = ts->uid[0] == me->uid[1] && ts->uid[1] == me->uid[1] && ts->uid[2] == me->uid[1];
	if (!same_user) {
		snprintf(buf, len, "it runs as uid %u, not %u: needs CAP_SYS_PTRACE (e.g. root)",
			 (unsigned)ts->uid[1], (unsigned)me->uid[1]);
		hint = buf;
	} else if (stat(path, &sb) == 0 && sb.st_uid != ts->uid[1]) {
		hint = "it is not dumpable (it changed credentials, or set PR_SET_DUMPABLE to 0): "
		       "only CAP_SYS_PTRACE can read it";
	} else {
		FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
		int scope = -1;
		if (f) {
			if (fscanf(f, "%d", &scope) != 1)
				scope = -1;
			fclose(f);
		}
		if (scope >= 1) {
			snprintf(buf, len, "kernel.yama.ptrace_scope is %d: only %s; needs CAP_SYS_PTRACE%s",
				 scope, scope == 1 ? "its ancestors may read it" : "CAP_SYS_PTRACE may read it",
				 scope == 1 ? " or ptrace_scope 0" : "");
			hint = buf;
		} else {
			hint = "the same user, dumpable, no Yama: a security module refuses it; needs CAP_SYS_PTRACE";
		}
	}
out:
	ml_status_free(ts);
	ml_status_free(me);
	ml_proc_free(t);
	ml_proc_free(self);
	return hint;
}

int cli_pid_error(pid_t pid, const char *what, int err)
{
	if (err > 0)
		err = -err;
	if (err == -ESRCH) {
		const char *why = cli_gone_reason(pid);
		char path[32];
		snprintf(path, sizeof(path), "/proc/%d", (int)pid);
		if (why)
			fprintf(stderr, "memlens: pid %d: %s: %s\n", (int)pid, what, why);
		else if (access(path, F_OK) < 0)
			fprintf(stderr, "memlens: pid %d: %s: no such process\n", (int)pid, what);
		else
			fprintf(stderr, "memlens: pid %d: %s: no such process, or it exited\n", (int)pid, what);
	} else if (err == -EACCES || err == -EPERM) {
		char buf[512];
		fprintf(stderr, "memlens: pid %d: %s: %s (%s)\n", (int)pid, what, ml_strerror(err),
			perm_hint(pid, buf, sizeof(buf)));
	} else {
		fprintf(stderr, "memlens: pid %d: %s: %s\n", (int)pid, what, ml_strerror(err));
	}
	return CLI_EXIT_ERROR;
}

int cli_file_error(const char *file, const char *what, int err)
{
	/* a library that could not be loaded: which one, and the loader's reason */
	const char *d = err == -ELIBACC ? ml_error_detail() : "";
	fprintf(stderr, "memlens: %s: %s: %s\n", file, what, *d ? d : ml_strerror(err));
	return CLI_EXIT_ERROR;
}

static bool spec_is_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static long pid_max(void)
{
	long v = 4194304;
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 4194304;
		fclose(f);
	}
	return v - 1;
}

int cli_source_open(const char *spec, ml_source **ret)
{
	int r = ml_source_open(spec, ret);
	if (r == 0) {
		/* a cost the user pays (a compressed core decompressed first), and what is missing */
		const char *n = ml_source_notice(*ret), *p = ml_source_partial(*ret);
		if (n)
			fprintf(stderr, "memlens: %s: %s\n", spec, n);
		if (p)
			fprintf(stderr, "memlens: %s: partial: %s\n", spec, p);
		return 0;
	}
	const char *detail = ml_error_detail();
	pid_t pid;
	if (spec_is_digits(spec) && !cli_parse_pid(spec, &pid)) {
		fprintf(stderr, "memlens: '%s' is not a PID: PIDs run from 1 to %ld\n", spec, pid_max());
		return CLI_EXIT_USAGE;
	}
	if (cli_parse_pid(spec, &pid))
		cli_pid_error(pid, "cannot open process", r);
	else if (r == -EBADMSG && *detail)
		fprintf(stderr, "memlens: %s: not a valid snapshot or core: %s\n", spec, detail);
	else
		cli_file_error(spec, "cannot open snapshot", r);
	return CLI_EXIT_ERROR;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	fputs("memlens: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cli_parse_pid(const char *s, pid_t *ret)
{
	if (!s || !*s)
		return false;
	long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
		if (v > 0x3fffffff)
			return false;
	}
	if (v <= 0)
		return false;
	*ret = (pid_t)v;
	return true;
}

bool cli_parse_addr(const char *s, uint64_t *ret)
{
	if (!s || !*s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (v >> 60)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*ret = v;
	return true;
}

bool cli_parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	const char *dash = strchr(s, '-');
	if (!dash)
		return false;
	char a[40];
	size_t n = (size_t)(dash - s);
	if (n == 0 || n >= sizeof(a))
		return false;
	memcpy(a, s, n);
	a[n] = '\0';
	uint64_t x, y;
	if (!cli_parse_addr(a, &x) || !cli_parse_addr(dash + 1, &y) || y <= x)
		return false;
	*lo = x;
	*hi = y;
	return true;
}

bool cli_parse_size(const char *s, uint64_t *ret)
{
	if (!s || !*s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return cli_parse_addr(s, ret);
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0 || isnan(v))
		return false;
	double mul = 1;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': mul = 1024.0; end++; break;
	case 'M': mul = 1024.0 * 1024; end++; break;
	case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
	case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
	case 'B': break;
	default: return false;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return false;
	v *= mul;
	if (v >= 18446744073709551615.0)
		return false;
	*ret = (uint64_t)v;
	return true;
}

bool cli_parse_duration(const char *s, uint64_t *ns)
{
	if (!s || !*s)
		return false;
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0 || isnan(v))
		return false;
	double mul;
	if (!*end || !strcmp(end, "s"))
		mul = 1e9;
	else if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "us"))
		mul = 1e3;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60e9;
	else if (!strcmp(end, "h"))
		mul = 3600e9;
	else
		return false;
	v *= mul;
	if (v >= 1.8e19)
		return false;
	*ns = (uint64_t)v;
	return true;
}

size_t cli_fmt_dec(char *buf, uint64_t v)
{
	char t[20];
	size_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = t[n - 1 - i];
	buf[n] = '\0';
	return n;
}

size_t cli_fmt_hex(char *buf, uint64_t v)
{
	static const char dig[] = "0123456789abcdef";
	size_t n = 1;
	for (uint64_t x = v >> 4; x; x >>= 4)
		n++;
	for (size_t i = n; i-- > 0; v >>= 4)
		buf[i] = dig[v & 15];
	buf[n] = '\0';
	return n;
}

const char *cli_fmt_size(char buf[32], uint64_t bytes, bool human)
{
	if (!human) {
		cli_fmt_dec(buf, bytes);
		return buf;
	}
	static const char units[] = "BKMGTPE";
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 32, "%lluB", (unsigned long long)bytes);
	else if (v < 10)
		snprintf(buf, 32, "%.1f%c", v, units[u]);
	else
		snprintf(buf, 32, "%.0f%c", v, units[u]);
	return buf;
}

bool cli_stdout_tty(void)
{
	/* asked per value by the tables: one tcgetattr per process, not per cell */
	static int tty = -1;
	if (tty < 0)
		tty = isatty(STDOUT_FILENO);
	return tty;
}

bool cli_glob(const char *pattern, const char *name, size_t len)
{
	char stackbuf[512];
	char *s = len < sizeof(stackbuf) ? stackbuf : malloc(len + 1);
	if (!s)
		return false;
	memcpy(s, name, len);
	s[len] = '\0';
	/* a NUL inside a name cannot occur in /proc text; strlen guards it anyway */
	bool m = fnmatch(pattern, s, 0) == 0;
	if (s != stackbuf)
		free(s);
	return m;
}

bool cli_name_match(const char *pattern, const char *name, size_t len)
{
	size_t pl = strlen(pattern);
	if (!len)
		return !strcmp(pattern, "[anon]") || cli_glob(pattern, "", 0);
	if (pl == len && !memcmp(pattern, name, len))
		return true;
	if (cli_glob(pattern, name, len))
		return true;
	const char *slash = memrchr(name, '/', len);
	if (slash && slash + 1 < name + len)
		return cli_glob(pattern, slash + 1, len - (size_t)(slash + 1 - name));
	return false;
}

char *cli_vma_name(const char *name, size_t len, bool deleted)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	if (!f)
		return NULL;
	if (len)
		cli_put_escaped(f, name, len);
	else
		fputs("[anon]", f);
	if (deleted)
		fputs(" (deleted)", f);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* Length of a valid UTF-8 sequence (2-4 bytes, no overlongs or surrogates) at s, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned c = s[0];
	size_t n;
	uint32_t cp;
	if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
	else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
	else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
	else return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t cli_utf8_seq(const char *s, size_t len)
{
	return utf8_seq((const unsigned char *)s, len);
}

void cli_put_escaped(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t u;
		if (c >= 0x80 && (u = utf8_seq((const unsigned char *)s + i, len - i))) {
			fwrite(s + i, 1, u, f);
			i += u - 1;
		} else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\\')
			fputs("\\\\", f);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}
