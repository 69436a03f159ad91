/* cmd_query.c — `logdrop query`: being written; reports that it is not available yet. */
#include "cli_util.h"

int cmd_query(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_runtime_error("query", "not available in this build yet");
}
