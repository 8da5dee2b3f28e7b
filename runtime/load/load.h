/*
 * load/load.h - put a model's weights where the plan says (internal).
 *
 * The file is mmap'd once. Each tensor goes to the target (a backend
 * device) that the placement names for its layer:
 *   - in place: on a host-memory device whose kernels run the stored type,
 *     the tensor is a view of the mapping (buffer_from_host_ptr; no copy,
 *     page cache shared between processes);
 *   - copied: written into a device buffer through one bounded staging
 *     buffer (devices without host memory, or a wrap the backend refused);
 *   - repacked: a ternary tensor the target runs in another format (I2_S ->
 *     TL1/TL2, TQ2_0 -> I2_S, ...) is converted in bounded chunks into its
 *     final buffer, so no more than one copy of it plus a chunk is ever held.
 * Every tensor's extent is checked against the file size before any byte of
 * it is touched; types, shapes and the finiteness of norms and scales are
 * validated as it goes. A progress callback sees bytes done; the report says
 * what the load cost (RSS before/peak/after, bytes per device, in place vs
 * copied vs repacked, time).
 *
 * The forward pass (graph/, exec/) finds each weight by its GGUF name through
 * trit_weights_find() and never sees the file.
 */
#ifndef TRIT_LOAD_LOAD_H
#define TRIT_LOAD_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

#include "exec/sched.h"
#include "model/model.h"

/* Where the weights may go: one backend device, and the type its kernels run
 * ternary weight matrices in. */
struct trit_load_target {
	struct trit_sched_target t;
	uint32_t ternary_type;     /* TRIT_TYPE_I2_S/TL1/TL2 to repack ternary matrices
	                            * into; 0 = keep the stored type */
};

/* Progress as the loader reports it (bytes of tensor data placed so far). */
struct trit_load_progress {
	uint64_t done_bytes, total_bytes;
	uint32_t done_tensors, total_tensors;
	const char *tensor;        /* the tensor just placed */
	double seconds;            /* since the load began */
};

/* The placement: which target each tensor goes to. */
struct trit_load_spec {
	const struct trit_load_target *targets;
	uint32_t n_targets;
	const uint32_t *layer_target;   /* n_layer entries: target index of each layer */
	uint32_t embd_target;           /* token embeddings (and tensors outside layers) */
	uint32_t output_target;         /* output norm and head */
	uint64_t staging_bytes;         /* bounded staging/repack chunk; 0 = 64 MiB */
	int allow_zero_copy;            /* 0 forces copies (tests, or a user's choice) */
	int ternarise_floats;           /* 1: a BitNet model's F32/F16/BF16 projection
	                                 * matrices are repacked into their target's
	                                 * ternary_type too, as the plan counted them
	                                 * ([planner] bitnet_floats = ternary) */
	void (*progress)(void *ctx, const struct trit_load_progress *p);
	void *progress_ctx;
};

enum trit_weight_how {
	TRIT_LOADED_IN_PLACE = 1,
	TRIT_LOADED_COPIED   = 2,
	TRIT_LOADED_REPACKED = 3
};

/* One loaded tensor. */
struct trit_weight {
	const struct trit_model_tensor *mt; /* the file's description (name, shape, ...) */
	struct trit_tensor t;               /* where it lives now and as which type */
	uint32_t target;                    /* index into the spec's targets */
	uint8_t how;                        /* enum trit_weight_how */
};

/* What the load cost. RSS figures are the process's, from /proc/self. */
struct trit_load_report {
	uint64_t model_bytes;               /* tensor data in the file */
	uint64_t rss_before, rss_peak, rss_after;
	uint32_t n_in_place, n_copied, n_repacked;
	uint64_t bytes_in_place, bytes_copied, bytes_repacked; /* bytes as placed */
	uint64_t *target_bytes;             /* n_targets entries: bytes placed on each */
	uint32_t n_targets;
	double seconds;
	/* Added with the loader itself: */
	uint32_t n_tensors;                 /* = n_in_place + n_copied + n_repacked */
	uint32_t peak_source;               /* enum trit_load_peak: how rss_peak was measured */
	uint64_t bytes_allocated;           /* device buffers the load allocated (copies and
	                                     * repacks; in-place views allocate none) */
	uint64_t staging_peak;              /* the largest staging/repack chunk held at once */
	uint64_t bookkeeping_bytes;         /* the loader's own tables (per tensor, target,
	                                     * file), as allocated */
};

/* How trit_load_report.rss_peak was measured. */
enum trit_load_peak {
	TRIT_LOAD_PEAK_HWM = 1,             /* VmHWM, reset at load start (/proc/self/clear_refs) */
	TRIT_LOAD_PEAK_SAMPLED = 2          /* VmRSS sampled after every chunk (no reset possible) */
};

struct trit_weights;

/* Load every tensor of m per spec. On error nothing stays allocated or
 * mapped, and err names the tensor (and file offset) that failed. rep may be
 * NULL; its target_bytes belong to the weights (freed with them).
 * The weights point into m (trit_weight.mt): m outlives them. In-place
 * weights of one file on one target share one buffer, a read-only view of
 * the whole file (t.offset = the file offset), or, where the device will
 * not wrap that much, each has a view of its own pages. Errors: TRIT_ENOMEM
 * (a target lacks the memory: err names it, the bytes needed and free),
 * TRIT_EUNSUPPORTED (a type or shape the target's supports_op() refuses),
 * TRIT_EFORMAT (truncated file, NaN/Inf in a norm or scale, code 3 in a
 * repacked I2_S tensor), TRIT_EIO. (Added with the loader.) */
int trit_load(const struct trit_model *m, const struct trit_load_spec *spec,
              struct trit_weights **out, struct trit_load_report *rep, char *err, size_t errlen);

/* ne and nb of tensor mt placed as `type`, as backend.h lays them out (the
 * loader's layout), and the bytes its data spans. TRIT_EFORMAT or
 * TRIT_EUNSUPPORTED, naming the tensor, when the shape does not suit the
 * type. */
int trit_load_geometry(const struct trit_model_tensor *mt, uint32_t type, struct trit_tensor *t,
                       uint64_t *bytes, char *err, size_t errlen);

/* The tensor named `name` ("blk.3.attn_q.weight"), or NULL. */
const struct trit_weight *trit_weights_find(const struct trit_weights *w, const char *name);
size_t trit_weights_count(const struct trit_weights *w);
/* The copy of the tied token embeddings placed on the output target, when
 * the head runs on another target than the embeddings; else NULL. Not among
 * trit_weights_count()'s (its name is token_embd's). */
const struct trit_weight *trit_weights_head_copy(const struct trit_weights *w);
const struct trit_weight *trit_weights_at(const struct trit_weights *w, size_t i);

/* The read-only mapping of the model's file `file` (its base and size), or
 * NULL: in-place weights are views into it. (Added with the loader.) */
const void *trit_weights_mapping(const struct trit_weights *w, uint32_t file, uint64_t *size);

/* Unmap and free every buffer. NULL is fine. */
void trit_weights_free(struct trit_weights *w);

#endif
