/*
 * exec/kvcache.c - size and allocate the KV cache and describe each layer's
 * K and V as ABI tensors. Writing and reading them is the graph's job
 * (KV_WRITE, ATTENTION), on whatever backend runs those nodes.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/common.h"
#include "exec/kvcache.h"

#define KV_ALIGN UINT64_C(64)

int trit_kvcache_type(const char *name, uint32_t *type, char *err, size_t errlen)
{
	if (!strcasecmp(name, "f16"))
		*type = TRIT_TYPE_F16;
	else if (!strcasecmp(name, "f32"))
		*type = TRIT_TYPE_F32;
	else if (!strcasecmp(name, "q8_0"))
		*type = TRIT_TYPE_Q8_0;
	else
		return trit_errf(err, errlen, TRIT_EINVAL, "KV cache type '%s': expected f16, f32 "
		                 "or q8_0", name);
	return 0;
}

/* Bytes of one position's row of D elements, 0 when D does not suit. */
static uint64_t row_bytes(uint32_t type, uint64_t D)
{
	const struct trit_type_traits *tt = trit_type_traits(type);

	if (type != TRIT_TYPE_F16 && type != TRIT_TYPE_F32 && type != TRIT_TYPE_Q8_0)
		return 0;
	if (!D || D % tt->block_elems)
		return 0;
	return D / tt->block_elems * tt->block_bytes;
}

static int geometry(const struct trit_hparams *hp, uint32_t il, uint32_t n_ctx, uint32_t type,
                    uint64_t *one, char *err, size_t errlen)
{
	uint64_t row = row_bytes(type, hp->head_dim_k);

	if (il >= hp->n_layer || !n_ctx || !hp->n_head_kv[il])
		return trit_errf(err, errlen, TRIT_EINVAL, "KV cache of layer %u with %u positions "
		                 "and %u KV heads", il, n_ctx, il < hp->n_layer ? hp->n_head_kv[il] : 0);
	if (!row)
		return trit_errf(err, errlen, TRIT_EINVAL, "a %s KV cache needs a head size that is "
		                 "a multiple of %u; this model's is %u",
		                 trit_type_traits(type) ? trit_type_traits(type)->name : "(unknown)",
		                 trit_type_traits(type) ? trit_type_traits(type)->block_elems : 1,
		                 hp->head_dim_k);
	*one = row * hp->n_head_kv[il] * n_ctx;
	return 0;
}

int trit_kvcache_layer_bytes(const struct trit_hparams *hp, uint32_t il, uint32_t n_ctx,
                             uint32_t type, uint64_t *bytes, char *err, size_t errlen)
{
	uint64_t one;
	int rc = geometry(hp, il, n_ctx, type, &one, err, errlen);

	if (!rc)
		*bytes = ((one + KV_ALIGN - 1) & ~(KV_ALIGN - 1)) + one;
	return rc;
}

int trit_kvcache_bytes(const struct trit_hparams *hp, uint32_t n_ctx, uint32_t type,
                       uint64_t *bytes, char *err, size_t errlen)
{
	uint64_t sum = 0, b;
	int rc;

	for (uint32_t il = 0; il < hp->n_layer; il++) {
		if ((rc = trit_kvcache_layer_bytes(hp, il, n_ctx, type, &b, err, errlen)))
			return rc;
		sum += b;
	}
	*bytes = sum;
	return 0;
}

static struct trit_tensor cache_tensor(const struct trit_hparams *hp, uint32_t il,
                                       uint32_t n_ctx, uint32_t type, struct trit_buffer *buf,
                                       uint64_t offset)
{
	struct trit_tensor t = { .type = type, .buffer = buf, .offset = offset };

	t.ne[0] = hp->head_dim_k, t.ne[1] = hp->n_head_kv[il], t.ne[2] = n_ctx, t.ne[3] = 1;
	t.nb[0] = trit_type_traits(type)->block_bytes;
	t.nb[1] = row_bytes(type, hp->head_dim_k);
	t.nb[2] = t.nb[1] * t.ne[1];
	t.nb[3] = t.nb[2] * t.ne[2];
	return t;
}

