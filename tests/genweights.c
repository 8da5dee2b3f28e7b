/*
 * genweights.c - real, seeded weights for trit-genmodel (--weights ternary),
 * for cross-checking trit's forward pass against llama.cpp on small models.
 *
 * Every tensor's values depend only on the seed and the tensor's name (its
 * own PRNG stream), never on the file type or the tensor order, so F32,
 * TQ2_0 and I2_S files of one seed hold the same trits and scales: a ternary
 * scale is chosen exactly representable in f16, so TQ2_0's f16 block scale
 * and I2_S's f32 tensor scale both hold it without rounding. The PRNG is
 * splitmix64 and the normal-ish values are sums of uniforms (Irwin-Hall),
 * plain IEEE arithmetic, so every machine writes the same bytes.
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "core/common.h"
#include "formats/ternary.h"
#include "genweights.h"
#include "model/gguf.h"

/* ------------------------------------------------------------ shapes */

/*
 * Small models of real layouts: llama with GQA (8 query heads over 2 KV
 * heads), Microsoft's bitnet-b1.58 (sub-norms, ReLU^2 FFN, tied embeddings;
 * bitnet.cpp's architecture string, which llama.cpp does not load) and
 * llama.cpp's own `bitnet` (the same tensors; llama.cpp runs it with a SiLU
 * FFN). Row lengths (256, 768) are whole TQ2_0 blocks (256) and I2_S blocks
 * (128); Q and O are n_embd x n_embd as llama.cpp's bitnet requires.
 */
#define REF(nm, arch, mt, ha, fam) .name = nm, .gguf_arch = arch, .hf_model_type = mt, \
	.hf_arch = ha, .family = fam, .tiny = true, .n_layer = 4, .n_embd = 256, .n_head = 8, \
	.n_head_kv = 2, .head_dim_k = 32, .head_dim_v = 32, .n_ff = 768, .n_vocab = 512, \
	.n_ctx_train = 512, .n_rot = 32, .rope_base = 10000, .norm_eps = 1e-5, \
	.tok_model = "gpt2", .tok_pre = "llama-bpe", .n_merges = 64
static const struct shape ref_shapes[] = {
	{ REF("ref-llama", "llama", "llama", "LlamaForCausalLM", SHAPE_LLAMA),
	  .source = "trit: small llama with GQA for forward-pass cross-checks" },
	{ REF("ref-bitnet-b1.58", "bitnet-b1.58", "bitnet", "BitNetForCausalLM", SHAPE_BITNET),
	  .tied = true, .ternary_packed = true,
	  .source = "trit: BitNet-b1.58-2B-4T's layout (bitnet.cpp arch), small" },
	{ REF("ref-bitnet", "bitnet", "bitnet", "BitNetForCausalLM", SHAPE_BITNET), .tied = true,
	  .source = "trit: llama.cpp's bitnet architecture, small" },
};
#undef REF

const struct shape *gw_ref_shape(size_t i)
{
	return i < sizeof ref_shapes / sizeof ref_shapes[0] ? &ref_shapes[i] : NULL;
}

const struct shape *gw_shape_find(const char *name)
{
	for (size_t i = 0; gw_ref_shape(i); i++)
		if (strcmp(ref_shapes[i].name, name) == 0)
			return &ref_shapes[i];
	return NULL;
}

/* ------------------------------------------------------------ PRNG */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint64_t fnv1a(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * UINT64_C(0x100000001B3);
	return h;
}

#define FNV_START UINT64_C(0xCBF29CE484222325)

/* A stream of its own for each (seed, tensor name). */
static void rng_init(struct rng *r, uint32_t seed, const char *name)
{
	r->s = fnv1a(name, strlen(name), FNV_START) ^ ((uint64_t)seed * UINT64_C(0xD1B54A32D192ED03));
	rng_next(r);
}

/* Uniform in [0, 1), 53 bits. */
static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1p-53;
}

/* -1, 0 or +1, each with probability 1/3 (to 2^-32). */
static int rng_trit(struct rng *r)
{
	return (int)(((rng_next(r) >> 32) * 3) >> 32) - 1;
}

