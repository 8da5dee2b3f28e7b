/*
 * check_sampler.c - the specification of the token sampler
 * (runtime/text/sampler.c): the generator's published output, greedy and its
 * tie-break, top-k / top-p / min-p cutting exactly the tokens they should,
 * draws that follow the softmax, seeds that repeat, llama.cpp's penalty rule
 * and the refusal of hostile settings and logits.
 *
 * Every draw comes from a fixed seed, so each case gives the same result on
 * every run; the statistical thresholds say how unlikely a correct sampler
 * is to miss them for an arbitrary seed.
 */
#include <build-config.h>

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>

#include "support/support.h"
#include "text/sampler.h"

static struct trit_sampler *make(struct trit_sampler_params p, int32_t n_vocab)
{
	char err[256] = "";
	struct trit_sampler *s = NULL;
	int rc = trit_sampler_new(&p, n_vocab, &s, err, sizeof err);

	ck_assert_msg(rc == 0, "trit_sampler_new: %d %s", rc, err);
	return s;
}

/* No cut at all: temperature 1, every token a candidate. */
static struct trit_sampler_params plain(uint64_t seed)
{
	struct trit_sampler_params p = trit_sampler_params_default();

	p.temperature = 1.0f;
	p.top_k = 0;
	p.top_p = 1.0f;
	p.min_p = 0.0f;
	p.seed = seed;
	return p;
}

static int32_t sample(struct trit_sampler *s, const float *logits, int32_t n)
{
	char err[256] = "";
	int32_t tok = -1;
	int rc = trit_sampler_sample(s, logits, n, &tok, err, sizeof err);

	/* no ck_assert on success: each one costs Check a message to the
	 * parent process, and this runs hundreds of thousands of times */
	if (rc != 0 || tok < 0 || tok >= n)
		ck_abort_msg("trit_sampler_sample: %d %s, token %d", rc, err, (int)tok);
	return tok;
}

/* Which of the n tokens `draws` samples produce (seen[i] counts). */
static void histogram(struct trit_sampler *s, const float *logits, int32_t n, int draws,
                      long *seen)
{
	memset(seen, 0, (size_t)n * sizeof *seen);
	for (int i = 0; i < draws; i++)
		seen[sample(s, logits, n)]++;
}

/* A deterministic generator for test vectors, apart from the one under test. */
static uint64_t lcg_state = 88172645463325252u;
static float rnd_logit(void)
{
	lcg_state = lcg_state * 6364136223846793005u + 1442695040888963407u;
	return (float)((lcg_state >> 40) % 2000) / 100.0f - 10.0f; /* -10 .. 9.99, ties common */
}

START_TEST(generator_is_splitmix64_seeded_xoshiro256starstar)
{
	/* splitmix64 from 1234567: the first outputs Vigna's reference code
	 * prints (prng.di.unimi.it); xoshiro256** from that state, computed by
	 * an independent Python transcription of the published algorithm. */
	static const uint64_t state[4] = { 6457827717110365317u, 3203168211198807973u,
	                                   9817491932198370423u, 4593380528125082431u };
	static const uint64_t out[4] = { 0x30a3a1c363600467u, 0x19405f0f579929cau,
	                                 0x115beaac046ddbd9u, 0xeb17caf48f27d7f6u };
	struct trit_rng r;

	trit_rng_seed(&r, 1234567);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(r.s[i], state[i]);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(trit_rng_next(&r), out[i]);
	for (int i = 0; i < 1000; i++) {
		double u = trit_rng_double(&r);

		ck_assert(u >= 0.0 && u < 1.0);
	}
}
END_TEST

START_TEST(defaults_are_llama_cpp_cli_defaults)
{
	struct trit_sampler_params p = trit_sampler_params_default();

	/* common/common.h, struct common_params_sampling */
	ck_assert(p.temperature == 0.8f);
	ck_assert_int_eq(p.top_k, 40);
	ck_assert(p.top_p == 0.95f);
	ck_assert(p.min_p == 0.05f);
	ck_assert(p.repeat_penalty == 1.0f);
	ck_assert_int_eq(p.repeat_last_n, 64);
	ck_assert(p.frequency_penalty == 0.0f);
	ck_assert(p.presence_penalty == 0.0f);
}
END_TEST

