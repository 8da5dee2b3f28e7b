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
#include "model/names.h"
#include "plan/plan.h"

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

static void note(struct trit_plan_result *p, const char *fmt, ...) TRIT_PRINTF(2, 3);
static void note(struct trit_plan_result *p, const char *fmt, ...)
{
	va_list ap;

	if (p->n_notes >= TRIT_ARRAY_LEN(p->notes))
		return;
	va_start(ap, fmt);
	vsnprintf(p->notes[p->n_notes++], sizeof p->notes[0], fmt, ap);
	va_end(ap);
}

static int is_cpu(const struct trit_plan_device *d)
{
	return d->dev->kind == TRIT_DEVICE_CPU;
}

/* Whether the device advertises a kernel for the model's primary type, or,
 * for a BitNet model, one its BitLinear weights can be repacked into. */
static int runs_primary(const struct trit_plan_device *d, const struct trit_model *m)
{
	const char *prim = m->quant.primary;
	int bitlinear = 0;

	for (uint32_t t = 0; prim && t < TRIT_TYPE_COUNT; t++)
		if ((d->dev->matmul_types & TRIT_TYPE_BIT(t)) &&
		    strcmp(trit_type_traits(t)->name, prim) == 0)
			return 1;
	for (size_t i = 0; i < m->n_tensors; i++) {
		struct trit_weight_form f;
		trit_estimate_weight_form(m, &m->tensors[i], d->dev->matmul_types, -1, &f);
		if (f.bitlinear && f.fate == TRIT_WEIGHT_NO_KERNEL)
			return 0;
		bitlinear |= f.bitlinear;
	}
	return bitlinear;
}

/* Rank CPU devices: one that runs the model's kernels, then known bandwidth,
 * then more bandwidth, then more hardware threads. */
static int better_cpu(const struct trit_plan_device *a, const struct trit_plan_device *b,
                      const struct trit_model *m)
{
	int ka = runs_primary(a, m), kb = runs_primary(b, m);
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
};

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
	trit_estimate_free(&p->est);
	rc = trit_estimate_run(c->m, &eo, &pl, c->edevs, p->n_slots, &p->est, err, errlen);
	if (rc)
		return rc;
	for (uint32_t s = 0; s < p->n_slots; s++)
		if (p->est.device_total[s] + p->est.device_headroom[s] > p->slots[s].usable)
			return 0;
	return 1;
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
			snprintf(p->why, sizeof p->why, "all %u layers, embeddings and output fit "
			         "in the %s usable memory", n_layer, c->n_gpu > 1 ? "GPUs'" : "GPU's");
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
				snprintf(p->why, sizeof p->why, "the whole model does not fit in the %s "
				         "usable memory; the last %u of %u layers%s do, the rest run on the "
				         "CPU, token embeddings stay on the CPU (a lookup, not a matmul)%s",
				         c->n_gpu > 1 ? "GPUs'" : "GPU's", lo, n_layer,
				         out_gpu ? " and the output matrix" : "",
				         cap < n_layer ? " (capped by max_gpu_layers)" : "");
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
			snprintf(p->why, sizeof p->why, "%s", o->force == TRIT_STRATEGY_CPU ?
			         "forced by [planner] strategy = cpu" : !c->n_gpu ?
			         "no GPU or accelerator with known free memory is available" :
			         "not even one layer fits on the GPU beside the output and workspace");
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

/* Bytes of buffer b read to decode one token: embeddings are looked up, one
 * row per token, not read whole, unless the same (tied) matrix is the
 * output matmul on this device; MoE models read the routed experts a token
 * uses. */
