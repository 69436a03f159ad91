/* cmd_demo.c — `logdrop demo`: being written; reports that it is not available yet. */
#include "cli_util.h"

int cmd_demo(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_runtime_error("demo", "not available in this build yet");
}
