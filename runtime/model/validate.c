/*
 * validate.c - the hyper-parameters a model states must describe a model:
 * counts the planner divides by or sizes with are positive, heads divide as
 * attention needs, and the weight matrices have the shapes the counts imply.
 * Only stated values are checked (a missing one is model.c's warning and the
 * estimator's refusal); reading them is model.c's job.
 */
#include <build-config.h>

#include <stdio.h>
#include <string.h>

#include <trit/backend.h>

#include "core/common.h"
#include "model/names.h"
#include "model/validate.h"

#define U(x) ((unsigned long long)(x))

/* The key a value came from, or what it is when the file does not state it. */
static const char *nm(const char *key, const char *what)
{
	return *key ? key : what;
}

static int positive(const struct trit_validate_in *m, const char *key, uint64_t v,
                    char *err, size_t errlen)
{
	if (!*key || v > 0)
		return 0;
	return trit_errf(err, errlen, TRIT_EFORMAT, "%s: %s = 0: must be > 0", m->path, key);
}

/* key, or key[il] when the layers do not all have the value of layer il. */
static const char *layer_key(const char *key, const uint32_t *v, uint32_t n, uint32_t il,
                             char *buf, size_t len)
{
	for (uint32_t i = 0; i < n; i++)
		if (v[i] != v[il]) {
			snprintf(buf, len, "%s[%u]", key, il);
			return buf;
		}
	return key;
}

static int check_layer(const struct trit_validate_in *m, uint32_t il, char *err, size_t errlen)
{
	const struct trit_hparams *hp = m->hp;
	const struct trit_hp_keys *k = m->keys;
	char a[112], b[112];
	const char *kh = layer_key(k->n_head, hp->n_head, hp->n_layer, il, a, sizeof a);
	const char *kv = layer_key(k->n_head_kv, hp->n_head_kv, hp->n_layer, il, b, sizeof b);
	int rc;

	if ((rc = positive(m, kh, hp->n_head[il], err, errlen)) ||
	    (rc = positive(m, kv, hp->n_head_kv[il], err, errlen)))
		return rc;
	if (hp->n_head_kv[il] && hp->n_head[il] % hp->n_head_kv[il])
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: %s = %u is not a multiple of %s = "
		                 "%u: the query heads must share the KV heads evenly", m->path,
		                 nm(kh, "the head count"), hp->n_head[il], nm(kv, "the KV head count"),
		                 hp->n_head_kv[il]);
	if (!hp->n_expert) /* MoE files may state 0 for the dense FFN they do not have */
		return positive(m, layer_key(k->n_ff, hp->n_ff, hp->n_layer, il, a, sizeof a),
		                hp->n_ff[il], err, errlen);
	return 0;
}

static int check_counts(const struct trit_validate_in *m, char *err, size_t errlen)
{
	const struct trit_hparams *hp = m->hp;
	const struct trit_hp_keys *k = m->keys;
	int rc;

	if ((rc = positive(m, k->n_embd, hp->n_embd, err, errlen)) ||
	    (rc = positive(m, k->n_ctx_train, hp->n_ctx_train, err, errlen)) ||
	    (rc = positive(m, k->n_vocab, hp->n_vocab, err, errlen)) ||
	    (rc = positive(m, k->head_dim_k, hp->head_dim_k, err, errlen)) ||
	    (rc = positive(m, k->head_dim_v, hp->head_dim_v, err, errlen)))
		return rc;
	for (uint32_t il = 0; il < hp->n_layer; il++)
		if ((rc = check_layer(m, il, err, errlen)))
			return rc;
	/* without a stated head size, the embedding is split among the heads */
	if (!*k->head_dim_k && hp->n_head[0] && hp->n_embd % hp->n_head[0])
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: %s = %u is not a multiple of %s = %u, "
		                 "and the file states no head size to use instead", m->path,
		                 nm(k->n_embd, "the embedding"), hp->n_embd,
		                 nm(k->n_head, "the head count"), hp->n_head[0]);
	return 0;
}

/* ------------------------------------------------------------------ shapes */

/* The shape a weight matrix must have, [ne0, ne1] (0: not known), and how
 * that follows from the keys, for the message. 0 when the role is not
 * checked. */
