/*
 * genmodel.c - trit-genmodel: writes model files of real published shapes
 * (tests/shapes.c) as GGUF v3 or SafeTensors, with complete headers and a
 * sparse, never-written data section, so a 70B-shaped fixture costs no disk.
 * It also prints the tensor table it expects, for independent cross-checks.
 * With --weights ternary it writes real, seeded weights instead (small
 * models for forward-pass cross-checks; see genweights.c) and --verify
 * decodes such a file back.
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <trit/backend.h>

#include "genweights.h"
#include "model/ggml_types.h"
#include "shapes.h"

#define ALIGNMENT 32u

static const char *prog = "trit-genmodel";

static void die(const char *fmt, ...) TRIT_PRINTF(1, 2) __attribute__((noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ------------------------------------------------------------ byte buffer */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			die("out of memory (%zu bytes)", cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

/* GGUF is little-endian; so are the machines trit runs on. */
static void put_u32(struct buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(struct buf *b, uint64_t v) { put(b, &v, 8); }
static void put_f32(struct buf *b, float v) { put(b, &v, 4); }
static void put_i32(struct buf *b, int32_t v) { put(b, &v, 4); }

static void put_str(struct buf *b, const char *s)
{
	put_u64(b, strlen(s));
	put(b, s, strlen(s));
}

static void put_text(struct buf *b, const char *fmt, ...) TRIT_PRINTF(2, 3);
static void put_text(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		die("internal: text piece too long");
	put(b, tmp, (size_t)n);
}

/* ------------------------------------------------------------ GGUF metadata */

enum { V_U32 = 4, V_I32 = 5, V_F32 = 6, V_BOOL = 7, V_STR = 8, V_ARR = 9 };

struct kvs {
	struct buf b;
	char **keys;
	char **vals; /* the value as JSON (arrays: {"count": N}), for --tensors-json */
	size_t n, cap;
};

/* Start a pair: its key and value type; the value bytes follow. */
static void key(struct kvs *k, uint32_t type, const char *json, const char *name)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 64;
		k->keys = realloc(k->keys, k->cap * sizeof *k->keys);
		k->vals = realloc(k->vals, k->cap * sizeof *k->vals);
		if (!k->keys || !k->vals)
			die("out of memory");
	}
	k->keys[k->n] = strdup(name);
	k->vals[k->n] = strdup(json);
	if (!k->keys[k->n] || !k->vals[k->n])
		die("out of memory");
	k->n++;
	put_str(&k->b, name);
	put_u32(&k->b, type);
}

#define KEYNAME(name, fmt) \
	char name[256]; \
	va_list ap; \
	va_start(ap, fmt); \
	vsnprintf(name, sizeof name, fmt, ap); \
	va_end(ap)

static void kv_u32(struct kvs *k, uint32_t v, const char *fmt, ...) TRIT_PRINTF(3, 4);
static void kv_u32(struct kvs *k, uint32_t v, const char *fmt, ...)
{
	char json[32];
	KEYNAME(name, fmt);
	snprintf(json, sizeof json, "%u", v);
	key(k, V_U32, json, name);
	put_u32(&k->b, v);
}

static void kv_f32(struct kvs *k, double v, const char *fmt, ...) TRIT_PRINTF(3, 4);
static void kv_f32(struct kvs *k, double v, const char *fmt, ...)
{
	char json[48];
	KEYNAME(name, fmt);
	snprintf(json, sizeof json, "%.9g", (double)(float)v);
	key(k, V_F32, json, name);
	put_f32(&k->b, (float)v);
}

static void kv_bool(struct kvs *k, bool v, const char *fmt, ...) TRIT_PRINTF(3, 4);
static void kv_bool(struct kvs *k, bool v, const char *fmt, ...)
{
	uint8_t byte = v;
	KEYNAME(name, fmt);
	key(k, V_BOOL, v ? "true" : "false", name);
	put(&k->b, &byte, 1);
}

static void kv_str(struct kvs *k, const char *v, const char *fmt, ...) TRIT_PRINTF(3, 4);
static void kv_str(struct kvs *k, const char *v, const char *fmt, ...)
{
	char json[512];
	size_t j = 0;
	KEYNAME(name, fmt);
	json[j++] = '"';
	for (const char *c = v; *c && j < sizeof json - 8; c++) {
		if (*c == '"' || *c == '\\')
			json[j++] = '\\';
		if ((unsigned char)*c < 0x20)
			j += (size_t)snprintf(json + j, 7, "\\u%04x", (unsigned char)*c);
		else
			json[j++] = *c;
	}
	json[j++] = '"';
	json[j] = '\0';
	key(k, V_STR, json, name);
	put_str(&k->b, v);
}

/* An array pair's header; the caller writes the count elements. */
static void kv_array(struct kvs *k, uint32_t elem_type, uint64_t count, const char *name)
{
	char json[48];
	snprintf(json, sizeof json, "{\"count\": %" PRIu64 "}", count);
	key(k, V_ARR, json, name);
	put_u32(&k->b, elem_type);
	put_u64(&k->b, count);
}

#define KV_U32(k, v, ...) kv_u32(k, v, __VA_ARGS__)
#define KV_F32(k, v, ...) kv_f32(k, v, __VA_ARGS__)
#define KV_STR(k, v, ...) kv_str(k, v, __VA_ARGS__)
#define KV_BOOL(k, v, ...) kv_bool(k, v, __VA_ARGS__)

/* llama.cpp's LLAMA_FTYPE for a tensor type, bitnet.cpp's for its own. */
static uint32_t file_type(const struct trit_ggml_type *t, enum trit_ggml_dialect d)
{
	static const struct { uint32_t type, ftype; } map[] = {
		{ 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 3 }, { 8, 7 }, { 6, 8 }, { 7, 9 }, { 10, 10 },
		{ 11, 12 }, { 12, 15 }, { 13, 17 }, { 14, 18 }, { 16, 19 }, { 17, 20 }, { 18, 23 },
		{ 19, 24 }, { 20, 25 }, { 21, 26 }, { 22, 28 }, { 23, 30 }, { 29, 31 }, { 30, 32 },
		{ 34, 36 }, { 35, 37 }, { 39, 38 },
	};
	if (d == TRIT_GGML_BITNET)
		return t->id == TRIT_GGML_I2_S ? 40 : t->id == TRIT_GGML_TL1 ? 38 : 39;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].type == t->id)
			return map[i].ftype;
	return 1;
}

