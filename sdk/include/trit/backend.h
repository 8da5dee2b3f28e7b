/*
 * trit/backend.h - the contract between the trit runtime and a backend plugin.
 *
 * A backend plugin is a shared object that the runtime opens at run time. It
 * exports one function, trit_backend_entry(), returning a pointer to a static,
 * constant `struct trit_backend`. The runtime checks that table's abi_version
 * and struct_size before it calls anything else in the plugin, then calls
 * init() with a `struct trit_host` describing the runtime, and asks for the
 * devices the backend found.
 *
 * This header is the whole contract: everything a plugin author needs is
 * declared and documented here (see also sdk/README.md and
 * sdk/examples/hello/). It is not a description of the runtime's internals.
 *
 * Compatibility rules
 *   - TRIT_BACKEND_ABI_VERSION changes only when a change would break an
 *     existing plugin or host (a field moved, removed or retyped), or when a
 *     plugin built for the new version needs a host that knows it (v2: the
 *     graph call). The runtime loads plugins built for any version from
 *     TRIT_BACKEND_ABI_MIN to its own: a v1 plugin's table is a prefix of the
 *     v2 table and its matmul() is wrapped into a graph_compute() that runs
 *     TRIT_OP_MATMUL nodes. It refuses a newer abi_version, and a table whose
 *     struct_size is larger than the host's (built against a newer header:
 *     the host cannot know what the plugin expects of the entries it would
 *     ignore).
 *   - Within one ABI version, structs only grow at the end. Every struct that
 *     crosses the boundary starts with its size, so each side reads only the
 *     fields the other side knows about:
 *       * the host copies min(plugin struct_size, sizeof its table) bytes of the
 *         backend table into a table pre-filled with "unsupported" functions,
 *         so an older plugin never makes the host call through NULL;
 *       * a plugin must read only the host-table fields that lie inside the
 *         host's struct_size (use TRIT_HOST_HAS()).
 *   - Strings returned by a plugin stay valid until its shutdown().
 */
#ifndef TRIT_BACKEND_H
#define TRIT_BACKEND_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <trit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes, and the oldest one a host built
 * from it still loads. History:
 *   1  devices, buffers, one ternary matmul per call
 *   2  typed tensors, the op set and graph calls (struct trit_node,
 *      supports_op, graph_compute, graph_submit), host-pointer buffers,
 *      buffer copies, live memory, buffer limits, extensions */
#define TRIT_BACKEND_ABI_VERSION 2u
#define TRIT_BACKEND_ABI_MIN     1u

/* Name of the one symbol a plugin exports. A plugin built inside the trit tree
 * may export it as <module>_LTX_trit_backend_entry instead (libltdl's
 * convention, which lets the same plugins be preloaded into a static build);
 * the runtime looks for that name first and the plain name second. */
#define TRIT_BACKEND_ENTRY_SYMBOL "trit_backend_entry"

#if defined(__GNUC__)
#define TRIT_EXPORT __attribute__((visibility("default")))
#define TRIT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TRIT_EXPORT
#define TRIT_PRINTF(f, a)
#endif

/* ------------------------------------------------------------------------ */
/* Result codes. Functions return 0 on success or one of these (negative).  */
/* A function that fails also writes a sentence into its err buffer saying  */
/* what went wrong in terms a user can act on (what, where, expected/found). */

enum trit_result {
	TRIT_OK            = 0,
	TRIT_EINVAL        = -1,  /* bad argument */
	TRIT_ENOMEM        = -2,  /* allocation failed (host or device memory) */
	TRIT_EIO           = -3,  /* reading or writing a file or device failed */
	TRIT_EUNSUPPORTED  = -4,  /* the backend does not implement this */
	TRIT_EFORMAT       = -5,  /* malformed input */
	TRIT_EABI          = -6,  /* ABI version or struct size mismatch */
	TRIT_ENODEV        = -7,  /* no usable device (no driver, none present) */
	TRIT_ECONFIG       = -8,  /* bad configuration value */
	TRIT_ERANGE        = -9,  /* value outside the accepted range */
	TRIT_EDEVICE       = -10, /* the device failed or was lost */
	TRIT_EINTERNAL     = -11  /* a bug: an invariant did not hold */
};

/* ------------------------------------------------------------------------ */
/* Measured values. "Unknown is a value": a backend never invents a number.  */

