/*
 * check_forward.c - the forward pass (graph/, exec/alloc, exec/kvcache,
 * exec/forward) against an independent naive implementation written here:
 * plain loops in double over the same weights for a tiny model built by the
 * test (llama: 2 layers, n_embd 128, 4 heads, 2 KV heads of 32; a
 * bitnet-b1.58 one with I2_S weights), run on the built-in ref backend and
 * the cpu_avx2 plugin. Also: ubatch 1 vs the whole prompt (the KV cache),
 * 1 vs 2 threads (determinism), every KV type, the allocator's invariants,
 * and hostile inputs.
 *
 * Tolerances, as max |logit - naive| / max(1, max |naive|):
 *   F32 KV, F32 weights   1e-4: the runtime rounds each op's result to F32
 *                         (ref accumulates in double, cpu_avx2 in F32 over
 *                         K <= 256): ~1e-6 per op over ~30 ops in series.
 *   F16 KV                3e-3: keys and values rounded to 11 significant
 *                         bits (relative 2^-12 each) move the scores and the
 *                         weighted sums (measured 2.7e-4).
 *   Q8_0 KV               3e-2: 8-bit values per 32-block, relative ~1/254 of
 *                         the block's maximum each (measured 5.6e-3).
 *   I2_S weights          1e-2: activations quantised to int8 per token in
 *                         both, but the naive one quantises double-precision
 *                         activations, so a value on a rounding boundary may
 *                         land one step (1/127 of the token's maximum) apart
 *                         (measured 1.2e-7: no such boundary in this model).
 */
#include <build-config.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <trit/ternary.h>
#include <trit/trit.h>

#include "exec/alloc.h"
#include "exec/forward.h"
#include "exec/kvcache.h"
#include "formats/ternary.h"
#include "graph/graph.h"
#include "load/load.h"
#include "support/support.h"

#define L      2
#define E      128
#define HQ     4
#define HKV    2
#define D      32
#define V      100
#define NCTX   32
#define MAXW   40

/* ------------------------------------------------------------------ */
/* The model: names, shapes and F32 values (ternary x scale for I2_S)  */

struct tw {
	char name[48];
	uint32_t type;           /* F32 or I2_S on the device */
	uint64_t ne0, ne1;       /* K (row length), rows */
	float *f;                /* ne0 * ne1 values, row-major */
};

struct tmodel {
	struct trit_model m;
	uint32_t n_head[L], n_head_kv[L], n_ff[L];
	int bitnet;              /* 0 llama; 1 bitnet-b1.58, 2 llama.cpp's bitnet: I2_S
	                          * matrices, sub-norms */
	int tied;
	struct tw w[MAXW];
	int n_w;
};

static uint64_t rng_state;

static float urand(void) /* uniform in [-1, 1) */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static const struct tw *find_w(const struct tmodel *tm, const char *name)
{
	for (int i = 0; i < tm->n_w; i++)
		if (!strcmp(tm->w[i].name, name))
			return &tm->w[i];
	return NULL;
}

static struct tw *add_w(struct tmodel *tm, const char *name, uint64_t ne0, uint64_t ne1,
                        int kind /* 0 norm, 1 matrix, 2 table, 3 scalar */)
{
	struct tw *w = &tm->w[tm->n_w++];
	int ternary = tm->bitnet && kind == 1;
	float scale = 0.05f + 0.02f * (float)tm->n_w / MAXW;

	ck_assert_int_le(tm->n_w, MAXW);
	snprintf(w->name, sizeof w->name, "%s", name);
	w->ne0 = ne0, w->ne1 = ne1;
	w->type = ternary ? TRIT_TYPE_I2_S : TRIT_TYPE_F32;
	w->f = malloc(ne0 * ne1 * sizeof *w->f);
	ck_assert_ptr_nonnull(w->f);
	for (uint64_t i = 0; i < ne0 * ne1; i++) {
		float u = urand();
		if (kind == 0)
			w->f[i] = 1.0f + 0.25f * u;
		else if (kind == 2)
			w->f[i] = u;
		else if (kind == 3)
			w->f[i] = 1.5f;
		else if (ternary)
			w->f[i] = scale * (float)(u < -0.33f ? -1 : u > 0.33f ? 1 : 0);
		else
			w->f[i] = u * 1.7f / sqrtf((float)ne0);
	}
	return w;
}

static void layer_w(struct tmodel *tm, int il, const char *what, uint64_t ne0, uint64_t ne1,
                    int kind)
{
	char name[48];
	snprintf(name, sizeof name, "blk.%d.%s", il, what);
	add_w(tm, name, ne0, ne1, kind);
}

