/*
 * load/load_place.c - put each planned tensor on its target:
 *   in place   a view of the mapping: the whole file wrapped once per target
 *              (buffer_from_host_ptr), else the tensor's own pages;
 *   copied     a buffer_alloc'd buffer filled chunk by chunk (memcpy into a
 *              host-visible buffer, else buffer_write from the mapping);
 *   repacked   converted by trit_ternary_packer a chunk of row tiles at a
 *              time straight into the final buffer (or through one staging
 *              chunk and buffer_write).
 * Pages of the mapping it read are given back as it goes, so the load's RSS
 * is what it allocated plus one chunk. Allocation failures come back as
 * TRIT_ENOMEM naming the target, the bytes needed and free.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "formats/ternary.h"
#include "load/load_place.h"

#define DEFAULT_CHUNK (UINT64_C(64) << 20)

void load_place_begin(struct load_place *pl, const struct trit_model *m,
                      const struct trit_load_spec *spec)
{
	memset(pl, 0, sizeof *pl);
	pl->m = m;
	pl->spec = spec;
	pl->chunk = spec && spec->staging_bytes ? spec->staging_bytes : DEFAULT_CHUNK;
	pl->rep.rss_before = trit_rss_now();
	pl->hwm_reset = trit_rss_reset_peak() == 0;
	pl->rss_max = pl->rep.rss_before;
	pl->t0 = trit_now();
	pl->prog.total_tensors = m ? (uint32_t)m->n_tensors : 0;
	for (size_t i = 0; m && i < m->n_tensors; i++)
		pl->prog.total_bytes += m->tensors[i].n_bytes;
}

static void sample(struct load_place *pl)
{
	uint64_t r = trit_rss_now();
	if (r > pl->rss_max)
		pl->rss_max = r;
}

static void progress(struct load_place *pl, const char *name, uint64_t done_bytes)
{
	sample(pl);
	if (!pl->spec->progress)
		return;
	pl->prog.tensor = name;
	pl->prog.done_bytes = done_bytes;
	pl->prog.seconds = trit_now() - pl->t0;
	pl->spec->progress(pl->spec->progress_ctx, &pl->prog);
}

static const char *tname(const struct trit_sched_target *t)
{
	return t->name ? t->name : "(unnamed target)";
}

/* The device's free memory, or UINT64_MAX when it cannot say. */
static uint64_t free_memory(const struct trit_sched_target *t)
{
	uint64_t fr = 0, tot = 0;
	char e[64];

	if (!t->be->get_memory || t->be->get_memory(t->state, t->device, &fr, &tot, e, sizeof e))
		return UINT64_MAX;
	return fr;
}

static int no_memory(const struct trit_sched_target *t, const char *what, uint64_t need,
                     const char *why, char *err, size_t errlen)
{
	uint64_t fr = free_memory(t);
	char frs[32];

	if (fr == UINT64_MAX)
		snprintf(frs, sizeof frs, "unknown");
	else
		snprintf(frs, sizeof frs, "%llu", (unsigned long long)fr);
	return trit_errf(err, errlen, TRIT_ENOMEM, "device %s cannot hold %s: %llu bytes needed, "
	                 "%s bytes free%s%s", tname(t), what, (unsigned long long)need, frs,
	                 why ? ": " : "", why ? why : "");
}

/* Whether tensor it may be a view of the mapping on its target. `sure`:
 * only when the device says it wraps host memory (the memory check counts
 * every other tensor: a GPU whose buffer_limits fails, as the adopted table's
 * does for a plugin without one, gets copies); otherwise also when it cannot
 * say, and the placement tries. */
static int may_view(const struct load_place *pl, const struct trit_weights *w,
                    const struct load_item *it, int sure)
{
	const struct trit_sched_target *t = &w->targets[it->target];
	struct trit_buffer_limits lim;
	char e[64];

	if (!pl->spec->allow_zero_copy || it->repack || !t->be->buffer_from_host_ptr)
		return 0;
	if (!t->be->buffer_limits)
		return !sure;
	memset(&lim, 0, sizeof lim);
	lim.struct_size = sizeof lim;
	if (t->be->buffer_limits(t->state, t->device, &lim, e, sizeof e) != 0)
		return !sure;
	return lim.from_host_ptr;
}