enum trit_value_state {
	TRIT_VALUE_UNKNOWN    = 0, /* not measured; `source` says why */
	TRIT_VALUE_MEASURED   = 1, /* read from the hardware or OS; `source` says where */
	TRIT_VALUE_DERIVED    = 2, /* computed from measured values (e.g. bus width x clock) */
	TRIT_VALUE_CONFIGURED = 3  /* set by the operator in the plugin's INI section */
};

/*
 * A number with its provenance. A zero-filled trit_value is "unknown", so a
 * field a plugin does not fill is never mistaken for a measured 0.
 */
struct trit_value {
	uint64_t value;     /* meaningful unless state == TRIT_VALUE_UNKNOWN */
	uint32_t state;     /* enum trit_value_state */
	uint32_t reserved;  /* 0 */
	const char *source; /* how it was measured, or why it is unknown; may be NULL */
};

/* ------------------------------------------------------------------------ */
/* Devices                                                                   */

enum trit_device_kind {
	TRIT_DEVICE_CPU         = 0,
	TRIT_DEVICE_GPU         = 1,
	TRIT_DEVICE_ACCELERATOR = 2
};

/* Capability flags (struct trit_device.caps). A flag is set only when the
 * feature is both present and usable (e.g. AVX2 needs OS support for YMM
 * state, checked with XGETBV). */
#define TRIT_CAP_SSE42        (UINT64_C(1) << 0)
#define TRIT_CAP_AVX          (UINT64_C(1) << 1)
#define TRIT_CAP_AVX2         (UINT64_C(1) << 2)
#define TRIT_CAP_FMA          (UINT64_C(1) << 3)
#define TRIT_CAP_F16C         (UINT64_C(1) << 4)
#define TRIT_CAP_AVX_VNNI     (UINT64_C(1) << 5)
#define TRIT_CAP_AVX512F      (UINT64_C(1) << 6)
#define TRIT_CAP_AVX512BW     (UINT64_C(1) << 7)
#define TRIT_CAP_AVX512VL     (UINT64_C(1) << 8)
#define TRIT_CAP_AVX512DQ     (UINT64_C(1) << 9)
#define TRIT_CAP_AVX512VNNI   (UINT64_C(1) << 10)
#define TRIT_CAP_AVX512BF16   (UINT64_C(1) << 11)
#define TRIT_CAP_AVX512VBMI   (UINT64_C(1) << 12)
#define TRIT_CAP_NEON         (UINT64_C(1) << 16)
#define TRIT_CAP_DOTPROD      (UINT64_C(1) << 17)
#define TRIT_CAP_I8MM         (UINT64_C(1) << 18)
#define TRIT_CAP_SVE          (UINT64_C(1) << 19)
#define TRIT_CAP_FP16         (UINT64_C(1) << 24) /* native half-precision arithmetic */
#define TRIT_CAP_BF16         (UINT64_C(1) << 25)
#define TRIT_CAP_UNIFIED_MEM  (UINT64_C(1) << 32) /* device can address host memory */
#define TRIT_CAP_INTEGRATED   (UINT64_C(1) << 33) /* shares physical memory with the host */

/* Bit for a weight type in struct trit_device.matmul_types. */
#define TRIT_TYPE_BIT(t) (UINT64_C(1) << (t))

/*
 * A property that the planner does not need as a typed field but a user wants
 * to see (cache sizes, NUMA nodes, swap, container limits, driver versions).
 * Either `text` is set (a string property) or `value` is (a number, with
 * `unit` one of "bytes", "bytes/s", "hz", "count", "ops/s").
 *
 * Well-known keys have a TRIT_PROP_* name below; the runtime reads those
 * (the others are for people). A backend adds keys of its own under a prefix
 * of its name ("cuda.driver_version").
 */

/* (text) Devices whose mem.pool texts are equal draw on the same physical
 * memory, so a planner must not count it twice. CPU backends (and integrated
 * GPUs) report "host"; a discrete GPU reports its PCI location
 * "pci:DDDD:BB:DD.F", so the same card seen through two backends (cuda and
 * opencl) is one memory. */
#define TRIT_PROP_MEM_POOL      "mem.pool"
/* (text) The kernel path the device runs ("avx512vnni", "neon-dotprod",
 * "sm_89"); `trit bench` keys its cached results by it. */
#define TRIT_PROP_KERNEL_ISA    "kernel.isa"
/* (bytes) Memory the backend itself takes on the device before any buffer
 * (a CUDA context, a driver's reservation), measured. */
#define TRIT_PROP_MEM_OVERHEAD  "mem.overhead"
/* (bytes) Per-core L1 data, per-cluster L2 and shared L3 cache sizes;
 * `trit bench` sizes its out-of-cache working set from the largest. */