static void make_model(struct tmodel *tm, int bitnet, int tied, uint32_t n_ff)
{
	struct trit_hparams *hp = &tm->m.hp;

	memset(tm, 0, sizeof *tm);
	rng_state = 0x9e3779b97f4a7c15ull ^ (uint64_t)(bitnet * 7 + tied);
	tm->bitnet = bitnet, tm->tied = tied;
	snprintf(hp->arch, sizeof hp->arch, "%s", bitnet == 2 ? "bitnet" : bitnet ? "bitnet-b1.58" :
	         "llama");
	snprintf(hp->family, sizeof hp->family, "%s", bitnet ? "bitnet" : "llama");
	hp->n_layer = L, hp->n_embd = E, hp->n_vocab = V, hp->n_ctx_train = NCTX;
	for (int i = 0; i < L; i++)
		tm->n_head[i] = HQ, tm->n_head_kv[i] = HKV, tm->n_ff[i] = n_ff;
	hp->n_head = tm->n_head, hp->n_head_kv = tm->n_head_kv, hp->n_ff = tm->n_ff;
	hp->head_dim_k = hp->head_dim_v = D, hp->n_rot = D;
	hp->rope_freq_base = bitnet ? 500000.0 : 10000.0;
	hp->norm_eps = 1e-5;
	add_w(tm, "token_embd.weight", E, V, 2);
	add_w(tm, "output_norm.weight", E, 1, 0);
	if (!tied)
		add_w(tm, "output.weight", E, V, 1);
	for (int il = 0; il < L; il++) {
		layer_w(tm, il, "attn_norm.weight", E, 1, 0);
		layer_w(tm, il, "attn_q.weight", E, HQ * D, 1);
		layer_w(tm, il, "attn_k.weight", E, HKV * D, 1);
		layer_w(tm, il, "attn_v.weight", E, HKV * D, 1);
		layer_w(tm, il, "attn_output.weight", HQ * D, E, 1);
		layer_w(tm, il, "ffn_norm.weight", E, 1, 0);
		layer_w(tm, il, "ffn_gate.weight", E, n_ff, 1);
		layer_w(tm, il, "ffn_up.weight", E, n_ff, 1);
		layer_w(tm, il, "ffn_down.weight", n_ff, E, 1);
		if (bitnet) {
			layer_w(tm, il, "attn_sub_norm.weight", HQ * D, 1, 0);
			layer_w(tm, il, "ffn_sub_norm.weight", n_ff, 1, 0);
		}
	}
	if (bitnet)
		add_w(tm, "blk.1.ffn_down.scale", 1, 1, 3);
	if (bitnet == 2)
		add_w(tm, "blk.0.attn_q.scale", 1, 1, 3);
}

static void free_model(struct tmodel *tm)
{
	for (int i = 0; i < tm->n_w; i++)
		free(tm->w[i].f);
}

/* ------------------------------------------------------------------ */
/* The naive forward pass                                              */

static const float *W(const struct tmodel *tm, const char *fmt, int il)
{
	char name[48];
	snprintf(name, sizeof name, "blk.%d.%s", il, fmt);
	const struct tw *w = find_w(tm, il < 0 ? fmt : name);
	ck_assert_msg(w != NULL, "no %s", name);
	return w->f;
}

static void rmsnorm(const double *x, const float *w, int n, double eps, double *y)
{
	double ss = 0;
	for (int i = 0; i < n; i++)
		ss += x[i] * x[i];
	ss = 1.0 / sqrt(ss / n + eps);
	for (int i = 0; i < n; i++)
		y[i] = x[i] * ss * w[i];
}

/* y[M] = W[M][K] x[K]; ternary: x quantised like trit_quantize_act. */
static void mm(const struct tmodel *tm, const float *w, int K, int M, const double *x, double *y)
{
	if (tm->bitnet && w != find_w(tm, "token_embd.weight")->f) {
		float xf[512], scale = 0;
		int8_t q[512];
		float s;
		for (int k = 0; k < K; k++)
			xf[k] = (float)x[k];
		s = trit_quantize_act(xf, (uint64_t)K, q);
		for (int i = 0; i < K * M && scale == 0; i++)
			scale = fabsf(w[i]);
		for (int r = 0; r < M; r++) {
			int32_t dot = 0;
			for (int k = 0; k < K; k++)
				dot += (w[r * K + k] > 0 ? 1 : w[r * K + k] < 0 ? -1 : 0) * q[k];
			y[r] = (double)dot / s * scale;
		}
		return;
	}
	for (int r = 0; r < M; r++) {
		double acc = 0;
		for (int k = 0; k < K; k++)
			acc += (double)w[r * K + k] * x[k];
		y[r] = acc;
	}
}

static void rope(double *x, int heads, int pos, double base, int neox)
{
	for (int h = 0; h < heads; h++)
		for (int i = 0; i < D / 2; i++) {
			int a = neox ? i : 2 * i, b = neox ? i + D / 2 : 2 * i + 1;
			double th = pos * pow(base, -2.0 * i / D);
			double xa = x[h * D + a], xb = x[h * D + b];
			x[h * D + a] = xa * cos(th) - xb * sin(th);
			x[h * D + b] = xa * sin(th) + xb * cos(th);
		}
}

