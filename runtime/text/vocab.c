/*
 * vocab.c - reads the tokenizer.ggml.* keys of a GGUF into a struct
 * trit_vocab: every text copied into one arena, hashed for look-ups; the
 * defaults of the tokenizer model and pre-tokenizer applied first and the
 * file's keys over them, as llama.cpp does, so both agree on a file.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "text/vocab.h"

#define K "tokenizer.ggml."

static uint64_t hash_bytes(const char *s, size_t len, uint64_t h)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
	return h;
}
#define HASH_SEED UINT64_C(0xcbf29ce484222325)

static size_t table_mask(size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap <<= 1;
	return cap - 1;
}

/* Pre-tokenizer names llama.cpp accepts for the splits trit implements. */
static const struct {
	const char *name;
	enum trit_vocab_pre pre;
} pre_names[] = {
	{ "default", TRIT_PRE_DEFAULT },
	{ "llama3", TRIT_PRE_LLAMA3 }, { "llama-v3", TRIT_PRE_LLAMA3 },
	{ "llama-bpe", TRIT_PRE_LLAMA3 }, { "falcon3", TRIT_PRE_LLAMA3 },
	{ "falcon-h1", TRIT_PRE_LLAMA3 }, { "pixtral", TRIT_PRE_LLAMA3 },
	{ "midm-2.0", TRIT_PRE_LLAMA3 }, { "lfm2", TRIT_PRE_LLAMA3 },
	{ "gpt-2", TRIT_PRE_GPT2 }, { "phi-2", TRIT_PRE_GPT2 }, { "jina-es", TRIT_PRE_GPT2 },
	{ "jina-de", TRIT_PRE_GPT2 }, { "gigachat", TRIT_PRE_GPT2 },
	{ "jina-v2-es", TRIT_PRE_GPT2 }, { "jina-v2-de", TRIT_PRE_GPT2 },
	{ "a.x-4.0", TRIT_PRE_GPT2 }, { "mellum", TRIT_PRE_GPT2 }, { "exaone4", TRIT_PRE_GPT2 },
};

static int read_kind(const struct trit_gguf *g, struct trit_vocab *v, char *err, size_t errlen)
{
	struct trit_gguf_str s;
	int rc = trit_gguf_get_str(g, K "model", &s);

	if (rc == TRIT_EINVAL)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "no tokenizer: the file has no " K "model key");
	if (rc)
		return trit_errf(err, errlen, TRIT_EFORMAT, K "model: expected a string");
	if (s.len == 4 && memcmp(s.s, "gpt2", 4) == 0)
		v->kind = TRIT_VOCAB_BPE;
	else if (s.len == 5 && memcmp(s.s, "llama", 5) == 0)
		v->kind = TRIT_VOCAB_SPM;
	else
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED,
		                 K "model is '%.*s': trit tokenizes 'gpt2' (byte-level BPE) and "
		                 "'llama' (SentencePiece) vocabularies",
		                 (int)(s.len > 64 ? 64 : s.len), s.s);
	snprintf(v->model_name, sizeof v->model_name, "%s", v->kind == TRIT_VOCAB_BPE ? "gpt2" : "llama");
	return 0;
}