static uint64_t read_per_token(const struct ctx *c, uint32_t s, const struct trit_mem_buffer *b)
{
	const struct trit_model *m = c->m;
	const struct trit_model_tensor *t;

	if (b->component == TRIT_MEM_KV)
		return b->bytes;
	if (b->component != TRIT_MEM_WEIGHTS || b->tensor < 0 || (size_t)b->tensor >= m->n_tensors)
		return 0;
	t = &m->tensors[b->tensor];
	if (trit_role_group(t->role) == TRIT_GROUP_EMBEDDING &&
	    strncmp(b->name, "output (tied", 12) != 0 &&
	    !(t->role == TRIT_ROLE_TOKEN_EMBD && m->hp.tied_embeddings && c->p->output_slot == s))
		return 0;
	if (m->hp.n_expert && m->hp.n_expert_used &&
	    (t->role == TRIT_ROLE_FFN_GATE_EXPS || t->role == TRIT_ROLE_FFN_UP_EXPS ||
	     t->role == TRIT_ROLE_FFN_DOWN_EXPS))
		return b->bytes / m->hp.n_expert * m->hp.n_expert_used;
	return b->bytes;
}

static void add_why(char **w, size_t *left, const char *fmt, ...) TRIT_PRINTF(3, 4);
static void add_why(char **w, size_t *left, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(*w, *left, fmt, ap);
	va_end(ap);
	if (k > 0 && (size_t)k < *left) {
		*w += k;
		*left -= (size_t)k;
	}
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
	double total = 0;
	int n = 0;
	char *w = p->speed_why;
	size_t left = sizeof p->speed_why;

	p->tokens_per_s = -1;
	for (uint32_t s = 0; s < p->n_slots; s++) {
		const struct trit_device *d = c->devs[p->slots[s].input].dev;
		uint64_t kern[TRIT_TYPE_COUNT] = { 0 }, other = 0;
		const struct trit_bench_result *fallback = NULL;
		double bw = 0, secs = 0;
		const char *bw_what = "memory bandwidth";

		p->slots[s].seconds_per_token = -1;
		for (size_t i = 0; i < e->n_buffers; i++) {
			const struct trit_mem_buffer *b = &e->buffers[i];
			uint64_t bytes;
			if (b->device != s || !(bytes = read_per_token(c, s, b)))
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
			bw_what = "streaming read measured by trit bench; the backend measured no bandwidth";
		}
		if (other && bw <= 0) {
			snprintf(p->speed_why, sizeof p->speed_why, "unknown: %s's memory bandwidth is "
			         "unknown (%s)", d->id, d->mem_bandwidth.source ? d->mem_bandwidth.source :
			         "no reason given");
			return;
		}
		int terms = 0;
		for (uint32_t t = 0; t < TRIT_TYPE_COUNT; t++) {
			const struct trit_bench_result *r;
			if (!kern[t] || !(r = measured(c, s, (int32_t)t)))
				continue;
			secs += (double)kern[t] / r->weight_bps;
			add_why(&w, &left, "%s%s%s %.3f GB of %s weights / %.1f GB/s (the %s kernel as "
			        "trit bench measured it%s%s)", terms ? " +" : n++ ? " + " : "",
			        terms ? "" : d->id, terms ? "" : ":", (double)kern[t] / 1e9, r->kernel,
			        r->weight_bps / 1e9, r->kernel, r->isa[0] ? ", isa " : "", r->isa);
			terms++;
		}
		if (other) {
			secs += (double)other / bw;
			add_why(&w, &left, "%s%s%s %.3f GB read per token / %.1f GB/s (%s)",
			        terms ? " +" : n++ ? " + " : "", terms ? "" : d->id, terms ? "" : ":",
			        (double)other / 1e9, bw / 1e9, bw_what);
		}
		if (secs <= 0)
			continue;
		p->slots[s].seconds_per_token = secs;
		total += secs;
	}
	if (total > 0) {
		p->tokens_per_s = 1.0 / total;
		add_why(&w, &left, " -> %.1f tokens/s (decode is bandwidth-bound: weights and KV "
		        "cache are read once per token)", p->tokens_per_s);
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
		char *w = p->slots[s].pref_why;
		size_t left = sizeof p->slots[s].pref_why;
		int n = 0;

		c->edevs[s].ternary_pref = -1;
		for (size_t i = 0; i < TRIT_ARRAY_LEN(order); i++) {
			const struct trit_bench_result *r = measured(c, s, (int32_t)order[i]);
			if (!(c->edevs[s].matmul_types & TRIT_TYPE_BIT(order[i])) || !r)
				continue;
			if (!best || r->gops > best->gops)
				best = r;
		}
		if (!best)
			continue;
		c->edevs[s].ternary_pref = (int32_t)best->type;
		add_why(&w, &left, "the fastest of its kernels trit bench measured (%s):",
		        c->o->bench->path);
		for (size_t i = 0; i < TRIT_ARRAY_LEN(order); i++) {
			const struct trit_bench_result *r = measured(c, s, (int32_t)order[i]);
			if ((c->edevs[s].matmul_types & TRIT_TYPE_BIT(order[i])) && r)
				add_why(&w, &left, "%s %s %.2f GOP/s", n++ ? "," : "", r->kernel, r->gops);
		}
		c->edevs[s].ternary_pref_why = p->slots[s].pref_why;
	}
}

