/*
 * names.c - tensor names to (layer, role, part, expert), for the two naming
 * schemes trit reads: llama.cpp's GGUF names ("blk.3.attn_q.weight") and
 * Hugging Face module paths ("model.layers.3.self_attn.q_proj.weight").
 *
 * Tables, not code: adding an architecture's names is adding rows. Which
 * tensors a model *should* have is not checked here.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "model/names.h"

struct name_role {
	const char *name;
	enum trit_role role;
};

/* llama.cpp GGUF base names (the part between "blk.N." and ".weight"). */
static const struct name_role gguf_roles[] = {
	{ "token_embd", TRIT_ROLE_TOKEN_EMBD }, { "position_embd", TRIT_ROLE_POS_EMBD },
	{ "token_types", TRIT_ROLE_TOKEN_TYPES }, { "token_embd_norm", TRIT_ROLE_EMBD_NORM },
	{ "output", TRIT_ROLE_OUTPUT }, { "output_norm", TRIT_ROLE_OUTPUT_NORM },
	{ "rope_freqs", TRIT_ROLE_ROPE_FREQS }, { "rope_factors_long", TRIT_ROLE_ROPE_FREQS },
	{ "rope_factors_short", TRIT_ROLE_ROPE_FREQS },
	{ "attn_norm", TRIT_ROLE_ATTN_NORM }, { "attn_norm_2", TRIT_ROLE_ATTN_NORM_2 },
	{ "attn_q", TRIT_ROLE_ATTN_Q }, { "attn_k", TRIT_ROLE_ATTN_K }, { "attn_v", TRIT_ROLE_ATTN_V },
	{ "attn_qkv", TRIT_ROLE_ATTN_QKV }, { "attn_output", TRIT_ROLE_ATTN_OUT },
	{ "attn_q_norm", TRIT_ROLE_ATTN_Q_NORM }, { "attn_k_norm", TRIT_ROLE_ATTN_K_NORM },
	{ "attn_sub_norm", TRIT_ROLE_ATTN_SUB_NORM }, { "post_attention_norm", TRIT_ROLE_ATTN_POST_NORM },
	{ "attn_post_norm", TRIT_ROLE_ATTN_POST_NORM },
	{ "attn_q_a", TRIT_ROLE_ATTN_Q_A }, { "attn_q_a_norm", TRIT_ROLE_ATTN_Q_A_NORM },
	{ "attn_q_b", TRIT_ROLE_ATTN_Q_B }, { "attn_kv_a_mqa", TRIT_ROLE_ATTN_KV_A_MQA },
	{ "attn_kv_a_norm", TRIT_ROLE_ATTN_KV_A_NORM }, { "attn_kv_b", TRIT_ROLE_ATTN_KV_B },
	{ "attn_k_b", TRIT_ROLE_ATTN_K_B }, { "attn_v_b", TRIT_ROLE_ATTN_V_B },
	{ "ffn_norm", TRIT_ROLE_FFN_NORM }, { "post_ffw_norm", TRIT_ROLE_FFN_POST_NORM },
	{ "ffn_post_norm", TRIT_ROLE_FFN_POST_NORM },
	{ "ffn_gate", TRIT_ROLE_FFN_GATE }, { "ffn_up", TRIT_ROLE_FFN_UP },
	{ "ffn_down", TRIT_ROLE_FFN_DOWN }, { "ffn_sub_norm", TRIT_ROLE_FFN_SUB_NORM },
	{ "ffn_gate_inp", TRIT_ROLE_FFN_ROUTER }, { "exp_probs_b", TRIT_ROLE_FFN_EXP_PROBS_BIAS },
	{ "ffn_gate_exps", TRIT_ROLE_FFN_GATE_EXPS }, { "ffn_up_exps", TRIT_ROLE_FFN_UP_EXPS },
	{ "ffn_down_exps", TRIT_ROLE_FFN_DOWN_EXPS }, { "ffn_gate_shexp", TRIT_ROLE_FFN_GATE_SHEXP },
	{ "ffn_up_shexp", TRIT_ROLE_FFN_UP_SHEXP }, { "ffn_down_shexp", TRIT_ROLE_FFN_DOWN_SHEXP },
	{ "ffn_gate_inp_shexp", TRIT_ROLE_FFN_ROUTER_SHEXP },
};

/* Hugging Face module paths, relative to the layer ("self_attn.q_proj") or to
 * the model ("embed_tokens"). Several architectures share a name with the
 * same meaning; where they differ (post_attention_layernorm is the FFN norm in
 * Llama but a post-attention norm in Gemma 2/3) the family decides. */
