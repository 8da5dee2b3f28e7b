/*
 * ref_node.c - what the reference backend accepts and how it runs one node:
 * the exact operand rules of backend.h's op set (types, shapes, strides),
 * each tensor's byte extent checked against its buffer, then dispatch to
 * the kernels of ref_ops.c, ref_move.c, ref_attention.c and ref_matmul.c.
 * Buffers and graphs are ref.c's business.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include <trit/ternary.h>

#include "ref_node.h"

#define MAX_NE (UINT64_C(1) << 40)

int ref_errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static const char *const op_names[TRIT_OP_COUNT] = {
	"NONE", "GET_ROWS", "RMS_NORM", "ADD", "MUL", "SCALE", "ROPE", "ATTENTION",
	"RELU2", "SILU", "GELU", "GLU", "QUANTIZE_ACT", "MATMUL", "CPY", "KV_WRITE",
};

static const char *const slot_names[5] = { "dst", "src[0]", "src[1]", "src[2]", "src[3]" };

/* "No" with a reason; every check below returns 1 (yes) or this. */
#define NO(...) (ref_errf(why, whylen, 0, __VA_ARGS__))

static int present(const struct trit_tensor *t)
{
	return t->buffer != NULL || t->ne[0] != 0;
}

static int is_block(uint32_t type)
{
	const struct trit_type_traits *tt = trit_type_traits(type);
	return tt->block_elems > 1;
}

static int is_tl(uint32_t type)
{
	return type == TRIT_TYPE_TL1 || type == TRIT_TYPE_TL2;
}

/* Alignment the kernels need for a row's first byte. */
static uint64_t elem_align(uint32_t type)
{
	return is_block(type) || is_tl(type) ? 1 : trit_type_traits(type)->block_bytes;
}

static uint64_t row_bytes(const struct trit_tensor *t)
{
	const struct trit_type_traits *tt = trit_type_traits(t->type);
	return tt->block_elems ? t->ne[0] / tt->block_elems * tt->block_bytes : 0;
}

static const char *type_name(uint32_t type)
{
	const struct trit_type_traits *tt = trit_type_traits(type);
	return tt ? tt->name : "(unknown type)";
}

/* The strides of the packed ternary layouts: a whole 2-D tensor. */
static int packed_ok(const struct trit_tensor *t, const char *what, char *why, size_t whylen)
{
	if (t->ne[2] != 1 || t->ne[3] != 1)
		return NO("%s: a %s tensor is 2-D", what, type_name(t->type));
	if (is_tl(t->type) && (t->nb[0] || t->nb[1] || t->nb[2] || t->nb[3]))
		return NO("%s: a %s tensor has no row geometry (nb must be 0)", what, type_name(t->type));
	if (t->type == TRIT_TYPE_I2_S && t->nb[1] != t->ne[0] / 4)
		return NO("%s: I2_S rows are packed (nb[1] = %llu, found %llu)", what,
		          (unsigned long long)(t->ne[0] / 4), (unsigned long long)t->nb[1]);
	return 1;
}

/* Type, shape and strides every operand obeys (backend.h, "Tensors"). */
static int tensor_ok(const struct trit_tensor *t, const char *what, char *why, size_t whylen)
{
	const struct trit_type_traits *tt = trit_type_traits(t->type);
	uint64_t a;

	if (!tt)
		return NO("%s: unknown type %u", what, t->type);
	if (t->flags)
		return NO("%s: flags 0x%x are reserved (0)", what, t->flags);
	for (int i = 0; i < TRIT_MAX_DIMS; i++)
		if (t->ne[i] == 0 || t->ne[i] > MAX_NE)
			return NO("%s: ne[%d] = %llu is outside 1..2^40", what, i, (unsigned long long)t->ne[i]);
	if (tt->block_elems > 1 && t->ne[0] % tt->block_elems)
		return NO("%s: a %s row is a multiple of %u elements, not %llu", what, tt->name,
		          tt->block_elems, (unsigned long long)t->ne[0]);
	if (is_tl(t->type) || t->type == TRIT_TYPE_I2_S)
		if (!packed_ok(t, what, why, whylen))
			return 0;
	if (!is_tl(t->type) && t->nb[0] != tt->block_bytes)
		return NO("%s: nb[0] must be %u (the %s element or block), not %llu", what,
		          tt->block_bytes, tt->name, (unsigned long long)t->nb[0]);
	a = elem_align(t->type);
	for (int i = 1; i < TRIT_MAX_DIMS; i++)
		if (t->nb[i] % a)
			return NO("%s: nb[%d] = %llu is not a multiple of %llu", what, i,
			          (unsigned long long)t->nb[i], (unsigned long long)a);
	if (t->offset % a)
		return NO("%s: offset %llu is not a multiple of %llu", what,
		          (unsigned long long)t->offset, (unsigned long long)a);
	return 1;
}