/* The defaults of the tokenizer model, then of the pre-tokenizer. */
static int read_pre(const struct trit_gguf *g, struct trit_vocab *v, char *err, size_t errlen)
{
	struct trit_gguf_str s = { "", 0 };
	int rc = trit_gguf_get_str(g, K "pre", &s);

	if (rc && rc != TRIT_EINVAL)
		return trit_errf(err, errlen, TRIT_EFORMAT, K "pre: expected a string");
	if (s.len >= sizeof v->pre_name)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, K "pre: unknown pre-tokenizer "
		                 "(a %llu-byte name)", (unsigned long long)s.len);
	memcpy(v->pre_name, s.s, s.len);
	v->pre_name[s.len] = 0;
	v->bos = v->kind == TRIT_VOCAB_SPM ? 1 : 11;
	v->eos = v->kind == TRIT_VOCAB_SPM ? 2 : 11;
	v->unk = v->kind == TRIT_VOCAB_SPM ? 0 : -1;
	v->eot = v->eom = v->pad = v->sep = -1;
	v->add_bos = v->kind == TRIT_VOCAB_SPM;
	v->add_space_prefix = v->kind == TRIT_VOCAB_SPM;
	if (v->kind == TRIT_VOCAB_SPM || s.len == 0) /* SentencePiece has no pre-tokenizer */
		return 0;
	for (size_t i = 0; i < TRIT_ARRAY_LEN(pre_names); i++)
		if (strcmp(v->pre_name, pre_names[i].name) == 0) {
			v->pre = pre_names[i].pre;
			if (v->pre == TRIT_PRE_LLAMA3)
				v->ignore_merges = v->add_bos = 1;
			return 0;
		}
	return trit_errf(err, errlen, TRIT_EUNSUPPORTED,
	                 K "pre is '%s': trit implements the pre-tokenizers default, llama-bpe "
	                 "(llama3, falcon3, ...) and gpt-2 (phi-2, ...)", v->pre_name);
}

/* Copy bytes into the arena (grown by doubling); *off receives where. */
static int arena_put(struct trit_vocab *v, size_t *cap, const char *s, size_t len, size_t *off)
{
	if (len > TRIT_VOCAB_MAX_TEXT - v->arena_len)
		return TRIT_ERANGE;
	if (v->arena_len + len + 1 > *cap) {
		size_t ncap = *cap ? *cap : 4096;
		while (ncap < v->arena_len + len + 1)
			ncap *= 2;
		char *p = realloc(v->arena, ncap);
		if (!p)
			return TRIT_ENOMEM;
		v->arena = p;
		*cap = ncap;
	}
	memcpy(v->arena + v->arena_len, s, len);
	v->arena[v->arena_len + len] = 0;
	*off = v->arena_len;
	v->arena_len += len + 1;
	return 0;
}

/* Grow the arena once for an array of `count` GGUF strings taking `bytes`
 * in the file (each an 8-byte length and its text): its texts and their
 * NULs need bytes - 7 x count, so loading them costs no reallocation.
 * Only a hint: arena_put still grows it for what this does not foresee. */
static void arena_reserve(struct trit_vocab *v, size_t *cap, uint64_t bytes, uint64_t count)
{
	uint64_t want;
	char *p;

	if (count > bytes / 8 || bytes - 7 * count > TRIT_VOCAB_MAX_TEXT)
		return;
	want = v->arena_len + (bytes - 7 * count);
	if (want <= *cap || !(p = realloc(v->arena, (size_t)want)))
		return;
	v->arena = p;
	*cap = (size_t)want;
}

static const struct trit_gguf_kv *array_of(const struct trit_gguf *g, const char *key,
                                           uint32_t type, int required, int *rc,
                                           char *err, size_t errlen)
{
	const struct trit_gguf_kv *kv = trit_gguf_find(g, key);

	*rc = 0;
	if (!kv) {
		if (required)
			*rc = trit_errf(err, errlen, TRIT_EFORMAT, "%s: missing", key);
		return NULL;
	}
	if (kv->type != TRIT_GGUF_ARRAY || (type != TRIT_GGUF_ARRAY && kv->arr_type != type)) {
		*rc = trit_errf(err, errlen, TRIT_EFORMAT, "%s (file offset %llu): expected an array "
		                "of %s, found %s", key, (unsigned long long)kv->offset,
		                trit_gguf_type_name(type), kv->type == TRIT_GGUF_ARRAY ?
		                "an array of another type" : trit_gguf_type_name(kv->type));
		return NULL;
	}
	return kv;
}

