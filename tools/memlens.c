/* memlens: dispatches to one subcommand per file (tools/NAME.c), listed in commands.def. */
#include <stdio.h>
#include <string.h>

#include <memlens/memlens.h>

#include "common/cli.h"

#define CMD(name, summary) int cmd_##name(int argc, char **argv);
#include "commands.def"
#undef CMD

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
#define CMD(name, summary) { #name, cmd_##name, summary },
#include "commands.def"
#undef CMD
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: memlens <command> [options] <PID | snapshot-file>\n\n"
		   "Linux process-memory forensics and pagemap analysis.\n\ncommands:\n");
	for (size_t i = 0; commands[i].name; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'memlens <command> --help' describes a command.\n"
		   "exit status: 0 ok, 1 partial result or no match, 2 error, 64 usage error.\n");
}

static int run(int argc, char **argv);

int main(int argc, char **argv)
{
	cli_stdout_begin();
	return cli_stdout_finish(run(argc, argv));
}

static int run(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	/* "memlens --color=never grep ...": the command takes it, as if it came after the name */
	if (argc > 2 && !strncmp(argv[1], "--color", 7) && (argv[1][7] == '=' || !argv[1][7])) {
		char *opt = argv[1];
		argv[1] = argv[2];
		argv[2] = opt;
		if (!strcmp(argv[1], "core") && argc > 3) { /* and after core's own subcommand */
			argv[2] = argv[3];
			argv[3] = opt;
		}
	}
	const char *c = argv[1];
	/* tables and listings are written a cell at a time: one write per 64 KiB, not per 4 KiB */
	static char outbuf[64 << 10];
	if (!cli_stdout_tty())
		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	if (!strcmp(c, "help") || !strcmp(c, "--help") || !strcmp(c, "-h")) {
		if (argc > 2) {
			for (size_t i = 0; commands[i].name; i++)
				if (!strcmp(argv[2], commands[i].name)) {
					char *av[] = { argv[2], (char *)"--help", NULL };
					return commands[i].fn(2, av);
				}
			fprintf(stderr, "memlens: unknown command '%s'\n", argv[2]);
			return CLI_EXIT_USAGE;
		}
		usage(stdout);
		return 0;
	}
	if (!strcmp(c, "--version") || !strcmp(c, "version")) {
		printf("memlens %s\n", ml_version());
		return 0;
	}
	for (size_t i = 0; commands[i].name; i++)
		if (!strcmp(c, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "memlens: unknown command '%s' (see 'memlens help')\n", c);
	return CLI_EXIT_USAGE;
}