/* Mean 0, variance 1, within +-2 sqrt(3): the sum of four uniforms. */
static double rng_normalish(struct rng *r)
{
	double s = rng_unit(r) + rng_unit(r) + rng_unit(r) + rng_unit(r);
	return (s - 2.0) * sqrt(3.0);
}

/* ------------------------------------------------------------ values */

const char *gw_kind_name(enum gw_kind k)
{
	static const char *const names[] = { "ternary", "embed", "norm", "bias", "ones" };
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static enum gw_kind kind_of(const char *name, uint32_t n_dims)
{
	if (strcmp(name, "rope_freqs.weight") == 0)
		return GW_ONES;
	if (n_dims < 2)
		return ends_with(name, ".weight") ? GW_NORM : GW_BIAS;
	if (strcmp(name, "token_embd.weight") == 0 || strcmp(name, "output.weight") == 0 ||
	    strcmp(name, "position_embd.weight") == 0)
		return GW_EMBED;
	return GW_TERNARY;
}

/* f rounded to the nearest f16 value, as a float (exact in both). */
static float f16_round(float f)
{
	return trit_f16_to_f32(trit_f32_to_f16(f));
}

/*
 * The ternary scale: with about 2/3 of the trits non-zero, a row of K of
 * them times inputs of unit RMS has an RMS of scale * sqrt(2K/3); the scale
 * makes that about 1 (times a per-tensor gain in [0.75, 1.25), so tensors
 * differ), rounded to f16.
 */
static float ternary_scale(struct rng *r, uint64_t cols)
{
	double gain = 0.75 + 0.5 * rng_unit(r);
	return f16_round((float)(gain / sqrt(2.0 * (double)cols / 3.0)));
}

static void fill(struct gw_tensor *t, struct rng *r)
{
	uint64_t n = t->rows * t->cols;
	double sd = 3.0 / sqrt((double)t->cols);

	if (t->kind == GW_TERNARY)
		t->scale = ternary_scale(r, t->cols);
	for (uint64_t i = 0; i < n; i++) {
		switch (t->kind) {
		case GW_TERNARY:
			t->trit[i] = (int8_t)rng_trit(r);
			t->value[i] = (float)t->trit[i] * t->scale;
			break;
		case GW_EMBED: t->value[i] = (float)(sd * rng_normalish(r)); break;
		case GW_NORM: t->value[i] = (float)(1.0 + 0.05 * rng_normalish(r)); break;
		case GW_BIAS: t->value[i] = (float)(0.02 * rng_normalish(r)); break;
		case GW_ONES: t->value[i] = 1.0f; break;
		}
	}
}

int gw_generate(const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t seed,
                struct gw_tensor *t, char *err, size_t errlen)
{
	struct rng r;
	uint64_t n;

	memset(t, 0, sizeof *t);
	t->kind = kind_of(name, n_dims);
	t->cols = ne[0];
	t->rows = 1;
	for (uint32_t d = 1; d < n_dims; d++)
		t->rows *= ne[d];
	n = t->rows * t->cols;
	if (n == 0 || n > (UINT64_C(1) << 32))
		return trit_errf(err, errlen, TRIT_ERANGE, "tensor %s: %" PRIu64 " elements; "
		                 "--weights writes tensors of 1 to 2^32 elements", name, n);
	t->value = malloc(n * sizeof *t->value);
	if (t->kind == GW_TERNARY)
		t->trit = malloc(n);
	if (!t->value || (t->kind == GW_TERNARY && !t->trit)) {
		gw_tensor_free(t);
		return trit_errf(err, errlen, TRIT_ENOMEM, "tensor %s: out of memory for %" PRIu64
		                 " values", name, n);
	}
	rng_init(&r, seed, name);
	fill(t, &r);
	return 0;
}

void gw_tensor_free(struct gw_tensor *t)
{
	free(t->trit);
	free(t->value);
	t->trit = NULL;
	t->value = NULL;
}

/* ------------------------------------------------------------ encoders */

int gw_type_fits(enum gw_kind k, uint32_t type)
{
	if (type == TRIT_GGML_F32 || type == TRIT_GGML_F16)
		return 1;
	return k == GW_TERNARY &&
	       (type == TRIT_GGML_Q8_0 || type == TRIT_GGML_TQ2_0 || type == TRIT_GGML_I2_S);
}

/* One TQ2_0 row: 256-trit blocks of qs[64] (trit + 1, element e in byte
 * (e / 128) * 32 + e % 32 at bits 2 * ((e % 128) / 32)) and the f16 d. */
static void tq2_0_row(const int8_t *trit, uint64_t cols, uint16_t d, unsigned char *out)
{
	for (uint64_t b = 0; b < cols / TRIT_QK_K; b++, out += TRIT_TQ2_0_BYTES) {
		memset(out, 0, 64);
		for (int e = 0; e < TRIT_QK_K; e++) {
			int code = trit[b * TRIT_QK_K + (uint64_t)e] + 1;
			out[(e / 128) * 32 + e % 32] |= (unsigned char)(code << (2 * ((e % 128) / 32)));
		}
		out[64] = (unsigned char)(d & 0xff);
		out[65] = (unsigned char)(d >> 8);
	}
}

/* Bytes `type` takes for t, or 0 when t's rows do not fit its blocks. */
static uint64_t encoded_bytes(const struct gw_tensor *t, uint32_t type)
{
	uint64_t n = t->rows * t->cols;

	switch (type) {
	case TRIT_GGML_F32: return n * 4;
	case TRIT_GGML_F16: return n * 2;
	case TRIT_GGML_Q8_0: return t->cols % 32 ? 0 : n / 32 * TRIT_Q8_0_BYTES;
	case TRIT_GGML_TQ2_0: return t->cols % 256 ? 0 : n / 256 * TRIT_TQ2_0_BYTES;
	case TRIT_GGML_I2_S: return t->cols % 128 ? 0 : trit_ternary_bytes(TRIT_TYPE_I2_S, t->rows, t->cols);
	default: return 0;
	}
}

int gw_encode(const struct gw_tensor *t, uint32_t type, void *out, uint64_t size, char *err,
              size_t errlen)
{
	unsigned char *o = out;
	uint64_t n = t->rows * t->cols, want = encoded_bytes(t, type);

	if (!gw_type_fits(t->kind, type) || want == 0 || want != size)
		return trit_errf(err, errlen, TRIT_EINVAL, "cannot encode a %s tensor of %" PRIu64
		                 " x %" PRIu64 " as GGML type %u in %" PRIu64 " bytes",
		                 gw_kind_name(t->kind), t->rows, t->cols, type, size);
	switch (type) {
	case TRIT_GGML_F32:
		memcpy(o, t->value, n * 4);
		return 0;
	case TRIT_GGML_F16:
		for (uint64_t i = 0; i < n; i++) {
			uint16_t h = trit_f32_to_f16(t->value[i]);
			o[2 * i] = (unsigned char)(h & 0xff);
			o[2 * i + 1] = (unsigned char)(h >> 8);
		}
		return 0;
	case TRIT_GGML_Q8_0:
		for (uint64_t b = 0; b < n / 32; b++)
			trit_q8_0_quantize_block(t->value + 32 * b, o + TRIT_Q8_0_BYTES * b);
		return 0;
	case TRIT_GGML_TQ2_0:
		for (uint64_t r = 0; r < t->rows; r++)
			tq2_0_row(t->trit + r * t->cols, t->cols, trit_f32_to_f16(t->scale),
			          o + r * (t->cols / 256) * TRIT_TQ2_0_BYTES);
		return 0;
	default: /* I2_S: trit's packer, which takes ternary floats exactly */
		return trit_ternary_pack(TRIT_TYPE_I2_S, o, size, TRIT_TYPE_F32, t->value, n * 4,
		                         t->rows, t->cols, err, errlen);
	}
}

/* ------------------------------------------------------------ --tokenizer-from */

static void le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Bytes of a scalar GGUF value type; 0 for strings and arrays. */
static int scalar_size(uint32_t type)
{
	static const int size[] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };
	return type < sizeof size / sizeof size[0] ? size[type] : 0;
}

