/* cmd_archive.c — `logdrop archive`: being written; reports that it is not available yet. */
#include "cli_util.h"

int cmd_archive(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_runtime_error("archive", "not available in this build yet");
}
