/*
 * check_ref_ops.c - the built-in `ref` backend's ABI v2 op set, held to
 * expectations this file computes itself: hand-worked cases, mathematical
 * properties, and plain double-precision loops over weights it encodes by
 * hand (or with the runtime's tested packer) and activations it quantises
 * by backend.h's rules. Nodes run through the plugin table (graph_compute).
 */
#include <build-config.h>

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <trit/quant.h>

#include "backend/ref.h"
#include "backend/ref_node.h"
#include "formats/ternary.h"
#include "support/support.h"

static const struct trit_backend *be;
static void *st;
static char err[512];

static void open_ref(void)
{
	struct trit_host host = test_minimal_host();
	be = trit_ref_backend();
	ck_assert_int_eq(be->init(&host, &st, err, sizeof err), 0);
}

static void close_ref(void)
{
	be->shutdown(st);
}

static uint32_t rng = 1;
static double rnd(void) /* uniform in [-1, 1) */
{
	rng = rng * 1664525u + 1013904223u;
	return (double)(rng >> 8) / (double)(1u << 23) - 1.0;
}

/* Host memory wrapped as a ref buffer (buffer_from_host_ptr). */
struct hb {
	unsigned char *p;
	struct trit_buffer *b;
};

static struct hb hbuf(size_t n)
{
	struct hb h;
	size_t sz = (n + 63) / 64 * 64;
	h.p = aligned_alloc(64, sz);
	ck_assert_ptr_nonnull(h.p);
	memset(h.p, 0, sz);
	ck_assert_int_eq(be->buffer_from_host_ptr(st, 0, h.p, n, &h.b, err, sizeof err), 0);
	return h;
}

static void hfree(struct hb *h)
{
	be->buffer_free(st, h->b);
	free(h->p);
}

/* A contiguous tensor of `type` in h at offset off. */
static struct trit_tensor ten(uint32_t type, struct hb *h, uint64_t off, uint64_t ne0,
                              uint64_t ne1, uint64_t ne2, uint64_t ne3)
{
	const struct trit_type_traits *tt = trit_type_traits(type);
	struct trit_tensor t = { .type = type, .ne = { ne0, ne1, ne2, ne3 }, .buffer = h->b,
	                         .offset = off };
	if (tt->block_elems) {
		t.nb[0] = tt->block_bytes;
		t.nb[1] = ne0 / tt->block_elems * tt->block_bytes;
		t.nb[2] = t.nb[1] * ne1;
		t.nb[3] = t.nb[2] * ne2;
	}
	return t;
}

static struct trit_node node(uint32_t op)
{
	struct trit_node n;
	memset(&n, 0, sizeof n);
	n.struct_size = sizeof n;
	n.op = op;
	n.name = "test.node";
	return n;
}

/* Runs one node through graph_workspace and graph_compute. */
static int run(const struct trit_node *n)
{
	struct trit_graph g = { .struct_size = sizeof g, .n_nodes = 1, .nodes = n };
	struct trit_buffer *ws = NULL;
	uint64_t bytes;
	int rc;

	ck_assert_int_eq(be->graph_workspace(st, 0, &g, &bytes, err, sizeof err), 0);
	if (bytes) {
		ck_assert_int_eq(be->buffer_alloc(st, 0, bytes, &ws, err, sizeof err), 0);
		g.workspace = ws;
		g.workspace_size = bytes;
	}
	rc = be->graph_compute(st, 0, &g, err, sizeof err);
	if (ws)
		be->buffer_free(st, ws);
	return rc;
}

static void ok(const struct trit_node *n)
{
	ck_assert_msg(be->supports_op(st, 0, n) == 1, "supports_op said no");
	ck_assert_msg(run(n) == 0, "%s", err);
}

static float *F(struct hb *h, uint64_t off)
{
	return (float *)(void *)(h->p + off);
}

static void near(double got, double want, double tol, int i)
{
	ck_assert_msg(fabs(got - want) <= tol, "element %d: got %.9g, want %.9g (tolerance %g)", i,
	              got, want, tol);
}

/* ------------------------------------------------------------- row ops */

START_TEST(rms_norm_of_a_known_vector_times_its_weight_on_strided_rows)
{
	/* two rows of 4, 32 bytes apart (a strided view); weight [4] */
	struct hb x = hbuf(64), w = hbuf(16), d = hbuf(32);
	const float xv[2][4] = { { 1, 2, 3, 4 }, { -2, 0, 0, 2 } }, wv[4] = { 1, 2, 0.5f, -1 };
	struct trit_node n = node(TRIT_OP_RMS_NORM);

	memcpy(F(&x, 0), xv[0], 16);
	memcpy(F(&x, 32), xv[1], 16);
	memcpy(F(&w, 0), wv, 16);
	n.src[0] = ten(TRIT_TYPE_F32, &x, 0, 4, 2, 1, 1);
	n.src[0].nb[0] = 4;
	n.src[0].nb[1] = 32;
	n.src[0].nb[2] = n.src[0].nb[3] = 64;
	n.src[1] = ten(TRIT_TYPE_F32, &w, 0, 4, 1, 1, 1);
	n.src[1].nb[0] = 4;
	n.dst = ten(TRIT_TYPE_F32, &d, 0, 4, 2, 1, 1);
	n.dst.nb[0] = 4, n.dst.nb[1] = 16, n.dst.nb[2] = n.dst.nb[3] = 32;
	n.fparams[0] = 1e-5f;
	ok(&n);
	/* mean squares: (1+4+9+16)/4 = 7.5 and (4+4)/4 = 2 */
	for (int k = 0; k < 4; k++) {
		near(F(&d, 0)[k], xv[0][k] / sqrt(7.5 + 1e-5) * wv[k], 1e-6, k);
		near(F(&d, 16)[k], xv[1][k] / sqrt(2.0 + 1e-5) * wv[k], 1e-6, 4 + k);
	}
	hfree(&x), hfree(&w), hfree(&d);
}
END_TEST

/* x [3, 2] plus (or times) y of shape yne, in place. */
static void binary_case(uint32_t op, uint64_t yne0, uint64_t yne1, const float *yv)
{
	struct hb x = hbuf(24), y = hbuf(24);
	const float xv[6] = { 1, 2, 3, 4, 5, 6 };
	struct trit_node n = node(op);

	memcpy(x.p, xv, sizeof xv);
	memcpy(y.p, yv, yne0 * yne1 * 4);
	n.src[0] = n.dst = ten(TRIT_TYPE_F32, &x, 0, 3, 2, 1, 1);
	n.src[0].nb[0] = n.dst.nb[0] = 4;
	n.src[0].nb[1] = n.dst.nb[1] = 12;
	n.src[0].nb[2] = n.src[0].nb[3] = n.dst.nb[2] = n.dst.nb[3] = 24;
	n.src[1] = ten(TRIT_TYPE_F32, &y, 0, yne0, yne1, 1, 1);
	n.src[1].nb[0] = 4;
	n.src[1].nb[1] = n.src[1].nb[2] = n.src[1].nb[3] = 4 * yne0 * yne1;
	n.src[1].nb[1] = 4 * yne0;
	ok(&n);
	for (int i = 0; i < 6; i++) {
		double b = yv[(uint64_t)(i % 3) % yne0 + (uint64_t)(i / 3) % yne1 * yne0];
		near(F(&x, 0)[i], op == TRIT_OP_ADD ? xv[i] + b : xv[i] * b, 0, i);
	}
	hfree(&x), hfree(&y);
}

