/*
 * vocab.h - a tokenizer vocabulary as a GGUF file states it (the
 * tokenizer.ggml.* keys): token texts, types and scores, BPE merges, the
 * special ids and flags, with the defaults llama.cpp applies when a key is
 * absent, so that both read the same file the same way. Look-ups by text
 * are hashed. Tokenizing is tokenizer.c's business.
 */
#ifndef TRIT_TEXT_VOCAB_H
#define TRIT_TEXT_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "model/gguf.h"

/* Limits a vocabulary stays within (refused beyond, with the limit named). */
#define TRIT_VOCAB_MAX_TOKENS (1u << 24)
#define TRIT_VOCAB_MAX_MERGES (1u << 24)
#define TRIT_VOCAB_MAX_TEXT   (UINT64_C(1) << 30) /* bytes of all token and merge texts */

enum trit_vocab_kind { TRIT_VOCAB_BPE = 1, TRIT_VOCAB_SPM = 2 };

/* How byte-level BPE splits text before merging (tokenizer.ggml.pre). */
enum trit_vocab_pre {
	TRIT_PRE_DEFAULT = 0, /* "default" or absent: punctuation runs, GPT-2, digit groups */
	TRIT_PRE_LLAMA3,      /* "llama-bpe", "llama3", "falcon3", ... */
	TRIT_PRE_GPT2         /* "gpt-2", "phi-2", ... */
};

/* Token types as GGUF stores them (tokenizer.ggml.token_type). */
enum trit_token_type {
	TRIT_TOKEN_UNDEFINED = 0, TRIT_TOKEN_NORMAL = 1, TRIT_TOKEN_UNKNOWN = 2,
	TRIT_TOKEN_CONTROL = 3, TRIT_TOKEN_USER_DEFINED = 4, TRIT_TOKEN_UNUSED = 5,
	TRIT_TOKEN_BYTE = 6
};

struct trit_vocab_token {
	size_t off;     /* text in arena */
	uint32_t len;
	uint8_t type;   /* enum trit_token_type */
	float score;
};

struct trit_vocab_merge {
	size_t off;            /* "first second" in arena */
	uint32_t first_len;    /* the space follows */
	uint32_t second_len;
};

struct trit_vocab {
	enum trit_vocab_kind kind;
	enum trit_vocab_pre pre;
	char model_name[16];  /* "gpt2", "llama" */
	char pre_name[64];    /* as stated, "" when absent */
	uint32_t n_tokens;
	struct trit_vocab_token *tokens;
	char *arena;          /* every token and merge text */
	size_t arena_len;
	uint32_t *tok_hash;   /* open addressing: id + 1, 0 = empty */
	size_t tok_hash_mask;
	uint32_t n_merges;    /* BPE only */
	struct trit_vocab_merge *merges;
	uint32_t *merge_hash; /* rank + 1 */
	size_t merge_hash_mask;
	/* Special ids; -1 when none. */
	int32_t bos, eos, eot, eom, unk, pad, sep;
	int add_bos, add_eos, add_space_prefix;
	int ignore_merges;    /* a pre-split word that is a token is kept whole */
	int measuring;        /* trit_vocab_measure: merges counted, not stored */
	/* Tokens found in text before it is split (control, user-defined and
	 * unknown types), longest text first. */
	uint32_t *specials;
	uint32_t n_specials;
	int32_t byte_token[256]; /* SPM: the token of each byte (<0xHH>, else the byte itself), -1 none */
};

/* Read the vocabulary of a parsed GGUF. Errors name the key and, for an
 * array, the index: "tokenizer.ggml.tokens[17]: ...". Returns TRIT_EINVAL
 * (no tokenizer in the file), TRIT_EUNSUPPORTED (a tokenizer model or
 * pre-tokenizer trit does not implement), TRIT_EFORMAT, TRIT_ERANGE or
 * TRIT_ENOMEM. The vocabulary does not refer to g once read. */
int trit_vocab_load(const struct trit_gguf *g, struct trit_vocab **out, char *err,
                    size_t errlen);
void trit_vocab_free(struct trit_vocab *v);
/* The heap bytes a loaded vocabulary holds (tables, hashes, texts), for the
 * planner's accounting. */
uint64_t trit_vocab_bytes(const struct trit_vocab *v);
/* trit_vocab_bytes of the vocabulary trit_vocab_load would make of g, found
 * by the same reading and checks without building the merge table (most of
 * the load's time and memory): what `trit plan` counts for the tokenizer.
 * Errors as trit_vocab_load's; *bytes is 0 on error. */
int trit_vocab_measure(const struct trit_gguf *g, uint64_t *bytes, char *err, size_t errlen);

/* The id of the token with exactly this text (the last one when several
 * share it, as llama.cpp's map keeps), or -1. */
int32_t trit_vocab_find(const struct trit_vocab *v, const char *text, size_t len);
/* The rank of merge (first, second), or -1 (the first rank when repeated). */
int32_t trit_vocab_merge_rank(const struct trit_vocab *v, const char *first, size_t first_len,
                              const char *second, size_t second_len);
static inline const char *trit_vocab_text(const struct trit_vocab *v, uint32_t id)
{
	return v->arena + v->tokens[id].off;
}

#endif
