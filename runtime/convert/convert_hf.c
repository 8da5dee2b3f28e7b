/*
 * convert/convert_hf.c - a Hugging Face BitNet b1.58 directory as the
 * converter's source: config.json gives the hyper-parameters (checked for
 * range and consistency), model.safetensors (or its index) the tensors,
 * each found by its Hugging Face name, checked against the shape the config
 * implies and mapped to its GGUF name; tokenizer.json the vocabulary
 * (convert_tok.c). Missing tensors, wrong shapes and unsupported dtypes are
 * refused naming the file and the field or tensor.
 */
#include <build-config.h>

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert/convert.h"
#include "core/common.h"
#include "core/log.h"
#include "core/safeopen.h"
#include "core/strmap.h"
#include "model/ggml_types.h"
#include "model/names.h"
#include "model/safetensors.h"

#define CV_MAX_DIM (UINT64_C(1) << 24) /* largest hidden/FFN size or vocabulary accepted */

struct hf_config {
	uint64_t hidden, ffn, layers, heads, kv_heads, vocab, context;
	double eps, theta;
	int tied;
	int64_t bos, eos;
};

struct hf_src {
	struct trit_st *st;
	int *fds;                 /* one per shard */
	struct trit_strmap names; /* tensor name -> index */
	uint8_t *used;            /* per tensor */
	struct hf_config c;
};

/* ------------------------------------------------------------ config.json */

static int cfg_uint(const struct trit_st *st, const char *key, int required, uint64_t dflt,
                    uint64_t lo, uint64_t hi, uint64_t *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(st->config, key);

	if (!v && !required) {
		*out = dflt;
		return 0;
	}
	if (!v)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: field \"%s\" is missing",
		                 st->config_path, key);
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
	    v->valuedouble < (double)lo || v->valuedouble > (double)hi)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: field \"%s\": expected an integer "
		                 "from %" PRIu64 " to %" PRIu64, st->config_path, key, lo, hi);
	*out = (uint64_t)v->valuedouble;
	return 0;
}

static int cfg_real(const struct trit_st *st, const char *key, double dflt, double *out,
                    char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(st->config, key);

	*out = dflt;
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || !isfinite(v->valuedouble))
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: field \"%s\": expected a positive "
		                 "number", st->config_path, key);
	*out = v->valuedouble;
	return 0;
}

/* An id field that may be absent or null (-1 then). */
static int cfg_id(const struct trit_st *st, const char *key, int64_t *out, char *err,
                  size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(st->config, key);
	uint64_t u;
	int rc;

	*out = -1;
	if (!v || cJSON_IsNull(v))
		return 0;
	if ((rc = cfg_uint(st, key, 1, 0, 0, INT32_MAX, &u, err, errlen)))
		return rc;
	*out = (int64_t)u;
	return 0;
}

/* The model must be BitNet b1.58 (architectures or model_type) with ReLU². */
static int cfg_arch(const struct trit_st *st, char *err, size_t errlen)
{
	const cJSON *archs = cJSON_GetObjectItemCaseSensitive(st->config, "architectures");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(st->config, "model_type");
	const cJSON *act = cJSON_GetObjectItemCaseSensitive(st->config, "hidden_act");
	const cJSON *a;
	int ok = cJSON_IsString(type) && strcmp(type->valuestring, "bitnet") == 0;

	cJSON_ArrayForEach(a, (cJSON_IsArray(archs) ? archs : NULL))
		ok |= cJSON_IsString(a) && strcmp(a->valuestring, "BitNetForCausalLM") == 0;
	if (!ok)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "%s: fields \"architectures\" / "
		                 "\"model_type\": expected BitNetForCausalLM / bitnet (trit convert "
		                 "writes BitNet b1.58 models)", st->config_path);
	if (act && !(cJSON_IsString(act) && strcmp(act->valuestring, "relu2") == 0))
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "%s: field \"hidden_act\": expected "
		                 "\"relu2\" (the bitnet-b1.58 graph's activation)", st->config_path);
	return 0;
}

static int cfg_tied(const struct trit_st *st, int *tied, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(st->config, "tie_word_embeddings");

	*tied = 1;
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: field \"tie_word_embeddings\": "
		                 "expected true or false", st->config_path);
	*tied = cJSON_IsTrue(v);
	return 0;
}