START_TEST(add_and_mul_broadcast_a_scalar_a_row_and_a_column_in_place)
{
	const float scalar[1] = { 10 }, row[3] = { 1, -1, 0.5f }, col[2] = { 2, -3 };
	binary_case(TRIT_OP_ADD, 1, 1, scalar);
	binary_case(TRIT_OP_MUL, 1, 1, scalar);
	binary_case(TRIT_OP_ADD, 3, 1, row);
	binary_case(TRIT_OP_MUL, 3, 1, row);
	binary_case(TRIT_OP_MUL, 1, 2, col);
}
END_TEST

START_TEST(scale_and_activations_follow_their_formulas)
{
	const uint32_t ops[4] = { TRIT_OP_SCALE, TRIT_OP_RELU2, TRIT_OP_SILU, TRIT_OP_GELU };
	struct hb x = hbuf(32), d = hbuf(32);
	const float xv[8] = { -3, -1, -0.5f, 0, 0.25f, 1, 2, 5 };

	memcpy(x.p, xv, sizeof xv);
	for (int o = 0; o < 4; o++) {
		struct trit_node n = node(ops[o]);
		n.src[0] = ten(TRIT_TYPE_F32, &x, 0, 8, 1, 1, 1);
		n.dst = ten(TRIT_TYPE_F32, &d, 0, 8, 1, 1, 1);
		n.src[0].nb[0] = n.dst.nb[0] = 4;
		n.src[0].nb[1] = n.src[0].nb[2] = n.src[0].nb[3] = 32;
		n.dst.nb[1] = n.dst.nb[2] = n.dst.nb[3] = 32;
		n.fparams[0] = 1.5f;
		ok(&n);
		for (int i = 0; i < 8; i++) {
			double v = xv[i], want;
			if (ops[o] == TRIT_OP_SCALE)
				want = v * 1.5;
			else if (ops[o] == TRIT_OP_RELU2)
				want = v > 0 ? v * v : 0;
			else if (ops[o] == TRIT_OP_SILU)
				want = v / (1 + exp(-v));
			else
				want = 0.5 * v * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
			near(F(&d, 0)[i], want, 1e-6 * (1 + fabs(want)), i);
		}
	}
	hfree(&x), hfree(&d);
}
END_TEST

START_TEST(glu_multiplies_the_activated_gate_by_up)
{
	struct hb x = hbuf(16), y = hbuf(16);
	const float xv[4] = { -1, 0.5f, 2, 3 }, yv[4] = { 2, -2, 0.5f, 1 };
	struct trit_node n = node(TRIT_OP_GLU);

	memcpy(x.p, xv, 16);
	memcpy(y.p, yv, 16);
	n.src[0] = n.dst = ten(TRIT_TYPE_F32, &x, 0, 4, 1, 1, 1);
	n.src[1] = ten(TRIT_TYPE_F32, &y, 0, 4, 1, 1, 1);
	n.src[0].nb[0] = n.dst.nb[0] = n.src[1].nb[0] = 4;
	n.src[0].nb[1] = n.dst.nb[1] = n.src[1].nb[1] = 16;
	n.iparams[0] = TRIT_OP_RELU2;
	ok(&n);
	for (int i = 0; i < 4; i++)
		near(F(&x, 0)[i], (xv[i] > 0 ? xv[i] * xv[i] : 0) * yv[i], 0, i);
	n.iparams[0] = TRIT_OP_ADD; /* not an activation */
	ck_assert_int_eq(be->supports_op(st, 0, &n), 0);
	hfree(&x), hfree(&y);
}
END_TEST

/* ---------------------------------------------------------------- rope */

/* x [hd, 1, 1] = e0 + 2 e(hd-1) rotated at position p. */
static void rope_case(int mode, int32_t p, uint64_t hd, int n_rot, float *out)
{
	struct hb x = hbuf(4 * hd), pos = hbuf(4), d = hbuf(4 * hd);
	struct trit_node n = node(TRIT_OP_ROPE);

	F(&x, 0)[0] = 1.0f;
	F(&x, 0)[hd - 1] = 2.0f;
	memcpy(pos.p, &p, 4);
	n.src[0] = ten(TRIT_TYPE_F32, &x, 0, hd, 1, 1, 1);
	n.dst = ten(TRIT_TYPE_F32, &d, 0, hd, 1, 1, 1);
	n.src[1] = ten(TRIT_TYPE_I32, &pos, 0, 1, 1, 1, 1);
	n.src[0].nb[0] = n.dst.nb[0] = n.src[1].nb[0] = 4;
	n.src[0].nb[1] = n.dst.nb[1] = 4 * hd;
	n.src[1].nb[1] = 4;
	n.iparams[0] = mode;
	n.iparams[1] = n_rot;
	n.fparams[0] = 10000.0f;
	n.fparams[1] = 1.0f;
	ok(&n);
	memcpy(out, d.p, 4 * hd);
	hfree(&x), hfree(&pos), hfree(&d);
}

START_TEST(rope_at_position_zero_is_identity)
{
	float y[6];
	rope_case(TRIT_ROPE_NORMAL, 0, 6, 6, y);
	for (int i = 0; i < 6; i++)
		near(y[i], i == 0 ? 1 : i == 5 ? 2 : 0, 0, i);
	rope_case(TRIT_ROPE_NEOX, 0, 6, 6, y);
	for (int i = 0; i < 6; i++)
		near(y[i], i == 0 ? 1 : i == 5 ? 2 : 0, 0, i);
}
END_TEST

