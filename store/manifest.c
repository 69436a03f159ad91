/* manifest.c — the append-only, hash-chained MANIFEST: parse, derive the live segment set, and
 * append transactions durably. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_internal.h"

static const char *const op_names[] = {"add", "remove", "replace", "commit"};

static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
				     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
							    : 16;
			if (d > 15)
				return -1;
			v = v * 16 + d;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* The text a chain hash covers: every field up to and including prev. */
static int format_prefix(const ld_mf_entry *e, char *out, size_t cap)
{
	char dig[65], prev[65];
	ld_hex(e->digest, 32, dig);
	ld_hex(e->prev, 32, prev);
	return snprintf(out, cap, "%" PRIu64 " %s %" PRIu64 " %s %" PRIu64 " %" PRIu64 " %" PRId64
			" %" PRId64 " %s %s %s",
			e->seq, op_names[e->op], e->tx, e->path, e->size, e->rows, e->min_ns,
			e->max_ns, dig, e->source, prev);
}

static int parse_line(char *line, ld_mf_entry *e)
{
	char op[16], path[sizeof(e->path)], dig[80], src[sizeof(e->source)], prev[80], chain[80];
	unsigned long long seq, tx, size, rows;
	long long mn, mx;
	int used = 0;
	if (sscanf(line, "%llu %15s %llu %95s %llu %llu %lld %lld %79s %63s %79s %79s%n", &seq, op, &tx,
		   path, &size, &rows, &mn, &mx, dig, src, prev, chain, &used) != 12 ||
	    line[used] != '\0')
		return -1;
	memset(e, 0, sizeof(*e));
	e->op = -1;
	for (int i = 0; i < 4; i++)
		if (strcmp(op, op_names[i]) == 0)
			e->op = i;
	if (e->op < 0 || parse_hex(dig, e->digest, 32) || parse_hex(prev, e->prev, 32) ||
	    parse_hex(chain, e->chain, 32))
		return -1;
	e->seq = seq;
	e->tx = tx;
	e->size = size;
	e->rows = rows;
	e->min_ns = mn;
	e->max_ns = mx;
	snprintf(e->path, sizeof(e->path), "%s", path);
	snprintf(e->source, sizeof(e->source), "%s", src);
	return 0;
}

static int push(ld_manifest *m, const ld_mf_entry *e)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		ld_mf_entry *ne = realloc(m->e, cap * sizeof(*ne));
		if (!ne)
			return -1;
		m->e = ne;
		m->cap = cap;
	}
	m->e[m->n++] = *e;
	return 0;
}

static uint64_t seg_seq_of(const char *path)
{
	const char *b = strrchr(path, '/');
	return strtoull(b ? b + 1 : path, NULL, 10);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Marks entries whose transaction committed (a commit line for the tx exists). */
static void mark_committed(ld_manifest *m)
{
	uint64_t *tx = malloc((m->n + 1) * sizeof(uint64_t));
	size_t nt = 0;
	for (size_t i = 0; i < m->n; i++) {
		m->e[i].committed = false;
		if (m->e[i].op == LD_MF_ADD && seg_seq_of(m->e[i].path) > m->max_seg_seq)
			m->max_seg_seq = seg_seq_of(m->e[i].path);
		if (m->e[i].op == LD_MF_COMMIT && tx)
			tx[nt++] = m->e[i].tx;
	}
	if (!tx)
		return; /* out of memory: nothing counts as committed, the safe side */
	qsort(tx, nt, sizeof(uint64_t), cmp_u64);
	for (size_t i = 0; i < m->n; i++)
		m->e[i].committed = nt && bsearch(&m->e[i].tx, tx, nt, sizeof(uint64_t), cmp_u64);
	free(tx);
}

int ld_manifest_parse(ld_manifest *m, const char *text, size_t len)
{
	memset(m, 0, sizeof(*m));
	size_t off = 0, lineno = 0;
	uint8_t head[32] = {0};
	char line[1024];
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (text + off)) : len - off;
		lineno++;
		m->file_len = off + l + (nl ? 1 : 0);
		if (!nl)
			break; /* torn tail */
		m->valid_len = m->file_len;
		const char *src = text + off;
		off += l + 1;
		ld_mf_entry e;
		if (l >= sizeof(line) || memchr(src, '\0', l)) {
			m->bad_lines++;
			continue;
		}
		memcpy(line, src, l);
		line[l] = '\0';
		if (parse_line(line, &e) != 0) {
			m->bad_lines++;
			continue;
		}
		e.line = lineno;
		char prefix[512];
		int pl = format_prefix(&e, prefix, sizeof(prefix));
		uint8_t want[32];
		crypto_generichash(want, 32, (const uint8_t *)prefix, (size_t)pl, NULL, 0);
		e.chain_ok = pl > 0 && (size_t)pl < sizeof(prefix) && memcmp(want, e.chain, 32) == 0 &&
			     memcmp(e.prev, head, 32) == 0 && strncmp(prefix, line, (size_t)pl) == 0;
		memcpy(head, e.chain, 32);
		if (push(m, &e) != 0) {
			ld_manifest_free(m);
			return -1;
		}
	}
	memcpy(m->head, head, 32);
	mark_committed(m);
	return 0;
}

