/*
 * model_report.c - `trit inspect`: a model as text for people and JSON for
 * programs (keys in docs/json.md). Strings from the file are escaped on the
 * way out (core/textsafe.h). With --tensors a model may list a million
 * tensors, so the JSON's tensor list is written as it goes, one object per
 * line, never held as a tree: memory stays that of the model itself.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/common.h"
#include "core/textsafe.h"
#include "report/json_build.h"
#include "report/report.h"

/* ------------------------------------------------------------------ Text */

static const char *format_name(enum trit_model_format f)
{
	return f == TRIT_MODEL_GGUF ? "gguf" : "safetensors";
}

static const char *part_name(uint8_t part)
{
	return part == TRIT_PART_BIAS ? "bias" : part == TRIT_PART_SCALE ? "scale" : "weight";
}

/* A per-layer value: one number when every layer agrees. */
static int uniform(const uint32_t *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++)
		if (v[i] != v[0])
			return 0;
	return 1;
}

static void text_per_layer(FILE *out, const char *label, const uint32_t *v, uint32_t n)
{
	fprintf(out, "  %-22s", label);
	if (uniform(v, n))
		fprintf(out, " %u\n", n ? v[0] : 0);
	else {
		for (uint32_t i = 0; i < n; i++)
			fprintf(out, "%s%u", i ? "," : " ", v[i]);
		fputc('\n', out);
	}
}

static void text_count(FILE *out, const char *label, uint64_t v)
{
	if (v)
		fprintf(out, "  %-22s %llu\n", label, (unsigned long long)v);
}

static void text_head(FILE *out, const struct trit_model *m)
{
	char b1[32], s1[256], s2[256];

	trit_text_fputs(m->path, out);
	fprintf(out, "\n  %-22s %s, %u file%s, %s\n", "format", format_name(m->format), m->n_files,
	        m->n_files == 1 ? "" : "s", trit_format_bytes(m->file_bytes, b1, sizeof b1));
	fprintf(out, "  %-22s %s (trit family: %s)\n", "architecture",
	        trit_text_safe(m->hp.arch, s1, sizeof s1), trit_text_safe(m->hp.family, s2, sizeof s2));
	fprintf(out, "  %-22s %llu (%.3f B)\n", "parameters", (unsigned long long)m->n_params,
	        (double)m->n_params / 1e9);
	fprintf(out, "  %-22s %llu (%s)\n", "tensor bytes", (unsigned long long)m->n_bytes,
	        trit_format_bytes(m->n_bytes, b1, sizeof b1));
}

static void text_hparams(FILE *out, const struct trit_hparams *hp)
{
	fprintf(out, "\nHyper-parameters\n");
	text_count(out, "layers", hp->n_layer);
	text_count(out, "embedding", hp->n_embd);
	text_count(out, "vocabulary", hp->n_vocab);
	text_count(out, "training context", hp->n_ctx_train);
	text_per_layer(out, "attention heads", hp->n_head, hp->n_layer);
	text_per_layer(out, "KV heads", hp->n_head_kv, hp->n_layer);
	fprintf(out, "  %-22s K %u, V %u\n", "head dims", hp->head_dim_k, hp->head_dim_v);
	text_per_layer(out, "feed-forward", hp->n_ff, hp->n_layer);
	text_count(out, "RoPE dims", hp->n_rot);
	if (hp->rope_freq_base)
		fprintf(out, "  %-22s %g\n", "RoPE base", hp->rope_freq_base);
	if (hp->norm_eps)
		fprintf(out, "  %-22s %g\n", "norm epsilon", hp->norm_eps);
	text_count(out, "experts", hp->n_expert);
	text_count(out, "experts used", hp->n_expert_used);
	text_count(out, "shared experts", hp->n_expert_shared);
	text_count(out, "leading dense layers", hp->n_layer_dense_lead);
	text_count(out, "expert feed-forward", hp->n_ff_exp);
	text_count(out, "MLA q rank", hp->q_lora_rank);
	text_count(out, "MLA kv rank", hp->kv_lora_rank);
	if (hp->sliding_window_ignored)
		fprintf(out, "  %-22s %u tokens, not used (as llama.cpp, trit windows only Gemma 2/3 "
		        "layers)\n", "sliding window", hp->sliding_window_ignored);
	else if (hp->sliding_window) {
		uint32_t n = 0;
		for (uint32_t i = 0; i < hp->n_layer; i++)
			n += hp->swa[i];
		fprintf(out, "  %-22s %u tokens on %u of %u layers\n", "sliding window",
		        hp->sliding_window, n, hp->n_layer);
	}
	fprintf(out, "  %-22s %s\n", "tied embeddings", hp->tied_embeddings ? "yes" : "no");

}

