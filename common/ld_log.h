/* ld_log.h — diagnostics to stderr.
 *
 * Contract: library code reports errors through ld_err (below) and returns; only cli/ decides to
 * print and exit.  ld_log_* write one line to stderr prefixed with the program name.
 */
#ifndef LD_LOG_H
#define LD_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* One error message, filled by the failing call; callers print it as-is. */
typedef struct ld_err {
	char msg[512];
} ld_err;

void ld_err_set(ld_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends ": strerror(errno)". */
void ld_err_errno(ld_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void ld_log_set_program(const char *name);
void ld_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ld_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ld_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ld_log_set_quiet(int quiet);

#if defined(__GNUC__)
#define ld_likely(x) __builtin_expect(!!(x), 1)
#define ld_unlikely(x) __builtin_expect(!!(x), 0)
#else
#define ld_likely(x) (x)
#define ld_unlikely(x) (x)
#endif

#endif