static int read_config(const struct trit_st *st, struct hf_config *c, char *err, size_t errlen)
{
	int rc;

	if ((rc = cfg_arch(st, err, errlen)) ||
	    (rc = cfg_uint(st, "hidden_size", 1, 0, 1, CV_MAX_DIM, &c->hidden, err, errlen)) ||
	    (rc = cfg_uint(st, "intermediate_size", 1, 0, 1, CV_MAX_DIM, &c->ffn, err, errlen)) ||
	    (rc = cfg_uint(st, "num_hidden_layers", 1, 0, 1, TRIT_MODEL_MAX_LAYERS, &c->layers,
	                   err, errlen)) ||
	    (rc = cfg_uint(st, "num_attention_heads", 1, 0, 1, c->hidden, &c->heads, err, errlen)) ||
	    (rc = cfg_uint(st, "num_key_value_heads", 0, c->heads, 1, c->heads, &c->kv_heads, err,
	                   errlen)) ||
	    (rc = cfg_uint(st, "vocab_size", 1, 0, 1, CV_MAX_DIM, &c->vocab, err, errlen)) ||
	    (rc = cfg_uint(st, "max_position_embeddings", 0, 2048, 1, INT32_MAX, &c->context, err,
	                   errlen)) ||
	    (rc = cfg_real(st, "rms_norm_eps", 1e-6, &c->eps, err, errlen)) ||
	    (rc = cfg_real(st, "rope_theta", 10000.0, &c->theta, err, errlen)) ||
	    (rc = cfg_tied(st, &c->tied, err, errlen)) ||
	    (rc = cfg_id(st, "bos_token_id", &c->bos, err, errlen)) ||
	    (rc = cfg_id(st, "eos_token_id", &c->eos, err, errlen)))
		return rc;
	if (c->hidden % c->heads || c->heads % c->kv_heads)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: fields \"hidden_size\" (%" PRIu64
		                 "), \"num_attention_heads\" (%" PRIu64 ") and \"num_key_value_heads\" (%"
		                 PRIu64 "): the heads must divide the hidden size and the KV heads the "
		                 "heads", st->config_path, c->hidden, c->heads, c->kv_heads);
	return 0;
}

static void put_hparams(struct trit_gguf_writer *w, const struct hf_config *c)
{
	const char *a = CV_ARCH;
	char key[96];

#define U32(k, v) (snprintf(key, sizeof key, "%s." k, a), trit_gguf_put_u32(w, key, (uint32_t)(v)))
#define F32(k, v) (snprintf(key, sizeof key, "%s." k, a), trit_gguf_put_f32(w, key, (float)(v)))
	U32("vocab_size", c->vocab);
	U32("context_length", c->context);
	U32("embedding_length", c->hidden);
	U32("block_count", c->layers);
	U32("feed_forward_length", c->ffn);
	U32("rope.dimension_count", c->hidden / c->heads);
	U32("attention.head_count", c->heads);
	U32("attention.head_count_kv", c->kv_heads);
	F32("attention.layer_norm_rms_epsilon", c->eps);
	F32("rope.freq_base", c->theta);
#undef U32
#undef F32
}

/* general.name: the option, else the directory's last component. */
static void put_general(struct cv_job *job)
{
	const char *src = job->o->src, *name = job->o->name;
	size_t len = strlen(src);

	trit_gguf_put_str(job->w, "general.architecture", CV_ARCH, strlen(CV_ARCH));
	if (!name) {
		while (len > 1 && src[len - 1] == '/')
			len--;
		name = src + len;
		while (name > src && name[-1] != '/')
			name--;
		len = (size_t)(src + len - name);
	} else {
		len = strlen(name);
	}
	trit_gguf_put_str(job->w, "general.name", name, len);
	trit_gguf_put_u32(job->w, "general.file_type", cv_file_type(job->o->type));
	if (job->o->type == TRIT_CONVERT_I2_S)
		trit_gguf_put_u32(job->w, "general.quantization_version", 2);
}

/* ---------------------------------------------------------------- tensors */

static int ggml_of_dtype(uint32_t dtype)
{
	return dtype == TRIT_ST_F32 ? TRIT_GGML_F32 : dtype == TRIT_ST_F16 ? TRIT_GGML_F16
	     : dtype == TRIT_ST_BF16 ? TRIT_GGML_BF16 : -1;
}