/* Logits of every token of tok[0..n) into out[n][V]. */
static void naive(const struct tmodel *tm, const int32_t *tok, int n, double *out)
{
	int F = (int)tm->n_ff[0], bn = tm->bitnet;
	double eps = tm->m.hp.norm_eps, base = tm->m.hp.rope_freq_base;
	double *x = calloc((size_t)n * E, sizeof *x), *kc = calloc((size_t)L * n * HKV * D, 8),
	       *vc = calloc((size_t)L * n * HKV * D, 8);
	double cur[512], q[HQ * D], att[HQ * D], o[E], fi[E], g[512], u[512], h[512], sc[NCTX];

	ck_assert(x && kc && vc && n <= NCTX);
	for (int t = 0; t < n; t++)
		for (int i = 0; i < E; i++)
			x[t * E + i] = W(tm, "token_embd.weight", -1)[tok[t] * E + i];
	for (int il = 0; il < L; il++)
		for (int t = 0; t < n; t++) { /* token by token: a causal pass */
			double *xt = &x[t * E], *kt = &kc[((size_t)il * n + t) * HKV * D],
			       *vt = &vc[((size_t)il * n + t) * HKV * D];
			rmsnorm(xt, W(tm, "attn_norm.weight", il), E, eps, cur);
			mm(tm, W(tm, "attn_q.weight", il), E, HQ * D, cur, q);
			if (bn == 2 && il == 0)
				for (int i = 0; i < HQ * D; i++)
					q[i] *= W(tm, "blk.0.attn_q.scale", -1)[0];
			mm(tm, W(tm, "attn_k.weight", il), E, HKV * D, cur, kt);
			mm(tm, W(tm, "attn_v.weight", il), E, HKV * D, cur, vt);
			rope(q, HQ, t, base, bn);
			rope(kt, HKV, t, base, bn);
			for (int hh = 0; hh < HQ; hh++) {
				int kv = hh / (HQ / HKV);
				double mx = -1e300, sum = 0;
				for (int j = 0; j <= t; j++) {
					double dot = 0;
					for (int i = 0; i < D; i++)
						dot += q[hh * D + i] * kc[((size_t)il * n + j) * HKV * D + kv * D + i];
					sc[j] = dot / sqrt((double)D);
					mx = sc[j] > mx ? sc[j] : mx;
				}
				for (int j = 0; j <= t; j++)
					sum += (sc[j] = exp(sc[j] - mx));
				for (int i = 0; i < D; i++) {
					double acc = 0;
					for (int j = 0; j <= t; j++)
						acc += sc[j] / sum * vc[((size_t)il * n + j) * HKV * D + kv * D + i];
					att[hh * D + i] = acc;
				}
			}
			if (bn)
				rmsnorm(att, W(tm, "attn_sub_norm.weight", il), HQ * D, eps, att);
			mm(tm, W(tm, "attn_output.weight", il), HQ * D, E, att, o);
			for (int i = 0; i < E; i++)
				fi[i] = o[i] + xt[i];
			rmsnorm(fi, W(tm, "ffn_norm.weight", il), E, eps, cur);
			mm(tm, W(tm, "ffn_gate.weight", il), E, F, cur, g);
			mm(tm, W(tm, "ffn_up.weight", il), E, F, cur, u);
			for (int i = 0; i < F; i++)
				h[i] = (bn == 1 ? (g[i] > 0 ? g[i] * g[i] : 0) : g[i] / (1 + exp(-g[i]))) * u[i];
			if (bn)
				rmsnorm(h, W(tm, "ffn_sub_norm.weight", il), F, eps, h);
			mm(tm, W(tm, "ffn_down.weight", il), F, E, h, o);
			if (bn && il == 1)
				for (int i = 0; i < E; i++)
					o[i] *= W(tm, "blk.1.ffn_down.scale", -1)[0];
			for (int i = 0; i < E; i++)
				xt[i] = o[i] + fi[i];
		}
	for (int t = 0; t < n; t++) {
		rmsnorm(&x[t * E], W(tm, "output_norm.weight", -1), E, eps, cur);
		mm(tm, W(tm, tm->tied || bn == 2 ? "token_embd.weight" : "output.weight", -1), E, V, cur,
		   &out[(size_t)t * V]);
	}
	free(x);
	free(kc);
	free(vc);
}

/* ------------------------------------------------------------------ */
/* Backends and the weights on them                                    */

static struct trit_registry *reg;
static struct trit_sched_target ref_t, avx2_t;
static int have_avx2;