#define TRIT_PROP_CACHE_L1D     "cache.l1d"
#define TRIT_PROP_CACHE_L2      "cache.l2"
#define TRIT_PROP_CACHE_L3      "cache.l3"
/* (count) NUMA nodes the device's memory spans. */
#define TRIT_PROP_NUMA_NODES    "numa.nodes"
/* (ops/s) The peak int8 throughput of ONE core (one thread) on the kernel
 * path that runs I2_S, 2 ops per int8 product, measured by the plugin (its
 * source says how); unknown with the reason when not measured. `trit bench`
 * reports a CPU kernel's GOP/s as a fraction of it times the threads. A
 * plugin may add per-type keys, "compute.int8_peak.i2_s" (".tl1", ".tl2"),
 * which `trit bench` prefers for that kernel. */
#define TRIT_PROP_COMPUTE_INT8_PEAK "compute.int8_peak"

struct trit_property {
	const char *key;        /* dotted lower-case name, e.g. "cache.l3" */
	const char *unit;       /* NULL for a text property */
	const char *text;       /* the value of a text property */
	struct trit_value value;
};

/*
 * One device as its backend measured it. Returned by device_get(); the
 * struct and everything it points to belong to the plugin and stay valid and
 * unchanged until the next device_update() for that device or shutdown().
 */
struct trit_device {
	uint32_t struct_size;  /* sizeof(struct trit_device) as the plugin knows it */
	uint32_t kind;         /* enum trit_device_kind */
	const char *id;        /* unique within the backend, stable across runs: "cpu0" */
	const char *name;      /* marketing name: "AMD EPYC 7B13" */
	const char *vendor;    /* may be NULL */

	/* Memory this device can use for trit, in bytes. For a CPU, the process'
	 * limit: RAM, or the container's memory limit when that is lower. */
	struct trit_value mem_total;
	struct trit_value mem_free;
	/* Sustained memory bandwidth in bytes/s. */
	struct trit_value mem_bandwidth;
	/* CPU: physical cores usable by the process; GPU: multiprocessors. */
	struct trit_value compute_units;
	/* CPU: logical processors usable (affinity, quota); GPU: unknown. */
	struct trit_value hw_threads;
	/* Core or shader clock in Hz. */
	struct trit_value clock_hz;
	/* GPU compute capability as major * 10 + minor (CUDA), else unknown. */
	struct trit_value compute_capability;

	uint64_t caps;         /* TRIT_CAP_* */
	/* Weight types matmul() accepts on this device: TRIT_TYPE_BIT(t) for
	 * each t. A device advertises only kernels it actually runs. */
	uint64_t matmul_types;

	const struct trit_property *props;
	uint32_t n_props;
};

/* ------------------------------------------------------------------------ */
/* Kernels                                                                   */

/* An allocation made by a backend on one of its devices. Opaque: only the
 * plugin that allocated it knows what is inside. */
struct trit_buffer;

/*
 * out[t][r] = sum_k W[r][k] * in[t][k] for r < rows, t < tokens, where W is
 * `rows` rows of `cols` weights of `weight_type` and `in`/`out` are F32.
 * Quantised types include their scales as docs/formats.md describes; the
 * ternary types (I2_S, TL1, TL2) are laid out as trit/ternary.h defines, and
 * their kernels quantise each token of `in` with trit_quantize_act().
 *
 * With TRIT_MATMUL_INT_DOTS in `flags` (ternary types only) the kernel skips
 * the quantisation and the scaling: `in` is I8 [tokens][cols], already
 * quantised, and `out` is I32 [tokens][rows] holding the exact integer dots
 * sum_k trit(r, k) * in[t][k]. Tests and `trit bench` use it to compare every
 * kernel with the reference bit for bit.
 */
#define TRIT_MATMUL_INT_DOTS (UINT32_C(1) << 0)

struct trit_matmul {
	uint32_t struct_size;   /* sizeof(struct trit_matmul) as the host knows it */
	uint32_t weight_type;   /* enum trit_type */
	uint64_t rows;          /* output features (M) */
	uint64_t cols;          /* input features (K) */
	uint64_t tokens;        /* activations in the batch (N); 1 = GEMV */
	struct trit_buffer *weights;   uint64_t weights_offset;
	struct trit_buffer *input;     uint64_t input_offset;   /* F32 [tokens][cols] */
	struct trit_buffer *output;    uint64_t output_offset;  /* F32 [tokens][rows] */
	struct trit_buffer *workspace; uint64_t workspace_offset; /* may be NULL if 0 bytes needed */
	uint32_t n_threads;     /* CPU backends: threads to use; 0 = backend's choice */
	uint32_t flags;         /* TRIT_MATMUL_*; 0 = the plain F32 product above.
	                         * (Was `reserved`, always 0, before the kernels.) */
};