/* The value of kv as JSON into out (strings escaped and cut at ~200 bytes). */
static void kv_json(const struct trit_gguf_kv *kv, char *out, size_t len)
{
	size_t j = 0;

	switch (kv->type) {
	case TRIT_GGUF_ARRAY: snprintf(out, len, "{\"count\": %" PRIu64 "}", kv->arr_count); return;
	case TRIT_GGUF_BOOL: snprintf(out, len, "%s", kv->v.u ? "true" : "false"); return;
	case TRIT_GGUF_F32: case TRIT_GGUF_F64: snprintf(out, len, "%.9g", kv->v.f); return;
	case TRIT_GGUF_I8: case TRIT_GGUF_I16: case TRIT_GGUF_I32: case TRIT_GGUF_I64:
		snprintf(out, len, "%" PRId64, kv->v.i);
		return;
	case TRIT_GGUF_STRING: break;
	default: snprintf(out, len, "%" PRIu64, kv->v.u); return;
	}
	out[j++] = '"';
	for (uint64_t i = 0; i < kv->v.str.len && j + 8 < len && i < 200; i++) {
		unsigned char c = (unsigned char)kv->v.str.s[i];
		if (c < 0x20)
			j += (size_t)snprintf(out + j, 7, "\\u%04x", c);
		else {
			if (c == '"' || c == '\\')
				out[j++] = '\\';
			out[j++] = (char)c;
		}
	}
	out[j++] = '"';
	out[j] = '\0';
}

