/*
 * opstest.c - the graph ops' self-test, run once a device's program is built
 * (program.c): one small graph through graph_compute - QUANTIZE_ACT, CPY F32
 * to F16, GET_ROWS of that F16 table, ADD, RMS_NORM, SILU in place and a
 * row-broadcast MUL - compared with the C reference, bit for bit where trit
 * fixes the result (trit/ternary.h, trit/quant.h), within 1e-5 elsewhere. A
 * device whose op kernels fail it keeps the ternary matmul only, and says
 * why in its log. trit-conformance is the full comparison; this guards
 * against a driver that miscompiles the op kernels on a machine nobody tested.
 */
#include <build-config.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "ocl.h"

enum { K = 40, T = 3 };

/* Byte offsets in the arena. */
enum {
	X = 0, Q = 512, S = 640, H = 704, IDS = 960, G = 1024, Y = 1536, Z = 2048, W = 2560,
	ARENA = 2720
};

static struct trit_tensor ten(uint32_t type, uint64_t ne0, uint64_t ne1, struct trit_buffer *b,
                              uint64_t off)
{
	struct trit_tensor t;
	uint64_t es = type == TRIT_TYPE_F16 ? 2 : type == TRIT_TYPE_I8 ? 1 : 4;

	memset(&t, 0, sizeof t);
	t.type = type;
	t.ne[0] = ne0, t.ne[1] = ne1, t.ne[2] = t.ne[3] = 1;
	t.nb[0] = es, t.nb[1] = ne0 * es, t.nb[2] = t.nb[3] = ne0 * es * ne1;
	t.buffer = b;
	t.offset = off;
	return t;
}

static void node(struct trit_node *n, uint32_t op, struct trit_tensor dst, struct trit_tensor a,
                 struct trit_tensor b)
{
	memset(n, 0, sizeof *n);
	n->struct_size = sizeof *n;
	n->op = op;
	n->name = "self-test";
	n->dst = dst;
	n->src[0] = a;
	n->src[1] = b;
}

static void build(struct trit_node *n, struct trit_buffer *a)
{
	struct trit_tensor none;

	memset(&none, 0, sizeof none);
	node(&n[0], TRIT_OP_QUANTIZE_ACT, ten(TRIT_TYPE_I8, K, T, a, Q), ten(TRIT_TYPE_F32, K, T, a, X),
	     ten(TRIT_TYPE_F32, T, 1, a, S));
	node(&n[1], TRIT_OP_CPY, ten(TRIT_TYPE_F16, K, T, a, H), ten(TRIT_TYPE_F32, K, T, a, X), none);
	node(&n[2], TRIT_OP_GET_ROWS, ten(TRIT_TYPE_F32, K, T, a, G), ten(TRIT_TYPE_F16, K, T, a, H),
	     ten(TRIT_TYPE_I32, T, 1, a, IDS));
	node(&n[3], TRIT_OP_ADD, ten(TRIT_TYPE_F32, K, T, a, Y), ten(TRIT_TYPE_F32, K, T, a, X),
	     ten(TRIT_TYPE_F32, K, T, a, G));
	node(&n[4], TRIT_OP_RMS_NORM, ten(TRIT_TYPE_F32, K, T, a, Z), ten(TRIT_TYPE_F32, K, T, a, Y),
	     none);
	n[4].fparams[0] = 1e-6f;
	node(&n[5], TRIT_OP_SILU, ten(TRIT_TYPE_F32, K, T, a, Z), ten(TRIT_TYPE_F32, K, T, a, Z), none);
	node(&n[6], TRIT_OP_MUL, ten(TRIT_TYPE_F32, K, T, a, Z), ten(TRIT_TYPE_F32, K, T, a, Z),
	     ten(TRIT_TYPE_F32, K, 1, a, W));
}

/* Inputs: a random row, one with amax 127 and halves (ties), one of zeros. */
static void inputs(unsigned char *arena)
{
	uint32_t r = 2463534242u;
	float x[K * T], w[K];
	int32_t ids[T] = { 2, 0, 1 };

	for (int k = 0; k < K; k++) {
		r = r * 1664525u + 1013904223u;
		x[k] = (float)((int)(r >> 8) % 8001 - 4000) / 1000.0f;
		x[K + k] = k == 0 ? 127.0f : (float)(k - 20) + 0.5f;
		x[2 * K + k] = 0.0f;
		w[k] = 0.5f + (float)k / 64.0f;
	}
	memset(arena, 0, ARENA);
	memcpy(arena + X, x, sizeof x);
	memcpy(arena + IDS, ids, sizeof ids);
	memcpy(arena + W, w, sizeof w);
}

