/*
 * plan.c - choose CPU-only, GPU-only or a hybrid layer split.
 *
 * Usable memory per device is what the backend measured free, capped by the
 * operator's limit, times the GPU fraction on GPUs. A placement fits when
 * every device's estimate plus its headroom is within its usable memory. The
 * planner tries GPU-only, then the largest number of (last) layers that fits
 * on the GPUs with the rest on the best CPU device, then CPU-only; when
 * nothing fits it finds the largest context that would. Multi-GPU splits are
 * proportional to usable memory. The memory arithmetic is estimate.c's.
 * Each choice is recorded as a reason code with its numbers (plan.h); the
 * sentences are report/reason.c's.
 */
#include <build-config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "core/common.h"
#include "core/log.h"
#include "model/gguf.h"
#include "model/names.h"
#include "plan/plan.h"
#include "text/sampler.h"
#include "text/vocab.h"

const char *trit_strategy_name(enum trit_strategy s)
{
	switch (s) {
	case TRIT_STRATEGY_CPU: return "cpu-only";
	case TRIT_STRATEGY_GPU: return "gpu-only";
	case TRIT_STRATEGY_HYBRID: return "hybrid";
	case TRIT_STRATEGY_NONE: return "none";
	default: return "auto";
	}
}

uint32_t trit_plan_workspace_batch(uint64_t free_bytes, uint64_t weight_bytes,
                                   uint64_t out_features, uint32_t bytes_per_value,
                                   double fraction, double overhead, uint32_t cap)
{
	double usable = fraction * (double)free_bytes - (double)weight_bytes -
	                overhead * (double)free_bytes;
	double per_row = (double)out_features * bytes_per_value;
	double b = per_row > 0 ? floor(usable / per_row) : 1;

	if (cap < 1)
		cap = 1;
	if (b < 1)
		b = 1;
	if (b > cap)
		b = cap;
	trit_log(TRIT_LOG_DEBUG, "workspace batch: usable = %.2f x %llu free - %llu weights - "
	         "%.0f%% = %.0f bytes; / (%llu out x %u bytes) -> %.0f (cap %u)", fraction,
	         (unsigned long long)free_bytes, (unsigned long long)weight_bytes,
	         overhead * 100, usable, (unsigned long long)out_features,
	         bytes_per_value, b, cap);
	return (uint32_t)b;
}

/* Fill a reason record: code, slot, up to TRIT_PLAN_REASON_NUMS numbers. */
static void set_reason(struct trit_plan_reason_rec *r, enum trit_plan_reason code, int slot,
                       const double *num, size_t n)
{
	memset(r, 0, sizeof *r);
	r->code = (uint16_t)code;
	r->slot = (int16_t)slot;
	for (size_t i = 0; i < n && i < TRIT_PLAN_REASON_NUMS; i++)
		r->num[i] = num[i];
}

/* Name i of a reason (truncated to fit; NULL = ""). */
static void set_arg(struct trit_plan_reason_rec *r, int i, const char *s)
{
	size_t n = 0;

	for (; s && s[n] && n + 1 < sizeof r->arg[i]; n++)
		r->arg[i][n] = s[n];
	r->arg[i][n] = '\0';
}
/* The host's CPU, planned in host memory beside the process. A CPU-kind
 * device that enforces a budget the operator gave it (total configured, free
 * derived from it by the plugin's own accounting: an OpenCL CPU device with
 * [plugin.opencl] memory = ...) is planned as an offload device in that
 * budget instead, like a GPU. A described CPU (trit --devices) is a CPU. */
static int is_cpu(const struct trit_plan_device *d)
{
	return d->dev->kind == TRIT_DEVICE_CPU && !(d->dev->mem_total.state == TRIT_VALUE_CONFIGURED &&
	                                            d->dev->mem_free.state == TRIT_VALUE_DERIVED);
}

/* Whether the device advertises a kernel for the model's primary type, or,
 * for a BitNet model, one its BitLinear weights can be repacked into. */
static int runs_primary(const struct trit_plan_device *d, const struct trit_model *m,
                        int keep_floats, uint32_t force)
{
	const char *prim = m->quant.primary;
	int bitlinear = 0;

	for (uint32_t t = 0; prim && !force && t < TRIT_TYPE_COUNT; t++)
		if ((d->dev->matmul_types & TRIT_TYPE_BIT(t)) &&
		    strcmp(trit_type_traits(t)->name, prim) == 0)
			return 1;
	for (size_t i = 0; i < m->n_tensors; i++) {
		struct trit_weight_form f;
		trit_estimate_weight_form(m, &m->tensors[i], d->dev->matmul_types, -1, force,
		                          keep_floats, &f);
		if (f.bitlinear && f.fate == TRIT_WEIGHT_NO_KERNEL)
			return 0;
		bitlinear |= f.bitlinear;
	}
	return bitlinear;
}

/* Rank CPU devices: one that runs the model's kernels, then known bandwidth,
 * then more bandwidth, then more hardware threads. */
