/* cli_util.h — what every subcommand shares: exit codes, usage errors, argument parsing.
 *
 * Contract: a subcommand is `int cmd_NAME(int argc, char **argv)` with argv[0] = "NAME"; it returns
 * the process exit code: 0 success, 1 runtime failure (after printing one line naming the
 * file/line/peer at fault), 2 usage error.  Only cli/ prints to the terminal or exits.
 */
#ifndef LD_CLI_UTIL_H
#define LD_CLI_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#define LD_EXIT_OK 0
#define LD_EXIT_RUNTIME 1
#define LD_EXIT_USAGE 2

/* Prints "logdrop CMD: <msg>" and a hint to --help on stderr; returns LD_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "logdrop CMD: <msg>" on stderr; returns LD_EXIT_RUNTIME. */
int cli_runtime_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --from/--to values: RFC 3339 or relative (-2h, now). */
bool cli_parse_time(const char *s, int64_t *out_ns);
/* Output format names: returns the index of s in names (NULL-terminated) or -1. */
int cli_pick(const char *s, const char *const *names);

/* Subcommands. */
int cmd_import(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_suspects(int argc, char **argv);
int cmd_archive(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif
