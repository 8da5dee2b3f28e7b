/*
 * api_bench.c - `trit bench` in <trit/trit.h>: choose the devices and
 * kernels the options ask for, run each through bench.c with the planner's
 * thread count, collect results and refusals, and add the results to the
 * runtime's bench cache. Measuring is bench.c's; rendering report.c's.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/common.h"
#include "plan/plan.h"
#include "backend/registry.h"
#include "report/report.h"

_Static_assert(TRIT_BENCH_OPT_MAX_SHAPES == TRIT_BENCH_MAX_SHAPES,
               "the API's shape limit is bench.c's");

struct trit_bench_report {
	struct trit_bench_result *res;
	struct trit_bench_refusal *refused;
	size_t n_res, n_refused, cap;
	const char *cache;                /* the runtime's cache file; NULL: none */
	int written;
	int full;                         /* a --full run */
};

/* BitNet-b1.58-2B-4T's matmuls: q and o, k and v, gate and up, down, output. */
static const uint64_t bitnet_shapes[][2] = {
	{ 2560, 2560 }, { 640, 2560 }, { 6912, 2560 }, { 2560, 6912 }, { 128256, 2560 },
};
#define ALL_KERNELS (TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) | \
                     TRIT_TYPE_BIT(TRIT_TYPE_TL2))

static int listed(const char *const *v, uint32_t n, const char *s)
{
	for (uint32_t i = 0; i < n; i++)
		if (v[i] && strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void note(const struct trit_bench_options *o, const char *msg)
{
	if (o->progress)
		o->progress(o->ctx, msg);
}

/* Whether some backend other than ref, passing the filters, has a ternary
 * kernel the options ask for. */
static int other_than_ref(const struct trit_registry *reg, const struct trit_bench_options *o,
                          uint32_t kernels)
{
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *pi = trit_registry_plugin(reg, i);
		if (pi->status != TRIT_PLUGIN_LOADED || strcmp(pi->name, "ref") == 0)
			continue;
		for (uint32_t k = 0; k < pi->n_devices; k++)
			if ((pi->devices[k].matmul_types & kernels) &&
			    (!o->n_devices || listed(o->devices, o->n_devices, pi->devices[k].id)))
				return 1;
	}
	return 0;
}

/* Room for one more result and one more refusal. */
static int grow(struct trit_bench_report *r)
{
	if (r->n_res < r->cap && r->n_refused < r->cap)
		return 0;
	size_t nc = r->cap ? r->cap * 2 : 8;
	void *a = realloc(r->res, nc * sizeof *r->res);
	if (a)
		r->res = a;
	void *b = realloc(r->refused, nc * sizeof *r->refused);
	if (b)
		r->refused = b;
	if (!a || !b)
		return TRIT_ENOMEM;
	r->cap = nc;
	return 0;
}

/* Every device of the registry, for sizing working sets by shared caches. */
static const struct trit_device **all_devices(const struct trit_registry *reg, size_t *n)
{
	const struct trit_device **v;

	*n = 0;
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++)
		*n += trit_registry_plugin(reg, i)->n_devices;
	v = calloc(*n ? *n : 1, sizeof *v);
	*n = 0;
	for (size_t i = 0; v && i < trit_registry_plugin_count(reg); i++)
		for (uint32_t k = 0; k < trit_registry_plugin(reg, i)->n_devices; k++)
			v[(*n)++] = &trit_registry_plugin(reg, i)->devices[k];
	return v;
}

/* What one device's run needs besides the device. */
struct run {
	const struct trit_bench_options *o;
	struct trit_bench_opts bo;
	uint32_t kernels, forced;
	enum trit_priority prio;
	const struct trit_device **peers;
	size_t n_peers;
	int count_only;               /* bench_all counts the steps in bo.steps */
	struct trit_bench_arena arena;
};

/* Each selected kernel of device k of plugin i. */
static int bench_device(struct run *x, const struct trit_registry *reg, size_t i, uint32_t k,
                        struct trit_bench_report *r)
{
	static const uint32_t order[] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
	const struct trit_plugin_info *pi = trit_registry_plugin(reg, i);
	const struct trit_device *d = &pi->devices[k];
	void *state = NULL;
	const struct trit_backend *be = trit_registry_backend(reg, i, &state);
	char err[1200];
	int rc;

	x->bo.threads = d->kind == TRIT_DEVICE_CPU ?
	                trit_plan_threads(d, x->forced, x->prio, NULL) : 0;
	for (size_t t = 0; t < TRIT_ARRAY_LEN(order); t++) {
		if (!(d->matmul_types & x->kernels & TRIT_TYPE_BIT(order[t])))
			continue;
		if (x->count_only) {
			x->bo.steps += x->bo.n_shapes;
			continue;
		}
		if (grow(r))
			return TRIT_ENOMEM;
		rc = trit_bench_kernel(be, state, k, pi->name, d, order[t], x->peers, x->n_peers,
		                       &x->bo, &r->res[r->n_res], err, sizeof err);
		x->bo.step += x->bo.n_shapes;
		if (!rc) {
			r->n_res++;
			continue;
		}
		struct trit_bench_refusal *f = &r->refused[r->n_refused++];
		snprintf(f->backend, sizeof f->backend, "%s", pi->name);
		snprintf(f->device_id, sizeof f->device_id, "%s", d->id);
		snprintf(f->kernel, sizeof f->kernel, "%s", trit_type_traits(order[t])->name);
		snprintf(f->why, sizeof f->why, "%s", err);
		if (x->o->failure)
			x->o->failure(x->o->ctx, err);
	}
	return 0;
}

/* Run every device the filters select; *skipped_ref when ref was left out. */
static int bench_all(struct run *x, const struct trit_registry *reg,
                     struct trit_bench_report *r, int *skipped_ref)
{
	const struct trit_bench_options *o = x->o;
	int others = other_than_ref(reg, o, x->kernels), rc = 0;

	for (size_t i = 0; !rc && i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *pi = trit_registry_plugin(reg, i);
		if (!trit_registry_backend(reg, i, NULL) ||
		    (o->n_backends && !listed(o->backends, o->n_backends, pi->name)))
			continue;
		for (uint32_t k = 0; !rc && k < pi->n_devices; k++) {
			const struct trit_device *d = &pi->devices[k];
			if ((o->n_devices && !listed(o->devices, o->n_devices, d->id)) ||
			    !(d->matmul_types & x->kernels))
				continue;
			if (strcmp(pi->name, "ref") == 0 && !o->n_backends && others) {
				*skipped_ref = !x->count_only;
				continue;
			}
			rc = bench_device(x, reg, i, k, r);
		}
	}
	return rc;
}

/* The bench.c options and the run's settings from o and the configuration. */
static int prepare(const struct trit_runtime *rt, const struct trit_bench_options *o,
                   struct run *x, char *err, size_t errlen)
{
	*x = (struct run){ .o = o, .kernels = o->kernels ? o->kernels : ALL_KERNELS };
	if (o->n_shapes > TRIT_BENCH_MAX_SHAPES || o->n_backends > TRIT_BENCH_OPT_MAX_FILTERS ||
	    o->n_devices > TRIT_BENCH_OPT_MAX_FILTERS || !o->tokens || o->tokens > 4096 ||
	    o->reps > 1000 || (x->kernels & ~(uint32_t)ALL_KERNELS))
		return trit_errf(err, errlen, TRIT_EINVAL, "bench options out of range: at most %u "
		                 "shapes and %u filters of each kind, tokens 1..4096, reps 0..1000, "
		                 "kernels I2_S, TL1, TL2", TRIT_BENCH_MAX_SHAPES,
		                 TRIT_BENCH_OPT_MAX_FILTERS);
	x->bo = (struct trit_bench_opts){ .n_shapes = o->n_shapes, .tokens = o->tokens,
	                                  .reps = o->reps ? o->reps : o->full ?
	                                          TRIT_BENCH_FULL_REPS : TRIT_BENCH_QUICK_REPS,
	                                  .working_set = o->working_set, .full = o->full != 0,
	                                  .progress = o->progress, .progress_ctx = o->ctx,
	                                  .arena = &x->arena };
	memcpy(x->bo.rows, o->rows, sizeof x->bo.rows);
	memcpy(x->bo.cols, o->cols, sizeof x->bo.cols);
	for (size_t i = 0; !o->n_shapes && i < TRIT_ARRAY_LEN(bitnet_shapes); i++) {
		x->bo.rows[x->bo.n_shapes] = bitnet_shapes[i][0];
		x->bo.cols[x->bo.n_shapes++] = bitnet_shapes[i][1];
	}
	x->forced = (uint32_t)trit_config_int(&rt->cfg, "runtime", "threads", 0);
	x->prio = (enum trit_priority)trit_config_int(&rt->cfg, "planner", "priority", 0);
	return 0;
}

/* Add the results to the runtime's cache and write it, when it was read.
 * A quick result goes beside a --full one of the same kernel, which the
 * planner goes on using: say so. */
static int save(struct trit_runtime *rt, const struct trit_bench_options *o,
                struct trit_bench_report *r, char *err, size_t errlen)
{
	char msg[1200] = "", *m = msg;
	size_t shadowed = 0;

	if (rt->bench_state != API_BENCH_READ || !r->n_res)
		return 0;
	for (size_t i = 0; i < r->n_res; i++) {
		const struct trit_bench_result *f = trit_bench_cache_full_of(&rt->bench, &r->res[i]);
		if (f && !r->res[i].full && m < msg + sizeof msg - 200) {
			m += snprintf(m, (size_t)(msg + sizeof msg - m), "%s%s/%s %s (%s)",
			              shadowed ? ", " : "", f->backend, f->device_id, f->kernel,
			              f->measured_at);
			shadowed++;
		}
		if (trit_bench_cache_put(&rt->bench, &r->res[i]))
			return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory adding to the cache");
	}
	if (shadowed) {
		char line[1400];
		snprintf(line, sizeof line, "the cache keeps %s beside the --full result%s of %s, "
		         "which trit plan goes on using; trit bench --full replaces %s",
		         shadowed == 1 ? "this quick result" : "these quick results",
		         shadowed == 1 ? "" : "s", msg, shadowed == 1 ? "it" : "them");
		note(o, line);
	}
	if (trit_bench_cache_save(&rt->bench, err, errlen))
		return TRIT_EIO;
	r->written = 1;
	return 0;
}