int load_place_check_memory(struct load_place *pl, struct trit_weights *w,
                            const struct load_item *items, char *err, size_t errlen)
{
	uint64_t *need = calloc(w->n_targets, sizeof *need);
	int rc = 0;

	if (!need)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	for (size_t i = 0; i < w->n; i++)
		if (!may_view(pl, w, &items[i], 1))
			need[items[i].target] += items[i].bytes;
	for (uint32_t t = 0; t < w->n_targets && !rc; t++)
		if (need[t] && free_memory(&w->targets[t]) < need[t])
			rc = no_memory(&w->targets[t], "the weights placed on it", need[t], NULL,
			               err, errlen);
	free(need);
	return rc;
}

static int keep(struct trit_weights *w, const struct trit_sched_target *t,
                struct trit_buffer *b, char *err, size_t errlen)
{
	if (w->n_bufs == w->cap_bufs) {
		size_t cap = w->cap_bufs ? 2 * w->cap_bufs : 64;
		struct load_buf *nb = realloc(w->bufs, cap * sizeof *nb);
		if (!nb) {
			if (t->be->buffer_free)
				t->be->buffer_free(t->state, b);
			return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
		}
		w->bufs = nb;
		w->cap_bufs = cap;
	}
	w->bufs[w->n_bufs].tgt = t;
	w->bufs[w->n_bufs++].b = b;
	return 0;
}

static int alloc_buf(struct trit_weights *w, const struct trit_sched_target *t,
                     const char *name, uint64_t bytes, struct trit_buffer **out,
                     char *err, size_t errlen)
{
	char e[256], what[320];
	int rc;

	*out = NULL;
	rc = t->be->buffer_alloc ? t->be->buffer_alloc(t->state, t->device, bytes, out, e, sizeof e)
	                         : trit_errf(e, sizeof e, TRIT_EUNSUPPORTED, "no buffer_alloc");
	if (rc == TRIT_ENOMEM) {
		snprintf(what, sizeof what, "tensor %s", name);
		return no_memory(t, what, bytes, e, err, errlen);
	}
	if (rc)
		return trit_errf(err, errlen, rc, "device %s: allocating %llu bytes for tensor %s "
		                 "failed: %s", tname(t), (unsigned long long)bytes, name, e);
	return keep(w, t, *out, err, errlen);
}

static void *host_ptr(const struct trit_sched_target *t, struct trit_buffer *b)
{
	return t->be->buffer_host_ptr ? t->be->buffer_host_ptr(t->state, b) : NULL;
}

/* A view of the mapping: the whole file once per target, else the pages of
 * the tensor. 0 when placed, 1 when the target would not wrap it. */
static int place_view(struct load_place *pl, struct trit_weights *w, size_t i,
                      const struct load_item *it, char *err, size_t errlen)
{
	const struct trit_model_tensor *mt = w->w[i].mt;
	const struct trit_sched_target *t = &w->targets[it->target];
	const struct load_map *map = &w->maps[mt->file];
	size_t k = (size_t)mt->file * w->n_targets + it->target;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), base;
	struct trit_buffer *b = NULL;
	char e[256];

	if (!pl->wrap_tried[k]) {
		pl->wrap_tried[k] = 1;
		if (t->be->buffer_from_host_ptr(t->state, t->device, map->base, map->size, &b, e,
		                                sizeof e) == 0) {
			if (keep(w, t, b, err, errlen))
				return TRIT_ENOMEM;
			pl->wraps[k] = b;
		}
	}
	w->w[i].t = it->t;
	if (pl->wraps[k]) {
		w->w[i].t.buffer = pl->wraps[k];
		w->w[i].t.offset = mt->offset;
		return 0;
	}
	base = mt->offset / page * page;
	if (t->be->buffer_from_host_ptr(t->state, t->device, map->base + base,
	                                mt->offset + mt->n_bytes - base, &b, e, sizeof e) != 0)
		return 1;
	if (keep(w, t, b, err, errlen))
		return TRIT_ENOMEM;
	w->w[i].t.buffer = b;
	w->w[i].t.offset = mt->offset - base;
	return 0;
}

