/* memlens info --show: the table of methods by procfs name, the --show list, and the run over one source with its errors. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "info/show.h"

void show_err_note(show_ctx *c, const char *part, int err, const char *why)
{
	if (c->nerrs >= sizeof(c->errs) / sizeof(c->errs[0]))
		return;
	if (part)
		snprintf(c->errs[c->nerrs].what, sizeof(c->errs[0].what), "%s.%s", c->method, part);
	else
		snprintf(c->errs[c->nerrs].what, sizeof(c->errs[0].what), "%s", c->method);
	c->errs[c->nerrs].err = err;
	c->errs[c->nerrs].why = why;
	c->nerrs++;
}

int show_need_live(show_ctx *c)
{
	return c->live ? 0 : -EOPNOTSUPP;
}

/* A /proc file of the source: live, or the copy a snapshot saved (-ENOENT if none). */
int show_text(show_ctx *c, const char *name, char **buf, size_t *len)
{
	return ml_source_read_file(c->s, name, buf, len);
}

/* ---- the table: procfs's method names, and the net.X spellings ---- */

static const struct method {
	const char *name;   /* procfs's Process method: the JSON key */
	const char *alias;  /* also accepted on the command line */
	show_fn fn;
} methods[] = {
	{ "is_alive", NULL, show_is_alive },
	{ "uid", NULL, show_uid },
	{ "cmdline", NULL, show_cmdline },
	{ "environ", NULL, show_environ },
	{ "exe", NULL, show_exe },
	{ "cwd", NULL, show_cwd },
	{ "root", NULL, show_root },
	{ "status", NULL, show_status },
	{ "stat", NULL, show_stat },
	{ "statm", NULL, show_statm },
	{ "io", NULL, show_io },
	{ "limits", NULL, show_limits },
	{ "auxv", NULL, show_auxv },
	{ "wchan", NULL, show_wchan },
	{ "loginuid", NULL, show_loginuid },
	{ "autogroup", NULL, show_autogroup },
	{ "schedstat", NULL, show_schedstat },
	{ "oom_score", NULL, show_oom_score },
	{ "oom_score_adj", NULL, show_oom_score_adj },
	{ "coredump_filter", NULL, show_coredump_filter },
	{ "personality", NULL, show_personality },
	{ "fd_count", NULL, show_fd_count },
	{ "fd", NULL, show_fd },
	{ "tasks", NULL, show_tasks },
	{ "maps", NULL, show_maps },
	{ "smaps_rollup", NULL, show_smaps_rollup },
	{ "mountinfo", NULL, show_mountinfo },
	{ "mountstats", NULL, show_mountstats },
	{ "namespaces", NULL, show_namespaces },
	{ "cgroups", NULL, show_cgroups },
	{ "tcp", "net.tcp", show_tcp },
	{ "tcp6", "net.tcp6", show_tcp6 },
	{ "udp", "net.udp", show_udp },
	{ "udp6", "net.udp6", show_udp6 },
	{ "unix", "net.unix", show_unix },
	{ "arp", "net.arp", show_arp },
	{ "route", "net.route", show_route },
	{ "dev_status", "net.dev", show_dev_status },
	{ "snmp", "net.snmp", show_snmp },
	{ "snmp6", "net.snmp6", show_snmp6 },
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static int find_method(const char *s, size_t len)
{
	for (size_t i = 0; i < NMETHODS; i++) {
		if (strlen(methods[i].name) == len && !memcmp(methods[i].name, s, len))
			return (int)i;
		if (methods[i].alias && strlen(methods[i].alias) == len && !memcmp(methods[i].alias, s, len))
			return (int)i;
	}
	return -1;
}

/* Fills @want from @list. @return 0, or -1 with bad and badlen naming the unknown word. */
static int parse_list(const char *list, bool want[NMETHODS], const char **bad, size_t *badlen)
{
	memset(want, 0, NMETHODS * sizeof(bool));
	const char *p = list;
	bool any = false;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 3 && !memcmp(p, "all", 3)) {
			for (size_t i = 0; i < NMETHODS; i++)
				want[i] = true;
			any = true;
		} else {
			int m = find_method(p, len);
			if (m < 0) {
				*bad = p;
				*badlen = len;
				return -1;
			}
			want[m] = true;
			any = true;
		}
		p += len + (e ? 1 : 0);
	}
	if (!any) {
		*bad = list;
		*badlen = 0;
		return -1;
	}
	return 0;
}

void info_show_names(void)
{
	for (size_t i = 0; i < NMETHODS; i++)
		printf("%s%s%s\n", methods[i].name, methods[i].alias ? " " : "", methods[i].alias ? methods[i].alias : "");
}

int info_show_check(const char *list)
{
	bool want[NMETHODS];
	const char *bad;
	size_t bl;
	if (parse_list(list, want, &bad, &bl) == 0)
		return 0;
	if (bl == 0)
		fprintf(stderr, "memlens: info: --show needs a list of methods (or \"all\"; --show=help lists them)\n");
	else
		fprintf(stderr, "memlens: info: --show: no method \"%.*s\" (--show=help lists them)\n", (int)bl, bad);
	return -1;
}

