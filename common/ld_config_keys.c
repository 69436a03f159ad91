/* ld_config_keys.c — key tables of the [ingest], [store] and [alert] sections. */
#include "ld_config_keys.h"

#include <string.h>

const char *const ld_config_sections[] = {"ingest", "store", "analyze", "alert", NULL};

static const char *const ingest_keys[] = {
	"data_dir",  "syslog_udp", "syslog_tcp",  "syslog_tls", "tls_cert",    "tls_key",
	"tls_ca",    "ipfix_udp",  "ipfix_tcp",   "netflow_udp", "pcap",       "assume_drop",
	"metrics",   NULL,
};
static const char *const store_keys[] = {"retention", "fsync_interval", "keep_raw", NULL};
static const char *const alert_keys[] = {"syslog", "format", "hook", "release_hook", NULL};

const char *const *ld_config_keys(const char *section)
{
	if (strcmp(section, "ingest") == 0)
		return ingest_keys;
	if (strcmp(section, "store") == 0)
		return store_keys;
	if (strcmp(section, "alert") == 0)
		return alert_keys;
	return NULL;
}

bool ld_config_check_common(const ld_ini *ini, ld_err *err)
{
	for (size_t i = 0; i < ini->n; i++) {
		const ld_ini_entry *e = &ini->entries[i];
		bool known_section = false;
		for (size_t s = 0; ld_config_sections[s]; s++)
			if (strcmp(ld_config_sections[s], e->section) == 0)
				known_section = true;
		if (!known_section) {
			ld_err_set(err, "%s:%d: unknown section [%s]", ini->path, e->line, e->section);
			return false;
		}
		if (strcmp(e->section, "analyze") == 0)
			continue;
		const char *const *keys = ld_config_keys(e->section);
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