START_TEST(greedy_picks_the_argmax_and_the_lowest_id_among_equals)
{
	struct trit_sampler_params p = plain(1);
	const float a[6] = { 1.0f, 5.0f, 3.0f, 5.0f, -INFINITY, 4.99f };
	const float flat[4] = { 2.0f, 2.0f, 2.0f, 2.0f };
	const float zeros[3] = { 0.0f, -0.0f, 0.0f };
	struct trit_sampler *s;

	p.temperature = 0.0f;
	s = make(p, 6);
	ck_assert_int_eq(sample(s, a, 6), 1);
	trit_sampler_free(s);
	p.temperature = -1.0f; /* any temperature <= 0 */
	s = make(p, 4);
	ck_assert_int_eq(sample(s, flat, 4), 0);
	trit_sampler_free(s);
	s = make(p, 3);
	ck_assert_int_eq(sample(s, zeros, 3), 0); /* -0 == +0: a tie */
	trit_sampler_free(s);
}
END_TEST

START_TEST(top_k_1_is_greedy)
{
	enum { V = 300 };
	struct trit_sampler_params pk = plain(7), pg = plain(7);
	struct trit_sampler *sk, *sg;
	float logits[V];

	pk.top_k = 1;
	pk.temperature = 1.5f;
	pg.temperature = 0.0f;
	sk = make(pk, V);
	sg = make(pg, V);
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < V; i++)
			logits[i] = rnd_logit();
		ck_assert_int_eq(sample(sk, logits, V), sample(sg, logits, V));
	}
	trit_sampler_free(sk);
	trit_sampler_free(sg);
}
END_TEST

START_TEST(a_seed_repeats_its_tokens_and_another_seed_does_not)
{
	enum { V = 50, N = 1000 };
	float logits[V];
	int32_t a[N], b[N], c[N];
	struct trit_sampler *s1 = make(plain(42), V), *s2 = make(plain(42), V);
	struct trit_sampler *s3 = make(plain(43), V);
	int differ = 0;

	for (int i = 0; i < V; i++)
		logits[i] = (float)(i % 7) * 0.1f;
	for (int i = 0; i < N; i++) {
		a[i] = sample(s1, logits, V);
		b[i] = sample(s2, logits, V);
		c[i] = sample(s3, logits, V);
		differ += a[i] != c[i];
	}
	ck_assert_mem_eq(a, b, sizeof a);
	ck_assert_int_gt(differ, N / 2); /* ~49 of 50 tokens differ by chance */
	/* reset restarts the generator: the same sequence again */
	trit_sampler_reset(s1);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(sample(s1, logits, V), a[i]);
	trit_sampler_free(s1);
	trit_sampler_free(s2);
	trit_sampler_free(s3);
}
END_TEST

/* Pearson's chi-square of counts against probabilities. */
static double chi_square(const long *seen, const double *prob, int n, long draws)
{
	double x2 = 0.0;

	for (int i = 0; i < n; i++) {
		double e = prob[i] * (double)draws;

		x2 += ((double)seen[i] - e) * ((double)seen[i] - e) / e;
	}
	return x2;
}

/*
 * 100000 draws over 5 tokens, against softmax(logit / T). With 4 degrees of
 * freedom, chi-square exceeds 18.47 with probability 0.001 for a correct
 * sampler (the 99.9% quantile), so a correct sampler passes for all but one
 * seed in a thousand (the seed here is fixed: it passes or fails every run).
 * A sampler off by as little as 0.01 in one probability gives about
 * 100000 * 0.01^2 / 0.05 = 20 on its own; the wrong distribution below
 * gives thousands.
 */