static void text_summary(FILE *out, const struct trit_model *m)
{
	char b1[32], s1[256];

	fprintf(out, "\nBy role\n");
	for (int g = 0; g < TRIT_GROUP_COUNT; g++)
		if (m->group_params[g] || m->group_bytes[g])
			fprintf(out, "  %-22s %15llu params %12s\n", trit_role_group_name(g),
			        (unsigned long long)m->group_params[g],
			        trit_format_bytes(m->group_bytes[g], b1, sizeof b1));
	fprintf(out, "\nBy type\n");
	for (size_t i = 0; i < m->quant.n_types; i++) {
		const struct trit_type_summary *t = &m->quant.types[i];
		fprintf(out, "  %-10s %5llu tensors %15llu params %12s%s\n", t->type_name,
		        (unsigned long long)t->n_tensors, (unsigned long long)t->n_params,
		        trit_format_bytes(t->n_bytes, b1, sizeof b1), t->ternary ? "  ternary" : "");
	}
	fprintf(out, "\nQuantisation\n  %-22s %s%s\n  %-22s %.3f\n  %-22s %s%s%s\n",
	        "primary type", m->quant.primary ? m->quant.primary : "none",
	        m->quant.mixed ? " (mixed)" : "", "bits per weight", m->quant.bits_per_weight,
	        "ternary kernels", m->quant.ternary_kernels ? "apply" : "do not apply",
	        m->quant.ternary_kernels ? "" : ": ",
	        m->quant.ternary_kernels ? "" : trit_text_safe(m->quant.ternary_why, s1, sizeof s1));
}

static void text_layers(FILE *out, const struct trit_model *m)
{
	char b1[32];

	fprintf(out, "\nPer layer\n  %-8s %15s %12s\n", "layer", "params", "bytes");
	fprintf(out, "  %-8s %15llu %12s\n", "(none)", (unsigned long long)m->nonlayer_params,
	        trit_format_bytes(m->nonlayer_bytes, b1, sizeof b1));
	for (uint32_t i = 0; i < m->hp.n_layer; i++)
		fprintf(out, "  %-8u %15llu %12s\n", i, (unsigned long long)m->layer_params[i],
		        trit_format_bytes(m->layer_bytes[i], b1, sizeof b1));
}

static void text_tensor(FILE *out, const struct trit_model_tensor *t)
{
	char shape[96], layer[16] = "-", b1[32], name[256];
	int n = 0;

	for (uint32_t d = 0; d < t->n_dims && n < (int)sizeof shape - 24; d++)
		n += snprintf(shape + n, sizeof shape - (size_t)n, "%s%llu", d ? " x " : "",
		              (unsigned long long)t->ne[d]);
	if (!t->n_dims)
		snprintf(shape, sizeof shape, "scalar");
	if (t->layer >= 0)
		snprintf(layer, sizeof layer, "%d", t->layer);
	fprintf(out, "  %-40s %-8s %-24s %12s  %-5s %s\n", trit_text_safe(t->name, name, sizeof name),
	        t->type_name, shape, trit_format_bytes(t->n_bytes, b1, sizeof b1), layer,
	        trit_role_name(t->role));
}

