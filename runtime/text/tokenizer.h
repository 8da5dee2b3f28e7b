/*
 * tokenizer.h - text to token ids and back over a struct trit_vocab, token
 * for token as llama.cpp does it on the same GGUF: special tokens found
 * first, then byte-level BPE (after the pre-tokenizer's splits) or
 * SentencePiece (score-driven merges, byte fallback). The public API over
 * this is runtime/api/api_tokenizer.c.
 */
#ifndef TRIT_TEXT_TOKENIZER_H
#define TRIT_TEXT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "text/vocab.h"

#define TRIT_TOKENIZE_MAX_TEXT (UINT64_C(1) << 30) /* bytes of text in one call */

/* A growing list of ids. */
struct trit_tokens {
	int32_t *ids;
	size_t n, cap;
};
int trit_tokens_push(struct trit_tokens *t, int32_t id);
void trit_tokens_free(struct trit_tokens *t);

/*
 * Append the ids of text[0..len) to out. add_special: the BOS / EOS the
 * vocabulary asks for (add_bos_token, add_eos_token). parse_special: control
 * and unknown tokens written in the text are those tokens (user-defined ones
 * always are). Any bytes are accepted; malformed UTF-8 is tokenized as
 * llama.cpp does (BPE: each bad byte is U+FFFD; SentencePiece: byte tokens).
 * Returns 0, TRIT_ERANGE (text over the limit), TRIT_EFORMAT (a byte the
 * vocabulary cannot spell and no unknown token) or TRIT_ENOMEM.
 */
int trit_tokenize_text(const struct trit_vocab *v, const char *text, size_t len,
                       int add_special, int parse_special, struct trit_tokens *out,
                       char *err, size_t errlen);

/* The merge steps of both models: symbols (spans of the text being merged,
 * chained) and candidate pairs ordered by key, then by the left symbol's
 * index (the leftmost pair first among equals). */
struct trit_symbol {
	size_t start, n;            /* n = 0: merged into its left neighbour */
	ptrdiff_t prev, next;       /* -1 at the ends */
};
struct trit_bigram {
	double key;                 /* BPE: the merge rank; SPM: minus the score */
	size_t left, right;
	size_t left_n, right_n;     /* the symbols' lengths when queued: stale once changed */
};
struct trit_bigram_heap {
	struct trit_bigram *b;
	size_t n, cap;
};
int trit_bigram_push(struct trit_bigram_heap *h, struct trit_bigram b);
int trit_bigram_pop(struct trit_bigram_heap *h, struct trit_bigram *out); /* 0: empty */
/* Merge symbol right into left (right follows left in the chain). */
void trit_symbol_merge(struct trit_symbol *sym, size_t left, size_t right);

/* Internal steps, one per tokenizer model. */
int trit_bpe_tokenize(const struct trit_vocab *v, const char *text, size_t len,
                      struct trit_tokens *out);
int trit_spm_tokenize(const struct trit_vocab *v, const char *text, size_t len,
                      struct trit_tokens *out, char *err, size_t errlen);

/*
 * The bytes token id stands for: byte-level BPE text mapped back to bytes,
 * SentencePiece's U+2581 as a space and <0xHH> as the byte; control and
 * unknown tokens give their text only when special is set (else nothing);
 * user-defined tokens their text. Writes at most cap bytes to buf (no NUL)
 * and stores the full length in *n. Returns 0 or TRIT_EINVAL (no such id).
 */
int trit_token_piece(const struct trit_vocab *v, int32_t id, int special, char *buf,
                     size_t cap, size_t *n);

/* The length of the longest prefix of buf[0..len) that does not end inside
 * a UTF-8 sequence still waiting for continuation bytes. */
size_t trit_utf8_complete_len(const char *buf, size_t len);

#endif
