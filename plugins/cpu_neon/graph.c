/*
 * graph.c - the cpu_neon backend's ABI v2 entries: supports_op,
 * graph_workspace and graph_compute hand the nodes to the shared CPU ops
 * (plugins/common/ops.h) with this plugin's buffers, thread team, ternary
 * kernels and vector loops; get_memory re-measures memory live and
 * buffer_limits says what buffers are. The ops themselves are not here.
 */
#include <build-config.h>

#include <stdint.h>
#include <string.h>

#include <trit/ternary.h>

#include "neon.h"

typedef unsigned long long ull;

#define BUFFER_ALIGN 64u

static void run_hook(void *ctx, unsigned n, cpu_ops_fn fn, void *arg)
{
	struct cpu_neon_engine *e = ctx;
	if (!e->team || n <= 1)
		fn(arg, 0, 1);
	else
		cpu_common_team_run(e->team, n, fn, arg);
}

static int ternary_ws(void *ctx, uint32_t type, uint64_t rows, uint64_t cols, uint64_t tokens,
                      uint64_t *bytes)
{
	struct trit_ternary_geometry g;
	struct cpu_neon_ws_layout l;

	(void)ctx;
	if (trit_ternary_geometry(type, rows, cols, &g) != 0 ||
	    cpu_neon_ws_layout(type, g.cols_pad, tokens, 0, &l) != 0)
		return TRIT_ERANGE;
	*bytes = l.total;
	return 0;
}

/* The plugin's ternary driver (kernels.c) on an already checked product. */
static void ternary_hook(void *ctx, const struct cpu_ops_ternary *j)
{
	struct cpu_neon_engine *e = ctx;
	struct trit_ternary_geometry g;
	struct cpu_neon_job job;

	memset(&job, 0, sizeof job);
	trit_ternary_geometry(j->type, j->rows, j->cols, &g);
	cpu_neon_ws_layout(j->type, g.cols_pad, j->tokens, 0, &job.lay);
	job.type = j->type;
	job.rows = j->rows;
	job.cols = j->cols;
	job.tokens = j->tokens;
	job.rows_pad = g.rows_pad;
	job.cols_pad = g.cols_pad;
	job.w = j->w;
	job.scale = trit_ternary_scale(j->w, g.data_bytes);
	job.in = j->x;
	job.scales = j->scales;
	job.out = j->y;
	job.ws = j->ws;
	job.k = e->kernels;
	cpu_neon_run(&job, e->team, j->n_threads);
}

static int env_of(struct cpu_neon_engine *e, uint32_t device, unsigned n_threads,
                  struct cpu_ops_env *env, char *err, size_t errlen)
{
	if (!e)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "cpu_neon: no plugin state");
	if (device != 0)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "cpu_neon has one device (index "
		                     "0); index %u does not exist", (unsigned)device);
	if (n_threads > CPU_NEON_MAX_THREADS)
		return cpu_common_errf(err, errlen, TRIT_ERANGE, "cpu_neon: n_threads = %u; at most "
		                     "%u are supported (0 = the measured usable thread count)",
		                     n_threads, CPU_NEON_MAX_THREADS);
	memset(env, 0, sizeof *env);
	env->plugin = "cpu_neon";
	env->ctx = e;
	env->span = cpu_neon_buffer_span;
	env->run = run_hook;
	env->ternary_ws = ternary_ws;
	env->ternary = ternary_hook;
	env->k = e->ops ? e->ops : &cpu_ops_portable;
	env->n_threads = n_threads ? n_threads : e->default_threads ? e->default_threads : 1;
	return 0;
}

int cpu_neon_supports_op(void *state, uint32_t device, const struct trit_node *node)
{
	struct cpu_ops_env env;
	if (env_of(cpu_neon_engine_of(state), device, 0, &env, NULL, 0) != 0)
		return 0;
	return cpu_ops_supports(&env, node);
}

int cpu_neon_graph_workspace(void *state, uint32_t device, const struct trit_graph *graph,
                             uint64_t *bytes, char *err, size_t errlen)
{
	struct cpu_ops_env env;
	int rc = env_of(cpu_neon_engine_of(state), device, 0, &env, err, errlen);
	return rc ? rc : cpu_ops_graph_workspace(&env, graph, bytes, err, errlen);
}

int cpu_neon_graph_compute(void *state, uint32_t device, const struct trit_graph *graph,
                           char *err, size_t errlen)
{
	struct cpu_ops_env env;
	int rc = env_of(cpu_neon_engine_of(state), device,
	                graph && graph->struct_size >= offsetof(struct trit_graph, flags)
	                        ? graph->n_threads : 0, &env, err, errlen);
	return rc ? rc : cpu_ops_graph_compute(&env, graph, err, errlen);
}

int cpu_neon_get_memory(void *state, uint32_t device, uint64_t *free_bytes,
                        uint64_t *total_bytes, char *err, size_t errlen)
{
	struct cpu_neon_engine *e = cpu_neon_engine_of(state);
	struct cpu_ops_env env;
	int rc = env_of(e, device, 0, &env, err, errlen);

	if (rc)
		return rc;
	return cpu_common_get_memory("cpu_neon", e->proc_root,
	                             free_bytes, total_bytes, err, errlen);
}

int cpu_neon_buffer_limits(void *state, uint32_t device, struct trit_buffer_limits *out,
                           char *err, size_t errlen)
{
	struct cpu_neon_engine *e = cpu_neon_engine_of(state);
	struct cpu_ops_env env;
	int rc = env_of(e, device, 0, &env, err, errlen);

	if (rc)
		return rc;
	return cpu_common_buffer_limits("cpu_neon", e->proc_root,
	                                BUFFER_ALIGN, out, err, errlen);
}
