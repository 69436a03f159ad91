#include "cli_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ld_time.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "logdrop %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'logdrop %s --help'.\n", cmd);
	return LD_EXIT_USAGE;
}

int cli_runtime_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "logdrop %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return LD_EXIT_RUNTIME;
}

bool cli_parse_time(const char *s, int64_t *out_ns)
{
	return ld_time_parse_arg(s, ld_now_ns(), out_ns);
}

int cli_pick(const char *s, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}
