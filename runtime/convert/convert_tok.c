/*
 * convert/convert_tok.c - a Hugging Face tokenizer.json (byte-level BPE) as
 * GGUF tokenizer.ggml.* keys: the vocabulary and added tokens ordered by
 * id (padded to config.json's vocab_size with [PADn] tokens, as llama.cpp's
 * converter does), token types (normal 1, control 3 for special added
 * tokens, user-defined 4 for others, unused 5 for padding), the merges as
 * "a b" strings, BOS/EOS, add_bos_token and the chat template from
 * tokenizer_config.json. Every id, merge and field is checked; an error
 * names the file and the field ("model.merges[12]").
 */
#include <build-config.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/convert.h"
#include "core/common.h"
#include "core/log.h"
#include "core/strmap.h"
#include "model/gguf.h"
#include "model/safetensors.h"

#define CV_MAX_TOKENIZER (UINT64_C(256) << 20) /* bytes of tokenizer.json */
#define K "tokenizer.ggml."

struct tok {
	const char *path;          /* tokenizer.json */
	uint64_t n;                /* ids 0 .. n-1 */
	const char **text;         /* per id, NULL: padding */
	int32_t *type;
	struct trit_strmap ids;    /* text -> id */
	const cJSON *merges;
	int64_t bos, eos;
	int add_bos;               /* -1: not said */
	const char *tmpl;          /* chat template (owned by cfg or the caller) */
	cJSON *cfg;                /* tokenizer_config.json, NULL when absent */
};

static int set_token(struct tok *t, const char *field, double idv, const char *text, int type,
                     char *err, size_t errlen)
{
	uint64_t id = (uint64_t)idv;

	if (!(idv >= 0) || idv != (double)id || id >= t->n)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: %s: id %g is not below the "
		                 "vocabulary size %" PRIu64 " (config.json's vocab_size)", t->path,
		                 field, idv, t->n);
	if (t->text[id] && strcmp(t->text[id], text) != 0)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: %s: id %" PRIu64 " is already the "
		                 "token \"%.40s\"", t->path, field, id, t->text[id]);
	t->text[id] = text;
	t->type[id] = type;
	if (trit_strmap_put(&t->ids, text, (size_t)id))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	return 0;
}

static int read_vocab(struct tok *t, const cJSON *model, char *err, size_t errlen)
{
	const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab"), *v;
	char field[96];
	int rc;

	if (!cJSON_IsObject(vocab))
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: model.vocab: expected an object of "
		                 "token: id", t->path);
	cJSON_ArrayForEach(v, vocab) {
		snprintf(field, sizeof field, "model.vocab[\"%.40s\"]", v->string);
		if (!cJSON_IsNumber(v))
			return trit_errf(err, errlen, TRIT_EFORMAT, "%s: %s: expected an id", t->path,
			                 field);
		if ((rc = set_token(t, field, v->valuedouble, v->string, 1, err, errlen)))
			return rc;
	}
	return 0;
}

static int read_added(struct tok *t, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), *a;
	char field[64];
	size_t i = 0;
	int rc;

	if (added && !cJSON_IsArray(added))
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: added_tokens: expected an array",
		                 t->path);
	cJSON_ArrayForEach(a, added) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(a, "content");
		const cJSON *special = cJSON_GetObjectItemCaseSensitive(a, "special");
		snprintf(field, sizeof field, "added_tokens[%zu]", i++);
		if (!cJSON_IsNumber(id) || !cJSON_IsString(content) ||
		    (special && !cJSON_IsBool(special)))
			return trit_errf(err, errlen, TRIT_EFORMAT, "%s: %s: expected {\"id\": N, "
			                 "\"content\": \"...\", \"special\": true|false}", t->path, field);
		if ((rc = set_token(t, field, id->valuedouble, content->valuestring,
		                    cJSON_IsTrue(special) ? 3 : 4, err, errlen)))
			return rc;
	}
	return 0;
}

/* Merge i as its two parts: "a b" or ["a", "b"]; both must be tokens and
 * so must their concatenation. */
