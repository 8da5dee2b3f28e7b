/*
 * exec/generate.h - the generation loop of `trit run` (internal): tokenize
 * the prompt, run it through the forward pass in the context's ubatches,
 * then sample and feed one token at a time until the end-of-generation
 * token, the token budget or the context's end, streaming text as whole
 * UTF-8 characters. Times the prompt and the decode apart.
 */
#ifndef TRIT_EXEC_GENERATE_H
#define TRIT_EXEC_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "exec/forward.h"
#include "text/sampler.h"
#include "text/vocab.h"

struct trit_gen_params {
	const struct trit_vocab *vocab;
	struct trit_forward *fwd;
	uint32_t n_ctx;                  /* the forward context's positions */
	const char *prompt;              /* already formatted (chat) */
	size_t prompt_len;
	int add_special;                 /* BOS/EOS as the vocabulary says */
	int parse_special;               /* special tokens written in the prompt */
	int32_t n_predict;               /* tokens to generate; < 0: until EOS or the context ends */
	struct trit_sampler_params sampling;
	/* Text as it is generated (may be NULL); a non-zero return stops. */
	int (*on_text)(void *ctx, const char *text, size_t len);
	void *ctx;
};

enum trit_gen_stop {
	TRIT_GEN_STOP_EOG = 1,           /* the model ended its turn */
	TRIT_GEN_STOP_BUDGET,            /* n_predict tokens */
	TRIT_GEN_STOP_CONTEXT,           /* the context is full */
	TRIT_GEN_STOP_CALLER             /* on_text asked to stop */
};

struct trit_gen_result {
	int32_t *prompt;                 /* prompt token ids */
	uint32_t n_prompt;
	int32_t *tokens;                 /* generated ids (the end token included) */
	uint32_t n_tokens;
	char *text;                      /* generated text, NUL-terminated */
	size_t text_len;
	double prompt_seconds;           /* the prompt's forward pass */
	double decode_seconds;           /* the one-token passes after it ... */
	uint32_t n_decode_evals;         /* ... and how many there were */
	double sample_seconds;           /* sampling, all tokens */
	uint64_t host_bytes;             /* the logits and the sampler's buffers it held */
	enum trit_gen_stop stop;
};

int trit_generate(const struct trit_gen_params *p, struct trit_gen_result *out, char *err,
                  size_t errlen);
void trit_gen_result_free(struct trit_gen_result *r);
const char *trit_gen_stop_name(enum trit_gen_stop s);

#endif