static int better_cpu(const struct trit_plan_device *a, const struct trit_plan_device *b,
                      const struct trit_model *m, int keep_floats, uint32_t force)
{
	int ka = runs_primary(a, m, keep_floats, force), kb = runs_primary(b, m, keep_floats, force);
	if (ka != kb)
		return ka > kb;
	if (!!a->dev->mem_bandwidth.state != !!b->dev->mem_bandwidth.state)
		return a->dev->mem_bandwidth.state != 0;
	if (a->dev->mem_bandwidth.value != b->dev->mem_bandwidth.value)
		return a->dev->mem_bandwidth.value > b->dev->mem_bandwidth.value;
	return a->dev->hw_threads.value > b->dev->hw_threads.value;
}

struct ctx {
	const struct trit_model *m;
	const struct trit_plan_device *devs;
	const struct trit_plan_opts *o;
	struct trit_plan_result *p;
	struct trit_estimate_device *edevs;  /* one per slot */
	uint32_t n_gpu;                      /* slots [0, n_gpu) are GPUs, then maybe one CPU */
	int has_cpu;
	int32_t *pref;                       /* per slot: the format trit bench measured fastest, -1 */
	uint32_t cap_reasons;
	int oom;                             /* a reason could not be stored */
	struct trit_plan_reason_rec scratch; /* where reasons go when out of memory */
	uint64_t host_tokenizer;             /* bytes of the tokenizer's tables */
};

/* The numbers of a reason, as (array, count) for add(). */
#define NUMS(...) (const double[]){ __VA_ARGS__ }, \
	sizeof (const double[]){ __VA_ARGS__ } / sizeof(double)

/* Append a reason to the plan; returns it for its names to be set. Out of
 * memory it returns a scratch record and trit_plan_make fails. */
static struct trit_plan_reason_rec *add(struct ctx *c, enum trit_plan_reason code, int slot,
                                        const double *num, size_t n)
{
	struct trit_plan_result *p = c->p;

	if (p->n_reasons == c->cap_reasons) {
		uint32_t cap = c->cap_reasons ? 2 * c->cap_reasons : 16;
		struct trit_plan_reason_rec *v = realloc(p->reasons, cap * sizeof *v);
		if (!v) {
			c->oom = 1;
			set_reason(&c->scratch, code, slot, num, n);
			return &c->scratch;
		}
		p->reasons = v;
		c->cap_reasons = cap;
	}
	set_reason(&p->reasons[p->n_reasons], code, slot, num, n);
	return &p->reasons[p->n_reasons++];
}

/* Drop the reasons of one kind (a strategy tried again replaces its own). */
static void drop(struct ctx *c, enum trit_plan_reason first, enum trit_plan_reason last)
{
	struct trit_plan_result *p = c->p;
	uint32_t k = 0;

	for (uint32_t i = 0; i < p->n_reasons; i++)
		if (p->reasons[i].code < first || p->reasons[i].code > last)
			p->reasons[k++] = p->reasons[i];
	p->n_reasons = k;
}

/* Estimate the placement currently in p->layer_slot etc. with context n_ctx;
 * returns 1 when every slot fits, 0 when not, <0 on error. */
static int try_fit(struct ctx *c, uint32_t n_ctx, uint32_t ubatch, char *err, size_t errlen)
{
	struct trit_plan_result *p = c->p;
	struct trit_estimate_opts eo = c->o->est;
	struct trit_placement pl = {
		.layer_device = p->layer_slot, .embd_device = p->embd_slot,
		.output_device = p->output_slot,
	};
	int rc;

	eo.n_ctx = n_ctx;
	eo.n_ubatch = ubatch;
	eo.host_tokenizer = c->host_tokenizer;
	eo.sampler_history = trit_sampler_params_default().repeat_last_n;
	trit_estimate_free(&p->est);
	rc = trit_estimate_run(c->m, &eo, &pl, c->edevs, p->n_slots, &p->est, err, errlen);
	if (rc)
		return rc;
	for (uint32_t s = 0; s < p->n_slots; s++)
		if (!trit_plan_slot_unused(p, s) &&
		    p->est.device_total[s] + p->est.device_headroom[s] > p->slots[s].usable)
			return 0;
	return 1;
}

int trit_plan_slot_unused(const struct trit_plan_result *p, uint32_t s)
{
	return s < p->n_gpu && s < p->n_slots && !p->slots[s].n_layers && p->embd_slot != s &&
	       p->output_slot != s;
}

/* Put n_gpu_layers (the last ones) on the GPUs, split in proportion to their
 * usable memory, and the rest on the CPU slot. */