START_TEST(draws_follow_the_softmax_at_temperature_1_and_0_5)
{
	enum { V = 5, DRAWS = 100000 };
	static const double p[V] = { 0.40, 0.25, 0.20, 0.10, 0.05 };
	const double uniform[V] = { 0.2, 0.2, 0.2, 0.2, 0.2 };
	double p_half[V], z = 0.0;
	float logits[V];
	long seen[V];
	struct trit_sampler_params par = plain(2026);
	struct trit_sampler *s;

	for (int i = 0; i < V; i++)
		logits[i] = (float)log(p[i]);
	s = make(par, V);
	histogram(s, logits, V, DRAWS, seen);
	ck_assert_msg(chi_square(seen, p, V, DRAWS) < 18.47, "chi2 %g",
	              chi_square(seen, p, V, DRAWS));
	ck_assert_msg(chi_square(seen, uniform, V, DRAWS) > 1000.0,
	              "the test cannot tell a uniform sampler apart");
	trit_sampler_free(s);

	/* temperature 0.5: softmax(2 * logit), i.e. p^2 normalised */
	for (int i = 0; i < V; i++)
		z += p[i] * p[i];
	for (int i = 0; i < V; i++)
		p_half[i] = p[i] * p[i] / z;
	par.temperature = 0.5f;
	s = make(par, V);
	histogram(s, logits, V, DRAWS, seen);
	ck_assert_msg(chi_square(seen, p_half, V, DRAWS) < 18.47, "chi2 %g",
	              chi_square(seen, p_half, V, DRAWS));
	ck_assert(chi_square(seen, p, V, DRAWS) > 1000.0);
	trit_sampler_free(s);
}
END_TEST

/* The tokens that `draws` samples can produce, as a bit mask. */
static unsigned reachable(struct trit_sampler_params par, const float *logits, int32_t n)
{
	long seen[32];
	unsigned mask = 0;
	struct trit_sampler *s = make(par, n);

	histogram(s, logits, n, 4000, seen);
	for (int i = 0; i < n; i++)
		if (seen[i])
			mask |= 1u << i;
	trit_sampler_free(s);
	return mask;
}

/* probabilities 0.5, 0.3, 0.15, 0.05 at tokens 3, 0, 4, 1 (scrambled, so the
 * cut must follow the sorted order, not the ids); token 2 can never come. */
static void scrambled(float *logits)
{
	logits[0] = logf(0.30f);
	logits[1] = logf(0.05f);
	logits[2] = -INFINITY;
	logits[3] = logf(0.50f);
	logits[4] = logf(0.15f);
}

START_TEST(top_p_keeps_the_shortest_prefix_reaching_p)
{
	float logits[5];
	struct trit_sampler_params par = plain(5);

	scrambled(logits);
	par.top_p = 0.79f; /* 0.5 < 0.79 <= 0.8 */
	ck_assert_uint_eq(reachable(par, logits, 5), (1u << 3) | (1u << 0));
	par.top_p = 0.81f; /* 0.8 < 0.81 <= 0.95 */
	ck_assert_uint_eq(reachable(par, logits, 5), (1u << 3) | (1u << 0) | (1u << 4));
	par.top_p = 0.94f; /* 0.8 < 0.94 <= 0.95: all but the 0.05 */
	ck_assert_uint_eq(reachable(par, logits, 5), (1u << 3) | (1u << 0) | (1u << 4));
	par.top_p = 0.0f;
	ck_assert_uint_eq(reachable(par, logits, 5), 1u << 3);
	par.top_p = 1.0f; /* off: all but the -inf token */
	ck_assert_uint_eq(reachable(par, logits, 5), 0x1bu);
	/* after top_k 3 the sum is 0.95: 0.82 * 0.95 = 0.779 is reached at 0.8 */
	par.top_k = 3;
	par.top_p = 0.82f;
	ck_assert_uint_eq(reachable(par, logits, 5), (1u << 3) | (1u << 0));
}
END_TEST

/* Token 0 has weight 1, tokens 1 .. 1999 weight 1/1999 each: the sum is 2,
 * so top_p 0.6 needs weight 1.2, token 0 and the next 400 (by id). A cut
 * that looked only at the best tokens' weights would keep token 0 alone. */