START_TEST(rope_normal_and_neox_turn_different_pairs_by_the_known_angle)
{
	float y[6];
	/* n_rot 4 of 6: element 5 (past n_rot) is copied; pair 0 turns by 3 rad */
	rope_case(TRIT_ROPE_NORMAL, 3, 6, 4, y);
	near(y[0], cos(3.0), 1e-6, 0);
	near(y[1], sin(3.0), 1e-6, 1); /* NORMAL pairs (0, 1) */
	near(y[2], 0, 0, 2);
	near(y[5], 2, 0, 5);
	rope_case(TRIT_ROPE_NEOX, 3, 6, 4, y);
	near(y[0], cos(3.0), 1e-6, 0);
	near(y[1], 0, 0, 1);
	near(y[2], sin(3.0), 1e-6, 2); /* NEOX pairs (0, n_rot / 2) */
	near(y[5], 2, 0, 5);
	/* pair 1 turns by 3 * 10000^(-2/4) = 0.03 rad: a vector on element 1 */
	rope_case(TRIT_ROPE_NORMAL, 3, 4, 4, y); /* e0 + 2 e3: e3 is pair 1's second */
	near(y[2], -2 * sin(0.03), 1e-6, 2);
	near(y[3], 2 * cos(0.03), 1e-6, 3);
}
END_TEST

/* ----------------------------------------------------------- attention */

/* Caches [D, Hkv, n_ctx] of F32 and a query [D, Hq, T]; returns dst. */
struct attn {
	struct hb q, k, v, pos, d;
	struct trit_node n;
};

static void attn_open(struct attn *a, uint64_t D, uint64_t Hq, uint64_t Hkv, uint64_t n_ctx,
                      uint64_t T, uint32_t kv_type)
{
	uint64_t esz = trit_type_traits(kv_type)->block_bytes;
	a->q = hbuf(4 * D * Hq * T);
	a->d = hbuf(4 * D * Hq * T);
	a->k = hbuf(esz * D * Hkv * n_ctx);
	a->v = hbuf(esz * D * Hkv * n_ctx);
	a->pos = hbuf(4 * T);
	a->n = node(TRIT_OP_ATTENTION);
	a->n.src[0] = ten(TRIT_TYPE_F32, &a->q, 0, D, Hq, T, 1);
	a->n.dst = ten(TRIT_TYPE_F32, &a->d, 0, D, Hq, T, 1);
	a->n.src[1] = ten(kv_type, &a->k, 0, D, Hkv, n_ctx, 1);
	a->n.src[2] = ten(kv_type, &a->v, 0, D, Hkv, n_ctx, 1);
	a->n.src[3] = ten(TRIT_TYPE_I32, &a->pos, 0, T, 1, 1, 1);
	a->n.iparams[0] = (int32_t)n_ctx;
	a->n.fparams[0] = 0.5f;
}

static void attn_close(struct attn *a)
{
	hfree(&a->q), hfree(&a->k), hfree(&a->v), hfree(&a->pos), hfree(&a->d);
}

START_TEST(attention_with_one_visible_position_returns_its_value)
{
	struct attn a;
	int32_t p = 0;
	attn_open(&a, 4, 1, 1, 3, 1, TRIT_TYPE_F32);
	for (int i = 0; i < 12; i++) {
		F(&a.k, 0)[i] = (float)rnd();
		F(&a.v, 0)[i] = (float)(10 * rnd());
	}
	for (int i = 0; i < 4; i++)
		F(&a.q, 0)[i] = (float)rnd();
	memcpy(a.pos.p, &p, 4);
	ok(&a.n);
	for (int i = 0; i < 4; i++)
		near(F(&a.d, 0)[i], F(&a.v, 0)[i], 0, i);
	attn_close(&a);
}
END_TEST

/* Softmax over positions 0..n-1 of one head, in double. */
static void attn_expect(const float *q, const float *k, const float *v, uint64_t D, uint64_t n,
                        double scale, double *out)
{
	double s[8], max = -INFINITY, sum = 0;
	for (uint64_t j = 0; j < n; j++) {
		s[j] = 0;
		for (uint64_t i = 0; i < D; i++)
			s[j] += (double)q[i] * k[j * D + i];
		s[j] *= scale;
		max = s[j] > max ? s[j] : max;
	}
	for (uint64_t j = 0; j < n; j++)
		sum += (s[j] = exp(s[j] - max));
	for (uint64_t i = 0; i < D; i++) {
		out[i] = 0;
		for (uint64_t j = 0; j < n; j++)
			out[i] += s[j] / sum * v[j * D + i];
	}
}

START_TEST(attention_is_causal_a_later_value_does_not_leak)
{
	struct attn a;
	int32_t p[2] = { 0, 1 };
	double want[4];
	attn_open(&a, 4, 1, 1, 2, 2, TRIT_TYPE_F32);
	for (int i = 0; i < 8; i++) {
		F(&a.k, 0)[i] = (float)rnd();
		F(&a.v, 0)[i] = (float)rnd();
		F(&a.q, 0)[i] = (float)rnd();
	}
	F(&a.v, 0)[4] = 1e6f; /* position 1's value: query 0 must not see it */
	memcpy(a.pos.p, p, 8);
	ok(&a.n);
	for (int i = 0; i < 4; i++)
		near(F(&a.d, 0)[i], F(&a.v, 0)[i], 0, i);
	attn_expect(F(&a.q, 16), F(&a.k, 0), F(&a.v, 0), 4, 2, 0.5, want);
	for (int i = 0; i < 4; i++)
		near(F(&a.d, 16)[i], want[i], 1e-6 * (1 + fabs(want[i])), 4 + i);
	/* n_kv = 1 hides position 1 from query 1 too */
	a.n.iparams[0] = 1;
	ok(&a.n);
	for (int i = 0; i < 4; i++)
		near(F(&a.d, 16)[i], F(&a.v, 0)[i], 0, 4 + i);
	attn_close(&a);
}
END_TEST

START_TEST(attention_maps_query_heads_to_their_kv_group)
{
	struct attn a;
	int32_t p = 0;
	attn_open(&a, 2, 4, 2, 1, 1, TRIT_TYPE_F32);
	for (int i = 0; i < 4; i++)
		F(&a.v, 0)[i] = (float)(i + 1); /* head 0: (1, 2), head 1: (3, 4) */
	for (int i = 0; i < 8; i++)
		F(&a.q, 0)[i] = (float)rnd();
	memcpy(a.pos.p, &p, 4);
	ok(&a.n);
	for (int h = 0; h < 4; h++)
		for (int i = 0; i < 2; i++)
			near(F(&a.d, 0)[h * 2 + i], F(&a.v, 0)[(h / 2) * 2 + i], 0, h * 2 + i);
	attn_close(&a);
}
END_TEST

