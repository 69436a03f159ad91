/* deadletter.h — the bounded, rotated file of rejected lines (internal to ingest/).
 *
 * Contract: one writer per directory at a time, safe to call from several threads (a mutex; rejects
 * are rare so it is never hot).  Files are DIR/rejects-<n>.log; writing continues in the newest
 * file while it is under max_bytes, then rotates to n+1 and deletes files older than the newest
 * `keep`.  Each entry is "reason<TAB>source<TAB>offset<TAB>line<LF>"; a line over max_line bytes
 * is cut and marked "[...+N bytes]".  A failing disk never stops an import: the first error is
 * kept (ld_deadletter_error) and later entries are dropped, still counted by the caller.
 */
#ifndef LD_DEADLETTER_H
#define LD_DEADLETTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ld_deadletter ld_deadletter;

ld_deadletter *ld_deadletter_new(const char *dir, uint64_t max_bytes, unsigned keep);
void ld_deadletter_write(ld_deadletter *d, const char *reason, const char *source, uint64_t offset,
			 const char *line, size_t len, size_t full_len);
const char *ld_deadletter_path(const ld_deadletter *d); /* "" before the first entry */
const char *ld_deadletter_error(const ld_deadletter *d); /* NULL when all went well */
uint64_t ld_deadletter_entries(const ld_deadletter *d);
void ld_deadletter_free(ld_deadletter *d);

#endif
