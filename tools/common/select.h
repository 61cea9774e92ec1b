/* Process selection shared by the commands that take a PID: NAME, -p PID,..., --pgrep REGEX [-f], --all. */
#ifndef MEMLENS_TOOLS_SELECT_H
#define MEMLENS_TOOLS_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/cli.h"

enum { ML_SEL_O_PGREP = 0x300, ML_SEL_O_ALL, ML_SEL_O_FULL, ML_SEL_O_PID };

/* Option table entries (a command lists the ones it takes; -p/-f only where the letters are free). */
#define ML_SEL_OPT_PID { "pid", 'p', 1, "PID,...", "these processes (repeatable)" }
#define ML_SEL_OPT_PID_LONG { "pid", ML_SEL_O_PID, 1, "PID,...", "these processes (repeatable)" }
#define ML_SEL_OPT_PGREP { "pgrep", ML_SEL_O_PGREP, 1, "REGEX", "processes whose comm matches REGEX (POSIX extended, like pgrep)" }
#define ML_SEL_OPT_FULL { "full", 'f', 0, NULL, "--pgrep matches the whole command line (like pgrep -f)" }
#define ML_SEL_OPT_FULL_LONG { "full", ML_SEL_O_FULL, 0, NULL, "--pgrep matches the whole command line (like pgrep -f)" }
#define ML_SEL_OPT_ALL { "all", ML_SEL_O_ALL, 0, NULL, "every process that can be read (kernel threads and memlens itself left out)" }

typedef struct ml_sel {
	pid_t *pids; /* from -p, in the order given */
	size_t npids;
	const char *pgrep;
	bool full, all;
} ml_sel;

/* One selected process: its PID and its comm (as the table shows it, escaped). */
typedef struct ml_sel_proc {
	pid_t pid;
	char comm[80];
} ml_sel_proc;

/* What a command runs on: a file named on the command line, or processes. */
typedef struct ml_sel_list {
	const char *file; /* a snapshot/core path, or NULL */
	ml_sel_proc *procs;
	size_t n;
} ml_sel_list;

/*
 * Handles option @key if it is a selection option (-p with @key 'p' or ML_SEL_O_PID,
 * ML_SEL_O_PGREP, 'f' or ML_SEL_O_FULL, ML_SEL_O_ALL). Returns 1 when handled, 0 when
 * @key is not one, -1 after a usage error was printed.
 */
int ml_sel_opt(ml_sel *s, const ml_cmd *cmd, int key, const char *arg);

/*
 * Resolves the positional @spec (NULL when none) and the options into a list. @spec is,
 * in this order: a PID (digits); a file, when one exists at that path (or the path holds a
 * '/'); otherwise a process name (exact comm). @one: the command takes one process, so a
 * name or pattern matching several is an error listing them. Returns 0, or the exit code
 * after printing why (ML_EXIT_USAGE for contradictory options, ML_EXIT_ERROR when nothing
 * matches or the choice is ambiguous).
 */
int ml_sel_resolve(const ml_sel *s, const ml_cmd *cmd, const char *spec, bool one, ml_sel_list *ret);

/* The PID as the command-line spelling a source is opened by ("1234"). */
const char *ml_sel_pidstr(const ml_sel_proc *p, char buf[16]);

/* For several processes, the line that starts each one's text output: "==> pid 12 (comm) <==". */
void ml_sel_header(const ml_sel_list *l, size_t i);

/* The exit code of several runs: the worst, except that errors beside successes are a partial result. */
int ml_sel_merge_rc(int acc, int rc, size_t i);

/* For a command that takes one process: @spec as it is (a PID or a path), or the PID of the
 * one process named @spec, spelled into @buf. NULL after printing why, with *rc the exit code. */
const char *ml_sel_one(const ml_cmd *cmd, const char *spec, char buf[16], int *rc);

/*
 * A multi-process command's whole run after its options are parsed (ml_cli_parse's @first):
 * at most one positional (a PID, NAME or snapshot), resolved with @s; @one runs for the
 * file, or for each process in turn (text output headed by ml_sel_header() unless @json),
 * and the exit codes are merged. Frees @s. Returns the exit code.
 */
int ml_sel_run(ml_sel *s, const ml_cmd *cmd, int argc, char **argv, int first, bool json,
	       int (*one)(void *ctx, const char *spec), void *ctx);

void ml_sel_list_free(ml_sel_list *l);
void ml_sel_free(ml_sel *s);

#endif