static int read_texts(const struct trit_gguf *g, struct trit_vocab *v, size_t *cap,
                      char *err, size_t errlen)
{
	int rc;
	const struct trit_gguf_kv *kv = array_of(g, K "tokens", TRIT_GGUF_STRING, 1, &rc, err, errlen);
	uint64_t cur = 0;

	if (!kv)
		return rc;
	if (kv->arr_count == 0 || kv->arr_count > TRIT_VOCAB_MAX_TOKENS)
		return trit_errf(err, errlen, TRIT_ERANGE, K "tokens: %llu tokens, expected 1 to %u",
		                 (unsigned long long)kv->arr_count, TRIT_VOCAB_MAX_TOKENS);
	v->n_tokens = (uint32_t)kv->arr_count;
	arena_reserve(v, cap, kv->arr_bytes, kv->arr_count);
	v->tokens = calloc(v->n_tokens, sizeof *v->tokens);
	if (!v->tokens)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for %u tokens", v->n_tokens);
	for (uint32_t i = 0; i < v->n_tokens; i++) {
		struct trit_gguf_str s;
		char empty[32];
		if (trit_gguf_array_next_str(kv, &cur, &s))
			return trit_errf(err, errlen, TRIT_EFORMAT, K "tokens[%u]: unreadable string", i);
		if (s.len == 0) { /* llama.cpp names empty tokens so */
			s.len = (uint64_t)snprintf(empty, sizeof empty, "[EMPTY_%u]", i);
			s.s = empty;
		}
		if (s.len > UINT32_MAX || (rc = arena_put(v, cap, s.s, (size_t)s.len, &v->tokens[i].off)))
			return trit_errf(err, errlen, rc == TRIT_ENOMEM ? TRIT_ENOMEM : TRIT_ERANGE,
			                 K "tokens[%u]: the texts exceed %llu bytes", i,
			                 (unsigned long long)TRIT_VOCAB_MAX_TEXT);
		v->tokens[i].len = (uint32_t)s.len;
		v->tokens[i].type = TRIT_TOKEN_NORMAL;
	}
	return 0;
}

static int read_types_scores(const struct trit_gguf *g, struct trit_vocab *v, char *err,
                             size_t errlen)
{
	int rc;
	const struct trit_gguf_kv *types = array_of(g, K "token_type", TRIT_GGUF_ARRAY, 0, &rc, err, errlen);
	const struct trit_gguf_kv *scores;

	if (rc)
		return rc;
	scores = array_of(g, K "scores", TRIT_GGUF_ARRAY, 0, &rc, err, errlen);
	if (rc)
		return rc;
	if (types && types->arr_count != v->n_tokens)
		return trit_errf(err, errlen, TRIT_EFORMAT, K "token_type: %llu entries for %u tokens",
		                 (unsigned long long)types->arr_count, v->n_tokens);
	if (scores && scores->arr_count != v->n_tokens)
		return trit_errf(err, errlen, TRIT_EFORMAT, K "scores: %llu entries for %u tokens",
		                 (unsigned long long)scores->arr_count, v->n_tokens);
	for (uint32_t i = 0; i < v->n_tokens; i++) {
		uint64_t t;
		double f;
		if (types) {
			rc = trit_gguf_array_u64(types, i, &t);
			if (rc == TRIT_EFORMAT)
				return trit_errf(err, errlen, rc, K "token_type[%u]: expected an integer", i);
			/* unknown values (negative ones included) are undefined tokens */
			v->tokens[i].type = rc == 0 && t <= TRIT_TOKEN_BYTE ? (uint8_t)t : TRIT_TOKEN_UNDEFINED;
		}
		if (scores) {
			if (trit_gguf_array_f64(scores, i, &f))
				return trit_errf(err, errlen, TRIT_EFORMAT, K "scores[%u]: expected a float", i);
			v->tokens[i].score = (float)f;
		}
	}
	return 0;
}

static int build_token_hash(struct trit_vocab *v, char *err, size_t errlen)
{
	v->tok_hash_mask = table_mask(v->n_tokens);
	v->tok_hash = calloc(v->tok_hash_mask + 1, sizeof *v->tok_hash);
	if (!v->tok_hash)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory hashing %u tokens", v->n_tokens);
	for (uint32_t i = 0; i < v->n_tokens; i++) {
		const struct trit_vocab_token *t = &v->tokens[i];
		size_t h = (size_t)hash_bytes(v->arena + t->off, t->len, HASH_SEED) & v->tok_hash_mask;
		for (;; h = (h + 1) & v->tok_hash_mask) {
			uint32_t e = v->tok_hash[h];
			if (e == 0 || (v->tokens[e - 1].len == t->len &&
			               memcmp(v->arena + v->tokens[e - 1].off, v->arena + t->off, t->len) == 0)) {
				v->tok_hash[h] = i + 1; /* a later duplicate replaces, as in llama.cpp */
				break;
			}
		}
	}
	return 0;
}