static void place(struct ctx *c, uint32_t n_gpu_layers, int output_on_gpu)
{
	struct trit_plan_result *p = c->p;
	uint32_t n_layer = c->m->hp.n_layer, cpu = c->n_gpu;
	uint32_t first_gpu = n_layer - n_gpu_layers;
	double total = 0, acc = 0;

	for (uint32_t g = 0; g < c->n_gpu; g++)
		total += (double)p->slots[g].usable;
	for (uint32_t il = 0; il < first_gpu; il++)
		p->layer_slot[il] = cpu;
	for (uint32_t il = first_gpu, g = 0; il < n_layer; il++) {
		/* layer il goes to the GPU whose share of [0, total) its position falls in */
		double pos = ((double)(il - first_gpu) + 0.5) / n_gpu_layers * total;
		while (g + 1 < c->n_gpu && pos >= acc + (double)p->slots[g].usable) {
			acc += (double)p->slots[g].usable;
			g++;
		}
		p->layer_slot[il] = g;
	}
	p->embd_slot = c->has_cpu ? cpu : 0;
	p->output_slot = output_on_gpu && c->n_gpu ? c->n_gpu - 1 : (c->has_cpu ? cpu : 0);
	for (uint32_t s = 0; s < p->n_slots; s++)
		p->slots[s].n_layers = 0;
	for (uint32_t il = n_layer; il-- > 0;) {
		p->slots[p->layer_slot[il]].n_layers++;
		p->slots[p->layer_slot[il]].first_layer = il;
	}
}

/* Try the strategies in order at context n_ctx; 1 = a plan fits (in p). */
static int choose(struct ctx *c, uint32_t n_ctx, uint32_t ubatch, char *err, size_t errlen)
{
	const struct trit_plan_opts *o = c->o;
	struct trit_plan_result *p = c->p;
	uint32_t n_layer = c->m->hp.n_layer;
	uint32_t cap = o->max_gpu_layers >= 0 && (uint32_t)o->max_gpu_layers < n_layer ?
	               (uint32_t)o->max_gpu_layers : n_layer;
	int rc;

	if (c->n_gpu && o->force != TRIT_STRATEGY_CPU && o->force != TRIT_STRATEGY_HYBRID &&
	    cap == n_layer) {
		/* GPU-only: everything, embeddings included, on the GPUs */
		place(c, n_layer, 1);
		p->embd_slot = 0;
		if ((rc = try_fit(c, n_ctx, ubatch, err, errlen)) < 0)
			return rc;
		if (rc) {
			p->strategy = TRIT_STRATEGY_GPU;
			add(c, TRIT_REASON_GPU_ONLY_FITS, -1, NUMS(n_layer, c->n_gpu));
			return 1;
		}
	}
	if (c->n_gpu && c->has_cpu && o->force != TRIT_STRATEGY_CPU && o->force != TRIT_STRATEGY_GPU) {
		/* Hybrid: the most layers that fit; fit is monotonic in the count. */
		/* up to every layer: GPU-only failed, but all layers with the token
		 * embeddings left on the CPU may still fit */
		/* first with the output matrix (and logits) on the GPU; if not even
		 * one layer fits beside them, with the output kept on the CPU */
		uint32_t lo = 0;
		int out_gpu = 1;
		for (; out_gpu >= 0 && lo == 0; out_gpu--) {
			uint32_t hi = cap;
			while (lo < hi) {
				uint32_t mid = lo + (hi - lo + 1) / 2;
				place(c, mid, out_gpu);
				if ((rc = try_fit(c, n_ctx, ubatch, err, errlen)) < 0)
					return rc;
				if (rc)
					lo = mid;
				else
					hi = mid - 1;
			}
		}
		out_gpu++; /* the loop went one past the variant that found lo */
		if (lo > 0) {
			place(c, lo, out_gpu);
			if ((rc = try_fit(c, n_ctx, ubatch, err, errlen)) < 0)
				return rc;
			if (rc) {
				p->strategy = TRIT_STRATEGY_HYBRID;
				add(c, TRIT_REASON_HYBRID_SPLIT, -1, NUMS(lo, n_layer, c->n_gpu, out_gpu,
				    cap < n_layer ? (double)cap : -1.0));
				return 1;
			}
		}
	}
	if (c->has_cpu && o->force != TRIT_STRATEGY_GPU) {
		place(c, 0, 0);
		if ((rc = try_fit(c, n_ctx, ubatch, err, errlen)) < 0)
			return rc;
		if (rc) {
			p->strategy = TRIT_STRATEGY_CPU;
			if (o->force == TRIT_STRATEGY_CPU)
				add(c, TRIT_REASON_CPU_FORCED, -1, NUMS(0));
			else if (!c->n_gpu)
				add(c, TRIT_REASON_CPU_NO_GPU, -1, NUMS(0));
			else
				add(c, TRIT_REASON_CPU_GPU_TOO_SMALL, -1, NUMS(c->n_gpu));
			return 1;
		}
	}
	return 0;
}

/* The cached `trit bench` result of kernel `type` on slot s's device, for
 * decode (one token), or NULL. */
static const struct trit_bench_result *measured(const struct ctx *c, uint32_t s, int32_t type)
{
	const struct trit_plan_device *d = &c->devs[c->p->slots[s].input];
	if (!c->o->bench || type < 0)
		return NULL;
	return trit_bench_cache_find(c->o->bench, d->backend, d->dev, (uint32_t)type, 1);
}

/* What decode reads per token on a device, by kind (the speed_reads note). */
struct reads {
	uint64_t ternary, head, other, row, kv;
};

