/* cmd_import.c — `logdrop import`: being written; reports that it is not available yet. */
#include "cli_util.h"

int cmd_import(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_runtime_error("import", "not available in this build yet");
}
