/*
 * sampler.c - the token sampler declared in text/sampler.h: the generator
 * (splitmix64 seeding xoshiro256**), the penalties, a heap top-k over a total
 * order, the top-p / min-p cuts and the temperature draw. See sampler.h for
 * the order of the chain and the accepted settings.
 */
#include <build-config.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "text/sampler.h"

/* ------------------------------------------------------------- generator */

/* splitmix64 (Steele, Lea and Flood; constants as published by Vigna) */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15u);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

void trit_rng_seed(struct trit_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t trit_rng_next(struct trit_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double trit_rng_double(struct trit_rng *r)
{
	return (double)(trit_rng_next(r) >> 11) * 0x1.0p-53;
}

/* --------------------------------------------------------------- sampler */

struct cand {
	float logit;
	int32_t id;
};

/*
 * Invariants: work, cand, tmp, prob and count have n_vocab entries; ring has
 * cap = repeat_last_n entries, of which ring_len (<= cap) are accepted
 * tokens, the newest at ring[(ring_head + cap - 1) % cap]. count[] is all
 * zero between calls (penalties() raises and clears it).
 */
struct trit_sampler {
	struct trit_sampler_params p;
	int32_t n_vocab;
	struct trit_rng rng;
	float *work;
	struct cand *cand, *tmp;
	double *prob;
	int32_t *count;
	int32_t *ring;
	int32_t cap, ring_len, ring_head;
};

uint64_t trit_sampler_bytes(int32_t n_vocab, int32_t repeat_last_n)
{
	uint64_t n = n_vocab > 0 ? (uint64_t)n_vocab : 0;
	uint64_t per = sizeof(float) + 2 * sizeof(struct cand) + sizeof(double) + sizeof(int32_t);

	return sizeof(struct trit_sampler) + n * per +
	       (uint64_t)(repeat_last_n > 0 ? repeat_last_n : 1) * sizeof(int32_t);
}

struct trit_sampler_params trit_sampler_params_default(void)
{
	struct trit_sampler_params p = {
		.temperature = 0.8f,
		.top_k = 40,
		.top_p = 0.95f,
		.min_p = 0.05f,
		.repeat_penalty = 1.0f,
		.repeat_last_n = 64,
		.frequency_penalty = 0.0f,
		.presence_penalty = 0.0f,
		.seed = 0,
	};
	return p;
}

static int check_params(const struct trit_sampler_params *p, char *err, size_t errlen)
{
	if (!isfinite(p->temperature))
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "sampler: temperature must be a finite number (<= 0 for greedy), got %g",
		                 (double)p->temperature);
	if (!(p->top_p >= 0.0f && p->top_p <= 1.0f))
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "sampler: top_p must be between 0 and 1 (1 turns it off), got %g",
		                 (double)p->top_p);
	if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "sampler: min_p must be between 0 and 1 (0 turns it off), got %g",
		                 (double)p->min_p);
	if (!(isfinite(p->repeat_penalty) && p->repeat_penalty > 0.0f))
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "sampler: repeat_penalty must be a finite number above 0 (1 turns it off), got %g",
		                 (double)p->repeat_penalty);
	if (p->repeat_last_n < 0 || p->repeat_last_n > TRIT_SAMPLER_MAX_LAST_N)
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "sampler: repeat_last_n must be 0 .. %d (0 turns penalties off; for "
		                 "\"the whole context\" pass the context length), got %d",
		                 TRIT_SAMPLER_MAX_LAST_N, (int)p->repeat_last_n);
	if (!isfinite(p->frequency_penalty) || !isfinite(p->presence_penalty))
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "sampler: frequency_penalty and presence_penalty must be finite, got %g and %g",
		                 (double)p->frequency_penalty, (double)p->presence_penalty);
	return 0;
}

int trit_sampler_new(const struct trit_sampler_params *p, int32_t n_vocab,
                     struct trit_sampler **out, char *err, size_t errlen)
{
	struct trit_sampler *s;
	int rc;