/* ------------------------------------------------------------------------ */
/* Tensors, operations and graphs (ABI v2)                                   */
/*
 * The host describes every tensor; a backend never owns the graph. A tensor
 * is a view into a buffer of the backend that runs the node (or, for
 * host-visible buffers, of any backend whose buffer_host_ptr() is not NULL).
 *
 * Shape follows ggml's convention: ne[0] is the innermost, contiguous
 * dimension (a row); ne[1..3] count rows, heads, tokens. nb[i] is the stride
 * of dimension i in bytes. For a block type (Q8_0, TQ1_0, TQ2_0, I2_S) ne[0]
 * is a multiple of the block's elements, nb[0] is the block's byte size
 * (trit_type_traits().block_bytes, as ggml) and nb[1] is the row's byte length.
 * An I2_S tensor is the whole packed tensor of trit/ternary.h: rows packed
 * (nb[1] = ne[0] / 4), the scale trailer after the last row.
 * TL1 and TL2 have no row geometry: a weight tensor of those types is the
 * whole packed tensor of trit/ternary.h (ne[0] = K, ne[1] = M) and its nb
 * are 0. Unused trailing dimensions have ne = 1. Unless an op says otherwise
 * every tensor it reads or writes has nb[0] equal to the element size (rows
 * are contiguous); rows themselves may be strided (views of a KV cache, of a
 * fused QKV output). An absent operand is all zeros (buffer NULL, ne[0] 0),
 * so supports_op(), whose buffers may be NULL, tells it by ne[0].
 */
#define TRIT_MAX_DIMS 4

struct trit_tensor {
	uint32_t type;                 /* enum trit_type */
	uint32_t flags;                /* 0; reserved */
	uint64_t ne[TRIT_MAX_DIMS];    /* elements per dimension, ne[0] innermost */
	uint64_t nb[TRIT_MAX_DIMS];    /* stride per dimension, in bytes */
	struct trit_buffer *buffer;    /* NULL = operand absent */
	uint64_t offset;               /* of element [0,0,0,0] in the buffer */
};