static const struct name_role hf_layer_roles[] = {
	{ "input_layernorm", TRIT_ROLE_ATTN_NORM }, { "ln_1", TRIT_ROLE_ATTN_NORM },
	{ "ln_attn", TRIT_ROLE_ATTN_NORM }, { "ln_mlp", TRIT_ROLE_FFN_NORM },
	{ "post_attention_layernorm", TRIT_ROLE_FFN_NORM }, { "ln_2", TRIT_ROLE_FFN_NORM },
	{ "pre_feedforward_layernorm", TRIT_ROLE_FFN_NORM },
	{ "post_feedforward_layernorm", TRIT_ROLE_FFN_POST_NORM },
	{ "self_attn.q_proj", TRIT_ROLE_ATTN_Q }, { "self_attn.k_proj", TRIT_ROLE_ATTN_K },
	{ "self_attn.v_proj", TRIT_ROLE_ATTN_V }, { "self_attn.o_proj", TRIT_ROLE_ATTN_OUT },
	{ "self_attn.qkv_proj", TRIT_ROLE_ATTN_QKV }, { "self_attn.q_norm", TRIT_ROLE_ATTN_Q_NORM },
	{ "self_attn.k_norm", TRIT_ROLE_ATTN_K_NORM }, { "self_attn.attn_sub_norm", TRIT_ROLE_ATTN_SUB_NORM },
	{ "self_attn.q_a_proj", TRIT_ROLE_ATTN_Q_A }, { "self_attn.q_a_layernorm", TRIT_ROLE_ATTN_Q_A_NORM },
	{ "self_attn.q_b_proj", TRIT_ROLE_ATTN_Q_B },
	{ "self_attn.kv_a_proj_with_mqa", TRIT_ROLE_ATTN_KV_A_MQA },
	{ "self_attn.kv_a_layernorm", TRIT_ROLE_ATTN_KV_A_NORM },
	{ "self_attn.kv_b_proj", TRIT_ROLE_ATTN_KV_B },
	{ "self_attention.query_key_value", TRIT_ROLE_ATTN_QKV },
	{ "self_attention.dense", TRIT_ROLE_ATTN_OUT },
	{ "attn.c_attn", TRIT_ROLE_ATTN_QKV }, { "attn.c_proj", TRIT_ROLE_ATTN_OUT },
	{ "mlp.gate_proj", TRIT_ROLE_FFN_GATE }, { "mlp.up_proj", TRIT_ROLE_FFN_UP },
	{ "mlp.down_proj", TRIT_ROLE_FFN_DOWN }, { "mlp.gate_up_proj", TRIT_ROLE_FFN_GATE_UP },
	{ "mlp.ffn_sub_norm", TRIT_ROLE_FFN_SUB_NORM },
	{ "mlp.dense_h_to_4h", TRIT_ROLE_FFN_UP }, { "mlp.dense_4h_to_h", TRIT_ROLE_FFN_DOWN },
	{ "mlp.c_fc", TRIT_ROLE_FFN_UP }, { "mlp.c_proj", TRIT_ROLE_FFN_DOWN },
	{ "mlp.gate", TRIT_ROLE_FFN_ROUTER }, { "block_sparse_moe.gate", TRIT_ROLE_FFN_ROUTER },
	{ "mlp.gate.e_score_correction_bias", TRIT_ROLE_FFN_EXP_PROBS_BIAS },
	{ "mlp.shared_expert.gate_proj", TRIT_ROLE_FFN_GATE_SHEXP },
	{ "mlp.shared_expert.up_proj", TRIT_ROLE_FFN_UP_SHEXP },
	{ "mlp.shared_expert.down_proj", TRIT_ROLE_FFN_DOWN_SHEXP },
	{ "mlp.shared_experts.gate_proj", TRIT_ROLE_FFN_GATE_SHEXP },
	{ "mlp.shared_experts.up_proj", TRIT_ROLE_FFN_UP_SHEXP },
	{ "mlp.shared_experts.down_proj", TRIT_ROLE_FFN_DOWN_SHEXP },
	{ "mlp.shared_expert_gate", TRIT_ROLE_FFN_ROUTER_SHEXP },
};