/* Bytes of buffer b read to decode one token: embeddings are looked up, one
 * row per token, not read whole, unless the same (tied) matrix is the
 * output matmul on this device; MoE models read the routed experts a token
 * uses. Adds them to *rd by kind. */
static uint64_t read_per_token(const struct ctx *c, uint32_t s, const struct trit_mem_buffer *b,
                               struct reads *rd)
{
	const struct trit_model *m = c->m;
	const struct trit_model_tensor *t;
	uint64_t bytes = b->bytes;

	if (b->component == TRIT_MEM_KV) {
		rd->kv += bytes;
		return bytes;
	}
	if (b->component != TRIT_MEM_WEIGHTS || b->tensor < 0 || (size_t)b->tensor >= m->n_tensors)
		return 0;
	t = &m->tensors[b->tensor];
	if (t->role == TRIT_ROLE_TOKEN_EMBD && c->p->embd_slot == s && t->ne[1] &&
	    strncmp(b->name, "output (tied", 12) != 0)
		rd->row += t->n_bytes / t->ne[1]; /* the lookup: one row */
	if (trit_role_group(t->role) == TRIT_GROUP_EMBEDDING &&
	    strncmp(b->name, "output (tied", 12) != 0 &&
	    !(t->role == TRIT_ROLE_TOKEN_EMBD && m->hp.tied_embeddings && c->p->output_slot == s))
		return t->role == TRIT_ROLE_TOKEN_EMBD && c->p->embd_slot == s && t->ne[1] ?
		       t->n_bytes / t->ne[1] : 0;
	if (m->hp.n_expert && m->hp.n_expert_used &&
	    (t->role == TRIT_ROLE_FFN_GATE_EXPS || t->role == TRIT_ROLE_FFN_UP_EXPS ||
	     t->role == TRIT_ROLE_FFN_DOWN_EXPS))
		bytes = b->bytes / m->hp.n_expert * m->hp.n_expert_used;
	if (trit_estimate_is_bitlinear(m, t))
		rd->ternary += bytes;
	else if (t->role == TRIT_ROLE_OUTPUT || trit_role_group(t->role) == TRIT_GROUP_EMBEDDING)
		rd->head += bytes;
	else
		rd->other += bytes;
	return bytes + (t->role == TRIT_ROLE_TOKEN_EMBD && c->p->embd_slot == s && t->ne[1] &&
	                strncmp(b->name, "output (tied", 12) != 0 ? t->n_bytes / t->ne[1] : 0);
}

/* The speed_reads note of slot s. */
static void reads_note(struct ctx *c, uint32_t s, const struct reads *rd)
{
	struct trit_plan_reason_rec *r = add(c, TRIT_REASON_SPEED_READS, (int)s,
	                                     NUMS((double)rd->ternary, (double)rd->head,
	                                          (double)rd->other, (double)rd->row,
	                                          (double)rd->kv, c->p->est.n_ctx));
	set_arg(r, 0, c->devs[c->p->slots[s].input].dev->id);
}

/*
 * Decode is bandwidth-bound: every weight and the KV cache are read once per
 * token. A device's ternary weights stream at the rate `trit bench` measured
 * for the kernel that runs them, when it measured it; everything else at the
 * device's memory bandwidth (or, when the backend measured none, at the
 * streaming read trit bench measured on it).
 */