/*
 * The operations of a BitNet b1.58 / Llama forward pass. The numbering is
 * part of the ABI: new ops are appended and an older backend answers
 * "unsupported" for them through supports_op(). F32 arithmetic unless said;
 * `x` is src[0], `y` src[1]; "per row" means over ne[0].
 *
 *   GET_ROWS    dst[:, t] = row ids[t] of the table, as F32.
 *               src[0] table [ne0, rows] of F32, F16, BF16, Q8_0, TQ1_0,
 *               TQ2_0, I2_S, TL1, TL2 (ternary: trit * scale);
 *               src[1] ids I32 [T]; dst F32 [ne0, T]. An id outside the
 *               table is an error (TRIT_ERANGE), never a read out of bounds.
 *   RMS_NORM    dst = x / sqrt(mean(x^2) + eps) per row, times src[1]
 *               (F32 [ne0]) when present. fparams[0] = eps.
 *   ADD, MUL    dst = x + y, x * y. y broadcasts: each y.ne[i] is 1 or
 *               x.ne[i] (so a [1] tensor is a scalar, a [ne0] one a row).
 *   SCALE       dst = x * fparams[0].
 *   ROPE        rotary position embedding of x [head_dim, heads, T] by
 *               src[1] positions I32 [T]. iparams[0] = mode
 *               (TRIT_ROPE_NORMAL: pairs (2i, 2i+1); TRIT_ROPE_NEOX: pairs
 *               (i, i + n_rot/2)), iparams[1] = n_rot (even, <= head_dim;
 *               dimensions past it are copied). Pair i turns by
 *               p * freq_scale * freq_base^(-2i/n_rot) radians at position
 *               p; fparams[0] = freq_base, fparams[1] = freq_scale.
 *   ATTENTION   softmax(scale * q . k^T + causal mask) . v over a KV cache,
 *               with grouped-query heads. src[0] q F32 [D, Hq, T];
 *               src[1] k and src[2] v caches of F32, F16 or Q8_0
 *               [D, Hkv, n_ctx] (Hq a multiple of Hkv; query head h reads
 *               cache head h / (Hq / Hkv)); src[3] positions I32 [T]: query
 *               t attends to cache positions j <= pos[t] and j < n_kv.
 *               iparams[0] = n_kv (<= n_ctx), fparams[0] = scale (usually
 *               1/sqrt(D)). dst F32 [D, Hq, T]. Softmax in F32 with the
 *               maximum subtracted.
 *   RELU2, SILU, GELU
 *               dst = max(x,0)^2, x * sigmoid(x), and GELU's tanh form
 *               0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
 *   GLU         dst = act(x) * y (gated FFN); iparams[0] = the activation,
 *               TRIT_OP_RELU2, TRIT_OP_SILU or TRIT_OP_GELU. y has x's shape.
 *   QUANTIZE_ACT
 *               BitNet's per-token int8 quantisation (trit/ternary.h,
 *               trit_quantize_act): x F32 [K, T] -> dst I8 [K, T] and the
 *               per-token scales s into src[1], F32 [T] (the one operand an
 *               op writes besides dst).
 *   MATMUL      dst[r, t] = sum_k W[k, r] * x[k, t]. src[0] W [K, M] of
 *               F32, F16, BF16, Q8_0, TQ1_0, TQ2_0, I2_S, TL1 or TL2;
 *               src[1] x F32 [K, T] (or, for I2_S/TL1/TL2, I8 [K, T] from
 *               QUANTIZE_ACT with its scales in src[2]); dst F32 [M, T].
 *               Activations are treated as the weight type's reference
 *               does, and trit-conformance holds a backend to that:
 *                 F32              F32 products;
 *                 F16, BF16        weights widened to F32 (a backend may
 *                                  round x to the weight's type first);
 *                 Q8_0             x quantised per 32-block like Q8_0
 *                                  (d = amax/127, q = round(x/d)), integer
 *                                  block dots times both scales (as ggml);
 *                 TQ1_0, TQ2_0     x quantised per 256-block like ggml's
 *                                  Q8_K (d = -max/127 of the signed
 *                                  absolute maximum), integer block dots;
 *                 I2_S, TL1, TL2   trit/ternary.h: per-token absmax int8,
 *                                  exact integer dots, y = d / s * scale.
 *   CPY         dst = x converted to dst's type; F32, F16, BF16 and Q8_0
 *               each way (Q8_0 rows a multiple of 32). Same element count;
 *               shapes may differ when both are contiguous.
 *   KV_WRITE    write new keys or values into a cache: dst cache
 *               [D, Hkv, n_ctx] of F32, F16 or Q8_0, src[0] F32
 *               [D, Hkv, T], src[1] positions I32 [T]:
 *               dst[:, :, pos[t]] = convert(x[:, :, t]). A position past
 *               n_ctx is an error (TRIT_ERANGE).
 *
 * dst may be the very same tensor as src[0] (in place) for ADD, MUL, SCALE,
 * RMS_NORM, ROPE, RELU2, SILU, GELU and GLU; otherwise dst overlaps no
 * operand.
 */
enum trit_op {
	TRIT_OP_NONE         = 0,  /* does nothing; a backend may skip it */
	TRIT_OP_GET_ROWS     = 1,
	TRIT_OP_RMS_NORM     = 2,
	TRIT_OP_ADD          = 3,
	TRIT_OP_MUL          = 4,
	TRIT_OP_SCALE        = 5,
	TRIT_OP_ROPE         = 6,
	TRIT_OP_ATTENTION    = 7,
	TRIT_OP_RELU2        = 8,
	TRIT_OP_SILU         = 9,
	TRIT_OP_GELU         = 10,
	TRIT_OP_GLU          = 11,
	TRIT_OP_QUANTIZE_ACT = 12,
	TRIT_OP_MATMUL       = 13,
	TRIT_OP_CPY          = 14,
	TRIT_OP_KV_WRITE     = 15,
	TRIT_OP_COUNT
};

/* ROPE modes (iparams[0]). */
#define TRIT_ROPE_NORMAL 0
#define TRIT_ROPE_NEOX   2

#define TRIT_NODE_MAX_SRC 4

/*
 * One operation of a graph. The host fills it; the backend reads it during
 * the call that passed it (and, for graph_submit(), until the event is
 * waited for) and keeps no pointer into it afterwards.
 */
struct trit_node {
	uint32_t struct_size;          /* sizeof(struct trit_node) as the host knows it */
	uint32_t op;                   /* enum trit_op */
	struct trit_tensor dst;
	struct trit_tensor src[TRIT_NODE_MAX_SRC];
	int32_t iparams[4];            /* integer parameters, per op above; else 0 */
	float fparams[4];              /* float parameters, per op above; else 0 */
	const char *name;              /* for messages ("blk.3.attn_q"); may be NULL */
};

