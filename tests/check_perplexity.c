/*
 * check_perplexity.c - the arithmetic of `trit perplexity`
 * (runtime/exec/perplexity.c) against values computed by hand: how many
 * windows a text gives, which positions of a window are scored, each
 * token's negative log-likelihood, and llama.cpp's estimate PPL = exp(mean
 * NLL) +- stderr(NLL) x PPL.
 */
#include <build-config.h>

#include <check.h>
#include <math.h>
#include <stdint.h>

#include "exec/perplexity.h"
#include "support/support.h"

#define V 4

/* NLLs of the rows below, by hand: a row of equal logits is ln 4 for any
 * target; {2, 0, 0, 0} is ln(e^2 + 3) - 2 = ln(1 + 3 e^-2) for token 0 and
 * ln(e^2 + 3) for any other. */
static const float rows[][V] = {
	{ 0, 0, 0, 0 },     /* 0 */
	{ 2, 0, 0, 0 },     /* 1 */
	{ 7, 7, 7, 7 },     /* 2: shifted, still ln 4 */
	{ 1e30f, 0, 0, 0 }, /* 3: not scored below */
};

START_TEST(windows_drop_the_partial_one_and_need_three_tokens)
{
	ck_assert_uint_eq(trit_ppl_windows(10, 4), 2);
	ck_assert_uint_eq(trit_ppl_windows(8, 4), 2);
	ck_assert_uint_eq(trit_ppl_windows(7, 4), 1);
	ck_assert_uint_eq(trit_ppl_windows(3, 4), 0);
	ck_assert_uint_eq(trit_ppl_windows(100, 2), 0); /* would score nothing */
	ck_assert_uint_eq(trit_ppl_windows(100, 3), 33);
	/* positions [n_ctx / 2, n_ctx - 1): 512 scores 256..510, 255 tokens */
	ck_assert_uint_eq(trit_ppl_first(512), 256);
	ck_assert_uint_eq(trit_ppl_scored(512), 255);
	ck_assert_uint_eq(trit_ppl_scored(6), 2);
	ck_assert_uint_eq(trit_ppl_scored(5), 2);
	ck_assert_uint_eq(trit_ppl_scored(3), 1);
	ck_assert_uint_eq(trit_ppl_scored(2), 0);
}
END_TEST

START_TEST(nll_is_the_negative_log_softmax_in_double)
{
	ck_assert_double_eq_tol(trit_ppl_nll(rows[0], V, 3), log(4.0), 1e-15);
	ck_assert_double_eq_tol(trit_ppl_nll(rows[2], V, 0), log(4.0), 1e-15);
	ck_assert_double_eq_tol(trit_ppl_nll(rows[1], V, 0), log(1 + 3 * exp(-2.0)), 1e-15);
	ck_assert_double_eq_tol(trit_ppl_nll(rows[1], V, 2), log(exp(2.0) + 3), 1e-14);
	/* a logit of 1e30 does not overflow: the others are e^-1e30 = 0 */
	ck_assert_double_eq_tol(trit_ppl_nll(rows[3], V, 0), 0, 1e-15);
	ck_assert_double_eq_tol(trit_ppl_nll(rows[3], V, 1), (double)1e30f, 1e15);
	/* a target outside the vocabulary, or a NaN / inf logit: NaN */
	ck_assert(isnan(trit_ppl_nll(rows[0], V, 4)));
	ck_assert(isnan(trit_ppl_nll(rows[0], V, -1)));
	float bad[V] = { 0, NAN, 0, 0 }, inf[V] = { 0, 0, INFINITY, 0 };
	ck_assert(isnan(trit_ppl_nll(bad, V, 0)));
	ck_assert(isnan(trit_ppl_nll(inf, V, 0)));
}
END_TEST