/* Per-expert modules: "<prefix>.<E>.<suffix>". */
static const struct {
	const char *prefix, *suffix;
	enum trit_role role;
} hf_expert_roles[] = {
	{ "block_sparse_moe.experts", "w1", TRIT_ROLE_FFN_GATE_EXPS },
	{ "block_sparse_moe.experts", "w3", TRIT_ROLE_FFN_UP_EXPS },
	{ "block_sparse_moe.experts", "w2", TRIT_ROLE_FFN_DOWN_EXPS },
	{ "mlp.experts", "gate_proj", TRIT_ROLE_FFN_GATE_EXPS },
	{ "mlp.experts", "up_proj", TRIT_ROLE_FFN_UP_EXPS },
	{ "mlp.experts", "down_proj", TRIT_ROLE_FFN_DOWN_EXPS },
};

static const struct name_role hf_model_roles[] = {
	{ "embed_tokens", TRIT_ROLE_TOKEN_EMBD }, { "wte", TRIT_ROLE_TOKEN_EMBD },
	{ "word_embeddings", TRIT_ROLE_TOKEN_EMBD }, { "wpe", TRIT_ROLE_POS_EMBD },
	{ "norm", TRIT_ROLE_OUTPUT_NORM }, { "ln_f", TRIT_ROLE_OUTPUT_NORM },
	{ "lm_head", TRIT_ROLE_OUTPUT },
};

/* Parse a decimal layer/expert index at *p (no sign, no leading zeros beyond
 * "0", below limit); advance p past it. */
static int parse_index(const char **p, long limit, int32_t *out)
{
	const char *s = *p;
	long v = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (*s++ - '0');
		if (v >= limit)
			return -1;
	}
	*p = s;
	*out = (int32_t)v;
	return 0;
}

/* Split "base.suffix" where suffix is weight / bias / scale / weight_scale;
 * returns the length of base, or 0 when the suffix is unknown. */
static size_t split_part(const char *s, enum trit_part *part)
{
	static const struct {
		const char *suffix;
		enum trit_part part;
	} parts[] = {
		{ ".weight", TRIT_PART_WEIGHT }, { ".bias", TRIT_PART_BIAS },
		{ ".weight_scale", TRIT_PART_SCALE }, { ".scale", TRIT_PART_SCALE },
	};
	size_t n = strlen(s);

	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		size_t m = strlen(parts[i].suffix);
		if (n > m && strcmp(s + n - m, parts[i].suffix) == 0) {
			*part = parts[i].part;
			return n - m;
		}
	}
	return 0;
}

static int lookup(const struct name_role *t, size_t n, const char *s, size_t len,
                  enum trit_role *role)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(t[i].name) == len && memcmp(t[i].name, s, len) == 0) {
			*role = t[i].role;
			return 0;
		}
	return -1;
}

int trit_names_classify(const char *name, enum trit_naming naming, int post_attn_is_ffn_norm,
                        struct trit_name_class *c)
{
	const char *p = name;
	size_t len;

	c->layer = -1;
	c->expert = -1;
	c->role = TRIT_ROLE_OTHER;
	c->part = TRIT_PART_WEIGHT;

	if (naming == TRIT_NAMING_GGUF) {
		if (strncmp(p, "blk.", 4) == 0) {
			p += 4;
			if (parse_index(&p, TRIT_MODEL_MAX_LAYERS, &c->layer) || *p != '.')
				return -1;
			p++;
		}
		len = split_part(p, &c->part);
		if (!len)
			return -1;
		return lookup(gguf_roles, sizeof gguf_roles / sizeof gguf_roles[0], p, len, &c->role);
	}