int32_t trit_vocab_find(const struct trit_vocab *v, const char *text, size_t len)
{
	size_t h = (size_t)hash_bytes(text, len, HASH_SEED) & v->tok_hash_mask;

	for (;; h = (h + 1) & v->tok_hash_mask) {
		uint32_t e = v->tok_hash[h];
		if (e == 0)
			return -1;
		if (v->tokens[e - 1].len == len && memcmp(v->arena + v->tokens[e - 1].off, text, len) == 0)
			return (int32_t)(e - 1);
	}
}

static uint64_t merge_hash(const char *a, size_t alen, const char *b, size_t blen)
{
	return hash_bytes(b, blen, hash_bytes(a, alen, HASH_SEED) * 31 + 7);
}

static int merge_eq(const struct trit_vocab *v, const struct trit_vocab_merge *m, const char *a,
                    size_t alen, const char *b, size_t blen)
{
	const char *s = v->arena + m->off;
	return m->first_len == alen && m->second_len == blen && memcmp(s, a, alen) == 0 &&
	       memcmp(s + alen + 1, b, blen) == 0;
}

int32_t trit_vocab_merge_rank(const struct trit_vocab *v, const char *first, size_t first_len,
                              const char *second, size_t second_len)
{
	size_t h;

	if (!v->merge_hash)
		return -1;
	h = (size_t)merge_hash(first, first_len, second, second_len) & v->merge_hash_mask;
	for (;; h = (h + 1) & v->merge_hash_mask) {
		uint32_t e = v->merge_hash[h];
		if (e == 0)
			return -1;
		if (merge_eq(v, &v->merges[e - 1], first, first_len, second, second_len))
			return (int32_t)(e - 1);
	}
}

/* Hash merge i unless an earlier merge states the same pair. */
static void hash_merge(struct trit_vocab *v, uint32_t i)
{
	const struct trit_vocab_merge *m = &v->merges[i];
	const char *a = v->arena + m->off, *b = a + m->first_len + 1;
	size_t h = (size_t)merge_hash(a, m->first_len, b, m->second_len) & v->merge_hash_mask;

	for (;; h = (h + 1) & v->merge_hash_mask) {
		uint32_t e = v->merge_hash[h];
		if (e == 0) {
			v->merge_hash[h] = i + 1;
			return;
		}
		if (merge_eq(v, &v->merges[e - 1], a, m->first_len, b, m->second_len))
			return;
	}
}

/* trit_vocab_measure: the merges' texts counted into arena_len as
 * arena_put would store them, nothing allocated or hashed. */
static int count_merges(struct trit_vocab *v, const struct trit_gguf_kv *kv, char *err,
                        size_t errlen)
{
	uint64_t cur = 0;

	for (uint32_t i = 0; i < v->n_merges; i++) {
		struct trit_gguf_str s;
		if (trit_gguf_array_next_str(kv, &cur, &s))
			return trit_errf(err, errlen, TRIT_EFORMAT, K "merges[%u]: unreadable string", i);
		if (s.len > TRIT_VOCAB_MAX_TEXT - v->arena_len)
			return trit_errf(err, errlen, TRIT_ERANGE, K "merges[%u]: the texts exceed %llu "
			                 "bytes", i, (unsigned long long)TRIT_VOCAB_MAX_TEXT);
		v->arena_len += (size_t)s.len + 1;
	}
	return 0;
}

/* A merge is "first second", split at the first space after the first byte;
 * one without such a space is the empty pair, which never matches. */
