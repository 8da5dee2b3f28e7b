/*
 * model.c - describe a model from its file: recognise the format, read the
 * hyper-parameters (GGUF metadata or Hugging Face config.json), classify
 * every tensor, and add up bytes per layer, per role group and per type.
 *
 * Reading and validating the files is gguf.c's and safetensors.c's job;
 * naming conventions live in names.c. Nothing here estimates memory.
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <trit/backend.h>

#include "core/common.h"
#include "core/safeopen.h"
#include "core/textsafe.h"
#include "model/gguf.h"
#include "model/model.h"
#include "model/names.h"
#include "model/safetensors.h"
#include "model/validate.h"

/* ------------------------------------------------------------------------ */
/* Architectures trit knows by name. Anything else is still analysed (the   */
/* GGUF keys are regular), with a warning.                                  */

static const struct {
	const char *name;   /* GGUF general.architecture or HF model_type */
	const char *family; /* trit's graph name */
	int swa_pattern;    /* 0: no windowed layers (a sliding_window key is ignored, as
	                     * llama.cpp ignores it); n: all but every n-th layer windowed */
	int post_attn_is_ffn_norm;
} arch_table[] = {
	{ "llama", "llama", 0, 1 },      { "mistral", "llama", 0, 1 },
	{ "mixtral", "llama", 0, 1 },    { "qwen2", "qwen2", 0, 1 },
	{ "qwen3", "qwen3", 0, 1 },      { "qwen2moe", "qwen2moe", 0, 1 },
	{ "qwen2_moe", "qwen2moe", 0, 1 }, { "qwen3moe", "qwen3moe", 0, 1 },
	{ "qwen3_moe", "qwen3moe", 0, 1 }, { "deepseek2", "deepseek2", 0, 1 },
	{ "deepseek_v2", "deepseek2", 0, 1 }, { "gemma2", "gemma2", 2, 0 },
	{ "gemma3", "gemma3", 6, 0 },    { "gemma3_text", "gemma3", 6, 0 },
	{ "phi3", "phi3", 0, 1 },        { "falcon", "falcon", 0, 1 },
	{ "gpt2", "gpt2", 0, 1 },
	{ "bitnet", "bitnet", 0, 1 },    { "bitnet-b1.58", "bitnet", 0, 1 },
	{ "bitnet-25", "bitnet", 0, 1 }, { "bitnet-1.58", "bitnet", 0, 1 },
};