static void speed(struct ctx *c)
{
	struct trit_plan_result *p = c->p;
	const struct trit_estimate *e = &p->est;
	uint32_t first = p->n_reasons;  /* the speed reasons start here */
	double total = 0;

	p->tokens_per_s = -1;
	for (uint32_t s = 0; s < p->n_slots; s++) {
		const struct trit_device *d = c->devs[p->slots[s].input].dev;
		uint64_t kern[TRIT_TYPE_COUNT] = { 0 }, other = 0;
		struct reads rd = { 0 };
		const struct trit_bench_result *fallback = NULL;
		double bw = 0, secs = 0;
		enum trit_plan_reason bw_code = TRIT_REASON_SPEED_BANDWIDTH;

		p->slots[s].seconds_per_token = -1;
		for (size_t i = 0; i < e->n_buffers; i++) {
			const struct trit_mem_buffer *b = &e->buffers[i];
			uint64_t bytes;
			if (b->device != s || !(bytes = read_per_token(c, s, b, &rd)))
				continue;
			if (b->component == TRIT_MEM_WEIGHTS && b->run_type >= 0 &&
			    trit_estimate_is_bitlinear(c->m, &c->m->tensors[b->tensor]) &&
			    measured(c, s, b->run_type))
				kern[b->run_type] += bytes;
			else
				other += bytes;
		}
		for (uint32_t t = 0; t < TRIT_TYPE_COUNT && !fallback; t++)
			if (measured(c, s, (int32_t)t) && measured(c, s, (int32_t)t)->read_bps > 0)
				fallback = measured(c, s, (int32_t)t);
		if (d->mem_bandwidth.state != TRIT_VALUE_UNKNOWN && d->mem_bandwidth.value) {
			bw = (double)d->mem_bandwidth.value;
		} else if (fallback) {
			bw = fallback->read_bps;
			bw_code = TRIT_REASON_SPEED_BENCH_READ;
		}
		if (other && bw <= 0) {
			/* the unknown replaces the formula so far */
			p->n_reasons = first;
			struct trit_plan_reason_rec *r = add(c, TRIT_REASON_SPEED_UNKNOWN, (int)s,
			                                     NUMS((double)other));
			set_arg(r, 0, d->id);
			set_arg(r, 1, d->mem_bandwidth.source ? d->mem_bandwidth.source : "no reason given");
			return;
		}
		int terms = 0;
		for (uint32_t t = 0; t < TRIT_TYPE_COUNT; t++) {
			const struct trit_bench_result *r;
			if (!kern[t] || !(r = measured(c, s, (int32_t)t)))
				continue;
			secs += (double)kern[t] / r->weight_bps;
			struct trit_plan_reason_rec *x = add(c, TRIT_REASON_SPEED_KERNEL, (int)s,
			                                     NUMS((double)kern[t], r->weight_bps, !terms, t));
			set_arg(x, 0, d->id);
			set_arg(x, 1, r->kernel);
			set_arg(x, 2, r->isa);
			terms++;
		}
		if (other) {
			secs += (double)other / bw;
			set_arg(add(c, bw_code, (int)s, NUMS((double)other, bw, !terms)), 0, d->id);
		}
		if (secs <= 0)
			continue;
		reads_note(c, s, &rd);
		p->slots[s].seconds_per_token = secs;
		total += secs;
	}
	if (total > 0) {
		p->tokens_per_s = 1.0 / total;
		add(c, TRIT_REASON_SPEED_TOTAL, -1, NUMS(p->tokens_per_s, total));
	}
}

/* For each device that runs several ternary formats: the one trit bench
 * measured fastest (GOP/s over the shapes it ran), if it measured any. */
static void preferences(struct ctx *c)
{
	static const uint32_t order[] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL2, TRIT_TYPE_TL1 };
	struct trit_plan_result *p = c->p;

	for (uint32_t s = 0; s < p->n_slots; s++) {
		const struct trit_bench_result *best = NULL;

		c->edevs[s].ternary_pref = c->pref[s] = -1;
		for (size_t i = 0; !c->o->ternary_format && i < TRIT_ARRAY_LEN(order); i++) {
			const struct trit_bench_result *r = measured(c, s, (int32_t)order[i]);
			if (!(c->edevs[s].matmul_types & TRIT_TYPE_BIT(order[i])) || !r)
				continue;
			if (!best || r->gops > best->gops)
				best = r;
		}
		if (best)
			c->edevs[s].ternary_pref = c->pref[s] = (int32_t)best->type;
	}
}

/* Record which ternary format each device's repacked weights get, and why:
 * trit bench's fastest (with every kernel it measured there), or the first
 * the device runs in the order I2_S, TL2, TL1. */
static void formats(struct ctx *c)
{
	static const uint32_t order[] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL2, TRIT_TYPE_TL1 };
	struct trit_plan_result *p = c->p;

	for (uint32_t s = 0; s < p->n_slots; s++) {
		const struct trit_repack_summary *r = &p->est.repack[s];
		const struct trit_type_traits *tt;
		struct trit_plan_reason_rec *x;

		if (c->o->ternary_format && (tt = trit_type_traits(c->o->ternary_format))) {
			/* forced: said for every device, whether it repacks or runs the
			 * file's format as stored */
			if (r->run_type >= 0)
				p->slots[s].format = (uint32_t)r->run_type;
			x = add(c, TRIT_REASON_FORMAT_CONFIGURED, (int)s, NUMS(c->o->ternary_format));
			set_arg(x, 0, tt->name);
			set_arg(x, 1, c->o->ternary_format == TRIT_TYPE_TL1 ? "tl1" :
			        c->o->ternary_format == TRIT_TYPE_TL2 ? "tl2" : "i2_s");
			set_arg(x, 2, c->o->ternary_format_where ? c->o->ternary_format_where :
			        "command line");
			continue;
		}
		if (r->run_type < 0 || !(tt = trit_type_traits((uint32_t)r->run_type)))
			continue;
		p->slots[s].format = (uint32_t)r->run_type;
		if (c->pref[s] == r->run_type) {
			x = add(c, TRIT_REASON_FORMAT_MEASURED, (int)s, NUMS(r->run_type));
			set_arg(x, 0, tt->name);
			set_arg(x, 1, c->o->bench->path);
			for (size_t i = 0; i < TRIT_ARRAY_LEN(order); i++) {
				const struct trit_bench_result *b = measured(c, s, (int32_t)order[i]);
				if ((c->edevs[s].matmul_types & TRIT_TYPE_BIT(order[i])) && b)
					set_arg(add(c, TRIT_REASON_FORMAT_KERNEL_GOPS, (int)s,
					            NUMS(b->gops, order[i])), 0, b->kernel);
			}
			continue;
		}
		x = add(c, c->pref[s] >= 0 ? TRIT_REASON_FORMAT_FIRST :
		        TRIT_REASON_FORMAT_FIRST_UNMEASURED, (int)s, NUMS(r->run_type, c->pref[s]));
		set_arg(x, 0, tt->name);
		set_arg(x, 1, c->edevs[s].name);
	}
}