/* bijective base-26 ("a".."z", "aa"...): unique strings of realistic length */
static void b26(char *out, uint64_t v)
{
	char tmp[16];
	int n = 0;

	v += 1;
	while (v && n < 15) {
		v -= 1;
		tmp[n++] = (char)('a' + v % 26);
		v /= 26;
	}
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

/* GPT-2's byte-to-unicode map: printable bytes stand for themselves, the
 * others are shifted to U+0100 onwards. Written as UTF-8. */
static void byte_token(char *out, unsigned byte)
{
	unsigned cp = byte, shift = 0;

	if (!((byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE)) {
		for (unsigned b = 0; b < byte; b++)
			if (!((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE))
				shift++;
		cp = 256 + shift;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		out[1] = '\0';
	} else {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		out[2] = '\0';
	}
}

/*
 * The tokenizer section, sized like a real one: token strings of typical
 * length, token types, SentencePiece scores or BPE merges. The strings are
 * synthetic (no real vocabulary is shipped) but unique.
 */
static void tokenizer(struct kvs *k, const struct shape *s, int with_arrays)
{
	bool bpe = strcmp(s->tok_model, "gpt2") == 0;
	uint32_t V = s->n_vocab, n_special = V >= 4096 ? 256 : 0;
	uint32_t n_merges = s->n_merges ? s->n_merges : (V > 512 ? V - 512 : 64);
	char tok[64];
	/* llama.cpp looks up "<|endoftext|>" by name in Phi-3's vocabulary (the
	 * real one has it as EOS, id 32000) and fails to load without it */
	int64_t eot = s->family == SHAPE_PHI3 && !bpe ? (int64_t)(s->eos_id >= 3 ? s->eos_id : V - 1) : -1;

	KV_STR(k, s->tok_model, "tokenizer.ggml.model");
	if (bpe)
		KV_STR(k, s->tok_pre, "tokenizer.ggml.pre");
	if (with_arrays) {
		kv_array(k, V_STR, V, "tokenizer.ggml.tokens");
		for (uint32_t i = 0; i < V; i++) {
			char w[16];
			b26(w, i);
			if (i == eot)
				snprintf(tok, sizeof tok, "<|endoftext|>");
			else if (bpe && i < 256)
				byte_token(tok, i);
			else if (!bpe && i < 3)
				snprintf(tok, sizeof tok, "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
			else if (!bpe && i < 259)
				snprintf(tok, sizeof tok, "<0x%02X>", i - 3);
			else if (i >= V - n_special)
				snprintf(tok, sizeof tok, "<|special_%u|>", i - (V - n_special));
			else
				snprintf(tok, sizeof tok, "%s%s", i % 2 ? (bpe ? "\xC4\xA0" : "\xE2\x96\x81") : "", w);
			put_str(&k->b, tok);
		}
		if (!bpe) {
			kv_array(k, V_F32, V, "tokenizer.ggml.scores");
			for (uint32_t i = 0; i < V; i++)
				put_f32(&k->b, -(float)i);
		}
		kv_array(k, V_I32, V, "tokenizer.ggml.token_type");
		for (uint32_t i = 0; i < V; i++) {
			int32_t type = 1; /* normal */
			if (i >= V - n_special || (!bpe && i < 3) || i == eot)
				type = 3; /* control */
			else if (!bpe && i < 259)
				type = 6; /* byte */
			put_i32(&k->b, type);
		}
		if (bpe) {
			kv_array(k, V_STR, n_merges, "tokenizer.ggml.merges");
			for (uint32_t j = 0; j < n_merges; j++) {
				char a[16], c[16];
				b26(a, j / 7);
				b26(c, j % 7 + j / 4096);
				snprintf(tok, sizeof tok, "\xC4\xA0%s %s", a, c);
				put_str(&k->b, tok);
			}
		}
	}
	KV_U32(k, s->bos_id, "tokenizer.ggml.bos_token_id");
	KV_U32(k, s->eos_id, "tokenizer.ggml.eos_token_id");
}

/* --tokenizer-from: the other file's tokenizer.* pairs, bytes unchanged. */
static void copy_tokenizer(struct kvs *k, const struct gw_kv *tok, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		key(k, tok[i].type, tok[i].json, tok[i].key);
		put(&k->b, tok[i].val, tok[i].len);
	}
}

/* The hyper-parameter keys, named as llama.cpp's converter writes them. */
static void hparams(struct kvs *k, const struct shape *s)
{
	const char *a = s->gguf_arch;
	bool mla = s->family == SHAPE_DEEPSEEK2;
	uint32_t n_ff = s->n_ff;

	if (s->family == SHAPE_LLAMA && s->n_expert) /* mixtral: the expert size */
		n_ff = s->n_ff_exp;
	KV_U32(k, s->n_vocab, "%s.vocab_size", a);
	KV_U32(k, s->n_ctx_train, "%s.context_length", a);
	KV_U32(k, s->n_embd, "%s.embedding_length", a);
	KV_U32(k, s->n_layer, "%s.block_count", a);
	KV_U32(k, n_ff, "%s.feed_forward_length", a);
	KV_U32(k, s->n_head, "%s.attention.head_count", a);
	/* MLA is stored as MQA over the compressed KV: one KV head of
	 * kv_lora_rank + rope dims (llama.cpp's converter since MLA absorption) */
	KV_U32(k, mla ? 1 : s->n_head_kv, "%s.attention.head_count_kv", a);
	if (mla) {
		KV_U32(k, s->kv_lora_rank + s->qk_rope_dim, "%s.attention.key_length", a);
		KV_U32(k, s->kv_lora_rank, "%s.attention.value_length", a);
		KV_U32(k, s->qk_nope_dim + s->qk_rope_dim, "%s.attention.key_length_mla", a);
		KV_U32(k, s->v_head_dim, "%s.attention.value_length_mla", a);
	} else if (s->head_dim_k * s->n_head != s->n_embd || s->head_dim_v != s->head_dim_k ||
	           s->family == SHAPE_GEMMA2 || s->family == SHAPE_GEMMA3) {
		KV_U32(k, s->head_dim_k, "%s.attention.key_length", a);
		KV_U32(k, s->head_dim_v, "%s.attention.value_length", a);
	}
	if (s->layer_norm)
		KV_F32(k, s->norm_eps, "%s.attention.layer_norm_epsilon", a);
	else
		KV_F32(k, s->norm_eps, "%s.attention.layer_norm_rms_epsilon", a);
	if (s->n_rot) {
		KV_U32(k, s->n_rot, "%s.rope.dimension_count", a);
		KV_F32(k, s->rope_base, "%s.rope.freq_base", a);
	}
	if (s->rope_base_local)
		KV_F32(k, s->rope_base_local, "%s.rope.freq_base_swa", a);
	if (mla && s->rope_scale) {
		KV_STR(k, "yarn", "%s.rope.scaling.type", a);
		KV_F32(k, s->rope_scale, "%s.rope.scaling.factor", a);
		KV_U32(k, s->rope_orig_ctx, "%s.rope.scaling.original_context_length", a);
		KV_F32(k, 0.1 * 0.707, "%s.rope.scaling.yarn_log_multiplier", a);
	}
	if (s->family == SHAPE_PHI3)
		KV_U32(k, s->rope_orig_ctx, "%s.rope.scaling.original_context_length", a);
	if (s->n_expert) {
		KV_U32(k, s->n_expert, "%s.expert_count", a);
		KV_U32(k, s->n_expert_used, "%s.expert_used_count", a);
		if (s->family != SHAPE_LLAMA)
			KV_U32(k, s->n_ff_exp, "%s.expert_feed_forward_length", a);
	}
	if (mla) {
		KV_U32(k, s->n_dense_lead, "%s.leading_dense_block_count", a);
		KV_U32(k, s->n_expert_shared, "%s.expert_shared_count", a);
		KV_F32(k, 1.0, "%s.expert_weights_scale", a);
		/* llama.cpp requires q_lora_rank unless block_count is 26 or 27
		 * (its guess for "lite" models, which have none); the converter
		 * omits it when the config's is null, as for V2-Lite, so a 0 is
		 * written only where that guess would fail (the tiny shape) */
		if (s->q_lora_rank || (s->n_layer != 26 && s->n_layer != 27))
			KV_U32(k, s->q_lora_rank, "%s.attention.q_lora_rank", a);
		KV_U32(k, s->kv_lora_rank, "%s.attention.kv_lora_rank", a);
	}
	if (s->family == SHAPE_QWEN3MOE && s->norm_topk)
		KV_BOOL(k, 1, "%s.expert_weights_norm", a);
	if (s->sliding_window)
		KV_U32(k, s->sliding_window, "%s.attention.sliding_window", a);
	if (s->attn_softcap)
		KV_F32(k, s->attn_softcap, "%s.attn_logit_softcapping", a);
	if (s->final_softcap)
		KV_F32(k, s->final_softcap, "%s.final_logit_softcapping", a);
	if (s->family == SHAPE_FALCON)
		KV_STR(k, "jploski", "%s.tensor_data_layout", a);
}

/* ------------------------------------------------------------ GGUF layout */

struct gtensor {
	const struct shape_tensor *t;
	const struct trit_ggml_type *type;
	uint64_t offset, size;
};

struct gguf_model {
	const struct shape *s;
	const struct trit_ggml_type *type;   /* --type */
	enum trit_ggml_dialect dialect;
	struct kvs kv;
	struct shape_tensor *list;
	struct gtensor *t;
	size_t n;
	struct buf hdr;
	uint64_t data_offset, data_size;
	/* --weights ternary: seeded values; embeddings and output as embd_type */
	bool weights;
	uint32_t seed;
	const struct trit_ggml_type *embd_type;
	/* --tokenizer-from: the tokenizer.* pairs copied */
	struct gw_kv *tok;
	size_t n_tok;
};

static const struct trit_ggml_type *type_of(uint32_t id, enum trit_ggml_dialect d)
{
	const struct trit_ggml_type *t = trit_ggml_type(id, d);
	if (!t)
		die("internal: no GGML type %u", id);
	return t;
}

/*
 * The type each tensor gets, as llama.cpp's quantizer chooses: 1-D
 * tensors, the MoE router and rope_freqs stay F32; the output matrix gets
 * Q6_K under block quantisation (Q4_K and TQ types: token_embd Q4_K too);
 * bitnet.cpp keeps embeddings F16 next to I2_S/TL weights.
 */
static const struct trit_ggml_type *tensor_type(const struct gguf_model *m,
                                                const struct shape_tensor *t)
{
	const struct trit_ggml_type *want = m->type;
	bool emb = t->flags & (ST_TOKEN_EMB | ST_POS_EMB), out = t->flags & ST_OUTPUT;

	if (m->weights) /* real values: matrices as --type, the rest float */
		return emb || out ? m->embd_type
		     : (t->flags & ST_MATRIX) && !(t->flags & (ST_ROUTER | ST_NOT_PARAM)) &&
		       t->n_dims >= 2 ? want : type_of(TRIT_GGML_F32, m->dialect);
	if (!(t->flags & ST_MATRIX) || (t->flags & (ST_ROUTER | ST_NOT_PARAM)) || t->n_dims < 2)
		return type_of(TRIT_GGML_F32, m->dialect);
	if (want->flags & (TRIT_GGML_FLOAT | TRIT_GGML_INT))
		return want;
	if (m->dialect == TRIT_GGML_BITNET)
		return emb || out ? type_of(TRIT_GGML_F16, m->dialect) : want;
	if (want->id == TRIT_GGML_TQ1_0 || want->id == TRIT_GGML_TQ2_0) {
		if (emb)
			return type_of(TRIT_GGML_Q4_K, m->dialect);
		if (out)
			return type_of(TRIT_GGML_Q6_K, m->dialect);
	}
	if (out)
		return type_of(t->ne[0] % 256 == 0 ? TRIT_GGML_Q6_K : TRIT_GGML_Q8_0, m->dialect);
	return want;
}

static void gguf_layout(struct gguf_model *m, int vocab_strings, const char *name)
{
	const struct shape *s = m->s;
	struct buf *h = &m->hdr;
	uint64_t off = 0;
	char err[256];

	m->list = shape_tensors(s, SHAPE_GGUF, &m->n);
	m->t = calloc(m->n ? m->n : 1, sizeof *m->t);
	if (!m->list || !m->t)
		die("out of memory");

	KV_STR(&m->kv, s->gguf_arch, "general.architecture");
	KV_STR(&m->kv, name ? name : s->name, "general.name");
	KV_U32(&m->kv, ALIGNMENT, "general.alignment");
	KV_U32(&m->kv, file_type(m->type, m->dialect), "general.file_type");
	if (!(m->type->flags & TRIT_GGML_FLOAT))
		KV_U32(&m->kv, 2, "general.quantization_version");
	if (m->weights) {
		KV_U32(&m->kv, m->seed, GW_KEY_SEED);
		KV_STR(&m->kv, "ternary", GW_KEY_WEIGHTS);
	}
	hparams(&m->kv, s);
	if (m->n_tok)
		copy_tokenizer(&m->kv, m->tok, m->n_tok);
	else
		tokenizer(&m->kv, s, vocab_strings);

	for (size_t i = 0; i < m->n; i++) {
		const struct shape_tensor *t = &m->list[i];
		struct gtensor *g = &m->t[i];
		g->t = t;
		g->type = tensor_type(m, t);
		if (g->type->id == TRIT_GGML_I2_S && m->dialect == TRIT_GGML_BITNET && t->ne[0] % 128)
			die("%s can't be written as I2_S: %s has rows of %" PRIu64 " elements and "
			    "I2_S packs blocks of 128 weights (see docs: FORMATS.md)",
			    s->name, t->name, t->ne[0]);
		if (trit_ggml_nbytes(g->type, t->n_dims, t->ne, &g->size, err, sizeof err) != 0)
			die("%s can't be written as %s: tensor %s (%" PRIu64 " x %" PRIu64 " x %" PRIu64
			    "): %s; pick a type whose block divides the row length",
			    s->name, m->type->name, t->name, t->ne[0], t->ne[1], t->ne[2], err);
		g->offset = off;
		off += (g->size + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
	}
	m->data_size = off;

	put(h, "GGUF", 4);
	put_u32(h, 3);
	put_u64(h, m->n);
	put_u64(h, m->kv.n);
	put(h, m->kv.b.p, m->kv.b.len);
	for (size_t i = 0; i < m->n; i++) {
		put_str(h, m->t[i].t->name);
		put_u32(h, m->t[i].t->n_dims);
		for (uint32_t d = 0; d < m->t[i].t->n_dims; d++)
			put_u64(h, m->t[i].t->ne[d]);
		put_u32(h, m->t[i].type->id);
		put_u64(h, m->t[i].offset);
	}
	while (h->len % ALIGNMENT)
		put(h, "", 1);
	m->data_offset = h->len;
}

/* Write header bytes, then extend the file to size without writing data:
 * the data section is a hole (sparse file). */
static void write_sparse(const char *path, const void *hdr, size_t len, uint64_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	const unsigned char *p = hdr;
	size_t done = 0;

	if (fd < 0)
		die("%s: cannot create: %s", path, strerror(errno));
	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("%s: write failed: %s", path, strerror(errno));
		}
		done += (size_t)w;
	}
	if (ftruncate(fd, (off_t)size) != 0)
		die("%s: cannot extend to %" PRIu64 " bytes: %s", path, size, strerror(errno));
	if (close(fd) != 0)
		die("%s: close failed: %s", path, strerror(errno));
}

/* --weights: each tensor's seeded values, encoded, at its offset. */
static void write_weights(const struct gguf_model *m, const char *path)
{
	int fd;
	char err[512];

	write_sparse(path, m->hdr.p, m->hdr.len, m->data_offset + m->data_size);
	if ((fd = open(path, O_WRONLY)) < 0)
		die("%s: cannot open for writing: %s", path, strerror(errno));
	for (size_t i = 0; i < m->n; i++) {
		const struct gtensor *g = &m->t[i];
		struct gw_tensor t;
		unsigned char *data = malloc(g->size ? g->size : 1);
		if (!data)
			die("out of memory (%" PRIu64 " bytes for %s)", g->size, g->t->name);
		if (gw_generate(g->t->name, g->t->n_dims, g->t->ne, m->seed, &t, err, sizeof err) ||
		    gw_encode(&t, g->type->id, data, g->size, err, sizeof err))
			die("%s: %s", path, err);
		for (uint64_t done = 0; done < g->size;) {
			ssize_t w = pwrite(fd, data + done, g->size - done,
			                   (off_t)(m->data_offset + g->offset + done));
			if (w < 0 && errno != EINTR)
				die("%s: write failed: %s", path, strerror(errno));
			done += w > 0 ? (uint64_t)w : 0;
		}
		gw_tensor_free(&t);
		free(data);
	}
	if (close(fd) != 0)
		die("%s: close failed: %s", path, strerror(errno));
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void gguf_json(const struct gguf_model *m, FILE *f)
{
	uint64_t elements = 0;

	fprintf(f, "{\n  \"shape\": ");
	json_str(f, m->s->name);
	fprintf(f, ",\n  \"architecture\": ");
	json_str(f, m->s->gguf_arch);
	fprintf(f, ",\n  \"type\": \"%s\",\n  \"dialect\": \"%s\",\n  \"version\": 3,\n"
	        "  \"alignment\": %u,\n  \"n_kv\": %zu,\n  \"keys\": [",
	        m->type->name, m->dialect == TRIT_GGML_BITNET ? "bitnet" : "mainline", ALIGNMENT,
	        m->kv.n);
	for (size_t i = 0; i < m->kv.n; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, m->kv.keys[i]);
	}
	fprintf(f, "],\n  \"values\": {");
	for (size_t i = 0; i < m->kv.n; i++) {
		fprintf(f, "%s\n    ", i ? "," : "");
		json_str(f, m->kv.keys[i]);
		fprintf(f, ": %s", m->kv.vals[i]);
	}
	for (size_t i = 0; i < m->n; i++)
		elements += m->t[i].t->ne[0] * m->t[i].t->ne[1] * m->t[i].t->ne[2];
	fprintf(f, "\n  },\n  \"n_tensors\": %zu,\n  \"data_offset\": %" PRIu64 ",\n"
	        "  \"file_size\": %" PRIu64 ",\n  \"params\": %" PRIu64 ",\n"
	        "  \"elements\": %" PRIu64 ",\n  \"tensors\": [\n",
	        m->n, m->data_offset, m->data_offset + m->data_size,
	        shape_count(m->s, SHAPE_GGUF, SCOPE_TOTAL), elements);
	for (size_t i = 0; i < m->n; i++) {
		const struct gtensor *g = &m->t[i];
		fprintf(f, "    {\"name\": ");
		json_str(f, g->t->name);
		fprintf(f, ", \"dims\": [");
		for (uint32_t d = 0; d < g->t->n_dims; d++)
			fprintf(f, "%s%" PRIu64, d ? ", " : "", g->t->ne[d]);
		fprintf(f, "], \"type\": %u, \"type_name\": \"%s\", \"offset\": %" PRIu64
		        ", \"size\": %" PRIu64 ", \"layer\": %d, \"role\": \"%s\"}%s\n",
		        g->type->id, g->type->name, g->offset, g->size, g->t->layer, g->t->role,
		        i + 1 < m->n ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
}

static void gguf_free(struct gguf_model *m)
{
	for (size_t i = 0; i < m->kv.n; i++) {
		free(m->kv.keys[i]);
		free(m->kv.vals[i]);
	}
	free(m->kv.keys);
	free(m->kv.vals);
	free(m->kv.b.p);
	free(m->hdr.p);
	free(m->list);
	free(m->t);
}

/* ------------------------------------------------------------ SafeTensors */

struct stensor {
	const struct shape_tensor *t;
	const char *dtype;
	uint64_t bytes;
	uint32_t shard;
};

static uint32_t dtype_size(const char *dtype)
{
	return strcmp(dtype, "F32") == 0 ? 4 : strcmp(dtype, "U8") == 0 ? 1 : 2;
}

static void st_shard_name(char *out, size_t len, uint32_t i, uint32_t n)
{
	if (n == 1)
		snprintf(out, len, "model.safetensors");
	else
		snprintf(out, len, "model-%05u-of-%05u.safetensors", i + 1, n);
}

static void put_double(struct buf *b, double v)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%.9g", v);
	put(b, tmp, strlen(tmp));
	if (!strpbrk(tmp, ".eEn"))
		put(b, ".0", 2); /* Python writes floats with a decimal point */
}

/*
 * config.json with the keys the real checkpoint's config has for these
 * hyper-parameters (architectures, sizes, MoE/MLA/sliding-window keys,
 * quantization_config for packed BitNet weights).
 */
static void config_json(struct buf *b, const struct shape *s, const char *dtype)
{
	const char *act = s->family == SHAPE_BITNET ? "relu2"
	                : s->family == SHAPE_GEMMA2 || s->family == SHAPE_GEMMA3 ? "gelu_pytorch_tanh"
	                : "silu";
	bool gpt2 = s->family == SHAPE_GPT2, falcon = s->family == SHAPE_FALCON;
	const char *torch_dtype = strcmp(dtype, "F32") == 0 ? "float32"
	                        : strcmp(dtype, "F16") == 0 ? "float16" : "bfloat16";

	put_text(b, "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n",
	         s->hf_arch, s->hf_model_type);
	if (gpt2) {
		put_text(b, "  \"n_embd\": %u,\n  \"n_layer\": %u,\n  \"n_head\": %u,\n"
		         "  \"n_ctx\": %u,\n  \"n_positions\": %u,\n  \"n_inner\": null,\n"
		         "  \"activation_function\": \"gelu_new\",\n",
		         s->n_embd, s->n_layer, s->n_head, s->n_ctx_train, s->n_ctx_train);
	} else {
		put_text(b, "  \"hidden_size\": %u,\n  \"num_hidden_layers\": %u,\n"
		         "  \"num_attention_heads\": %u,\n", s->n_embd, s->n_layer, s->n_head);
		if (!falcon)
			put_text(b, "  \"intermediate_size\": %u,\n  \"num_key_value_heads\": %u,\n"
			         "  \"max_position_embeddings\": %u,\n  \"hidden_act\": \"%s\",\n",
			         s->n_ff, s->n_head_kv, s->n_ctx_train, act);
		if (s->n_rot) {
			put_text(b, "  \"rope_theta\": ");
			put_double(b, s->rope_base);
			put_text(b, ",\n");
		}
	}
	if (falcon)
		put_text(b, "  \"multi_query\": %s,\n  \"num_kv_heads\": %u,\n  \"parallel_attn\": true,\n"
		         "  \"new_decoder_architecture\": false,\n  \"bias\": false,\n"
		         "  \"alibi\": false,\n", s->n_head_kv == 1 ? "true" : "false", s->n_head_kv);
	put_text(b, "  \"%s\": ", s->layer_norm ? "layer_norm_epsilon" : "rms_norm_eps");
	put_double(b, s->norm_eps);
	put_text(b, ",\n  \"vocab_size\": %u,\n  \"tie_word_embeddings\": %s,\n"
	         "  \"bos_token_id\": %u,\n  \"eos_token_id\": %u,\n  \"torch_dtype\": \"%s\"",
	         s->n_vocab, s->tied ? "true" : "false", s->bos_id, s->eos_id, torch_dtype);
	if (s->family == SHAPE_QWEN3 || s->family == SHAPE_QWEN3MOE || s->family == SHAPE_GEMMA2 ||
	    s->family == SHAPE_GEMMA3 || (!gpt2 && !falcon && s->family != SHAPE_DEEPSEEK2 &&
	                                  s->head_dim_k * s->n_head != s->n_embd))
		put_text(b, ",\n  \"head_dim\": %u", s->head_dim_k);
	if (s->llama3_rope) {
		put_text(b, ",\n  \"rope_scaling\": {\"factor\": ");
		put_double(b, s->rope_scale);
		put_text(b, ", \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, "
		         "\"original_max_position_embeddings\": %u, \"rope_type\": \"llama3\"}",
		         s->rope_orig_ctx);
	}
	switch (s->family) {
	case SHAPE_QWEN2:
		put_text(b, ",\n  \"use_sliding_window\": false,\n  \"sliding_window\": %u,\n"
		         "  \"max_window_layers\": %u", s->n_ctx_train, s->n_layer);
		break;
	case SHAPE_QWEN3:
		put_text(b, ",\n  \"attention_bias\": false,\n  \"use_sliding_window\": false");
		break;
	case SHAPE_QWEN3MOE:
		put_text(b, ",\n  \"attention_bias\": false,\n  \"num_experts\": %u,\n"
		         "  \"num_experts_per_tok\": %u,\n  \"moe_intermediate_size\": %u,\n"
		         "  \"norm_topk_prob\": %s,\n  \"decoder_sparse_step\": 1,\n"
		         "  \"mlp_only_layers\": []", s->n_expert, s->n_expert_used, s->n_ff_exp,
		         s->norm_topk ? "true" : "false");
		break;
	case SHAPE_DEEPSEEK2:
		put_text(b, ",\n  \"n_routed_experts\": %u,\n  \"n_shared_experts\": %u,\n"
		         "  \"num_experts_per_tok\": %u,\n  \"moe_intermediate_size\": %u,\n"
		         "  \"first_k_dense_replace\": %u,\n  \"moe_layer_freq\": 1,\n",
		         s->n_expert, s->n_expert_shared, s->n_expert_used, s->n_ff_exp, s->n_dense_lead);
		if (s->q_lora_rank)
			put_text(b, "  \"q_lora_rank\": %u,\n", s->q_lora_rank);
		else
			put_text(b, "  \"q_lora_rank\": null,\n");
		put_text(b, "  \"kv_lora_rank\": %u,\n  \"qk_rope_head_dim\": %u,\n"
		         "  \"qk_nope_head_dim\": %u,\n  \"v_head_dim\": %u,\n"
		         "  \"topk_method\": \"greedy\",\n  \"n_group\": 1,\n  \"topk_group\": 1,\n"
		         "  \"routed_scaling_factor\": 1.0,\n  \"scoring_func\": \"softmax\",\n"
		         "  \"norm_topk_prob\": false",
		         s->kv_lora_rank, s->qk_rope_dim, s->qk_nope_dim, s->v_head_dim);
		if (s->rope_scale) {
			put_text(b, ",\n  \"rope_scaling\": {\"type\": \"yarn\", \"factor\": ");
			put_double(b, s->rope_scale);
			put_text(b, ", \"original_max_position_embeddings\": %u, \"beta_fast\": 32, "
			         "\"beta_slow\": 1, \"mscale\": 0.707, \"mscale_all_dim\": 0.707}",
			         s->rope_orig_ctx);
		}
		break;
	case SHAPE_GEMMA2:
		put_text(b, ",\n  \"hidden_activation\": \"gelu_pytorch_tanh\",\n"
		         "  \"sliding_window\": %u,\n  \"query_pre_attn_scalar\": %u,\n"
		         "  \"cache_implementation\": \"hybrid\",\n  \"attn_logit_softcapping\": ",
		         s->sliding_window, s->head_dim_k);
		put_double(b, s->attn_softcap);
		put_text(b, ",\n  \"final_logit_softcapping\": ");
		put_double(b, s->final_softcap);
		break;
	case SHAPE_GEMMA3:
		put_text(b, ",\n  \"hidden_activation\": \"gelu_pytorch_tanh\",\n"
		         "  \"sliding_window\": %u,\n  \"sliding_window_pattern\": %u,\n"
		         "  \"query_pre_attn_scalar\": %u,\n  \"attn_logit_softcapping\": null,\n"
		         "  \"final_logit_softcapping\": null,\n  \"rope_scaling\": null,\n"
		         "  \"rope_local_base_freq\": ",
		         s->sliding_window, s->swa_period, s->head_dim_k);
		put_double(b, s->rope_base_local);
		break;
	case SHAPE_PHI3:
		put_text(b, ",\n  \"sliding_window\": %u,\n  \"original_max_position_embeddings\": %u,\n"
		         "  \"rope_scaling\": null", s->sliding_window, s->rope_orig_ctx);
		break;
	case SHAPE_LLAMA:
		if (s->n_expert)
			put_text(b, ",\n  \"num_local_experts\": %u,\n  \"num_experts_per_tok\": %u,\n"
			         "  \"sliding_window\": null,\n  \"router_aux_loss_coef\": 0.02",
			         s->n_expert, s->n_expert_used);
		break;
	default:
		break;
	}
	/* transformers' BitNet quantizer: packed U8 weights + weight_scale */
	if (s->ternary_packed)
		put_text(b, ",\n  \"quantization_config\": {\"quant_method\": \"bitnet\", "
		         "\"linear_class\": \"%s\", \"quantization_mode\": \"offline\"}",
		         s->family == SHAPE_BITNET ? "autobitlinear" : "bitlinear");
	put_text(b, "\n}\n");
}

static void write_file(const char *path, const void *p, size_t len)
{
	write_sparse(path, p, len, len);
}

static void join(char *out, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, len, "%s/%s", dir, name) >= len)
		die("%s/%s: path too long", dir, name);
}

static void safetensors(const struct shape *s, const char *dtype, uint32_t n_shards,
                        const char *dir)
{
	size_t n = 0;
	struct shape_tensor *list = shape_tensors(s, SHAPE_HF, &n);
	struct stensor *t = calloc(n ? n : 1, sizeof *t);
	uint64_t total = 0, acc = 0;
	char path[4096], name[64];
	struct buf cfg = { 0 };

	if (!list || !t)
		die("out of memory");
	if (n_shards < 1 || n_shards > n)
		die("--shards %u: %s has %zu tensors; use 1 to %zu shards", n_shards, s->name, n, n);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		die("%s: cannot create directory: %s", dir, strerror(errno));

	for (size_t i = 0; i < n; i++) {
		t[i].t = &list[i];
		t[i].dtype = list[i].flags & ST_PACKED ? "U8" : dtype;
		t[i].bytes = list[i].ne[0] * list[i].ne[1] * list[i].ne[2] * dtype_size(t[i].dtype);
		total += t[i].bytes;
	}
	/* shards of about equal bytes, in tensor order, none empty: move on when
	 * this shard has its share, or when the rest only just fill the others */
	for (size_t i = 0; i < n; i++) {
		uint32_t sh = i ? t[i - 1].shard : 0;
		bool full = acc >= total / n_shards * (sh + 1) || n - i == n_shards - sh - 1;
		if (i > 0 && sh + 1 < n_shards && full)
			sh++;
		t[i].shard = sh;
		acc += t[i].bytes;
	}

	for (uint32_t sh = 0; sh < n_shards; sh++) {
		struct buf h = { 0 }, file = { 0 };
		uint64_t off = 0, len;

		put_text(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
		for (size_t i = 0; i < n; i++) {
			if (t[i].shard != sh)
				continue;
			put_text(&h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t[i].t->name, t[i].dtype);
			for (uint32_t d = 0; d < t[i].t->n_dims; d++)
				put_text(&h, "%s%" PRIu64, d ? "," : "", t[i].t->ne[d]);
			put_text(&h, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off, off + t[i].bytes);
			off += t[i].bytes;
		}
		put_text(&h, "}");
		while (h.len % 8) /* the data section starts 8-aligned, as safetensors pads */
			put(&h, " ", 1);
		len = h.len;
		put_u64(&file, len);
		put(&file, h.p, h.len);
		st_shard_name(name, sizeof name, sh, n_shards);
		join(path, sizeof path, dir, name);
		write_sparse(path, file.p, file.len, file.len + off);
		free(h.p);
		free(file.p);
	}

	if (n_shards > 1) {
		struct buf idx = { 0 };
		put_text(&idx, "{\n  \"metadata\": {\"total_size\": %" PRIu64 "},\n  \"weight_map\": {\n",
		         total);
		for (size_t i = 0; i < n; i++) {
			st_shard_name(name, sizeof name, t[i].shard, n_shards);
			put_text(&idx, "    \"%s\": \"%s\"%s\n", t[i].t->name, name, i + 1 < n ? "," : "");
		}
		put_text(&idx, "  }\n}\n");
		join(path, sizeof path, dir, "model.safetensors.index.json");
		write_file(path, idx.p, idx.len);
		free(idx.p);
	}
	config_json(&cfg, s, dtype);
	join(path, sizeof path, dir, "config.json");
	write_file(path, cfg.p, cfg.len);
	free(cfg.p);
	free(list);
	free(t);
}

/* ------------------------------------------------------------ --list */

static void list_one(const struct shape *s)
{
	const struct shape_claim *c = &s->claims[0];
	size_t n = 0;
	struct shape_tensor *t = shape_tensors(s, SHAPE_GGUF, &n);
	uint64_t computed = shape_count(s, SHAPE_GGUF, c->scope ? c->scope : SCOPE_TOTAL);

	free(t);
	printf("%-20s %-13s %6u %8zu %16" PRIu64, s->name, s->gguf_arch, s->n_layer, n, computed);
	if (c->scope)
		printf(" %16" PRIu64 "  %-14s %s\n", c->value, shape_scope_name(c->scope),
		       shape_claim_holds(c, computed) ? (c->unit ? "yes (rounded)" : "yes (exact)")
		                                      : "NO");
	else
		printf(" %16s  %-14s %s\n", "-", s->tiny ? "(synthetic)" : "-", "-");
}

static void list_shapes(void)
{
	printf("%-20s %-13s %6s %8s %16s %16s  %-14s %s\n", "shape", "gguf arch", "layers",
	       "tensors", "computed", "published", "scope", "agrees");
	for (size_t i = 0; i < shapes_count; i++)
		list_one(&shapes[i]);
	for (size_t i = 0; gw_ref_shape(i); i++) /* for --weights (genweights.c) */
		list_one(gw_ref_shape(i));
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s --list\n"
	        "       %s --shape NAME --format gguf [--type TYPE] [--vocab-strings] [--name S] -o FILE\n"
	        "       %s --shape NAME --format gguf [--type TYPE] --tensors-json [-o FILE]\n"
	        "       %s --shape NAME --format safetensors [--dtype BF16|F16|F32] [--shards N] -o DIR\n"
	        "       %s --shape NAME --format gguf --weights ternary [--seed N] [--type TYPE]\n"
	        "          [--embd-type F32|F16] [--tokenizer-from FILE.gguf | --vocab-strings] -o FILE\n"
	        "       %s --verify FILE.gguf\n"
	        "       %s --tokenizer-digest FILE.gguf\n"
	        "TYPE is a GGML type name (F16, Q4_0, Q4_K, TQ2_0, I2_S, TL2...; default F16).\n"
	        "--vocab-strings adds the tokenizer arrays (tokens, token types, SentencePiece\n"
	        "scores or BPE merges), synthetic strings sized like the real vocabulary.\n"
	        "Tensor data is never written: files are sparse, sized as the real ones.\n"
	        "--weights ternary writes real values instead: every attention/FFN matrix holds\n"
	        "trits times one scale exact in f16, as TYPE (F32, F16, Q8_0, TQ2_0 or I2_S);\n"
	        "embeddings and output are normal-ish (--embd-type, default F32), norms 1 +-\n"
	        "noise. Values depend on --seed (default 1) and the tensor name only, so files\n"
	        "of one seed hold the same trits whatever their TYPE. The ref-* shapes are\n"
	        "small models for this. --tokenizer-from copies every tokenizer.* pair of\n"
	        "another GGUF (the vocabulary size follows). --verify decodes every tensor of\n"
	        "such a file, checks it against its seed and prints one digest line each.\n"
	        "--tokenizer-digest prints the count, vocabulary size and a hash of a GGUF's\n"
	        "tokenizer.* pairs (key, type, value bytes), to check what was copied.\n",
	        prog, prog, prog, prog, prog, prog, prog);
}

static const struct trit_ggml_type *parse_type(const char *name, enum trit_ggml_dialect *d)
{
	for (int dialect = TRIT_GGML_MAINLINE; dialect <= TRIT_GGML_BITNET; dialect++)
		for (uint32_t id = 0; id < 40; id++) {
			const struct trit_ggml_type *t = trit_ggml_type(id, (enum trit_ggml_dialect)dialect);
			if (t && strcmp(t->name, name) == 0) {
				*d = (id >= 36 && dialect == TRIT_GGML_BITNET) ? TRIT_GGML_BITNET
				                                               : TRIT_GGML_MAINLINE;
				return t;
			}
		}
	return NULL;
}

struct options {
	const char *shape, *format, *type, *dtype, *out, *name;
	const char *weights, *embd_type, *tokenizer_from, *verify, *tok_digest;
	int list, vocab, json;
	unsigned long shards, seed;
};

static unsigned long parse_count(const char *opt, const char *arg, unsigned long lo,
                                 unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < lo || v > hi)
		die("%s %s: expected a whole number from %lu to %lu", opt, arg, lo, hi);
	return v;
}

