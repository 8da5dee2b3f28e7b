/*
 * ops.h - the ABI v2 graph ops (backend.h's enum trit_op) for the CPU
 * plugins, in portable C both cpu_avx2 and cpu_neon compile: checking a node
 * (types, shapes, strides, every extent against its buffer), the workspace a
 * graph needs, and running it on the plugin's thread pool. What it leaves to
 * the plugin: its buffers (span), its threads (run), the ternary I2_S/TL1/TL2
 * kernels (ternary, ternary_ws) and the vector primitives (struct
 * cpu_ops_kernels; cpu_ops_portable is the plain C set).
 */
#ifndef TRIT_PLUGINS_CPU_OPS_H
#define TRIT_PLUGINS_CPU_OPS_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

/* The inner loops the ops spend their time in. A plugin fills one table per
 * instruction set; every entry computes what the portable one does, up to
 * float rounding. n counts elements, nb 32-element Q8_0 blocks. */
struct cpu_ops_kernels {
	const char *name;
	float (*dot_f32)(const float *a, const float *x, uint64_t n);
	float (*dot_f16)(const uint16_t *a, const float *x, uint64_t n);   /* F16 row . F32 */
	float (*dot_bf16)(const uint16_t *a, const float *x, uint64_t n);
	float (*dot_q8_0_f32)(const uint8_t *a, const float *x, uint64_t nb);
	/* Q8_0 . Q8_0: per block the integer dot times both F16 scales. */
	float (*dot_q8_0_q8_0)(const uint8_t *a, const uint8_t *x, uint64_t nb);
	int32_t (*dot_i8)(const int8_t *a, const int8_t *x, uint64_t n);
	/* y += a * x */
	void (*axpy_f32)(float *y, float a, const float *x, uint64_t n);
	void (*axpy_f16)(float *y, float a, const uint16_t *x, uint64_t n);
	void (*axpy_q8_0)(float *y, float a, const uint8_t *x, uint64_t nb);
	/* y[i] = x[i] * a (y may be x) */
	void (*scale)(float *y, const float *x, float a, uint64_t n);
	/* sum of x[i]^2 */
	float (*sumsq)(const float *x, uint64_t n);
	/* y[i] = x[i] * a * w[i] (y may be x) */
	void (*scale_mul)(float *y, const float *x, float a, const float *w, uint64_t n);
	/* trit_quantize_act (trit/ternary.h) bit for bit, not up to rounding:
	 * q and the returned multiplier are what it gives */
	float (*quant_act)(const float *x, uint64_t n, int8_t *q);
	/* the sum of q[0..n-1] */
	int32_t (*sum_i8)(const int8_t *q, uint64_t n);
};

extern const struct cpu_ops_kernels cpu_ops_portable;

/* Its entries one by one, for a plugin table that vectorises only some. */
float cpu_ops_p_dot_f32(const float *a, const float *x, uint64_t n);
float cpu_ops_p_dot_f16(const uint16_t *a, const float *x, uint64_t n);
float cpu_ops_p_dot_bf16(const uint16_t *a, const float *x, uint64_t n);
float cpu_ops_p_dot_q8_0_f32(const uint8_t *a, const float *x, uint64_t nb);
float cpu_ops_p_dot_q8_0_q8_0(const uint8_t *a, const uint8_t *x, uint64_t nb);
int32_t cpu_ops_p_dot_i8(const int8_t *a, const int8_t *x, uint64_t n);
void cpu_ops_p_axpy_f32(float *y, float a, const float *x, uint64_t n);
void cpu_ops_p_axpy_f16(float *y, float a, const uint16_t *x, uint64_t n);
void cpu_ops_p_axpy_q8_0(float *y, float a, const uint8_t *x, uint64_t nb);
void cpu_ops_p_scale(float *y, const float *x, float a, uint64_t n);
float cpu_ops_p_sumsq(const float *x, uint64_t n);
void cpu_ops_p_scale_mul(float *y, const float *x, float a, const float *w, uint64_t n);
float cpu_ops_p_quant_act(const float *x, uint64_t n, int8_t *q);
int32_t cpu_ops_p_sum_i8(const int8_t *q, uint64_t n);

/* One ternary matmul for the plugin's own kernels, every operand checked and
 * contiguous: y[t][r] = trit_ternary_output(dot, s_t, scale). x is F32
 * [tokens][cols] (scales NULL: the kernel quantises) or I8 [tokens][cols]
 * already quantised with its multipliers in scales[tokens]. w is the whole
 * packed tensor (trit/ternary.h), trailer included. */
