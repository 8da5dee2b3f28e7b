/*
 * cases.c - the op x type x shape table of trit-conformance: every op of ABI
 * v2 with every type backend.h lets it take, at odd shapes that are not
 * multiples of a vector width (whole blocks where the type has blocks), one
 * and several tokens, strided rows, in-place forms, GQA 1 and 4, both ROPE
 * modes with n_rot < head_dim and positions not starting at 0.
 * What each case's operands hold is setup.c's business.
 *
 * d[] per op:  GET_ROWS K, rows, T | RMS_NORM, ADD, MUL, SCALE, unary, GLU
 * ne0, ne1, ne2 | ROPE head_dim, heads, T, first position | ATTENTION D, Hq,
 * T, Hkv (ip[0] = n_kv) | QUANTIZE_ACT K, T | MATMUL K, M, T | CPY ne0, rows |
 * KV_WRITE D, Hkv, T, n_ctx | BUFFER bytes.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conformance.h"

#define MAX_CASES 512

static struct cf_case table[MAX_CASES];
static size_t n_table;

static const char *const op_names[] = {
	"NONE", "GET_ROWS", "RMS_NORM", "ADD", "MUL", "SCALE", "ROPE", "ATTENTION", "RELU2",
	"SILU", "GELU", "GLU", "QUANTIZE_ACT", "MATMUL", "CPY", "KV_WRITE", "BUFFER",
};

const char *cf_op_name(uint32_t op)
{
	return op <= CF_OP_BUFFER ? op_names[op] : "?";
}

int cf_op_from_name(const char *name)
{
	for (int i = 1; i <= CF_OP_BUFFER; i++)
		if (!strcasecmp(name, op_names[i]))
			return i;
	return -1;
}

int cf_type_from_name(const char *name)
{
	for (uint32_t t = 0; t < TRIT_TYPE_COUNT; t++)
		if (!strcasecmp(name, trit_type_traits(t)->name))
			return (int)t;
	return -1;
}

static void add(uint32_t op, uint32_t t0, uint32_t t1, uint64_t a, uint64_t b, uint64_t c,
                uint64_t d, unsigned flags)
{
	struct cf_case *k;

	if (n_table == MAX_CASES)
		return;
	k = &table[n_table++];
	memset(k, 0, sizeof *k);
	k->op = op;
	k->t0 = t0;
	k->t1 = t1;
	k->d[0] = a, k->d[1] = b, k->d[2] = c, k->d[3] = d;
	k->flags = flags;
}

static void add_matmul(void)
{
	static const struct { uint32_t t; uint64_t k, m; } w[] = {
		{ TRIT_TYPE_F32, 37, 13 }, { TRIT_TYPE_F16, 37, 13 }, { TRIT_TYPE_BF16, 37, 13 },
		{ TRIT_TYPE_Q8_0, 96, 13 }, { TRIT_TYPE_TQ1_0, 512, 13 }, { TRIT_TYPE_TQ2_0, 512, 13 },
		{ TRIT_TYPE_I2_S, 256, 13 }, { TRIT_TYPE_I2_S, 128, 33 },
		{ TRIT_TYPE_TL1, 100, 37 }, { TRIT_TYPE_TL1, 128, 64 },
		{ TRIT_TYPE_TL2, 100, 37 }, { TRIT_TYPE_TL2, 192, 64 },
	};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		int ternary = w[i].t == TRIT_TYPE_I2_S || w[i].t == TRIT_TYPE_TL1 || w[i].t == TRIT_TYPE_TL2;
		add(TRIT_OP_MATMUL, w[i].t, 0, w[i].k, w[i].m, 1, 0, 0);
		add(TRIT_OP_MATMUL, w[i].t, 0, w[i].k, w[i].m, 5, 0, 0);
		add(TRIT_OP_MATMUL, w[i].t, 0, w[i].k, w[i].m, 3, 0, CF_VIEW);
		if (ternary) {
			add(TRIT_OP_MATMUL, w[i].t, 0, w[i].k, w[i].m, 1, 0, CF_I8);
			add(TRIT_OP_MATMUL, w[i].t, 0, w[i].k, w[i].m, 4, 0, CF_I8 | CF_VIEW);
		}
	}
}

static void add_get_rows(void)
{
	static const struct { uint32_t t; uint64_t k, m; } w[] = {
		{ TRIT_TYPE_F32, 37, 11 }, { TRIT_TYPE_F16, 37, 11 }, { TRIT_TYPE_BF16, 37, 11 },
		{ TRIT_TYPE_Q8_0, 96, 11 }, { TRIT_TYPE_TQ1_0, 256, 11 }, { TRIT_TYPE_TQ2_0, 256, 11 },
		{ TRIT_TYPE_I2_S, 256, 11 }, { TRIT_TYPE_TL1, 100, 37 }, { TRIT_TYPE_TL2, 100, 37 },
	};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		add(TRIT_OP_GET_ROWS, w[i].t, 0, w[i].k, w[i].m, 1, 0, 0);
		add(TRIT_OP_GET_ROWS, w[i].t, 0, w[i].k, w[i].m, 6, 0, 0);
		add(TRIT_OP_GET_ROWS, w[i].t, 0, w[i].k, w[i].m, 3, 0, CF_VIEW);
	}
}

static void add_elementwise(void)
{
	static const uint32_t unary[] = { TRIT_OP_RELU2, TRIT_OP_SILU, TRIT_OP_GELU, TRIT_OP_SCALE };
	static const unsigned forms[] = { 0, CF_INPLACE, CF_VIEW, CF_VIEW | CF_INPLACE };

	for (size_t f = 0; f < 4; f++) {
		add(TRIT_OP_RMS_NORM, TRIT_TYPE_F32, 0, 37, f % 2 ? 1 : 3, 1, 0, forms[f]);
		add(TRIT_OP_ADD, TRIT_TYPE_F32, 0, 37, 3, 2, 0, forms[f]);
		add(TRIT_OP_MUL, TRIT_TYPE_F32, 0, 37, 3, 2, 0, forms[f]);
		for (size_t u = 0; u < 4; u++)
			add(unary[u], TRIT_TYPE_F32, 0, 37, 3, 1, 0, forms[f]);
		for (int32_t a = TRIT_OP_RELU2; a <= TRIT_OP_GELU; a++) {
			add(TRIT_OP_GLU, TRIT_TYPE_F32, 0, 37, 3, 1, 0, forms[f]);
			table[n_table - 1].ip[0] = a;
		}
	}
	add(TRIT_OP_RMS_NORM, TRIT_TYPE_F32, 0, 256, 2, 1, 0, CF_NOGAMMA);
	add(TRIT_OP_RMS_NORM, TRIT_TYPE_F32, 0, 1, 4, 1, 0, 0);
	for (uint32_t op = TRIT_OP_ADD; op <= TRIT_OP_MUL; op++) {
		add(op, TRIT_TYPE_F32, 0, 37, 3, 2, 0, CF_BCAST);
		add(op, TRIT_TYPE_F32, 0, 37, 3, 2, 0, CF_SCALAR | CF_INPLACE);
		add(op, TRIT_TYPE_F32, 0, 37, 3, 2, 0, CF_BCAST | CF_VIEW);
	}
	for (size_t i = 0; i < n_table; i++)
		if (table[i].op == TRIT_OP_SCALE)
			table[i].fp[0] = 0.37f;
}

static void add_rope(void)
{
	static const struct { uint64_t hd, rot; } g[] = { { 24, 16 }, { 64, 64 }, { 10, 6 } };

	for (int mode = 0; mode <= TRIT_ROPE_NEOX; mode += TRIT_ROPE_NEOX)
		for (size_t i = 0; i < 3; i++)
			for (unsigned f = 0; f < 3; f++) {
				static const unsigned forms[] = { 0, CF_INPLACE, CF_VIEW };
				add(TRIT_OP_ROPE, TRIT_TYPE_F32, 0, g[i].hd, 3, f ? 4 : 1, f == 2 ? 0 : 7, forms[f]);
				table[n_table - 1].ip[0] = mode;
				table[n_table - 1].ip[1] = (int32_t)g[i].rot;
				table[n_table - 1].fp[0] = 10000.0f;
				table[n_table - 1].fp[1] = i == 2 ? 0.5f : 1.0f;
			}
}

static void add_cache_ops(void)
{
	static const uint32_t caches[] = { TRIT_TYPE_F32, TRIT_TYPE_F16, TRIT_TYPE_Q8_0 };

	for (size_t c = 0; c < 3; c++) {
		uint64_t d = caches[c] == TRIT_TYPE_Q8_0 ? 64 : 20;
		for (uint64_t gqa = 1; gqa <= 4; gqa *= 4)
			for (uint64_t t = 1; t <= 3; t += 2) {
				add(TRIT_OP_ATTENTION, caches[c], 0, d, 2 * gqa, t, 2, t == 3 ? CF_VIEW : 0);
				table[n_table - 1].ip[0] = t == 1 ? 7 : 19;
			}
		add(TRIT_OP_ATTENTION, caches[c], 0, 32, 4, 1, 1, 0);
		table[n_table - 1].ip[0] = 1;
		add(TRIT_OP_KV_WRITE, caches[c], 0, d, 2, 1, 16, 0);
		add(TRIT_OP_KV_WRITE, caches[c], 0, d, 2, 3, 16, CF_VIEW);
	}
}

static void add_cpy(void)
{
	static const uint32_t types[] = { TRIT_TYPE_F32, TRIT_TYPE_F16, TRIT_TYPE_BF16, TRIT_TYPE_Q8_0 };

	for (size_t a = 0; a < 4; a++)
		for (size_t b = 0; b < 4; b++) {
			int q8 = types[a] == TRIT_TYPE_Q8_0 || types[b] == TRIT_TYPE_Q8_0;
			add(TRIT_OP_CPY, types[a], types[b], q8 ? 96 : 37, 3, 1, 0, 0);
			add(TRIT_OP_CPY, types[a], types[b], q8 ? 64 : 19, 2, 1, 0, CF_VIEW);
		}
}

static void build(void)
{
	add_get_rows();
	add_elementwise();
	add_rope();
	add_cache_ops();
	add(TRIT_OP_QUANTIZE_ACT, TRIT_TYPE_F32, 0, 37, 1, 0, 0, 0);
	add(TRIT_OP_QUANTIZE_ACT, TRIT_TYPE_F32, 0, 256, 3, 0, 0, 0);
	add(TRIT_OP_QUANTIZE_ACT, TRIT_TYPE_F32, 0, 100, 2, 0, 0, CF_VIEW);
	add_matmul();
	add_cpy();
	add(CF_OP_BUFFER, TRIT_TYPE_I8, 0, 1001, 0, 0, 0, 0);
}

size_t cf_cases(const struct cf_case **out)
{
	if (!n_table)
		build();
	*out = table;
	return n_table;
}

int cf_case_has_type(const struct cf_case *c, uint32_t type)
{
	return c->t0 == type || (c->op == TRIT_OP_CPY && c->t1 == type) ||
	       (c->op == TRIT_OP_MATMUL && (c->flags & CF_I8) && type == TRIT_TYPE_I8);
}

void cf_case_label(const struct cf_case *c, char *buf, size_t len)
{
	const char *t0 = trit_type_traits(c->t0)->name;
	int n;

	switch (c->op) {
	case TRIT_OP_GET_ROWS:
		n = snprintf(buf, len, "GET_ROWS %s K=%llu rows=%llu T=%llu", t0, (unsigned long long)c->d[0],
		             (unsigned long long)c->d[1], (unsigned long long)c->d[2]);
		break;
	case TRIT_OP_ROPE:
		n = snprintf(buf, len, "ROPE %s head_dim=%llu n_rot=%d heads=%llu T=%llu pos0=%llu freq_scale=%g",
		             c->ip[0] == TRIT_ROPE_NEOX ? "NEOX" : "NORMAL", (unsigned long long)c->d[0], c->ip[1],
		             (unsigned long long)c->d[1], (unsigned long long)c->d[2], (unsigned long long)c->d[3],
		             (double)c->fp[1]);
		break;
	case TRIT_OP_ATTENTION:
		n = snprintf(buf, len, "ATTENTION cache=%s D=%llu Hq=%llu Hkv=%llu T=%llu n_kv=%d", t0,
		             (unsigned long long)c->d[0], (unsigned long long)c->d[1], (unsigned long long)c->d[3],
		             (unsigned long long)c->d[2], c->ip[0]);
		break;
	case TRIT_OP_MATMUL:
		n = snprintf(buf, len, "MATMUL %s x %s K=%llu M=%llu T=%llu", t0, c->flags & CF_I8 ? "I8" : "F32",
		             (unsigned long long)c->d[0], (unsigned long long)c->d[1], (unsigned long long)c->d[2]);
		break;
	case TRIT_OP_CPY:
		n = snprintf(buf, len, "CPY %s->%s ne=%llux%llu", t0, trit_type_traits(c->t1)->name,
		             (unsigned long long)c->d[0], (unsigned long long)c->d[1]);
		break;
	case TRIT_OP_KV_WRITE:
		n = snprintf(buf, len, "KV_WRITE cache=%s D=%llu Hkv=%llu T=%llu n_ctx=%llu", t0,
		             (unsigned long long)c->d[0], (unsigned long long)c->d[1], (unsigned long long)c->d[2],
		             (unsigned long long)c->d[3]);
		break;
	case CF_OP_BUFFER:
		n = snprintf(buf, len, "BUFFER write/copy/read %llu bytes", (unsigned long long)c->d[0]);
		break;
	default:
		n = snprintf(buf, len, "%s %s ne=%llux%llux%llu", cf_op_name(c->op), t0,
		             (unsigned long long)c->d[0], (unsigned long long)c->d[1],
		             (unsigned long long)(c->d[2] ? c->d[2] : 1));
		if (c->op == TRIT_OP_GLU && n > 0 && (size_t)n < len)
			n += snprintf(buf + n, len - (size_t)n, " act=%s", cf_op_name((uint32_t)c->ip[0]));
	}
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%s%s%s%s%s", c->flags & CF_INPLACE ? " in-place" : "",
		         c->flags & CF_VIEW ? " strided" : "", c->flags & CF_BCAST ? " y=row" : "",
		         c->flags & CF_SCALAR ? " y=scalar" : "", c->flags & CF_NOGAMMA ? " no-weight" : "");
}