/* Returns -1 when the options are parsed, else the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum { O_LIST = 256, O_SHAPE, O_FORMAT, O_TYPE, O_VOCAB, O_DTYPE, O_SHARDS, O_JSON, O_NAME,
	       O_WEIGHTS, O_SEED, O_EMBD, O_TOKFROM, O_VERIFY, O_TOKDIGEST };
	static const struct option opts[] = {
		{ "list", no_argument, NULL, O_LIST },
		{ "shape", required_argument, NULL, O_SHAPE },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "type", required_argument, NULL, O_TYPE },
		{ "vocab-strings", no_argument, NULL, O_VOCAB },
		{ "dtype", required_argument, NULL, O_DTYPE },
		{ "shards", required_argument, NULL, O_SHARDS },
		{ "tensors-json", no_argument, NULL, O_JSON },
		{ "name", required_argument, NULL, O_NAME },
		{ "weights", required_argument, NULL, O_WEIGHTS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "embd-type", required_argument, NULL, O_EMBD },
		{ "tokenizer-from", required_argument, NULL, O_TOKFROM },
		{ "verify", required_argument, NULL, O_VERIFY },
		{ "tokenizer-digest", required_argument, NULL, O_TOKDIGEST },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case O_LIST: o->list = 1; break;
		case O_SHAPE: o->shape = optarg; break;
		case O_FORMAT: o->format = optarg; break;
		case O_TYPE: o->type = optarg; break;
		case O_VOCAB: o->vocab = 1; break;
		case O_DTYPE: o->dtype = optarg; break;
		case O_SHARDS: o->shards = parse_count("--shards", optarg, 1, 4096); break;
		case O_JSON: o->json = 1; break;
		case O_NAME: o->name = optarg; break;
		case O_WEIGHTS: o->weights = optarg; break;
		case O_SEED: o->seed = parse_count("--seed", optarg, 0, UINT32_MAX); break;
		case O_EMBD: o->embd_type = optarg; break;
		case O_TOKFROM: o->tokenizer_from = optarg; break;
		case O_VERIFY: o->verify = optarg; break;
		case O_TOKDIGEST: o->tok_digest = optarg; break;
		case 'o': o->out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

/* --weights, --embd-type and --tokenizer-from into m (s: a copy to resize). */
static void weights_options(const struct options *o, struct gguf_model *m, struct shape *s)
{
	enum trit_ggml_dialect d;
	char err[512];
	uint32_t n_vocab;

	if (o->weights && strcmp(o->weights, "ternary") != 0)
		die("--weights %s: the one kind is 'ternary'", o->weights);
	m->weights = o->weights != NULL;
	m->seed = (uint32_t)o->seed;
	if (!m->weights && (o->embd_type || o->seed != 1))
		die("--embd-type and --seed go with --weights ternary");
	if (m->weights) {
		if (!gw_type_fits(GW_TERNARY, m->type->id))
			die("--type %s: --weights ternary writes F32, F16, Q8_0, TQ2_0 or I2_S matrices",
			    m->type->name);
		m->embd_type = parse_type(o->embd_type ? o->embd_type : "F32", &d);
		if (!m->embd_type || !gw_type_fits(GW_EMBED, m->embd_type->id))
			die("--embd-type %s: expected F32 or F16", o->embd_type);
	}
	if (o->tokenizer_from) {
		if (o->vocab)
			die("--tokenizer-from and --vocab-strings both give the vocabulary; pick one");
		if (gw_tokenizer_load(o->tokenizer_from, &m->tok, &m->n_tok, &n_vocab, err, sizeof err))
			die("--tokenizer-from: %s", err);
		s->n_vocab = n_vocab;
	}
}