struct cpu_ops_ternary {
	uint32_t type;
	uint64_t rows, cols, tokens;
	const uint8_t *w;
	const void *x;
	const float *scales;
	float *y;
	unsigned char *ws;      /* ternary_ws() bytes */
	unsigned n_threads;
};

typedef void (*cpu_ops_fn)(void *arg, unsigned part, unsigned nparts);

/* What a plugin lends the ops for one call. */
struct cpu_ops_env {
	const char *plugin;                /* "cpu_avx2", for messages */
	void *ctx;                         /* passed back to the hooks */
	/* The memory of one of the plugin's buffers; -1 when b is not one. */
	int (*span)(void *ctx, const struct trit_buffer *b, unsigned char **data,
	            uint64_t *size);
	/* Run fn(arg, i, n) for i < n (fewer parts if threads are short). */
	void (*run)(void *ctx, unsigned n, cpu_ops_fn fn, void *arg);
	/* NULL when the plugin has no ternary kernels: those nodes are refused. */
	int (*ternary_ws)(void *ctx, uint32_t type, uint64_t rows, uint64_t cols,
	                  uint64_t tokens, uint64_t *bytes);
	void (*ternary)(void *ctx, const struct cpu_ops_ternary *job);
	const struct cpu_ops_kernels *k;
	unsigned n_threads;                /* >= 1 */
};

/* 1 when the ops run `node` (buffers may be NULL), else 0. */
int cpu_ops_supports(const struct cpu_ops_env *env, const struct trit_node *node);
/* Every check graph_compute makes before it runs `node`, without running
 * it: types, shapes and strides, each extent inside its buffer, alignment,
 * and the overlap rule. For a plugin whose buffers are device memory: its
 * span hook may give *data = NULL (only the size is used). 0, or a TRIT_E*
 * code with a sentence (which does not name the node). */
int cpu_ops_check_node(const struct cpu_ops_env *env, const struct trit_node *node,
                       char *err, size_t errlen);
/* Workspace bytes graph_compute needs: the largest node's. */
int cpu_ops_graph_workspace(const struct cpu_ops_env *env, const struct trit_graph *graph,
                            uint64_t *bytes, char *err, size_t errlen);
/* Run every node in order; on failure err names the node (index, name, op). */
int cpu_ops_graph_compute(const struct cpu_ops_env *env, const struct trit_graph *graph,
                          char *err, size_t errlen);
/* The op's name ("MATMUL"), "op N" past the enum. */
const char *cpu_ops_name(uint32_t op);

/* The smallest trit_node a v2 host sends (up to its name). */
#define CPU_OPS_NODE_MIN_SIZE (offsetof(struct trit_node, name) + sizeof(const char *))
/* Node i of a graph, whose nodes are g->nodes[0].struct_size bytes apart. */
const struct trit_node *cpu_ops_node_at(const struct trit_graph *g, uint32_t i);
/* The graph and its nodes are v2 structs; else TRIT_EABI/EINVAL, err naming env->plugin. */
int cpu_ops_check_graph(const struct cpu_ops_env *env, const struct trit_graph *g, char *err,
                        size_t errlen);
/* "<plugin>: node <i> '<name>' (<OP>): <detail>" into err; returns rc. */
int cpu_ops_node_fail(const struct cpu_ops_env *env, uint32_t i, const struct trit_node *n,
                      int rc, const char *detail, char *err, size_t errlen);

/*
 * For a plugin whose buffers are device memory and whose own kernels run the
 * nodes (cuda, opencl): an env that lends the shared checks only the sizes of
 * its buffers (span gives *data = NULL) and never runs a node on the host.
 * has_ternary: the device runs I2_S/TL1/TL2 matmuls, whose workspace is then
 * cpu_ops_device_ternary_ws's. The caller's ctx reaches span.
 */
void cpu_ops_device_env(struct cpu_ops_env *env, const char *plugin, void *ctx,
                        int (*span)(void *ctx, const struct trit_buffer *b,
                                    unsigned char **data, uint64_t *size),
                        int has_ternary);
/* What a device kernel's error words (a bad row id of GET_ROWS, a position
 * of KV_WRITE outside the cache, a negative ATTENTION position) say about
 * node n: `value` at `where` (the token), as a sentence into buf. */
void cpu_ops_device_range_error(const struct trit_node *n, int value, int where, char *buf,
                                size_t len);
/* The device ternary kernels' workspace: tokens x cols_pad int8 activations,
 * then one F32 multiplier per token. TRIT_ERANGE when the shape is not one. */
int cpu_ops_device_ternary_ws(void *ctx, uint32_t type, uint64_t rows, uint64_t cols,
                              uint64_t tokens, uint64_t *bytes);

#endif /* TRIT_PLUGINS_CPU_OPS_H */