/*
 * Two windows of n_ctx = 6: positions 3 and 4 are scored, position 3's logits
 * against window[4] and position 4's against window[5]; positions 0-2 and 5
 * are not (their rows hold 1e30 so any use of them shows).
 *   window A = {9, 9, 9, 9, 0, 2}: row 0 -> ln 4, row 1 for token 2 -> ln(e^2 + 3)
 *   window B = {9, 9, 9, 9, 0, 1}: row 1 for 0 -> ln(1 + 3e^-2), row 2 -> ln 4
 * NLLs {ln 4, ln(e^2 + 3), ln(1 + 3e^-2), ln 4}:
 *   mean = 1.3635236575165108, PPL = e^mean = 3.90994636892803,
 *   stderr = sqrt((mean(x^2) - mean^2) / 3) = 0.4084599143704692,
 *   +- = stderr x PPL = 1.59705635904547 (python, math module).
 */
START_TEST(windows_score_their_second_half_and_the_estimate_is_llama_cpps)
{
	const int32_t a[6] = { 9, 9, 9, 9, 0, 2 }, b[6] = { 9, 9, 9, 9, 0, 1 };
	float la[6][V], lb[6][V];
	struct trit_ppl_acc acc = { 0 };
	struct trit_ppl_estimate e;

	for (int i = 0; i < 6; i++)
		for (int k = 0; k < V; k++)
			la[i][k] = lb[i][k] = rows[3][k];
	for (int k = 0; k < V; k++) {
		la[3][k] = rows[0][k];
		la[4][k] = rows[1][k];
		lb[3][k] = rows[1][k];
		lb[4][k] = rows[2][k];
	}
	/* window A in one eval of all six positions */
	ck_assert_uint_eq(trit_ppl_score(&acc, la[0], V, a, 6, 0, 6), 2);
	/* window B in evals of 4 and 2 positions (a ubatch of 4), as a batch
	 * size other than the window's splits it: the same tokens scored */
	ck_assert_uint_eq(trit_ppl_score(&acc, lb[0], V, b, 6, 0, 4), 1);
	ck_assert_uint_eq(trit_ppl_score(&acc, lb[4], V, b, 6, 4, 2), 1);
	ck_assert_uint_eq(acc.n, 4);
	trit_ppl_estimate(&acc, &e);
	ck_assert_uint_eq(e.n, 4);
	ck_assert_double_eq_tol(e.mean_nll, 1.3635236575165108, 1e-13);
	ck_assert_double_eq_tol(e.ppl, 3.90994636892803, 1e-12);
	ck_assert_double_eq_tol(e.nll_stderr, 0.4084599143704692, 1e-12);
	ck_assert_double_eq_tol(e.ppl_err, 1.59705635904547, 1e-11);
}
END_TEST

START_TEST(an_estimate_of_nothing_is_nan_and_of_one_token_has_no_spread)
{
	struct trit_ppl_acc acc = { 0 };
	struct trit_ppl_estimate e;
	const int32_t w[3] = { 5, 5, 1 };

	trit_ppl_estimate(&acc, &e);
	ck_assert(isnan(e.ppl));
	ck_assert_uint_eq(e.n, 0);
	/* n_ctx 3 scores position 1 against token 2 only */
	ck_assert_uint_eq(trit_ppl_score(&acc, rows[0], V, w, 3, 1, 1), 1);
	ck_assert_uint_eq(trit_ppl_score(&acc, rows[0], V, w, 3, 2, 1), 0);
	trit_ppl_estimate(&acc, &e);
	ck_assert_double_eq_tol(e.ppl, 4.0, 1e-14);
	ck_assert(e.ppl_err == 0);
}
END_TEST

#define ADD(s, t) do { TCase *tc = tcase_create(#t); tcase_add_test(tc, t); \
	suite_add_tcase(s, tc); } while (0)

int main(void)
{
	Suite *s = suite_create("perplexity");

	ADD(s, windows_drop_the_partial_one_and_need_three_tokens);
	ADD(s, nll_is_the_negative_log_softmax_in_double);
	ADD(s, windows_score_their_second_half_and_the_estimate_is_llama_cpps);
	ADD(s, an_estimate_of_nothing_is_nan_and_of_one_token_has_no_spread);
	return test_run_suite(s);
}