/* KV_WRITE of values exact in F16 at scrambled positions, then ATTENTION. */
START_TEST(f16_kv_write_then_attention_matches_a_double_softmax)
{
	struct attn a;
	struct hb x = hbuf(4 * 4 * 3), pos = hbuf(12);
	const int32_t where[3] = { 2, 0, 1 }, qpos = 2;
	float kf[3 * 4], vf[3 * 4], xs[2][12];
	double want[4];
	attn_open(&a, 4, 1, 1, 3, 1, TRIT_TYPE_F16);
	for (int t = 0; t < 3; t++)
		for (int i = 0; i < 4; i++) {
			xs[0][t * 4 + i] = (float)(((t * 7 + i * 3) % 9) - 4) / 4.0f; /* quarters */
			xs[1][t * 4 + i] = (float)(((t * 5 + i) % 7) - 3) / 2.0f;
			kf[where[t] * 4 + i] = xs[0][t * 4 + i];
			vf[where[t] * 4 + i] = xs[1][t * 4 + i];
		}
	memcpy(pos.p, where, 12);
	for (int kv = 0; kv < 2; kv++) {
		struct trit_node w = node(TRIT_OP_KV_WRITE);
		memcpy(x.p, xs[kv], 48);
		w.dst = kv ? a.n.src[2] : a.n.src[1];
		w.src[0] = ten(TRIT_TYPE_F32, &x, 0, 4, 1, 3, 1);
		w.src[1] = ten(TRIT_TYPE_I32, &pos, 0, 3, 1, 1, 1);
		ok(&w);
	}
	for (int i = 0; i < 4; i++)
		F(&a.q, 0)[i] = (float)(i - 1);
	memcpy(a.pos.p, &qpos, 4);
	ok(&a.n);
	attn_expect(F(&a.q, 0), kf, vf, 4, 3, 0.5, want);
	for (int i = 0; i < 4; i++)
		near(F(&a.d, 0)[i], want[i], 1e-6 * (1 + fabs(want[i])), i);
	hfree(&x), hfree(&pos);
	attn_close(&a);
}
END_TEST

START_TEST(out_of_range_ids_positions_and_n_kv_are_refused)
{
	struct attn a;
	struct hb tab = hbuf(32), ids = hbuf(8), d = hbuf(32), x = hbuf(16);
	int32_t bad[2] = { 1, 4 }, neg = -1;
	struct trit_node n = node(TRIT_OP_GET_ROWS);

	n.src[0] = ten(TRIT_TYPE_F32, &tab, 0, 2, 4, 1, 1);
	n.src[1] = ten(TRIT_TYPE_I32, &ids, 0, 2, 1, 1, 1);
	n.dst = ten(TRIT_TYPE_F32, &d, 0, 2, 2, 1, 1);
	memcpy(ids.p, bad, 8);
	ck_assert_int_eq(run(&n), TRIT_ERANGE);
	ck_assert_msg(strstr(err, "node 0 (test.node)") && strstr(err, "4"), "%s", err);
	memcpy(ids.p, &neg, 4);
	ck_assert_int_eq(run(&n), TRIT_ERANGE);

	n = node(TRIT_OP_KV_WRITE); /* cache of 2 positions, write at 4 */
	n.dst = ten(TRIT_TYPE_F32, &tab, 0, 2, 2, 2, 1);
	n.src[0] = ten(TRIT_TYPE_F32, &x, 0, 2, 2, 1, 1);
	n.src[1] = ten(TRIT_TYPE_I32, &ids, 4, 1, 1, 1, 1);
	ck_assert_int_eq(run(&n), TRIT_ERANGE);
	ck_assert_msg(strstr(err, "position"), "%s", err);

	attn_open(&a, 2, 1, 1, 2, 1, TRIT_TYPE_F32);
	a.n.iparams[0] = 3; /* n_kv past n_ctx */
	ck_assert_int_eq(run(&a.n), TRIT_ERANGE);
	ck_assert_msg(strstr(err, "n_kv"), "%s", err);
	a.n.iparams[0] = 2;
	memcpy(a.pos.p, &neg, 4); /* a query that sees nothing */
	ck_assert_int_eq(run(&a.n), TRIT_ERANGE);
	attn_close(&a);
	hfree(&tab), hfree(&ids), hfree(&d), hfree(&x);
}
END_TEST

/* ------------------------------------------------------- cpy, get_rows */

START_TEST(q8_0_cpy_round_trip_stays_within_half_a_step)
{
	struct hb x = hbuf(4 * 64), q = hbuf(2 * 34 * 2), y = hbuf(4 * 64);
	struct trit_node n = node(TRIT_OP_CPY);

	for (int i = 0; i < 64; i++)
		F(&x, 0)[i] = (float)(rnd() * (i < 32 ? 1.0 : 100.0));
	n.src[0] = ten(TRIT_TYPE_F32, &x, 0, 64, 1, 1, 1);
	n.src[0].nb[0] = 4;
	n.src[0].nb[1] = n.src[0].nb[2] = n.src[0].nb[3] = 256;
	n.dst = ten(TRIT_TYPE_Q8_0, &q, 0, 32, 2, 1, 1); /* another shape, both contiguous */
	ok(&n);
	n.src[0] = n.dst;
	n.dst = ten(TRIT_TYPE_F32, &y, 0, 32, 2, 1, 1);
	n.dst.nb[0] = 4, n.dst.nb[1] = 128, n.dst.nb[2] = n.dst.nb[3] = 256;
	ok(&n);
	for (int b = 0; b < 2; b++) {
		double amax = 0;
		for (int i = 0; i < 32; i++)
			amax = fmax(amax, fabs(F(&x, 0)[b * 32 + i]));
		/* half a step of amax / 127, plus the F16 rounding of that step */
		for (int i = 0; i < 32; i++)
			near(F(&y, 0)[b * 32 + i], F(&x, 0)[b * 32 + i], amax / 127 * (0.5 + 127.0 / 2048 + 1e-3), b * 32 + i);
	}
	hfree(&x), hfree(&q), hfree(&y);
}
END_TEST

START_TEST(cpy_to_f16_and_bf16_rounds_to_nearest)
{
	struct hb x = hbuf(8), h = hbuf(4);
	const float xv[2] = { 1.0f + 1.0f / 4096, -3.0f }; /* 1 + 2^-12 rounds to 1 in both */
	struct trit_node n = node(TRIT_OP_CPY);

	memcpy(x.p, xv, 8);
	n.src[0] = ten(TRIT_TYPE_F32, &x, 0, 2, 1, 1, 1);
	n.src[0].nb[0] = 4, n.src[0].nb[1] = n.src[0].nb[2] = n.src[0].nb[3] = 8;
	n.dst = ten(TRIT_TYPE_F16, &h, 0, 2, 1, 1, 1);
	n.dst.nb[0] = 2, n.dst.nb[1] = n.dst.nb[2] = n.dst.nb[3] = 4;
	ok(&n);
	ck_assert_uint_eq(trit_rd16(h.p), 0x3c00);     /* 1.0 */
	ck_assert_uint_eq(trit_rd16(h.p + 2), 0xc200); /* -3.0 */
	n.dst.type = TRIT_TYPE_BF16;
	ok(&n);
	ck_assert_uint_eq(trit_rd16(h.p), 0x3f80);
	ck_assert_uint_eq(trit_rd16(h.p + 2), 0xc040);
	hfree(&x), hfree(&h);
}
END_TEST