static int staging(struct load_place *pl, uint64_t bytes, char *err, size_t errlen)
{
	if (pl->staging_size >= bytes)
		return 0;
	free(pl->staging);
	pl->staging_size = 0;
	if (!(pl->staging = malloc((size_t)bytes)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for a %llu-byte staging "
		                 "buffer", (unsigned long long)bytes);
	pl->staging_size = bytes;
	if (bytes > pl->rep.staging_peak)
		pl->rep.staging_peak = bytes;
	return 0;
}

/* Write bytes at off of b: into host memory, or by buffer_write. */
static int put(const struct trit_sched_target *t, struct trit_buffer *b, unsigned char *host,
               uint64_t off, const void *src, uint64_t n, const char *name,
               char *err, size_t errlen)
{
	char e[256];
	int rc;

	if (host) {
		memcpy(host + off, src, (size_t)n);
		return 0;
	}
	rc = t->be->buffer_write ? t->be->buffer_write(t->state, b, off, src, n, e, sizeof e)
	                         : trit_errf(e, sizeof e, TRIT_EUNSUPPORTED, "no buffer_write");
	return rc ? trit_errf(err, errlen, rc, "device %s: writing bytes %llu..%llu of tensor %s "
	                      "failed: %s", tname(t), (unsigned long long)off,
	                      (unsigned long long)(off + n), name, e) : 0;
}

static int place_copy(struct load_place *pl, struct trit_weights *w, size_t i,
                      const struct load_item *it, uint64_t done, char *err, size_t errlen)
{
	const struct trit_model_tensor *mt = w->w[i].mt;
	const struct trit_sched_target *t = &w->targets[it->target];
	const unsigned char *src = w->maps[mt->file].base + mt->offset;
	struct trit_buffer *b;
	unsigned char *host;
	int rc;

	if ((rc = alloc_buf(w, t, mt->name, mt->n_bytes, &b, err, errlen)))
		return rc;
	host = host_ptr(t, b);
	for (uint64_t off = 0; off < mt->n_bytes; off += pl->chunk) {
		uint64_t n = mt->n_bytes - off < pl->chunk ? mt->n_bytes - off : pl->chunk;
		if ((rc = put(t, b, host, off, src + off, n, mt->name, err, errlen)))
			return rc;
		load_drop_pages(&w->maps[mt->file], src + off, n);
		if (off + n < mt->n_bytes)
			progress(pl, mt->name, done + off + n);
	}
	w->w[i].t = it->t;
	w->w[i].t.buffer = b;
	w->w[i].t.offset = 0;
	pl->rep.bytes_allocated += mt->n_bytes;
	return 0;
}

/* Pack rows [r0, r1) of p into b at its data offset. */
static int pack_chunk(struct load_place *pl, struct trit_ternary_packer *p,
                      const struct trit_sched_target *t, struct trit_buffer *b,
                      unsigned char *host, uint64_t r0, uint64_t r1, const char *name,
                      char *err, size_t errlen)
{
	uint64_t tr = trit_ternary_packer_tile_rows(p), tb = trit_ternary_packer_tile_bytes(p);
	uint64_t off = r0 / tr * tb, n = (r1 - r0 + tr - 1) / tr * tb;
	int rc;

	if (host)
		return trit_ternary_packer_rows(p, r0, r1, host + off, n, err, errlen);
	if ((rc = staging(pl, n, err, errlen)) ||
	    (rc = trit_ternary_packer_rows(p, r0, r1, pl->staging, n, err, errlen)))
		return rc;
	return put(t, b, NULL, off, pl->staging, n, name, err, errlen);
}

static int repack_rows(struct load_place *pl, struct trit_ternary_packer *p,
                       const struct trit_sched_target *t, struct trit_buffer *b,
                       const struct trit_model_tensor *mt, const struct load_map *map,
                       uint64_t done, char *err, size_t errlen)
{
	const struct trit_ternary_geometry *g = trit_ternary_packer_geometry(p);
	uint64_t tr = trit_ternary_packer_tile_rows(p), tb = trit_ternary_packer_tile_bytes(p);
	uint64_t step = (pl->chunk / tb ? pl->chunk / tb : 1) * tr, rows = mt->ne[1], seen0 = 0;
	unsigned char *host = host_ptr(t, b), trailer[TRIT_TERNARY_TRAILER_BYTES];
	const unsigned char *src = map->base + mt->offset;
	int rc;

	/* into a host-visible buffer the packer writes in place: what it holds
	 * besides the source pages is its one tile */
	if (host && tb > pl->rep.staging_peak)
		pl->rep.staging_peak = tb;
	for (uint64_t r0 = 0; r0 < g->rows_pad; r0 += step) {
		uint64_t r1 = g->rows_pad - r0 < step ? g->rows_pad : r0 + step;
		uint64_t seen = (r1 < rows ? r1 : rows) * (mt->n_bytes / rows);
		if ((rc = pack_chunk(pl, p, t, b, host, r0, r1, mt->name, err, errlen)))
			return rc;
		if (seen > seen0) /* the source rows this chunk read */
			load_drop_pages(map, src + seen0, seen - seen0);
		seen0 = seen;
		if (r1 < g->rows_pad)
			progress(pl, mt->name, done + seen);
	}
	trit_ternary_packer_trailer(p, trailer);
	return put(t, b, host, g->data_bytes, trailer, sizeof trailer, mt->name, err, errlen);
}

static int place_repack(struct load_place *pl, struct trit_weights *w, size_t i,
                        const struct load_item *it, uint64_t done, char *err, size_t errlen)
{
	const struct trit_model_tensor *mt = w->w[i].mt;
	const struct trit_sched_target *t = &w->targets[it->target];
	const unsigned char *src = w->maps[mt->file].base + mt->offset;
	struct trit_ternary_packer *p;
	struct trit_buffer *b;
	char e[256];
	int rc;

	rc = trit_ternary_packer_open(&p, it->type, it->src_type, src, mt->n_bytes, mt->ne[1],
	                              mt->ne[0], e, sizeof e);
	load_drop_pages(&w->maps[mt->file], src, mt->n_bytes); /* open() read all of it */
	if (rc)
		return trit_errf(err, errlen, rc, "tensor %s (file offset %llu): %s", mt->name,
		                 (unsigned long long)mt->offset, e);
	rc = alloc_buf(w, t, mt->name, it->bytes, &b, err, errlen);
	if (!rc)
		rc = repack_rows(pl, p, t, b, mt, &w->maps[mt->file], done, err, errlen);
	trit_ternary_packer_free(p);
	load_drop_pages(&w->maps[mt->file], src, mt->n_bytes);
	if (rc)
		return rc;
	w->w[i].t = it->t;
	w->w[i].t.buffer = b;
	w->w[i].t.offset = 0;
	pl->rep.bytes_allocated += it->bytes;
	return 0;
}

static void count(struct load_place *pl, struct trit_weights *w, size_t i,
                  const struct load_item *it, uint8_t how)
{
	w->w[i].how = how;
	w->target_bytes[it->target] += it->bytes;
	if (how == TRIT_LOADED_IN_PLACE) {
		pl->rep.n_in_place++;
		pl->rep.bytes_in_place += it->bytes;
	} else if (how == TRIT_LOADED_COPIED) {
		pl->rep.n_copied++;
		pl->rep.bytes_copied += it->bytes;
	} else {
		pl->rep.n_repacked++;
		pl->rep.bytes_repacked += it->bytes;
	}
}

int load_place_all(struct load_place *pl, struct trit_weights *w, const struct load_item *items,
                   char *err, size_t errlen)
{
	size_t nw = (size_t)w->n_maps * w->n_targets;
	uint64_t done = 0;
	int rc = 0;

	pl->wraps = calloc(nw ? nw : 1, sizeof *pl->wraps);
	pl->wrap_tried = calloc(nw ? nw : 1, 1);
	if (!pl->wraps || !pl->wrap_tried)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	for (size_t i = 0; i < w->n && !rc; i++) {
		const struct load_item *it = &items[i];
		uint8_t how = it->repack ? TRIT_LOADED_REPACKED : TRIT_LOADED_IN_PLACE;
		if (it->repack)
			rc = place_repack(pl, w, i, it, done, err, errlen);
		else if (!may_view(pl, w, it, 0) || (rc = place_view(pl, w, i, it, err, errlen)) == 1) {
			how = TRIT_LOADED_COPIED;
			rc = place_copy(pl, w, i, it, done, err, errlen);
		}
		if (rc)
			break;
		count(pl, w, i, it, how);
		done += w->w[i].mt->n_bytes;
		pl->prog.done_tensors = (uint32_t)(i + 1);
		progress(pl, w->w[i].mt->name, done);
	}
	return rc;
}

void load_place_end(struct load_place *pl, struct trit_weights *w, struct trit_load_report *rep)
{
	uint64_t hwm;

	free(pl->staging);
	free(pl->wraps);
	free(pl->wrap_tried);
	pl->staging = NULL;
	pl->wraps = NULL;
	pl->wrap_tried = NULL;
	if (!rep || !w)
		return;
	sample(pl);
	hwm = pl->hwm_reset ? trit_rss_peak() : 0;
	*rep = pl->rep;
	rep->rss_peak = hwm > pl->rss_max ? hwm : pl->rss_max;
	rep->peak_source = pl->hwm_reset ? TRIT_LOAD_PEAK_HWM : TRIT_LOAD_PEAK_SAMPLED;
	rep->rss_after = trit_rss_now();
	rep->model_bytes = pl->prog.total_bytes;
	rep->n_tensors = (uint32_t)w->n;   /* the head's copy of tied embeddings included */
	rep->target_bytes = w->target_bytes;
	rep->n_targets = w->n_targets;
	rep->seconds = trit_now() - pl->t0;
}