	/* Hugging Face: strip the model prefix, then find the layer. */
	static const char *const prefixes[] = { "model.language_model.", "model.", "transformer.", "" };
	static const char *const layer_words[] = { "layers.", "h.", "blocks." };
	const char *rest = NULL;

	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0] && !rest; i++) {
		size_t pl = strlen(prefixes[i]);
		if (strncmp(name, prefixes[i], pl) != 0)
			continue;
		for (size_t j = 0; j < sizeof layer_words / sizeof layer_words[0]; j++) {
			size_t wl = strlen(layer_words[j]);
			const char *q = name + pl + wl;
			if (strncmp(name + pl, layer_words[j], wl) == 0 &&
			    !parse_index(&q, TRIT_MODEL_MAX_LAYERS, &c->layer) && *q == '.') {
				rest = q + 1;
				break;
			}
		}
		if (!rest && *prefixes[i]) {
			/* a model-level tensor under this prefix */
			len = split_part(name + pl, &c->part);
			if (len && !lookup(hf_model_roles, sizeof hf_model_roles / sizeof hf_model_roles[0],
			                   name + pl, len, &c->role))
				return 0;
		}
	}
	if (!rest) {
		len = split_part(name, &c->part);
		return len ? lookup(hf_model_roles, sizeof hf_model_roles / sizeof hf_model_roles[0],
		                    name, len, &c->role) : -1;
	}
	len = split_part(rest, &c->part);
	if (!len)
		return -1;
	if (!lookup(hf_layer_roles, sizeof hf_layer_roles / sizeof hf_layer_roles[0], rest, len,
	            &c->role)) {
		if (c->role == TRIT_ROLE_FFN_NORM && !post_attn_is_ffn_norm &&
		    strncmp(rest, "post_attention_layernorm", len) == 0)
			c->role = TRIT_ROLE_ATTN_POST_NORM;
		return 0;
	}
	for (size_t i = 0; i < sizeof hf_expert_roles / sizeof hf_expert_roles[0]; i++) {
		size_t pl = strlen(hf_expert_roles[i].prefix);
		const char *q = rest + pl;
		int32_t e;
		if (strncmp(rest, hf_expert_roles[i].prefix, pl) != 0 || *q != '.')
			continue;
		q++;
		if (parse_index(&q, 1 << 16, &e) || *q != '.')
			continue;
		q++;
		if ((size_t)(q - rest) < len && strncmp(q, hf_expert_roles[i].suffix, len - (size_t)(q - rest)) == 0 &&
		    strlen(hf_expert_roles[i].suffix) == len - (size_t)(q - rest)) {
			c->expert = e;
			c->role = hf_expert_roles[i].role;
			return 0;
		}
	}
	return -1;
}

static const char *const role_names[TRIT_ROLE_COUNT] = {
	[TRIT_ROLE_OTHER] = "other",
	[TRIT_ROLE_TOKEN_EMBD] = "token_embd", [TRIT_ROLE_POS_EMBD] = "position_embd",
	[TRIT_ROLE_TOKEN_TYPES] = "token_types", [TRIT_ROLE_EMBD_NORM] = "embd_norm",
	[TRIT_ROLE_OUTPUT] = "output", [TRIT_ROLE_OUTPUT_NORM] = "output_norm",
	[TRIT_ROLE_ROPE_FREQS] = "rope_freqs",
	[TRIT_ROLE_ATTN_NORM] = "attn_norm", [TRIT_ROLE_ATTN_NORM_2] = "attn_norm_2",
	[TRIT_ROLE_ATTN_Q] = "attn_q", [TRIT_ROLE_ATTN_K] = "attn_k", [TRIT_ROLE_ATTN_V] = "attn_v",
	[TRIT_ROLE_ATTN_QKV] = "attn_qkv", [TRIT_ROLE_ATTN_OUT] = "attn_output",
	[TRIT_ROLE_ATTN_Q_NORM] = "attn_q_norm", [TRIT_ROLE_ATTN_K_NORM] = "attn_k_norm",
	[TRIT_ROLE_ATTN_SUB_NORM] = "attn_sub_norm", [TRIT_ROLE_ATTN_POST_NORM] = "attn_post_norm",
	[TRIT_ROLE_ATTN_Q_A] = "attn_q_a", [TRIT_ROLE_ATTN_Q_A_NORM] = "attn_q_a_norm",
	[TRIT_ROLE_ATTN_Q_B] = "attn_q_b", [TRIT_ROLE_ATTN_KV_A_MQA] = "attn_kv_a_mqa",
	[TRIT_ROLE_ATTN_KV_A_NORM] = "attn_kv_a_norm", [TRIT_ROLE_ATTN_KV_B] = "attn_kv_b",
	[TRIT_ROLE_ATTN_K_B] = "attn_k_b", [TRIT_ROLE_ATTN_V_B] = "attn_v_b",
	[TRIT_ROLE_FFN_NORM] = "ffn_norm", [TRIT_ROLE_FFN_POST_NORM] = "ffn_post_norm",
	[TRIT_ROLE_FFN_GATE] = "ffn_gate", [TRIT_ROLE_FFN_UP] = "ffn_up",
	[TRIT_ROLE_FFN_GATE_UP] = "ffn_gate_up", [TRIT_ROLE_FFN_DOWN] = "ffn_down",
	[TRIT_ROLE_FFN_SUB_NORM] = "ffn_sub_norm", [TRIT_ROLE_FFN_ROUTER] = "ffn_router",
	[TRIT_ROLE_FFN_EXP_PROBS_BIAS] = "ffn_exp_probs_bias",
	[TRIT_ROLE_FFN_GATE_EXPS] = "ffn_gate_exps", [TRIT_ROLE_FFN_UP_EXPS] = "ffn_up_exps",
	[TRIT_ROLE_FFN_DOWN_EXPS] = "ffn_down_exps", [TRIT_ROLE_FFN_GATE_SHEXP] = "ffn_gate_shexp",
	[TRIT_ROLE_FFN_UP_SHEXP] = "ffn_up_shexp", [TRIT_ROLE_FFN_DOWN_SHEXP] = "ffn_down_shexp",
	[TRIT_ROLE_FFN_ROUTER_SHEXP] = "ffn_router_shexp",
};