static const char *reason(show_ctx *c, const char *what, int err, const char *why)
{
	if (why)
		return why;
	if (err == -EOPNOTSUPP && !c->live)
		return "only on a live process";
	if (err == -ENOENT && !c->live)
		return "not saved in the snapshot";
	if (err == -ESRCH && c->zombie)
		return "gone with its address space (a zombie)";
	if (err == -ENOENT && !strcmp(what, "exe"))
		return "none (a kernel thread has no executable)";
	return ml_strerror(err);
}

int info_show(const char *spec, ml_source *s, const char *list, bool json, bool human)
{
	bool want[NMETHODS];
	const char *bad;
	size_t bl;
	if (parse_list(list, want, &bad, &bl) < 0)
		return CLI_EXIT_USAGE;
	em e = { .json = json, .human = human };
	show_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return cli_file_error(spec, "cannot show", -ENOMEM);
	c->s = s;
	c->live = ml_source_get_type(s) == ML_SOURCE_LIVE;
	c->p = c->live ? ml_source_proc(s) : NULL;
	c->zombie = c->live && ml_proc_alive(c->p) == 0 && ml_proc_check(c->p) == -ESRCH;
	c->e = &e;
	pid_t pid = ml_source_pid(s);
	if (json) {
		json_init(&e.j, stdout);
		json_obj_begin(&e.j);
		JSON_KSTR(&e.j, "schema", "memlens.info.show/1");
		JSON_KI64(&e.j, "pid", pid);
		JSON_KSTR(&e.j, "source", c->live ? "live" : "snapshot");
	}
	size_t shown = 0;
	for (size_t i = 0; i < NMETHODS; i++) {
		if (!want[i])
			continue;
		c->method = methods[i].name;
		em_key(&e, methods[i].name);
		/* a method writes its value only when it could read it; otherwise null here
		 * and the reason in errors */
		int r = methods[i].fn(c);
		if (r < 0) {
			if (json)
				json_null(&e.j);
			show_err_note(c, NULL, r, NULL);
		} else {
			shown++;
		}
	}
	/* Gone (exited, exec'd, reaped) while being read, when it was not already a zombie:
	 * the values above may mix two moments or two images. Said, and exit 2. */
	bool vanished = c->live && !c->zombie && ml_proc_check(c->p) == -ESRCH;
	if (json) {
		json_key(&e.j, "errors");
		json_obj_begin(&e.j);
		for (size_t i = 0; i < c->nerrs; i++)
			JSON_KSTR(&e.j, c->errs[i].what, reason(c, c->errs[i].what, c->errs[i].err, c->errs[i].why));
		json_obj_end(&e.j);
		json_obj_end(&e.j);
		json_line_end(&e.j);
	} else if (c->nerrs) {
		printf("errors:\n");
		for (size_t i = 0; i < c->nerrs; i++)
			printf("  %s: %s\n", c->errs[i].what, reason(c, c->errs[i].what, c->errs[i].err, c->errs[i].why));
	}
	int rc = CLI_EXIT_OK;
	for (size_t i = 0, n; i < c->nerrs; i += n) {
		/* parts of one method refused alike share a line: "stat.startcode, endcode" */
		const char *w = c->errs[i].what, *dot = strchr(w, '.');
		size_t pl = dot ? (size_t)(dot - w) + 1 : 0;
		for (n = 1; pl && i + n < c->nerrs && c->errs[i + n].err == c->errs[i].err &&
			    c->errs[i + n].why == c->errs[i].why && !strncmp(c->errs[i + n].what, w, pl);)
			n++;
		char what[1024];
		int k = snprintf(what, sizeof(what), "cannot read %s", w);
		for (size_t m = 1; m < n && k > 0 && (size_t)k < sizeof(what); m++)
			k += snprintf(what + k, sizeof(what) - (size_t)k, ", %s", c->errs[i + m].what + pl);
		if (reason(c, c->errs[i].what, c->errs[i].err, c->errs[i].why) != ml_strerror(c->errs[i].err))
			c->live ? fprintf(stderr, "memlens: pid %d: %s: %s\n", (int)pid, what,
					  reason(c, c->errs[i].what, c->errs[i].err, c->errs[i].why))
				: fprintf(stderr, "memlens: %s: %s: %s\n", spec, what,
					  reason(c, c->errs[i].what, c->errs[i].err, c->errs[i].why));
		else if (c->live)
			cli_pid_error(pid, what, c->errs[i].err);
		else
			cli_file_error(spec, what, c->errs[i].err);
		rc = CLI_EXIT_PARTIAL;
	}
	if (!shown && c->nerrs)
		rc = CLI_EXIT_ERROR;
	if (vanished)
		rc = cli_pid_error(pid, "changed while being read (the output above may be incomplete)",
				   -ESRCH);
	free(c);
	return rc;
}