/* A written tensor's rows must not overlap one another. */
static int written_ok(const struct trit_tensor *t, const char *what, char *why, size_t whylen)
{
	uint64_t span = row_bytes(t);

	for (int i = 1; i < TRIT_MAX_DIMS; i++) {
		if (t->ne[i] == 1)
			continue;
		if (t->nb[i] < span)
			return NO("%s: nb[%d] = %llu overlaps the %llu bytes below it", what, i,
			          (unsigned long long)t->nb[i], (unsigned long long)span);
		span += (t->ne[i] - 1) * t->nb[i];
	}
	return 1;
}

/* Bytes from a tensor's offset to the end of its last element; 0 on overflow. */
static uint64_t extent(const struct trit_tensor *t)
{
	uint64_t e;

	if (is_tl(t->type) || t->type == TRIT_TYPE_I2_S) /* I2_S: nb[1] = ne[0] / 4 */
		return trit_ternary_bytes(t->type, t->ne[1], t->ne[0]);
	e = row_bytes(t);
	for (int i = 1; i < TRIT_MAX_DIMS; i++) {
		uint64_t n = t->ne[i] - 1;
		if (n && t->nb[i] > (UINT64_MAX - e) / n)
			return 0;
		e += n * t->nb[i];
	}
	return e;
}

static int has_ne(const struct trit_tensor *t, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	return t->ne[0] == a && t->ne[1] == b && t->ne[2] == c && t->ne[3] == d;
}

static int same_shape(const struct trit_tensor *a, const struct trit_tensor *b)
{
	return has_ne(a, b->ne[0], b->ne[1], b->ne[2], b->ne[3]);
}

static int typed(const struct trit_tensor *t, uint64_t types)
{
	return (types & TRIT_TYPE_BIT(t->type)) != 0;
}

#define F32_ONLY TRIT_TYPE_BIT(TRIT_TYPE_F32)
#define FLOATS (TRIT_TYPE_BIT(TRIT_TYPE_F32) | TRIT_TYPE_BIT(TRIT_TYPE_F16) | \
                TRIT_TYPE_BIT(TRIT_TYPE_BF16))
#define PACKED_TERNARY (TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) | \
                        TRIT_TYPE_BIT(TRIT_TYPE_TL2))
#define WEIGHTS (FLOATS | TRIT_TYPE_BIT(TRIT_TYPE_Q8_0) | TRIT_TYPE_BIT(TRIT_TYPE_TQ1_0) | \
                 TRIT_TYPE_BIT(TRIT_TYPE_TQ2_0) | PACKED_TERNARY)
#define CPY_TYPES (FLOATS | TRIT_TYPE_BIT(TRIT_TYPE_Q8_0))
#define KV_TYPES (TRIT_TYPE_BIT(TRIT_TYPE_F32) | TRIT_TYPE_BIT(TRIT_TYPE_F16) | \
                  TRIT_TYPE_BIT(TRIT_TYPE_Q8_0))

/* A 1-D I32 vector of n entries (ids, positions). */
static int i32_vec(const struct trit_tensor *t, uint64_t n)
{
	return t->type == TRIT_TYPE_I32 && has_ne(t, n, 1, 1, 1);
}

/* ------------------------------------------------------------------------ */
/* Per-op rules; each returns 1 or 0 with a reason.                          */

