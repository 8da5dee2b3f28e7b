/*
 * exec/perplexity.c - windows, negative log-likelihoods and the estimate of
 * llama.cpp's perplexity convention (see perplexity.h). Pure arithmetic.
 */
#include <build-config.h>

#include <math.h>

#include "exec/perplexity.h"

uint32_t trit_ppl_windows(size_t n_tokens, uint32_t n_ctx)
{
	size_t w;

	if (!trit_ppl_scored(n_ctx))
		return 0;
	w = n_tokens / n_ctx;
	return w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

double trit_ppl_nll(const float *logits, uint32_t n_vocab, int32_t next)
{
	double max = -INFINITY, sum = 0;

	if (next < 0 || (uint32_t)next >= n_vocab)
		return NAN;
	for (uint32_t i = 0; i < n_vocab; i++)
		if ((double)logits[i] > max || isnan(logits[i]))
			max = logits[i];
	if (!isfinite(max))
		return NAN;
	for (uint32_t i = 0; i < n_vocab; i++)
		sum += exp((double)logits[i] - max);
	return log(sum) - ((double)logits[next] - max);
}

uint32_t trit_ppl_score(struct trit_ppl_acc *a, const float *logits, uint32_t n_vocab,
                        const int32_t *window, uint32_t n_ctx, uint32_t pos0, uint32_t n)
{
	uint32_t from = trit_ppl_first(n_ctx), to = n_ctx ? n_ctx - 1 : 0, done = 0;

	if (pos0 > from)
		from = pos0;
	if (pos0 + n < to)
		to = pos0 + n;
	for (uint32_t i = from; i < to; i++) {
		double nll = trit_ppl_nll(logits + (size_t)(i - pos0) * n_vocab, n_vocab,
		                          window[i + 1]);
		a->sum += nll;
		a->sum2 += nll * nll;
		a->n++;
		done++;
	}
	return done;
}

void trit_ppl_estimate(const struct trit_ppl_acc *a, struct trit_ppl_estimate *out)
{
	double mean, var;

	*out = (struct trit_ppl_estimate){ .ppl = NAN, .ppl_err = NAN, .mean_nll = NAN,
	                                   .n = a->n };
	if (!a->n)
		return;
	mean = a->sum / (double)a->n;
	var = a->sum2 / (double)a->n - mean * mean;
	out->mean_nll = mean;
	out->nll_stderr = a->n > 1 && var > 0 ? sqrt(var / (double)(a->n - 1)) : 0;
	out->ppl = exp(mean);
	out->ppl_err = out->nll_stderr * out->ppl;
}
