/* ld_config_keys.h — the keys every section of the logdrop INI file may hold.
 *
 * Contract: one table for the whole configuration file, so any command that reads the file
 * (suspects today, the service later) rejects a misspelt key in any section, not only in the
 * sections it uses.  [analyze] keys are owned by analyze/ld_analyze_config.h and passed in.
 */
#ifndef LD_CONFIG_KEYS_H
#define LD_CONFIG_KEYS_H

#include <stdbool.h>

#include "ld_ini.h"
#include "ld_log.h"

/* NULL-terminated list of the sections: ingest, store, analyze, alert. */
extern const char *const ld_config_sections[];

/* Keys of [ingest], [store] and [alert]; NULL for other sections. */
const char *const *ld_config_keys(const char *section);

/* Checks every section name and, for sections other than [analyze], every key.  Returns false
 * with err = "PATH:LINE: unknown key 'k' in [section]" (or unknown section). */
bool ld_config_check_common(const ld_ini *ini, ld_err *err);

#endif