static int merge_parts(const struct tok *t, const cJSON *m, size_t i, char *out, size_t outlen,
                       char *err, size_t errlen)
{
	const char *a = NULL, *b = NULL, *sp;
	size_t alen = 0, id;

	if (cJSON_IsString(m) && (sp = strchr(m->valuestring, ' ')) && !strchr(sp + 1, ' ')) {
		a = m->valuestring;
		alen = (size_t)(sp - a);
		b = sp + 1;
	} else if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 &&
	           cJSON_IsString(cJSON_GetArrayItem(m, 0)) &&
	           cJSON_IsString(cJSON_GetArrayItem(m, 1))) {
		a = cJSON_GetArrayItem(m, 0)->valuestring;
		alen = strlen(a);
		b = cJSON_GetArrayItem(m, 1)->valuestring;
	}
	if (!a || !alen || !*b || memchr(a, ' ', alen) || strchr(b, ' ') ||
	    alen + strlen(b) + 2 > outlen)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: model.merges[%zu]: expected \"a b\" "
		                 "or [\"a\", \"b\"]: two non-empty tokens without spaces", t->path, i);
	memcpy(out, a, alen);
	out[alen] = 0;
	if (!trit_strmap_get(&t->ids, out, &id) || !trit_strmap_get(&t->ids, b, &id))
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: model.merges[%zu]: \"%.40s\" or "
		                 "\"%.40s\" is not in the vocabulary", t->path, i, out, b);
	strcat(out, b);
	if (!trit_strmap_get(&t->ids, out, &id))
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: model.merges[%zu]: the merged token "
		                 "\"%.80s\" is not in the vocabulary", t->path, i, out);
	memcpy(out, a, alen);
	out[alen] = ' ';
	strcpy(out + alen + 1, b);
	return 0;
}

static int put_merges(struct trit_gguf_writer *w, const struct tok *t, char *err,
                      size_t errlen)
{
	size_t i = 0, cap = 1024;
	char *buf = malloc(cap);
	const cJSON *m;
	int rc = 0;

	if (!buf)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	trit_gguf_put_array(w, K "merges", TRIT_GGUF_STRING, (uint64_t)cJSON_GetArraySize(t->merges));
	cJSON_ArrayForEach(m, t->merges) {
		if ((rc = merge_parts(t, m, i++, buf, cap, err, errlen)))
			break;
		trit_gguf_put_elem_str(w, buf, strlen(buf));
	}
	free(buf);
	return rc;
}

static void put_tokens(struct trit_gguf_writer *w, const struct tok *t)
{
	char pad[32];

	trit_gguf_put_array(w, K "tokens", TRIT_GGUF_STRING, t->n);
	for (uint64_t i = 0; i < t->n; i++) {
		if (t->text[i]) {
			trit_gguf_put_elem_str(w, t->text[i], strlen(t->text[i]));
		} else {
			snprintf(pad, sizeof pad, "[PAD%" PRIu64 "]", i);
			trit_gguf_put_elem_str(w, pad, strlen(pad));
		}
	}
	trit_gguf_put_array(w, K "token_type", TRIT_GGUF_I32, t->n);
	for (uint64_t i = 0; i < t->n; i++)
		trit_gguf_put_elem_i32(w, t->text[i] ? t->type[i] : 5);
}

/* A token named in tokenizer_config.json ("bos_token": "<s>" or
 * {"content": "<s>"}), as an id; -1 when absent or unknown. */
static int64_t named_token(const struct tok *t, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->cfg, field);
	size_t id;

	if (cJSON_IsObject(v))
		v = cJSON_GetObjectItemCaseSensitive(v, "content");
	if (cJSON_IsString(v) && trit_strmap_get(&t->ids, v->valuestring, &id))
		return (int64_t)id;
	return -1;
}

