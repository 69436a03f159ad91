/* ld_ini.c — a small strict INI reader: sections, key = value, comments, line numbers kept so
 * every complaint can name its line. */
#include "ld_ini.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static bool add_entry(ld_ini *ini, const char *section, const char *key, const char *value,
		      int line)
{
	ld_ini_entry *ne = realloc(ini->entries, (ini->n + 1) * sizeof *ne);
	if (!ne)
		return false;
	ini->entries = ne;
	ld_ini_entry *e = &ini->entries[ini->n];
	e->section = strdup(section);
	e->key = strdup(key);
	e->value = strdup(value);
	e->line = line;
	if (!e->section || !e->key || !e->value) {
		free(e->section);
		free(e->key);
		free(e->value);
		return false;
	}
	ini->n++;
	return true;
}

ld_ini *ld_ini_load(const char *path, ld_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		ld_err_errno(err, "%s", path);
		return NULL;
	}
	ld_ini *ini = calloc(1, sizeof *ini);
	if (!ini || !(ini->path = strdup(path))) {
		free(ini);
		fclose(f);
		ld_err_set(err, "%s: out of memory", path);
		return NULL;
	}
	char section[128] = "";
	char buf[4096];
	int lineno = 0;
	while (fgets(buf, sizeof buf, f)) {
		lineno++;
		if (!strchr(buf, '\n') && !feof(f)) {
			ld_err_set(err, "%s:%d: line too long", path, lineno);
			goto fail;
		}
		char *s = trim(buf);
		if (lineno == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
		    (unsigned char)s[2] == 0xBF)
			s += 3;
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || *trim(end + 1) != '\0') {
				ld_err_set(err, "%s:%d: malformed section header", path, lineno);
				goto fail;
			}
			*end = '\0';
			char *name = trim(s + 1);
			if (!*name || strlen(name) >= sizeof section) {
				ld_err_set(err, "%s:%d: malformed section header", path, lineno);
				goto fail;
			}
			strcpy(section, name);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			ld_err_set(err, "%s:%d: expected 'key = value'", path, lineno);
			goto fail;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		if (!*key) {
			ld_err_set(err, "%s:%d: missing key before '='", path, lineno);
			goto fail;
		}
		if (!*section) {
			ld_err_set(err, "%s:%d: key '%s' outside any [section]", path, lineno, key);
			goto fail;
		}
		size_t vl = strlen(val);
		if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
			val[vl - 1] = '\0';
			val++;
		}
		if (!add_entry(ini, section, key, val, lineno)) {
			ld_err_set(err, "%s: out of memory", path);
			goto fail;
		}
	}
	if (ferror(f)) {
		ld_err_errno(err, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	return ini;
fail:
	fclose(f);
	ld_ini_free(ini);
	return NULL;
}

void ld_ini_free(ld_ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->n; i++) {
		free(ini->entries[i].section);
		free(ini->entries[i].key);
		free(ini->entries[i].value);
	}
	free(ini->entries);
	free(ini->path);
	free(ini);
}

static const ld_ini_entry *find(const ld_ini *ini, const char *section, const char *key)
{
	if (!ini)
		return NULL;
	for (size_t i = ini->n; i-- > 0;)
		if (strcmp(ini->entries[i].section, section) == 0 &&
		    strcmp(ini->entries[i].key, key) == 0)
			return &ini->entries[i];
	return NULL;
}

const char *ld_ini_get(const ld_ini *ini, const char *section, const char *key)
{
	const ld_ini_entry *e = find(ini, section, key);
	return e ? e->value : NULL;
}

int ld_ini_line(const ld_ini *ini, const char *section, const char *key)
{
	const ld_ini_entry *e = find(ini, section, key);
	return e ? e->line : 0;
}

bool ld_ini_check(const ld_ini *ini, const char *const *sections,
		  const char *const *(*keys_for)(const char *section), ld_err *err)
{
	for (size_t i = 0; i < ini->n; i++) {
		const ld_ini_entry *e = &ini->entries[i];
		bool known_section = false;
		for (size_t s = 0; sections[s]; s++)
			if (strcmp(sections[s], e->section) == 0)
				known_section = true;
		if (!known_section) {
			ld_err_set(err, "%s:%d: unknown section [%s]", ini->path, e->line, e->section);
			return false;
		}
		const char *const *keys = keys_for(e->section);
		bool known = false;
		for (size_t k = 0; keys && keys[k]; k++)
			if (strcmp(keys[k], e->key) == 0)
				known = true;
		if (!known) {
			ld_err_set(err, "%s:%d: unknown key '%s' in [%s]", ini->path, e->line, e->key,
				   e->section);
			return false;
		}
	}
	return true;
}

bool ld_ini_bool(const ld_ini *ini, const char *section, const char *key, bool *out, ld_err *err)
{
	const ld_ini_entry *e = find(ini, section, key);
	if (!e)
		return true;
	const char *v = e->value;
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else {
		ld_err_set(err, "%s:%d: %s: expected true or false, got '%s'", ini->path, e->line, key, v);
		return false;
	}
	return true;
}

bool ld_ini_uint(const ld_ini *ini, const char *section, const char *key, unsigned long *out,
		 ld_err *err)
{
	const ld_ini_entry *e = find(ini, section, key);
	if (!e)
		return true;
	char *end;
	errno = 0;
	unsigned long v = strtoul(e->value, &end, 10);
	if (errno || end == e->value || *end || e->value[0] == '-') {
		ld_err_set(err, "%s:%d: %s: expected a non-negative integer, got '%s'", ini->path,
			   e->line, key, e->value);
		return false;
	}
	*out = v;
	return true;
}
