/*
 * compare.c - hold a device's outputs to the oracle's: decode both to F32 in
 * logical order, apply the output's tolerance (exact, NMSE, or a bound per
 * element) and check that no byte outside the output's rows changed (a
 * strided dst's gaps, the bytes before its offset). Which tolerance an
 * output gets, and why, is setup.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "internal.h"

static void note_error(struct cf_verdict *v, double a, double b)
{
	double e = fabs(a - b), rel = b != 0 ? e / fabs(b) : (e != 0 ? INFINITY : 0);

	if (e > v->max_abs || e != e)
		v->max_abs = e;
	if (rel > v->max_rel || rel != rel)
		v->max_rel = rel;
}

static int same(float a, float b)
{
	return a == b || (a != a && b != b);
}

static void first_bad(struct cf_verdict *v, int op, uint64_t i, float a, float b, double bound)
{
	if (!v->ok)
		return;
	v->ok = 0;
	v->operand = op;
	v->first_bad = i;
	v->got = a;
	v->want = b;
	v->bound = bound;
}

static void check_values(const struct cf_operand *o, int op, const float *a, const float *b,
                         struct cf_verdict *v)
{
	double num = 0, den = 0;

	for (uint64_t i = 0; i < o->n; i++) {
		note_error(v, a[i], b[i]);
		if (o->tol_kind == CF_TOL_EXACT && !same(a[i], b[i]))
			first_bad(v, op, i, a[i], b[i], 0);
		else if (o->tol_kind == CF_TOL_ELEM && !same(a[i], b[i]) &&
		         !(fabs((double)a[i] - b[i]) <= o->tol[i]))
			first_bad(v, op, i, a[i], b[i], o->tol[i]);
		else if (o->tol_kind == CF_TOL_NMSE && (a[i] != a[i]) != (b[i] != b[i]))
			first_bad(v, op, i, a[i], b[i], o->eps);
		if (a[i] == a[i] && b[i] == b[i]) {
			num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
			den += (double)b[i] * b[i];
		}
	}
	if (o->tol_kind != CF_TOL_NMSE)
		return;
	v->err = den > 0 ? num / den : (num > 0 ? INFINITY : 0);
	if (v->ok && !(v->err <= o->eps)) { /* name the worst element */
		uint64_t worst = 0;
		for (uint64_t i = 1; i < o->n; i++)
			if (fabs((double)a[i] - b[i]) > fabs((double)a[worst] - b[worst]))
				worst = i;
		first_bad(v, op, worst, a[worst], b[worst], o->eps);
	}
}

/* Bytes outside the output's rows must be as they were (equal to the
 * oracle's, which started from the same bytes and must not touch them). */
static int check_outside(const struct cf_operand *o, const unsigned char *a, const unsigned char *b,
                         uint64_t *at)
{
	unsigned char *mask = calloc((size_t)o->bytes, 1);

	if (!mask)
		return TRIT_ENOMEM;
	cf_tensor_mask(&o->t, mask);
	for (uint64_t i = 0; i < o->bytes; i++)
		if (!mask[i] && a[i] != b[i]) {
			*at = i;
			free(mask);
			return 1;
		}
	free(mask);
	return 0;
}

static int compare_one(const struct cf_operand *o, int op, const unsigned char *a,
                       const unsigned char *b, struct cf_verdict *v, char *err, size_t errlen)
{
	float *fa = malloc((size_t)o->n * sizeof *fa), *fb = malloc((size_t)o->n * sizeof *fb);
	uint64_t at = 0;
	int rc = (!fa || !fb) ? TRIT_ENOMEM : 0, outside = 0;

	if (!rc && (rc = cf_decode(&o->t, a, fa)) == 0 && (rc = cf_decode(&o->t, b, fb)) == 0)
		check_values(o, op, fa, fb, v);
	if (!rc && (outside = check_outside(o, a, b, &at)) < 0)
		rc = outside;
	if (!rc && outside && v->ok) {
		v->ok = 0;
		v->operand = op;
		snprintf(err, errlen, "wrote byte %llu of its buffer, outside the tensor's rows",
		         (unsigned long long)at);
	}
	free(fa);
	free(fb);
	return rc;
}

int cf_compare(const struct cf_setup *s, const struct cf_result *dut,
               const struct cf_result *ref, struct cf_verdict *v, char *err, size_t errlen)
{
	memset(v, 0, sizeof *v);
	v->ok = 1;
	v->operand = -1;
	if (err && errlen)
		err[0] = '\0';
	for (int i = 0; i < CF_MAX_OPERANDS; i++) {
		int rc;
		if (!s->o[i].output)
			continue;
		if ((rc = compare_one(&s->o[i], i, dut->out[i], ref->out[i], v, err, errlen)))
			return rc;
	}
	return 0;
}