static int chk_get_rows(const struct trit_node *n, char *why, size_t whylen)
{
	const struct trit_tensor *tab = &n->src[0];

	if (!typed(tab, WEIGHTS) || tab->ne[2] != 1 || tab->ne[3] != 1)
		return NO("the table must be a 2-D tensor of a weight type, not %s", type_name(tab->type));
	if (!i32_vec(&n->src[1], n->src[1].ne[0]))
		return NO("ids must be I32 [T]");
	if (n->dst.type != TRIT_TYPE_F32 || !has_ne(&n->dst, tab->ne[0], n->src[1].ne[0], 1, 1))
		return NO("dst must be F32 [ne0 of the table, T]");
	return 1;
}

static int chk_rms_norm(const struct trit_node *n, char *why, size_t whylen)
{
	const struct trit_tensor *x = &n->src[0], *w = &n->src[1];

	if (x->type != TRIT_TYPE_F32 || n->dst.type != TRIT_TYPE_F32 || !same_shape(&n->dst, x))
		return NO("x and dst must be F32 of one shape");
	if (present(w) && (w->type != TRIT_TYPE_F32 || !has_ne(w, x->ne[0], 1, 1, 1)))
		return NO("the weight must be F32 [ne0]");
	if (!isfinite(n->fparams[0]) || n->fparams[0] < 0.0f)
		return NO("eps (fparams[0]) must be finite and >= 0");
	return 1;
}

static int chk_binary(const struct trit_node *n, char *why, size_t whylen)
{
	const struct trit_tensor *x = &n->src[0], *y = &n->src[1];

	if (x->type != TRIT_TYPE_F32 || y->type != TRIT_TYPE_F32 || n->dst.type != TRIT_TYPE_F32)
		return NO("x, y and dst must be F32");
	if (!same_shape(&n->dst, x))
		return NO("dst must have x's shape");
	for (int i = 0; i < TRIT_MAX_DIMS; i++)
		if (y->ne[i] != 1 && y->ne[i] != x->ne[i])
			return NO("y.ne[%d] = %llu is neither 1 nor x's %llu", i,
			          (unsigned long long)y->ne[i], (unsigned long long)x->ne[i]);
	return 1;
}

static int chk_unary(const struct trit_node *n, char *why, size_t whylen)
{
	if (n->src[0].type != TRIT_TYPE_F32 || n->dst.type != TRIT_TYPE_F32 ||
	    !same_shape(&n->dst, &n->src[0]))
		return NO("x and dst must be F32 of one shape");
	return 1;
}

static int chk_glu(const struct trit_node *n, char *why, size_t whylen)
{
	int act = n->iparams[0];

	if (!chk_unary(n, why, whylen))
		return 0;
	if (n->src[1].type != TRIT_TYPE_F32 || !same_shape(&n->src[1], &n->src[0]))
		return NO("y must be F32 of x's shape");
	if (act != TRIT_OP_RELU2 && act != TRIT_OP_SILU && act != TRIT_OP_GELU)
		return NO("iparams[0] = %d is not RELU2, SILU or GELU", act);
	return 1;
}

static int chk_rope(const struct trit_node *n, char *why, size_t whylen)
{
	const struct trit_tensor *x = &n->src[0];
	int mode = n->iparams[0], n_rot = n->iparams[1];

	if (!chk_unary(n, why, whylen))
		return 0;
	if (x->ne[3] != 1 || !i32_vec(&n->src[1], x->ne[2]))
		return NO("x must be [head_dim, heads, T] and positions I32 [T]");
	if (mode != TRIT_ROPE_NORMAL && mode != TRIT_ROPE_NEOX)
		return NO("mode %d is neither NORMAL (0) nor NEOX (2)", mode);
	if (n_rot < 2 || n_rot % 2 || (uint64_t)n_rot > x->ne[0])
		return NO("n_rot %d must be even and in 2..head_dim (%llu)", n_rot,
		          (unsigned long long)x->ne[0]);
	if (!isfinite(n->fparams[0]) || n->fparams[0] <= 0.0f || !isfinite(n->fparams[1]))
		return NO("freq_base must be finite and > 0, freq_scale finite");
	return 1;
}

