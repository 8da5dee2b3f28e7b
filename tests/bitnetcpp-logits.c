/*
 * bitnetcpp-logits.c - bitnet.cpp's side of tests/bitnetcpp-compare.sh: run
 * a GGUF through bitnet.cpp's llama.cpp fork (its llama.h, the Oct 2024 API
 * of commit 406a503) on given token ids and print JSON shaped like
 * tests/trit-forward's: the last prompt position's logits (argmax, top
 * entries, all of them with --logits), a greedy continuation and timings.
 * --single feeds the prompt one token per llama_decode (the decode path)
 * instead of one batch, to measure the spread between bitnet.cpp's own two
 * paths. Not built by make: the script compiles it against a bitnet.cpp
 * build it is given.
 *
 *   bitnetcpp-logits MODEL --tokens 1,2,3 [--threads N] [--n-predict N]
 *                    [--single] [--logits] [--top K]
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llama.h"

struct opts {
	const char *model;
	llama_token *tokens;
	int n_tokens, threads, n_predict, top, single, print_logits;
};

static int usage(void)
{
	fprintf(stderr, "usage: bitnetcpp-logits MODEL --tokens ID,ID,... [--threads N] "
	        "[--n-predict N] [--single] [--logits] [--top K]\n");
	return 2;
}

static int parse_int(const char *s, const char *what, int lo, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > INT32_MAX) {
		fprintf(stderr, "bitnetcpp-logits: %s '%s' is not an integer of at least %d\n",
		        what, s, lo);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_tokens(const char *s, struct opts *o)
{
	int n = 1;

	for (const char *p = s; *p; p++)
		n += *p == ',';
	o->tokens = malloc((size_t)n * sizeof *o->tokens);
	if (!o->tokens)
		return -1;
	for (o->n_tokens = 0; o->n_tokens < n; o->n_tokens++) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || v < 0 || v > INT32_MAX || (*end && *end != ',')) {
			fprintf(stderr, "bitnetcpp-logits: bad token list at '%s'\n", s);
			return -1;
		}
		o->tokens[o->n_tokens] = (llama_token)v;
		s = *end ? end + 1 : end;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .threads = 1, .n_predict = 0, .top = 5 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;
		if (!strcmp(a, "--single"))
			o->single = 1;
		else if (!strcmp(a, "--logits"))
			o->print_logits = 1;
		else if (!strcmp(a, "--tokens") && v && ++i)
			rc = parse_tokens(v, o);
		else if (!strcmp(a, "--threads") && v && ++i)
			rc = parse_int(v, "--threads", 1, &o->threads);
		else if (!strcmp(a, "--n-predict") && v && ++i)
			rc = parse_int(v, "--n-predict", 0, &o->n_predict);
		else if (!strcmp(a, "--top") && v && ++i)
			rc = parse_int(v, "--top", 0, &o->top);
		else if (a[0] != '-' && !o->model)
			o->model = a;
		else
			return usage();
		if (rc)
			return 2;
	}
	return o->model && o->n_tokens ? 0 : usage();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int argmax(const float *x, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

static void print_float(float v)
{
	if (isfinite(v))
		printf("%.9g", (double)v);
	else
		printf("null");
}

static void print_top(const float *x, int n, int k)
{
	unsigned char *taken = calloc((size_t)n, 1);

	printf("  \"top\": [");
	for (int j = 0; j < k && j < n && taken; j++) {
		int best = -1;
		for (int i = 0; i < n; i++)
			if (!taken[i] && (best < 0 || x[i] > x[best]))
				best = i;
		if (best < 0)
			break;
		taken[best] = 1;
		printf("%s[%d, ", j ? ", " : "", best);
		print_float(x[best]);
		printf("]");
	}
	printf("],\n");
	free(taken);
}

/* Decodes tokens [0, n) at positions pos.. as one batch, or one token per
 * call with --single; copies the last one's logits to out. */
static int eval(struct llama_context *ctx, llama_token *tok, int n, int pos, int single,
                float *out, int nv)
{
	int step = single ? 1 : n;

	for (int i = 0; i < n; i += step) {
		if (llama_decode(ctx, llama_batch_get_one(tok + i, step, pos + i, 0))) {
			fprintf(stderr, "bitnetcpp-logits: llama_decode failed at position %d\n", pos + i);
			return -1;
		}
	}
	memcpy(out, llama_get_logits_ith(ctx, step - 1), (size_t)nv * sizeof *out);
	return 0;
}