/* TQ2_0 / I2_S / TQ1_0 encoders written from the layouts in the headers. */
static void tq2_encode(const int8_t *t, uint16_t dh, unsigned char *b)
{
	memset(b, 0, 66);
	for (int e = 0; e < 256; e++)
		b[(e / 128) * 32 + e % 32] |= (unsigned char)((t[e] + 1) << (2 * ((e % 128) / 32)));
	b[64] = (unsigned char)(dh & 0xff), b[65] = (unsigned char)(dh >> 8);
}

static unsigned char tq1_byte(const int8_t *t, int first, int stride, int n)
{
	int v = 0;
	for (int i = 0; i < 5; i++)
		v = v * 3 + (i < n ? t[first + stride * i] + 1 : 0);
	return (unsigned char)((v * 256 + 242) / 243);
}

static void tq1_encode(const int8_t *t, uint16_t dh, unsigned char *b)
{
	for (int m = 0; m < 32; m++)
		b[m] = tq1_byte(t, m, 32, 5);
	for (int m = 0; m < 16; m++)
		b[32 + m] = tq1_byte(t, 160 + m, 16, 5);
	for (int j = 0; j < 4; j++)
		b[48 + j] = tq1_byte(t, 240 + j, 4, 4);
	b[52] = (unsigned char)(dh & 0xff), b[53] = (unsigned char)(dh >> 8);
}

static void i2s_encode(const int8_t *t, uint64_t M, uint64_t K, float scale, unsigned char *b)
{
	memset(b, 0, M * K / 4 + 32);
	for (uint64_t r = 0; r < M; r++)
		for (uint64_t k = 0; k < K; k++)
			b[r * K / 4 + k / 128 * 32 + k % 32] |=
			        (unsigned char)((t[r * K + k] + 1) << (6 - 2 * (k % 128 / 32)));
	memcpy(b + M * K / 4, &scale, 4);
}

static int8_t trit_of(uint64_t r, uint64_t k)
{
	return (int8_t)((r * 31 + k * 7 + k / 5) % 3) - 1;
}

/* GET_ROWS of rows 2, 0, 2 of a 3-row table; want(r, k) is the value. */
static void get_rows_case(struct trit_tensor tab, double (*want)(uint64_t, uint64_t))
{
	uint64_t K = tab.ne[0];
	struct hb ids = hbuf(12), d = hbuf(4 * K * 3);
	const int32_t iv[3] = { 2, 0, 2 };
	struct trit_node n = node(TRIT_OP_GET_ROWS);

	memcpy(ids.p, iv, 12);
	n.src[0] = tab;
	n.src[1] = ten(TRIT_TYPE_I32, &ids, 0, 3, 1, 1, 1);
	n.dst = ten(TRIT_TYPE_F32, &d, 0, K, 3, 1, 1);
	ok(&n);
	for (int t = 0; t < 3; t++)
		for (uint64_t k = 0; k < K; k++)
			near(F(&d, 0)[t * K + k], want((uint64_t)iv[t], k), 0, (int)(t * K + k));
	hfree(&ids), hfree(&d);
}

static double f16_row_value(uint64_t r, uint64_t k) { return (double)r - (double)k / 8; }
static double q8_row_value(uint64_t r, uint64_t k) { return 0.5 * ((int)(k % 32) - 16 + (int)r); }
static double tq_row_value(uint64_t r, uint64_t k) { return 2.0 * trit_of(r, k); }
static double i2s_row_value(uint64_t r, uint64_t k) { return 0.25 * trit_of(r, k); }

START_TEST(get_rows_decodes_f16_q8_0_tq1_0_tq2_0_and_i2_s_rows)
{
	struct hb f16 = hbuf(3 * 8 * 2), q8 = hbuf(3 * 34), tq2 = hbuf(3 * 66), tq1 = hbuf(3 * 54),
	          i2s = hbuf(3 * 32 + 32);
	int8_t t[3 * 256];

	for (int r = 0; r < 3; r++) {
		for (int k = 0; k < 8; k++) /* eighths are exact in F16 */
			memcpy(f16.p + (r * 8 + k) * 2, (uint16_t[]){ trit_f32_to_f16((float)f16_row_value(r, k)) }, 2);
		q8.p[r * 34 + 1] = 0x38; /* d = 0.5 (F16 0x3800) */
		for (int i = 0; i < 32; i++)
			q8.p[r * 34 + 2 + i] = (unsigned char)(int8_t)(i - 16 + r);
		for (int k = 0; k < 256; k++)
			t[r * 256 + k] = trit_of(r, k);
		tq2_encode(t + r * 256, 0x4000, tq2.p + r * 66); /* d = 2 */
		tq1_encode(t + r * 256, 0x4000, tq1.p + r * 54);
	}
	for (int r = 0; r < 3; r++)
		for (int k = 0; k < 128; k++)
			t[r * 128 + k] = trit_of(r, k);
	i2s_encode(t, 3, 128, 0.25f, i2s.p);
	get_rows_case(ten(TRIT_TYPE_F16, &f16, 0, 8, 3, 1, 1), f16_row_value);
	get_rows_case(ten(TRIT_TYPE_Q8_0, &q8, 0, 32, 3, 1, 1), q8_row_value);
	get_rows_case(ten(TRIT_TYPE_TQ2_0, &tq2, 0, 256, 3, 1, 1), tq_row_value);
	get_rows_case(ten(TRIT_TYPE_TQ1_0, &tq1, 0, 256, 3, 1, 1), tq_row_value);
	get_rows_case(ten(TRIT_TYPE_I2_S, &i2s, 0, 128, 3, 1, 1), i2s_row_value);
	hfree(&f16), hfree(&q8), hfree(&tq2), hfree(&tq1), hfree(&i2s);
}
END_TEST