int trit_bench_run(struct trit_runtime *rt, const struct trit_bench_options *o,
                   struct trit_bench_report **out, char *err, size_t errlen)
{
	struct trit_bench_report *r;
	struct run x;
	int rc, skipped_ref = 0;

	*out = NULL;
	if (!rt->reg)
		return trit_errf(err, errlen, TRIT_EINVAL, "no devices to measure: the runtime's "
		                 "devices were not opened (trit_runtime_open_devices)");
	if ((rc = prepare(rt, o, &x, err, errlen)))
		return rc;
	if (!other_than_ref(rt->reg, o, x.kernels) && !o->n_shapes &&
	    (!o->n_backends || listed(o->backends, o->n_backends, "ref")))
		note(o, "the scalar reference `ref` takes minutes on the default shapes (seconds "
		     "per matmul on the 128256x2560 output); --shape MxK picks smaller ones");
	if (!(r = calloc(1, sizeof *r)) || !(x.peers = all_devices(rt->reg, &x.n_peers))) {
		free(r);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	r->cache = rt->bench_state == API_BENCH_READ ? rt->bench.path : NULL;
	r->full = o->full != 0;
	x.count_only = 1;
	bench_all(&x, rt->reg, r, &skipped_ref);
	x.count_only = 0;
	if (x.bo.steps) {
		char msg[400], cap[32], more[120] = "";
		trit_format_bytes(TRIT_BENCH_QUICK_WORKING_SET, cap, sizeof cap);
		if (!o->full && !o->working_set)
			snprintf(more, sizeof more, ", at most %s (--full: no cap, %u samples)", cap,
			         TRIT_BENCH_FULL_REPS);
		snprintf(msg, sizeof msg, "%s run: %u step%s (device, kernel, shape), %u timed "
		         "sample%s each, the weights rotating over %s%s", o->full ? "a --full" :
		         "a quick", x.bo.steps, x.bo.steps == 1 ? "" : "s", x.bo.reps,
		         x.bo.reps == 1 ? "" : "s", o->working_set ? "the working set given" :
		         "2 x the last-level cache", more);
		note(o, msg);
	}
	rc = bench_all(&x, rt->reg, r, &skipped_ref);
	trit_bench_arena_free(&x.arena);
	free(x.peers);
	if (skipped_ref)
		note(o, "ref (the scalar reference) skipped: another backend has ternary kernels; "
		     "name it with --backend ref to measure it too");
	if (rc)
		trit_errf(err, errlen, rc, "out of memory after %zu measurements", r->n_res);
	else if (!r->n_res && !r->n_refused)
		rc = trit_errf(err, errlen, TRIT_ENODEV, "nothing to measure: no device%s advertises "
		               "a%s ternary kernel (trit devices lists the kernels)",
		               o->n_backends || o->n_devices ? " matching --backend/--device" : "",
		               x.kernels == ALL_KERNELS ? "" : " requested");
	else
		rc = save(rt, o, r, err, errlen);
	if (rc == TRIT_ENODEV)
		trit_bench_report_free(r);
	else
		*out = r;
	return rc;
}

void trit_bench_report_free(struct trit_bench_report *r)
{
	if (!r)
		return;
	free(r->res);
	free(r->refused);
	free(r);
}

size_t trit_bench_report_count(const struct trit_bench_report *r)
{
	return r->n_res;
}

size_t trit_bench_report_refused(const struct trit_bench_report *r)
{
	return r->n_refused;
}

int trit_bench_report_get(const struct trit_bench_report *r, size_t index,
                          struct trit_bench_kernel_info *out)
{
	if (index < r->n_res) {
		const struct trit_bench_result *b = &r->res[index];
		*out = (struct trit_bench_kernel_info){
			.backend = b->backend, .device_id = b->device_id, .device_name = b->device_name,
			.isa = b->isa, .kernel = b->kernel, .tokens = b->tokens, .threads = b->threads,
			.gops = b->gops, .weight_bps = b->weight_bps, .read_bps = b->read_bps,
		};
		return 0;
	}
	index -= r->n_res;
	if (index >= r->n_refused)
		return TRIT_ERANGE;
	const struct trit_bench_refusal *f = &r->refused[index];
	*out = (struct trit_bench_kernel_info){ .backend = f->backend, .device_id = f->device_id,
	                                        .device_name = "", .isa = "", .kernel = f->kernel,
	                                        .why = f->why, .read_bps = -1 };
	return 0;
}

void trit_bench_report_text(const struct trit_bench_report *r, FILE *out)
{
	trit_report_bench_text(out, r->res, r->n_res, r->refused, r->n_refused, r->cache,
	                       r->written);
}

char *trit_bench_report_json(const struct trit_bench_report *r)
{
	return trit_report_bench_json(r->res, r->n_res, r->refused, r->n_refused, r->cache,
	                              r->written, r->full);
}