void trit_report_model_text(FILE *out, const struct trit_model *m, int with_tensors)
{
	text_head(out, m);
	text_hparams(out, &m->hp);
	text_summary(out, m);
	text_layers(out, m);
	if (with_tensors) {
		fprintf(out, "\nTensors\n");
		for (size_t i = 0; i < m->n_tensors; i++)
			text_tensor(out, &m->tensors[i]);
	}
	if (m->n_warnings) {
		fprintf(out, "\nWarnings\n");
		for (size_t i = 0; i < m->n_warnings; i++) {
			fputs("  ", out);
			trit_text_fputs(m->warnings[i], out);
			fputc('\n', out);
		}
	}
}

/* ------------------------------------------------------------------ JSON */

static void json_u64(struct jb *jb, cJSON *o, const char *key, uint64_t v)
{
	chk(jb, cJSON_AddNumberToObject(o, key, (double)v));
}

static void json_layers(struct jb *jb, cJSON *o, const char *key, const uint32_t *v, uint32_t n)
{
	if (uniform(v, n)) {
		json_u64(jb, o, key, n ? v[0] : 0);
		return;
	}
	cJSON *a = chk(jb, cJSON_AddArrayToObject(o, key));
	for (uint32_t i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, chk(jb, cJSON_CreateNumber(v[i]))))
			jb->oom = 1;
}

static void json_hparams(struct jb *jb, cJSON *root, const struct trit_hparams *hp)
{
	cJSON *o, *a;

	if (!(o = chk(jb, cJSON_AddObjectToObject(root, "hparams"))))
		return;
	json_u64(jb, o, "n_layer", hp->n_layer);
	json_u64(jb, o, "n_embd", hp->n_embd);
	json_u64(jb, o, "n_vocab", hp->n_vocab);
	json_u64(jb, o, "n_ctx_train", hp->n_ctx_train);
	json_layers(jb, o, "n_head", hp->n_head, hp->n_layer);
	json_layers(jb, o, "n_head_kv", hp->n_head_kv, hp->n_layer);
	json_layers(jb, o, "n_ff", hp->n_ff, hp->n_layer);
	json_u64(jb, o, "head_dim_k", hp->head_dim_k);
	json_u64(jb, o, "head_dim_v", hp->head_dim_v);
	json_u64(jb, o, "n_rot", hp->n_rot);
	chk(jb, cJSON_AddNumberToObject(o, "rope_freq_base", hp->rope_freq_base));
	chk(jb, cJSON_AddNumberToObject(o, "norm_eps", hp->norm_eps));
	json_u64(jb, o, "n_expert", hp->n_expert);
	json_u64(jb, o, "n_expert_used", hp->n_expert_used);
	json_u64(jb, o, "n_expert_shared", hp->n_expert_shared);
	json_u64(jb, o, "n_layer_dense_lead", hp->n_layer_dense_lead);
	json_u64(jb, o, "n_ff_exp", hp->n_ff_exp);
	json_u64(jb, o, "n_ff_shexp", hp->n_ff_shexp);
	json_u64(jb, o, "q_lora_rank", hp->q_lora_rank);
	json_u64(jb, o, "kv_lora_rank", hp->kv_lora_rank);
	json_u64(jb, o, "sliding_window", hp->sliding_window);
	a = chk(jb, cJSON_AddArrayToObject(o, "swa_layers"));
	for (uint32_t i = 0; a && i < hp->n_layer; i++)
		if (hp->swa[i] && !cJSON_AddItemToArray(a, chk(jb, cJSON_CreateNumber(i))))
			jb->oom = 1;
	chk(jb, cJSON_AddBoolToObject(o, "tied_embeddings", hp->tied_embeddings));
	json_u64(jb, o, "file_type", hp->file_type);
}

