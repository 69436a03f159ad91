/* logdrop — the command-line tool: dispatches to one subcommand per cmd_*.c file. */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "ld_log.h"

#ifndef LOGDROP_VERSION
#define LOGDROP_VERSION "unknown"
#endif

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{"import", cmd_import, "parse drop logs (files, .gz, .zst, -) into the store"},
	{"query", cmd_query, "forensic query over the store or a copied archive"},
	{"suspects", cmd_suspects, "rank desktops by east-west scan score"},
	{"archive", cmd_archive, "info | verify | prune | compact the store"},
	{"demo", cmd_demo, "generate a demo VDI estate with an infected desktop, ingest it, rank it"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: logdrop COMMAND [OPTIONS]\n\n"
		     "Turns firewall drop records into infected-desktop suspects.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(out, "\n'logdrop COMMAND --help' describes each command.\n"
		     "Exit status: 0 success, 1 runtime failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	ld_log_set_program("logdrop");
	if (argc < 2) {
		usage(stderr);
		return LD_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return LD_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("logdrop %s\n", LOGDROP_VERSION);
		return LD_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		if (strcmp(cmd, subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "logdrop: unknown command '%s'\n", cmd);
	usage(stderr);
	return LD_EXIT_USAGE;
}
