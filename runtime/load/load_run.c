/*
 * load/load_run.c - trit_load() (load/load.h): plan every tensor
 * (load_plan.c), map the files and check every extent (load_map.c), check
 * each target has the memory, scan norms and scales, then place each
 * tensor in place, copied or repacked (load_place.c), reporting progress
 * and what it cost. Also the weights handle: lookup by name, and freeing
 * every buffer and mapping.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "graph/graph.h"
#include "load/load_int.h"
#include "load/load_place.h"

static int by_name_cmp(const void *a, const void *b, const struct trit_weights *w)
{
	return strcmp(w->w[*(const size_t *)a].mt->name, w->w[*(const size_t *)b].mt->name);
}

/* qsort() passes no context in C11, so the index is merge-sorted here. */
static void sort_names(struct trit_weights *w, size_t *a, size_t *tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	sort_names(w, a, tmp, h);
	sort_names(w, a + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = by_name_cmp(&a[j], &a[i], w) < 0 ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof *a);
}

const struct trit_weight *trit_weights_find(const struct trit_weights *w, const char *name)
{
	size_t lo = 0, hi;

	if (!w || !name || !w->by_name)
		return NULL;
	hi = w->n_named;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, w->w[w->by_name[mid]].mt->name);
		if (c == 0)
			return &w->w[w->by_name[mid]];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t trit_weights_count(const struct trit_weights *w)
{
	return w ? w->n_named : 0;
}

const struct trit_weight *trit_weights_at(const struct trit_weights *w, size_t i)
{
	return w && i < w->n_named ? &w->w[i] : NULL;
}

const struct trit_weight *trit_weights_head_copy(const struct trit_weights *w)
{
	return w && w->n > w->n_named ? &w->w[w->n_named] : NULL;
}

const void *trit_weights_mapping(const struct trit_weights *w, uint32_t file, uint64_t *size)
{
	if (!w || file >= w->n_maps) {
		if (size)
			*size = 0;
		return NULL;
	}
	if (size)
		*size = w->maps[file].size;
	return w->maps[file].base;
}

void trit_weights_free(struct trit_weights *w)
{
	if (!w)
		return;
	for (size_t i = w->n_bufs; i-- > 0;) {
		const struct trit_backend *be = w->bufs[i].tgt->be;
		if (be->buffer_free)
			be->buffer_free(w->bufs[i].tgt->state, w->bufs[i].b);
	}
	load_unmap_files(w->maps, w->n_maps);
	free(w->bufs);
	free(w->w);
	free(w->by_name);
	free(w->targets);
	free(w->target_bytes);
	free(w);
}

static int check_spec(const struct trit_model *m, const struct trit_load_spec *spec,
                      char *err, size_t errlen)
{
	if (!m || !spec || !spec->targets || !spec->n_targets)
		return trit_errf(err, errlen, TRIT_EINVAL, "trit_load needs a model and a placement "
		                 "with at least one target");
	for (uint32_t t = 0; t < spec->n_targets; t++)
		if (!spec->targets[t].t.be)
			return trit_errf(err, errlen, TRIT_EINVAL, "load target %u has no backend", t);
	if (m->hp.n_layer && !spec->layer_target)
		return trit_errf(err, errlen, TRIT_EINVAL, "the placement names no target for the "
		                 "model's %u layers", m->hp.n_layer);
	return 0;
}

/* The index of the token embeddings when the head multiplies by them on
 * another target than theirs (so a copy goes there), else -1. */
static long head_copy_of(const struct trit_model *m, const struct trit_load_spec *spec)
{
	long embd = -1;
	int has_output = 0;

	for (size_t i = 0; i < m->n_tensors; i++) {
		if (m->tensors[i].role == TRIT_ROLE_TOKEN_EMBD && m->tensors[i].layer < 0)
			embd = (long)i;
		has_output |= m->tensors[i].role == TRIT_ROLE_OUTPUT;
	}
	if (embd < 0 || spec->output_target == spec->embd_target ||
	    !trit_graph_head_is_tied(&m->hp, has_output))
		return -1;
	return embd;
}

static int new_weights(const struct trit_model *m, const struct trit_load_spec *spec,
                       struct trit_weights **out, char *err, size_t errlen)
{
	struct trit_weights *w = calloc(1, sizeof *w);
	size_t n = m->n_tensors + 1;

