/* ld_ini.h — the INI configuration file ([ingest] [store] [analyze] [alert]).
 *
 * Contract: ld_ini_load() reads the whole file into sections of key = value entries, keeping each
 * entry's line number.  Syntax: `[section]`, `key = value`, comments starting with '#' or ';' on
 * their own line, blank lines; values are trimmed, may be wrapped in double quotes.  Consumers
 * then check their section against a table of known keys with ld_ini_check_keys(), which makes an
 * unknown key an error naming the file, line and key.
 */
#ifndef LD_INI_H
#define LD_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "ld_log.h"

typedef struct ld_ini_entry {
	char *section;
	char *key;
	char *value;
	int line;
} ld_ini_entry;

typedef struct ld_ini {
	char *path;
	ld_ini_entry *entries;
	size_t n;
} ld_ini;

/* NULL on error (err names path:line and the fault). */
ld_ini *ld_ini_load(const char *path, ld_err *err);
void ld_ini_free(ld_ini *ini);
/* Value of section.key, or NULL when not set (the last one wins when repeated). */
const char *ld_ini_get(const ld_ini *ini, const char *section, const char *key);
/* Line of section.key or 0. */
int ld_ini_line(const ld_ini *ini, const char *section, const char *key);
/* Every section must be one of `sections` (NULL-terminated) and every key of section S one of
 * keys_for(S).  Returns false with err = "PATH:LINE: unknown key 'k' in [S]". */
bool ld_ini_check(const ld_ini *ini, const char *const *sections,
		  const char *const *(*keys_for)(const char *section), ld_err *err);

/* Helpers for typed values (err names the key and line on failure). */
bool ld_ini_bool(const ld_ini *ini, const char *section, const char *key, bool *out, ld_err *err);
bool ld_ini_uint(const ld_ini *ini, const char *section, const char *key, unsigned long *out,
		 ld_err *err);

#endif