/* The value bytes of kv as a GGUF stores them after its type word. */
static int kv_bytes(const struct trit_gguf_kv *kv, struct gw_kv *o)
{
	int n = scalar_size(kv->type);
	uint64_t v = kv->type == TRIT_GGUF_F32 ? 0 : kv->v.u;

	if (kv->type == TRIT_GGUF_STRING)
		o->len = 8 + kv->v.str.len;
	else if (kv->type == TRIT_GGUF_ARRAY)
		o->len = 12 + kv->arr_bytes;
	else
		o->len = (size_t)n;
	if (!(o->val = malloc(o->len ? o->len : 1)))
		return TRIT_ENOMEM;
	if (kv->type == TRIT_GGUF_STRING) {
		le(o->val, kv->v.str.len, 8);
		memcpy(o->val + 8, kv->v.str.s, kv->v.str.len);
	} else if (kv->type == TRIT_GGUF_ARRAY) {
		le(o->val, kv->arr_type, 4);
		le(o->val + 4, kv->arr_count, 8);
		memcpy(o->val + 12, kv->arr_data, kv->arr_bytes);
	} else if (kv->type == TRIT_GGUF_F32) {
		float f = (float)kv->v.f;
		memcpy(o->val, &f, 4);
	} else if (kv->type == TRIT_GGUF_F64) {
		memcpy(o->val, &kv->v.f, 8);
	} else {
		le(o->val, v, n); /* integers and bool: two's complement fits v.u */
	}
	return 0;
}

static int copy_kv(const struct trit_gguf_kv *kv, struct gw_kv *o)
{
	char json[256];

	memset(o, 0, sizeof *o);
	o->type = kv->type;
	kv_json(kv, json, sizeof json);
	o->key = malloc(kv->key.len + 1);
	o->json = strdup(json);
	if (!o->key || !o->json)
		return TRIT_ENOMEM;
	memcpy(o->key, kv->key.s, kv->key.len);
	o->key[kv->key.len] = '\0';
	return kv_bytes(kv, o);
}

