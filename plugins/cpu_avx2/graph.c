/*
 * graph.c - the cpu_avx2 backend's ABI v2 entries: supports_op,
 * graph_workspace and graph_compute hand the nodes to the shared CPU ops
 * (plugins/common/ops.h) with this plugin's buffers, worker pool, ternary
 * kernels and vector loops; get_memory re-measures memory live and
 * buffer_limits says what buffers are. The ops themselves are not here.
 */
#include <build-config.h>

#include <stdint.h>
#include <string.h>

#include "kernels.h"
#include "probe.h"

typedef unsigned long long ull;

#define BUFFER_ALIGN 64u

const struct cpu_ops_kernels *cpu_avx2_ops_select(uint64_t caps, enum cpu_avx2_isa isa)
{
	const uint64_t need = TRIT_CAP_AVX2 | TRIT_CAP_FMA | TRIT_CAP_F16C;
	(void)isa; /* avx2 and avx512 both run these 256-bit loops */
	return (caps & need) == need ? &cpu_avx2_ops_avx2 : &cpu_ops_portable;
}

static void run_hook(void *ctx, unsigned n, cpu_ops_fn fn, void *arg)
{
	struct cpu_avx2_engine *e = ctx;
	cpu_avx2_workers_run(&e->pool, n, fn, arg);
}

static void ternary_hook(void *ctx, const struct cpu_ops_ternary *j)
{
	cpu_avx2_engine_ternary(ctx, j);
}

static int env_of(struct cpu_avx2_engine *e, uint32_t device, unsigned n_threads,
                  struct cpu_ops_env *env, char *err, size_t errlen)
{
	if (!e)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL, "cpu_avx2: no plugin state");
	if (device != 0)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL, "cpu_avx2 has one device (index "
		                     "0); index %u does not exist", (unsigned)device);
	if (n_threads > CPU_AVX2_MAX_THREADS)
		return cpu_avx2_errf(err, errlen, TRIT_ERANGE, "cpu_avx2: n_threads = %u; at most "
		                     "%u are supported (0 = the measured usable thread count)",
		                     n_threads, CPU_AVX2_MAX_THREADS);
	memset(env, 0, sizeof *env);
	env->plugin = "cpu_avx2";
	env->ctx = e;
	env->span = cpu_avx2_buffer_span;
	env->run = run_hook;
	env->ternary_ws = e->k ? cpu_avx2_ternary_ws : NULL;
	env->ternary = e->k ? ternary_hook : NULL;
	env->k = e->ops ? e->ops : &cpu_ops_portable;
	env->n_threads = n_threads ? n_threads : e->default_threads ? e->default_threads : 1;
	return 0;
}

int cpu_avx2_supports_op(void *state, uint32_t device, const struct trit_node *node)
{
	struct cpu_ops_env env;
	if (env_of(cpu_avx2_engine_of(state), device, 0, &env, NULL, 0) != 0)
		return 0;
	return cpu_ops_supports(&env, node);
}

int cpu_avx2_graph_workspace(void *state, uint32_t device, const struct trit_graph *graph,
                             uint64_t *bytes, char *err, size_t errlen)
{
	struct cpu_ops_env env;
	int rc = env_of(cpu_avx2_engine_of(state), device, 0, &env, err, errlen);
	return rc ? rc : cpu_ops_graph_workspace(&env, graph, bytes, err, errlen);
}

int cpu_avx2_graph_compute(void *state, uint32_t device, const struct trit_graph *graph,
                           char *err, size_t errlen)
{
	struct cpu_ops_env env;
	int rc = env_of(cpu_avx2_engine_of(state), device,
	                graph && graph->struct_size >= offsetof(struct trit_graph, flags)
	                        ? graph->n_threads : 0, &env, err, errlen);
	return rc ? rc : cpu_ops_graph_compute(&env, graph, err, errlen);
}

int cpu_avx2_get_memory(void *state, uint32_t device, uint64_t *free_bytes,
                        uint64_t *total_bytes, char *err, size_t errlen)
{
	struct cpu_avx2_engine *e = cpu_avx2_engine_of(state);
	struct cpu_ops_env env;
	int rc = env_of(e, device, 0, &env, err, errlen);

	if (rc)
		return rc;
	return cpu_common_get_memory("cpu_avx2", e->proc_root,
	                             free_bytes, total_bytes, err, errlen);
}

int cpu_avx2_buffer_limits(void *state, uint32_t device, struct trit_buffer_limits *out,
                           char *err, size_t errlen)
{
	struct cpu_avx2_engine *e = cpu_avx2_engine_of(state);
	struct cpu_ops_env env;
	int rc = env_of(e, device, 0, &env, err, errlen);

	if (rc)
		return rc;
	return cpu_common_buffer_limits("cpu_avx2", e->proc_root,
	                                BUFFER_ALIGN, out, err, errlen);
}
