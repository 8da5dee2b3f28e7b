/*
 * load/load_plan.c - decide, for each tensor and before any byte of it is
 * read, where it goes (the spec's target for its layer), which trit type
 * its bytes are as stored and as placed (repacking ternary matrices into
 * the target's ternary_type), its geometry as backend.h defines it, that the
 * target's kernels take it (supports_op on a node that uses it) and which
 * of its values must be scanned for finiteness.
 */
#include <build-config.h>

#include <string.h>

#include <trit/ternary.h>
#include <trit/types.h>

#include "core/common.h"
#include "formats/ternary.h"
#include "load/load_int.h"
#include "model/names.h"
#include "plan/estimate.h"

static const char *type_label(uint32_t type)
{
	const struct trit_type_traits *tr;

	if (type == TRIT_TERNARY_SRC_I2S_BITNET)
		return "I2_S (bitnet.cpp layout)";
	tr = trit_type_traits(type);
	return tr ? tr->name : "an unknown type";
}

/* The target of a tensor: its layer's, else embeddings' or output's. */
static int pick_target(const struct trit_model *m, const struct trit_model_tensor *mt,
                       const struct trit_load_spec *spec, uint32_t *out, char *err, size_t errlen)
{
	uint32_t t;

	if (mt->layer >= 0) {
		if ((uint32_t)mt->layer >= m->hp.n_layer || !spec->layer_target)
			return trit_errf(err, errlen, TRIT_EINVAL, "tensor %s is in layer %d but the "
			                 "placement names targets for %u layers", mt->name, (int)mt->layer,
			                 spec->layer_target ? m->hp.n_layer : 0);
		t = spec->layer_target[mt->layer];
	} else if (mt->role == TRIT_ROLE_OUTPUT || mt->role == TRIT_ROLE_OUTPUT_NORM) {
		t = spec->output_target;
	} else {
		t = spec->embd_target;
	}
	if (t >= spec->n_targets)
		return trit_errf(err, errlen, TRIT_EINVAL, "tensor %s is placed on target %u but the "
		                 "placement has %u targets", mt->name, t, spec->n_targets);
	*out = t;
	return 0;
}

/* The trit type of the file's bytes, or -1 when none describes them. */
static int stored_type(const struct trit_model_tensor *mt)
{
	static const struct {
		const char *name;
		uint32_t type;
	} map[] = {
		{ "F32", TRIT_TYPE_F32 }, { "F16", TRIT_TYPE_F16 }, { "BF16", TRIT_TYPE_BF16 },
		{ "I8", TRIT_TYPE_I8 }, { "I32", TRIT_TYPE_I32 }, { "Q8_0", TRIT_TYPE_Q8_0 },
		{ "TQ1_0", TRIT_TYPE_TQ1_0 }, { "TQ2_0", TRIT_TYPE_TQ2_0 },
	};

	if (mt->ggml_type >= 0 && strcmp(mt->type_name, "I2_S") == 0) {
		/* bitnet.cpp flattens the whole tensor into 128-weight blocks:
		 * trit's I2_S exactly when every row is whole blocks */
		if (mt->n_dims == 2 && mt->ne[0] % TRIT_I2S_BLOCK_COLS == 0)
			return TRIT_TYPE_I2_S;
		return (int)TRIT_TERNARY_SRC_I2S_BITNET;
	}
	for (size_t i = 0; i < TRIT_ARRAY_LEN(map); i++)
		if (strcmp(map[i].name, mt->type_name) == 0)
			return (int)map[i].type;
	return -1;
}

/* ne and nb of a tensor of `type` as backend.h lays them out; bytes its
 * data spans. TRIT_EFORMAT when the shape does not suit the type. */
int trit_load_geometry(const struct trit_model_tensor *mt, uint32_t type, struct trit_tensor *t,
                       uint64_t *bytes, char *err, size_t errlen)
{
	const struct trit_type_traits *tr = trit_type_traits(type);
	uint64_t row;

	memset(t, 0, sizeof *t);
	t->type = type;
	for (uint32_t d = 0; d < TRIT_MAX_DIMS; d++)
		t->ne[d] = d < mt->n_dims ? mt->ne[d] : 1;
	for (uint32_t d = TRIT_MAX_DIMS; d < mt->n_dims; d++)
		if (mt->ne[d] != 1)
			return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "tensor %s has %u dimensions; "
			                 "trit's tensors have at most %u", mt->name, mt->n_dims, TRIT_MAX_DIMS);
	if (type == TRIT_TYPE_I2_S || type == TRIT_TYPE_TL1 || type == TRIT_TYPE_TL2) {
		if (t->ne[2] != 1 || t->ne[3] != 1 ||
		    !(*bytes = trit_ternary_bytes(type, t->ne[1], t->ne[0])))
			return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "tensor %s: %s holds one matrix; "
			                 "shape [%llu, %llu, %llu, %llu] is not one", mt->name, tr->name,
			                 (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
			                 (unsigned long long)t->ne[2], (unsigned long long)t->ne[3]);
		if (type == TRIT_TYPE_I2_S) {
			t->nb[0] = tr->block_bytes;
			t->nb[1] = trit_round_up_u64(t->ne[0], TRIT_I2S_BLOCK_COLS) / 4;
			t->nb[2] = t->nb[3] = t->nb[1] * t->ne[1];
		}
		return 0;
	}
	if (t->ne[0] % tr->block_elems)
		return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: a %s row holds whole %u-element "
		                 "blocks; %llu elements is not", mt->name, tr->name, tr->block_elems,
		                 (unsigned long long)t->ne[0]);
	row = t->ne[0] / tr->block_elems * tr->block_bytes;
	t->nb[0] = tr->block_bytes;
	t->nb[1] = row;
	t->nb[2] = row * t->ne[1];
	t->nb[3] = t->nb[2] * t->ne[2];
	*bytes = t->nb[3] * t->ne[3];
	return 0;
}

