/* memlens info on an ELF core without saved /proc files: what its notes (NT_PRPSINFO, NT_PRSTATUS, NT_SIGINFO, NT_FILE) say. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <signal.h>

#include "common/cli.h"
#include "common/json.h"
#include "info/info.h"

static const char *sig_name(int sig)
{
	static const char *const names[] = { NULL, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
					     "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE",
					     "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP",
					     "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ",
					     "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS" };
	return sig > 0 && sig < (int)(sizeof(names) / sizeof(names[0])) ? names[sig] : NULL;
}

/* The process as a core's notes (NT_PRPSINFO, NT_PRSTATUS, NT_SIGINFO, NT_FILE) describe it. */
void info_print_core(const ml_core_info *ci, bool json, bool threads)
{
	if (json) {
		json_writer jj, *j = &jj;
		json_init(j, stdout);
		json_obj_begin(j);
		JSON_KSTR(j, "schema", "memlens.info/1");
		JSON_KI64(j, "pid", ci->pid);
		JSON_KSTR(j, "source", "core");
		json_key(j, "core");
		json_obj_begin(j);
		json_key(j, "comm");
		ci->have_prpsinfo ? json_str(j, ci->comm, strlen(ci->comm)) : json_null(j);
		json_key(j, "psargs");
		ci->have_prpsinfo ? json_str(j, ci->psargs, strlen(ci->psargs)) : json_null(j);
		char st[2] = { ci->state, 0 };
		json_key(j, "state");
		ci->state ? json_cstr(j, st) : json_null(j);
		if (ci->have_prpsinfo) {
			JSON_KI64(j, "ppid", ci->ppid);
			JSON_KI64(j, "pgrp", ci->pgrp);
			JSON_KI64(j, "sid", ci->sid);
			JSON_KU64(j, "uid", ci->uid);
			JSON_KU64(j, "gid", ci->gid);
		}
		JSON_KU64(j, "thread_count", ci->nthreads);
		if (threads) {
			json_key(j, "threads");
			json_arr_begin(j);
			for (size_t i = 0; i < ci->nthreads; i++) {
				const ml_core_thread *t = &ci->threads[i];
				json_obj_begin(j);
				JSON_KI64(j, "tid", t->tid);
				JSON_KI64(j, "signal", t->cursig);
				if (t->have_regs) {
					JSON_KADDR(j, "pc", t->pc);
					JSON_KADDR(j, "sp", t->sp);
				}
				json_obj_end(j);
			}
			json_arr_end(j);
		}
		json_key(j, "siginfo");
		if (ci->have_siginfo) {
			json_obj_begin(j);
			JSON_KI64(j, "signo", ci->signo);
			JSON_KI64(j, "code", ci->sigcode);
			JSON_KI64(j, "errno", ci->sigerrno);
			if (ci->sigcode <= 0) {
				JSON_KI64(j, "sender_pid", ci->sender_pid);
				JSON_KU64(j, "sender_uid", ci->sender_uid);
			} else {
				JSON_KADDR(j, "addr", ci->sigaddr);
			}
			json_obj_end(j);
		} else {
			json_null(j);
		}
		JSON_KU64(j, "mapped_files", ci->nfiles);
		JSON_KU64(j, "notes", ci->nnotes);
		json_obj_end(j);
		json_obj_end(j);
		json_line_end(j);
		return;
	}
	printf("pid          %d", (int)ci->pid);
	if (ci->have_prpsinfo) {
		printf("  ");
		cli_put_escaped(stdout, ci->comm, strlen(ci->comm));
		if (ci->state)
			printf("  state %c", ci->state);
	}
	printf("  [core]\n");
	if (ci->have_prpsinfo) {
		/* the kernel keeps the first 80 bytes of the command line, NULs made spaces */
		printf("command      ");
		cli_put_escaped(stdout, ci->psargs, strlen(ci->psargs));
		printf("%s\n", strlen(ci->psargs) >= 79 ? "  (first 80 bytes)" : "");
		struct passwd *pw = getpwuid(ci->uid);
		printf("user         %s (uid %u, gid %u)  parent %d\n", pw ? pw->pw_name : "?", (unsigned)ci->uid,
		       (unsigned)ci->gid, (int)ci->ppid);
	}
	printf("threads      %zu", ci->nthreads);
	for (size_t i = 0; i < ci->nthreads && i < 16; i++)
		printf("%s%d", i ? " " : ": ", (int)ci->threads[i].tid);
	printf("%s\n", ci->nthreads > 16 ? " ..." : "");
	if (ci->have_siginfo) {
		const char *n = sig_name(ci->signo);
		printf("signal       %s (%d), code %d", n ? n : "?", ci->signo, ci->sigcode);
		if (ci->sigcode <= 0)
			printf(", sent by pid %d (uid %u)", (int)ci->sender_pid, (unsigned)ci->sender_uid);
		else if (ci->signo == SIGSEGV || ci->signo == SIGBUS || ci->signo == SIGILL || ci->signo == SIGFPE ||
			 ci->signo == SIGTRAP)
			printf(", at 0x%llx", (unsigned long long)ci->sigaddr);
		putchar('\n');
	}
	printf("files        %zu mapped (NT_FILE)\n", ci->nfiles);
}