const char *trit_role_name(enum trit_role r)
{
	return (unsigned)r < TRIT_ROLE_COUNT && role_names[r] ? role_names[r] : "other";
}

enum trit_role_group trit_role_group(enum trit_role r)
{
	switch (r) {
	case TRIT_ROLE_TOKEN_EMBD: case TRIT_ROLE_POS_EMBD: case TRIT_ROLE_TOKEN_TYPES:
		return TRIT_GROUP_EMBEDDING;
	case TRIT_ROLE_OUTPUT:
		return TRIT_GROUP_OUTPUT;
	case TRIT_ROLE_EMBD_NORM: case TRIT_ROLE_OUTPUT_NORM: case TRIT_ROLE_ATTN_NORM:
	case TRIT_ROLE_ATTN_NORM_2: case TRIT_ROLE_ATTN_Q_NORM: case TRIT_ROLE_ATTN_K_NORM:
	case TRIT_ROLE_ATTN_SUB_NORM: case TRIT_ROLE_ATTN_POST_NORM: case TRIT_ROLE_ATTN_Q_A_NORM:
	case TRIT_ROLE_ATTN_KV_A_NORM: case TRIT_ROLE_FFN_NORM: case TRIT_ROLE_FFN_POST_NORM:
	case TRIT_ROLE_FFN_SUB_NORM:
		return TRIT_GROUP_NORM;
	case TRIT_ROLE_ATTN_Q: case TRIT_ROLE_ATTN_K: case TRIT_ROLE_ATTN_V: case TRIT_ROLE_ATTN_QKV:
	case TRIT_ROLE_ATTN_OUT: case TRIT_ROLE_ATTN_Q_A: case TRIT_ROLE_ATTN_Q_B:
	case TRIT_ROLE_ATTN_KV_A_MQA: case TRIT_ROLE_ATTN_KV_B: case TRIT_ROLE_ATTN_K_B:
	case TRIT_ROLE_ATTN_V_B:
		return TRIT_GROUP_ATTENTION;
	case TRIT_ROLE_FFN_GATE: case TRIT_ROLE_FFN_UP: case TRIT_ROLE_FFN_GATE_UP:
	case TRIT_ROLE_FFN_DOWN:
		return TRIT_GROUP_FFN;
	case TRIT_ROLE_FFN_ROUTER: case TRIT_ROLE_FFN_EXP_PROBS_BIAS: case TRIT_ROLE_FFN_GATE_EXPS:
	case TRIT_ROLE_FFN_UP_EXPS: case TRIT_ROLE_FFN_DOWN_EXPS: case TRIT_ROLE_FFN_GATE_SHEXP:
	case TRIT_ROLE_FFN_UP_SHEXP: case TRIT_ROLE_FFN_DOWN_SHEXP: case TRIT_ROLE_FFN_ROUTER_SHEXP:
		return TRIT_GROUP_EXPERTS;
	default:
		return TRIT_GROUP_OTHER;
	}
}

const char *trit_role_group_name(enum trit_role_group g)
{
	static const char *const names[TRIT_GROUP_COUNT] = {
		"embedding", "attention", "ffn", "experts", "norm", "output", "other"
	};
	return (unsigned)g < TRIT_GROUP_COUNT ? names[g] : "other";
}

int trit_role_is_matrix(enum trit_role r)
{
	enum trit_role_group g = trit_role_group(r);
	return (g == TRIT_GROUP_ATTENTION || g == TRIT_GROUP_FFN ||
	        (g == TRIT_GROUP_EXPERTS && r != TRIT_ROLE_FFN_EXP_PROBS_BIAS));
}
