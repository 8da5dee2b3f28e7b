/*
 * exec/perplexity.h - the arithmetic of llama.cpp's perplexity convention
 * (`llama-perplexity`), apart from any model: the text's tokens are cut into
 * non-overlapping windows of n_ctx tokens (a trailing partial window is
 * dropped), each window is evaluated from an empty KV cache (its first token
 * replaced by BOS when the vocabulary adds one), and only its second half
 * is scored: for i in [n_ctx / 2, n_ctx - 1), the negative log-likelihood of
 * token i + 1 under the logits of position i, log-softmax in double. The
 * estimate is PPL = exp(mean NLL), and its +- is llama.cpp's: the standard
 * error of the mean NLL, sqrt((mean(NLL^2) - mean(NLL)^2) / (N - 1)), times
 * PPL. runtime/api/api_run.c drives it through a session
 * (trit_session_perplexity); tests/check_perplexity.c checks it by hand.
 */
#ifndef TRIT_EXEC_PERPLEXITY_H
#define TRIT_EXEC_PERPLEXITY_H

#include <stddef.h>
#include <stdint.h>

/* Windows of n_ctx tokens in n_tokens (the partial one dropped); 0 when
 * n_ctx < 3 (a window must score at least one token). */
uint32_t trit_ppl_windows(size_t n_tokens, uint32_t n_ctx);

/* The first position of a window whose logits are scored: n_ctx / 2. The
 * last is n_ctx - 2 (it predicts the window's last token). */
static inline uint32_t trit_ppl_first(uint32_t n_ctx)
{
	return n_ctx / 2;
}

/* Scored tokens per window: n_ctx - 1 - n_ctx / 2. */
static inline uint32_t trit_ppl_scored(uint32_t n_ctx)
{
	return n_ctx < 3 ? 0 : n_ctx - 1 - n_ctx / 2;
}

/* -log softmax(logits)[next] over logits[0..n_vocab), in double (the
 * maximum subtracted first). NaN for a next outside the vocabulary or a
 * non-finite logit. */
double trit_ppl_nll(const float *logits, uint32_t n_vocab, int32_t next);

/* The running sums over every scored token. */
struct trit_ppl_acc {
	double sum, sum2;   /* of NLL and NLL^2 */
	uint64_t n;         /* tokens scored */
};

/* Score what one eval of a window gave: logits of positions [pos0, pos0 + n)
 * (n rows of n_vocab, row i for position pos0 + i). Only positions in
 * [n_ctx / 2, n_ctx - 1) count, the target of position i being
 * window[i + 1]. Returns how many were scored. */
uint32_t trit_ppl_score(struct trit_ppl_acc *a, const float *logits, uint32_t n_vocab,
                        const int32_t *window, uint32_t n_ctx, uint32_t pos0, uint32_t n);

struct trit_ppl_estimate {
	double ppl;          /* exp(mean NLL); NaN when nothing was scored */
	double ppl_err;      /* nll_stderr x ppl (llama.cpp's +-) */
	double mean_nll;
	double nll_stderr;   /* 0 with fewer than two tokens or no spread */
	uint64_t n;
};
void trit_ppl_estimate(const struct trit_ppl_acc *a, struct trit_ppl_estimate *out);

#endif