	*out = w;
	if (!w)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	w->n = w->n_named = m->n_tensors;
	w->n_targets = spec->n_targets;
	w->w = calloc(n, sizeof *w->w);
	w->by_name = calloc(n, sizeof *w->by_name);
	w->targets = calloc(spec->n_targets, sizeof *w->targets);
	w->target_bytes = calloc(spec->n_targets, sizeof *w->target_bytes);
	if (!w->w || !w->by_name || !w->targets || !w->target_bytes)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	for (uint32_t t = 0; t < spec->n_targets; t++)
		w->targets[t] = spec->targets[t].t;
	return 0;
}

static int index_names(struct trit_weights *w, char *err, size_t errlen)
{
	size_t *tmp = calloc(w->n ? w->n : 1, sizeof *tmp);

	if (!tmp)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	for (size_t i = 0; i < w->n_named; i++)
		w->by_name[i] = i;
	sort_names(w, w->by_name, tmp, w->n_named);
	free(tmp);
	return 0;
}

/* Plan every tensor, then scan the values that must be finite. */
static int plan_all(const struct trit_model *m, const struct trit_load_spec *spec,
                    struct trit_weights *w, struct load_item *items, char *err, size_t errlen)
{
	long head;
	int rc;

	for (size_t i = 0; i < m->n_tensors; i++) {
		if ((rc = load_plan_tensor(m, i, spec, &items[i], err, errlen)))
			return rc;
		w->w[i].mt = &m->tensors[i];
		w->w[i].target = items[i].target;
	}
	if ((head = head_copy_of(m, spec)) >= 0) {
		size_t k = m->n_tensors;
		if ((rc = load_plan_head_copy(m, (size_t)head, spec, &items[k], err, errlen)))
			return rc;
		w->w[k].mt = &m->tensors[head];
		w->w[k].target = items[k].target;
		w->n = k + 1;
	}
	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_model_tensor *mt = &m->tensors[i];
		const unsigned char *p = w->maps[mt->file].base + mt->offset;
		if (items[i].check == LOAD_CHECK_NONE)
			continue;
		rc = load_check_values(mt, &items[i], p, err, errlen);
		load_drop_pages(&w->maps[mt->file], p, mt->n_bytes);
		if (rc)
			return rc;
	}
	return 0;
}

/* The bytes of the loader's own tables, as allocated: the weights' entries
 * and name index, the per-tensor plan, the per-target and per-file records,
 * the whole-file views' table (freed at the end, but held at the peak). */
static uint64_t bookkeeping(const struct trit_model *m, const struct trit_weights *w,
                            const struct load_item *items)
{
	uint64_t n = m->n_tensors + 1, nw = (uint64_t)w->n_maps * w->n_targets;

	return sizeof *w + n * (sizeof *w->w + sizeof *w->by_name + sizeof(size_t) + sizeof *items) +
	       (uint64_t)w->n_targets * (sizeof *w->targets + sizeof *w->target_bytes +
	                                 sizeof(uint64_t)) +
	       (uint64_t)(m->n_files ? m->n_files : 1) * sizeof *w->maps +
	       (nw ? nw : 1) * (sizeof(struct trit_buffer *) + 1);
}

int trit_load(const struct trit_model *m, const struct trit_load_spec *spec,
              struct trit_weights **out, struct trit_load_report *rep, char *err, size_t errlen)
{
	struct trit_weights *w = NULL;
	struct load_item *items = NULL;
	struct load_place pl;
	int rc;

	if (out)
		*out = NULL;
	if (rep)
		memset(rep, 0, sizeof *rep);
	if (!out)
		return trit_errf(err, errlen, TRIT_EINVAL, "trit_load needs somewhere to put the weights");
	if ((rc = check_spec(m, spec, err, errlen)))
		return rc;
	load_place_begin(&pl, m, spec);
	if ((rc = new_weights(m, spec, &w, err, errlen)))
		goto fail;
	if (!(items = calloc(m->n_tensors + 1, sizeof *items))) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = load_map_files(m, &w->maps, err, errlen)))
		goto fail;
	w->n_maps = m->n_files;
	if ((rc = plan_all(m, spec, w, items, err, errlen)))
		goto fail;
	if (w->n > w->n_named) {       /* the head's copy of the tied embeddings */
		pl.prog.total_tensors++;
		pl.prog.total_bytes += w->w[w->n_named].mt->n_bytes;
	}
	if ((rc = index_names(w, err, errlen)) ||
	    (rc = load_place_check_memory(&pl, w, items, err, errlen)) ||
	    (rc = load_place_all(&pl, w, items, err, errlen)))
		goto fail;
	load_place_end(&pl, w, rep);
	if (rep)
		rep->bookkeeping_bytes = bookkeeping(m, w, items);
	free(items);
	*out = w;
	return 0;
fail:
	load_place_end(&pl, NULL, NULL);
	free(items);
	trit_weights_free(w);
	return rc;
}