static int arch_index(const char *name)
{
	for (size_t i = 0; i < TRIT_ARRAY_LEN(arch_table); i++)
		if (strcmp(arch_table[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Building the model                                                        */

struct builder {
	struct trit_model *m;
	char *err;
	size_t errlen;
	int oom;
	struct trit_hp_keys keys;  /* where the checked hyper-parameters came from */
};

static void warn(struct builder *b, const char *fmt, ...) TRIT_PRINTF(2, 3);
static void warn(struct builder *b, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	char **v;

	if (b->m->n_warnings >= 64)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	v = realloc(b->m->warnings, (b->m->n_warnings + 1) * sizeof *v);
	if (!v || !(v[b->m->n_warnings] = trit_strdup(buf))) {
		if (v)
			b->m->warnings = v;
		b->oom = 1;
		return;
	}
	b->m->warnings = v;
	b->m->n_warnings++;
}

static int alloc_layers(struct builder *b, uint32_t n_layer)
{
	struct trit_hparams *hp = &b->m->hp;

	if (n_layer == 0 || n_layer > TRIT_MODEL_MAX_LAYERS)
		return trit_errf(b->err, b->errlen, TRIT_EFORMAT,
		                 "%s: block count %u is outside 1..%u", b->m->path, n_layer,
		                 TRIT_MODEL_MAX_LAYERS);
	hp->n_layer = n_layer;
	hp->n_head = calloc(n_layer, sizeof *hp->n_head);
	hp->n_head_kv = calloc(n_layer, sizeof *hp->n_head_kv);
	hp->n_ff = calloc(n_layer, sizeof *hp->n_ff);
	hp->swa = calloc(n_layer, sizeof *hp->swa);
	b->m->layer_bytes = calloc(n_layer, sizeof *b->m->layer_bytes);
	b->m->layer_params = calloc(n_layer, sizeof *b->m->layer_params);
	if (!hp->n_head || !hp->n_head_kv || !hp->n_ff || !hp->swa || !b->m->layer_bytes ||
	    !b->m->layer_params)
		return trit_errf(b->err, b->errlen, TRIT_ENOMEM, "out of memory");
	return 0;
}

/* Which layers use the sliding window: llama.cpp's rule, which windows only
 * the architectures it knows to (Gemma 2 every other layer, Gemma 3 five of
 * six) and ignores a window elsewhere (Phi-3's is disabled there). */
static void set_swa(struct trit_hparams *hp, int pattern)
{
	for (uint32_t il = 0; il < hp->n_layer; il++)
		hp->swa[il] = pattern > 0 && hp->sliding_window &&
		              (int)(il % (uint32_t)pattern) < pattern - 1;
	if (pattern <= 0)
		hp->sliding_window_ignored = hp->sliding_window;
}

/* ---------------------------------------------------------------- GGUF */

static int gguf_u32(const struct trit_gguf *g, const char *arch, const char *key, uint32_t *out)
{
	char full[160];
	uint64_t v;

	snprintf(full, sizeof full, "%s.%s", arch, key);
	if (trit_gguf_get_u64(g, full, &v) || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static double gguf_f64(const struct trit_gguf *g, const char *arch, const char *key)
{
	char full[160];
	double v = 0;

	snprintf(full, sizeof full, "%s.%s", arch, key);
	return trit_gguf_get_f64(g, full, &v) ? 0.0 : v;
}

/* A per-layer value stored either as one number or as an array of n_layer.
 * Returns 0 when read, 1 when the key is absent, or a negative TRIT_E* code. */
static int gguf_per_layer(struct builder *b, const struct trit_gguf *g, const char *arch,
                          const char *key, uint32_t *out, int required)
{
	char full[160];
	const struct trit_gguf_kv *kv;
	uint32_t n = b->m->hp.n_layer;

	snprintf(full, sizeof full, "%s.%s", arch, key);
	kv = trit_gguf_find(g, full);
	if (!kv) {
		if (required)
			warn(b, "metadata key %s is missing", full);
		return 1;
	}
	if (kv->type == TRIT_GGUF_ARRAY) {
		if (kv->arr_count != n)
			return trit_errf(b->err, b->errlen, TRIT_EFORMAT,
			                 "%s: %s has %llu entries for %u layers", b->m->path, full,
			                 (unsigned long long)kv->arr_count, n);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t v;
			if (trit_gguf_array_u64(kv, i, &v) || v > UINT32_MAX)
				return trit_errf(b->err, b->errlen, TRIT_EFORMAT,
				                 "%s: %s[%u] is not an unsigned 32-bit integer",
				                 b->m->path, full, i);
			out[i] = (uint32_t)v;
		}
		return 0;
	}
	uint64_t v;
	if (trit_gguf_get_u64(g, full, &v) || v > UINT32_MAX)
		return trit_errf(b->err, b->errlen, TRIT_EFORMAT,
		                 "%s: %s is %s, expected an unsigned integer or an array of them",
		                 b->m->path, full, trit_gguf_type_name(kv->type));
	for (uint32_t i = 0; i < n; i++)
		out[i] = (uint32_t)v;
	return 0;
}

/* Note in b->keys that arch.key gave a value (for validate.c's messages). */
static void stated(char *src, const char *arch, const char *key)
{
	snprintf(src, TRIT_HP_KEY_LEN, "%s.%s", arch, key);
}

/* Embedding, context, heads, FFN width and head sizes. */
static int gguf_counts(struct builder *b, const struct trit_gguf *g, const char *arch)
{
	struct trit_hparams *hp = &b->m->hp;
	struct trit_hp_keys *k = &b->keys;
	int rc;

	if (gguf_u32(g, arch, "embedding_length", &hp->n_embd))
		warn(b, "metadata key %s.embedding_length is missing", arch);
	else
		stated(k->n_embd, arch, "embedding_length");
	if (!gguf_u32(g, arch, "context_length", &hp->n_ctx_train))
		stated(k->n_ctx_train, arch, "context_length");
	if ((rc = gguf_per_layer(b, g, arch, "attention.head_count", hp->n_head, 1)) < 0)
		return rc;
	if (rc == 0)
		stated(k->n_head, arch, "attention.head_count");
	rc = gguf_per_layer(b, g, arch, "attention.head_count_kv", hp->n_head_kv, 0);
	if (rc < 0)
		return rc;
	if (rc == 1) { /* no GQA: as many KV heads as heads */
		memcpy(hp->n_head_kv, hp->n_head, hp->n_layer * sizeof *hp->n_head);
		memcpy(k->n_head_kv, k->n_head, sizeof k->n_head);
	} else {
		stated(k->n_head_kv, arch, "attention.head_count_kv");
	}
	if ((rc = gguf_per_layer(b, g, arch, "feed_forward_length", hp->n_ff, 0)) < 0)
		return rc;
	if (rc == 0)
		stated(k->n_ff, arch, "feed_forward_length");
	if (!gguf_u32(g, arch, "attention.key_length", &hp->head_dim_k))
		stated(k->head_dim_k, arch, "attention.key_length");
	else if (hp->n_head[0])
		hp->head_dim_k = hp->n_embd / hp->n_head[0];
	if (!gguf_u32(g, arch, "attention.value_length", &hp->head_dim_v))
		stated(k->head_dim_v, arch, "attention.value_length");
	else
		hp->head_dim_v = hp->head_dim_k;
	return 0;
}

/* The vocabulary size: {arch}.vocab_size, else the tokenizer's token count;
 * when both are stated they must agree. */
static int gguf_vocab(struct builder *b, const struct trit_gguf *g, const char *arch)
{
	struct trit_hparams *hp = &b->m->hp;
	const struct trit_gguf_kv *tok = trit_gguf_find(g, "tokenizer.ggml.tokens");
	int has_tokens = tok && tok->type == TRIT_GGUF_ARRAY && tok->arr_count <= UINT32_MAX;

	if (!gguf_u32(g, arch, "vocab_size", &hp->n_vocab)) {
		stated(b->keys.n_vocab, arch, "vocab_size");
		if (has_tokens && tok->arr_count != hp->n_vocab)
			return trit_errf(b->err, b->errlen, TRIT_EFORMAT, "%s: %s.vocab_size = %u, but "
			                 "tokenizer.ggml.tokens holds %llu tokens: they must agree",
			                 b->m->path, arch, hp->n_vocab,
			                 (unsigned long long)tok->arr_count);
	} else if (has_tokens) {
		hp->n_vocab = (uint32_t)tok->arr_count;
		snprintf(b->keys.n_vocab, TRIT_HP_KEY_LEN, "the count of tokenizer.ggml.tokens");
	}
	return 0;
}

static int hparams_from_gguf(struct builder *b, const struct trit_gguf *g)
{
	struct trit_hparams *hp = &b->m->hp;
	struct trit_gguf_str s;
	const char *arch;
	uint32_t n_layer = 0, v;
	char key[160];
	int ai, rc;

	if (trit_gguf_get_str(g, "general.architecture", &s) || s.len == 0 ||
	    s.len >= sizeof hp->arch || memchr(s.s, '\0', s.len))
		return trit_errf(b->err, b->errlen, TRIT_EFORMAT,
		                 "%s: general.architecture is missing or not a short string",
		                 b->m->path);
	memcpy(hp->arch, s.s, s.len);
	hp->arch[s.len] = '\0';
	arch = hp->arch;
	ai = arch_index(arch);
	if (ai < 0) {
		warn(b, "architecture '%s' is not one trit knows; hyper-parameters read from the "
		     "generic %s.* keys", arch, arch);
		snprintf(hp->family, sizeof hp->family, "%s", arch);
	} else {
		snprintf(hp->family, sizeof hp->family, "%s", arch_table[ai].family);
	}
	if (gguf_u32(g, arch, "block_count", &n_layer))
		return trit_errf(b->err, b->errlen, TRIT_EFORMAT,
		                 "%s: %s.block_count is missing or not an integer", b->m->path, arch);
	if ((rc = alloc_layers(b, n_layer)))
		return rc;
	if ((rc = gguf_counts(b, g, arch)))
		return rc;
	if (gguf_u32(g, arch, "rope.dimension_count", &hp->n_rot))
		hp->n_rot = hp->head_dim_k;
	hp->rope_freq_base = gguf_f64(g, arch, "rope.freq_base");
	hp->rope_freq_scale = gguf_f64(g, arch, "rope.scaling.factor");
	if (hp->rope_freq_scale == 0)
		hp->rope_freq_scale = gguf_f64(g, arch, "rope.scale_linear");
	if (hp->rope_freq_scale != 0)
		hp->rope_freq_scale = 1.0 / hp->rope_freq_scale;
	snprintf(key, sizeof key, "%s.hidden_activation", arch);
	if (!trit_gguf_get_str(g, key, &s) && s.len < sizeof hp->hidden_act &&
	    !memchr(s.s, '\0', s.len)) {
		memcpy(hp->hidden_act, s.s, s.len);
		hp->hidden_act[s.len] = '\0';
	}
	hp->norm_eps = gguf_f64(g, arch, "attention.layer_norm_rms_epsilon");
	if (hp->norm_eps == 0)
		hp->norm_eps = gguf_f64(g, arch, "attention.layer_norm_epsilon");
	gguf_u32(g, arch, "expert_count", &hp->n_expert);
	gguf_u32(g, arch, "expert_used_count", &hp->n_expert_used);
	gguf_u32(g, arch, "expert_shared_count", &hp->n_expert_shared);
	gguf_u32(g, arch, "leading_dense_block_count", &hp->n_layer_dense_lead);
	gguf_u32(g, arch, "expert_feed_forward_length", &hp->n_ff_exp);
	gguf_u32(g, arch, "expert_shared_feed_forward_length", &hp->n_ff_shexp);
	gguf_u32(g, arch, "attention.q_lora_rank", &hp->q_lora_rank);
	gguf_u32(g, arch, "attention.kv_lora_rank", &hp->kv_lora_rank);
	if (hp->kv_lora_rank)
		hp->rope_head_dim_mla = hp->n_rot;
	if (gguf_u32(g, arch, "attention.sliding_window", &hp->sliding_window) && ai >= 0 &&
	    strcmp(arch_table[ai].family, "gemma2") == 0)
		hp->sliding_window = 4096; /* Gemma 2's window, which llama.cpp assumes when absent */
	if (!gguf_u32(g, "general", "file_type", &v))
		hp->file_type = v;
	if ((rc = gguf_vocab(b, g, arch)))
		return rc;
	set_swa(hp, ai >= 0 ? arch_table[ai].swa_pattern : 0);
	/* an explicit pattern in the file wins: a period, or one flag per layer */
	const struct trit_gguf_kv *pat;
	snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", arch);
	if ((pat = trit_gguf_find(g, key)) && hp->sliding_window) {
		uint64_t period;
		if (pat->type == TRIT_GGUF_ARRAY && pat->arr_count == n_layer) {
			for (uint32_t il = 0; il < n_layer; il++)
				hp->swa[il] = !trit_gguf_array_u64(pat, il, &period) && period;
		} else if (!trit_gguf_get_u64(g, key, &period) && period > 0 && period <= n_layer) {
			set_swa(hp, (int)period);
		}
		hp->sliding_window_ignored = 0;
	}
	return 0;
}

/* The tensor table and one block for all the names (a million tensors are
 * a million names: one allocation, not a million). */
static int alloc_tensors(struct builder *b, uint64_t n, uint64_t name_bytes)
{
	struct trit_model *m = b->m;

	m->tensors = trit_calloc_large(n, sizeof *m->tensors);
	m->names = name_bytes < SIZE_MAX ? malloc(name_bytes ? name_bytes : 1) : NULL;
	if (!m->tensors || !m->names)
		return trit_errf(b->err, b->errlen, TRIT_ENOMEM, "%s: out of memory for %llu "
		                 "tensors", m->path, (unsigned long long)n);
	return 0;
}

static int tensors_from_gguf(struct builder *b, const struct trit_gguf *g, int post_attn_ffn)
{
	struct trit_model *m = b->m;
	uint64_t name_bytes = 0;
	char *name;
	int rc;

	for (uint64_t i = 0; i < g->n_tensors; i++) /* each < 64 KiB, in a < 1 GiB header */
		name_bytes += g->tensors[i].name.len + 1;
	if ((rc = alloc_tensors(b, g->n_tensors, name_bytes)))
		return rc;
	name = m->names;
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		const struct trit_gguf_tensor *gt = &g->tensors[i];
		struct trit_model_tensor *t = &m->tensors[m->n_tensors];
		struct trit_name_class c;
		uint64_t n = 1;

		t->name = name;
		memcpy(name, gt->name.s, gt->name.len);
		name[gt->name.len] = '\0';
		name += gt->name.len + 1;
		m->n_tensors++;
		if (trit_names_classify(t->name, TRIT_NAMING_GGUF, post_attn_ffn, &c))
			warn(b, "tensor %s: name not recognised; counted as 'other'", t->name);
		t->layer = c.layer;
		t->expert = c.expert;
		t->role = (uint16_t)c.role;
		t->part = (uint8_t)c.part;
		t->n_dims = gt->n_dims;
		for (uint32_t d = 0; d < 4; d++) {
			t->ne[d] = d < gt->n_dims ? gt->ne[d] : 1;
			n *= t->ne[d];
		}
		t->type_name = gt->type->name;
		t->ggml_type = (int32_t)gt->type_id;
		t->st_dtype = -1;
		t->ternary = (gt->type->flags & TRIT_GGML_TERNARY) != 0;
		/* RoPE frequency factors are a computed table, not learned weights:
		 * they have bytes but count no parameters (as publications count). */
		t->n_params = c.role == TRIT_ROLE_ROPE_FREQS ? 0 : n;
		t->n_bytes = gt->size;
		t->offset = g->data_offset + gt->offset;
		t->file = 0;
	}
	return 0;
}

static int from_gguf(struct builder *b)
{
	struct trit_gguf *g;
	int rc = trit_gguf_open(b->m->path, &g, b->err, b->errlen);
	int ai;

	if (rc)
		return rc;
	b->m->format = TRIT_MODEL_GGUF;
	b->m->file_bytes = g->file_size;
	rc = hparams_from_gguf(b, g);
	ai = arch_index(b->m->hp.arch);
	if (!rc)
		rc = tensors_from_gguf(b, g, ai < 0 ? 1 : arch_table[ai].post_attn_is_ffn_norm);
	trit_gguf_close(g);
	return rc;
}

/* --------------------------------------------------------- SafeTensors */

static int json_u32(const cJSON *obj, const char *key, uint32_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > UINT32_MAX ||
	    v->valuedouble != (double)(uint32_t)v->valuedouble)
		return -1;
	*out = (uint32_t)v->valuedouble;
	return 0;
}

/* First of several alternative keys (architectures name the same thing
 * differently: GPT-2's n_layer is Llama's num_hidden_layers). */
static int json_u32_any(const cJSON *obj, const char *const *keys, uint32_t *out)
{
	for (; *keys; keys++)
		if (!json_u32(obj, *keys, out))
			return 0;
	return -1;
}

/* json_u32_any, noting in src (TRIT_HP_KEY_LEN bytes) which key gave the
 * value, for validate.c's messages. */
static int json_u32_src(const cJSON *obj, const char *const *keys, uint32_t *out, char *src)
{
	for (; *keys; keys++)
		if (!json_u32(obj, *keys, out)) {
			snprintf(src, TRIT_HP_KEY_LEN, "config.json %s", *keys);
			return 0;
		}
	return -1;
}

static double json_f64(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

#define KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static int hparams_from_config(struct builder *b, const cJSON *cfg)
{
	struct trit_hparams *hp = &b->m->hp;
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
	const cJSON *archs = cJSON_GetObjectItemCaseSensitive(cfg, "architectures");
	uint32_t n_layer = 0, n_head = 0, n_head_kv = 0, n_ff = 0, head_dim = 0, v;
	struct trit_hp_keys *k = &b->keys;
	int ai = -1, rc;

	if (cJSON_IsString(mt) && strlen(mt->valuestring) < sizeof hp->arch) {
		snprintf(hp->arch, sizeof hp->arch, "%s", mt->valuestring);
		ai = arch_index(mt->valuestring);
	} else if (cJSON_IsArray(archs) && cJSON_IsString(cJSON_GetArrayItem(archs, 0))) {
		snprintf(hp->arch, sizeof hp->arch, "%s", cJSON_GetArrayItem(archs, 0)->valuestring);
	}
	if (ai < 0)
		warn(b, "config.json model_type '%s' is not one trit knows", hp->arch);
	snprintf(hp->family, sizeof hp->family, "%s", ai >= 0 ? arch_table[ai].family : hp->arch);
	if (json_u32_any(cfg, KEYS("num_hidden_layers", "n_layer", "num_layers"), &n_layer))
		return trit_errf(b->err, b->errlen, TRIT_EFORMAT,
		                 "%s: config.json has no num_hidden_layers (or n_layer)", b->m->path);
	if ((rc = alloc_layers(b, n_layer)))
		return rc;
	json_u32_src(cfg, KEYS("hidden_size", "n_embd", "d_model"), &hp->n_embd, k->n_embd);
	json_u32_src(cfg, KEYS("vocab_size"), &hp->n_vocab, k->n_vocab);
	json_u32_src(cfg, KEYS("max_position_embeddings", "n_positions", "n_ctx"), &hp->n_ctx_train,
	             k->n_ctx_train);
	json_u32_src(cfg, KEYS("num_attention_heads", "n_head"), &n_head, k->n_head);
	if (json_u32_src(cfg, KEYS("num_key_value_heads", "num_kv_heads", "n_head_kv"), &n_head_kv,
	                 k->n_head_kv)) {
		const cJSON *mq = cJSON_GetObjectItemCaseSensitive(cfg, "multi_query");
		n_head_kv = cJSON_IsTrue(mq) ? 1 : n_head;
		snprintf(k->n_head_kv, TRIT_HP_KEY_LEN, "%s",
		         cJSON_IsTrue(mq) ? "config.json multi_query" : k->n_head);
	}
	if (json_u32_src(cfg, KEYS("intermediate_size", "n_inner", "ffn_hidden_size"), &n_ff, k->n_ff))
		n_ff = hp->n_embd * 4; /* GPT-2 and Falcon define the FFN as 4 x embedding */
	for (uint32_t i = 0; i < n_layer; i++) {
		hp->n_head[i] = n_head;
		hp->n_head_kv[i] = n_head_kv;
		hp->n_ff[i] = n_ff;
	}
	if (!json_u32_src(cfg, KEYS("head_dim"), &head_dim, k->head_dim_k))
		memcpy(k->head_dim_v, k->head_dim_k, TRIT_HP_KEY_LEN);
	else if (n_head)
		head_dim = hp->n_embd / n_head;
	hp->head_dim_k = hp->head_dim_v = head_dim;
	if (!json_u32(cfg, "qk_nope_head_dim", &v)) { /* MLA */
		uint32_t rope = 0, vdim = 0;
		json_u32(cfg, "qk_rope_head_dim", &rope);
		snprintf(k->head_dim_k, TRIT_HP_KEY_LEN, "config.json qk_nope_head_dim + qk_rope_head_dim");
		if (json_u32_src(cfg, KEYS("v_head_dim"), &vdim, k->head_dim_v))
			k->head_dim_v[0] = '\0';
		hp->head_dim_k = v + rope;
		hp->head_dim_v = vdim;
		hp->rope_head_dim_mla = rope;
		hp->n_rot = rope;
	} else {
		hp->n_rot = head_dim;
	}
	json_u32(cfg, "q_lora_rank", &hp->q_lora_rank);
	json_u32(cfg, "kv_lora_rank", &hp->kv_lora_rank);
	hp->rope_freq_base = json_f64(cfg, "rope_theta");
	const cJSON *act = cJSON_GetObjectItemCaseSensitive(cfg, "hidden_act");
	if (cJSON_IsString(act) && strlen(act->valuestring) < sizeof hp->hidden_act)
		snprintf(hp->hidden_act, sizeof hp->hidden_act, "%s", act->valuestring);
	hp->norm_eps = json_f64(cfg, "rms_norm_eps");
	if (hp->norm_eps == 0)
		hp->norm_eps = json_f64(cfg, "layer_norm_epsilon");
	if (hp->norm_eps == 0)
		hp->norm_eps = json_f64(cfg, "layer_norm_eps");
	json_u32_any(cfg, KEYS("num_local_experts", "n_routed_experts", "num_experts"), &hp->n_expert);
	json_u32(cfg, "num_experts_per_tok", &hp->n_expert_used);
	json_u32(cfg, "n_shared_experts", &hp->n_expert_shared);
	json_u32(cfg, "first_k_dense_replace", &hp->n_layer_dense_lead);
	json_u32(cfg, "moe_intermediate_size", &hp->n_ff_exp);
	json_u32(cfg, "shared_expert_intermediate_size", &hp->n_ff_shexp);
	if (!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cfg, "use_sliding_window")))
		json_u32(cfg, "sliding_window", &hp->sliding_window);
	const cJSON *tie = cJSON_GetObjectItemCaseSensitive(cfg, "tie_word_embeddings");
	hp->tied_embeddings = cJSON_IsTrue(tie);
	set_swa(hp, ai >= 0 ? arch_table[ai].swa_pattern : 0);
	return 0;
}

/* BitNet b1.58 checkpoints on Hugging Face pack four ternary weights per
 * U8 byte (quantization_config.quant_method "bitnet"). */
static int bitnet_packed(const cJSON *cfg)
{
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(cfg, "quantization_config");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(q, "quant_method");
	return cJSON_IsString(m) && strcmp(m->valuestring, "bitnet") == 0;
}

static int from_safetensors(struct builder *b)
{
	struct trit_st *st;
	struct trit_model *m = b->m;
	int rc = trit_st_open(m->path, &st, b->err, b->errlen), ai, packed;

	if (rc)
		return rc;
	m->format = TRIT_MODEL_SAFETENSORS;
	if (!st->config) {
		warn(b, "no config.json beside the weights: hyper-parameters unknown");
		rc = trit_errf(b->err, b->errlen, TRIT_EFORMAT,
		               "%s: no config.json beside the weights; trit needs it for the "
		               "architecture and hyper-parameters", m->path);
		trit_st_close(st);
		return rc;
	}
	rc = hparams_from_config(b, st->config);
	ai = arch_index(m->hp.arch);
	packed = bitnet_packed(st->config);
	m->files = calloc(st->n_shards, sizeof *m->files);
	if (!rc && !m->files)
		rc = trit_errf(b->err, b->errlen, TRIT_ENOMEM, "out of memory");
	uint64_t name_bytes = 0;
	for (uint64_t i = 0; i < st->n_tensors; i++)
		name_bytes += strlen(st->tensors[i].name) + 1;
	if (!rc)
		rc = alloc_tensors(b, st->n_tensors, name_bytes);
	char *name = m->names;
	for (uint32_t i = 0; !rc && i < st->n_shards; i++) {
		if (!(m->files[i] = trit_strdup(st->shards[i].path)))
			rc = trit_errf(b->err, b->errlen, TRIT_ENOMEM, "out of memory");
		m->n_files = i + 1;
		m->file_bytes += st->shards[i].file_size;
	}
	for (uint64_t i = 0; !rc && i < st->n_tensors; i++) {
		const struct trit_st_tensor *s = &st->tensors[i];
		struct trit_model_tensor *t = &m->tensors[m->n_tensors];
		struct trit_name_class c;
		uint64_t n = 1;

		t->name = name;
		name = stpcpy(name, s->name) + 1;
		m->n_tensors++;
		if (trit_names_classify(t->name, TRIT_NAMING_HF,
		                        ai < 0 ? 1 : arch_table[ai].post_attn_is_ffn_norm, &c))
			warn(b, "tensor %s: name not recognised; counted as 'other'", t->name);
		t->layer = c.layer;
		t->expert = c.expert;
		t->role = (uint16_t)c.role;
		t->part = (uint8_t)c.part;
		/* GGML order: the row (last safetensors dimension) first. */
		t->n_dims = s->n_dims;
		for (uint32_t d = 0; d < 8; d++)
			t->ne[d] = d < s->n_dims ? s->shape[s->n_dims - 1 - d] : 1;
		for (uint32_t d = 0; d < s->n_dims; d++)
			n *= s->shape[d];
		t->type_name = trit_st_dtype_name(s->dtype);
		t->ggml_type = -1;
		t->st_dtype = (int32_t)s->dtype;
		t->ternary = packed && s->dtype == TRIT_ST_U8 && c.part == TRIT_PART_WEIGHT &&
		             trit_role_is_matrix(c.role);
		/* BitLinear weight_scale tensors are per-tensor scales, not learned
		 * weights: bytes, no parameters (as publications count). */
		t->n_params = c.part == TRIT_PART_SCALE ? 0 : t->ternary ? n * 4 : n;
		t->n_bytes = s->end - s->begin;
		t->offset = s->begin;
		t->file = s->shard;
	}
	trit_st_close(st);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Totals and checks                                                         */

static int type_cmp(const void *a, const void *b)
{
	const struct trit_type_summary *x = a, *y = b;
	return x->n_bytes < y->n_bytes ? 1 : x->n_bytes > y->n_bytes ? -1 :
	       strcmp(x->type_name, y->type_name);
}

static int summarise(struct builder *b)
{
	struct trit_model *m = b->m;
	struct trit_quant_summary *q = &m->quant;
	uint64_t matrix_bytes_by_type_max = 0;
	int any_matrix = 0, all_ternary = 1;
	const struct trit_model_tensor *first_non_ternary = NULL;

	q->types = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *q->types);
	if (!q->types)
		return trit_errf(b->err, b->errlen, TRIT_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_model_tensor *t = &m->tensors[i];
		size_t k;

		if (t->layer >= 0 && (uint32_t)t->layer >= m->hp.n_layer)
			return trit_errf(b->err, b->errlen, TRIT_EFORMAT,
			                 "%s: tensor %s is in layer %d but the model has %u layers",
			                 m->path, t->name, t->layer, m->hp.n_layer);
		m->n_params += t->n_params;
		m->n_bytes += t->n_bytes;
		if (t->layer >= 0) {
			m->layer_bytes[t->layer] += t->n_bytes;
			m->layer_params[t->layer] += t->n_params;
		} else {
			m->nonlayer_bytes += t->n_bytes;
			m->nonlayer_params += t->n_params;
		}
		m->group_bytes[trit_role_group(t->role)] += t->n_bytes;
		m->group_params[trit_role_group(t->role)] += t->n_params;
		for (k = 0; k < q->n_types && strcmp(q->types[k].type_name, t->type_name); k++)
			;
		if (k == q->n_types) {
			q->types[k].type_name = t->type_name;
			q->types[k].ternary = t->ternary;
			q->n_types++;
		}
		q->types[k].n_tensors++;
		q->types[k].n_params += t->n_params;
		q->types[k].n_bytes += t->n_bytes;
		if (trit_role_is_matrix(t->role) && t->part == TRIT_PART_WEIGHT &&
		    t->role != TRIT_ROLE_FFN_ROUTER && t->role != TRIT_ROLE_FFN_ROUTER_SHEXP) {
			any_matrix = 1;
			q->types[k].matrix_bytes += t->n_bytes;
			if (!t->ternary) {
				all_ternary = 0;
				if (!first_non_ternary)
					first_non_ternary = t;
			}
		}
	}
	qsort(q->types, q->n_types, sizeof *q->types, type_cmp);
	/* primary: the type holding the most bytes of weight matrices; mixed:
	 * weight matrices use more than one type */
	size_t matrix_types = 0;
	for (size_t k = 0; k < q->n_types; k++) {
		if (!q->types[k].matrix_bytes)
			continue;
		matrix_types++;
		if (!q->primary || q->types[k].matrix_bytes > matrix_bytes_by_type_max) {
			matrix_bytes_by_type_max = q->types[k].matrix_bytes;
			q->primary = q->types[k].type_name;
		}
	}
	q->mixed = matrix_types > 1;
	q->bits_per_weight = m->n_params ? (double)m->n_bytes * 8.0 / (double)m->n_params : 0.0;
	q->ternary_kernels = any_matrix && all_ternary;
	if (!any_matrix)
		snprintf(q->ternary_why, sizeof q->ternary_why,
		         "no attention or feed-forward weight matrices were recognised");
	else if (!all_ternary)
		snprintf(q->ternary_why, sizeof q->ternary_why,
		         "not every weight matrix is ternary (e.g. %.100s is %s)",
		         first_non_ternary->name, first_non_ternary->type_name);
	if (m->format == TRIT_MODEL_GGUF) {
		int has_output = 0;
		for (size_t i = 0; i < m->n_tensors; i++)
			has_output |= m->tensors[i].role == TRIT_ROLE_OUTPUT;
		m->hp.tied_embeddings = !has_output;
	}
	return b->oom ? trit_errf(b->err, b->errlen, TRIT_ENOMEM, "out of memory") : 0;
}

/* The first bytes of the file (up to len), to recognise its format; how
 * many were read, -1 when it cannot be read. */
static ssize_t file_start(const char *path, unsigned char *buf, size_t len)
{
	int fd = trit_open_regular(path, NULL, NULL, NULL, 0);
	ssize_t n = fd >= 0 ? read(fd, buf, len) : -1;

	if (fd >= 0)
		close(fd);
	return n;
}

enum format { FORMAT_GGUF, FORMAT_SAFETENSORS, FORMAT_NEITHER };

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* A regular file's format, by its first n bytes (of size): GGUF's magic; a
 * SafeTensors header (an 8-byte little-endian length that fits the file,
 * then '{'); a JSON text (model.safetensors.index.json). The name decides
 * only when the bytes are neither: a .safetensors or .json file goes to the
 * SafeTensors reader, whose message says what is wrong with it. */
static enum format sniff(const char *path, const unsigned char *b, ssize_t n, uint64_t size)
{
	ssize_t i = 0;

	if (n >= 4 && memcmp(b, "GGUF", 4) == 0)
		return FORMAT_GGUF;
	if (n >= 9 && b[8] == '{') {
		uint64_t len = 0;
		for (int k = 7; k >= 0; k--)
			len = len << 8 | b[k];
		if (len >= 2 && len <= size - 8)
			return FORMAT_SAFETENSORS;
	}
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
		i++;
	if (i < n && b[i] == '{')
		return FORMAT_SAFETENSORS;
	if (has_suffix(path, ".safetensors") || has_suffix(path, ".json"))
		return FORMAT_SAFETENSORS;
	return FORMAT_NEITHER;
}

/* Why a file that is neither format is refused; a .gguf name says which
 * one it was meant to be. */
static int not_a_model(const char *path, const unsigned char *b, ssize_t n, char *err,
                       size_t errlen)
{
	int gguf = has_suffix(path, ".gguf");
	char shown[32];

	if (n < 0)
		return trit_errf(err, errlen, TRIT_EIO, "%s: cannot read its first bytes", path);
	if (n < 4)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: not a %s: it is %zd bytes, too short "
		                 "for the magic 'GGUF' at offset 0", path,
		                 gguf ? "GGUF file" : "model file trit reads", n);
	trit_text_escape(shown, sizeof shown, (const char *)b, 4, 0);
	if (gguf)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: not a GGUF file: bad magic "
		                 "0x%02x%02x%02x%02x ('%s') at offset 0 (expected 'GGUF')", path, b[0],
		                 b[1], b[2], b[3], shown);
	return trit_errf(err, errlen, TRIT_EFORMAT, "%s: not a model file trit reads: it starts "
	                 "with 0x%02x%02x%02x%02x ('%s'), where GGUF has the magic 'GGUF' and "
	                 "SafeTensors an 8-byte header length, then '{'", path, b[0], b[1], b[2],
	                 b[3], shown);
}

