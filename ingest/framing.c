/* framing.c — RFC 6587 octet counting vs non-transparent framing, one state machine per stream.
 *
 * Octet counting is recognised only as "<digits> <" (count, space, then the '<' of a PRI) with
 * 0 < count <= max_msg; anything else that starts with a digit (a bare "2026-05-04T..." line, a
 * PVE "0 0 ..." line) is the start of a non-transparent message.  When a wrong count swallows the
 * head of the next frame, the remainder no longer starts with a count: it is read up to the next
 * LF and counted as a framing error, and detection starts over after it (resync).
 */
#include "framing.h"

#include <stdlib.h>
#include <string.h>

enum state { S_START, S_LEN, S_LEN_SP, S_OCTET, S_LF, S_SKIP_MSG };

struct ld_framer {
	enum state st;
	enum ld_framing mode, last_mode;
	size_t max;
	char *buf;
	size_t blen;
	size_t remaining; /* octet body bytes still due */
	uint64_t errors, messages;
	bool resync; /* current LF message is the tail of a miscounted frame */
};

ld_framer *ld_framer_new(size_t max_msg)
{
	ld_framer *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->max = max_msg ? max_msg : 65536;
	f->buf = malloc(f->max + 16);
	if (!f->buf) {
		free(f);
		return NULL;
	}
	return f;
}

void ld_framer_free(ld_framer *f)
{
	if (!f)
		return;
	free(f->buf);
	free(f);
}

enum ld_framing ld_framer_mode(const ld_framer *f)
{
	return f->mode;
}

uint64_t ld_framer_errors(const ld_framer *f)
{
	return f->errors;
}

uint64_t ld_framer_messages(const ld_framer *f)
{
	return f->messages;
}

static void deliver(ld_framer *f, ld_frame_fn fn, void *ctx, int status)
{
	size_t n = f->blen;
	if (f->mode == LD_FRAMING_LF && n > 0 && f->buf[n - 1] == '\r')
		n--;
	if (f->resync) {
		f->errors++;
		f->resync = false;
	} else if (n > 0 || f->mode == LD_FRAMING_OCTET) {
		f->messages++;
		fn(ctx, f->buf, n, status);
	}
	f->blen = 0;
	f->last_mode = f->mode;
	f->mode = LD_FRAMING_UNKNOWN;
	f->st = S_START;
}

/* While dropping the tail of a miscounted frame: ends at LF/NUL or where "<digits> <" starts a
 * new octet-counted frame.  Returns true when such a frame was found (state set for its '<'). */
static bool resync_step(ld_framer *f, char c)
{
	if (c == '\n' || c == '\0') {
		f->errors++;
		f->resync = false;
		f->blen = 0;
		f->mode = LD_FRAMING_UNKNOWN;
		f->st = S_START;
		return false;
	}
	if (c == '<' && f->blen >= 2 && f->buf[f->blen - 1] == ' ') {
		size_t e = f->blen - 1, b = e;
		while (b > 0 && f->buf[b - 1] >= '0' && f->buf[b - 1] <= '9' && e - b < 9)
			b--;
		if (b < e && (b == 0 || f->buf[b - 1] < '0' || f->buf[b - 1] > '9')) {
			size_t cnt = 0;
			for (size_t k = b; k < e; k++)
				cnt = cnt * 10 + (size_t)(f->buf[k] - '0');
			if (cnt > 0 && cnt <= f->max) {
				f->errors++;
				f->resync = false;
				f->blen = 0;
				f->remaining = cnt;
				f->mode = LD_FRAMING_OCTET;
				f->st = S_OCTET;
				return true;
			}
		}
	}
	/* keep only a short tail: enough to see "<digits> " */
	if (f->blen >= 16) {
		memmove(f->buf, f->buf + f->blen - 12, 12);
		f->blen = 12;
	}
	f->buf[f->blen++] = c;
	return false;
}