/* The shape check: HF [rows, cols] (or [n]) against the config's. */
static int check_shape(const struct hf_src *s, const struct trit_st_tensor *st, uint64_t rows,
                       uint64_t cols, char *err, size_t errlen)
{
	uint32_t want = rows ? 2 : 1;
	int ok = st->n_dims == want && (rows ? st->shape[0] == rows && st->shape[1] == cols
	                                     : st->shape[0] == cols);
	char got[64] = "";

	if (ok)
		return 0;
	for (uint32_t d = 0; d < st->n_dims && d < 4; d++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%" PRIu64, d ? ", " : "",
		         st->shape[d]);
	if (rows)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: tensor %s has shape [%s]; %s "
		                 "implies [%" PRIu64 ", %" PRIu64 "]", s->st->shards[st->shard].path,
		                 st->name, got, s->st->config_path, rows, cols);
	return trit_errf(err, errlen, TRIT_EFORMAT, "%s: tensor %s has shape [%s]; %s implies [%"
	                 PRIu64 "]", s->st->shards[st->shard].path, st->name, got,
	                 s->st->config_path, cols);
}

/* Add the tensor hf_name as gguf_name: rows x cols (rows 0: a vector). */
static int add(struct cv_job *job, const char *hf_name, const char *gguf_name,
               enum cv_kind kind, uint64_t rows, uint64_t cols, char *err, size_t errlen)
{
	struct hf_src *s = job->src_state;
	const struct trit_st_tensor *st;
	struct cv_tensor *t;
	size_t i;
	int rc, type;