/* Say which ternary format each device's repacked weights get, and why. */
static void formats(struct ctx *c)
{
	struct trit_plan_result *p = c->p;

	for (uint32_t s = 0; s < p->n_slots; s++) {
		const struct trit_repack_summary *r = &p->est.repack[s];
		const struct trit_estimate_device *ed = &c->edevs[s];
		const struct trit_type_traits *tt;

		if (r->run_type < 0 || !(tt = trit_type_traits((uint32_t)r->run_type)))
			continue;
		if (ed->ternary_pref == r->run_type && ed->ternary_pref_why)
			snprintf(p->slots[s].format_why, sizeof p->slots[s].format_why, "%s: %s",
			         tt->name, ed->ternary_pref_why);
		else
			snprintf(p->slots[s].format_why, sizeof p->slots[s].format_why,
			         "%s: the first of I2_S, TL2, TL1 that %s runs%s", tt->name, ed->name,
			         ed->ternary_pref_why ? "" : " (no trit bench measurement to choose by)");
	}
}

uint32_t trit_plan_threads(const struct trit_device *d, uint32_t forced,
                           enum trit_priority priority, char *why, size_t len)
{
	uint32_t n;

	if (forced) {
		snprintf(why, len, "threads: %u, as configured ([runtime] threads)", forced);
		return forced;
	}
	if (!d) {
		snprintf(why, len, "threads: 1, no CPU device in the plan");
		return 1;
	}
	const struct trit_value *v = priority == TRIT_PRIORITY_THROUGHPUT ?
	                             &d->hw_threads : &d->compute_units;
	if (v->state == TRIT_VALUE_UNKNOWN || !v->value)
		v = v == &d->hw_threads ? &d->compute_units : &d->hw_threads;
	if (v->state == TRIT_VALUE_UNKNOWN || !v->value) {
		snprintf(why, len, "threads: assumed 1, %s reports neither cores nor hardware "
		         "threads", d->id);
		return 1;
	}
	n = v->value > 4096 ? 4096 : (uint32_t)v->value;
	if (priority == TRIT_PRIORITY_THROUGHPUT)
		snprintf(why, len, "threads: %u = %s's hardware threads (priority throughput)", n, d->id);
	else
		snprintf(why, len, "threads: %u = %s's physical cores (priority %s: one thread per "
		         "core avoids sharing a core's memory port)", n, d->id,
		         priority == TRIT_PRIORITY_LATENCY ? "latency" : "balanced");
	return n;
}