/* Everything but the tensors. */
static cJSON *json_tree(struct jb *jb, const struct trit_model *m)
{
	cJSON *root = cJSON_CreateObject(), *o, *a;

	if (!root)
		return NULL;
	json_str(jb, root, "path", m->path);
	json_str(jb, root, "format", format_name(m->format));
	a = chk(jb, cJSON_AddArrayToObject(root, "files"));
	for (uint32_t i = 0; a && i < m->n_files; i++)
		if (!cJSON_AddItemToArray(a, chk(jb, cJSON_CreateString(m->files[i]))))
			jb->oom = 1;
	json_u64(jb, root, "file_bytes", m->file_bytes);
	json_str(jb, root, "architecture", m->hp.arch);
	json_str(jb, root, "family", m->hp.family);
	json_u64(jb, root, "params", m->n_params);
	json_u64(jb, root, "bytes", m->n_bytes);
	json_hparams(jb, root, &m->hp);
	o = chk(jb, cJSON_AddObjectToObject(root, "by_group"));
	for (int g = 0; o && g < TRIT_GROUP_COUNT; g++) {
		cJSON *e = chk(jb, cJSON_AddObjectToObject(o, trit_role_group_name(g)));
		if (e) {
			json_u64(jb, e, "params", m->group_params[g]);
			json_u64(jb, e, "bytes", m->group_bytes[g]);
		}
	}
	a = chk(jb, cJSON_AddArrayToObject(root, "by_type"));
	for (size_t i = 0; a && i < m->quant.n_types; i++) {
		const struct trit_type_summary *t = &m->quant.types[i];
		cJSON *e = chk(jb, cJSON_CreateObject());
		if (!e || !cJSON_AddItemToArray(a, e))
			break;
		json_str(jb, e, "type", t->type_name);
		json_u64(jb, e, "tensors", t->n_tensors);
		json_u64(jb, e, "params", t->n_params);
		json_u64(jb, e, "bytes", t->n_bytes);
		chk(jb, cJSON_AddBoolToObject(e, "ternary", t->ternary));
	}
	o = chk(jb, cJSON_AddObjectToObject(root, "quantisation"));
	if (o) {
		json_str(jb, o, "primary", m->quant.primary);
		chk(jb, cJSON_AddBoolToObject(o, "mixed", m->quant.mixed));
		chk(jb, cJSON_AddNumberToObject(o, "bits_per_weight", m->quant.bits_per_weight));
		chk(jb, cJSON_AddBoolToObject(o, "ternary_kernels", m->quant.ternary_kernels));
		json_str(jb, o, "ternary_why", m->quant.ternary_kernels ? NULL : m->quant.ternary_why);
	}
	o = chk(jb, cJSON_AddObjectToObject(root, "nonlayer"));
	if (o) {
		json_u64(jb, o, "params", m->nonlayer_params);
		json_u64(jb, o, "bytes", m->nonlayer_bytes);
	}
	a = chk(jb, cJSON_AddArrayToObject(root, "layers"));
	for (uint32_t i = 0; a && i < m->hp.n_layer; i++) {
		cJSON *e = chk(jb, cJSON_CreateObject());
		if (!e || !cJSON_AddItemToArray(a, e))
			break;
		json_u64(jb, e, "layer", i);
		json_u64(jb, e, "params", m->layer_params[i]);
		json_u64(jb, e, "bytes", m->layer_bytes[i]);
	}
	a = chk(jb, cJSON_AddArrayToObject(root, "warnings"));
	for (size_t i = 0; a && i < m->n_warnings; i++)
		if (!cJSON_AddItemToArray(a, chk(jb, cJSON_CreateString(m->warnings[i]))))
			jb->oom = 1;
	return root;
}

/* ------------------------------------------------------ Streamed tensors */

/* One line of output being built: grown to fit, reused for every tensor. */
struct line {
	char *p;
	size_t n, cap;
};

static int line_room(struct line *l, size_t more)
{
	size_t cap = l->cap ? l->cap : 1024;
	char *p;

	if (l->n + more <= l->cap)
		return 0;
	while (cap < l->n + more)
		cap *= 2;
	if (!(p = realloc(l->p, cap)))
		return -1;
	l->p = p;
	l->cap = cap;
	return 0;
}

/* Appends; line_room made room for them. */
static void put(struct line *l, const char *s)
{
	size_t n = strlen(s);

	memcpy(l->p + l->n, s, n);
	l->n += n;
}