START_TEST(quantize_act_follows_the_absmax_rule)
{
	struct hb x = hbuf(16), q = hbuf(4), s = hbuf(4);
	const float xv[4] = { 0.5f, -2.0f, 1.0f, 0.01f };
	struct trit_node n = node(TRIT_OP_QUANTIZE_ACT);

	memcpy(x.p, xv, 16);
	n.src[0] = ten(TRIT_TYPE_F32, &x, 0, 4, 1, 1, 1);
	n.src[0].nb[0] = 4, n.src[0].nb[1] = n.src[0].nb[2] = n.src[0].nb[3] = 16;
	n.dst = ten(TRIT_TYPE_I8, &q, 0, 4, 1, 1, 1);
	n.dst.nb[0] = 1, n.dst.nb[1] = n.dst.nb[2] = n.dst.nb[3] = 4;
	n.src[1] = ten(TRIT_TYPE_F32, &s, 0, 1, 1, 1, 1);
	n.src[1].nb[0] = 4, n.src[1].nb[1] = n.src[1].nb[2] = n.src[1].nb[3] = 4;
	ok(&n);
	near(F(&s, 0)[0], 63.5, 0, 0); /* 127 / 2 */
	/* 31.75 -> 32, -127, 63.5 -> 64 (half to even), 0.635 -> 1 */
	ck_assert_int_eq((int8_t)q.p[0], 32);
	ck_assert_int_eq((int8_t)q.p[1], -127);
	ck_assert_int_eq((int8_t)q.p[2], 64);
	ck_assert_int_eq((int8_t)q.p[3], 1);
	hfree(&x), hfree(&q), hfree(&s);
}
END_TEST

/* -------------------------------------------------------------- matmul */

#define MM_M 3
#define MM_T 2

/* Runs MATMUL of weights w (a tensor of K x MM_M) by x [K, MM_T] and checks
 * each output against want[t * MM_M + r] within tol * (1 + |want|). */
static void matmul_case(struct trit_tensor w, const float *x, const double *want, double tol)
{
	uint64_t K = w.ne[0];
	struct hb xb = hbuf(4 * K * MM_T), d = hbuf(4 * MM_M * MM_T);
	struct trit_node n = node(TRIT_OP_MATMUL);

	memcpy(xb.p, x, 4 * K * MM_T);
	n.src[0] = w;
	n.src[1] = ten(TRIT_TYPE_F32, &xb, 0, K, MM_T, 1, 1);
	n.src[1].nb[0] = 4, n.src[1].nb[1] = 4 * K, n.src[1].nb[2] = n.src[1].nb[3] = 4 * K * MM_T;
	n.dst = ten(TRIT_TYPE_F32, &d, 0, MM_M, MM_T, 1, 1);
	n.dst.nb[0] = 4, n.dst.nb[1] = 4 * MM_M, n.dst.nb[2] = n.dst.nb[3] = 4 * MM_M * MM_T;
	ok(&n);
	for (int i = 0; i < MM_M * MM_T; i++)
		near(F(&d, 0)[i], want[i], tol * (1 + fabs(want[i])), i);
	hfree(&xb), hfree(&d);
}

static void random_x(float *x, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		x[i] = (float)(3 * rnd());
}

START_TEST(matmul_of_f32_f16_and_bf16_weights_is_the_widened_dot)
{
	enum { K = 40 };
	struct hb w32 = hbuf(4 * K * MM_M), w16 = hbuf(2 * K * MM_M), wbf = hbuf(2 * K * MM_M);
	float x[K * MM_T];
	double want[MM_M * MM_T];

	random_x(x, K * MM_T);
	for (int i = 0; i < K * MM_M; i++) {
		float v = (float)((i * 37 % 19) - 9) / 8; /* exact in all three types */
		F(&w32, 0)[i] = v;
		memcpy(w16.p + 2 * i, (uint16_t[]){ trit_f32_to_f16(v) }, 2);
		memcpy(wbf.p + 2 * i, (uint16_t[]){ trit_f32_to_bf16(v) }, 2);
	}
	for (int t = 0; t < MM_T; t++)
		for (int r = 0; r < MM_M; r++) {
			want[t * MM_M + r] = 0;
			for (int k = 0; k < K; k++)
				want[t * MM_M + r] += (double)F(&w32, 0)[r * K + k] * x[t * K + k];
		}
	matmul_case(ten(TRIT_TYPE_F32, &w32, 0, K, MM_M, 1, 1), x, want, 1e-6);
	matmul_case(ten(TRIT_TYPE_F16, &w16, 0, K, MM_M, 1, 1), x, want, 1e-6);
	matmul_case(ten(TRIT_TYPE_BF16, &wbf, 0, K, MM_M, 1, 1), x, want, 1e-6);
	hfree(&w32), hfree(&w16), hfree(&wbf);
}
END_TEST

START_TEST(matmul_of_q8_0_weights_quantises_x_per_32_block)
{
	enum { K = 64 };
	struct hb w = hbuf(34 * 2 * MM_M);
	float x[K * MM_T];
	double want[MM_M * MM_T] = { 0 };

	random_x(x, K * MM_T);
	for (int r = 0; r < MM_M; r++)
		for (int b = 0; b < 2; b++) {
			unsigned char *blk = w.p + (r * 2 + b) * 34;
			memcpy(blk, (uint16_t[]){ trit_f32_to_f16(0.01f * (float)(r + b + 1)) }, 2);
			for (int i = 0; i < 32; i++)
				blk[2 + i] = (unsigned char)(int8_t)((r * 53 + b * 11 + i * 29) % 255 - 127);
		}
	for (int t = 0; t < MM_T; t++)
		for (int b = 0; b < 2; b++) {
			const float *xb = x + t * K + b * 32;
			double amax = 0, dx;
			int q[32];
			for (int i = 0; i < 32; i++)
				amax = fmax(amax, fabs(xb[i]));
			dx = (float)amax / 127.0f;
			for (int i = 0; i < 32; i++)
				q[i] = (int)roundf(xb[i] * (1.0f / (float)dx));
			dx = trit_f16_to_f32(trit_f32_to_f16((float)dx)); /* stored as F16 */
			for (int r = 0; r < MM_M; r++) {
				const unsigned char *blk = w.p + (r * 2 + b) * 34;
				long isum = 0;
				for (int i = 0; i < 32; i++)
					isum += (int8_t)blk[2 + i] * q[i];
				want[t * MM_M + r] += trit_f16_to_f32(trit_rd16(blk)) * dx * (double)isum;
			}
		}
	matmul_case(ten(TRIT_TYPE_Q8_0, &w, 0, K, MM_M, 1, 1), x, want, 1e-6);
	hfree(&w);
}
END_TEST

/* Expected TQ matmul: x quantised per 256-block like Q8_K. */
static void tq_expect(const float *x, uint64_t K, double dw, double *want)
{
	for (int t = 0; t < MM_T; t++)
		for (uint64_t b = 0; b < K / 256; b++) {
			const float *xb = x + t * K + b * 256;
			float max = 0, iscale;
			int q[256];
			for (int i = 0; i < 256; i++)
				if (fabsf(xb[i]) > fabsf(max))
					max = xb[i];
			iscale = -127.0f / max;
			for (int i = 0; i < 256; i++)
				q[i] = (int)fminf(127.0f, rintf(iscale * xb[i]));
			for (int r = 0; r < MM_M; r++) {
				long isum = 0;
				for (int i = 0; i < 256; i++)
					isum += trit_of((uint64_t)r, b * 256 + (uint64_t)i) * q[i];
				want[t * MM_M + r] += dw * (1.0f / iscale) * (double)isum;
			}
		}
}