/* Switch to a non-transparent message starting with c (after any collected count digits). */
static void to_lf(ld_framer *f, char c)
{
	f->mode = LD_FRAMING_LF;
	f->st = S_LF;
	/* after an octet-counted frame, text that neither starts a count nor a PRI is the rest of a
	 * frame whose count was wrong: drop it up to the next frame start */
	if (f->last_mode == LD_FRAMING_OCTET && !(f->blen == 0 && c == '<'))
		f->resync = true;
}

void ld_framer_feed(ld_framer *f, const char *data, size_t n, ld_frame_fn fn, void *ctx)
{
	size_t i = 0;
	while (i < n) {
		char c = data[i];
		switch (f->st) {
		case S_START:
			if (c == '\n' || c == '\r' || c == '\0' || c == ' ') {
				i++; /* stray delimiters between frames */
				break;
			}
			f->blen = 0;
			if (c >= '0' && c <= '9') {
				f->st = S_LEN;
				f->remaining = 0;
			} else {
				to_lf(f, c);
			}
			break;
		case S_LEN:
			if (c >= '0' && c <= '9' && f->blen < 9) {
				f->remaining = f->remaining * 10 + (size_t)(c - '0');
				f->buf[f->blen++] = c;
				i++;
			} else if (c == ' ' && f->remaining > 0 && f->remaining <= f->max) {
				f->buf[f->blen++] = c;
				f->st = S_LEN_SP;
				i++;
			} else {
				to_lf(f, c); /* reprocess c as message text */
			}
			break;
		case S_LEN_SP:
			if (c == '<') {
				f->mode = LD_FRAMING_OCTET;
				f->st = S_OCTET;
				f->blen = 0;
			} else {
				to_lf(f, c);
			}
			break;
		case S_OCTET: {
			size_t k = n - i < f->remaining ? n - i : f->remaining;
			memcpy(f->buf + f->blen, data + i, k);
			f->blen += k;
			f->remaining -= k;
			i += k;
			if (f->remaining == 0)
				deliver(f, fn, ctx, LD_FRAME_OK);
			break;
		}
		case S_LF: {
			if (f->resync) {
				if (resync_step(f, c))
					break; /* a new octet-counted frame starts: c is its '<' */
				i++;
				break;
			}
			size_t j = i;
			while (j < n && data[j] != '\n' && data[j] != '\0')
				j++;
			size_t k = j - i;
			if (f->blen + k > f->max) {
				size_t room = f->max - f->blen;
				memcpy(f->buf + f->blen, data + i, room);
				f->blen += room;
				if (!f->resync) {
					f->messages++;
					fn(ctx, f->buf, f->blen, LD_FRAME_TOO_LONG);
				}
				f->blen = 0;
				f->st = S_SKIP_MSG;
				i += room;
				break;
			}
			memcpy(f->buf + f->blen, data + i, k);
			f->blen += k;
			i = j;
			if (j < n) {
				i++; /* the delimiter */
				deliver(f, fn, ctx, LD_FRAME_OK);
			}
			break;
		}
		case S_SKIP_MSG: {
			size_t j = i;
			while (j < n && data[j] != '\n' && data[j] != '\0')
				j++;
			i = j;
			if (j < n) {
				i++;
				f->resync = false;
				f->blen = 0;
				f->last_mode = f->mode;
				f->mode = LD_FRAMING_UNKNOWN;
				f->st = S_START;
			}
			break;
		}
		}
	}
}

void ld_framer_finish(ld_framer *f, ld_frame_fn fn, void *ctx)
{
	switch (f->st) {
	case S_LF:
		deliver(f, fn, ctx, LD_FRAME_OK);
		break;
	case S_LEN:
	case S_LEN_SP:
		/* digits (and a space) at the very end: a tiny non-transparent message */
		f->mode = LD_FRAMING_LF;
		deliver(f, fn, ctx, LD_FRAME_OK);
		break;
	case S_OCTET:
		f->errors++; /* frame cut short */
		f->blen = 0;
		f->st = S_START;
		f->mode = LD_FRAMING_UNKNOWN;
		break;
	default:
		break;
	}
}
