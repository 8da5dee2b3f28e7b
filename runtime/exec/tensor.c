/*
 * exec/tensor.c - byte geometry of tensors for the scheduler and the host's
 * table wrappers: spans (what to stage or wrap), contiguity (what a v1
 * matmul() can take) and op names. It checks arithmetic for overflow
 * because tensors come from plugins' callers and may be hostile.
 */
#include <build-config.h>

#include <trit/ternary.h>
#include <trit/types.h>

#include "core/common.h"
#include "exec/tensor.h"

const char *trit_op_name(uint32_t op)
{
	static const char *const names[TRIT_OP_COUNT] = {
		[TRIT_OP_NONE] = "NONE", [TRIT_OP_GET_ROWS] = "GET_ROWS",
		[TRIT_OP_RMS_NORM] = "RMS_NORM", [TRIT_OP_ADD] = "ADD", [TRIT_OP_MUL] = "MUL",
		[TRIT_OP_SCALE] = "SCALE", [TRIT_OP_ROPE] = "ROPE",
		[TRIT_OP_ATTENTION] = "ATTENTION", [TRIT_OP_RELU2] = "RELU2",
		[TRIT_OP_SILU] = "SILU", [TRIT_OP_GELU] = "GELU", [TRIT_OP_GLU] = "GLU",
		[TRIT_OP_QUANTIZE_ACT] = "QUANTIZE_ACT", [TRIT_OP_MATMUL] = "MATMUL",
		[TRIT_OP_CPY] = "CPY", [TRIT_OP_KV_WRITE] = "KV_WRITE",
	};
	return op < TRIT_OP_COUNT ? names[op] : NULL;
}

uint64_t trit_tensor_row_bytes(uint32_t type, uint64_t ne0)
{
	const struct trit_type_traits *tr = trit_type_traits(type);

	if (!tr || tr->block_elems == 0 || ne0 > (UINT64_C(1) << 48))
		return 0;
	if (type == TRIT_TYPE_I2_S)
		return trit_round_up_u64(ne0, TRIT_I2S_BLOCK_COLS) / 4;
	if (ne0 % tr->block_elems)
		return 0;
	return ne0 / tr->block_elems * tr->block_bytes;
}

static int add_ok(uint64_t *acc, uint64_t v)
{
	if (v > UINT64_MAX - *acc)
		return 0;
	*acc += v;
	return 1;
}

/* Ternary tensors are whole packed matrices (trailer included). */
static int ternary_span(const struct trit_tensor *t, const char *what, uint64_t *bytes,
                        char *err, size_t errlen)
{
	if (t->ne[2] != 1 || t->ne[3] != 1)
		return trit_errf(err, errlen, TRIT_EINVAL, "%s: a %s tensor is one matrix "
		                 "[K, M]; found ne[2] = %llu, ne[3] = %llu", what,
		                 trit_type_traits(t->type)->name, (unsigned long long)t->ne[2],
		                 (unsigned long long)t->ne[3]);
	*bytes = trit_ternary_bytes(t->type, t->ne[1], t->ne[0]);
	if (!*bytes)
		return trit_errf(err, errlen, TRIT_ERANGE, "%s: %llu x %llu is not a valid %s shape",
		                 what, (unsigned long long)t->ne[1], (unsigned long long)t->ne[0],
		                 trit_type_traits(t->type)->name);
	return 0;
}

int trit_tensor_span(const struct trit_tensor *t, const char *what, uint64_t *bytes,
                     char *err, size_t errlen)
{
	const struct trit_type_traits *tr = trit_type_traits(t->type);
	uint64_t end;

	*bytes = 0;
	if (!tr)
		return trit_errf(err, errlen, TRIT_EINVAL, "%s: type %u is not a trit type",
		                 what, t->type);
	for (int i = 0; i < TRIT_MAX_DIMS; i++)
		if (t->ne[i] == 0)
			return 0;
	if (t->type == TRIT_TYPE_I2_S || t->type == TRIT_TYPE_TL1 || t->type == TRIT_TYPE_TL2)
		return ternary_span(t, what, bytes, err, errlen);
	end = trit_tensor_row_bytes(t->type, t->ne[0]);
	if (!end)
		return trit_errf(err, errlen, TRIT_EINVAL, "%s: a row of %llu %s elements is not "
		                 "a whole number of blocks", what, (unsigned long long)t->ne[0],
		                 tr->name);
	for (int i = 1; i < TRIT_MAX_DIMS; i++) {
		uint64_t n = t->ne[i] - 1;
		if (n && t->nb[i] > UINT64_MAX / n)
			return trit_errf(err, errlen, TRIT_ERANGE, "%s: ne[%d] * nb[%d] overflows",
			                 what, i, i);
		if (!add_ok(&end, n * t->nb[i]))
			return trit_errf(err, errlen, TRIT_ERANGE, "%s: its byte span overflows", what);
	}
	if (end > UINT64_MAX - t->offset)
		return trit_errf(err, errlen, TRIT_ERANGE, "%s: offset %llu + span overflows",
		                 what, (unsigned long long)t->offset);
	*bytes = end;
	return 0;
}

int trit_tensor_is_matrix(const struct trit_tensor *t, uint32_t type, uint64_t ne0, uint64_t ne1)
{
	const struct trit_type_traits *tr = trit_type_traits(type);
	uint64_t row;

	if (!tr || t->type != type || t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 ||
	    t->ne[3] != 1 || ne0 == 0 || ne1 == 0)
		return 0;
	if (type == TRIT_TYPE_TL1 || type == TRIT_TYPE_TL2)
		return 1; /* the whole packed tensor; its nb carry nothing */
	row = trit_tensor_row_bytes(type, ne0);
	if (!row)
		return 0;
	if (tr->block_elems == 1 && t->nb[0] != tr->block_bytes)
		return 0;
	return ne1 == 1 || t->nb[1] == row;
}