	if (!trit_strmap_get(&s->names, hf_name, &i))
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: tensor %s is missing (%s describes "
		                 "%" PRIu64 " layers)", job->o->src, hf_name, s->st->config_path,
		                 s->c.layers);
	st = &s->st->tensors[i];
	s->used[i] = 1;
	if ((rc = check_shape(s, st, rows, cols, err, errlen)))
		return rc;
	if ((type = ggml_of_dtype(st->dtype)) < 0)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "%s: tensor %s is %s; trit convert "
		                 "reads F32, F16 and BF16", s->st->shards[st->shard].path, hf_name,
		                 trit_st_dtype_name(st->dtype));
	if (!(t = cv_push(job)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	snprintf(t->name, sizeof t->name, "%s", gguf_name);
	snprintf(t->src_name, sizeof t->src_name, "%s", hf_name);
	t->n_dims = rows ? 2 : 1;
	t->ne[0] = cols;
	t->ne[1] = rows ? rows : 1;
	t->ne[2] = t->ne[3] = 1;
	t->kind = kind;
	t->fd = s->fds[st->shard];
	t->path = s->st->shards[st->shard].path;
	t->offset = st->begin;
	t->bytes = st->end - st->begin;
	t->src_type = (uint32_t)type;
	if ((rc = cv_plan_tensor(job, t, err, errlen)))
		return rc;
	trit_gguf_add_tensor(job->w, t->name, t->n_dims, t->ne, t->dst_type, t->dst_bytes);
	return 0;
}

static int add_layer(struct cv_job *job, uint64_t l, char *err, size_t errlen)
{
	const struct hf_config *c = &((struct hf_src *)job->src_state)->c;
	uint64_t hd = c->hidden / c->heads, kv = hd * c->kv_heads;
	const struct {
		const char *hf, *gguf;
		enum cv_kind kind;
		uint64_t rows, cols;
	} map[] = {
		{ "input_layernorm", "attn_norm", CV_NORM, 0, c->hidden },
		{ "self_attn.q_proj", "attn_q", CV_MATRIX, c->hidden, c->hidden },
		{ "self_attn.k_proj", "attn_k", CV_MATRIX, kv, c->hidden },
		{ "self_attn.v_proj", "attn_v", CV_MATRIX, kv, c->hidden },
		{ "self_attn.o_proj", "attn_output", CV_MATRIX, c->hidden, c->hidden },
		{ "self_attn.attn_sub_norm", "attn_sub_norm", CV_NORM, 0, c->hidden },
		{ "post_attention_layernorm", "ffn_norm", CV_NORM, 0, c->hidden },
		{ "mlp.gate_proj", "ffn_gate", CV_MATRIX, c->ffn, c->hidden },
		{ "mlp.up_proj", "ffn_up", CV_MATRIX, c->ffn, c->hidden },
		{ "mlp.down_proj", "ffn_down", CV_MATRIX, c->hidden, c->ffn },
		{ "mlp.ffn_sub_norm", "ffn_sub_norm", CV_NORM, 0, c->ffn },
	};
	char hf[128], gguf[80];
	int rc;

	for (size_t i = 0; i < TRIT_ARRAY_LEN(map); i++) {
		snprintf(hf, sizeof hf, "model.layers.%" PRIu64 ".%s.weight", l, map[i].hf);
		snprintf(gguf, sizeof gguf, "blk.%" PRIu64 ".%s.weight", l, map[i].gguf);
		if ((rc = add(job, hf, gguf, map[i].kind, map[i].rows, map[i].cols, err, errlen)))
			return rc;
	}
	return 0;
}

static int add_tensors(struct cv_job *job, char *err, size_t errlen)
{
	struct hf_src *s = job->src_state;
	const struct hf_config *c = &s->c;
	int rc;

	if ((rc = add(job, "model.embed_tokens.weight", "token_embd.weight", CV_KEEP, c->vocab,
	              c->hidden, err, errlen)))
		return rc;
	for (uint64_t l = 0; l < c->layers; l++)
		if ((rc = add_layer(job, l, err, errlen)))
			return rc;
	if ((rc = add(job, "model.norm.weight", "output_norm.weight", CV_NORM, 0, c->hidden, err,
	              errlen)))
		return rc;
	if (!c->tied && (rc = add(job, "lm_head.weight", "output.weight", CV_KEEP, c->vocab,
	                          c->hidden, err, errlen)))
		return rc;
	for (uint64_t i = 0; i < s->st->n_tensors; i++)
		if (!s->used[i] && !strstr(s->st->tensors[i].name, "rotary_emb.inv_freq"))
			trit_log(TRIT_LOG_WARN, "%s: tensor %s is not part of a BitNet b1.58 model; "
			         "left out", job->o->src, s->st->tensors[i].name);
	return 0;
}

/* --------------------------------------------------------------- opening */

static int open_source(struct hf_src *s, const char *dir, char *err, size_t errlen)
{
	int rc;

	if ((rc = trit_st_open(dir, &s->st, err, errlen)))
		return rc;
	if (!s->st->config)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: no config.json beside the weights",
		                 dir);
	if (!(s->fds = malloc(s->st->n_shards * sizeof *s->fds)) ||
	    !(s->used = calloc(s->st->n_tensors ? s->st->n_tensors : 1, 1)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < s->st->n_shards; i++)
		s->fds[i] = -1;
	for (uint32_t i = 0; i < s->st->n_shards; i++)
		if ((s->fds[i] = trit_open_regular(s->st->shards[i].path, NULL, NULL, err, errlen)) < 0)
			return TRIT_EIO;
	for (uint64_t i = 0; i < s->st->n_tensors; i++)
		if (trit_strmap_put(&s->names, s->st->tensors[i].name, (size_t)i))
			return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	return 0;
}

int cv_from_hf(struct cv_job *job, char *err, size_t errlen)
{
	struct hf_src *s = calloc(1, sizeof *s);
	int rc;

	if (!s)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	job->src_state = s;
	if ((rc = open_source(s, job->o->src, err, errlen)) ||
	    (rc = read_config(s->st, &s->c, err, errlen)))
		return rc;
	if (!(job->w = trit_gguf_writer_new(0)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	put_general(job);
	put_hparams(job->w, &s->c);
	if ((rc = cv_tokenizer(job->w, job->o->src, s->c.vocab, s->c.bos, s->c.eos,
	                       job->o->chat_template, err, errlen)))
		return rc;
	return add_tensors(job, err, errlen);
}

void cv_hf_free(struct cv_job *job)
{
	struct hf_src *s = job->src_state;

	if (!s)
		return;
	for (uint32_t i = 0; s->fds && i < s->st->n_shards; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	free(s->fds);
	free(s->used);
	trit_strmap_free(&s->names);
	trit_st_close(s->st);
	free(s);
	job->src_state = NULL;
}