int ld_manifest_load(const char *dir, ld_manifest *m, ld_err *err)
{
	memset(m, 0, sizeof(*m));
	char path[4096];
	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		ld_err_errno(err, "%s", path);
		return -1;
	}
	ld_buf b = {0};
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (ld_buf_append(&b, chunk, got) != 0) {
			fclose(f);
			ld_buf_free(&b);
			ld_err_set(err, "out of memory");
			return -1;
		}
	bool failed = ferror(f);
	fclose(f);
	if (failed) {
		ld_buf_free(&b);
		ld_err_errno(err, "read %s", path);
		return -1;
	}
	int rc = ld_manifest_parse(m, (const char *)b.p, b.len);
	ld_buf_free(&b);
	if (rc != 0)
		ld_err_set(err, "out of memory");
	return rc;
}

void ld_manifest_free(ld_manifest *m)
{
	free(m->e);
	memset(m, 0, sizeof(*m));
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

long ld_manifest_live(const ld_manifest *m, const ld_mf_entry ***out)
{
	*out = NULL;
	size_t nrem = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].committed && (m->e[i].op == LD_MF_REMOVE || m->e[i].op == LD_MF_REPLACE))
			nrem++;
	const char **rem = malloc((nrem + 1) * sizeof(char *));
	const ld_mf_entry **live = malloc((m->n + 1) * sizeof(*live));
	if (!rem || !live) {
		free(rem);
		free(live);
		return -1;
	}
	nrem = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].committed && (m->e[i].op == LD_MF_REMOVE || m->e[i].op == LD_MF_REPLACE))
			rem[nrem++] = m->e[i].path;
	qsort(rem, nrem, sizeof(char *), cmp_str_ptr);
	size_t n = 0;
	for (size_t i = 0; i < m->n; i++) {
		const ld_mf_entry *e = &m->e[i];
		if (!e->committed || e->op != LD_MF_ADD)
			continue;
		const char *key = e->path;
		if (nrem && bsearch(&key, rem, nrem, sizeof(char *), cmp_str_ptr))
			continue;
		live[n++] = e;
	}
	free(rem);
	if (n == 0) {
		free(live);
		return 0;
	}
	*out = live;
	return (long)n;
}

bool ld_manifest_journal_sealed(const ld_manifest *m, const char *journal)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].op == LD_MF_COMMIT && strcmp(m->e[i].source, journal) == 0)
			return true;
	return false;
}

bool ld_manifest_mentions(const ld_manifest *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].path, path) == 0)
			return true;
	return false;
}

uint64_t ld_manifest_next_tx(const ld_manifest *m)
{
	uint64_t tx = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].tx > tx)
			tx = m->e[i].tx;
	return tx + 1;
}

int ld_manifest_append(int fd, ld_manifest *m, ld_mf_entry *entries, size_t n, ld_err *err)
{
	ld_buf out = {0};
	uint64_t seq = m->n ? m->e[m->n - 1].seq + 1 : 1;
	uint8_t head[32];
	memcpy(head, m->head, 32);
	for (size_t i = 0; i < n; i++) {
		ld_mf_entry *e = &entries[i];
		e->seq = seq++;
		memcpy(e->prev, head, 32);
		char line[640];
		int pl = format_prefix(e, line, sizeof(line) - 70);
		crypto_generichash(e->chain, 32, (const uint8_t *)line, (size_t)pl, NULL, 0);
		line[pl] = ' ';
		ld_hex(e->chain, 32, line + pl + 1);
		line[pl + 65] = '\n';
		memcpy(head, e->chain, 32);
		e->chain_ok = true;
		if (ld_buf_append(&out, line, (size_t)pl + 66) != 0) {
			ld_buf_free(&out);
			ld_err_set(err, "out of memory");
			return -1;
		}
	}
	size_t off = 0, total = out.len;
	while (off < out.len) {
		ssize_t w = write(fd, out.p + off, out.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ld_err_errno(err, "write MANIFEST");
			ld_buf_free(&out);
			return -1;
		}
		off += (size_t)w;
	}
	ld_buf_free(&out);
	if (fdatasync(fd) != 0) {
		ld_err_errno(err, "fdatasync MANIFEST");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (push(m, &entries[i]) != 0) {
			ld_err_set(err, "out of memory");
			return -1;
		}
	memcpy(m->head, head, 32);
	m->valid_len += total;
	m->file_len = m->valid_len;
	mark_committed(m);
	return 0;
}