static int read_merges(const struct trit_gguf *g, struct trit_vocab *v, size_t *cap,
                       char *err, size_t errlen)
{
	int rc;
	const struct trit_gguf_kv *kv;
	uint64_t cur = 0;

	if (v->kind != TRIT_VOCAB_BPE)
		return 0;
	if (!(kv = array_of(g, K "merges", TRIT_GGUF_STRING, 1, &rc, err, errlen)))
		return rc;
	if (kv->arr_count > TRIT_VOCAB_MAX_MERGES)
		return trit_errf(err, errlen, TRIT_ERANGE, K "merges: %llu merges, at most %u",
		                 (unsigned long long)kv->arr_count, TRIT_VOCAB_MAX_MERGES);
	v->n_merges = (uint32_t)kv->arr_count;
	v->merge_hash_mask = table_mask(v->n_merges);
	if (v->measuring)
		return count_merges(v, kv, err, errlen);
	arena_reserve(v, cap, kv->arr_bytes, kv->arr_count);
	v->merges = calloc(v->n_merges ? v->n_merges : 1, sizeof *v->merges);
	v->merge_hash = calloc(v->merge_hash_mask + 1, sizeof *v->merge_hash);
	if (!v->merges || !v->merge_hash)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for %u merges", v->n_merges);
	for (uint32_t i = 0; i < v->n_merges; i++) {
		struct trit_gguf_str s;
		const char *sp;
		if (trit_gguf_array_next_str(kv, &cur, &s))
			return trit_errf(err, errlen, TRIT_EFORMAT, K "merges[%u]: unreadable string", i);
		if (s.len > UINT32_MAX || (rc = arena_put(v, cap, s.s, (size_t)s.len, &v->merges[i].off)))
			return trit_errf(err, errlen, rc == TRIT_ENOMEM ? TRIT_ENOMEM : TRIT_ERANGE,
			                 K "merges[%u]: the texts exceed %llu bytes", i,
			                 (unsigned long long)TRIT_VOCAB_MAX_TEXT);
		sp = s.len > 1 ? memchr(s.s + 1, ' ', (size_t)s.len - 1) : NULL;
		if (sp) {
			v->merges[i].first_len = (uint32_t)(sp - s.s);
			v->merges[i].second_len = (uint32_t)(s.len - v->merges[i].first_len - 1);
		} else {
			/* the empty pair: first "" then the space the arena's NUL stands for */
			v->merges[i].first_len = 0;
			v->merges[i].second_len = 0;
			v->merges[i].off = v->arena_len - 1;
		}
		hash_merge(v, i);
	}
	return 0;
}

/* Special ids: a value past the vocabulary keeps the default (llama.cpp
 * warns and does the same). */
static int read_ids(const struct trit_gguf *g, struct trit_vocab *v, char *err, size_t errlen)
{
	const struct {
		const char *key;
		int32_t *id;
	} ids[] = {
		{ K "bos_token_id", &v->bos }, { K "eos_token_id", &v->eos },
		{ K "eot_token_id", &v->eot }, { K "eom_token_id", &v->eom },
		{ K "unknown_token_id", &v->unk }, { K "padding_token_id", &v->pad },
		{ K "seperator_token_id", &v->sep },
	};
	const struct {
		const char *key;
		int *flag;
	} flags[] = {
		{ K "add_bos_token", &v->add_bos }, { K "add_eos_token", &v->add_eos },
		{ K "add_space_prefix", &v->add_space_prefix },
	};

	for (size_t i = 0; i < TRIT_ARRAY_LEN(ids); i++) {
		uint64_t u;
		int rc = trit_gguf_get_u64(g, ids[i].key, &u);
		if (rc == TRIT_EFORMAT)
			return trit_errf(err, errlen, rc, "%s: expected an integer", ids[i].key);
		if (rc == 0 && u < v->n_tokens)
			*ids[i].id = (int32_t)u;
	}
	for (size_t i = 0; i < TRIT_ARRAY_LEN(flags); i++) {
		int b, rc = trit_gguf_get_bool(g, flags[i].key, &b);
		if (rc == TRIT_EFORMAT)
			return trit_errf(err, errlen, rc, "%s: expected a bool", flags[i].key);
		if (rc == 0)
			*flags[i].flag = b;
	}
	/* defaults past a small vocabulary are no token */
	for (size_t i = 0; i < TRIT_ARRAY_LEN(ids); i++)
		if (*ids[i].id >= (int32_t)v->n_tokens)
			*ids[i].id = -1;
	return 0;
}