struct run {
	float *logits, *next;
	llama_token *gen;
	double t_load, t_prompt, t_decode;
};

static int generate(struct llama_context *ctx, const struct opts *o, struct run *r, int nv)
{
	double t0 = now();

	if (eval(ctx, o->tokens, o->n_tokens, 0, o->single, r->logits, nv))
		return -1;
	r->t_prompt = now() - t0;
	memcpy(r->next, r->logits, (size_t)nv * sizeof *r->next);
	t0 = now();
	for (int i = 0; i < o->n_predict; i++) {
		r->gen[i] = argmax(r->next, nv);
		if (i + 1 < o->n_predict &&
		    eval(ctx, &r->gen[i], 1, o->n_tokens + i, 1, r->next, nv))
			return -1;
	}
	r->t_decode = now() - t0;
	return 0;
}

static void print_json(const struct opts *o, const struct run *r, int nv)
{
	int decoded = o->n_predict ? o->n_predict - 1 : 0;

	printf("{\n  \"model\": \"%s\",\n  \"engine\": \"bitnet.cpp\",\n  \"threads\": %d,\n"
	       "  \"prompt_path\": \"%s\",\n  \"n_prompt\": %d,\n  \"n_vocab\": %d,\n",
	       o->model, o->threads, o->single ? "single" : "batch", o->n_tokens, nv);
	printf("  \"argmax\": %d,\n", argmax(r->logits, nv));
	print_top(r->logits, nv, o->top);
	if (o->print_logits) {
		printf("  \"logits\": [");
		for (int i = 0; i < nv; i++) {
			printf(i ? ", " : "");
			print_float(r->logits[i]);
		}
		printf("],\n");
	}
	printf("  \"generated\": [");
	for (int i = 0; i < o->n_predict; i++)
		printf("%s%d", i ? ", " : "", (int)r->gen[i]);
	printf("],\n  \"seconds\": {\"load\": %.6f, \"prompt\": %.6f, \"decode\": %.6f},\n",
	       r->t_load, r->t_prompt, r->t_decode);
	printf("  \"tokens_per_second\": {\"prompt\": %.3f, \"decode\": %.3f}\n}\n",
	       r->t_prompt > 0 ? o->n_tokens / r->t_prompt : 0.0,
	       r->t_decode > 0 && decoded ? decoded / r->t_decode : 0.0);
}

static struct llama_context *open_ctx(struct llama_model *m, const struct opts *o)
{
	struct llama_context_params cp = llama_context_default_params();

	cp.n_ctx = (uint32_t)(o->n_tokens + o->n_predict + 16);
	cp.n_batch = cp.n_ubatch = (uint32_t)o->n_tokens;
	cp.n_threads = cp.n_threads_batch = o->threads;
	return llama_new_context_with_model(m, cp);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct run r = { 0 };
	struct llama_model *m;
	struct llama_context *ctx;
	int rc = parse_args(argc, argv, &o), nv;
	double t0 = now();

	if (rc)
		return rc;
	llama_backend_init();
	m = llama_load_model_from_file(o.model, llama_model_default_params());
	ctx = m ? open_ctx(m, &o) : NULL;
	if (!ctx) {
		fprintf(stderr, "bitnetcpp-logits: cannot load %s\n", o.model);
		return 1;
	}
	r.t_load = now() - t0;
	nv = llama_n_vocab(m);
	r.logits = malloc((size_t)nv * sizeof *r.logits);
	r.next = malloc((size_t)nv * sizeof *r.next);
	r.gen = malloc((size_t)(o.n_predict + 1) * sizeof *r.gen);
	rc = r.logits && r.next && r.gen ? generate(ctx, &o, &r, nv) : -1;
	if (!rc)
		print_json(&o, &r, nv);
	free(r.logits);
	free(r.next);
	free(r.gen);
	free(o.tokens);
	llama_free(ctx);
	llama_free_model(m);
	llama_backend_free();
	return rc ? 1 : 0;
}