START_TEST(top_p_weighs_the_whole_vocabulary)
{
	enum { V = 2000, DRAWS = 4000 };
	static float logits[V];
	static long seen[V];
	struct trit_sampler_params par = plain(13);
	struct trit_sampler *s;
	long others = 0;

	logits[0] = 0.0f;
	for (int i = 1; i < V; i++)
		logits[i] = logf(1.0f / 1999.0f);
	par.top_p = 0.6f;
	s = make(par, V);
	histogram(s, logits, V, DRAWS, seen);
	for (int i = 401; i < V; i++)
		ck_assert_msg(seen[i] == 0, "token %d is past the cut", i);
	for (int i = 1; i <= 400; i++)
		others += seen[i];
	/* expected 4000 * 0.2 / 1.2 = 667, sd 24: 527 .. 807 is 6 sd */
	ck_assert_msg(others > 527 && others < 807, "%ld draws past token 0", others);
	others = 0;
	for (int i = 301; i <= 400; i++)
		others += seen[i];
	/* the last hundred kept: 167 draws expected, sd 12 */
	ck_assert_msg(others > 90, "%ld draws of tokens 301 .. 400", others);
	trit_sampler_free(s);
}
END_TEST

/* 300 equal logits: top_p 0.5 keeps exactly the 150 lowest ids, found by
 * sorting further than the first 64; min_p at once cuts nothing here. */
START_TEST(top_p_keeps_hundreds_of_equal_tokens_by_id)
{
	enum { V = 300 };
	float logits[V];
	long seen[V];
	struct trit_sampler_params par = plain(12);
	struct trit_sampler *s;

	for (int i = 0; i < V; i++)
		logits[i] = 1.5f;
	par.top_p = 0.5f;
	par.min_p = 0.5f;
	s = make(par, V);
	histogram(s, logits, V, 6000, seen); /* 40 draws expected each: none missed */
	for (int i = 0; i < V; i++)
		ck_assert_msg((seen[i] > 0) == (i < V / 2), "token %d drawn %ld times", i, seen[i]);
	trit_sampler_free(s);
}
END_TEST

/* 300 distinct logits in scrambled token order: top_p 0.5 keeps exactly
 * the best-first prefix a plain insertion sort here finds (the sampler's
 * merge sort takes an odd number of passes over 300). */
