/* Shared pieces of every subcommand: option tables, exit codes, errors, sizes, numbers. */
#ifndef MEMLENS_TOOLS_CLI_H
#define MEMLENS_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_PARTIAL = 1, /* partial result, or (grep) no match */
	CLI_EXIT_ERROR = 2,
	CLI_EXIT_USAGE = 64,
};

/*
 * One option of a subcommand. The same table generates getopt_long's arguments and the
 * --help text. @key is the short letter, or a value >= 256 for long-only options.
 */
typedef struct cli_opt {
	const char *lng;
	int key;
	int has_arg;         /* 0 none, 1 required (getopt's no_argument/required_argument) */
	const char *argname; /* shown in --help, e.g. "SIZE" */
	const char *help;
} cli_opt;

typedef struct cli_cmd {
	const char *name;    /* "maps" */
	const char *usage;   /* "[options] <PID | snapshot>" */
	const char *summary; /* one paragraph */
	const cli_opt *opts;  /* terminated by { 0 } */
	int min_args, max_args; /* positional arguments; max -1 = any */
} cli_cmd;

#define CLI_OPT_END { NULL, 0, 0, NULL, NULL }
#define CLI_OPT_HELP { "help", 'h', 0, NULL, "show this help and exit" }

/*
 * Parses argv against cmd->opts, calling @fn(key, optarg, ctx) for each option (fn
 * returns 0, or -1 after printing a usage error). Handles --help (prints, returns 1).
 * On success returns 0 and sets *first_arg to the index of the first positional argument.
 * Returns -1 after a usage error was printed (exit with CLI_EXIT_USAGE).
 */
int cli_parse(const cli_cmd *cmd, int argc, char **argv,
	      int (*fn)(int key, const char *arg, void *ctx), void *ctx, int *first_arg);
void cli_help(const cli_cmd *cmd, FILE *f);

/* Prints "memlens CMD: MESSAGE" on stderr and returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "memlens: pid 123: WHAT: CAUSE (HINT)" for library error @err; returns CLI_EXIT_ERROR. */
int cli_pid_error(pid_t pid, const char *what, int err);
/* Why @pid, looked at afresh, has no memory to read ("it is a kernel thread...", "it is a
 * zombie..."), or NULL. */
const char *cli_gone_reason(pid_t pid);
/* Prints "memlens: FILE: WHAT: CAUSE"; returns CLI_EXIT_ERROR. */
int cli_file_error(const char *file, const char *what, int err);
/*
 * Opens a source named on the command line (a PID or a snapshot path) and on failure
 * prints why, naming the PID or the file (for a snapshot, the reader's own sentence).
 * Returns 0, or CLI_EXIT_ERROR after printing (CLI_EXIT_USAGE for digits that are no PID).
 */
struct ml_source;
int cli_source_open(const char *spec, struct ml_source **ret);
/* A short hint for an error code in context of a PID (e.g. which privilege), or "". */
const char *cli_err_hint(int err);
/* "memlens: " + message on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a PID ("1234"); false if @s is not one (then it names a file). */
bool cli_parse_pid(const char *s, pid_t *ret);
/* Parses "123", "0x1f", "4K", "2M", "1G", "1.5G" (binary units). false on junk/overflow. */
bool cli_parse_size(const char *s, uint64_t *ret);
/* Parses an address (hex with or without 0x). */
bool cli_parse_addr(const char *s, uint64_t *ret);
/* Parses "A-B" (hex addresses, end exclusive) into [*lo, *hi). */
bool cli_parse_range(const char *s, uint64_t *lo, uint64_t *hi);
/* Parses a duration: "250ms", "1s", "1.5s", "2m", plain numbers are seconds. Nanoseconds out. */
bool cli_parse_duration(const char *s, uint64_t *ns);

/* Formats @bytes: exact decimal bytes, or human binary units ("1.5M") when @human. */
const char *cli_fmt_size(char buf[32], uint64_t bytes, bool human);
/* @v in decimal / lower-case hex (no prefix) at @buf, NUL-terminated (21 / 17 bytes are
 * enough); returns the number of digits. printf's results, without its cost per call. */
size_t cli_fmt_dec(char *buf, uint64_t v);
size_t cli_fmt_hex(char *buf, uint64_t v);
/* True when stdout is a terminal (human sizes by default). */
bool cli_stdout_tty(void);
/*
 * Whether standard output gets colour: --color=always, --color=never, or (auto, the
 * default) when stdout is a terminal, TERM is not "dumb" and NO_COLOR is unset or empty.
 * Every command takes --color[=WHEN]; cli_parse() takes it out of argv.
 */
