/* store_files.c — housekeeping on the files of a data directory: removing what interrupted
 * transactions left behind, and loading a sealed segment back into rows. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_internal.h"

static int cmp_path(const void *a, const void *b)
{
	return strcmp((*(const ld_mf_entry *const *)a)->path, (*(const ld_mf_entry *const *)b)->path);
}

static bool is_live(const ld_mf_entry **live, long n, const char *rel)
{
	ld_mf_entry key;
	if (snprintf(key.path, sizeof(key.path), "%s", rel) >= (int)sizeof(key.path))
		return false;
	const ld_mf_entry *kp = &key;
	return n > 0 && bsearch(&kp, live, (size_t)n, sizeof(*live), cmp_path) != NULL;
}

int ld_store_cleanup(const char *dir, const ld_manifest *m, ld_err *err)
{
	const ld_mf_entry **live;
	long nl = ld_manifest_live(m, &live);
	if (nl < 0) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	if (nl > 0)
		qsort(live, (size_t)nl, sizeof(*live), cmp_path);
	char segs[4096];
	snprintf(segs, sizeof(segs), "%s/segments", dir);
	DIR *d = opendir(segs);
	if (!d) {
		free(live);
		if (errno == ENOENT)
			return 0;
		ld_err_errno(err, "%s", segs);
		return -1;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) && rc == 0) {
		if (de->d_name[0] == '.' || strlen(de->d_name) != 10)
			continue;
		char day[4200];
		if (snprintf(day, sizeof(day), "%s/%s", segs, de->d_name) >= (int)sizeof(day))
			continue;
		DIR *dd = opendir(day);
		if (!dd)
			continue;
		bool removed = false;
		struct dirent *fe;
		while ((fe = readdir(dd))) {
			const char *nm = fe->d_name;
			size_t l = strlen(nm);
			char rel[300], full[4500];
			if (snprintf(rel, sizeof(rel), "segments/%s/%s", de->d_name, nm) >= (int)sizeof(rel) ||
			    snprintf(full, sizeof(full), "%s/%s", day, nm) >= (int)sizeof(full))
				continue;
			bool drop = false;
			if (nm[0] == '.' && l > 4 && strcmp(nm + l - 4, ".tmp") == 0)
				drop = true; /* an interrupted segment write */
			else if (l > 4 && strcmp(nm + l - 4, ".lds") == 0 && !is_live(live, nl, rel))
				/* uncommitted, replaced or pruned, or written by a seal that never reached
				 * the MANIFEST (sequence numbers beyond the last one it names) */
				drop = ld_manifest_mentions(m, rel) ||
				       strtoull(nm, NULL, 10) > m->max_seg_seq;
			if (drop) {
				if (unlink(full) != 0 && errno != ENOENT) {
					ld_err_errno(err, "unlink %s", full);
					rc = -1;
					break;
				}
				removed = true;
			}
		}
		closedir(dd);
		if (removed && rc == 0)
			rc = ld_fsync_dir(day, err);
	}
	closedir(d);
	free(live);
	return rc;
}

int ld_seg_load_rows(const char *path, ld_rowset *rs, ld_decoder *d, ld_err *err)
{
	ld_seg s;
	if (ld_seg_open_file(&s, path, d, err) != 0)
		return -1;
	int rc = ld_seg_load_peers(&s, d, err);
	for (uint32_t b = 0; b < s.hdr.blocks && rc == 0; b++) {
		ld_block blk;
		if (ld_seg_decode_block(d, &s, b, LD_COL_ALL, &blk, NULL, err) != 0) {
			rc = -1;
			break;
		}
		for (uint32_t i = 0; i < blk.n; i++) {
			ld_record r;
			ld_block_record(&blk, i, &r);
			if (ld_rowset_add(rs, &r) != 0) {
				ld_err_set(err, "out of memory");
				rc = -1;
				break;
			}
		}
	}
	ld_seg_close(&s);
	return rc;
}