void trit_kvcache_free(struct trit_kvcache *kv)
{
	if (!kv)
		return;
	for (uint32_t il = 0; kv->bufs && il < kv->n_layer; il++)
		if (kv->bufs[il]) {
			const struct trit_sched_target *t = &kv->targets[kv->layer_target[il]];
			t->be->buffer_free(t->state, kv->bufs[il]);
		}
	free(kv->k);
	free(kv->v);
	free(kv->bufs);
	free(kv->layer_target);
	free(kv->target_bytes);
	free(kv);
}

static int alloc_layer(struct trit_kvcache *kv, const struct trit_hparams *hp, uint32_t il,
                       char *err, size_t errlen)
{
	const struct trit_sched_target *t = &kv->targets[kv->layer_target[il]];
	uint64_t one, bytes;
	char why[512] = "";
	int rc = geometry(hp, il, kv->n_ctx, kv->type, &one, err, errlen);

	if (rc)
		return rc;
	bytes = ((one + KV_ALIGN - 1) & ~(KV_ALIGN - 1)) + one;
	if ((rc = t->be->buffer_alloc(t->state, t->device, bytes, &kv->bufs[il], why, sizeof why)))
		return trit_errf(err, errlen, rc, "KV cache of layer %u: %s cannot allocate %llu "
		                 "bytes: %s", il, t->name, (unsigned long long)bytes, why);
	if ((rc = trit_sched_zero(t, kv->bufs[il], bytes, why, sizeof why)))
		return trit_errf(err, errlen, rc, "KV cache of layer %u: %s cannot clear it: %s", il,
		                 t->name, why);
	kv->k[il] = cache_tensor(hp, il, kv->n_ctx, kv->type, kv->bufs[il], 0);
	kv->v[il] = cache_tensor(hp, il, kv->n_ctx, kv->type, kv->bufs[il], bytes - one);
	kv->bytes += bytes;
	kv->target_bytes[kv->layer_target[il]] += bytes;
	return 0;
}

int trit_kvcache_new(const struct trit_hparams *hp, uint32_t n_ctx, uint32_t type,
                     const struct trit_sched_target *targets, uint32_t n_targets,
                     const uint32_t *layer_target, struct trit_kvcache **out, char *err,
                     size_t errlen)
{
	struct trit_kvcache *kv = calloc(1, sizeof *kv);
	uint32_t n = hp->n_layer;
	int rc = 0;

	*out = NULL;
	if (!n_targets || !n) {
		free(kv);
		return trit_errf(err, errlen, TRIT_EINVAL, "KV cache: no target or no layer");
	}
	if (!kv)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory describing the KV cache");
	kv->n_layer = n, kv->n_ctx = n_ctx, kv->type = type;
	kv->targets = targets, kv->n_targets = n_targets;
	kv->k = calloc(n, sizeof *kv->k);
	kv->v = calloc(n, sizeof *kv->v);
	kv->bufs = calloc(n, sizeof *kv->bufs);
	kv->layer_target = calloc(n, sizeof *kv->layer_target);
	kv->target_bytes = calloc(n_targets, sizeof *kv->target_bytes);
	if (!kv->k || !kv->v || !kv->bufs || !kv->layer_target || !kv->target_bytes)
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory describing the KV cache");
	for (uint32_t il = 0; il < n && !rc; il++) {
		kv->layer_target[il] = layer_target ? layer_target[il] : 0;
		if (kv->layer_target[il] >= n_targets)
			rc = trit_errf(err, errlen, TRIT_EINVAL, "layer %u is placed on target %u of %u",
			               il, kv->layer_target[il], n_targets);
		else
			rc = alloc_layer(kv, hp, il, err, errlen);
	}
	if (rc) {
		trit_kvcache_free(kv);
		return rc;
	}
	*out = kv;
	return 0;
}