/* tokenizer_config.json: absent is fine; the fields used must be well typed. */
static int read_tok_config(struct tok *t, const char *dir, char *err, size_t errlen)
{
	char *path = trit_asprintf("%s/tokenizer_config.json", dir);
	const cJSON *v;
	int rc, errnum = 0;

	if (!path)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	rc = trit_st_read_json(path, CV_MAX_TOKENIZER, &t->cfg, &errnum, err, errlen);
	if (rc && errnum == ENOENT)
		rc = 0;
	if (!rc && t->cfg && !cJSON_IsObject(t->cfg))
		rc = trit_errf(err, errlen, TRIT_EFORMAT, "%s: expected a JSON object", path);
	if (!rc && (v = cJSON_GetObjectItemCaseSensitive(t->cfg, "add_bos_token"))) {
		if (!cJSON_IsBool(v))
			rc = trit_errf(err, errlen, TRIT_EFORMAT, "%s: field \"add_bos_token\": expected "
			               "true or false", path);
		t->add_bos = cJSON_IsTrue(v);
	}
	if (!rc && !t->tmpl && (v = cJSON_GetObjectItemCaseSensitive(t->cfg, "chat_template"))) {
		if (cJSON_IsString(v))
			t->tmpl = v->valuestring;
		else
			trit_log(TRIT_LOG_WARN, "%s: field \"chat_template\" is not a string; not "
			         "copied (give one with --chat-template)", path);
	}
	free(path);
	return rc;
}

static int read_model(struct tok *t, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
	int rc;

	if (!cJSON_IsObject(model))
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: model: expected an object", t->path);
	if (type && !(cJSON_IsString(type) && strcmp(type->valuestring, "BPE") == 0))
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "%s: model.type: expected \"BPE\" "
		                 "(trit convert writes byte-level BPE vocabularies)", t->path);
	t->merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
	if (!cJSON_IsArray(t->merges))
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: model.merges: expected an array",
		                 t->path);
	if ((rc = read_vocab(t, model, err, errlen)) || (rc = read_added(t, root, err, errlen)))
		return rc;
	return 0;
}

static int write_keys(struct trit_gguf_writer *w, struct tok *t, char *err, size_t errlen)
{
	int rc;

	if (t->bos < 0)
		t->bos = named_token(t, "bos_token");
	if (t->eos < 0)
		t->eos = named_token(t, "eos_token");
	if ((t->bos >= 0 && (uint64_t)t->bos >= t->n) || (t->eos >= 0 && (uint64_t)t->eos >= t->n))
		return trit_errf(err, errlen, TRIT_EFORMAT, "config.json: bos_token_id / eos_token_id "
		                 "(%" PRId64 " / %" PRId64 ") not below vocab_size %" PRIu64, t->bos,
		                 t->eos, t->n);
	trit_gguf_put_str(w, K "model", "gpt2", 4);
	trit_gguf_put_str(w, K "pre", "gpt-2", 5);
	put_tokens(w, t);
	if ((rc = put_merges(w, t, err, errlen)))
		return rc;
	if (t->bos >= 0)
		trit_gguf_put_u32(w, K "bos_token_id", (uint32_t)t->bos);
	if (t->eos >= 0)
		trit_gguf_put_u32(w, K "eos_token_id", (uint32_t)t->eos);
	trit_gguf_put_bool(w, K "add_bos_token", t->add_bos >= 0 ? t->add_bos : t->bos >= 0);
	if (t->tmpl)
		trit_gguf_put_str(w, "tokenizer.chat_template", t->tmpl, strlen(t->tmpl));
	return 0;
}

int cv_tokenizer(struct trit_gguf_writer *w, const char *dir, uint64_t vocab_size,
                 int64_t bos, int64_t eos, const char *chat_template, char *err,
                 size_t errlen)
{
	struct tok t = { .n = vocab_size, .bos = bos, .eos = eos, .add_bos = -1,
	                 .tmpl = chat_template };
	char *path = trit_asprintf("%s/tokenizer.json", dir);
	cJSON *root = NULL;
	int rc;

	t.path = path;
	if (!path || !(t.text = calloc(t.n, sizeof *t.text)) || !(t.type = calloc(t.n, 4)))
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	else if (!(rc = trit_st_read_json(path, CV_MAX_TOKENIZER, &root, NULL, err, errlen)) &&
	         !(rc = read_model(&t, root, err, errlen)) &&
	         !(rc = read_tok_config(&t, dir, err, errlen)))
		rc = write_keys(w, &t, err, errlen);
	cJSON_Delete(root);
	cJSON_Delete(t.cfg);
	trit_strmap_free(&t.ids);
	free(t.text);
	free(t.type);
	free(path);
	return rc;
}