static int expected(const struct trit_validate_in *m, const struct trit_model_tensor *t,
                    uint64_t want[2], char *how, size_t len)
{
	const struct trit_hparams *hp = m->hp;
	const struct trit_hp_keys *k = m->keys;
	uint32_t il = t->layer >= 0 ? (uint32_t)t->layer : 0;
	uint64_t e = hp->n_embd, h = hp->n_head[il], hkv = hp->n_head_kv[il], f = hp->n_ff[il];
	uint64_t q = h * hp->head_dim_k, kd = hkv * hp->head_dim_k, vd = hkv * hp->head_dim_v;

	if (hp->kv_lora_rank && t->role >= TRIT_ROLE_ATTN_Q && t->role <= TRIT_ROLE_ATTN_OUT)
		return 0; /* MLA: the attention's shapes follow from its ranks, not these */
	switch (t->role) {
	case TRIT_ROLE_TOKEN_EMBD:
	case TRIT_ROLE_OUTPUT:
		want[0] = e, want[1] = hp->n_vocab;
		snprintf(how, len, "[%s, %s]", nm(k->n_embd, "embedding"),
		         nm(k->n_vocab, "vocabulary"));
		return 1;
	case TRIT_ROLE_ATTN_Q:
	case TRIT_ROLE_ATTN_K:
	case TRIT_ROLE_ATTN_V:
		want[0] = e;
		want[1] = t->role == TRIT_ROLE_ATTN_Q ? q : t->role == TRIT_ROLE_ATTN_K ? kd : vd;
		snprintf(how, len, "[%s, %s x head size %u]", nm(k->n_embd, "embedding"),
		         t->role == TRIT_ROLE_ATTN_Q ? nm(k->n_head, "heads")
		                                     : nm(k->n_head_kv, "KV heads"),
		         t->role == TRIT_ROLE_ATTN_V ? hp->head_dim_v : hp->head_dim_k);
		return 1;
	case TRIT_ROLE_ATTN_OUT:
		want[0] = h * hp->head_dim_v, want[1] = e;
		snprintf(how, len, "[%s x head size %u, %s]", nm(k->n_head, "heads"), hp->head_dim_v,
		         nm(k->n_embd, "embedding"));
		return 1;
	case TRIT_ROLE_FFN_GATE:
	case TRIT_ROLE_FFN_UP:
		want[0] = e, want[1] = f;
		snprintf(how, len, "[%s, %s]", nm(k->n_embd, "embedding"), nm(k->n_ff, "FFN width"));
		return 1;
	case TRIT_ROLE_FFN_DOWN:
		want[0] = f, want[1] = e;
		snprintf(how, len, "[%s, %s]", nm(k->n_ff, "FFN width"), nm(k->n_embd, "embedding"));
		return 1;
	default:
		return 0;
	}
}

/* Whether layer il has a separate gate matrix (else an ffn_up of twice the
 * FFN width is gate and up fused, as Phi-3's GGUF files store it). */
static int has_gate(const struct trit_validate_in *m, int32_t il)
{
	for (size_t i = 0; i < m->n_tensors; i++)
		if (m->tensors[i].layer == il && m->tensors[i].role == TRIT_ROLE_FFN_GATE)
			return 1;
	return 0;
}

static int check_shape(const struct trit_validate_in *m, const struct trit_model_tensor *t,
                       char *err, size_t errlen)
{
	uint64_t want[2], rest = 1;
	char how[400];
	int ok;

	/* biases, scales, one expert's slice and BitNet-packed bytes are not the matrix */
	if (t->part != TRIT_PART_WEIGHT || t->expert >= 0 || (t->ternary && t->st_dtype >= 0) ||
	    !expected(m, t, want, how, sizeof how))
		return 0;
	for (uint32_t d = 2; d < t->n_dims && d < 8; d++)
		rest *= t->ne[d];
	if (m->hf_layout && strcmp(m->hp->family, "gpt2") == 0 &&
	    t->role != TRIT_ROLE_TOKEN_EMBD && t->role != TRIT_ROLE_OUTPUT) {
		uint64_t x = want[0]; /* GPT-2's Conv1D layers store [in, out]: the transpose */
		want[0] = want[1];
		want[1] = x;
	}
	ok = rest == 1 && (!want[0] || t->ne[0] == want[0]) && (!want[1] || t->ne[1] == want[1]);
	if (!ok && rest == 1 && t->role == TRIT_ROLE_FFN_UP && t->ne[0] == want[0] &&
	    t->ne[1] == 2 * want[1] && !has_gate(m, t->layer))
		ok = 1;
	if (ok)
		return 0;
	return trit_errf(err, errlen, TRIT_EFORMAT, "%s: tensor %s: shape [%llu, %llu%s], expected "
	                 "%s = [%llu, %llu] (0: not stated)", m->path, t->name, U(t->ne[0]),
	                 U(t->ne[1]), rest == 1 ? "" : ", ...", how, U(want[0]), U(want[1]));
}

int trit_model_validate(const struct trit_validate_in *m, char *err, size_t errlen)
{
	int rc = check_counts(m, err, errlen);

	for (size_t i = 0; !rc && i < m->n_tensors; i++)
		if (m->tensors[i].layer < (int32_t)m->hp->n_layer)
			rc = check_shape(m, &m->tensors[i], err, errlen);
	return rc;
}
