/*
 * exec/generate.c - prompt, then one token at a time (exec/generate.h).
 *
 * The prompt goes through the forward pass in one call (it splits it into
 * the context's ubatches); each sampled token is fed back alone. Text is
 * streamed as soon as it ends on a whole UTF-8 character, so a caller never
 * prints half an emoji. Sampling is deterministic for a seed: the sampler
 * never sees threads, and the forward pass gives the same logits at every
 * thread count.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/proc.h"
#include "exec/generate.h"
#include "text/tokenizer.h"

const char *trit_gen_stop_name(enum trit_gen_stop s)
{
	switch (s) {
	case TRIT_GEN_STOP_EOG: return "end-of-generation token";
	case TRIT_GEN_STOP_BUDGET: return "token budget";
	case TRIT_GEN_STOP_CONTEXT: return "context full";
	case TRIT_GEN_STOP_CALLER: return "stopped by the caller";
	default: return "error";
	}
}

/* Generated text: all of it, and how much has been handed to on_text. */
struct text_out {
	char *buf;
	size_t len, cap, flushed;
};

static int text_append(struct text_out *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->cap ? t->cap * 2 : 256) + n;
		char *b = realloc(t->buf, cap);
		if (!b)
			return TRIT_ENOMEM;
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = 0;
	return 0;
}

/* Hand on_text what ends on a whole character (all of it when final). */
static int text_flush(const struct trit_gen_params *p, struct text_out *t, int final)
{
	size_t n = t->len - t->flushed;

	if (!final)
		n = trit_utf8_complete_len(t->buf + t->flushed, n);
	if (!n || !p->on_text)
		return 0;
	if (p->on_text(p->ctx, t->buf + t->flushed, n))
		return 1;
	t->flushed += n;
	return 0;
}

static int is_eog(const struct trit_vocab *v, int32_t id)
{
	return id >= 0 && (id == v->eos || id == v->eot || id == v->eom);
}

/* Token id -> its text appended to t (control tokens give nothing). */
static int append_piece(const struct trit_vocab *v, struct text_out *t, int32_t id)
{
	char small[64];
	size_t n = 0;
	int rc = trit_token_piece(v, id, 0, small, sizeof small, &n);

	if (rc)
		return rc;
	if (n <= sizeof small)
		return text_append(t, small, n);
	char *big = malloc(n);
	if (!big)
		return TRIT_ENOMEM;
	rc = trit_token_piece(v, id, 0, big, n, &n);
	if (!rc)
		rc = text_append(t, big, n);
	free(big);
	return rc;
}

static int tokenize_prompt(const struct trit_gen_params *p, struct trit_gen_result *r,
                           char *err, size_t errlen)
{
	struct trit_tokens toks = { 0 };
	int rc = trit_tokenize_text(p->vocab, p->prompt, p->prompt_len, p->add_special,
	                            p->parse_special, &toks, err, errlen);

	if (rc) {
		trit_tokens_free(&toks);
		return rc;
	}
	if (toks.n == 0) {
		trit_tokens_free(&toks);
		return trit_errf(err, errlen, TRIT_EINVAL, "the prompt has no tokens: give a "
		                 "non-empty prompt (or a vocabulary that adds BOS)");
	}
	if (toks.n >= p->n_ctx) {
		size_t n = toks.n;
		trit_tokens_free(&toks);
		return trit_errf(err, errlen, TRIT_ERANGE, "the prompt is %zu tokens, the context "
		                 "%u: raise --ctx or shorten the prompt", n, p->n_ctx);
	}
	r->prompt = toks.ids;   /* ownership moves to the result */
	r->n_prompt = (uint32_t)toks.n;
	return 0;
}