START_TEST(matmul_of_tq1_0_and_tq2_0_weights_quantises_x_like_q8_k)
{
	enum { K = 512 };
	struct hb w1 = hbuf(54 * 2 * MM_M), w2 = hbuf(66 * 2 * MM_M);
	float x[K * MM_T];
	double want[MM_M * MM_T] = { 0 };
	int8_t t[256];

	random_x(x, K * MM_T);
	for (int r = 0; r < MM_M; r++)
		for (int b = 0; b < 2; b++) {
			for (int e = 0; e < 256; e++)
				t[e] = trit_of((uint64_t)r, (uint64_t)(b * 256 + e));
			tq1_encode(t, 0x3400, w1.p + (r * 2 + b) * 54); /* d = 0.25 */
			tq2_encode(t, 0x3400, w2.p + (r * 2 + b) * 66);
		}
	tq_expect(x, K, 0.25, want);
	matmul_case(ten(TRIT_TYPE_TQ1_0, &w1, 0, K, MM_M, 1, 1), x, want, 1e-6);
	matmul_case(ten(TRIT_TYPE_TQ2_0, &w2, 0, K, MM_M, 1, 1), x, want, 1e-6);
	hfree(&w1), hfree(&w2);
}
END_TEST

/* Expected ternary matmul: per-token absmax int8, y = dot / s * scale. */
static void ternary_expect(const float *x, uint64_t K, double scale, double *want)
{
	for (int t = 0; t < MM_T; t++) {
		float amax = 0, s;
		for (uint64_t k = 0; k < K; k++)
			amax = fmaxf(amax, fabsf(x[t * K + k]));
		s = 127.0f / fmaxf(amax, 1e-5f);
		for (int r = 0; r < MM_M; r++) {
			long dot = 0;
			for (uint64_t k = 0; k < K; k++)
				dot += trit_of((uint64_t)r, k) * (long)fmaxf(-128, fminf(127, rintf(x[t * K + k] * s)));
			want[t * MM_M + r] = (double)dot / s * scale;
		}
	}
}

START_TEST(matmul_of_i2_s_tl1_and_tl2_weights_quantises_x_per_token)
{
	enum { K = 256 };
	const uint32_t types[3] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
	float x[K * MM_T], wf[MM_M * K];
	double want[MM_M * MM_T];

	random_x(x, K * MM_T);
	for (int r = 0; r < MM_M; r++)
		for (int k = 0; k < K; k++)
			wf[r * K + k] = 0.75f * trit_of((uint64_t)r, (uint64_t)k);
	ternary_expect(x, K, 0.75, want);
	for (int f = 0; f < 3; f++) {
		uint64_t bytes = trit_ternary_bytes(types[f], MM_M, K);
		struct hb w = hbuf(bytes);
		struct trit_tensor wt = ten(types[f], &w, 0, K, MM_M, 1, 1);
		ck_assert_int_eq(trit_ternary_pack(types[f], w.p, bytes, TRIT_TYPE_F32, wf, sizeof wf,
		                                   MM_M, K, err, sizeof err), 0);
		if (types[f] != TRIT_TYPE_I2_S)
			memset(wt.nb, 0, sizeof wt.nb);
		matmul_case(wt, x, want, 1e-6);
		hfree(&w);
	}
}
END_TEST

START_TEST(matmul_of_i8_activations_uses_the_given_scales)
{
	enum { K = 128 };
	struct hb w = hbuf(MM_M * K / 4 + 32), q = hbuf(K * MM_T), s = hbuf(4 * MM_T),
	          d = hbuf(4 * MM_M * MM_T);
	int8_t t[MM_M * K];
	const float sv[MM_T] = { 10.0f, 0.5f };
	struct trit_node n = node(TRIT_OP_MATMUL);

	for (int r = 0; r < MM_M; r++)
		for (int k = 0; k < K; k++)
			t[r * K + k] = trit_of((uint64_t)r, (uint64_t)k);
	i2s_encode(t, MM_M, K, 3.0f, w.p);
	for (int i = 0; i < K * MM_T; i++)
		q.p[i] = (unsigned char)(int8_t)((i * 71) % 256 - 128);
	memcpy(s.p, sv, sizeof sv);
	n.src[0] = ten(TRIT_TYPE_I2_S, &w, 0, K, MM_M, 1, 1);
	n.src[1] = ten(TRIT_TYPE_I8, &q, 0, K, MM_T, 1, 1);
	n.src[2] = ten(TRIT_TYPE_F32, &s, 0, MM_T, 1, 1, 1);
	n.dst = ten(TRIT_TYPE_F32, &d, 0, MM_M, MM_T, 1, 1);
	ok(&n);
	for (int tk = 0; tk < MM_T; tk++)
		for (int r = 0; r < MM_M; r++) {
			long dot = 0;
			for (int k = 0; k < K; k++)
				dot += t[r * K + k] * (int8_t)q.p[tk * K + k];
			near(F(&d, 0)[tk * MM_M + r], (double)dot / sv[tk] * 3.0, 1e-5, tk * MM_M + r);
		}
	/* I8 activations with F32 weights: not an op of the set */
	n.src[0] = ten(TRIT_TYPE_F32, &w, 0, K, MM_M, 1, 1);
	ck_assert_int_eq(be->supports_op(st, 0, &n), 0);
	hfree(&w), hfree(&q), hfree(&s), hfree(&d);
}
END_TEST

/* ------------------------------------------------------- what is refused */

START_TEST(supports_op_refuses_what_the_header_does_not_define)
{
	struct hb x = hbuf(64);
	struct trit_node n = node(TRIT_OP_ADD);

	n.src[0] = n.src[1] = n.dst = ten(TRIT_TYPE_F32, &x, 0, 4, 1, 1, 1);
	n.src[0].nb[0] = n.src[1].nb[0] = n.dst.nb[0] = 4;
	n.src[0].nb[1] = n.src[1].nb[1] = n.dst.nb[1] = 16;
	ck_assert_int_eq(be->supports_op(st, 0, &n), 1);
	ck_assert_int_eq(be->supports_op(st, 1, &n), 0); /* no device 1 */
	n.src[1].type = TRIT_TYPE_F16; /* y of the wrong type (rows of F16 elements) */
	n.src[1].nb[0] = 2;
	ck_assert_int_eq(be->supports_op(st, 0, &n), 0);
	ck_assert_int_eq(run(&n), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "F32"), "%s", err);
	n.src[1].type = TRIT_TYPE_F32;
	n.src[1].nb[0] = 4;
	n.src[1].ne[0] = 2; /* neither 1 nor x's 4 */
	ck_assert_int_eq(be->supports_op(st, 0, &n), 0);
	n.src[1].ne[0] = 4;
	n.src[2] = n.src[1]; /* ADD has no third operand */
	ck_assert_int_eq(be->supports_op(st, 0, &n), 0);
	memset(&n.src[2], 0, sizeof n.src[2]);
	n.dst.nb[0] = 8; /* rows must be contiguous */
	ck_assert_int_eq(be->supports_op(st, 0, &n), 0);
	n.dst.nb[0] = 4;
	n.op = TRIT_OP_COUNT; /* an op this ABI does not know */
	ck_assert_int_eq(be->supports_op(st, 0, &n), 0);
	hfree(&x);
}
END_TEST