START_TEST(top_p_keeps_the_best_of_a_scrambled_vocabulary)
{
	enum { V = 300 };
	static float logits[V];
	static long seen[V];
	static int idx[V];
	struct trit_sampler_params par = plain(14);
	struct trit_sampler *s;
	double sum = 0.0, acc = 0.0;
	int keep = 0;

	for (int i = 0; i < V; i++) {
		logits[i] = (float)((i * 7919) % V) * 5e-4f; /* a permutation */
		sum += exp((double)logits[i]);
	}
	for (int i = 0; i < V; i++) { /* idx: best first */
		int j = i;

		for (; j > 0 && logits[idx[j - 1]] < logits[i]; j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
	}
	while (acc < 0.5 * sum)
		acc += exp((double)logits[idx[keep++]]);
	par.top_p = 0.5f;
	s = make(par, V);
	histogram(s, logits, V, 6000, seen); /* >= 34 draws expected each */
	for (int r = 0; r < V; r++)
		ck_assert_msg((seen[idx[r]] > 0) == (r < keep), "rank %d (token %d) drawn %ld times",
		              r, idx[r], seen[idx[r]]);
	trit_sampler_free(s);
}
END_TEST

START_TEST(min_p_keeps_tokens_within_min_p_of_the_best)
{
	float logits[5];
	struct trit_sampler_params par = plain(6);

	scrambled(logits);
	par.min_p = 0.25f; /* floor 0.125: keeps 0.5, 0.3, 0.15 */
	ck_assert_uint_eq(reachable(par, logits, 5), (1u << 3) | (1u << 0) | (1u << 4));
	par.min_p = 0.35f; /* floor 0.175: keeps 0.5, 0.3 */
	ck_assert_uint_eq(reachable(par, logits, 5), (1u << 3) | (1u << 0));
	par.min_p = 1.0f;
	ck_assert_uint_eq(reachable(par, logits, 5), 1u << 3);
	/* with top-k and a top-p that alone would keep all four */
	par.min_p = 0.35f;
	par.top_k = 3;
	par.top_p = 0.99f;
	ck_assert_uint_eq(reachable(par, logits, 5), (1u << 3) | (1u << 0));
}
END_TEST

START_TEST(top_k_keeps_exactly_the_k_best_of_a_large_vocabulary)
{
	enum { V = 128256, K = 40 };
	float *logits = malloc(V * sizeof *logits), kth;
	float *sorted = malloc(V * sizeof *sorted);
	struct trit_sampler_params par = plain(11);
	struct trit_sampler *s;
	int32_t above = 0;

	for (int i = 0; i < V; i++)
		logits[i] = sorted[i] = rnd_logit();
	/* the K-th largest value, by a plain selection sort of the top */
	for (int i = 0; i < K; i++) {
		int best = i;

		for (int j = i + 1; j < V; j++)
			if (sorted[j] > sorted[best])
				best = j;
		kth = sorted[best];
		sorted[best] = sorted[i];
		sorted[i] = kth;
	}
	for (int i = 0; i < V; i++)
		above += logits[i] > kth;
	par.top_k = K;
	par.temperature = 5.0f; /* flatten, so many of the K come up */
	s = make(par, V);
	for (int d = 0; d < 500; d++) {
		int32_t t = sample(s, logits, V);

		/* in the top K: strictly above the K-th value, or equal to it and
		 * among the lowest ids of that value that fit */
		if (logits[t] == kth) {
			int32_t rank = above;

			for (int32_t i = 0; i < t; i++)
				rank += logits[i] == kth;
			ck_assert_int_lt(rank, K);
		} else {
			ck_assert(logits[t] > kth);
		}
	}
	trit_sampler_free(s);
	free(logits);
	free(sorted);
}
END_TEST

START_TEST(equal_logits_are_ordered_by_token_id)
{
	const float logits[8] = { 0, 0, 0, 7, 0, 0, 0, 7 };
	struct trit_sampler_params par = plain(3);

	par.top_k = 1; /* 3 and 7 tie: the lower id is the one kept */
	ck_assert_uint_eq(reachable(par, logits, 8), 1u << 3);
	par.top_k = 2;
	ck_assert_uint_eq(reachable(par, logits, 8), (1u << 3) | (1u << 7));
}
END_TEST

START_TEST(penalties_change_exactly_the_penalised_logits)
{
	char err[256] = "";
	struct trit_sampler_params par = plain(1);
	float v[6] = { 3.0f, -2.0f, 0.5f, 1.0f, -INFINITY, 0.0f };
	struct trit_sampler *s;

	par.repeat_penalty = 2.0f;
	par.frequency_penalty = 0.5f;
	par.presence_penalty = 0.25f;
	par.repeat_last_n = 5;
	s = make(par, 6);
	/* token 2 falls out of the 5-token window */
	for (int32_t t = 0; t < 6; t++)
		ck_assert_int_eq(trit_sampler_accept(s, (int32_t[]){ 2, 0, 1, 1, 4, 5 }[t], err, sizeof err), 0);
	ck_assert_int_eq(trit_sampler_penalise(s, v, 6, err, sizeof err), 0);
	ck_assert(v[0] == 3.0f / 2.0f - (1 * 0.5f + 0.25f));  /* > 0: divided */
	ck_assert(v[1] == -2.0f * 2.0f - (2 * 0.5f + 0.25f)); /* < 0: multiplied, count 2 */
	ck_assert(v[2] == 0.5f);                              /* out of the window */
	ck_assert(v[3] == 1.0f);                              /* never accepted */
	ck_assert(v[4] == -INFINITY);                         /* stays impossible */
	ck_assert(v[5] == 0.0f * 2.0f - 0.75f);               /* 0 counts as <= 0 */
	trit_sampler_free(s);
}
END_TEST

START_TEST(repeat_penalty_steers_greedy_as_llama_cpp_does)
{
	char err[256] = "";
	struct trit_sampler_params par = plain(1);
	const float pos[2] = { 2.0f, 1.9f }, neg[2] = { -1.0f, -1.05f };
	struct trit_sampler *s;

	par.temperature = 0.0f;
	par.repeat_penalty = 1.1f;
	s = make(par, 2);
	ck_assert_int_eq(sample(s, pos, 2), 0);
	ck_assert_int_eq(trit_sampler_accept(s, 0, err, sizeof err), 0);
	ck_assert_int_eq(sample(s, pos, 2), 1); /* 2.0 / 1.1 < 1.9 */
	ck_assert_int_eq(sample(s, neg, 2), 1); /* -1.0 * 1.1 < -1.05 (dividing would keep 0) */
	trit_sampler_reset(s);                  /* history forgotten */
	ck_assert_int_eq(sample(s, pos, 2), 0);
	trit_sampler_free(s);
	par.repeat_last_n = 0; /* penalties off */
	s = make(par, 2);
	ck_assert_int_eq(trit_sampler_accept(s, 0, err, sizeof err), 0);
	ck_assert_int_eq(sample(s, pos, 2), 0);
	trit_sampler_free(s);
}
END_TEST

static void refused(struct trit_sampler_params p, int32_t n_vocab, const char *field)
{
	char err[256] = "";
	struct trit_sampler *s = (struct trit_sampler *)&err; /* must be reset to NULL */
	int rc = trit_sampler_new(&p, n_vocab, &s, err, sizeof err);

	ck_assert_int_eq(rc, TRIT_ERANGE);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, field), "\"%s\" does not name %s", err, field);
}