static int gguf_main(const struct options *o, const struct shape *shape)
{
	struct shape s = *shape;
	struct gguf_model m = { .s = &s };

	if (!(m.type = parse_type(o->type, &m.dialect)))
		die("--type %s: not a GGML type name (e.g. F16, Q4_0, Q4_K, Q8_0, TQ2_0, I2_S, TL2)",
		    o->type);
	if (m.type->id == TRIT_GGML_I8_S)
		die("--type I8_S: bitnet.cpp's activation scratch type is never stored in files");
	if (!o->json && !o->out)
		die("-o FILE is required (or --tensors-json to print the table)");
	weights_options(o, &m, &s);
	gguf_layout(&m, o->vocab, o->name);
	if (o->out && m.weights)
		write_weights(&m, o->out);
	else if (o->out)
		write_sparse(o->out, m.hdr.p, m.hdr.len, m.data_offset + m.data_size);
	if (o->json)
		gguf_json(&m, stdout);
	gw_kv_free(m.tok, m.n_tok);
	gguf_free(&m);
	return 0;
}

static int verify_main(const char *path)
{
	char err[512];

	if (gw_verify(path, stdout, err, sizeof err) != 0)
		die("--verify: %s", err);
	return 0;
}

static int tokenizer_digest_main(const char *path)
{
	char err[512];
	struct gw_kv *kv;
	size_t n;
	uint32_t n_vocab;
	uint64_t h = 0xCBF29CE484222325u;

	if (gw_tokenizer_load(path, &kv, &n, &n_vocab, err, sizeof err) != 0)
		die("--tokenizer-digest: %s", err);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *parts[3] = { (const unsigned char *)kv[i].key,
		                                  (const unsigned char *)&kv[i].type, kv[i].val };
		size_t len[3] = { strlen(kv[i].key) + 1, sizeof kv[i].type, kv[i].len };
		for (int p = 0; p < 3; p++)
			for (size_t j = 0; j < len[p]; j++)
				h = (h ^ parts[p][j]) * 0x100000001B3u;
	}
	printf("pairs=%zu vocab=%" PRIu32 " fnv=%016" PRIx64 "\n", n, n_vocab, h);
	gw_kv_free(kv, n);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .type = "F16", .dtype = "BF16", .shards = 1, .seed = 1 };
	const struct shape *s;
	int rc = parse_options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (o.list) {
		list_shapes();
		return 0;
	}
	if (o.verify)
		return verify_main(o.verify);
	if (o.tok_digest)
		return tokenizer_digest_main(o.tok_digest);
	if (!o.shape || !o.format) {
		usage(stderr);
		return 2;
	}
	if (!(s = shape_find(o.shape)) && !(s = gw_shape_find(o.shape))) {
		fprintf(stderr, "%s: unknown shape '%s'; --list shows the known ones\n", prog, o.shape);
		return 2;
	}
	if (strcmp(o.format, "gguf") == 0)
		return gguf_main(&o, s);
	if (strcmp(o.format, "safetensors") == 0) {
		if (strcmp(o.dtype, "BF16") && strcmp(o.dtype, "F16") && strcmp(o.dtype, "F32"))
			die("--dtype %s: expected BF16, F16 or F32", o.dtype);
		if (!o.out)
			die("-o DIR is required for safetensors");
		if (o.json)
			die("--tensors-json describes GGUF files; use --format gguf");
		if (o.weights || o.tokenizer_from)
			die("--weights and --tokenizer-from write GGUF files; use --format gguf");
		safetensors(s, o.dtype, (uint32_t)o.shards, o.out);
		return 0;
	}
	die("--format %s: expected gguf or safetensors", o.format);
}