int gw_tokenizer_load(const char *path, struct gw_kv **kv, size_t *n, uint32_t *n_vocab,
                      char *err, size_t errlen)
{
	struct trit_gguf *g = NULL;
	const struct trit_gguf_kv *tok;
	int rc = trit_gguf_open(path, &g, err, errlen);

	*kv = NULL;
	*n = 0;
	if (rc)
		return rc;
	tok = trit_gguf_find(g, "tokenizer.ggml.tokens");
	if (!tok || tok->type != TRIT_GGUF_ARRAY || tok->arr_type != TRIT_GGUF_STRING ||
	    tok->arr_count == 0 || tok->arr_count > UINT32_MAX) {
		trit_gguf_close(g);
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: tokenizer.ggml.tokens: expected an "
		                 "array of 1 to 2^32-1 strings (the vocabulary), found %s", path,
		                 tok ? "another type or size" : "no such key");
	}
	*n_vocab = (uint32_t)tok->arr_count;
	if (!(*kv = calloc(g->n_kv ? g->n_kv : 1, sizeof **kv)))
		rc = TRIT_ENOMEM;
	for (uint64_t i = 0; !rc && i < g->n_kv; i++) {
		const struct trit_gguf_kv *p = &g->kv[i];
		if (p->key.len < 10 || memcmp(p->key.s, "tokenizer.", 10) != 0)
			continue;
		rc = copy_kv(p, &(*kv)[(*n)++]);
	}
	trit_gguf_close(g);
	if (rc) {
		gw_kv_free(*kv, *n);
		*kv = NULL;
		*n = 0;
		return trit_errf(err, errlen, rc, "%s: out of memory copying the tokenizer", path);
	}
	return 0;
}

void gw_kv_free(struct gw_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].json);
		free(kv[i].val);
	}
	free(kv);
}

/* ------------------------------------------------------------ --verify: decoders */

/*
 * Decoding a file's tensor into got (rows, cols and kind set by the caller;
 * trit/value allocated as for the expected tensor). Each decoder reads its
 * format through the SDK's own readers (trit/quant.h, trit/ternary.h), not
 * through the encoders above, and names what it found malformed.
 */

/* Ternary weights stored as floats: one magnitude, the scale. */
static int trits_of_floats(struct gw_tensor *got, const char *name, char *err, size_t errlen)
{
	uint64_t n = got->rows * got->cols;

	got->scale = 0.0f;
	for (uint64_t i = 0; i < n; i++) {
		float v = got->value[i], a = fabsf(v);
		if (a != 0.0f && got->scale == 0.0f)
			got->scale = a;
		if (a != 0.0f && a != got->scale)
			return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: element %" PRIu64 " is %.9g;"
			                 " a ternary tensor holds 0 and +-%.9g only", name, i, (double)v,
			                 (double)got->scale);
		got->trit[i] = (int8_t)(v > 0.0f ? 1 : v < 0.0f ? -1 : 0);
	}
	return 0;
}

static int decode_q8_0(const unsigned char *p, struct gw_tensor *got, const char *name,
                       char *err, size_t errlen)
{
	uint64_t n = got->rows * got->cols;
	float d_all = 0.0f;
	int qmag = 0;

	for (uint64_t b = 0; b < n / 32; b++, p += TRIT_Q8_0_BYTES) {
		float d = trit_f16_to_f32(trit_rd16(p));
		for (int i = 0; i < 32; i++) {
			int q = (int8_t)p[2 + i], a = q < 0 ? -q : q;
			if (a && !qmag)
				qmag = a, d_all = d;
			if (a && (a != qmag || d != d_all))
				return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: Q8_0 block %" PRIu64
				                 " holds %d x %.9g; a ternary tensor has one value", name, b, q,
				                 (double)d);
			got->trit[32 * b + (uint64_t)i] = (int8_t)(q > 0 ? 1 : q < 0 ? -1 : 0);
		}
	}
	got->scale = d_all * (float)qmag;
	return 0;
}

