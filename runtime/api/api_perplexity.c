/*
 * api_perplexity.c - trit_session_perplexity in <trit/trit.h>: the text
 * tokenized with the session's vocabulary, cut into windows and each window
 * run through trit_session_eval (the forward pass `trit run` uses, from an
 * empty cache) with every token's logits; the windows, NLLs and the
 * estimate are exec/perplexity.c's. Also the result as JSON.
 */
#include <build-config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/common.h"
#include "core/proc.h"
#include "core/textsafe.h"
#include "exec/perplexity.h"
#include "report/json_build.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

/* Every full window of tok, scored into acc. */
static int run_windows(struct trit_session *s, const struct trit_tokens *tok, int32_t bos,
                       struct trit_perplexity_result *r, const struct trit_perplexity_options *o,
                       struct trit_ppl_acc *acc, char *err, size_t errlen)
{
	uint32_t V = trit_session_n_vocab(s), n_ctx = r->n_ctx, nb = r->n_batch;
	int32_t *win = malloc((size_t)n_ctx * sizeof *win);
	float *logits = malloc((size_t)nb * V * sizeof *logits);
	int rc = 0;

	if (!win || !logits) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for %u x %u logits", nb, V);
		goto out;
	}
	for (uint32_t c = 0; c < r->n_chunks; c++) {
		memcpy(win, tok->ids + (size_t)c * n_ctx, (size_t)n_ctx * sizeof *win);
		if (bos >= 0)
			win[0] = bos;
		trit_session_reset(s);
		for (uint32_t j = 0; j < n_ctx; j += nb) {
			uint32_t m = n_ctx - j < nb ? n_ctx - j : nb;
			if ((rc = trit_session_eval(s, win + j, m, j, logits, err, errlen)))
				goto out;
			trit_ppl_score(acc, logits, V, win, n_ctx, j, m);
		}
		if (o && o->progress)
			o->progress(o->ctx, c + 1, r->n_chunks, exp(acc->sum / (double)acc->n));
	}
out:
	free(win);
	free(logits);
	return rc;
}

int trit_session_perplexity(struct trit_session *s, const char *text, size_t len,
                            const struct trit_perplexity_options *o,
                            struct trit_perplexity_result *out, char *err, size_t errlen)
{
	const struct trit_vocab *v = trit_api_session_vocab(s);
	const struct trit_plan *p = trit_session_plan(s);
	struct trit_tokens tok = { 0 };
	struct trit_ppl_acc acc = { 0 };
	struct trit_ppl_estimate e;
	uint32_t ctx_max = trit_session_n_ctx(s), avail;
	double t0;
	int rc;

	memset(out, 0, sizeof *out);
	if (!trit_api_session_all_logits(s))
		return trit_errf(err, errlen, TRIT_EINVAL, "perplexity needs every token's logits: "
		                 "open the session with all_logits");
	out->n_ctx = o && o->n_ctx ? o->n_ctx : ctx_max;
	out->n_batch = o && o->n_batch ? o->n_batch : p->r.ubatch ? p->r.ubatch : 1;
	if (out->n_batch > out->n_ctx)
		out->n_batch = out->n_ctx;
	out->add_bos = v->add_bos && v->bos >= 0;
	if (out->n_ctx < 3 || out->n_ctx > ctx_max)
		return trit_errf(err, errlen, TRIT_EINVAL, "a perplexity window of %u tokens: it "
		                 "must be from 3 to the session's context, %u", out->n_ctx, ctx_max);
	if ((rc = trit_tokenize_text(v, text, len, 1, 0, &tok, err, errlen)))
		return rc;
	out->n_tokens = tok.n;
	avail = trit_ppl_windows(tok.n, out->n_ctx);
	if (!avail) {
		trit_tokens_free(&tok);
		return trit_errf(err, errlen, TRIT_EINVAL, "the text has %zu tokens; a window of "
		                 "--ctx %u needs at least %u (use a longer text or a smaller --ctx)",
		                 tok.n, out->n_ctx, out->n_ctx);
	}
	out->n_chunks = o && o->max_chunks && o->max_chunks < avail ? o->max_chunks : avail;
	t0 = trit_now();
	rc = run_windows(s, &tok, out->add_bos ? v->bos : -1, out, o, &acc, err, errlen);
	out->seconds = trit_now() - t0;
	trit_tokens_free(&tok);
	trit_session_reset(s);
	trit_ppl_estimate(&acc, &e);
	out->ppl = e.ppl;
	out->ppl_err = e.ppl_err;
	out->mean_nll = e.mean_nll;
	out->nll_stderr = e.nll_stderr;
	out->n_scored = e.n;
	out->tokens_per_s = out->seconds > 0 ? (double)out->n_chunks * out->n_ctx / out->seconds :
	                    -1;
	return rc;
}