	*out = NULL;
	if ((rc = check_params(p, err, errlen)) != 0)
		return rc;
	if (n_vocab < 1)
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "sampler: the vocabulary must have at least one token, got %d",
		                 (int)n_vocab);
	s = calloc(1, sizeof *s);
	if (!s)
		return trit_errf(err, errlen, TRIT_ENOMEM, "sampler: out of memory");
	s->p = *p;
	s->n_vocab = n_vocab;
	s->cap = p->repeat_last_n;
	s->work = malloc((size_t)n_vocab * sizeof *s->work);
	s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
	s->tmp = malloc((size_t)n_vocab * sizeof *s->tmp);
	s->prob = malloc((size_t)n_vocab * sizeof *s->prob);
	s->count = calloc((size_t)n_vocab, sizeof *s->count);
	s->ring = malloc((size_t)(s->cap ? s->cap : 1) * sizeof *s->ring);
	if (!s->work || !s->cand || !s->tmp || !s->prob || !s->count || !s->ring) {
		trit_sampler_free(s);
		return trit_errf(err, errlen, TRIT_ENOMEM,
		                 "sampler: out of memory for a vocabulary of %d tokens", (int)n_vocab);
	}
	trit_rng_seed(&s->rng, p->seed);
	*out = s;
	return 0;
}

void trit_sampler_free(struct trit_sampler *s)
{
	if (!s)
		return;
	free(s->work);
	free(s->cand);
	free(s->tmp);
	free(s->prob);
	free(s->count);
	free(s->ring);
	free(s);
}

void trit_sampler_reset(struct trit_sampler *s)
{
	s->ring_len = 0;
	s->ring_head = 0;
	trit_rng_seed(&s->rng, s->p.seed);
}

int trit_sampler_accept(struct trit_sampler *s, int32_t token, char *err, size_t errlen)
{
	if (token < 0 || token >= s->n_vocab)
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "sampler: token %d is outside the vocabulary (0 .. %d)",
		                 (int)token, (int)s->n_vocab - 1);
	if (s->cap == 0)
		return 0;
	s->ring[s->ring_head] = token;
	s->ring_head = (s->ring_head + 1) % s->cap;
	if (s->ring_len < s->cap)
		s->ring_len++;
	return 0;
}

/* ------------------------------------------------------------ the chain */

/* a before b: larger logit first, then lower id (a total order: ids differ) */
static int before(const struct cand *a, const struct cand *b)
{
	return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

/* Step 1 on v[0 .. n_vocab-1], over the distinct tokens in the ring. */
static void penalties(struct trit_sampler *s, float *v)
{
	const struct trit_sampler_params *p = &s->p;

	if (s->ring_len == 0 || (p->repeat_penalty == 1.0f && p->frequency_penalty == 0.0f &&
	                         p->presence_penalty == 0.0f))
		return;
	for (int32_t i = 0; i < s->ring_len; i++)
		s->count[s->ring[i]]++;
	for (int32_t i = 0; i < s->ring_len; i++) {
		int32_t t = s->ring[i];
		float x = v[t];

		if (s->count[t] == 0)
			continue; /* already done: a repeat in the ring */
		if (x != -INFINITY) {
			x = x <= 0.0f ? x * p->repeat_penalty : x / p->repeat_penalty;
			x = x > FLT_MAX ? FLT_MAX : x; /* finite or -inf: no inf - inf below */
			x -= (float)s->count[t] * p->frequency_penalty + p->presence_penalty;
			v[t] = x > FLT_MAX ? FLT_MAX : x;
		}
		s->count[t] = 0;
	}
}

int trit_sampler_penalise(struct trit_sampler *s, float *logits, int32_t n,
                          char *err, size_t errlen)
{
	if (n != s->n_vocab)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "sampler: %d logits given for a vocabulary of %d tokens",
		                 (int)n, (int)s->n_vocab);
	penalties(s, logits);
	return 0;
}

