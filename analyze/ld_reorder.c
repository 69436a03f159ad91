/* ld_reorder.c — a binary min-heap of events in the batch driver's order. */
#include "ld_reorder.h"

#include <stdlib.h>
#include <string.h>

#include "ld_batch.h"
#include "ld_time.h"

struct ld_reorder {
	ld_engine *e;
	int64_t window;
	ld_event *heap;
	size_t n, cap;
	int64_t newest, fed_up_to;
	bool any_fed;
	uint64_t late;
};

ld_reorder *ld_reorder_new(ld_engine *e, int64_t window_ns, size_t max_events)
{
	ld_reorder *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->e = e;
	r->window = window_ns < 0 ? 0 : window_ns;
	r->cap = max_events ? max_events : 1;
	r->heap = malloc(r->cap * sizeof *r->heap);
	if (!r->heap) {
		free(r);
		return NULL;
	}
	r->newest = INT64_MIN;
	return r;
}

void ld_reorder_free(ld_reorder *r)
{
	if (!r)
		return;
	free(r->heap);
	free(r);
}

static bool less(const ld_event *a, const ld_event *b)
{
	return ld_event_cmp(a, b) < 0;
}

static void sift_up(ld_event *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!less(&h[i], &h[p]))
			break;
		ld_event t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

static void sift_down(ld_event *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && less(&h[l], &h[m]))
			m = l;
		if (l + 1 < n && less(&h[l + 1], &h[m]))
			m = l + 1;
		if (m == i)
			return;
		ld_event t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void pop_feed(ld_reorder *r)
{
	ld_event ev = r->heap[0];
	r->heap[0] = r->heap[--r->n];
	sift_down(r->heap, r->n, 0);
	r->fed_up_to = ev.ts_ns;
	r->any_fed = true;
	ld_engine_feed_event(r->e, &ev);
}

static void drain(ld_reorder *r, int64_t before)
{
	while (r->n && r->heap[0].ts_ns < before)
		pop_feed(r);
}

void ld_reorder_push_event(ld_reorder *r, const ld_event *ev)
{
	if (r->any_fed && ev->ts_ns < r->fed_up_to) {
		r->late++;
		ld_engine_feed_event(r->e, ev);
		return;
	}
	if (r->n == r->cap)
		pop_feed(r);
	r->heap[r->n] = *ev;
	sift_up(r->heap, r->n++);
	if (ev->ts_ns > r->newest)
		r->newest = ev->ts_ns;
	if (r->newest - r->window > INT64_MIN)
		drain(r, r->newest - r->window);
}

void ld_reorder_push(ld_reorder *r, const ld_record *rec)
{
	ld_event ev;
	ld_event_from_record(&ev, rec);
	ld_reorder_push_event(r, &ev);
}

void ld_reorder_advance(ld_reorder *r, int64_t ts)
{
	if (ts > r->newest)
		r->newest = ts;
	if (r->newest - r->window > INT64_MIN)
		drain(r, r->newest - r->window);
}

void ld_reorder_flush(ld_reorder *r)
{
	while (r->n)
		pop_feed(r);
}

size_t ld_reorder_held(const ld_reorder *r)
{
	return r->n;
}

uint64_t ld_reorder_late(const ld_reorder *r)
{
	return r->late;
}
