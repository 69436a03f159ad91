/* cmd_suspects.c — `logdrop suspects`: being written; reports that it is not available yet. */
#include "cli_util.h"

int cmd_suspects(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_runtime_error("suspects", "not available in this build yet");
}