static int decode_tq2_0(const unsigned char *p, struct gw_tensor *got, const char *name,
                        char *err, size_t errlen)
{
	uint64_t n = got->rows * got->cols;
	int8_t t[TRIT_QK_K];

	for (uint64_t b = 0; b < n / TRIT_QK_K; b++, p += TRIT_TQ2_0_BYTES) {
		float d = trit_tq2_0_block(p, t);
		if (b == 0)
			got->scale = d;
		if (d != got->scale)
			return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: TQ2_0 block %" PRIu64
			                 " has d %.9g, block 0 %.9g; one tensor scale expected", name, b,
			                 (double)d, (double)got->scale);
		for (int e = 0; e < TRIT_QK_K; e++) {
			if (t[e] > 1)
				return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: TQ2_0 block %" PRIu64
				                 " element %d has code 3 (no trit)", name, b, e);
			got->trit[b * TRIT_QK_K + (uint64_t)e] = t[e];
		}
	}
	return 0;
}

static int decode_i2_s(const unsigned char *p, uint64_t size, struct gw_tensor *got,
                       const char *name, char *err, size_t errlen)
{
	struct trit_ternary_geometry geo;

	if (trit_ternary_geometry(TRIT_TYPE_I2_S, got->rows, got->cols, &geo) ||
	    geo.total_bytes != size)
		return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: I2_S of %" PRIu64 " x %" PRIu64
		                 " takes %" PRIu64 " bytes, the file gives %" PRIu64, name, got->rows,
		                 got->cols, geo.total_bytes, size);
	for (uint64_t r = 0; r < got->rows; r++)
		for (uint64_t k = 0; k < got->cols; k++) {
			unsigned char byte = p[r * (geo.cols_pad / 4) + k / 128 * 32 + k % 32];
			if (((byte >> (6 - 2 * (k % 128 / 32))) & 3) == 3)
				return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: I2_S weight (%" PRIu64
				                 ", %" PRIu64 ") has code 3 (no trit)", name, r, k);
			got->trit[r * got->cols + k] = (int8_t)trit_ternary_get(TRIT_TYPE_I2_S, &geo, p, r, k);
		}
	got->scale = trit_ternary_scale(p, geo.data_bytes);
	return 0;
}

/* Floats as stored into got->value. */
static void decode_floats(const unsigned char *p, uint32_t type, struct gw_tensor *got)
{
	uint64_t n = got->rows * got->cols;

	for (uint64_t i = 0; i < n; i++) {
		if (type == TRIT_GGML_F32)
			memcpy(&got->value[i], p + 4 * i, 4);
		else
			got->value[i] = trit_f16_to_f32(trit_rd16(p + 2 * i));
	}
}

static int decode(const unsigned char *p, uint64_t size, uint32_t type, struct gw_tensor *got,
                  const char *name, char *err, size_t errlen)
{
	if (!gw_type_fits(got->kind, type))
		return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: a %s tensor stored as GGML "
		                 "type %u, which --weights never writes", name, gw_kind_name(got->kind),
		                 type);
	switch (type) {
	case TRIT_GGML_Q8_0: return decode_q8_0(p, got, name, err, errlen);
	case TRIT_GGML_TQ2_0: return decode_tq2_0(p, got, name, err, errlen);
	case TRIT_GGML_I2_S: return decode_i2_s(p, size, got, name, err, errlen);
	default:
		decode_floats(p, type, got);
		return got->kind == GW_TERNARY ? trits_of_floats(got, name, err, errlen) : 0;
	}
}

/* ------------------------------------------------------------ --verify: comparing */

/* What the file should hold: the expected value as `type` stores it. */
static float stored(float v, uint32_t type)
{
	return type == TRIT_GGML_F16 ? f16_round(v) : v;
}

static int compare(const struct gw_tensor *want, const struct gw_tensor *got, uint32_t type,
                   const char *name, char *err, size_t errlen)
{
	uint64_t n = want->rows * want->cols;
	/* Q8_0 keeps d = scale / 127 in f16: the scale comes back within f16 rounding */
	float tol = type == TRIT_GGML_Q8_0 ? want->scale * 0x1p-10f : 0.0f;

	for (uint64_t i = 0; i < n; i++) {
		if (want->kind == GW_TERNARY && want->trit[i] != got->trit[i])
			return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: weight (%" PRIu64 ", %"
			                 PRIu64 ") has trit %d, the seed says %d", name, i / want->cols,
			                 i % want->cols, got->trit[i], want->trit[i]);
		if (want->kind != GW_TERNARY && stored(want->value[i], type) != got->value[i])
			return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: element %" PRIu64 " is %.9g,"
			                 " the seed says %.9g", name, i, (double)got->value[i],
			                 (double)stored(want->value[i], type));
	}
	if (want->kind == GW_TERNARY && fabsf(got->scale - want->scale) > tol)
		return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: scale %.9g, the seed says %.9g",
		                 name, (double)got->scale, (double)want->scale);
	return 0;
}

