/*
 * ops_device.c - what the device plugins (cuda, opencl) share of the CPU
 * ops' node checks: an environment that lends them the plugin's buffer sizes
 * and never runs a node on the host, the workspace of their ternary kernels
 * and the sentence for what their kernels' error words report (see ops.h,
 * cpu_ops_device_env).
 */
#include <build-config.h>

#include <stdio.h>
#include <string.h>

#include <trit/ternary.h>

#include "ops.h"

/* The shared code never runs a node for a device plugin: these two only
 * fill the table. */
static void no_run(void *ctx, unsigned n, cpu_ops_fn fn, void *arg)
{
	(void)ctx, (void)n, (void)fn, (void)arg;
}

static void no_ternary(void *ctx, const struct cpu_ops_ternary *job)
{
	(void)ctx, (void)job;
}

int cpu_ops_device_ternary_ws(void *ctx, uint32_t type, uint64_t rows, uint64_t cols,
                              uint64_t tokens, uint64_t *bytes)
{
	struct trit_ternary_geometry g;

	(void)ctx;
	if (trit_ternary_geometry(type, rows, cols, &g) != 0 || tokens > UINT64_MAX / 8 / g.cols_pad)
		return TRIT_ERANGE;
	*bytes = tokens * g.cols_pad + tokens * 4;
	return 0;
}

void cpu_ops_device_env(struct cpu_ops_env *env, const char *plugin, void *ctx,
                        int (*span)(void *ctx, const struct trit_buffer *b,
                                    unsigned char **data, uint64_t *size),
                        int has_ternary)
{
	memset(env, 0, sizeof *env);
	env->plugin = plugin;
	env->ctx = ctx;
	env->span = span;
	env->run = no_run;
	env->ternary_ws = has_ternary ? cpu_ops_device_ternary_ws : NULL;
	env->ternary = has_ternary ? no_ternary : NULL;
	env->k = &cpu_ops_portable;
	env->n_threads = 1;
}

void cpu_ops_device_range_error(const struct trit_node *n, int value, int where, char *buf,
                                size_t len)
{
	if (n->op == TRIT_OP_GET_ROWS)
		snprintf(buf, len, "row id %d at [%d] is outside the table of %llu rows", value,
		         where, (unsigned long long)n->src[0].ne[1]);
	else if (n->op == TRIT_OP_KV_WRITE)
		snprintf(buf, len, "position %d of token %d is outside the cache of n_ctx = %llu",
		         value, where, (unsigned long long)n->dst.ne[2]);
	else
		snprintf(buf, len, "position %d of query %d is negative: it would see no key", value,
		         where);
}