uint32_t trit_plan_threads(const struct trit_device *d, uint32_t forced,
                           enum trit_priority priority, struct trit_plan_reason_rec *why)
{
	struct trit_plan_reason_rec r;
	uint32_t n;

	if (!why)
		why = &r;
	if (forced) {
		set_reason(why, TRIT_REASON_THREADS_CONFIGURED, -1, NUMS(forced));
		return forced;
	}
	if (!d) {
		set_reason(why, TRIT_REASON_THREADS_NO_CPU, -1, NUMS(1));
		return 1;
	}
	const struct trit_value *v = priority == TRIT_PRIORITY_THROUGHPUT ?
	                             &d->hw_threads : &d->compute_units;
	if (v->state == TRIT_VALUE_UNKNOWN || !v->value)
		v = v == &d->hw_threads ? &d->compute_units : &d->hw_threads;
	if (v->state == TRIT_VALUE_UNKNOWN || !v->value) {
		set_reason(why, TRIT_REASON_THREADS_UNKNOWN, -1, NUMS(1));
		set_arg(why, 0, d->id);
		return 1;
	}
	n = v->value > 4096 ? 4096 : (uint32_t)v->value;
	if (priority == TRIT_PRIORITY_THROUGHPUT) {
		set_reason(why, TRIT_REASON_THREADS_HW, -1, NUMS(n));
	} else {
		set_reason(why, TRIT_REASON_THREADS_CORES, -1, NUMS(n));
		set_arg(why, 1, priority == TRIT_PRIORITY_LATENCY ? "latency" : "balanced");
	}
	set_arg(why, 0, d->id);
	return n;
}

static void threads(struct ctx *c)
{
	struct trit_plan_result *p = c->p;
	const struct trit_device *d = NULL;
	struct trit_plan_reason_rec why;

	if (c->has_cpu)
		d = c->devs[p->slots[c->n_gpu].input].dev;
	p->threads = trit_plan_threads(d, c->o->threads, c->o->priority, &why);
	why.slot = (int16_t)(c->has_cpu ? (int)c->n_gpu : -1);
	*add(c, TRIT_REASON_NONE, -1, NUMS(0)) = why;
}

/* Why slot s may use `usable` bytes of the `free_b` measured free. */
static void usable_reason(struct ctx *c, uint32_t s, const struct trit_plan_device *d,
                          uint64_t free_b, double frac)
{
	int capped = d->limit && d->limit < free_b;
	enum trit_plan_reason code = is_cpu(d) ?
		(capped ? TRIT_REASON_USABLE_LIMIT : TRIT_REASON_USABLE_FREE) :
		(capped ? TRIT_REASON_USABLE_LIMIT_FRACTION : TRIT_REASON_USABLE_FRACTION);
	struct trit_plan_reason_rec *r = add(c, code, (int)s,
		NUMS((double)free_b, (double)d->limit, is_cpu(d) ? 1 : frac,
		     (double)c->p->slots[s].usable));

	set_arg(r, 0, d->limit_where ? d->limit_where : "a limit");
}

/* Note that CPU device d is planned as an offload device in its budget. */
static void budget_offload(struct ctx *c, int slot, const struct trit_plan_device *d)
{
	struct trit_plan_reason_rec *r = add(c, TRIT_REASON_DEVICE_BUDGET_OFFLOAD, slot,
	                                     NUMS((double)d->dev->mem_total.value));

	set_arg(r, 0, d->backend);
	set_arg(r, 1, d->dev->id);
	set_arg(r, 2, d->dev->mem_total.source ? d->dev->mem_total.source : "configured");
}

/* Note that device d advertises no kernel for the model's primary type. */
static void no_kernel(struct ctx *c, int slot, const struct trit_plan_device *d)
{
	struct trit_plan_reason_rec *r = add(c, TRIT_REASON_DEVICE_NO_KERNEL, slot, NUMS(0));

	set_arg(r, 0, d->backend);
	set_arg(r, 1, d->dev->id);
	set_arg(r, 2, c->o->ternary_format ? trit_type_traits(c->o->ternary_format)->name :
	        c->m->quant.primary ? c->m->quant.primary : "matmul");
}

/* Free what trit_plan_make allocated and return rc with err filled (fmt
 * NULL: err was filled already). */
static int fail(struct ctx *c, int rc, char *err, size_t errlen, const char *fmt, ...)
	TRIT_PRINTF(5, 6);