static void open_backends(void)
{
	char path[1024], err[512];
	const char *top = getenv("top_builddir");
	const char *files[1] = { path };
	struct trit_registry_options o = {
		.flags = TRIT_REGISTRY_NO_ENV | TRIT_REGISTRY_NO_DEFAULT_DIRS,
		.plugin_files = files, .n_plugin_files = 0,
	};

	test_clear_trit_env();
	/* the plugin's bandwidth probe on a small buffer, as tests/local.mk sets */
	setenv("TRIT_PLUGIN_CPU_AVX2_BANDWIDTH_BYTES", "8MiB", 1);
#ifdef FORWARD_TEST_CPU_AVX2
	ck_assert_msg(top != NULL, "top_builddir is not set (run through make check)");
	snprintf(path, sizeof path, "%s/plugins/cpu_avx2/cpu_avx2.la", top);
	o.n_plugin_files = 1;
#else
	(void)top;
#endif
	ck_assert_msg(trit_registry_open(&o, &reg, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(trit_sched_fallback(reg, &ref_t, err, sizeof err), 0);
	have_avx2 = 0;
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *p = trit_registry_plugin(reg, i);
		if (strcmp(p->name, "cpu_avx2") != 0)
			continue;
		if (p->status != TRIT_PLUGIN_LOADED) {
			fprintf(stderr, "check_forward: cpu_avx2 is skipped on this machine (%s); its "
			        "cases compare ref with itself\n", p->reason);
			continue;
		}
		avx2_t = (struct trit_sched_target){ .name = "cpu_avx2/cpu0" };
		avx2_t.be = trit_registry_backend(reg, i, &avx2_t.state);
		have_avx2 = 1;
	}
	if (!have_avx2)
		avx2_t = ref_t;
}

static void close_backends(void)
{
	trit_registry_close(reg);
	reg = NULL;
}

struct dweights {
	const struct trit_sched_target *t;
	struct trit_tensor tens[MAXW];
	struct trit_buffer *buf[MAXW];
	const struct tmodel *tm;
};

static const struct trit_tensor *lookup(void *ctx, const char *name)
{
	struct dweights *d = ctx;
	for (int i = 0; i < d->tm->n_w; i++)
		if (!strcmp(d->tm->w[i].name, name))
			return &d->tens[i];
	return NULL;
}

/* The tensors' types and shapes, no buffers (what the planner sees). */
static void describe_weights(struct dweights *d, const struct tmodel *tm)
{
	memset(d, 0, sizeof *d);
	d->tm = tm;
	for (int i = 0; i < tm->n_w; i++) {
		const struct tw *w = &tm->w[i];
		struct trit_tensor *x = &d->tens[i];
		x->type = w->type;
		x->ne[0] = w->ne0, x->ne[1] = w->ne1, x->ne[2] = x->ne[3] = 1;
		if (w->type == TRIT_TYPE_I2_S)
			x->nb[0] = 32, x->nb[1] = w->ne0 / 4;
		else
			x->nb[0] = 4, x->nb[1] = w->ne0 * 4;
		x->nb[2] = x->nb[3] = x->nb[1] * w->ne1;
	}
}

static void put_weights(struct dweights *d, const struct tmodel *tm,
                        const struct trit_sched_target *t)
{
	char err[512];

	describe_weights(d, tm);
	d->t = t;
	for (int i = 0; i < tm->n_w; i++) {
		const struct tw *w = &tm->w[i];
		uint64_t bytes = w->ne0 * w->ne1 * 4;
		void *packed = NULL;
		if (w->type == TRIT_TYPE_I2_S) {
			bytes = trit_ternary_bytes(TRIT_TYPE_I2_S, w->ne1, w->ne0);
			packed = malloc(bytes);
			ck_assert_ptr_nonnull(packed);
			ck_assert_msg(trit_ternary_pack(TRIT_TYPE_I2_S, packed, bytes, TRIT_TYPE_F32, w->f,
			                                w->ne0 * w->ne1 * 4, w->ne1, w->ne0, err,
			                                sizeof err) == 0, "%s", err);
		}
		ck_assert_msg(t->be->buffer_alloc(t->state, t->device, bytes, &d->buf[i], err,
		                                  sizeof err) == 0, "%s", err);
		ck_assert_msg(t->be->buffer_write(t->state, d->buf[i], 0, packed ? packed : w->f,
		                                  bytes, err, sizeof err) == 0, "%s", err);
		d->tens[i].buffer = d->buf[i];
		free(packed);
	}
}

static void drop_weights(struct dweights *d)
{
	for (int i = 0; i < d->tm->n_w; i++)
		if (d->buf[i])
			d->t->be->buffer_free(d->t->state, d->buf[i]);
}

/* The weight bytes of the last run() that asked for its memory (the
 * context's own array goes with it). */
static uint64_t run_weight_bytes;
/* Each target's arena in the last run() that asked for its memory. */
static uint64_t run_arena_bytes[4];
/* Where the last run()'s last eval call ran its nodes. */
static struct trit_forward_stats run_stats;

struct run_opts {
	const struct trit_sched_target *t;
	uint32_t kv_type, n_ubatch, n_threads;
	int all_logits;
};

/* When set, run() splits the model over n_targets copies of its target,
 * layers, embeddings and output placed as this says. */
struct split_spec {
	uint32_t n_targets;
	const uint32_t *layer_target;
	uint32_t embd_target, output_target;
};
static const struct split_spec *run_split;

/* Run tok[0..n) on a fresh context (in calls of `chunk` tokens, 0 = one
 * call); logits of the last token (or of all) into out. */
static void run(const struct tmodel *tm, const struct run_opts *ro, const int32_t *tok, int n,
                int chunk, float *out, struct trit_forward_memory *mem)
{
	struct dweights d;
	struct trit_forward_params p = {
		.model = &tm->m, .weight = lookup, .weight_ctx = &d, .targets = ro->t,
		.n_targets = 1, .fallback = &ref_t, .n_ctx = NCTX, .n_ubatch = ro->n_ubatch,
		.kv_type = ro->kv_type, .n_threads = ro->n_threads, .all_logits = ro->all_logits,
	};
	struct trit_sched_target many[4];
	struct trit_forward *f;
	char err[1024];

	if (run_split) {
		static const char *const names[] = { "split0", "split1", "split2", "split3" };
		ck_assert_uint_le(run_split->n_targets, 4);
		for (uint32_t i = 0; i < run_split->n_targets; i++)
			many[i] = *ro->t, many[i].name = names[i];
		p.targets = many, p.n_targets = run_split->n_targets;
		p.layer_target = run_split->layer_target;
		p.embd_target = run_split->embd_target, p.output_target = run_split->output_target;
	}
	put_weights(&d, tm, ro->t);
	ck_assert_msg(trit_forward_new(&p, &f, err, sizeof err) == 0, "%s", err);
	for (int done = 0; done < n;) {
		int c = chunk ? (n - done < chunk ? n - done : chunk) : n;
		float *o = ro->all_logits ? out + (size_t)done * V : out;
		ck_assert_msg(trit_forward_eval(f, tok + done, (uint32_t)c, (uint32_t)done, o, err,
		                                sizeof err) == 0, "%s", err);
		done += c;
	}
	run_stats = *trit_forward_stats(f);
	if (mem) {
		*mem = *trit_forward_memory(f);
		run_weight_bytes = mem->weight_bytes[0];
		mem->weight_bytes = &run_weight_bytes;
		mem->kv_bytes = NULL;
		for (uint32_t i = 0; i < 4; i++)
			run_arena_bytes[i] = i < mem->n_targets ? mem->arena_target_bytes[i] : 0;
		mem->arena_target_bytes = run_arena_bytes;
		mem->workspace_target_bytes = NULL;
	}
	trit_forward_free(f);
	drop_weights(&d);
}

static const int32_t prompt[] = { 1, 17, 42, 99, 0, 63, 5, 77, 23, 8, 91 };
#define NP ((int)(sizeof prompt / sizeof prompt[0]))

/* max |a - b| / max(1, max |b|) over n values. */
static double rel_err(const float *a, const double *b, int n)
{
	double mx = 1, d = 0;
	for (int i = 0; i < n; i++)
		mx = fabs(b[i]) > mx ? fabs(b[i]) : mx;
	for (int i = 0; i < n; i++)
		d = fabs(a[i] - b[i]) > d ? fabs(a[i] - b[i]) : d;
	return d / mx;
}

static void compare_naive(int bitnet, int tied, const struct trit_sched_target *t, uint32_t kv,
                          uint32_t ubatch, double tol)
{
	struct tmodel tm;
	double want[NP * V];
	float got[V];
	struct run_opts ro = { t, kv, ubatch, 1, 0 };
	double e;

	make_model(&tm, bitnet, tied, bitnet ? 256 : 192);
	naive(&tm, prompt, NP, want);
	run(&tm, &ro, prompt, NP, 0, got, NULL);
	e = rel_err(got, &want[(NP - 1) * V], V);
	fprintf(stderr, "check_forward: %s %s kv %s ubatch %u: relative error %.3g (limit %.3g)\n",
	        tm.m.hp.arch, t->name, trit_type_traits(kv)->name, ubatch, e,
	        tol);
	ck_assert_msg(e <= tol, "%s on %s: logits differ from the naive pass by %g (limit %g)",
	              tm.m.hp.arch, t->name, e, tol);
	free_model(&tm);
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */

START_TEST(llama_logits_match_naive_on_ref_f32_kv)
{
	compare_naive(0, 0, &ref_t, TRIT_TYPE_F32, 4, 1e-4);
}
END_TEST

START_TEST(llama_tied_logits_match_naive_on_cpu_avx2_f32_kv)
{
	compare_naive(0, 1, &avx2_t, TRIT_TYPE_F32, 8, 1e-4);
}
END_TEST

START_TEST(llama_f16_and_q8_0_kv_stay_near_naive)
{
	compare_naive(0, 0, &ref_t, TRIT_TYPE_F16, 4, 3e-3);
	compare_naive(0, 0, &avx2_t, TRIT_TYPE_F16, 3, 3e-3);
	compare_naive(0, 0, &ref_t, TRIT_TYPE_Q8_0, 5, 3e-2);
	compare_naive(0, 0, &avx2_t, TRIT_TYPE_Q8_0, 16, 3e-2);
}
END_TEST

START_TEST(bitnet_i2s_logits_match_naive)
{
	compare_naive(1, 1, &ref_t, TRIT_TYPE_F32, 4, 1e-2);
	compare_naive(1, 1, &avx2_t, TRIT_TYPE_F32, 16, 1e-2);
}
END_TEST

/* llama.cpp's bitnet: SiLU, the head is token_embd even when the file has
 * output.weight, and a <weight>.scale on Q. */
START_TEST(llamacpp_bitnet_logits_match_naive)
{
	compare_naive(2, 0, &ref_t, TRIT_TYPE_F32, 4, 1e-2);
	compare_naive(2, 0, &avx2_t, TRIT_TYPE_F32, 16, 1e-2);
}
END_TEST

START_TEST(every_tokens_logits_match_naive_with_all_logits)
{
	struct tmodel tm;
	double want[NP * V];
	float got[NP * V];
	struct run_opts ro = { &avx2_t, TRIT_TYPE_F32, 4, 2, 1 };

	make_model(&tm, 0, 0, 192);
	naive(&tm, prompt, NP, want);
	run(&tm, &ro, prompt, NP, 0, got, NULL);
	for (int t = 0; t < NP; t++)
		ck_assert_msg(rel_err(&got[t * V], &want[t * V], V) <= 1e-4, "token %d's logits", t);
	free_model(&tm);
}
END_TEST

/* The KV cache carries the prompt: one token per call (ubatch 1) gives the
 * logits of the whole prompt in one ubatch. */
START_TEST(ubatch_1_and_whole_prompt_agree)
{
	const struct trit_sched_target *ts[2] = { &ref_t, &avx2_t };
	struct tmodel tm;

	make_model(&tm, 0, 0, 192);
	for (int k = 0; k < 2; k++) {
		float a[V], b[V], c[V];
		struct run_opts one = { ts[k], TRIT_TYPE_F16, 1, 1, 0 };
		struct run_opts all = { ts[k], TRIT_TYPE_F16, NP, 1, 0 };
		double want[V];
		run(&tm, &one, prompt, NP, 1, a, NULL);
		run(&tm, &all, prompt, NP, 0, b, NULL);
		run(&tm, &all, prompt, NP, 3, c, NULL); /* calls of 3 at pos0 0, 3, 6, 9 */
		for (int i = 0; i < V; i++)
			want[i] = b[i];
		ck_assert_msg(rel_err(a, want, V) <= 1e-5, "%s: ubatch 1 vs %d: %g", ts[k]->name, NP,
		              rel_err(a, want, V));
		ck_assert_msg(rel_err(c, want, V) <= 1e-5, "%s: calls of 3 vs one call: %g",
		              ts[k]->name, rel_err(c, want, V));
	}
	free_model(&tm);
}
END_TEST

/* Same bits at 1 and 2 threads: the plugin splits rows, not sums. */
START_TEST(one_and_two_threads_give_the_same_bits)
{
	struct tmodel tm;
	float a[V], b[V];
	struct run_opts r1 = { &avx2_t, TRIT_TYPE_F16, 8, 1, 0 }, r2 = { &avx2_t, TRIT_TYPE_F16, 8,
	                                                                2, 0 };

	make_model(&tm, 0, 0, 192);
	run(&tm, &r1, prompt, NP, 0, a, NULL);
	run(&tm, &r2, prompt, NP, 0, b, NULL);
	ck_assert_msg(memcmp(a, b, sizeof a) == 0, "logits at 1 and 2 threads differ");
	free_model(&tm);
	make_model(&tm, 1, 1, 256);
	run(&tm, &r1, prompt, NP, 0, a, NULL);
	run(&tm, &r2, prompt, NP, 0, b, NULL);
	ck_assert_msg(memcmp(a, b, sizeof a) == 0, "bitnet logits at 1 and 2 threads differ");
	free_model(&tm);
}
END_TEST

START_TEST(ref_and_cpu_avx2_agree)
{
	struct tmodel tm;
	float a[V], b[V];
	double want[V];
	struct run_opts r1 = { &ref_t, TRIT_TYPE_Q8_0, 4, 1, 0 }, r2 = { &avx2_t, TRIT_TYPE_Q8_0,
	                                                                4, 2, 0 };

	make_model(&tm, 0, 0, 192);
	run(&tm, &r1, prompt, NP, 0, a, NULL);
	run(&tm, &r2, prompt, NP, 0, b, NULL);
	for (int i = 0; i < V; i++)
		want[i] = a[i];
	ck_assert_msg(rel_err(b, want, V) <= 1e-4, "ref vs cpu_avx2 with a Q8_0 cache: %g",
	              rel_err(b, want, V));
	free_model(&tm);
}
END_TEST

/* The plugin runs every op of both graphs itself; the fallback idles. */
START_TEST(cpu_avx2_runs_every_node_itself)
{
	struct tmodel tm;
	float a[V];
	struct run_opts ro = { &avx2_t, TRIT_TYPE_Q8_0, 16, 2, 0 };

	if (!have_avx2)
		return;
	for (int bitnet = 0; bitnet < 2; bitnet++) {
		make_model(&tm, bitnet, 1, 256);
		run(&tm, &ro, prompt, NP, 0, a, NULL);
		ck_assert_uint_gt(run_stats.device_nodes, 0);
		ck_assert_uint_eq(run_stats.fallback_nodes, 0);
		ck_assert_uint_eq(run_stats.device_calls, 1);
		ck_assert_uint_eq(run_stats.tokens, NP);
		free_model(&tm);
	}
}
END_TEST

/* Memory: the arena the context allocates is the allocator's answer for the
 * worst-case ubatch, smaller than the slots' sum (reuse), and the KV bytes
 * are exact. */
START_TEST(memory_is_accounted_exactly)
{
	struct tmodel tm;
	struct dweights d;
	struct trit_forward_memory mem;
	float a[V];
	struct run_opts ro = { &ref_t, TRIT_TYPE_Q8_0, 8, 1, 0 };
	uint64_t arena, unshared, kv, wbytes = 0;
	char err[512];

	make_model(&tm, 0, 0, 192);
	run(&tm, &ro, prompt, NP, 0, a, &mem);
	describe_weights(&d, &tm);
	ck_assert_int_eq(trit_forward_arena_bytes(&tm.m.hp, lookup, &d, NCTX, TRIT_TYPE_Q8_0, 8, 0,
	                                          &arena, &unshared, err, sizeof err), 0);
	ck_assert_uint_eq(mem.arena_bytes, arena);
	ck_assert_uint_eq(mem.arena_unshared, unshared);
	ck_assert_uint_lt(arena, unshared);
	{ /* the planner's question from the file's tensor table gives the same */
		struct trit_model_tensor mt[MAXW];
		uint64_t a2 = 0, u2 = 0;
		memset(mt, 0, sizeof mt);
		for (int i = 0; i < tm.n_w; i++) {
			mt[i].name = tm.w[i].name;
			mt[i].type_name = "F32";
			mt[i].ne[0] = tm.w[i].ne0, mt[i].ne[1] = tm.w[i].ne1, mt[i].n_dims = 2;
		}
		tm.m.tensors = mt;
		tm.m.n_tensors = (size_t)tm.n_w;
		ck_assert_int_eq(trit_forward_model_arena_bytes(&tm.m, 0, NCTX, TRIT_TYPE_Q8_0, 8, 0,
		                                                &a2, &u2, err, sizeof err), 0);
		ck_assert_uint_eq(a2, arena);
		ck_assert_uint_eq(u2, unshared);
		mt[3].type_name = "Q4_K";
		ck_assert_int_eq(trit_forward_model_arena_bytes(&tm.m, 0, NCTX, TRIT_TYPE_Q8_0, 8, 0,
		                                                &a2, &u2, err, sizeof err),
		                 TRIT_EUNSUPPORTED);
		ck_assert_ptr_nonnull(strstr(err, "Q4_K"));
		tm.m.tensors = NULL;
		tm.m.n_tensors = 0;
	}
	ck_assert_int_eq(trit_kvcache_bytes(&tm.m.hp, NCTX, TRIT_TYPE_Q8_0, &kv, err, sizeof err), 0);
	/* per layer: K and V of 32 positions x 2 heads x one 34-byte block */
	ck_assert_uint_eq(kv, (uint64_t)L * 2 * NCTX * HKV * 34);
	ck_assert_uint_eq(mem.kv_total, kv);
	for (int i = 0; i < tm.n_w; i++)
		wbytes += tm.w[i].ne0 * tm.w[i].ne1 * 4;
	ck_assert_uint_eq(mem.weight_bytes[0], wbytes);
	free_model(&tm);
}
END_TEST

/* A split over several targets (here copies of one device, so that the
 * bits must not change): layers alternate, the embeddings and the head sit
 * elsewhere, every crossing is an activation copied between two arenas. The
 * logits equal the one-target run's bit for bit, in one call and token by
 * token, and each arena is what the planner's question says. */
START_TEST(a_split_over_targets_gives_the_same_bits)
{
	static const uint32_t alternate[L] = { 1, 0 }, embd_first[L] = { 0, 0 };
	const uint32_t *layers[] = { alternate, embd_first };
	struct tmodel tm;
	float one[NP * V], two[NP * V];
	struct trit_forward_memory mem;

	make_model(&tm, 1, 1, 256);
	for (int form = 0; form < 2; form++) {
		struct run_opts ro = { &avx2_t, TRIT_TYPE_F16, 4, 1, 1 };
		struct split_spec sp = { 3, layers[form], form ? 0 : 2, 2 };
		run(&tm, &ro, prompt, NP, 0, one, NULL);
		run_split = &sp;
		run(&tm, &ro, prompt, NP, form ? 1 : 0, two, &mem);
		run_split = NULL;
		ck_assert_mem_eq(one, two, sizeof one);
		ck_assert_uint_gt(run_stats.crossings, 0);
		ck_assert_uint_gt(mem.bounce_bytes, 0);
		for (uint32_t t = 0; t < 3; t++) {
			struct trit_model_tensor mt[MAXW];
			uint64_t want = 0, cross = 0;
			struct trit_forward_place pl = { layers[form], sp.embd_target, 2, t, 3, &cross };
			char err[512];
			memset(mt, 0, sizeof mt);
			for (int i = 0; i < tm.n_w; i++) {
				mt[i].name = tm.w[i].name;
				mt[i].type_name = tm.w[i].type == TRIT_TYPE_I2_S ? "I2_S" : "F32";
				mt[i].ne[0] = tm.w[i].ne0, mt[i].ne[1] = tm.w[i].ne1, mt[i].n_dims = 2;
			}
			tm.m.tensors = mt;
			tm.m.n_tensors = (size_t)tm.n_w;
			ck_assert_msg(trit_forward_model_split_arena_bytes(&tm.m, 0, NCTX, TRIT_TYPE_F16, 4,
			                                                   1, &pl, &want, err,
			                                                   sizeof err) == 0, "%s", err);
			tm.m.tensors = NULL;
			tm.m.n_tensors = 0;
			ck_assert_uint_eq(mem.arena_target_bytes[t], want);
			ck_assert_uint_eq(mem.bounce_bytes, cross);
			if (form == 1 && t == 1)
				ck_assert_uint_eq(want, 0); /* no node runs on target 1 */
			else
				ck_assert_uint_gt(want, 0);
		}
	}
	free_model(&tm);
}
END_TEST

/* Every placement the allocator makes passes its checker; the checker
 * catches two live slots sharing bytes. */
START_TEST(allocator_places_live_slots_apart_and_reuses_dead_ones)
{
	struct tmodel tm;
	struct dweights d;
	struct trit_graph_inputs in = { lookup, &d, NULL, NULL, TRIT_TYPE_F16, NCTX, NULL };
	char err[512];

	for (int bitnet = 0; bitnet < 2; bitnet++) {
		make_model(&tm, bitnet, 0, 256);
		describe_weights(&d, &tm);
		for (uint32_t T = 1; T <= 9; T += 4) {
			struct trit_graph_params gp = { &tm.m.hp, T, T, 0 };
			struct trit_nodelist g;
			uint64_t *off, arena, reuse = 0;
			trit_graph_init(&g);
			ck_assert_msg(trit_graph_build(&gp, &in, &g, err, sizeof err) == 0, "%s", err);
			off = calloc(g.n_slots, sizeof *off);
			ck_assert_int_eq(trit_alloc_plan(g.slots, g.n_slots, off, &arena, err, sizeof err),
			                 0);
			ck_assert_msg(trit_alloc_check(g.slots, g.n_slots, off, arena, err, sizeof err) == 0,
			              "%s", err);
			ck_assert_uint_le(arena, trit_alloc_sum(g.slots, g.n_slots));
			for (uint32_t i = 0; i < g.n_slots; i++)
				for (uint32_t j = i + 1; j < g.n_slots; j++)
					reuse += off[i] == off[j];
			ck_assert_uint_gt(reuse, 0);
			/* break it: two slots live together at the same offset */
			for (uint32_t i = 1; i < g.n_slots; i++)
				if (g.slots[i].first <= g.slots[0].last && g.slots[0].first <= g.slots[i].last) {
					off[i] = off[0];
					break;
				}
			ck_assert_int_eq(trit_alloc_check(g.slots, g.n_slots, off, arena, err, sizeof err),
			                 TRIT_EINTERNAL);
			free(off);
			trit_graph_free(&g);
		}
		free_model(&tm);
	}
}
END_TEST

START_TEST(bad_tokens_positions_and_models_are_refused)
{
	struct tmodel tm;
	struct dweights d;
	struct trit_forward_params p = { .weight = lookup, .weight_ctx = &d, .targets = &ref_t,
	                                 .n_targets = 1, .fallback = &ref_t, .n_ctx = 8,
	                                 .n_ubatch = 4, .kv_type = TRIT_TYPE_F16 };
	struct trit_forward *f;
	int32_t bad[2] = { 3, V }, ok[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	float out[V];
	char err[1024];

	make_model(&tm, 0, 0, 192);
	p.model = &tm.m;
	put_weights(&d, &tm, &ref_t);
	ck_assert_int_eq(trit_forward_new(&p, &f, err, sizeof err), 0);
	ck_assert_int_eq(trit_forward_eval(f, bad, 2, 0, out, err, sizeof err), TRIT_ERANGE);
	ck_assert_ptr_nonnull(strstr(err, "vocabulary"));
	ck_assert_int_eq(trit_forward_eval(f, ok, 8, 0, out, err, sizeof err), 0);
	ck_assert_int_eq(trit_forward_eval(f, ok, 1, 8, out, err, sizeof err), TRIT_ERANGE);
	trit_forward_free(f);
	/* a missing tensor is named */
	snprintf(tm.w[5].name, sizeof tm.w[5].name, "renamed");
	ck_assert_int_eq(trit_forward_new(&p, &f, err, sizeof err), TRIT_EFORMAT);
	ck_assert_msg(strstr(err, "blk.0.") != NULL, "%s", err);
	/* a Q8_0 cache needs head sizes in 32s */
	tm.m.hp.head_dim_k = tm.m.hp.head_dim_v = 16;
	p.kv_type = TRIT_TYPE_Q8_0;
	ck_assert_int_ne(trit_forward_new(&p, &f, err, sizeof err), 0);
	drop_weights(&d);
	free_model(&tm);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Files from trit-genmodel --weights ternary, through the loader      */

/* Last-token logits of `file` loaded on avx2_t (ternary matrices repacked
 * to `repack` when not 0) for the prompt. */
static void run_file(const char *file, uint32_t repack, float *out, uint32_t *n_vocab)
{
	struct trit_model *m;
	struct trit_weights *w;
	struct trit_forward *f;
	struct trit_load_target lt = { avx2_t, repack };
	uint32_t layers[64] = { 0 };
	struct trit_load_spec spec = { .targets = &lt, .n_targets = 1, .layer_target = layers,
	                               .allow_zero_copy = 1 };
	char err[1024];

	ck_assert_msg(trit_model_open(file, &m, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_le(m->hp.n_layer, 64);
	ck_assert_msg(trit_load(m, &spec, &w, NULL, err, sizeof err) == 0, "%s", err);
	{
		struct trit_forward_params p = {
			.model = m, .weights = w, .targets = &avx2_t, .n_targets = 1,
			.layer_target = layers, .fallback = &ref_t, .n_ctx = 64, .n_ubatch = 5,
			.kv_type = TRIT_TYPE_F32, .n_threads = 2,
		};
		ck_assert_msg(trit_forward_new(&p, &f, err, sizeof err) == 0, "%s", err);
	}
	*n_vocab = trit_forward_n_vocab(f);
	ck_assert_uint_le(*n_vocab, 512);
	ck_assert_msg(trit_forward_eval(f, prompt, NP, 0, out, err, sizeof err) == 0, "%s", err);
	trit_forward_free(f);
	trit_weights_free(w);
	trit_model_close(m);
}

/* The same seeded trits stored as I2_S, TQ2_0 and F32: the ternary kernels'
 * integer dots make I2_S, its TL1/TL2 repacks and TQ2_0 repacked to I2_S
 * give the same bits. F32 weights take F32 activations (no int8 rounding),
 * which moves these logits by 3.6e-2 of their scale (measured); the bound
 * 0.1 still catches a wrong graph (a lost weight scale, a wrong layout),
 * which moves them by O(1). */
START_TEST(generated_bitnet_files_agree_across_formats)
{
	char dir[] = "/tmp/trit-forward-XXXXXX", f32[128], i2s[128], tq2[128], args[512];
	float a[512], b[512];
	double want[512];
	uint32_t nv, nv2;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(f32, sizeof f32, "%s/F32.gguf", dir);
	snprintf(i2s, sizeof i2s, "%s/I2_S.gguf", dir);
	snprintf(tq2, sizeof tq2, "%s/TQ2_0.gguf", dir);
	for (int k = 0; k < 3; k++) {
		const char *file = k == 0 ? f32 : k == 1 ? i2s : tq2;
		snprintf(args, sizeof args, "--shape ref-bitnet-b1.58 --format gguf --weights ternary "
		         "--seed 3 --type %s -o '%s' >/dev/null", k == 0 ? "F32" : k == 1 ? "I2_S" :
		         "TQ2_0", file);
		ck_assert_msg(test_genmodel(args) == 0, "trit-genmodel %s", args);
	}
	run_file(i2s, 0, a, &nv);
	run_file(i2s, TRIT_TYPE_TL2, b, &nv2);
	ck_assert_uint_eq(nv, nv2);
	ck_assert_msg(memcmp(a, b, nv * sizeof *a) == 0, "I2_S and its TL2 repack differ");
	run_file(i2s, TRIT_TYPE_TL1, b, &nv2);
	ck_assert_msg(memcmp(a, b, nv * sizeof *a) == 0, "I2_S and its TL1 repack differ");
	run_file(tq2, TRIT_TYPE_I2_S, b, &nv2);
	ck_assert_msg(memcmp(a, b, nv * sizeof *a) == 0, "TQ2_0 repacked to I2_S differs");
	run_file(f32, 0, b, &nv2);
	for (uint32_t i = 0; i < nv; i++)
		want[i] = b[i];
	ck_assert_msg(rel_err(a, want, (int)nv) <= 0.1, "I2_S vs F32 weights: %g",
	              rel_err(a, want, (int)nv));
	test_remove_tree(dir);
}
END_TEST

static Suite *forward_suite(void)
{
	Suite *s = suite_create("forward");
	TCase *tc = tcase_create("forward");

	tcase_add_checked_fixture(tc, open_backends, close_backends);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, llama_logits_match_naive_on_ref_f32_kv);
	tcase_add_test(tc, llama_tied_logits_match_naive_on_cpu_avx2_f32_kv);
	tcase_add_test(tc, llama_f16_and_q8_0_kv_stay_near_naive);
	tcase_add_test(tc, bitnet_i2s_logits_match_naive);
	tcase_add_test(tc, llamacpp_bitnet_logits_match_naive);
	tcase_add_test(tc, every_tokens_logits_match_naive_with_all_logits);
	tcase_add_test(tc, ubatch_1_and_whole_prompt_agree);
	tcase_add_test(tc, one_and_two_threads_give_the_same_bits);
	tcase_add_test(tc, ref_and_cpu_avx2_agree);
	tcase_add_test(tc, cpu_avx2_runs_every_node_itself);
	tcase_add_test(tc, memory_is_accounted_exactly);
	tcase_add_test(tc, a_split_over_targets_gives_the_same_bits);
	tcase_add_test(tc, allocator_places_live_slots_apart_and_reuses_dead_ones);
	tcase_add_test(tc, bad_tokens_positions_and_models_are_refused);
	tcase_add_test(tc, generated_bitnet_files_agree_across_formats);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(forward_suite());
}