START_TEST(hostile_settings_are_refused_naming_the_field)
{
	struct trit_sampler_params p;

	p = plain(0); p.temperature = NAN;         refused(p, 10, "temperature");
	p = plain(0); p.temperature = INFINITY;    refused(p, 10, "temperature");
	p = plain(0); p.top_p = 1.5f;              refused(p, 10, "top_p");
	p = plain(0); p.top_p = -0.1f;             refused(p, 10, "top_p");
	p = plain(0); p.top_p = NAN;               refused(p, 10, "top_p");
	p = plain(0); p.min_p = 2.0f;              refused(p, 10, "min_p");
	p = plain(0); p.min_p = NAN;               refused(p, 10, "min_p");
	p = plain(0); p.repeat_penalty = 0.0f;     refused(p, 10, "repeat_penalty");
	p = plain(0); p.repeat_penalty = NAN;      refused(p, 10, "repeat_penalty");
	p = plain(0); p.repeat_last_n = -1;        refused(p, 10, "repeat_last_n");
	p = plain(0); p.repeat_last_n = TRIT_SAMPLER_MAX_LAST_N + 1; refused(p, 10, "repeat_last_n");
	p = plain(0); p.frequency_penalty = NAN;   refused(p, 10, "frequency_penalty");
	p = plain(0); p.presence_penalty = -INFINITY; refused(p, 10, "presence_penalty");
	p = plain(0);                              refused(p, 0, "vocabulary");
}
END_TEST

START_TEST(top_k_above_the_vocabulary_is_the_whole_vocabulary)
{
	const float logits[3] = { 0.0f, 0.0f, 0.0f };
	struct trit_sampler_params par = plain(9);

	par.top_k = 1000;
	ck_assert_uint_eq(reachable(par, logits, 3), 7u);
	par.top_k = -5; /* <= 0: off */
	ck_assert_uint_eq(reachable(par, logits, 3), 7u);
}
END_TEST