/* Put the min(k, n) best of c[0 .. n-1] first, best first, and the others
 * after them in some order, in O(n log k): a heap of the k best so far whose
 * root is the worst of them, then a heap sort of it. Any order of c[] is a
 * valid input, so a prefix can be grown by calling again with a larger k. */
static void swap(struct cand *a, struct cand *b)
{
	struct cand t = *a;

	*a = *b;
	*b = t;
}

static void sift_down(struct cand *h, int32_t n, int32_t i)
{
	for (;;) {
		int32_t l = 2 * i + 1, r = l + 1, w = i;

		if (l < n && before(&h[w], &h[l]))
			w = l;
		if (r < n && before(&h[w], &h[r]))
			w = r;
		if (w == i)
			return;
		swap(&h[i], &h[w]);
		i = w;
	}
}

static void select_top(struct cand *c, int32_t n, int32_t k)
{
	for (int32_t i = k / 2 - 1; i >= 0; i--)
		sift_down(c, k, i);
	for (int32_t i = k; i < n; i++) {
		if (before(&c[i], &c[0])) {
			swap(&c[0], &c[i]);
			sift_down(c, k, 0);
		}
	}
	for (int32_t m = k - 1; m > 0; m--) {
		swap(&c[0], &c[m]);
		sift_down(c, m, 0);
	}
}

static float max_logit(const struct cand *c, int32_t n)
{
	float m = c[0].logit;

	for (int32_t i = 1; i < n; i++)
		m = c[i].logit > m ? c[i].logit : m;
	return m;
}

/* Greedy: the best penalised logit, lowest id among equals. */
static int32_t argmax(const struct cand *c, int32_t n)
{
	int32_t best = 0;

	for (int32_t i = 1; i < n; i++)
		if (before(&c[i], &c[best]))
			best = i;
	return c[best].id;
}

/* Merge the sorted runs a[0 .. na-1] and b[0 .. nb-1] into out. */
static void merge(const struct cand *a, int32_t na, const struct cand *b, int32_t nb,
                  struct cand *out)
{
	int32_t i = 0, j = 0;

	while (i < na && j < nb)
		*out++ = before(&b[j], &a[i]) ? b[j++] : a[i++];
	while (i < na)
		*out++ = a[i++];
	while (j < nb)
		*out++ = b[j++];
}

/* Sort c[0 .. n-1] best first: a bottom-up merge sort through tmp (n
 * entries, the sampler's), no allocation. */
static void sort_all(struct cand *c, struct cand *tmp, int32_t n)
{
	struct cand *from = c, *to = tmp, *t;

	for (int64_t w = 1; w < n; w *= 2) { /* 64 bits: 2 * w may pass INT32_MAX */
		for (int64_t i = 0; i < n; i += 2 * w) {
			int32_t na = (int32_t)(n - i < w ? n - i : w);
			int32_t nb = (int32_t)(n - i - na < w ? n - i - na : w);

			merge(from + i, na, from + i + na, nb, to + i);
		}
		t = from;
		from = to;
		to = t;
	}
	if (from != c)
		memcpy(c, from, (size_t)n * sizeof *c);
}

/* Sort at least the k best of c[0 .. n-1] to the front; returns how many
 * are now in order (k, or n when sorting them all is the cheaper way). */
static int32_t order(struct cand *c, struct cand *tmp, int32_t n, int32_t k)
{
	if (k >= n / 8) {
		sort_all(c, tmp, n);
		return n;
	}
	select_top(c, n, k);
	return k;
}

/*
 * Steps 4 and 5 on c[0 .. n-1], of which the first `sorted` are in order
 * (0, or n after top-k): how many to keep, moved to the front. min-p keeps the tokens
 * within log(min_p) of the best, a best-first prefix, so they are moved to
 * the front first; top-p's prefix is then found by sorting only as far as
 * needed (a prefix grown fourfold at a time), usually a few tokens.
 */