bool cli_color(void);
#define SGR_BOLD "\033[1m"
#define SGR_MATCH "\033[1;31m"
#define SGR_LABEL "\033[35m"
#define SGR_RESET "\033[0m"

/* fnmatch-style glob on exact bytes (NUL-free name of @len bytes). */
bool cli_glob(const char *pattern, const char *name, size_t len);
/*
 * --name of every command: @pattern matches a mapping's name when it equals it literally
 * (so "[heap]" is the heap, not a bracket expression), or as a glob matches the whole name
 * or its last path component ("libc.so*" matches /usr/lib/x86_64-linux-gnu/libc.so.6).
 * "[anon]" names the anonymous mappings that have no name, as the tables show them.
 */
bool cli_name_match(const char *pattern, const char *name, size_t len);
/*
 * The name every table shows for a mapping (malloc'ed, NULL on ENOMEM): its bytes escaped
 * as cli_put_escaped() does, "[anon]" for a mapping with no name, " (deleted)" after
 * the name of a deleted file (so shared anonymous memory is "/dev/zero (deleted)"
 * everywhere, as the kernel names it).
 */
char *cli_vma_name(const char *name, size_t len, bool deleted);

/* Length of the valid UTF-8 sequence of 2-4 bytes at @s, or 0. */
size_t cli_utf8_seq(const char *s, size_t len);
/* Writes @len bytes for a terminal line: printable ASCII and valid UTF-8 as they are; a
 * newline as \n, a backslash as \\, anything else as \xNN, so nothing is lost or ambiguous. */
void cli_put_escaped(FILE *f, const char *s, size_t len);

/*
 * Standard output, checked once for every command: cli_stdout_begin() puts stdout on a
 * stream that records the first write error; cli_stdout_finish(rc) flushes it and, if
 * anything was lost, says so on stderr and returns CLI_EXIT_ERROR (else @rc). Commands that
 * write a lot may stop early when cli_stdout_failed().
 */
void cli_stdout_begin(void);
bool cli_stdout_failed(void);
int cli_stdout_finish(int rc);

/*
 * Checks, before any work, that @path can be written as a new file or (with @force) over a
 * regular file: never through a symlink, never over a directory, device, FIFO or socket, and
 * in a directory that exists and is writable. Prints why not, naming the file, and returns
 * CLI_EXIT_ERROR; 0 when the output can be created.
 */
int cli_output_check(const char *path, bool force);
/*
 * Creates the temporary for cli_publish() beside @path (same directory, so that publishing
 * is a rename): ".NAME.memlens-XXXXXX", mode 0600, close-on-exec, with an exclusive flock
 * held on it until cli_publish() closes it; *tmp is its malloc'd name. Temporaries of the
 * same @path that a killed run of the same user left (ones nobody holds locked) are
 * removed. Returns the descriptor, or -1 having said why (naming @path).
 */
int cli_tmp_beside(const char *path, char **tmp);
/*
 * Puts @tmp, a finished file (written and fsync'ed, open as @fd from cli_tmp_beside()),
 * beside @path, in its place, syncs the directory and closes @fd. Without @replace a name
 * taken meanwhile is left alone; with it only a regular file is replaced: a symlink,
 * directory, device, FIFO or socket that appeared at @path after cli_output_check() stays
 * there and is refused. Works on file systems without hard links or rename flags. On
 * failure @tmp is removed, @path is as it was (but for something swapped out that could not
 * be put back: the message says where it is), and why is printed, naming @path. Returns 0;
 * CLI_EXIT_PARTIAL when the file is whole and in place but syncing its directory (or closing
 * it) failed, so that its name may not survive a crash (a warning says so); or
 * CLI_EXIT_ERROR. A directory that cannot be synced at all (written but not read, or on a
 * file system that syncs no directory: EACCES, EINVAL, EOPNOTSUPP) is not a failure.
 */
int cli_publish(int fd, const char *tmp, const char *path, bool replace);
/* The directory sync of cli_publish(); tests replace it to make it fail. */
extern int (*cli_fsync_dir)(int fd);
/* True when @path starts with the gzip magic (a 'memlens core export' file). */
bool cli_is_gzip(const char *path);

#endif