static int chk_attention(const struct trit_node *n, char *why, size_t whylen)
{
	const struct trit_tensor *q = &n->src[0], *k = &n->src[1], *v = &n->src[2];

	if (q->type != TRIT_TYPE_F32 || q->ne[3] != 1 || n->dst.type != TRIT_TYPE_F32 ||
	    !same_shape(&n->dst, q))
		return NO("q and dst must be F32 [D, Hq, T]");
	if (!typed(k, KV_TYPES) || !typed(v, KV_TYPES) || !same_shape(k, v) || k->ne[3] != 1)
		return NO("k and v must be F32, F16 or Q8_0 caches of one shape [D, Hkv, n_ctx]");
	if (k->ne[0] != q->ne[0] || q->ne[1] % k->ne[1])
		return NO("the caches' head size must be q's and Hq a multiple of Hkv");
	if (!i32_vec(&n->src[3], q->ne[2]))
		return NO("positions must be I32 [T]");
	if (!isfinite(n->fparams[0]))
		return NO("scale (fparams[0]) must be finite");
	return 1;
}

static int chk_quantize_act(const struct trit_node *n, char *why, size_t whylen)
{
	const struct trit_tensor *x = &n->src[0];

	if (x->type != TRIT_TYPE_F32 || x->ne[2] != 1 || x->ne[3] != 1)
		return NO("x must be F32 [K, T]");
	if (n->dst.type != TRIT_TYPE_I8 || !same_shape(&n->dst, x))
		return NO("dst must be I8 of x's shape");
	if (n->src[1].type != TRIT_TYPE_F32 || !has_ne(&n->src[1], x->ne[1], 1, 1, 1))
		return NO("the scales (src[1]) must be F32 [T]");
	return 1;
}

static int chk_matmul(const struct trit_node *n, char *why, size_t whylen)
{
	const struct trit_tensor *w = &n->src[0], *x = &n->src[1], *s = &n->src[2];
	int i8 = x->type == TRIT_TYPE_I8;

	if (!typed(w, WEIGHTS) || w->ne[2] != 1 || w->ne[3] != 1)
		return NO("W must be a 2-D tensor of a weight type, not %s", type_name(w->type));
	if ((x->type != TRIT_TYPE_F32 && !(i8 && typed(w, PACKED_TERNARY))) ||
	    !has_ne(x, w->ne[0], x->ne[1], 1, 1))
		return NO("x must be F32 [K, T] (or I8 for I2_S, TL1, TL2) with W's K");
	if (i8 != present(s))
		return NO("the scales (src[2]) come with I8 activations, and only with them");
	if (i8 && (s->type != TRIT_TYPE_F32 || !has_ne(s, x->ne[1], 1, 1, 1)))
		return NO("the scales (src[2]) must be F32 [T]");
	if (n->dst.type != TRIT_TYPE_F32 || !has_ne(&n->dst, w->ne[1], x->ne[1], 1, 1))
		return NO("dst must be F32 [M, T]");
	return 1;
}

static int contiguous(const struct trit_tensor *t)
{
	return t->nb[1] == row_bytes(t) && t->nb[2] == t->nb[1] * t->ne[1] &&
	       t->nb[3] == t->nb[2] * t->ne[2];
}

/* Elements of a tensor; 0 when the count overflows. */
static uint64_t nelem(const struct trit_tensor *t)
{
	uint64_t n = 1;
	for (int i = 0; i < TRIT_MAX_DIMS; i++) {
		if (t->ne[i] && n > UINT64_MAX / t->ne[i])
			return 0;
		n *= t->ne[i];
	}
	return n;
}

static int chk_cpy(const struct trit_node *n, char *why, size_t whylen)
{
	const struct trit_tensor *x = &n->src[0], *d = &n->dst;

	if (!typed(x, CPY_TYPES) || !typed(d, CPY_TYPES))
		return NO("CPY converts between F32, F16, BF16 and Q8_0, not %s to %s",
		          type_name(x->type), type_name(d->type));
	if (!nelem(x) || nelem(x) != nelem(d))
		return NO("x and dst hold different element counts");
	if (!same_shape(x, d) && !(contiguous(x) && contiguous(d)))
		return NO("shapes may differ only when both tensors are contiguous");
	return 1;
}