int trit_model_open(const char *path, struct trit_model **out, char *err, size_t errlen)
{
	struct builder b = { .err = err, .errlen = errlen };
	struct stat st;
	int rc;

	*out = NULL;
	if (stat(path, &st) != 0)
		return trit_errf(err, errlen, TRIT_EIO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return trit_errf(err, errlen, TRIT_EIO, "%s: is %s, expected a model file (GGUF or "
		                 "SafeTensors) or a directory", path, trit_file_kind(st.st_mode));
	b.m = calloc(1, sizeof *b.m);
	if (!b.m || !(b.m->path = trit_strdup(path))) {
		free(b.m);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	unsigned char start[16];
	ssize_t n = S_ISREG(st.st_mode) ? file_start(path, start, sizeof start) : 0;
	enum format f = S_ISREG(st.st_mode) ? sniff(path, start, n, (uint64_t)st.st_size)
	                                    : FORMAT_SAFETENSORS; /* a directory */

	if (f == FORMAT_NEITHER) {
		rc = not_a_model(path, start, n, err, errlen);
	} else if (f == FORMAT_GGUF) {
		rc = from_gguf(&b);
		if (!rc) {
			b.m->files = calloc(1, sizeof *b.m->files);
			if (!b.m->files || !(b.m->files[0] = trit_strdup(path)))
				rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
			b.m->n_files = 1;
		}
	} else {
		rc = from_safetensors(&b);
	}
	if (!rc)
		rc = summarise(&b);
	if (!rc) {
		struct trit_validate_in v = {
			.path = b.m->path, .hf_layout = b.m->format == TRIT_MODEL_SAFETENSORS,
			.hp = &b.m->hp, .tensors = b.m->tensors, .n_tensors = b.m->n_tensors,
			.keys = &b.keys,
		};
		rc = trit_model_validate(&v, err, errlen);
	}
	if (rc) {
		trit_model_close(b.m);
		return rc;
	}
	*out = b.m;
	return 0;
}

void trit_model_close(struct trit_model *m)
{
	if (!m)
		return;
	free(m->names);
	free(m->tensors);
	for (uint32_t i = 0; i < m->n_files; i++)
		free(m->files[i]);
	free(m->files);
	free(m->hp.n_head);
	free(m->hp.n_head_kv);
	free(m->hp.n_ff);
	free(m->hp.swa);
	free(m->layer_bytes);
	free(m->layer_params);
	free(m->quant.types);
	for (size_t i = 0; i < m->n_warnings; i++)
		free(m->warnings[i]);
	free(m->warnings);
	free(m->path);
	free(m);
}