/* ------------------------------------------------------------ JSON */

static void jraw(struct jb *jb, cJSON *o, const char *key, char *json)
{
	cJSON *x = json ? cJSON_Parse(json) : NULL;

	free(json);
	if (!x) {
		chk(jb, cJSON_AddNullToObject(o, key));
		return;
	}
	if (!cJSON_AddItemToObject(o, key, x)) {
		cJSON_Delete(x);
		jb->oom = 1;
	}
}

/* a number, or null when it is not finite (no tokens, a rate unknown) */
static void jnum(struct jb *jb, cJSON *o, const char *key, double v)
{
	chk(jb, isfinite(v) && v >= 0 ? cJSON_AddNumberToObject(o, key, v) :
	    cJSON_AddNullToObject(o, key));
}

char *trit_perplexity_report_json(const struct trit_session *s,
                                  const struct trit_perplexity_result *r)
{
	const struct trit_plan *p = trit_session_plan(s);
	struct trit_plan_summary sum;
	struct trit_plan_device_info d;
	struct jb jb = { 0 };
	cJSON *o = chk(&jb, cJSON_CreateObject()), *devs;
	char *text = NULL;

	if (!o)
		return NULL;
	trit_plan_get_summary(p, &sum);
	json_str(&jb, o, "model", p->m->path);
	jnum(&jb, o, "ppl", r->ppl);
	jnum(&jb, o, "ppl_err", r->ppl_err);
	jnum(&jb, o, "mean_nll", r->mean_nll);
	jnum(&jb, o, "nll_stderr", r->nll_stderr);
	json_num(&jb, o, "scored_tokens", (double)r->n_scored);
	json_num(&jb, o, "text_tokens", (double)r->n_tokens);
	json_num(&jb, o, "chunks", r->n_chunks);
	json_num(&jb, o, "n_ctx", r->n_ctx);
	json_num(&jb, o, "batch", r->n_batch);
	chk(&jb, cJSON_AddBoolToObject(o, "add_bos", r->add_bos));
	json_num(&jb, o, "seconds", r->seconds);
	jnum(&jb, o, "tokens_per_s", r->tokens_per_s);
	json_str(&jb, o, "strategy", sum.strategy_name);
	json_num(&jb, o, "threads", sum.threads);
	if ((devs = chk(&jb, cJSON_AddArrayToObject(o, "devices"))))
		for (uint32_t i = 0; i < sum.n_devices && !trit_plan_get_device(p, i, &d); i++) {
			cJSON *x = chk(&jb, cJSON_CreateObject());
			if (!x || !cJSON_AddItemToArray(devs, x)) {
				cJSON_Delete(x);
				jb.oom = 1;
				break;
			}
			json_str(&jb, x, "backend", d.backend);
			json_str(&jb, x, "device", d.device_id);
			json_num(&jb, x, "layers", d.n_layers);
			json_str(&jb, x, "ternary_format", d.ternary_format);
		}
	json_str(&jb, o, "replanned", trit_session_replanned(s));
	jraw(&jb, o, "load", trit_session_load_report_json(s));
	jraw(&jb, o, "plan", trit_plan_report_json(p, 0));
	if (!jb.oom)
		text = trit_json_make_safe(cJSON_Print(o));
	cJSON_Delete(o);
	return text;
}