/*
 * llama.cpp recognises some tokens by their text and makes them control
 * tokens whatever type the file gives them (so that they end generation,
 * and so that they are found in text only with parse_special): the
 * end-of-generation texts always; the end-of-turn, end-of-message and
 * fill-in-the-middle texts of a kind when the file states no id for that
 * kind. gpt-oss's channel tokens become user-defined. Where llama.cpp
 * changes one token per kind (the first its hash map yields), trit changes
 * every token of the kind present: they differ only for a vocabulary
 * holding two spellings of one kind.
 */
#define FULLWIDTH_BAR "\xEF\xBD\x9C"
#define SPM_SPACE "\xE2\x96\x81"
static const char *const eog_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>",
	"<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>", NULL
};
static const struct {
	const char *keys[3];        /* the kind's id keys; detected only when all are absent */
	const char *texts[9];
} detected[] = {
	{ { K "eot_token_id" }, { "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
	  "<|endoftext|>", "<EOT>", "_<EOT>", "<" FULLWIDTH_BAR "end" SPM_SPACE "of" SPM_SPACE
	  "sentence" FULLWIDTH_BAR ">", "<end_of_utterance>" } },
	{ { K "eom_token_id" }, { "<|eom_id|>" } },
	{ { K "fim_pre_token_id", K "prefix_token_id" },
	  { "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<" FULLWIDTH_BAR "fim" SPM_SPACE
	    "begin" FULLWIDTH_BAR ">", "<PRE>", SPM_SPACE "<PRE>", "<|code_prefix|>" } },
	{ { K "fim_suf_token_id", K "suffix_token_id" },
	  { "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<" FULLWIDTH_BAR "fim" SPM_SPACE
	    "hole" FULLWIDTH_BAR ">", "<SUF>", SPM_SPACE "<SUF>", "<|code_suffix|>" } },
	{ { K "fim_mid_token_id", K "middle_token_id" },
	  { "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<" FULLWIDTH_BAR "fim" SPM_SPACE
	    "end" FULLWIDTH_BAR ">", "<MID>", SPM_SPACE "<MID>", "<|code_middle|>" } },
	{ { K "fim_pad_token_id" }, { "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>" } },
	{ { K "fim_rep_token_id" }, { "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
	                             "<reponame>" } },
	{ { K "fim_sep_token_id" }, { "<|file_sep|>" } },
};

static void set_type(struct trit_vocab *v, const char *text, uint8_t type)
{
	int32_t id = trit_vocab_find(v, text, strlen(text));

	if (id >= 0)
		v->tokens[id].type = type;
}

/* Always 0: it is a step of trit_vocab_load's chain that cannot fail. */
static int retype_by_text(const struct trit_gguf *g, struct trit_vocab *v)
{
	static const char *const channel[] = { "<|channel|>", "<|message|>", "<|start|>",
	                                       "<|constrain|>" };

	for (size_t k = 0; k < TRIT_ARRAY_LEN(detected); k++) {
		int stated = 0;
		for (size_t j = 0; j < 3 && detected[k].keys[j]; j++)
			stated |= trit_gguf_find(g, detected[k].keys[j]) != NULL;
		for (size_t j = 0; !stated && j < 9 && detected[k].texts[j]; j++) {
			int32_t id = trit_vocab_find(v, detected[k].texts[j], strlen(detected[k].texts[j]));
			if (id >= 0 && k == 0 && v->eot < 0)
				v->eot = id;
			if (id >= 0)
				v->tokens[id].type = TRIT_TOKEN_CONTROL;
		}
	}
	for (size_t j = 0; eog_texts[j]; j++)
		set_type(v, eog_texts[j], TRIT_TOKEN_CONTROL);
	for (size_t j = 0; j < TRIT_ARRAY_LEN(channel); j++)
		set_type(v, channel[j], TRIT_TOKEN_USER_DEFINED);
	return 0;
}

struct special_key {
	uint32_t len, id;
};