/* The loop after the prompt: sample, stream, feed back. */
static int decode(const struct trit_gen_params *p, struct trit_sampler *smp, float *logits,
                  uint32_t n_vocab, struct trit_gen_result *r, struct text_out *t,
                  char *err, size_t errlen)
{
	uint32_t pos = r->n_prompt;
	uint32_t budget = p->n_predict < 0 ? UINT32_MAX : (uint32_t)p->n_predict;
	int rc;

	r->stop = TRIT_GEN_STOP_BUDGET;
	for (uint32_t i = 0; i < budget; i++) {
		int32_t id;
		double t0 = trit_now();
		if ((rc = trit_sampler_sample(smp, logits, (int32_t)n_vocab, &id, err, errlen)) ||
		    (rc = trit_sampler_accept(smp, id, err, errlen)))
			return rc;
		r->sample_seconds += trit_now() - t0;
		r->tokens[r->n_tokens++] = id;
		if (is_eog(p->vocab, id)) {
			r->stop = TRIT_GEN_STOP_EOG;
			break;
		}
		if ((rc = append_piece(p->vocab, t, id)))
			return trit_errf(err, errlen, rc, "token %d has no text in the vocabulary", id);
		if (text_flush(p, t, 0)) {
			r->stop = TRIT_GEN_STOP_CALLER;
			break;
		}
		if (i + 1 == budget)
			break;
		if (pos >= p->n_ctx) {
			r->stop = TRIT_GEN_STOP_CONTEXT;
			break;
		}
		t0 = trit_now();
		if ((rc = trit_forward_eval(p->fwd, &id, 1, pos++, logits, err, errlen)))
			return rc;
		r->decode_seconds += trit_now() - t0;
		r->n_decode_evals++;
	}
	return 0;
}

int trit_generate(const struct trit_gen_params *p, struct trit_gen_result *r, char *err,
                  size_t errlen)
{
	uint32_t n_vocab = trit_forward_n_vocab(p->fwd);
	struct trit_sampler *smp = NULL;
	struct text_out t = { 0 };
	float *logits = NULL;
	size_t max_new;
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = tokenize_prompt(p, r, err, errlen)))
		return rc;
	max_new = p->n_predict < 0 ? p->n_ctx - r->n_prompt + 1 : (size_t)p->n_predict;
	if (max_new > p->n_ctx - r->n_prompt + 1)
		max_new = p->n_ctx - r->n_prompt + 1;
	logits = malloc((size_t)n_vocab * sizeof *logits);
	r->tokens = malloc((max_new ? max_new : 1) * sizeof *r->tokens);
	if (!logits || !r->tokens || text_append(&t, "", 0)) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for %u logits", n_vocab);
		goto out;
	}
	if ((rc = trit_sampler_new(&p->sampling, (int32_t)n_vocab, &smp, err, errlen)))
		goto out;
	r->host_bytes = (uint64_t)n_vocab * sizeof *logits +
	                trit_sampler_bytes((int32_t)n_vocab, p->sampling.repeat_last_n);
	for (uint32_t i = 0; i < r->n_prompt; i++)
		if ((rc = trit_sampler_accept(smp, r->prompt[i], err, errlen)))
			goto out;
	double t0 = trit_now();
	if ((rc = trit_forward_eval(p->fwd, r->prompt, r->n_prompt, 0, logits, err, errlen)))
		goto out;
	r->prompt_seconds = trit_now() - t0;
	struct trit_gen_params q = *p;
	q.n_predict = (int32_t)(max_new < (size_t)INT32_MAX ? max_new : INT32_MAX);
	if ((rc = decode(&q, smp, logits, n_vocab, r, &t, err, errlen)))
		goto out;
	if (r->stop == TRIT_GEN_STOP_BUDGET && (p->n_predict < 0 || (size_t)p->n_predict > max_new))
		r->stop = TRIT_GEN_STOP_CONTEXT; /* the budget was the context's */
	if (r->stop != TRIT_GEN_STOP_CALLER)
		text_flush(p, &t, 1);
out:
	trit_sampler_free(smp);
	free(logits);
	r->text = t.buf;
	r->text_len = t.len;
	return rc;
}

void trit_gen_result_free(struct trit_gen_result *r)
{
	if (!r)
		return;
	free(r->prompt);
	free(r->tokens);
	free(r->text);
	memset(r, 0, sizeof *r);
}