START_TEST(nan_and_inf_logits_are_refused_naming_the_token)
{
	char err[256] = "";
	float logits[4] = { 0.0f, 1.0f, NAN, 0.0f };
	const float masked[3] = { 0.0f, -INFINITY, 0.0f };
	const float none[2] = { -INFINITY, -INFINITY };
	struct trit_sampler *s = make(plain(4), 4), *s3 = make(plain(4), 3), *s2;
	int32_t tok = -1;

	ck_assert_int_eq(trit_sampler_sample(s, logits, 4, &tok, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "token 2") && strstr(err, "NaN"), "%s", err);
	logits[2] = INFINITY;
	ck_assert_int_eq(trit_sampler_sample(s, logits, 4, &tok, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "token 2") && strstr(err, "+inf"), "%s", err);
	ck_assert_int_eq(tok, -1);
	/* wrong length, out-of-range tokens */
	ck_assert_int_eq(trit_sampler_sample(s, logits, 3, &tok, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(trit_sampler_accept(s, 4, err, sizeof err), TRIT_ERANGE);
	ck_assert_int_eq(trit_sampler_accept(s, -1, err, sizeof err), TRIT_ERANGE);
	/* -inf: never chosen; all -inf: refused */
	ck_assert_uint_eq(reachable(plain(4), masked, 3), 5u);
	s2 = make(plain(4), 2);
	ck_assert_int_eq(trit_sampler_sample(s2, none, 2, &tok, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "-inf"), "%s", err);
	trit_sampler_free(s);
	trit_sampler_free(s2);
	trit_sampler_free(s3);
}
END_TEST

START_TEST(extreme_but_valid_settings_stay_finite)
{
	char err[256] = "";
	struct trit_sampler_params par = plain(8);
	const float logits[3] = { 3e38f, -3e38f, 1.0f };
	struct trit_sampler *s;

	/* a tiny temperature is greedy in effect; huge logit gaps do not overflow */
	par.temperature = 1e-30f;
	ck_assert_uint_eq(reachable(par, logits, 3), 1u);
	/* penalties that overflow clamp to FLT_MAX instead of making inf or NaN */
	par.temperature = 1.0f;
	par.repeat_penalty = 1e-3f;
	par.frequency_penalty = -3e38f;
	s = make(par, 3);
	ck_assert_int_eq(trit_sampler_accept(s, 0, err, sizeof err), 0);
	ck_assert_int_eq(sample(s, logits, 3), 0);
	trit_sampler_free(s);
	/* a penalty that pushes the only finite logit to -inf is an error */
	par.repeat_penalty = 2.0f;
	par.frequency_penalty = 0.0f;
	s = make(par, 1);
	ck_assert_int_eq(trit_sampler_accept(s, 0, err, sizeof err), 0);
	{
		const float one[1] = { -3e38f };
		int32_t tok = -1;

		ck_assert_int_eq(trit_sampler_sample(s, one, 1, &tok, err, sizeof err), TRIT_EINVAL);
		ck_assert_msg(strstr(err, "penalties"), "%s", err);
		ck_assert_int_eq(tok, -1);
	}
	trit_sampler_free(s);
}
END_TEST

/* 30 s per case, not Check's 4: the statistical cases draw tens of
 * thousands of tokens, and the build machine may be busy (or valgrind). */
#define ADD(s, t) do { TCase *tc = tcase_create(#t); tcase_set_timeout(tc, 30); \
		tcase_add_test(tc, t); suite_add_tcase(s, tc); } while (0)

int main(void)
{
	Suite *s = suite_create("sampler");

	ADD(s, generator_is_splitmix64_seeded_xoshiro256starstar);
	ADD(s, defaults_are_llama_cpp_cli_defaults);
	ADD(s, greedy_picks_the_argmax_and_the_lowest_id_among_equals);
	ADD(s, top_k_1_is_greedy);
	ADD(s, a_seed_repeats_its_tokens_and_another_seed_does_not);
	ADD(s, draws_follow_the_softmax_at_temperature_1_and_0_5);
	ADD(s, top_p_keeps_the_shortest_prefix_reaching_p);
	ADD(s, top_p_keeps_hundreds_of_equal_tokens_by_id);
	ADD(s, top_p_weighs_the_whole_vocabulary);
	ADD(s, top_p_keeps_the_best_of_a_scrambled_vocabulary);
	ADD(s, min_p_keeps_tokens_within_min_p_of_the_best);
	ADD(s, top_k_keeps_exactly_the_k_best_of_a_large_vocabulary);
	ADD(s, equal_logits_are_ordered_by_token_id);
	ADD(s, penalties_change_exactly_the_penalised_logits);
	ADD(s, repeat_penalty_steers_greedy_as_llama_cpp_does);
	ADD(s, hostile_settings_are_refused_naming_the_field);
	ADD(s, top_k_above_the_vocabulary_is_the_whole_vocabulary);
	ADD(s, nan_and_inf_logits_are_refused_naming_the_token);
	ADD(s, extreme_but_valid_settings_stay_finite);

	return test_run_suite(s);
}