static int fail(struct ctx *c, int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (fmt && err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	free(c->edevs);
	free(c->pref);
	trit_plan_result_free(c->p);
	return rc;
}

/* This process's resident set (VmRSS of /proc/self/status), 0 when unreadable. */
static uint64_t process_rss(void)
{
	char line[256];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return (uint64_t)kb * 1024;
}

/* The bytes of the tokenizer tables `trit run` loads from m's GGUF, read
 * here as the loader reads them (trit_vocab_measure); 0 when it has none. */
static uint64_t tokenizer_bytes(const struct trit_model *m)
{
	struct trit_gguf *g = NULL;
	uint64_t bytes = 0;
	char err[256];

	if (m->format == TRIT_MODEL_GGUF && !trit_gguf_open(m->path, &g, err, sizeof err))
		trit_vocab_measure(g, &bytes, err, sizeof err);
	trit_gguf_close(g);
	return bytes;
}

/* The CPU device's overhead, unless its backend measured one: what the
 * process holds before the model's buffers, measured (the model's metadata
 * and tensor table are parsed by now); the tokenizer is measured after, so
 * it is not in the baseline. */
static void measure_process(struct ctx *c, uint32_t s)
{
	uint64_t rss = c->edevs[s].overhead ? 0 : process_rss();

	if (rss) {
		c->edevs[s].overhead = rss;
		c->edevs[s].overhead_source = "the process's resident set at plan time "
		                              "(VmRSS, /proc/self/status)";
	}
	c->host_tokenizer = tokenizer_bytes(c->m);
}

int trit_plan_make(const struct trit_model *m, const struct trit_plan_device *devs, uint32_t n,
                   const struct trit_plan_opts *o, struct trit_plan_result *p, char *err, size_t errlen)
{
	struct ctx c = { .m = m, .devs = devs, .o = o, .p = p };
	int cpu = -1, rc;
	uint32_t n_ctx = o->est.n_ctx ? o->est.n_ctx : m->hp.n_ctx_train;
	uint32_t ubatch;
	double frac = o->gpu_fraction > 0 ? o->gpu_fraction : 0.90;

	memset(p, 0, sizeof *p);
	if (frac > TRIT_PLAN_GPU_FRACTION_MAX)
		frac = TRIT_PLAN_GPU_FRACTION_MAX;
	p->gpu_fraction = frac;
	p->layer_slot = calloc(m->hp.n_layer ? m->hp.n_layer : 1, sizeof *p->layer_slot);
	p->slots = calloc(n + 1, sizeof *p->slots);
	c.edevs = calloc(n + 1, sizeof *c.edevs);
	c.pref = calloc(n + 1, sizeof *c.pref);
	if (!p->layer_slot || !p->slots || !c.edevs || !c.pref)
		return fail(&c, TRIT_ENOMEM, err, errlen, "out of memory");
	/* Slots: every GPU with known free memory, then the best CPU device. */
	for (uint32_t i = 0; i < n; i++) {
		const struct trit_device *d = devs[i].dev;
		if (d->mem_free.state == TRIT_VALUE_UNKNOWN) {
			struct trit_plan_reason_rec *r = add(&c, TRIT_REASON_DEVICE_FREE_UNKNOWN, -1,
			                                     NUMS(i));
			set_arg(r, 0, devs[i].backend);
			set_arg(r, 1, d->id);
			set_arg(r, 2, d->mem_free.source ? d->mem_free.source : "no reason given");
			continue;
		}
		if (is_cpu(&devs[i])) {
			if (cpu < 0 || better_cpu(&devs[i], &devs[cpu], m, o->est.keep_floats,
			                                o->ternary_format))
				cpu = (int)i;
			continue;
		}
		p->slots[c.n_gpu++].input = i;
	}
	if (cpu >= 0) {
		p->slots[c.n_gpu].input = (uint32_t)cpu;
		c.has_cpu = 1;
	}
	p->n_slots = c.n_gpu + (uint32_t)c.has_cpu;
	p->n_gpu = c.n_gpu;
	for (uint32_t s = 0; s < p->n_slots; s++) {
		const struct trit_plan_device *d = &devs[p->slots[s].input];
		uint64_t free_b = d->dev->mem_free.value, usable = free_b;
		struct trit_plan_slot *sl = &p->slots[s];
		if (d->limit && d->limit < usable)
			usable = d->limit;
		if (!is_cpu(d))
			usable = (uint64_t)((double)usable * frac);
		sl->usable = usable;
		usable_reason(&c, s, d, free_b, frac);
		c.edevs[s] = (struct trit_estimate_device){
			.name = d->dev->id, .is_cpu = is_cpu(d), .be = d->be, .state = d->state,
			.index = d->index, .matmul_types = d->dev->matmul_types, .ternary_pref = -1,
			.ternary_force = o->ternary_format,
		};
		for (uint32_t k = 0; k < d->dev->n_props; k++)
			if (strcmp(d->dev->props[k].key, "mem.overhead") == 0 &&
			    d->dev->props[k].value.state != TRIT_VALUE_UNKNOWN) {
				c.edevs[s].overhead = d->dev->props[k].value.value;
				c.edevs[s].overhead_source = d->dev->props[k].value.source;
			}
		if (is_cpu(d) && o->measure_process)
			measure_process(&c, s);
		if (!is_cpu(d) && !runs_primary(d, m, o->est.keep_floats, o->ternary_format))
			no_kernel(&c, (int)s, d);
		if (!is_cpu(d) && d->dev->kind == TRIT_DEVICE_CPU)
			budget_offload(&c, (int)s, d);
	}
	if (!p->n_slots)
		return fail(&c, TRIT_ENODEV, err, errlen, "no device with known free memory to plan on");
	preferences(&c);
	if (c.has_cpu && !runs_primary(&devs[cpu], m, o->est.keep_floats,
	                                    o->ternary_format))
		no_kernel(&c, (int)c.n_gpu, &devs[cpu]);

	ubatch = o->est.n_ubatch ? o->est.n_ubatch : TRIT_PLAN_UBATCH_MAX;
	if (n_ctx && ubatch > n_ctx)
		ubatch = n_ctx; /* a pass never holds more tokens than the context */
	rc = choose(&c, n_ctx, ubatch, err, errlen);
	/* Without a fixed ubatch, shrink it before giving up a strategy. */
	while (rc == 0 && !o->est.n_ubatch && ubatch > 1) {
		ubatch /= 2;
		rc = choose(&c, n_ctx, ubatch, err, errlen);
	}
	if (rc < 0)
		return fail(&c, rc, NULL, 0, NULL);
	p->ubatch = ubatch;
	if (o->est.n_ubatch)
		add(&c, TRIT_REASON_UBATCH_CONFIGURED, -1, NUMS(ubatch));
	else
		add(&c, TRIT_REASON_UBATCH_HALVED, -1, NUMS(ubatch, TRIT_PLAN_UBATCH_MAX));
	if (rc == 0) {
		/* Nothing fits: the largest context that would, at ubatch 1 (fitting
		 * only gets easier as the context shrinks). */
		uint32_t pad = o->est.kv_pad ? o->est.kv_pad : TRIT_KV_PAD;
		uint32_t lo = 0, hi = n_ctx / pad; /* in units of pad cells */
		p->max_ctx = 0;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo + 1) / 2;
			if ((rc = choose(&c, mid * pad, 1, err, errlen)) < 0)
				break;
			if (rc)
				lo = mid;
			else
				hi = mid - 1;
		}
		p->max_ctx = lo * pad;
		p->strategy = TRIT_STRATEGY_NONE;
		/* the search's trial plans leave no reasons behind */
		drop(&c, TRIT_REASON_GPU_ONLY_FITS, TRIT_REASON_CPU_GPU_TOO_SMALL);
		if (p->max_ctx)
			add(&c, TRIT_REASON_NOTHING_FITS_MAX_CTX, -1, NUMS(n_ctx, p->max_ctx, 1));
		else
			add(&c, TRIT_REASON_NOTHING_FITS_WEIGHTS, -1, NUMS(pad));
		/* leave an estimate of the all-CPU (or all-GPU) placement for the report */
		place(&c, c.has_cpu ? 0 : m->hp.n_layer, !c.has_cpu);
		try_fit(&c, n_ctx, 1, err, errlen);
	}
	if (p->strategy != TRIT_STRATEGY_NONE) {
		threads(&c);
		speed(&c);
		formats(&c);
		for (uint32_t s = 0; s < c.n_gpu; s++) {
			uint64_t rows = 0;
			for (size_t i = 0; i < m->n_tensors; i++)
				if (m->tensors[i].layer >= 0 && p->layer_slot[m->tensors[i].layer] == s &&
				    trit_role_is_matrix(m->tensors[i].role) && m->tensors[i].ne[1] > rows)
					rows = m->tensors[i].ne[1];
			p->slots[s].workspace_batch = trit_plan_workspace_batch(
				devs[p->slots[s].input].dev->mem_free.value, p->est.device[s][TRIT_MEM_WEIGHTS],
				rows, 4, o->workspace_fraction > 0 ? o->workspace_fraction : 0.80,
				o->workspace_overhead >= 0 ? o->workspace_overhead : TRIT_PLAN_WORKSPACE_OVERHEAD,
				o->max_batch ? o->max_batch : 256);
		}
		/* the plan's own invariants */
		if (p->threads < 1 || p->ubatch < 1 || !(p->gpu_fraction > 0 && p->gpu_fraction <= 1))
			return fail(&c, TRIT_EINTERNAL, err, errlen, "the plan broke its own invariants "
			            "(threads %u, ubatch %u, fraction %.2f)", p->threads, p->ubatch,
			            p->gpu_fraction);
	}
	if (c.oom)
		return fail(&c, TRIT_ENOMEM, err, errlen, "out of memory recording the plan's reasons");
	free(c.edevs);
	free(c.pref);
	return 0;
}

void trit_plan_result_free(struct trit_plan_result *p)
{
	if (!p)
		return;
	trit_estimate_free(&p->est);
	free(p->slots);
	free(p->layer_slot);
	free(p->reasons);
	p->slots = NULL;
	p->layer_slot = NULL;
	p->reasons = NULL;
	p->n_reasons = 0;
}