static void put_u64(struct line *l, uint64_t v)
{
	char d[20];
	int k = 0;

	do
		d[k++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (k)
		l->p[l->n++] = d[--k];
}

static void put_i64(struct line *l, int64_t v)
{
	if (v < 0) {
		l->p[l->n++] = '-';
		put_u64(l, (uint64_t)-(v + 1) + 1);
	} else {
		put_u64(l, (uint64_t)v);
	}
}

/* Room for everything but the name: 14 keys, 8 dimensions and 14 numbers
 * of at most 20 digits, and the role, part and type names. */
#define TENSOR_LINE_FIXED 1024

/* One tensor as a JSON object on one line, the keys docs/json.md lists. */
static int tensor_line(struct line *l, const struct trit_model_tensor *t)
{
	size_t len = strlen(t->name);

	l->n = 0;
	if (len > (SIZE_MAX - TENSOR_LINE_FIXED) / 6 || line_room(l, len * 6 + TENSOR_LINE_FIXED))
		return -1;
	put(l, "\t\t{\"name\": ");
	l->n += trit_json_quote(l->p + l->n, l->cap - l->n, t->name, len);
	put(l, ", \"layer\": ");
	put_i64(l, t->layer);
	if (t->expert >= 0) {
		put(l, ", \"expert\": ");
		put_i64(l, t->expert);
	}
	put(l, ", \"role\": \"");
	put(l, trit_role_name(t->role));
	put(l, "\", \"part\": \"");
	put(l, part_name(t->part));
	put(l, "\", \"type\": \"");
	put(l, t->type_name);
	put(l, "\"");
	if (t->ggml_type >= 0) {
		put(l, ", \"ggml_type\": ");
		put_i64(l, t->ggml_type);
	}
	put(l, ", \"ne\": [");
	for (uint32_t d = 0; d < t->n_dims && d < 8; d++) {
		put(l, d ? ", " : "");
		put_u64(l, t->ne[d]);
	}
	put(l, t->ternary ? "], \"ternary\": true" : "], \"ternary\": false");
	put(l, ", \"params\": ");
	put_u64(l, t->n_params);
	put(l, ", \"bytes\": ");
	put_u64(l, t->n_bytes);
	put(l, ", \"offset\": ");
	put_u64(l, t->offset);
	put(l, ", \"file\": ");
	put_u64(l, t->file);
	put(l, "}");
	return 0;
}

/* ,"tensors": [ ... ] - each object written as soon as it is made. */
static int write_tensors(FILE *out, const struct trit_model *m)
{
	struct line l = { 0 };

	fputs(",\n\t\"tensors\":\t[", out);
	for (size_t i = 0; i < m->n_tensors; i++) {
		if (tensor_line(&l, &m->tensors[i])) {
			free(l.p);
			return TRIT_ENOMEM;
		}
		fputs(i ? ",\n" : "\n", out);
		fwrite(l.p, 1, l.n, out);
	}
	fputs(m->n_tensors ? "\n\t]" : "]", out);
	free(l.p);
	return 0;
}

int trit_report_model_json_write(FILE *out, const struct trit_model *m, int with_tensors)
{
	struct jb jb = { 0 };
	cJSON *root = json_tree(&jb, m);
	char *head = root && !jb.oom ? trit_json_make_safe(cJSON_Print(root)) : NULL;
	size_t n;
	int rc = 0;

	cJSON_Delete(root);
	if (!head)
		return TRIT_ENOMEM;
	n = strlen(head);
	if (with_tensors && n >= 2 && head[n - 1] == '}') {
		/* the tree printed "...\n}": the tensors go in before its brace */
		for (n--; n && head[n - 1] == '\n'; n--)
			;
		fwrite(head, 1, n, out);
		rc = write_tensors(out, m);
		fputs("\n}\n", out);
	} else {
		fputs(head, out);
		fputc('\n', out);
	}
	free(head);
	return rc ? rc : ferror(out) ? TRIT_EIO : 0;
}

char *trit_report_model_json(const struct trit_model *m, int with_tensors)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	int rc;

	if (!f)
		return NULL;
	rc = trit_report_model_json_write(f, m, with_tensors);
	if (fclose(f) != 0 || rc) {
		free(s);
		return NULL;
	}
	if (len && s[len - 1] == '\n') /* as cJSON_Print: no final newline */
		s[len - 1] = '\0';
	return s;
}
