/* Process selection shared by the commands that take a PID: NAME, -p PID,..., --pgrep REGEX [-f], --all. */
#ifndef MEMLENS_TOOLS_SELECT_H
#define MEMLENS_TOOLS_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/cli.h"

enum { SEL_O_PGREP = 0x300, SEL_O_ALL, SEL_O_FULL, SEL_O_PID };

/* Option table entries (a command lists the ones it takes; -p/-f only where the letters are free). */
#define SEL_OPT_PID { "pid", 'p', 1, "PID,...", "these processes (repeatable)" }
#define SEL_OPT_PID_LONG { "pid", SEL_O_PID, 1, "PID,...", "these processes (repeatable)" }
#define SEL_OPT_PGREP { "pgrep", SEL_O_PGREP, 1, "REGEX", "processes whose comm matches REGEX (POSIX extended, like pgrep)" }
#define SEL_OPT_FULL { "full", 'f', 0, NULL, "--pgrep matches the whole command line (like pgrep -f)" }
#define SEL_OPT_FULL_LONG { "full", SEL_O_FULL, 0, NULL, "--pgrep matches the whole command line (like pgrep -f)" }
#define SEL_OPT_ALL { "all", SEL_O_ALL, 0, NULL, "every process that can be read (kernel threads and memlens itself left out)" }

typedef struct selection {
	pid_t *pids; /* from -p, in the order given */
	size_t npids;
	const char *pgrep;
	bool full, all;
} selection;

/* One selected process: its PID and its comm (as the table shows it, escaped). */
typedef struct sel_proc {
	pid_t pid;
	char comm[80];
} sel_proc;

/* What a command runs on: a file named on the command line, or processes. */
typedef struct sel_list {
	const char *file; /* a snapshot/core path, or NULL */
	sel_proc *procs;
	size_t n;
} sel_list;

/*
 * Handles option @key if it is a selection option (-p with @key 'p' or SEL_O_PID,
 * SEL_O_PGREP, 'f' or SEL_O_FULL, SEL_O_ALL). Returns 1 when handled, 0 when
 * @key is not one, -1 after a usage error was printed.
 */
int sel_opt(selection *s, const cli_cmd *cmd, int key, const char *arg);

/*
 * Resolves the positional @spec (NULL when none) and the options into a list. @spec is,
 * in this order: a PID (digits); a file, when one exists at that path (or the path holds a
 * '/'); otherwise a process name (exact comm). @one: the command takes one process, so a
 * name or pattern matching several is an error listing them. Returns 0, or the exit code
 * after printing why (CLI_EXIT_USAGE for contradictory options, CLI_EXIT_ERROR when nothing
 * matches or the choice is ambiguous).
 */
int sel_resolve(const selection *s, const cli_cmd *cmd, const char *spec, bool one, sel_list *ret);

/* The PID as the command-line spelling a source is opened by ("1234"). */
const char *sel_pidstr(const sel_proc *p, char buf[16]);

/* For several processes, the line that starts each one's text output: "==> pid 12 (comm) <==". */
void sel_header(const sel_list *l, size_t i);

/* The exit code of several runs: the worst, except that errors beside successes are a partial result. */
int sel_merge_rc(int acc, int rc, size_t i);

/* For a command that takes one process: @spec as it is (a PID or a path), or the PID of the
 * one process named @spec, spelled into @buf. NULL after printing why, with *rc the exit code. */
const char *sel_one(const cli_cmd *cmd, const char *spec, char buf[16], int *rc);

/*
 * A multi-process command's whole run after its options are parsed (cli_parse's @first):
 * at most one positional (a PID, NAME or snapshot), resolved with @s; @one runs for the
 * file, or for each process in turn (text output headed by sel_header() unless @json),
 * and the exit codes are merged. Frees @s. Returns the exit code.
 */
int sel_run(selection *s, const cli_cmd *cmd, int argc, char **argv, int first, bool json,
	    int (*one)(void *ctx, const char *spec), void *ctx);

void sel_list_free(sel_list *l);
void sel_free(selection *s);

#endif
