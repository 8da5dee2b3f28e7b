/*
 * sampler.h - choosing the next token from a vector of logits: greedy,
 * temperature, top-k, top-p (nucleus), min-p and llama.cpp's repetition,
 * frequency and presence penalties, driven by a seeded generator of our own
 * so that a seed gives the same tokens on every run, machine and thread
 * count. The sampler never touches threads, files or the model; producing the
 * logits and turning tokens into text are left to others.
 *
 * The chain, in this order (llama.cpp's default order for the samplers trit
 * has, common/common.h `samplers`: penalties, top_k, top_p, min_p,
 * temperature, then the draw):
 *
 *   1. penalties   llama.cpp's rule, over the distinct tokens among the
 *                  last repeat_last_n accepted: a logit > 0 is divided by
 *                  repeat_penalty, a logit <= 0 multiplied by it; then
 *                  count * frequency_penalty + presence_penalty is
 *                  subtracted (count: its occurrences in the window).
 *                  Results above FLT_MAX become FLT_MAX; -inf stays -inf.
 *   2. greedy      when temperature <= 0: the largest penalised logit, the
 *                  lowest token id among equals; steps 3-6 are skipped and the
 *                  generator is not advanced.
 *   3. top_k       keep the k largest logits (ties: lower id first).
 *   4. top_p       softmax over what is left (no temperature yet); keep the
 *                  shortest best-first prefix whose probability sum reaches
 *                  top_p (at least one token).
 *   5. min_p       keep the tokens whose probability is at least min_p times
 *                  the best one's.
 *   6. temperature softmax of logit / temperature over what is left, and one
 *                  uniform draw u from the generator: the token where the
 *                  running sum of weights passes u, walking the kept tokens
 *                  best first when top-k or top-p ordered them, in token
 *                  order otherwise. (Either way each token's chance is its
 *                  softmax share; the walk only fixes which u gives which.)
 *
 * Candidates are ordered by (logit descending, token id ascending), a total
 * order, so equal logits never depend on a sort's stability. Top-k is a heap
 * selection, O(V log k); top-p sorts only as far as its cut (a prefix grown
 * fourfold at a time, merge-sorted through a buffer once it is large),
 * min-p needs no sort. For V = 128256 a token took 0.3 ms with the defaults
 * and 1 to 3 ms with top-k off (one core of the 2-core build VM, busy). All
 * buffers are allocated by trit_sampler_new, none per token.
 */
#ifndef TRIT_TEXT_SAMPLER_H
#define TRIT_TEXT_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

/* The generator: xoshiro256** (Blackman and Vigna, 2018), its 256-bit state
 * filled from the seed by splitmix64 as its authors recommend. Exposed so
 * the tests can pin its output; the sampler owns one. */
struct trit_rng {
	uint64_t s[4];
};
void trit_rng_seed(struct trit_rng *r, uint64_t seed);
uint64_t trit_rng_next(struct trit_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double trit_rng_double(struct trit_rng *r);

/*
 * Sampling settings. trit_sampler_params_default() gives llama.cpp's CLI
 * defaults (common/common.h, struct common_params_sampling): temperature
 * 0.8, top_k 40, top_p 0.95, min_p 0.05, repeat_last_n 64, repeat_penalty
 * 1.0, frequency_penalty 0, presence_penalty 0. One difference: llama.cpp's
 * default seed is a fresh random one per run; trit's is the fixed seed 0, so
 * runs repeat unless a seed is asked for.
 *
 * Accepted values (anything else is TRIT_ERANGE from trit_sampler_new, with
 * a sentence naming the field; NaN is never accepted):
 *   temperature        finite; <= 0 means greedy.
 *   top_k              any; <= 0 means off (all tokens), > n_vocab is n_vocab.
 *   top_p              [0, 1]; 1 means off, 0 keeps the single best token.
 *   min_p              [0, 1]; 0 means off, 1 keeps the tokens equal to the best.
 *   repeat_penalty     finite, > 0; 1 means off.
 *   repeat_last_n      0 .. TRIT_SAMPLER_MAX_LAST_N; 0 means no penalties.
 *                      (llama.cpp's -1, "the context size", is the caller's
 *                      to resolve: pass the context length.)
 *   frequency_penalty, presence_penalty   finite; 0 means off.
 */
#define TRIT_SAMPLER_MAX_LAST_N (1 << 20)

struct trit_sampler_params {
	float temperature;
	int32_t top_k;
	float top_p;
	float min_p;
	float repeat_penalty;
	int32_t repeat_last_n;
	float frequency_penalty;
	float presence_penalty;
	uint64_t seed;
};

struct trit_sampler_params trit_sampler_params_default(void);

struct trit_sampler;

/* A sampler for a vocabulary of n_vocab tokens (1 .. INT32_MAX). Allocates
 * everything it will need: about 32 bytes per vocabulary entry plus 4 per
 * repeat_last_n. 0, TRIT_ERANGE for a bad setting or TRIT_ENOMEM. */
int trit_sampler_new(const struct trit_sampler_params *p, int32_t n_vocab,
                     struct trit_sampler **out, char *err, size_t errlen);
void trit_sampler_free(struct trit_sampler *s);
/* The bytes trit_sampler_new allocates for n_vocab tokens and a history of
 * repeat_last_n (the planner counts them; exact, allocator headers aside). */
uint64_t trit_sampler_bytes(int32_t n_vocab, int32_t repeat_last_n);

/* Record a token as part of the text (the prompt's tokens too, as llama.cpp
 * does, and each sampled token), for the penalties. TRIT_ERANGE when token
 * is outside 0 .. n_vocab-1. */
int trit_sampler_accept(struct trit_sampler *s, int32_t token, char *err, size_t errlen);

/* Step 1 of the chain alone, in place on logits[0 .. n-1] (n must be
 * n_vocab, TRIT_EINVAL): what trit_sampler_sample will do to them before
 * choosing, for the tests and for showing penalised logits. */
int trit_sampler_penalise(struct trit_sampler *s, float *logits, int32_t n,
                          char *err, size_t errlen);

/* Forget the accepted tokens and restart the generator from the seed. */
void trit_sampler_reset(struct trit_sampler *s);

/* Choose the next token from logits[0 .. n-1] (not modified). n must be the
 * sampler's n_vocab (TRIT_EINVAL). A NaN or +inf logit is TRIT_EINVAL naming
 * the token; -inf is a token that can never be chosen, and all -inf is
 * TRIT_EINVAL. The token is not accepted: call trit_sampler_accept. */
int trit_sampler_sample(struct trit_sampler *s, const float *logits, int32_t n,
                        int32_t *token, char *err, size_t errlen);

#endif