/*
 * A device's share of a forward pass: nodes run in order, each seeing the
 * results of those before it.
 */
struct trit_graph {
	uint32_t struct_size;          /* sizeof(struct trit_graph) as the host knows it */
	uint32_t n_nodes;
	const struct trit_node *nodes;
	uint32_t n_threads;            /* CPU backends: threads to use; 0 = backend's choice */
	uint32_t flags;                /* 0; reserved */
	/* Scratch of at least graph_workspace() bytes, or NULL when that was 0.
	 * Its contents do not survive the call. */
	struct trit_buffer *workspace;
	uint64_t workspace_offset;
	uint64_t workspace_size;
};

/* What a device's buffers can be (buffer_limits()). */
struct trit_buffer_limits {
	uint32_t struct_size;          /* sizeof as the plugin knows it */
	uint32_t host_visible;         /* 1: buffer_host_ptr() returns the memory */
	uint32_t from_host_ptr;        /* 1: buffer_from_host_ptr() wraps host memory */
	uint32_t reserved;             /* 0 */
	uint64_t alignment;            /* every buffer's base is aligned to this (a power of 2) */
	uint64_t max_size;             /* the largest single buffer the device allocates */
};

/* A completion the host waits on (graph_submit()). Opaque, owned by the
 * plugin until event_free(). */
struct trit_event;

/* ------------------------------------------------------------------------ */
/* Log levels, shared by host and plugins.                                   */

enum trit_log_level {
	TRIT_LOG_ERROR = 0,
	TRIT_LOG_WARN  = 1,
	TRIT_LOG_INFO  = 2,
	TRIT_LOG_DEBUG = 3,
	TRIT_LOG_TRACE = 4
};

/* ------------------------------------------------------------------------ */
/* The host table: what the runtime offers a plugin.                         */

struct trit_host {
	uint32_t abi_version;    /* TRIT_BACKEND_ABI_VERSION of the runtime */
	uint32_t struct_size;    /* sizeof(struct trit_host) as the runtime knows it */
	const char *host_version;/* trit's version string, e.g. "0.1.0" */
	void *ctx;               /* pass back to the functions below */

	/* Log one message (no trailing newline needed) at a trit_log_level. The
	 * runtime prefixes the plugin name and filters by the user's level. */
	void (*log)(void *ctx, int level, const char *message);

	/* The plugin's own configuration: the keys of its INI section
	 * [plugin.<name>], each possibly overridden by the environment variable
	 * TRIT_PLUGIN_<NAME>_<KEY> (upper case). config_get returns the value or
	 * NULL; config_key enumerates the keys that are set (NULL past the end);
	 * config_where says where a key was set ("deploy.ini:12",
	 * "environment TRIT_PLUGIN_CPU_AVX2_PROC_ROOT") for error messages.
	 * A plugin should refuse keys it does not know, naming config_where. */
	const char *(*config_get)(void *ctx, const char *key);
	const char *(*config_key)(void *ctx, uint32_t index);
	const char *(*config_where)(void *ctx, const char *key);

	/* Added within ABI 2 (trit 0.2); test with TRIT_HOST_HAS(h, cache_put).
	 *
	 * A store for measurements that are slow to take and do not change
	 * from one run to the next (a memory bandwidth run, a driver's device
	 * list), so that init() costs milliseconds instead of seconds on every
	 * command. Free memory and anything else that moves is never cached.
	 *
	 * `key` names the measurement within the plugin: [a-z0-9_.-], 1 to 64
	 * bytes ("cpu0.mem_bandwidth"). `stamp` identifies what it was measured
	 * on: the plugin's own fingerprint of everything the value depends on
	 * (CPU model and features, cache sizes, threads, memory size, kernel
	 * release, driver files and versions, its settings), printable ASCII,
	 * at most TRIT_HOST_CACHE_STAMP_MAX bytes. The runtime adds its part:
	 * the plugin's name, version and file (path, size, modification time),
	 * so an upgraded or rebuilt plugin measures again.
	 *
	 * cache_get copies the value stored under `key` with an equal `stamp`
	 * into value[len] (NUL-terminated) and returns 1, with *age_s (may be
	 * NULL) the seconds since it was measured. It returns 0 when there is
	 * no such value: never stored, another stamp, older than the operator's
	 * limit, caching switched off, or `trit devices --remeasure`. A
	 * negative trit_result means the call was wrong (bad key or stamp, len
	 * too small for the value). The plugin then measures, and reports the
	 * value with cache_put: printable ASCII (no control characters), at
	 * most TRIT_HOST_CACHE_VALUE_MAX bytes; 0 or a negative trit_result.
	 * Both are cheap (memory; the runtime writes the file after init). A
	 * plugin must work when the cache fails: it is an optimisation. */
	int (*cache_get)(void *ctx, const char *key, const char *stamp,
	                 char *value, size_t len, uint64_t *age_s);
	int (*cache_put)(void *ctx, const char *key, const char *stamp, const char *value);
};

