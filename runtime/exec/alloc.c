/*
 * exec/alloc.c - first-fit placement of activation slots by liveness. The
 * slots are placed largest first (ties: earliest use, then index, so the
 * order is total and the result deterministic); each goes at the lowest
 * aligned offset where it overlaps no slot already placed whose lifetime
 * meets its own. What a slot holds is the graph's business.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "exec/alloc.h"

static uint64_t align_up(uint64_t v)
{
	return (v + TRIT_ALLOC_ALIGN - 1) & ~(TRIT_ALLOC_ALIGN - 1);
}

static int used(const struct trit_gslot *s)
{
	return s->bytes && s->first <= s->last;
}

static int live_together(const struct trit_gslot *a, const struct trit_gslot *b)
{
	return a->first <= b->last && b->first <= a->last;
}

uint64_t trit_alloc_sum(const struct trit_gslot *slots, uint32_t n)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < n; i++)
		if (used(&slots[i]))
			sum += align_up(slots[i].bytes);
	return sum;
}

/* A slot's sort key: largest first, then earliest use, then index. */
struct key {
	uint64_t bytes;
	int32_t first;
	uint32_t idx;
};

static int by_size(const void *pa, const void *pb)
{
	const struct key *x = pa, *y = pb;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A placed range, for the gap search. */
struct range {
	uint64_t lo, hi;
};

static int by_lo(const void *pa, const void *pb)
{
	const struct range *a = pa, *b = pb;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Lowest aligned offset for `bytes` that misses every range in r[0..n). */
static uint64_t first_fit(struct range *r, uint32_t n, uint64_t bytes)
{
	uint64_t at = 0;

	qsort(r, n, sizeof *r, by_lo);
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].lo >= at + bytes)
			break;
		if (r[i].hi > at)
			at = align_up(r[i].hi);
	}
	return at;
}

int trit_alloc_plan(const struct trit_gslot *slots, uint32_t n, uint64_t *offsets,
                    uint64_t *arena_bytes, char *err, size_t errlen)
{
	struct key *keys = malloc((n ? n : 1) * sizeof *keys);
	uint32_t *order = malloc((n ? n : 1) * sizeof *order), n_placed = 0;
	uint64_t *off = offsets ? offsets : malloc((n ? n : 1) * sizeof *off), top = 0;
	struct range *r = malloc((n ? n : 1) * sizeof *r);
	int rc = 0;

	if (!keys || !order || !off || !r) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory placing %u activations", n);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		keys[i] = (struct key){ slots[i].bytes, slots[i].first, i };
		off[i] = 0;
	}
	qsort(keys, n, sizeof *keys, by_size);
	for (uint32_t i = 0; i < n; i++)
		order[i] = keys[i].idx;
	for (uint32_t k = 0; k < n; k++) {
		const struct trit_gslot *s = &slots[order[k]];
		uint32_t nr = 0;
		if (!used(s))
			continue;
		for (uint32_t j = 0; j < n_placed; j++) {
			const struct trit_gslot *o = &slots[order[j]];
			if (used(o) && live_together(s, o))
				r[nr++] = (struct range){ off[order[j]], off[order[j]] + o->bytes };
		}
		off[order[k]] = first_fit(r, nr, s->bytes);
		if (off[order[k]] + s->bytes > top)
			top = off[order[k]] + s->bytes;
		/* keep `order` as the placed prefix: everything before k is placed */
		n_placed = k + 1;
	}
	*arena_bytes = align_up(top);
out:
	free(keys);
	free(order);
	free(r);
	if (off != offsets)
		free(off);
	return rc;
}

int trit_alloc_check(const struct trit_gslot *slots, uint32_t n, const uint64_t *offsets,
                     uint64_t arena_bytes, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < n; i++) {
		if (!used(&slots[i]))
			continue;
		if (offsets[i] % TRIT_ALLOC_ALIGN || offsets[i] > arena_bytes ||
		    slots[i].bytes > arena_bytes - offsets[i])
			return trit_errf(err, errlen, TRIT_EINTERNAL, "activation %u (%s): %llu bytes "
			                 "at %llu do not fit an arena of %llu aligned to %llu", i,
			                 slots[i].name, (unsigned long long)slots[i].bytes,
			                 (unsigned long long)offsets[i], (unsigned long long)arena_bytes,
			                 (unsigned long long)TRIT_ALLOC_ALIGN);
		for (uint32_t j = i + 1; j < n; j++)
			if (used(&slots[j]) && live_together(&slots[i], &slots[j]) &&
			    offsets[i] < offsets[j] + slots[j].bytes &&
			    offsets[j] < offsets[i] + slots[i].bytes)
				return trit_errf(err, errlen, TRIT_EINTERNAL, "activations %u (%s) and %u "
				                 "(%s) are live together and share bytes", i,
				                 slots[i].name, j, slots[j].name);
	}
	return 0;
}
