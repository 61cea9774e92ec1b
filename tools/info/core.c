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
		ml_json jj, *j = &jj;
		ml_json_init(j, stdout);
		ml_json_obj_begin(j);
		ML_JSON_KSTR(j, "schema", "memlens.info/1");
		ML_JSON_KI64(j, "pid", ci->pid);
		ML_JSON_KSTR(j, "source", "core");
		ml_json_key(j, "core");
		ml_json_obj_begin(j);
		ml_json_key(j, "comm");
		ci->have_prpsinfo ? ml_json_str(j, ci->comm, strlen(ci->comm)) : ml_json_null(j);
		ml_json_key(j, "psargs");
		ci->have_prpsinfo ? ml_json_str(j, ci->psargs, strlen(ci->psargs)) : ml_json_null(j);
		char st[2] = { ci->state, 0 };
		ml_json_key(j, "state");
		ci->state ? ml_json_cstr(j, st) : ml_json_null(j);
		if (ci->have_prpsinfo) {
			ML_JSON_KI64(j, "ppid", ci->ppid);
			ML_JSON_KI64(j, "pgrp", ci->pgrp);
			ML_JSON_KI64(j, "sid", ci->sid);
			ML_JSON_KU64(j, "uid", ci->uid);
			ML_JSON_KU64(j, "gid", ci->gid);
		}
		ML_JSON_KU64(j, "thread_count", ci->nthreads);
		if (threads) {
			ml_json_key(j, "threads");
			ml_json_arr_begin(j);
			for (size_t i = 0; i < ci->nthreads; i++) {
				const ml_core_thread *t = &ci->threads[i];
				ml_json_obj_begin(j);
				ML_JSON_KI64(j, "tid", t->tid);
				ML_JSON_KI64(j, "signal", t->cursig);
				if (t->have_regs) {
					ML_JSON_KADDR(j, "pc", t->pc);
					ML_JSON_KADDR(j, "sp", t->sp);
				}
				ml_json_obj_end(j);
			}
			ml_json_arr_end(j);
		}
		ml_json_key(j, "siginfo");
		if (ci->have_siginfo) {
			ml_json_obj_begin(j);
			ML_JSON_KI64(j, "signo", ci->signo);
			ML_JSON_KI64(j, "code", ci->sigcode);
			ML_JSON_KI64(j, "errno", ci->sigerrno);
			if (ci->sigcode <= 0) {
				ML_JSON_KI64(j, "sender_pid", ci->sender_pid);
				ML_JSON_KU64(j, "sender_uid", ci->sender_uid);
			} else {
				ML_JSON_KADDR(j, "addr", ci->sigaddr);
			}
			ml_json_obj_end(j);
		} else {
			ml_json_null(j);
		}
		ML_JSON_KU64(j, "mapped_files", ci->nfiles);
		ML_JSON_KU64(j, "notes", ci->nnotes);
		ml_json_obj_end(j);
		ml_json_obj_end(j);
		ml_json_line_end(j);
		return;
	}
	printf("pid          %d", (int)ci->pid);
	if (ci->have_prpsinfo) {
		printf("  ");
		ml_cli_put_escaped(stdout, ci->comm, strlen(ci->comm));
		if (ci->state)
			printf("  state %c", ci->state);
	}
	printf("  [core]\n");
	if (ci->have_prpsinfo) {
		/* the kernel keeps the first 80 bytes of the command line, NULs made spaces */
		printf("command      ");
		ml_cli_put_escaped(stdout, ci->psargs, strlen(ci->psargs));
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