#define TRIT_HOST_CACHE_KEY_MAX   64
#define TRIT_HOST_CACHE_STAMP_MAX 1024
#define TRIT_HOST_CACHE_VALUE_MAX 8192

/* True when the host table `h` is large enough to contain `field`. */
#define TRIT_HOST_HAS(h, field) \
	((h)->struct_size >= offsetof(struct trit_host, field) + sizeof((h)->field))

/* printf-style logging through the host; a convenience for plugins. */
static inline void trit_host_logf(const struct trit_host *h, int level, const char *fmt, ...)
	TRIT_PRINTF(3, 4);
static inline void trit_host_logf(const struct trit_host *h, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!h || !TRIT_HOST_HAS(h, log) || !h->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	h->log(h->ctx, level, msg);
}

/* ------------------------------------------------------------------------ */
/* The backend table: what a plugin offers the runtime.                      */

struct trit_backend {
	uint32_t abi_version;    /* TRIT_BACKEND_ABI_VERSION the plugin was built for */
	uint32_t struct_size;    /* sizeof(struct trit_backend) as the plugin knows it */
	const char *name;        /* short name, [a-z0-9_]+, e.g. "cpu_avx2" */
	const char *version;     /* the plugin's own version */
	const char *description; /* one line for `trit devices` */

	/*
	 * Probe the machine. On success store the plugin's state in *state and
	 * return 0; the devices are then available through device_get(). On
	 * failure (no driver, unsupported CPU, bad configuration) return a
	 * negative trit_result and explain in err; the runtime reports the
	 * plugin as skipped with that reason and does not call it again.
	 * A backend that probes successfully but finds no device returns 0 and
	 * reports device_count() == 0.
	 */
	int (*init)(const struct trit_host *host, void **state, char *err, size_t errlen);
	void (*shutdown)(void *state);
	uint32_t (*device_count)(void *state);
	const struct trit_device *(*device_get)(void *state, uint32_t index);

	/* Everything above is required (see TRIT_BACKEND_MIN_STRUCT_SIZE);
	 * everything below is optional: NULL or beyond struct_size means
	 * "unsupported", and the runtime answers TRIT_EUNSUPPORTED itself. */

	/* Re-measure the volatile fields of a device (free memory). */
	int (*device_update)(void *state, uint32_t index, char *err, size_t errlen);

	/* Device memory. */
	int (*buffer_alloc)(void *state, uint32_t device, uint64_t size,
	                    struct trit_buffer **out, char *err, size_t errlen);
	void (*buffer_free)(void *state, struct trit_buffer *buf);
	int (*buffer_write)(void *state, struct trit_buffer *buf, uint64_t offset,
	                    const void *src, uint64_t size, char *err, size_t errlen);
	int (*buffer_read)(void *state, struct trit_buffer *buf, uint64_t offset,
	                   void *dst, uint64_t size, char *err, size_t errlen);

	/* Bytes of workspace matmul() needs for `op` (its buffers may be NULL
	 * here), so the planner can count it before anything is allocated. */
	int (*matmul_workspace)(void *state, uint32_t device, const struct trit_matmul *op,
	                        uint64_t *bytes, char *err, size_t errlen);
	/* Run the matrix multiplication described by `op` on `device`. A v2
	 * backend may leave this NULL: the host sends TRIT_OP_MATMUL nodes
	 * through graph_compute() (and answers old callers of matmul() with a
	 * one-node graph). */
	int (*matmul)(void *state, uint32_t device, const struct trit_matmul *op,
	              char *err, size_t errlen);

	/* ---------------------------------------------------------------- */
	/* ABI v2. Threading: the host calls one plugin state from one thread */
	/* at a time, except event_wait(), which it may call from another     */
	/* thread while a graph_submit() is in flight. A backend may run its  */
	/* own threads inside any call.                                       */