static void digest(FILE *out, const struct gw_tensor *got, const char *name, const char *type)
{
	uint64_t n = got->rows * got->cols, count[3] = { 0, 0, 0 }, h = FNV_START;

	fprintf(out, "%s %s %s", name, gw_kind_name(got->kind), type);
	if (got->kind == GW_TERNARY) {
		for (uint64_t i = 0; i < n; i++)
			count[got->trit[i] + 1]++;
		h = fnv1a(got->trit, n, h);
		fprintf(out, " scale=%.9g n-=%" PRIu64 " n0=%" PRIu64 " n+=%" PRIu64, (double)got->scale,
		        count[0], count[1], count[2]);
	} else {
		h = fnv1a(got->value, n * sizeof *got->value, h);
	}
	fprintf(out, " fnv=%016" PRIx64 "\n", h);
}

static int read_at(int fd, void *buf, uint64_t len, uint64_t off)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t r = pread(fd, p, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

/* One tensor: regenerate, read, decode, compare, print its digest. */
static int verify_tensor(const char *path, int fd, const struct trit_gguf *g,
                         const struct trit_gguf_tensor *t, uint32_t seed, FILE *out, char *err,
                         size_t errlen)
{
	char name[256];
	struct gw_tensor want, got;
	unsigned char *buf = NULL;
	int rc;

	snprintf(name, sizeof name, "%.*s", (int)(t->name.len < 200 ? t->name.len : 200), t->name.s);
	if ((rc = gw_generate(name, t->n_dims, t->ne, seed, &want, err, errlen)))
		return rc;
	if ((rc = gw_generate(name, t->n_dims, t->ne, seed, &got, err, errlen))) {
		gw_tensor_free(&want);
		return rc;
	}
	if (!(buf = malloc(t->size ? t->size : 1)))
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "tensor %s: out of memory", name);
	else if (read_at(fd, buf, t->size, g->data_offset + t->offset))
		rc = trit_errf(err, errlen, TRIT_EIO, "%s: tensor %s: cannot read %" PRIu64 " bytes at "
		               "offset %" PRIu64, path, name, t->size, g->data_offset + t->offset);
	if (!rc)
		rc = decode(buf, t->size, t->type_id, &got, name, err, errlen);
	if (!rc)
		rc = compare(&want, &got, t->type_id, name, err, errlen);
	if (!rc)
		digest(out, &got, name, t->type->name);
	free(buf);
	gw_tensor_free(&want);
	gw_tensor_free(&got);
	return rc;
}

int gw_verify(const char *path, FILE *out, char *err, size_t errlen)
{
	struct trit_gguf *g = NULL;
	uint64_t seed;
	int fd, rc = trit_gguf_open(path, &g, err, errlen);

	if (rc)
		return rc;
	if (trit_gguf_get_u64(g, GW_KEY_SEED, &seed) || seed > UINT32_MAX) {
		trit_gguf_close(g);
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: no %s key (a u32): not written by "
		                 "trit-genmodel --weights", path, GW_KEY_SEED);
	}
	if ((fd = open(path, O_RDONLY)) < 0) {
		trit_gguf_close(g);
		return trit_errf(err, errlen, TRIT_EIO, "%s: cannot open: %s", path, strerror(errno));
	}
	for (uint64_t i = 0; !rc && i < g->n_tensors; i++)
		rc = verify_tensor(path, fd, g, &g->tensors[i], (uint32_t)seed, out, err, errlen);
	close(fd);
	trit_gguf_close(g);
	return rc;
}