static void threads(struct ctx *c)
{
	struct trit_plan_result *p = c->p;
	const struct trit_device *d = NULL;
	char why[sizeof p->notes[0]];

	if (c->has_cpu)
		d = c->devs[p->slots[c->n_gpu].input].dev;
	p->threads = trit_plan_threads(d, c->o->threads, c->o->priority, why, sizeof why);
	if (!c->o->threads)
		note(p, "%s", why);
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
	if (!p->layer_slot || !p->slots || !c.edevs) {
		free(c.edevs);
		trit_plan_result_free(p);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	/* Slots: every GPU with known free memory, then the best CPU device. */
	for (uint32_t i = 0; i < n; i++) {
		const struct trit_device *d = devs[i].dev;
		if (d->mem_free.state == TRIT_VALUE_UNKNOWN) {
			note(p, "%s/%s left out: its free memory is unknown (%s)", devs[i].backend, d->id,
			     d->mem_free.source ? d->mem_free.source : "no reason given");
			continue;
		}
		if (is_cpu(&devs[i])) {
			if (cpu < 0 || better_cpu(&devs[i], &devs[cpu], m))
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
	for (uint32_t s = 0; s < p->n_slots; s++) {
		const struct trit_plan_device *d = &devs[p->slots[s].input];
		uint64_t free_b = d->dev->mem_free.value, usable = free_b;
		struct trit_plan_slot *sl = &p->slots[s];
		if (d->limit && d->limit < usable)
			usable = d->limit;
		if (!is_cpu(d))
			usable = (uint64_t)((double)usable * frac);
		sl->usable = usable;
		snprintf(sl->usable_why, sizeof sl->usable_why, "%s%s%s%s", "free memory",
		         d->limit && d->limit < free_b ? ", capped by " : "",
		         d->limit && d->limit < free_b ? (d->limit_where ? d->limit_where : "a limit") : "",
		         is_cpu(d) ? "" : " x GPU fraction");
		c.edevs[s] = (struct trit_estimate_device){
			.name = d->dev->id, .is_cpu = is_cpu(d), .be = d->be, .state = d->state,
			.index = d->index, .matmul_types = d->dev->matmul_types, .ternary_pref = -1,
		};
		for (uint32_t k = 0; k < d->dev->n_props; k++)
			if (strcmp(d->dev->props[k].key, "mem.overhead") == 0 &&
			    d->dev->props[k].value.state != TRIT_VALUE_UNKNOWN) {
				c.edevs[s].overhead = d->dev->props[k].value.value;
				c.edevs[s].overhead_source = d->dev->props[k].value.source;
			}
		if (!is_cpu(d) && !runs_primary(d, m))
			note(p, "%s/%s advertises no %s kernel yet: the plan counts its memory, but "
			     "running it needs that kernel", d->backend, d->dev->id,
			     m->quant.primary ? m->quant.primary : "matmul");
	}
	if (!p->n_slots) {
		free(c.edevs);
		trit_plan_result_free(p);
		return trit_errf(err, errlen, TRIT_ENODEV, "no device with known free memory to plan on");
	}
	preferences(&c);
	if (c.has_cpu && !runs_primary(&devs[cpu], m))
		note(p, "%s/%s advertises no %s kernel yet: the plan counts its memory, but running "
		     "it needs that kernel", devs[cpu].backend, devs[cpu].dev->id,
		     m->quant.primary ? m->quant.primary : "matmul");

	ubatch = o->est.n_ubatch ? o->est.n_ubatch : TRIT_PLAN_UBATCH_MAX;
	rc = choose(&c, n_ctx, ubatch, err, errlen);
	/* Without a fixed ubatch, shrink it before giving up a strategy. */
	while (rc == 0 && !o->est.n_ubatch && ubatch > 1) {
		ubatch /= 2;
		rc = choose(&c, n_ctx, ubatch, err, errlen);
	}
	if (rc < 0) {
		free(c.edevs);
		trit_plan_result_free(p);
		return rc;
	}
	p->ubatch = ubatch;
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
		if (p->max_ctx)
			snprintf(p->why, sizeof p->why, "nothing fits with a context of %u tokens; the "
			         "largest context that fits is %u tokens (with ubatch 1)", n_ctx, p->max_ctx);
		else
			snprintf(p->why, sizeof p->why, "nothing fits, even with a context of %u tokens: "
			         "the weights alone exceed the usable memory", pad);
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
		if (p->threads < 1 || p->ubatch < 1 || !(p->gpu_fraction > 0 && p->gpu_fraction <= 1)) {
			free(c.edevs);
			trit_plan_result_free(p);
			return trit_errf(err, errlen, TRIT_EINTERNAL, "the plan broke its own invariants "
			                 "(threads %u, ubatch %u, fraction %.2f)", p->threads, p->ubatch,
			                 p->gpu_fraction);
		}
	}
	free(c.edevs);
	return 0;
}

void trit_plan_result_free(struct trit_plan_result *p)
{
	if (!p)
		return;
	trit_estimate_free(&p->est);
	free(p->slots);
	free(p->layer_slot);
	p->slots = NULL;
	p->layer_slot = NULL;
}