/* The first difference from the reference, or NULL. */
static const char *compare(const unsigned char *in, const unsigned char *out, char *why,
                           size_t len)
{
	const float *x = (const float *)(const void *)(in + X), *w = (const float *)(const void *)(in + W);
	const int32_t *ids = (const int32_t *)(const void *)(in + IDS);

	for (int t = 0; t < T; t++) {
		int8_t q[K];
		float s = trit_quantize_act(x + t * K, K, q), y[K], got;
		double ss = 0;
		memcpy(&got, out + S + 4 * t, 4);
		if (memcmp(q, out + Q + t * K, K) || memcmp(&s, &got, 4))
			return snprintf(why, len, "QUANTIZE_ACT of row %d differs", t), why;
		for (int k = 0; k < K; k++) {
			uint16_t h = trit_f32_to_f16(x[t * K + k]);
			float g = trit_f16_to_f32(trit_f32_to_f16(x[ids[t] * K + k]));
			y[k] = x[t * K + k] + g;
			if (memcmp(&h, out + H + 2 * (t * K + k), 2))
				return snprintf(why, len, "CPY F32 to F16 of [%d, %d] differs", k, t), why;
			if (memcmp(&g, out + G + 4 * (t * K + k), 4))
				return snprintf(why, len, "GET_ROWS of F16 [%d, %d] differs", k, t), why;
			if (memcmp(&y[k], out + Y + 4 * (t * K + k), 4))
				return snprintf(why, len, "ADD of [%d, %d] differs", k, t), why;
			ss += (double)y[k] * y[k];
		}
		for (int k = 0; k < K; k++) {
			double hv = y[k] / sqrt(ss / K + 1e-6), want = hv / (1 + exp(-hv)) * w[k];
			float z;
			memcpy(&z, out + Z + 4 * (t * K + k), 4);
			if (!(fabs(z - want) <= 1e-5 * (fabs(want) + 1)))
				return snprintf(why, len, "RMS_NORM, SILU, MUL of [%d, %d] gave %.9g, the "
				                "reference %.9g", k, t, (double)z, want), why;
		}
	}
	return NULL;
}

int ocl_ops_self_test(struct ocl_state *st, struct ocl_device *d, char *why, size_t len)
{
	/* float-aligned, for compare()'s reads */
	union { unsigned char b[ARENA]; float f[ARENA / 4]; } inu, outu;
	unsigned char *in = inu.b, *out = outu.b;
	struct trit_buffer a;
	struct trit_node n[7];
	struct trit_graph g;
	char err[600], ebuf[64];
	cl_int e;
	int rc;

	memset(&a, 0, sizeof a);
	a.magic = OCL_BUFFER_MAGIC;
	a.device = (uint32_t)(d - st->devs);
	a.size = ARENA;
	inputs(in);
	a.mem = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, ARENA, in, &e);
	if (!a.mem || e != CL_SUCCESS)
		return snprintf(why, len, "no buffer for it: %s", ocl_strerror(e, ebuf, sizeof ebuf)), -1;
	build(n, &a);
	memset(&g, 0, sizeof g);
	g.struct_size = sizeof g;
	g.n_nodes = 7;
	g.nodes = n;
	rc = ocl_graph_compute(st, a.device, &g, err, sizeof err);
	if (rc == 0 && (e = clEnqueueReadBuffer(d->queue, a.mem, CL_TRUE, 0, ARENA, out, 0, NULL,
	                                        NULL)) != CL_SUCCESS) {
		snprintf(err, sizeof err, "reading the result: %s", ocl_strerror(e, ebuf, sizeof ebuf));
		rc = -1;
	}
	clReleaseMemObject(a.mem);
	if (rc != 0)
		return snprintf(why, len, "%s", err), -1;
	return compare(in, out, why, len) ? -1 : 0;
}
