/*
 * api_tokenizer.c - the tokenizer handle of <trit/trit.h>: a vocabulary read
 * from a GGUF file, and tokenizing, pieces and detokenizing over it. The
 * reading is vocab.c's, the tokenizing tokenizer*.c's; this file holds the
 * handle and the output conventions (caller's buffers, lengths in *n).
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include <trit/trit.h>

#include "core/common.h"
#include "model/gguf.h"
#include "model/model.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

struct trit_tokenizer {
	struct trit_vocab *v;
};

int trit_tokenizer_open(const char *path, struct trit_tokenizer **out, char *err, size_t errlen)
{
	struct trit_gguf *g;
	struct trit_tokenizer *t;
	size_t used;
	int rc;

	*out = NULL;
	if ((rc = trit_gguf_open(path, &g, err, errlen)))
		return rc;
	t = calloc(1, sizeof *t);
	if (!t) {
		trit_gguf_close(g);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory opening a tokenizer");
	}
	/* the vocabulary's messages name keys; put the file before them */
	used = err && errlen ? (size_t)snprintf(err, errlen, "%s: ", path) : 0;
	rc = trit_vocab_load(g, &t->v, used < errlen ? err + used : NULL, used < errlen ? errlen - used : 0);
	trit_gguf_close(g);
	if (rc) {
		free(t);
		return rc;
	}
	if (err && errlen)
		err[0] = 0;
	*out = t;
	return 0;
}

int trit_tokenizer_open_model(const struct trit_model *m, struct trit_tokenizer **out,
                              char *err, size_t errlen)
{
	*out = NULL;
	if (m->format != TRIT_MODEL_GGUF || m->n_files < 1)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "%s: trit reads tokenizers from GGUF "
		                 "files only (not tokenizer.json)", m->path);
	return trit_tokenizer_open(m->files[0], out, err, errlen);
}

void trit_tokenizer_free(struct trit_tokenizer *t)
{
	if (!t)
		return;
	trit_vocab_free(t->v);
	free(t);
}

void trit_tokenizer_get_info(const struct trit_tokenizer *t, struct trit_tokenizer_info *out)
{
	const struct trit_vocab *v = t->v;

	*out = (struct trit_tokenizer_info){
		.model = v->model_name, .pre = v->pre_name, .n_tokens = v->n_tokens,
		.bos = v->bos, .eos = v->eos, .eot = v->eot, .unk = v->unk, .pad = v->pad,
		.add_bos = v->add_bos, .add_eos = v->add_eos, .add_space_prefix = v->add_space_prefix,
	};
}

int trit_tokenize(const struct trit_tokenizer *t, const char *text, size_t len,
                  int add_special, int parse_special, int32_t *ids, size_t cap, size_t *n,
                  char *err, size_t errlen)
{
	struct trit_tokens out = { 0 };
	int rc = trit_tokenize_text(t->v, text, len, add_special, parse_special, &out, err, errlen);

	*n = out.n;
	if (!rc) {
		if (out.n)
			memcpy(ids, out.ids, (out.n < cap ? out.n : cap) * sizeof *ids);
		if (out.n > cap)
			rc = trit_errf(err, errlen, TRIT_ERANGE, "%zu tokens do not fit in %zu", out.n, cap);
	}
	trit_tokens_free(&out);
	return rc;
}

int trit_token_to_piece(const struct trit_tokenizer *t, int32_t id, int special, char *buf,
                        size_t cap, size_t *n)
{
	return trit_token_piece(t->v, id, special, buf, cap, n);
}

int trit_detokenize(const struct trit_tokenizer *t, const int32_t *ids, size_t n_ids,
                    int special, char *buf, size_t cap, size_t *n, char *err, size_t errlen)
{
	const struct trit_vocab *v = t->v;
	int strip = v->kind == TRIT_VOCAB_SPM && v->add_space_prefix;

	*n = 0;
	for (size_t i = 0; i < n_ids; i++) {
		size_t k, at = *n;
		char first;
		if (trit_token_piece(v, ids[i], special, *n < cap ? buf + *n : NULL,
		                     *n < cap ? cap - *n : 0, &k))
			return trit_errf(err, errlen, TRIT_EINVAL, "ids[%zu] = %d is not a token (the "
			                 "vocabulary has %u)", i, (int)ids[i], v->n_tokens);
		*n += k;
		if (!strip || k == 0 || v->tokens[ids[i]].type == TRIT_TOKEN_CONTROL ||
		    v->tokens[ids[i]].type == TRIT_TOKEN_UNKNOWN)
			continue;
		strip = 0;
		/* the first text piece: drop its leading space */
		trit_token_piece(v, ids[i], special, &first, 1, &k);
		if (first == ' ') {
			if (at < cap)
				memmove(buf + at, buf + at + 1, (*n < cap ? *n : cap) - at - 1);
			*n -= 1;
		}
	}
	return 0;
}

size_t trit_utf8_complete(const char *buf, size_t len)
{
	return trit_utf8_complete_len(buf, len);
}