static int32_t cut(const struct trit_sampler_params *p, struct cand *c, struct cand *tmp,
                   int32_t n, int32_t sorted)
{
	double lmax = (double)max_logit(c, n), sum = 0.0, floor_log = log((double)p->min_p);
	int32_t m = 0;

	for (int32_t i = 0; i < n; i++) {
		sum += exp((double)c[i].logit - lmax); /* softmax without temperature */
		if (p->min_p <= 0.0f || (double)c[i].logit - lmax >= floor_log)
			swap(&c[m++], &c[i]); /* keeps the survivors' order */
	}
	if (p->top_p >= 1.0f)
		return m; /* no order needed */
	for (;;) {
		double acc = 0.0;

		if (sorted == 0)
			sorted = order(c, tmp, m, m < 64 ? m : 64);
		for (int32_t i = 0; i < sorted && i < m; i++) {
			acc += exp((double)c[i].logit - lmax);
			if (acc >= (double)p->top_p * sum)
				return i + 1;
		}
		if (sorted >= m)
			return m; /* top-p would keep more than min-p does */
		sorted = order(c, tmp, m, sorted > m / 4 ? m : sorted * 4);
	}
}

static int check_logits(const float *logits, int32_t n, int32_t n_vocab, char *err, size_t errlen)
{
	int32_t finite = 0;

	if (n != n_vocab)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "sampler: %d logits given for a vocabulary of %d tokens",
		                 (int)n, (int)n_vocab);
	for (int32_t i = 0; i < n; i++) {
		if (isnan(logits[i]) || logits[i] == INFINITY)
			return trit_errf(err, errlen, TRIT_EINVAL,
			                 "sampler: the logit of token %d is %s; the model's output is broken",
			                 (int)i, isnan(logits[i]) ? "NaN" : "+inf");
		finite += logits[i] != -INFINITY;
	}
	if (finite == 0)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "sampler: every one of the %d logits is -inf; no token can be chosen",
		                 (int)n);
	return 0;
}

/* Step 6: one uniform number against the weights exp((logit - max) / T) of
 * c[0 .. n-1], walked in the order c[] is in. */
static int32_t draw(struct trit_sampler *s, int32_t n)
{
	double lmax = (double)max_logit(s->cand, n), temp = (double)s->p.temperature;
	double sum = 0.0, u, acc = 0.0;

	for (int32_t i = 0; i < n; i++) {
		s->prob[i] = exp(((double)s->cand[i].logit - lmax) / temp);
		sum += s->prob[i];
	}
	u = trit_rng_double(&s->rng) * sum;
	for (int32_t i = 0; i < n; i++) {
		acc += s->prob[i];
		if (u < acc)
			return s->cand[i].id;
	}
	return s->cand[n - 1].id; /* u within rounding of sum */
}

int trit_sampler_sample(struct trit_sampler *s, const float *logits, int32_t n,
                        int32_t *token, char *err, size_t errlen)
{
	const struct trit_sampler_params *p = &s->p;
	int32_t live = 0, sorted = 0;
	int rc;

	if ((rc = check_logits(logits, n, s->n_vocab, err, errlen)) != 0)
		return rc;
	memcpy(s->work, logits, (size_t)n * sizeof *s->work);
	penalties(s, s->work);
	/* the candidates, in token order: every token that can still be chosen */
	for (int32_t i = 0; i < n; i++) {
		if (s->work[i] != -INFINITY) {
			s->cand[live].logit = s->work[i];
			s->cand[live++].id = i;
		}
	}
	if (live == 0)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "sampler: the penalties pushed every logit to -inf; no token can be chosen");
	if (p->temperature <= 0.0f) {
		*token = argmax(s->cand, live);
		return 0;
	}
	if (p->top_k > 0 && p->top_k < live) {
		select_top(s->cand, live, p->top_k);
		live = sorted = p->top_k;
	}
	/* with nothing to cut, the draw walks the candidates in token order */
	live = cut(p, s->cand, s->tmp, live, sorted);
	*token = draw(s, live);
	return 0;
}
