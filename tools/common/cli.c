/* Option parsing and help from one table, error messages, and number/size parsing. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "common/cli.h"

void ml_cli_help(const ml_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: memlens %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (!cmd->opts || !cmd->opts[0].lng)
		return;
	fprintf(f, "\noptions:\n");
	for (const ml_opt *o = cmd->opts; o->lng; o++) {
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
}

int ml_cli_usage_error(const ml_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "memlens %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'memlens %s --help')\n", cmd->name);
	return ML_EXIT_USAGE;
}

int ml_cli_parse(const ml_cmd *cmd, int argc, char **argv,
		 int (*fn)(int key, const char *arg, void *ctx), void *ctx, int *first_arg)
{
	size_t n = 0;
	for (const ml_opt *o = cmd->opts; o && o->lng; o++)
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
		const ml_opt *o = &cmd->opts[i];
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
		int lidx = -1;
		c = getopt_long(argc, av, so, lo, &lidx);
		if (c == -1) {
			if (optind < argc) {
				if (!strcmp(av[optind - 1], "--")) {
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
			ml_cli_help(cmd, stdout);
			ret = 1;
			goto out;
		}
		if (c == '?') {
			if (optopt)
				ml_cli_usage_error(cmd, "unknown option '-%c'", optopt);
			else
				ml_cli_usage_error(cmd, "unknown option '%s'", av[optind - 1]);
			ret = -1;
			goto out;
		}
		if (c == ':') {
			ml_cli_usage_error(cmd, "option '%s' needs an argument", av[optind - 1]);
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
		argv[argc - npos + i] = pos[i];
	*first_arg = argc - npos;
	if (npos < cmd->min_args || (cmd->max_args >= 0 && npos > cmd->max_args)) {
		if (npos < cmd->min_args)
			ml_cli_usage_error(cmd, "missing argument");
		else
			ml_cli_usage_error(cmd, "unexpected argument '%s'", pos[cmd->max_args]);
		ret = -1;
	}
out:
	free(av);
	free(pos);
	free(lo);
	free(so);
	return ret;
}

const char *ml_cli_err_hint(int err)
{
	switch (err < 0 ? -err : err) {
	case EACCES:
	case EPERM:
		return "needs CAP_SYS_PTRACE, or the same user with ptrace access (see kernel.yama.ptrace_scope)";
	case ESRCH:
		return "";
	default:
		return "";
	}
}

int ml_cli_pid_error(pid_t pid, const char *what, int err)
{
	const char *hint = ml_cli_err_hint(err);
	if (err == -ESRCH || err == ESRCH)
		fprintf(stderr, "memlens: pid %d: %s: no such process, or it exited\n", (int)pid, what);
	else
		fprintf(stderr, "memlens: pid %d: %s: %s%s%s%s\n", (int)pid, what, ml_strerror(err),
			*hint ? " (" : "", hint, *hint ? ")" : "");
	return ML_EXIT_ERROR;
}

int ml_cli_file_error(const char *file, const char *what, int err)
{
	fprintf(stderr, "memlens: %s: %s: %s\n", file, what, ml_strerror(err));
	return ML_EXIT_ERROR;
}

int ml_cli_source_open(const char *spec, ml_source **ret)
{
	char *msg = NULL;
	int r = ml_source_open_msg(spec, ret, &msg);
	if (r == 0) {
		/* a cost the user pays (a compressed core decompressed first), and what is missing */
		const char *n = ml_source_notice(*ret), *p = ml_source_partial(*ret);
		if (n)
			fprintf(stderr, "memlens: %s: %s\n", spec, n);
		if (p)
			fprintf(stderr, "memlens: %s: partial: %s\n", spec, p);
		return 0;
	}
	pid_t pid;
	if (ml_cli_parse_pid(spec, &pid))
		ml_cli_pid_error(pid, "cannot open process", r);
	else if (r == -EBADMSG && msg)
		fprintf(stderr, "memlens: %s: not a valid snapshot or core: %s\n", spec, msg);
	else
		ml_cli_file_error(spec, "cannot open snapshot", r);
	free(msg);
	return ML_EXIT_ERROR;
}

void ml_cli_warn(const char *fmt, ...)
{
	va_list ap;
	fputs("memlens: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool ml_cli_parse_pid(const char *s, pid_t *ret)
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

bool ml_cli_parse_addr(const char *s, uint64_t *ret)
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

bool ml_cli_parse_range(const char *s, uint64_t *lo, uint64_t *hi)
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
	if (!ml_cli_parse_addr(a, &x) || !ml_cli_parse_addr(dash + 1, &y) || y <= x)
		return false;
	*lo = x;
	*hi = y;
	return true;
}

bool ml_cli_parse_size(const char *s, uint64_t *ret)
{
	if (!s || !*s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return ml_cli_parse_addr(s, ret);
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

bool ml_cli_parse_duration(const char *s, uint64_t *ns)
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

const char *ml_cli_fmt_size(char buf[32], uint64_t bytes, bool human)
{
	if (!human) {
		snprintf(buf, 32, "%llu", (unsigned long long)bytes);
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

bool ml_cli_stdout_tty(void)
{
	/* asked per value by the tables: one tcgetattr per process, not per cell */
	static int tty = -1;
	if (tty < 0)
		tty = isatty(STDOUT_FILENO);
	return tty;
}

bool ml_cli_glob(const char *pattern, const char *name, size_t len)
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

size_t ml_cli_utf8_seq(const char *s, size_t len)
{
	return utf8_seq((const unsigned char *)s, len);
}

void ml_cli_put_escaped(FILE *f, const char *s, size_t len)
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
