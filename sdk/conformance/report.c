/*
 * report.c - the suite on one device: for each selected case, ask both
 * backends whether they run it, run it on both, compare, and print the
 * verdict (a failure line always; passes and skips with -v), as text or as
 * one JSON object per line. Finding the backends is the caller's (main.c,
 * or a stand-alone driver linked with a plugin's sources).
 */
#include <math.h>
#include <string.h>

#include "conformance.h"

int cf_selected(const struct cf_filter *f, const struct cf_case *c)
{
	return (f->op < 0 || c->op == (uint32_t)f->op) &&
	       (f->type < 0 || cf_case_has_type(c, (uint32_t)f->type));
}

/* The node as supports_op() sees it: tensors without buffers. */
static void node_template(const struct cf_setup *s, struct trit_node *n)
{
	*n = s->node;
	for (int i = 0; i < CF_MAX_OPERANDS; i++)
		if (s->o[i].used && !s->o[i].alias)
			*(i ? &n->src[i - 1] : &n->dst) = s->o[i].t;
	if (s->o[0].alias)
		n->dst = n->src[0];
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned)(unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static const char *operand_name(const struct cf_setup *s, int i)
{
	static const char *const names[] = { "dst", "src[0]", "src[1]", "src[2]", "src[3]" };
	return i < 0 ? "?" : s->node.op == TRIT_OP_QUANTIZE_ACT && i == 2 ? "src[1] (scales)" : names[i];
}

/* "exact", "NMSE 3e-04 > 1e-09", "|a-b| <= 2.5e-06 at that element". */
static void tolerance(const struct cf_setup *s, const struct cf_verdict *v, char *buf, size_t len)
{
	const struct cf_operand *o = &s->o[v->operand < 0 ? 0 : v->operand];

	if (o->tol_kind == CF_TOL_EXACT)
		snprintf(buf, len, "exact (%s)", o->why);
	else if (o->tol_kind == CF_TOL_NMSE)
		snprintf(buf, len, "NMSE %.3g vs %.3g (%s)", v->err, o->eps, o->why);
	else
		snprintf(buf, len, "|a-b| <= %.3g there (%s)", v->bound, o->why);
}

static void print_text(FILE *out, const char *verdict, const char *label, const char *dev,
                       const struct cf_setup *s, const struct cf_verdict *v, const char *msg)
{
	char tol[512];

	if (!v) {
		fprintf(out, "%s %s on %s: %s\n", verdict, label, dev, msg);
		return;
	}
	tolerance(s, v, tol, sizeof tol);
	if (v->ok)
		fprintf(out, "%s %s on %s: max abs %.3g, max rel %.3g\n", verdict, label, dev,
		        v->max_abs, v->max_rel);
	else if (msg && *msg)
		fprintf(out, "%s %s on %s: %s %s\n", verdict, label, dev, operand_name(s, v->operand), msg);
	else
		fprintf(out, "%s %s on %s: %s max abs err %.3g, max rel err %.3g; tolerance %s; "
		        "first bad index %llu: got %.9g, want %.9g\n", verdict, label, dev,
		        operand_name(s, v->operand), v->max_abs, v->max_rel, tol,
		        (unsigned long long)v->first_bad, (double)v->got, (double)v->want);
}

static void print_json(FILE *out, const char *verdict, const char *label, const char *dev,
                       const struct cf_setup *s, const struct cf_verdict *v, const char *msg)
{
	fputs("{\"result\":", out);
	json_str(out, verdict);
	fputs(",\"case\":", out);
	json_str(out, label);
	fputs(",\"device\":", out);
	json_str(out, dev);
	if (v) {
		char tol[512];
		tolerance(s, v, tol, sizeof tol);
		fprintf(out, ",\"max_abs\":%.9g,\"max_rel\":%.9g", isfinite(v->max_abs) ? v->max_abs : -1.0,
		        isfinite(v->max_rel) ? v->max_rel : -1.0);
		if (!v->ok)
			fprintf(out, ",\"operand\":\"%s\",\"first_bad\":%llu", operand_name(s, v->operand),
			        (unsigned long long)v->first_bad);
		fputs(",\"tolerance\":", out);
		json_str(out, tol);
	}
	if (msg && *msg) {
		fputs(",\"message\":", out);
		json_str(out, msg);
	}
	fputs("}\n", out);
}

static void emit(const struct cf_filter *f, FILE *out, const char *verdict, const char *label,
                 const char *dev, const struct cf_setup *s, const struct cf_verdict *v, const char *msg)
{
	(f->json ? print_json : print_text)(out, verdict, label, dev, s, v, msg);
}

/* Run and compare one prepared case; 1 passed, 0 failed. */
static int run_case(const struct cf_backend *dut, const struct cf_backend *ref, const struct cf_filter *f,
                    const struct cf_setup *s, const char *label, FILE *out)
{
	struct cf_result a = { 0 }, b = { 0 };
	struct cf_verdict v;
	char err[1024] = "", msg[1100];
	int rc, ok = 0;

	if ((rc = cf_run(dut, s, &a, err, sizeof err))) {
		snprintf(msg, sizeof msg, "error %d: %s", rc, err);
		emit(f, out, "FAIL", label, dut->name, s, NULL, msg);
	} else if ((rc = cf_run(ref, s, &b, err, sizeof err))) {
		snprintf(msg, sizeof msg, "the oracle %s failed (error %d): %s", ref->name, rc, err);
		emit(f, out, "FAIL", label, dut->name, s, NULL, msg);
	} else if ((rc = cf_compare(s, &a, &b, &v, err, sizeof err))) {
		emit(f, out, "FAIL", label, dut->name, s, NULL, "out of memory comparing");
	} else if (!v.ok) {
		emit(f, out, "FAIL", label, dut->name, s, &v, err);
	} else {
		ok = 1;
		if (f->verbose)
			emit(f, out, "ok", label, dut->name, s, &v, NULL);
	}
	cf_result_free(&a);
	cf_result_free(&b);
	return ok;
}

void cf_run_device(const struct cf_backend *dut, const struct cf_backend *ref,
                   const struct cf_filter *f, struct cf_tally *t, FILE *out)
{
	const struct cf_case *cases;
	size_t n = cf_cases(&cases);

	for (size_t i = 0; i < n; i++) {
		struct cf_setup s;
		struct trit_node node;
		char label[256], err[512];
		if (!cf_selected(f, &cases[i]))
			continue;
		cf_case_label(&cases[i], label, sizeof label);
		if (cf_setup(&cases[i], f->seed * UINT64_C(0x100000001b3) + i, &s, err, sizeof err)) {
			emit(f, out, "FAIL", label, dut->name, &s, NULL, err);
			t->failed++;
		} else if (node_template(&s, &node), !cf_supports(dut, &node)) {
			t->skipped++;
			if (f->verbose)
				emit(f, out, "skip", label, dut->name, &s, NULL, "the device does not support it");
		} else if (!cf_supports(ref, &node)) {
			t->skipped++;
			if (f->verbose)
				emit(f, out, "skip", label, dut->name, &s, NULL, "the ref backend does not run it");
		} else if (run_case(dut, ref, f, &s, label, out)) {
			t->passed++;
		} else {
			t->failed++;
		}
		cf_setup_free(&s);
	}
}