START_TEST(a_tensor_past_its_buffer_is_refused_before_any_access)
{
	struct hb x = hbuf(16), d = hbuf(16);
	struct trit_node n = node(TRIT_OP_SCALE);

	n.src[0] = ten(TRIT_TYPE_F32, &x, 0, 4, 1, 1, 1);
	n.dst = ten(TRIT_TYPE_F32, &d, 4, 4, 1, 1, 1); /* 16 bytes at offset 4 of 16 */
	n.src[0].nb[0] = n.dst.nb[0] = 4;
	n.src[0].nb[1] = n.dst.nb[1] = 16;
	ck_assert_int_eq(run(&n), TRIT_ERANGE);
	ck_assert_msg(strstr(err, "outside") && strstr(err, "dst"), "%s", err);
	hfree(&x), hfree(&d);
}
END_TEST

START_TEST(buffers_wrap_host_memory_copy_and_state_their_limits)
{
	struct trit_buffer_limits lim = { .struct_size = sizeof lim };
	struct trit_buffer *a, *b;
	uint64_t f, t;
	unsigned char *mem = aligned_alloc(64, 64), out[8];

	ck_assert_int_eq(be->buffer_limits(st, 0, &lim, err, sizeof err), 0);
	ck_assert_uint_eq(lim.host_visible, 1);
	ck_assert_uint_eq(lim.from_host_ptr, 1);
	ck_assert_uint_eq(lim.alignment, 64);
	ck_assert(lim.max_size > 0);
	ck_assert_int_eq(be->buffer_alloc(st, 0, lim.max_size + 1, &a, err, sizeof err), TRIT_ENOMEM);
	ck_assert_int_eq(be->get_memory(st, 0, &f, &t, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "memory"), "%s", err);

	memcpy(mem, "abcdefgh", 8);
	ck_assert_int_eq(be->buffer_from_host_ptr(st, 0, mem + 1, 8, &a, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(be->buffer_from_host_ptr(st, 0, mem, 8, &a, err, sizeof err), 0);
	ck_assert_ptr_eq(be->buffer_host_ptr(st, a), mem); /* no copy */
	ck_assert_int_eq(be->buffer_alloc(st, 0, 8, &b, err, sizeof err), 0);
	ck_assert_uint_eq((uintptr_t)be->buffer_host_ptr(st, b) % lim.alignment, 0);
	ck_assert_int_eq(be->buffer_copy(st, b, 0, a, 2, 6, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_copy(st, b, 4, a, 0, 6, err, sizeof err), TRIT_ERANGE);
	ck_assert_int_eq(be->buffer_read(st, b, 0, out, 6, err, sizeof err), 0);
	ck_assert_mem_eq(out, "cdefgh", 6);
	be->buffer_free(st, a); /* frees the wrapper only */
	ck_assert_mem_eq(mem, "abcdefgh", 8);
	be->buffer_free(st, b);
	free(mem);
}
END_TEST

START_TEST(device_advertises_every_matmul_type_it_runs)
{
	const struct trit_device *d = be->device_get(st, 0);
	const uint32_t types[] = { TRIT_TYPE_F32, TRIT_TYPE_F16, TRIT_TYPE_BF16, TRIT_TYPE_Q8_0,
	                           TRIT_TYPE_TQ1_0, TRIT_TYPE_TQ2_0, TRIT_TYPE_I2_S,
	                           TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		ck_assert_msg(d->matmul_types & TRIT_TYPE_BIT(types[i]), "type %u", types[i]);
	ck_assert(!(d->matmul_types & TRIT_TYPE_BIT(TRIT_TYPE_I8)));
}
END_TEST

/* ------------------------------------------------------------------ suite */

static Suite *ref_ops_suite(void)
{
	Suite *s = suite_create("ref_ops");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, open_ref, close_ref);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rms_norm_of_a_known_vector_times_its_weight_on_strided_rows);
	tcase_add_test(tc, add_and_mul_broadcast_a_scalar_a_row_and_a_column_in_place);
	tcase_add_test(tc, scale_and_activations_follow_their_formulas);
	tcase_add_test(tc, glu_multiplies_the_activated_gate_by_up);
	tcase_add_test(tc, rope_at_position_zero_is_identity);
	tcase_add_test(tc, rope_normal_and_neox_turn_different_pairs_by_the_known_angle);
	tcase_add_test(tc, attention_with_one_visible_position_returns_its_value);
	tcase_add_test(tc, attention_is_causal_a_later_value_does_not_leak);
	tcase_add_test(tc, attention_maps_query_heads_to_their_kv_group);
	tcase_add_test(tc, f16_kv_write_then_attention_matches_a_double_softmax);
	tcase_add_test(tc, out_of_range_ids_positions_and_n_kv_are_refused);
	tcase_add_test(tc, q8_0_cpy_round_trip_stays_within_half_a_step);
	tcase_add_test(tc, cpy_to_f16_and_bf16_rounds_to_nearest);
	tcase_add_test(tc, get_rows_decodes_f16_q8_0_tq1_0_tq2_0_and_i2_s_rows);
	tcase_add_test(tc, quantize_act_follows_the_absmax_rule);
	tcase_add_test(tc, matmul_of_f32_f16_and_bf16_weights_is_the_widened_dot);
	tcase_add_test(tc, matmul_of_q8_0_weights_quantises_x_per_32_block);
	tcase_add_test(tc, matmul_of_tq1_0_and_tq2_0_weights_quantises_x_like_q8_k);
	tcase_add_test(tc, matmul_of_i2_s_tl1_and_tl2_weights_quantises_x_per_token);
	tcase_add_test(tc, matmul_of_i8_activations_uses_the_given_scales);
	tcase_add_test(tc, supports_op_refuses_what_the_header_does_not_define);
	tcase_add_test(tc, a_tensor_past_its_buffer_is_refused_before_any_access);
	tcase_add_test(tc, buffers_wrap_host_memory_copy_and_state_their_limits);
	tcase_add_test(tc, device_advertises_every_matmul_type_it_runs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(ref_ops_suite());
}