	/* Live memory of `device` now, in bytes (not the cached device_get()
	 * values): the loader checks it before it allocates. */
	int (*get_memory)(void *state, uint32_t device, uint64_t *free_bytes,
	                  uint64_t *total_bytes, char *err, size_t errlen);
	/* Alignment, largest buffer and host visibility of `device`'s buffers. */
	int (*buffer_limits)(void *state, uint32_t device, struct trit_buffer_limits *out,
	                     char *err, size_t errlen);
	/* Wrap `size` bytes of host memory at `ptr` as a buffer of `device`
	 * without copying (an mmap'd file range on a host-memory device). The
	 * memory stays the caller's: it outlives the buffer, and buffer_free()
	 * releases only the wrapper. The buffer may be read-only memory (an
	 * mmap'd file): the host makes it a dst only when it knows the memory
	 * is writable (its own staging copies, another backend's host-visible
	 * buffer it hands to the CPU fallback). TRIT_EUNSUPPORTED when the
	 * device cannot address host memory (the host then copies). */
	int (*buffer_from_host_ptr)(void *state, uint32_t device, void *ptr, uint64_t size,
	                            struct trit_buffer **out, char *err, size_t errlen);
	/* The host address of a host-visible buffer's first byte, or NULL. */
	void *(*buffer_host_ptr)(void *state, struct trit_buffer *buf);
	/* Copy `size` bytes between two buffers of this backend. */
	int (*buffer_copy)(void *state, struct trit_buffer *dst, uint64_t dst_offset,
	                   struct trit_buffer *src, uint64_t src_offset, uint64_t size,
	                   char *err, size_t errlen);

	/* 1 when `device` runs `node` (its op, operand types, shapes and
	 * strides; buffers may be NULL here), else 0. Pure and cheap: the
	 * scheduler asks it for every node and sends what a device does not
	 * run to another device instead of failing. */
	int (*supports_op)(void *state, uint32_t device, const struct trit_node *node);
	/* Scratch bytes graph_compute() needs for `graph` (its buffers may be
	 * NULL), so the plan counts it before anything is allocated. */
	int (*graph_workspace)(void *state, uint32_t device, const struct trit_graph *graph,
	                       uint64_t *bytes, char *err, size_t errlen);
	/* Run the graph's nodes in order on `device` and return when all are
	 * done. Only nodes for which supports_op() said 1 are passed. On error
	 * the contents of every dst of the graph are unspecified; err names
	 * the node (its index and name). */
	int (*graph_compute)(void *state, uint32_t device, const struct trit_graph *graph,
	                     char *err, size_t errlen);
	/* Start the graph and return at once with an event. The host keeps the
	 * graph, its nodes and its buffers alive and untouched until
	 * event_wait() has returned, then frees the event with event_free().
	 * A backend provides all three or none (the host then runs
	 * graph_compute() and hands back a completed event). */
	int (*graph_submit)(void *state, uint32_t device, const struct trit_graph *graph,
	                    struct trit_event **event, char *err, size_t errlen);
	/* Block until the event's graph has finished; its result as
	 * graph_compute() would have returned it. */
	int (*event_wait)(void *state, struct trit_event *event, char *err, size_t errlen);
	void (*event_free)(void *state, struct trit_event *event);

	/* What a backend offers beyond this ABI, by name ("cuda.stream"): a
	 * pointer to a struct the backend documents itself, valid until
	 * shutdown(), or NULL when it has no such extension. */
	const void *(*extension)(void *state, const char *name);
};

/* The smallest backend table the runtime accepts: everything up to and
 * including device_get. */
#define TRIT_BACKEND_MIN_STRUCT_SIZE \
	(offsetof(struct trit_backend, device_get) + sizeof(void *))

/* The smallest device struct the runtime accepts: up to and including
 * matmul_types. */
#define TRIT_DEVICE_MIN_STRUCT_SIZE \
	(offsetof(struct trit_device, matmul_types) + sizeof(uint64_t))

/* The entry point's type. A plugin defines it as
 *
 *     TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
 *     { return &my_backend; }
 *
 * and must do nothing else in it: the runtime calls it before it has checked
 * the ABI, so it must not touch the host or allocate. */
typedef const struct trit_backend *(*trit_backend_entry_fn)(void);

/* The entry point's prototype. A plugin that exports the libltdl-prefixed
 * name defines `trit_backend_entry` as <module>_LTX_trit_backend_entry
 * before including this header, and this declaration follows suit. */
TRIT_EXPORT const struct trit_backend *trit_backend_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* TRIT_BACKEND_H */