static int by_length_desc(const void *a, const void *b)
{
	const struct special_key *x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int is_special_type(uint8_t t)
{
	return t == TRIT_TOKEN_CONTROL || t == TRIT_TOKEN_USER_DEFINED || t == TRIT_TOKEN_UNKNOWN;
}

/* llama.cpp sorts them by length only; equal lengths go by id here (two
 * texts of one length can only both match where they overlap). */
static int build_specials(struct trit_vocab *v, char *err, size_t errlen)
{
	uint32_t n = 0;
	struct special_key *keys;

	for (uint32_t i = 0; i < v->n_tokens; i++)
		n += (uint32_t)is_special_type(v->tokens[i].type);
	keys = malloc((n ? n : 1) * sizeof *keys);
	v->specials = malloc((n ? n : 1) * sizeof *v->specials);
	if (!keys || !v->specials) {
		free(keys);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for %u special tokens", n);
	}
	for (uint32_t i = 0; i < v->n_tokens; i++)
		if (is_special_type(v->tokens[i].type))
			keys[v->n_specials++] = (struct special_key){ v->tokens[i].len, i };
	qsort(keys, v->n_specials, sizeof *keys, by_length_desc);
	for (uint32_t i = 0; i < v->n_specials; i++)
		v->specials[i] = keys[i].id;
	free(keys);
	return 0;
}

static void find_byte_tokens(struct trit_vocab *v)
{
	static const char hex[] = "0123456789ABCDEF";

	for (int b = 0; b < 256; b++) {
		char name[7] = { '<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0 };
		char c = (char)b;
		int32_t id = trit_vocab_find(v, name, 6);
		v->byte_token[b] = id >= 0 ? id : trit_vocab_find(v, &c, 1);
	}
}

static int load(const struct trit_gguf *g, int measuring, struct trit_vocab **out, char *err,
                size_t errlen)
{
	struct trit_vocab *v = calloc(1, sizeof *v);
	size_t cap = 0;
	int rc;

	*out = NULL;
	if (!v)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for a vocabulary");
	v->measuring = measuring;
	if ((rc = read_kind(g, v, err, errlen)) || (rc = read_pre(g, v, err, errlen)) ||
	    (rc = read_texts(g, v, &cap, err, errlen)) ||
	    (rc = read_types_scores(g, v, err, errlen)) ||
	    (rc = build_token_hash(v, err, errlen)) || (rc = read_merges(g, v, &cap, err, errlen)) ||
	    (rc = read_ids(g, v, err, errlen)) || (rc = retype_by_text(g, v)) ||
	    (rc = build_specials(v, err, errlen))) {
		trit_vocab_free(v);
		return rc;
	}
	find_byte_tokens(v);
	*out = v;
	return 0;
}

int trit_vocab_load(const struct trit_gguf *g, struct trit_vocab **out, char *err, size_t errlen)
{
	return load(g, 0, out, err, errlen);
}

int trit_vocab_measure(const struct trit_gguf *g, uint64_t *bytes, char *err, size_t errlen)
{
	struct trit_vocab *v;
	int rc = load(g, 1, &v, err, errlen);

	*bytes = rc ? 0 : trit_vocab_bytes(v);
	trit_vocab_free(v);
	return rc;
}

uint64_t trit_vocab_bytes(const struct trit_vocab *v)
{
	if (!v)
		return 0;
	return sizeof *v + (uint64_t)v->n_tokens * sizeof *v->tokens + v->arena_len +
	       (uint64_t)(v->tok_hash_mask + 1) * sizeof *v->tok_hash +
	       (uint64_t)(v->n_merges ? v->n_merges : 1) * sizeof *v->merges +
	       (uint64_t)(v->merge_hash_mask + 1) * sizeof *v->merge_hash +
	       (uint64_t)(v->n_specials ? v->n_specials : 1) * sizeof *v->specials;
}

void trit_vocab_free(struct trit_vocab *v)
{
	if (!v)
		return;
	free(v->tokens);
	free(v->arena);
	free(v->tok_hash);
	free(v->merges);
	free(v->merge_hash);
	free(v->specials);
	free(v);
}