static int chk_kv_write(const struct trit_node *n, char *why, size_t whylen)
{
	const struct trit_tensor *x = &n->src[0], *c = &n->dst;

	if (!typed(c, KV_TYPES) || c->ne[3] != 1)
		return NO("the cache must be F32, F16 or Q8_0 [D, Hkv, n_ctx]");
	if (x->type != TRIT_TYPE_F32 || !has_ne(x, c->ne[0], c->ne[1], x->ne[2], 1))
		return NO("x must be F32 [D, Hkv, T] with the cache's D and Hkv");
	if (!i32_vec(&n->src[1], x->ne[2]))
		return NO("positions must be I32 [T]");
	return 1;
}

/* ------------------------------------------------------------------------ */
/* The op table.                                                             */

struct op_rule {
	uint8_t need;      /* slots that must be present: bit 0 dst, bit 1 + i src[i] */
	uint8_t optional;  /* slots that may be present */
	uint8_t written;   /* slots the op writes */
	int (*check)(const struct trit_node *, char *, size_t);
	ref_op_fn run;
};

#define DST 1u
#define S(i) (2u << (i))

static const struct op_rule rules[TRIT_OP_COUNT] = {
	[TRIT_OP_NONE]         = { 0, 0, 0, NULL, NULL },
	[TRIT_OP_GET_ROWS]     = { DST | S(0) | S(1), 0, DST, chk_get_rows, ref_op_get_rows },
	[TRIT_OP_RMS_NORM]     = { DST | S(0), S(1), DST, chk_rms_norm, ref_op_rms_norm },
	[TRIT_OP_ADD]          = { DST | S(0) | S(1), 0, DST, chk_binary, ref_op_binary },
	[TRIT_OP_MUL]          = { DST | S(0) | S(1), 0, DST, chk_binary, ref_op_binary },
	[TRIT_OP_SCALE]        = { DST | S(0), 0, DST, chk_unary, ref_op_scale },
	[TRIT_OP_ROPE]         = { DST | S(0) | S(1), 0, DST, chk_rope, ref_op_rope },
	[TRIT_OP_ATTENTION]    = { DST | S(0) | S(1) | S(2) | S(3), 0, DST, chk_attention, ref_op_attention },
	[TRIT_OP_RELU2]        = { DST | S(0), 0, DST, chk_unary, ref_op_unary },
	[TRIT_OP_SILU]         = { DST | S(0), 0, DST, chk_unary, ref_op_unary },
	[TRIT_OP_GELU]         = { DST | S(0), 0, DST, chk_unary, ref_op_unary },
	[TRIT_OP_GLU]          = { DST | S(0) | S(1), 0, DST, chk_glu, ref_op_glu },
	[TRIT_OP_QUANTIZE_ACT] = { DST | S(0) | S(1), 0, DST | S(1), chk_quantize_act, ref_op_quantize_act },
	[TRIT_OP_MATMUL]       = { DST | S(0) | S(1), S(2), DST, chk_matmul, ref_op_matmul },
	[TRIT_OP_CPY]          = { DST | S(0), 0, DST, chk_cpy, ref_op_cpy },
	[TRIT_OP_KV_WRITE]     = { DST | S(0) | S(1), 0, DST, chk_kv_write, ref_op_kv_write },
};

static const struct trit_tensor *slot(const struct trit_node *n, int i)
{
	return i == 0 ? &n->dst : &n->src[i - 1];
}

/* Presence, per-tensor rules and written-row overlap for every slot. */
static int slots_ok(const struct trit_node *n, const struct op_rule *r, char *why, size_t whylen)
{
	for (int i = 0; i < 5; i++) {
		const struct trit_tensor *t = slot(n, i);
		unsigned bit = 1u << i;
		if (!present(t)) {
			if (r->need & bit)
				return NO("%s is missing", slot_names[i]);
			continue;
		}
		if (!((r->need | r->optional) & bit))
			return NO("%s is not an operand of %s", slot_names[i], op_names[n->op]);
		if (!tensor_ok(t, slot_names[i], why, whylen))
			return 0;
		if ((r->written & bit) && !written_ok(t, slot_names[i], why, whylen))
			return 0;
	}
	return 1;
}