static void f32_tensor(struct trit_tensor *t, uint32_t type, uint64_t ne0, uint64_t ne1)
{
	uint64_t es = trit_type_traits(type)->block_bytes;

	memset(t, 0, sizeof *t);
	t->type = type;
	t->ne[0] = ne0;
	t->ne[1] = ne1;
	t->ne[2] = t->ne[3] = 1;
	t->nb[0] = es;
	t->nb[1] = es * ne0;
	t->nb[2] = t->nb[3] = es * ne0 * ne1;
}

static int asks(const struct trit_sched_target *tg, const struct trit_node *n)
{
	return tg->be->supports_op && tg->be->supports_op(tg->state, tg->device, n);
}

/* 1 when the target runs a node that uses w as the model uses the tensor
 * (as the head's matrix when as_head); -1 when the tensor feeds no op the
 * loader knows (placed unasked). */
static int target_runs(const struct trit_sched_target *tg, const struct trit_model_tensor *mt,
                       const struct trit_tensor *w, int as_head)
{
	struct trit_node n;
	int ternary = w->type == TRIT_TYPE_I2_S || w->type == TRIT_TYPE_TL1 ||
	              w->type == TRIT_TYPE_TL2;

	memset(&n, 0, sizeof n);
	n.struct_size = sizeof n;
	n.name = mt->name;
	n.src[0] = *w;
	if (!as_head && (mt->role == TRIT_ROLE_TOKEN_EMBD || mt->role == TRIT_ROLE_POS_EMBD)) {
		n.op = TRIT_OP_GET_ROWS;
		f32_tensor(&n.src[1], TRIT_TYPE_I32, 1, 1);
		f32_tensor(&n.dst, TRIT_TYPE_F32, w->ne[0], 1);
		return asks(tg, &n);
	}
	if ((as_head || trit_role_is_matrix(mt->role)) && mt->n_dims >= 2) {
		n.op = TRIT_OP_MATMUL;
		n.src[0].ne[2] = n.src[0].ne[3] = 1; /* one expert's slice */
		f32_tensor(&n.dst, TRIT_TYPE_F32, w->ne[1], 1);
		f32_tensor(&n.src[1], TRIT_TYPE_F32, w->ne[0], 1);
		if (asks(tg, &n))
			return 1;
		if (!ternary)
			return 0;
		f32_tensor(&n.src[1], TRIT_TYPE_I8, w->ne[0], 1);
		f32_tensor(&n.src[2], TRIT_TYPE_F32, 1, 1);
		return asks(tg, &n);
	}
	if (w->type == TRIT_TYPE_F32 && mt->n_dims == 1) {
		n.op = trit_role_group(mt->role) == TRIT_GROUP_NORM ? TRIT_OP_RMS_NORM : TRIT_OP_ADD;
		n.fparams[0] = n.op == TRIT_OP_RMS_NORM ? 1e-6f : 0.0f;
		n.src[1] = *w;
		f32_tensor(&n.src[0], TRIT_TYPE_F32, w->ne[0], 1);
		n.dst = n.src[0];
		return asks(tg, &n);
	}
	return -1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* What to scan: norms' and separate scales' F32 values, ternary scales. */
static uint8_t value_check(const struct trit_model_tensor *mt, uint32_t src_type)
{
	if (src_type == TRIT_TYPE_F32 &&
	    (ends_with(mt->name, "_norm.weight") || ends_with(mt->name, "_scale") ||
	     trit_role_group(mt->role) == TRIT_GROUP_NORM))
		return LOAD_CHECK_F32;
	if (src_type == TRIT_TYPE_I2_S || src_type == TRIT_TERNARY_SRC_I2S_BITNET)
		return LOAD_CHECK_I2S_SCALE;
	if (src_type == TRIT_TYPE_TQ1_0 || src_type == TRIT_TYPE_TQ2_0)
		return LOAD_CHECK_BLOCK_SCALES;
	return LOAD_CHECK_NONE;
}

/* The type a tensor is placed as: a ternary matrix in the target's
 * ternary_type (or trit's I2_S when the file's layout is bitnet.cpp's
 * unaligned one), a BitNet model's float projection matrix too when the spec
 * ternarises floats (the plan's rule: trit_estimate_weight_form), everything
 * else as stored. */
static uint32_t placed_type(const struct trit_model *m, const struct trit_model_tensor *mt,
                            uint32_t src, const struct trit_load_spec *spec,
                            const struct trit_load_target *lt)
{
	int ternary = src == TRIT_TYPE_I2_S || src == TRIT_TERNARY_SRC_I2S_BITNET ||
	              src == TRIT_TYPE_TQ1_0 || src == TRIT_TYPE_TQ2_0;
	int flt = src == TRIT_TYPE_F32 || src == TRIT_TYPE_F16 || src == TRIT_TYPE_BF16;

	if (flt && spec->ternarise_floats && lt->ternary_type && mt->n_dims == 2 &&
	    trit_estimate_is_bitlinear(m, mt))
		return lt->ternary_type;

	if (!ternary || mt->n_dims != 2)
		return src;
	if (lt->ternary_type && trit_role_is_matrix(mt->role))
		return lt->ternary_type;
	return src == TRIT_TERNARY_SRC_I2S_BITNET ? TRIT_TYPE_I2_S : src;
}

/* Plan tensor mt on target it->target (set by the caller). */
static int plan_on(const struct trit_model *m, const struct trit_model_tensor *mt,
                   const struct trit_load_spec *spec, int as_head, struct load_item *it,
                   char *err, size_t errlen)
{
	const struct trit_load_target *lt = &spec->targets[it->target];
	int st, rc, runs;
	uint64_t stored_bytes;
	struct trit_tensor tmp;

	if ((st = stored_type(mt)) < 0)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "tensor %s is %s, a type no trit "
		                 "kernel runs, so device %s cannot take it (trit loads F32, F16, "
		                 "BF16, Q8_0, TQ1_0, TQ2_0 and I2_S)", mt->name, mt->type_name,
		                 lt->t.name ? lt->t.name : "?");
	it->src_type = (uint32_t)st;
	it->type = placed_type(m, mt, it->src_type, spec, lt);
	it->repack = it->type != it->src_type;
	if (it->type == TRIT_TERNARY_SRC_I2S_BITNET || !trit_type_traits(it->type))
		return trit_errf(err, errlen, TRIT_EINVAL, "tensor %s: target %s asks for ternary "
		                 "type %u, which is not a trit type", mt->name,
		                 lt->t.name ? lt->t.name : "?", (unsigned)it->type);
	if (it->repack && trit_ternary_src_bytes(it->src_type, mt->ne[1], mt->ne[0]) == 0)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "tensor %s is %s; device %s runs "
		                 "ternary matrices as %s and trit cannot repack %s into it",
		                 mt->name, type_label(it->src_type), lt->t.name ? lt->t.name : "?",
		                 type_label(it->type), type_label(it->src_type));
	if (!it->repack) {
		if ((rc = trit_load_geometry(mt, it->src_type, &tmp, &stored_bytes, err, errlen)))
			return rc;
		if (stored_bytes != mt->n_bytes)
			return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: %s of this shape is %llu "
			                 "bytes but the file gives it %llu", mt->name,
			                 type_label(it->src_type), (unsigned long long)stored_bytes,
			                 (unsigned long long)mt->n_bytes);
	}
	if ((rc = trit_load_geometry(mt, it->type, &it->t, &it->bytes, err, errlen)))
		return rc;
	runs = target_runs(&lt->t, mt, &it->t, as_head);
	if (runs == 0)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "tensor %s (%s%s%s) is not run by "
		                 "device %s: its supports_op() refuses a %s node of it", mt->name,
		                 type_label(it->type), it->repack ? ", repacked from " : "",
		                 it->repack ? type_label(it->src_type) : "",
		                 lt->t.name ? lt->t.name : "?",
		                 mt->role == TRIT_ROLE_TOKEN_EMBD && !as_head ? "GET_ROWS" :
		                 trit_role_is_matrix(mt->role) ? "MATMUL" : "RMS_NORM/ADD");
	it->check = value_check(mt, it->src_type);
	return 0;
}

int load_plan_tensor(const struct trit_model *m, size_t i, const struct trit_load_spec *spec,
                     struct load_item *it, char *err, size_t errlen)
{
	int rc;

	memset(it, 0, sizeof *it);
	if ((rc = pick_target(m, &m->tensors[i], spec, &it->target, err, errlen)))
		return rc;
	return plan_on(m, &m->tensors[i], spec, 0, it, err, errlen);
}

int load_plan_head_copy(const struct trit_model *m, size_t i, const struct trit_load_spec *spec,
                        struct load_item *it, char *err, size_t errlen)
{
	memset(it, 0, sizeof *it);
	if (spec->output_target >= spec->n_targets)
		return trit_errf(err, errlen, TRIT_EINVAL, "the head is placed on target %u but the "
		                 "placement has %u targets", spec->output_target, spec->n_targets);
	it->target = spec->output_target;
	return plan_on(m, &m->tensors[i], spec, 1, it, err, errlen);
}
