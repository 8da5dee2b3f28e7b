/*
 * exec/sched.h - run one device's share of a forward pass (internal).
 *
 * The caller hands a list of nodes meant for one (plugin, device). Runs of
 * consecutive nodes the device supports go to it as one graph_compute()
 * call; a node it does not support runs on the fallback (the built-in
 * `ref` backend), which gets the device's tensors either by wrapping their
 * host memory (buffer_host_ptr + buffer_from_host_ptr, no copy) or staged
 * (copied in before, dst copied back after). Which nodes ran where comes
 * back so plans and reports can say so. Splitting a model into such lists,
 * and allocating its tensors, is the planner's and the loader's job.
 */
#ifndef TRIT_EXEC_SCHED_H
#define TRIT_EXEC_SCHED_H

#include <stdint.h>

#include <trit/trit.h>

/* One device of one backend, called through the host's table. */
struct trit_sched_target {
	const struct trit_backend *be;  /* trit_registry_backend() */
	void *state;                    /* its state */
	uint32_t device;                /* device index in that backend */
	const char *name;               /* for messages, e.g. "cuda/gpu0" */
};

/* Where one node runs (trit_sched_place's `where`). */
enum trit_sched_where {
	TRIT_SCHED_SKIPPED  = 0,        /* TRIT_OP_NONE: nothing to run */
	TRIT_SCHED_DEVICE   = 1,
	TRIT_SCHED_FALLBACK = 2
};

struct trit_sched_stats {
	uint32_t device_nodes;          /* nodes the device ran */
	uint32_t fallback_nodes;        /* nodes the fallback ran */
	uint32_t skipped_nodes;         /* TRIT_OP_NONE */
	uint32_t device_calls;          /* graph_compute() calls to the device */
	uint32_t fallback_calls;        /* ... and to the fallback */
	uint32_t wrapped_buffers;       /* device buffers the fallback read in place */
	uint32_t staged_buffers;        /* device buffers copied to the fallback */
};

/* The CPU fallback: device 0 of the loaded backend named "ref". TRIT_ENODEV
 * when the registry has none (opened with TRIT_REGISTRY_NO_BUILTIN). */
int trit_sched_fallback(struct trit_registry *reg, struct trit_sched_target *out,
                        char *err, size_t errlen);

/* Decide where each of nodes[0..n) runs without running anything: the
 * device when its supports_op() says so, else the fallback (may be NULL:
 * none) when its supports_op() does. where[n] (may be NULL) and the node
 * counts of *st (may be NULL) receive the answer. TRIT_EUNSUPPORTED naming
 * the first node that neither runs. */
int trit_sched_place(const struct trit_sched_target *dev, const struct trit_sched_target *fb,
                     const struct trit_node *nodes, uint32_t n, uint8_t *where,
                     struct trit_sched_stats *st, char *err, size_t errlen);

/* Place, then run the nodes in order. Every tensor's buffer is one of
 * dev's. where and st as for trit_sched_place (st also counts calls and
 * buffers). On error the dst tensors' contents are unspecified and err names
 * the node or the step that failed. */
int trit_sched_run(const struct trit_sched_target *dev, const struct trit_sched_target *fb,
                   const struct trit_node *nodes, uint32_t n, uint32_t n_threads,
                   uint8_t *where, struct trit_sched_stats *st, char *err, size_t errlen);

/* Write zeros over bytes [0, bytes) of a new buffer of target t. The KV
 * cache and the activation arena are zeroed when made (llama.cpp clears its
 * cache at init too): every page is then resident from the start, so the
 * process holds what the plan counted from the first token, and a machine
 * that cannot back them fails at start-up, not in the middle of a long
 * conversation. */
int trit_sched_zero(const struct trit_sched_target *t, struct trit_buffer *b, uint64_t bytes,
                    char *why, size_t whylen);

#endif