int trit_ref_supports_why(const struct trit_node *n, char *why, size_t whylen)
{
	const struct op_rule *r;

	if (!n || n->struct_size < sizeof *n)
		return NO("the node descriptor is %u bytes, shorter than the %zu of ABI v2",
		          n ? n->struct_size : 0, sizeof *n);
	if (n->op >= TRIT_OP_COUNT)
		return NO("op %u is not in the op set", n->op);
	if (n->op == TRIT_OP_NONE)
		return 1;
	r = &rules[n->op];
	if (!slots_ok(n, r, why, whylen) || !r->check(n, why, whylen))
		return 0;
	return 1;
}

int trit_ref_supports(const struct trit_node *n)
{
	return trit_ref_supports_why(n, NULL, 0);
}

uint64_t trit_ref_node_workspace(const struct trit_node *n)
{
	if (!trit_ref_supports(n))
		return 0;
	if (n->op == TRIT_OP_ATTENTION) /* a softmax weight per cache position */
		return n->src[1].ne[2] * sizeof(double);
	if (n->op == TRIT_OP_MATMUL && n->src[1].type == TRIT_TYPE_F32)
		return trit_ref_matmul_ws(n->src[0].type, n->src[0].ne[0]);
	return 0;
}

/* Resolve one operand and check its extent and address. */
static int resolve_slot(const struct trit_tensor *t, const char *what, trit_ref_resolve_fn resolve,
                        void *ctx, struct ref_t *o, char *err, size_t errlen)
{
	struct trit_ref_mem m = { 0 };
	uint64_t e = extent(t);
	int rc;

	if (!t->buffer)
		return ref_errf(err, errlen, TRIT_EINVAL, "%s has a shape but no buffer", what);
	if ((rc = resolve(ctx, t->buffer, &m, err, errlen)))
		return rc;
	if (!e || t->offset > m.size || e > m.size - t->offset)
		return ref_errf(err, errlen, TRIT_ERANGE,
		                "%s: its %llu bytes at offset %llu lie outside the %llu-byte buffer",
		                what, (unsigned long long)e, (unsigned long long)t->offset,
		                (unsigned long long)m.size);
	o->t = t;
	o->p = m.base + t->offset;
	if ((uintptr_t)o->p % elem_align(t->type))
		return ref_errf(err, errlen, TRIT_EINVAL, "%s: address %p is not aligned for %s",
		                what, (void *)o->p, type_name(t->type));
	return 0;
}

int trit_ref_node(const struct trit_node *n, trit_ref_resolve_fn resolve, void *ctx,
                  void *ws, uint64_t ws_size, char *err, size_t errlen)
{
	struct ref_t o[5] = { { 0 } };
	char why[200];
	uint64_t need;
	int rc;

	if (!trit_ref_supports_why(n, why, sizeof why))
		return ref_errf(err, errlen, TRIT_EUNSUPPORTED, "the reference backend does not run this %s node: %s",
		                n && n->op < TRIT_OP_COUNT ? op_names[n->op] : "(unknown)", why);
	if (n->op == TRIT_OP_NONE)
		return 0;
	for (int i = 0; i < 5; i++)
		if (present(slot(n, i)) &&
		    (rc = resolve_slot(slot(n, i), slot_names[i], resolve, ctx, &o[i], err, errlen)))
			return rc;
	need = trit_ref_node_workspace(n);
	if (need && (!ws || ws_size < need))
		return ref_errf(err, errlen, TRIT_EINVAL, "%s needs %llu bytes of workspace, given %llu",
		                op_names[n->op], (unsigned long long)need,
		                (unsigned long long)(ws ? ws_size : 0));
	if (need && (uintptr_t)ws % sizeof(double))
		return ref_errf(err, errlen, TRIT_EINVAL, "the workspace at %p is not %zu-byte aligned",
		                ws, sizeof(double));
	return rules[n->op].run(n, o, ws, err, errlen);
}
