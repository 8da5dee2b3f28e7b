/*
 * ocl.h - the opencl plugin's internal interface: devices found through the
 * OpenCL ICD loader (probe.c), the kernels program built and cached per
 * device (program.c), buffers and matmul on those devices (kernels.c), the
 * graph ops (graph.c, ops.cl), the [plugin.opencl] options (options.c) and
 * small helpers (util.c). Not part of
 * the SDK; only the plugin's own files and its Check suite include it.
 */
#ifndef TRIT_OPENCL_OCL_H
#define TRIT_OPENCL_OCL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

#include "../common/cpu_common.h"

/* ------------------------------------------------------------------------ */
/* Helpers (util.c).                                                         */

/* The string pool every device string lives in (valid until shutdown, or
 * for a device's memory strings until the next device_update), the
 * trit_value shorthands and the error-sentence helper are plugins/common's,
 * shared with the CPU backends. */
#define ocl_pool         cpu_common_pool
#define ocl_pool_printf  cpu_common_pool_printf
#define ocl_pool_free    cpu_common_pool_free
#define ocl_measured     cpu_common_measured
#define ocl_derived      cpu_common_derived
#define ocl_configured   cpu_common_configured
#define ocl_unknown      cpu_common_unknown
#define ocl_errf         cpu_common_errf

/* "CL_OUT_OF_RESOURCES (-5)" for an OpenCL error code. */
const char *ocl_strerror(cl_int err, char *buf, size_t len);

/* The TRIT_E* code that stands for an OpenCL error: allocation failures
 * TRIT_ENOMEM, a lost device TRIT_EDEVICE, ... */
int ocl_result(cl_int err);

/* 64-bit FNV-1a, continued from h (start with OCL_FNV_INIT). */
#define OCL_FNV_INIT UINT64_C(0xcbf29ce484222325)
uint64_t ocl_fnv1a(uint64_t h, const void *data, size_t len);

/* Seconds on the monotonic clock. */
double ocl_now(void);

/* Read a whole file (at most `limit` bytes) into a new NUL-terminated buffer. */
int ocl_read_file(const char *path, size_t limit, char **out, size_t *len, char *why,
                  size_t whylen);

/* ------------------------------------------------------------------------ */
/* Options (options.c): the [plugin.opencl] section.                        */

enum ocl_divide { OCL_DIVIDE_AUTO = 0, OCL_DIVIDE_OPTION, OCL_DIVIDE_EMULATE };

struct ocl_options {
	cl_device_type device_type;   /* CL_DEVICE_TYPE_ALL unless `device_type` */
	const char *device_type_text, *device_type_where;
	int kernels;                  /* build the kernels (default 1) */
	const char *kernels_where;
	int cache;                    /* use the binary cache on disk (default 1) */
	const char *cache_dir;        /* NULL: $XDG_CACHE_HOME/trit/opencl or ~/.cache/... */
	const char *cache_where;      /* where cache or cache_dir was set, NULL by default */
	const char *source;           /* a .cl file replacing the built-in source */
	const char *source_where;
	const char *build_options;    /* appended to the build options */
	const char *build_options_where;
	enum ocl_divide divide;
	const char *divide_where;
	uint64_t memory;              /* the memory budget per device in bytes; 0: none */
	const char *memory_text, *memory_where; /* "64MiB", "deploy.ini:3" */
};

int ocl_options_read(const struct trit_host *host, struct ocl_options *o, struct ocl_pool *pool,
                     char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Devices, programs and kernels.                                           */

/* The kernels of one built program: quantise/pad, and per format (I2_S,
 * TL1, TL2) a one-token and a TT-token dot kernel. */
enum { OCL_FMT_I2S = 0, OCL_FMT_TL1, OCL_FMT_TL2, OCL_FMT_COUNT };
#define OCL_TT 4 /* tokens per work-item in the *_tt kernels */

struct ocl_kernels {
	cl_program program;
	cl_kernel quantize, pad;
	cl_kernel dot[OCL_FMT_COUNT][2]; /* [fmt][0] one token, [fmt][1] TT tokens */
	cl_kernel tlv[2][2];  /* TL1, TL2 vector variants: a work-item per 32-row tile */
	int tl_vector;        /* run tlv for TL1/TL2 (chosen for CPU devices) */
	size_t quant_local;  /* work-group size of quantize/pad: a power of two */
	size_t dot_local;    /* work-group size of the I2_S dot kernels */
	size_t tile_local;   /* of the TL1/TL2 ones: a multiple of 16 (16 per tile) */
};

/* The graph ops of ops.cl (graph.c); built with the ternary kernels, from
 * the same program. A `source` override without them leaves have_ops 0:
 * the device then runs MATMUL of the ternary types only. */
enum {
	OCL_OP_UNARY = 0, OCL_OP_BINARY, OCL_OP_RMS_NORM, OCL_OP_QUANTIZE, OCL_OP_ROPE,
	OCL_OP_GET_ROWS, OCL_OP_CPY, OCL_OP_KV_WRITE, OCL_OP_MATMUL_F, OCL_OP_ATTENTION,
	OCL_OP_QUANT_Q8, OCL_OP_MATMUL_Q8, OCL_OP_KERNELS
};

struct ocl_ops {
	cl_kernel k[OCL_OP_KERNELS];
	size_t local;         /* work-group size of the row kernels: a power of two */
	cl_mem errors;        /* 4 ints: the kernels' error words (ops.cl) */
};

#define OCL_MAX_PROPS 24

/* What the driver says about a device that does not change while drivers,
 * hardware and options stay the same: the description is built from these
 * alone (ocl_describe), and the probe cache stores them (desc.c). */
struct ocl_facts {
	const char *name, *board, *vendor;   /* NULL: not answered */
	const char *device_version, *driver_version;
	const char *pool_text;               /* property mem.pool: "host", "pci:..." */
	uint64_t type;                       /* cl_device_type */
	uint64_t compute_units, clock_mhz, mem_total, max_alloc, local_mem, global_mem_cache;
	uint64_t max_wg, cc;                 /* cc: compute capability, when cc_ok */
	int cc_ok, little_endian, compiler, host_unified, crdiv, fp64, fp16, amd_free, nv_attrs;
};

struct ocl_device {
	struct trit_device dev;
	struct trit_property props[OCL_MAX_PROPS];
	struct ocl_pool mem_pool;  /* memory strings, replaced by device_update */

	cl_platform_id platform;
	cl_device_id id;
	cl_context ctx;
	cl_command_queue queue;
	struct ocl_kernels k;
	struct ocl_ops ops;
	int have_ops;              /* ops is built (and k too) */
	uint64_t allocated;        /* bytes of this plugin's live buffers (under buffers_lock) */
	pthread_mutex_t lock;      /* kernel arguments are shared: one matmul at a time */
	int lock_ready;
	int have_kernels;          /* k is built and passed the self-test */
	struct ocl_facts f;        /* what the description is built from */
	/* live: OpenCL is brought up for this device (platform, id, context,
	 * queue, program). Always after a probe; after a probe-cache hit only
	 * once a call needs the device (ocl_bring_up). */
	int live;
	int from_probe_cache;      /* described from the probe cache */
	int bring_up_rc;           /* a failed bring-up's result, kept: not retried */
	const char *bring_up_error;

	/* what the probe learnt */
	uint32_t platform_index, device_index;
	const char *platform_name, *platform_version, *driver_version, *device_version;
	const char *extensions;
	cl_device_type type;
	uint64_t max_alloc;
	size_t max_wg;
	int little_endian, compiler, crdiv, fp64, host_unified, amd_free, nv_attrs;
	const char *kernels_text;  /* property opencl.kernels: "I2_S TL1 TL2" or NULL */
	const char *program_text;  /* property opencl.program: how it was built, NULL if not */
	struct trit_value kernels_src;
	double build_seconds;      /* time to build or load the program, then self-test */
	int from_cache;            /* the program came from the binary cache */
};

struct ocl_state {
	struct trit_host host;     /* a copy; fields beyond struct_size are zero */
	struct ocl_options opt;
	struct ocl_pool pool;
	struct ocl_device *devs;
	uint32_t n_devs;
	struct trit_buffer *buffers; /* live buffers; shutdown frees what is left */
	pthread_mutex_t buffers_lock;
	char *source;              /* the kernel source in use */
	size_t source_len;
	const char *source_name;   /* "built-in ternary.cl" or the override's path */
	char stamp[TRIT_HOST_CACHE_STAMP_MAX + 1]; /* the probe cache's stamp, "" for none */
	int probe_cache_hit;       /* the devices came from the probe cache */
};

/* The embedded kernel sources (generated from ternary.cl and ops.cl at
 * build time); the built-in program is the two, in that order. */
extern const char ocl_ternary_cl[];
extern const size_t ocl_ternary_cl_len;
extern const char ocl_ops_cl[];
extern const size_t ocl_ops_cl_len;

/* A buffer of this backend (kernels.c allocates them). */
#define OCL_BUFFER_MAGIC 0x54434c42u /* "TCLB" */
struct trit_buffer {
	uint32_t magic;
	uint32_t device;
	uint64_t size;
	cl_mem mem;
	struct trit_buffer *prev, *next; /* the state's list of live buffers */
};

/* probe.c: enumerate platforms and devices into st->devs. Returns 0 with at
 * least one device, or TRIT_ENODEV with the reasons (no ICD, no platform,
 * no device) in err. Platforms or devices that fail are logged and left out. */
int ocl_probe(struct ocl_state *st, char *err, size_t errlen);
/* The static facts of d->id (needs OpenCL), and the description made of
 * them, d->platform_name and d->platform_version (needs none). */
void ocl_query_facts(struct ocl_state *st, struct ocl_device *d);
void ocl_describe(struct ocl_state *st, struct ocl_device *d, const char *id);
/* Free memory of one device, measured now (OpenCL only where the vendor
 * has a query for it, and only once the device is live). */
void ocl_probe_memory(struct ocl_state *st, struct ocl_device *d);
/* After a probe-cache hit: find the device again, check it is the one
 * described, open it and build its program. 0, or the reason (kept: later
 * calls get the same answer). */
int ocl_bring_up(struct ocl_state *st, struct ocl_device *d, char *err, size_t errlen);
void ocl_device_assemble(struct ocl_state *st, struct ocl_device *d);
void ocl_device_release(struct ocl_device *d);

/* desc.c: the probe cache. ocl_cache_stamp fingerprints what the device
 * list depends on without loading any driver (st->stamp; "" when the host
 * has no cache). ocl_cache_load fills st->devs from the cache: 1 on a hit,
 * 0 on a miss or damage (then nothing is kept). ocl_cache_store records a
 * probe's devices. Encode and parse are the per-device value format. */
void ocl_cache_stamp(struct ocl_state *st);
int ocl_cache_load(struct ocl_state *st);
void ocl_cache_store(struct ocl_state *st);
int ocl_desc_encode(const struct ocl_device *d, int kernels_state, const char *why, char *out,
                    size_t len);
int ocl_desc_parse(struct ocl_state *st, const char *value, struct ocl_device *d, int *kernels,
                   const char **why, char *err, size_t errlen);

/* program.c: build (or load from the disk cache) the kernels of device d and
 * run the self-test. On failure d->have_kernels stays 0 and kernels_src
 * says why. */
void ocl_program_build(struct ocl_state *st, struct ocl_device *d);
void ocl_kernels_release(struct ocl_kernels *k);
void ocl_ops_release(struct ocl_ops *o);
/* opstest.c: run a small graph of the ops through graph_compute and compare
 * it with the C reference; 0, or -1 with the first difference in why. */
int ocl_ops_self_test(struct ocl_state *st, struct ocl_device *d, char *why, size_t len);
/* Where the binary cache lives (NULL with why when there is none). */
const char *ocl_cache_dir(const struct ocl_state *st, char *buf, size_t len, char *why,
                          size_t whylen);

/* kernels.c: the backend's buffer and matmul functions. */
int ocl_buffer_alloc(void *state, uint32_t device, uint64_t size, struct trit_buffer **out,
                     char *err, size_t errlen);
void ocl_buffer_free(void *state, struct trit_buffer *buf);
/* Free every buffer still allocated (shutdown does, before the contexts go). */
void ocl_buffers_release(struct ocl_state *st);
int ocl_buffer_write(void *state, struct trit_buffer *buf, uint64_t offset, const void *src,
                     uint64_t size, char *err, size_t errlen);
int ocl_buffer_read(void *state, struct trit_buffer *buf, uint64_t offset, void *dst,
                    uint64_t size, char *err, size_t errlen);
int ocl_matmul_workspace(void *state, uint32_t device, const struct trit_matmul *op,
                         uint64_t *bytes, char *err, size_t errlen);
int ocl_matmul(void *state, uint32_t device, const struct trit_matmul *op, char *err,
               size_t errlen);
/* Run the kernels on cl_mem objects directly (the self-test uses it). */
int ocl_run(struct ocl_device *d, const struct trit_matmul *op, cl_mem w, cl_mem in, cl_mem out,
            cl_mem ws, char *err, size_t errlen);
/* Enqueue a ternary matmul without waiting (graph.c): with scales NULL, as
 * ocl_run; otherwise `in` is I8 [tokens][cols] quantised, its multipliers
 * at scales + scales_off, and the output F32. op->flags must be 0. */
int ocl_ternary_enqueue(struct ocl_device *d, const struct trit_matmul *op, cl_mem w, cl_mem in,
                        cl_mem scales, uint64_t scales_off, cl_mem out, cl_mem ws, char *err,
                        size_t errlen);
/* The device's bytes free and total under the memory budget (only when
 * [plugin.opencl] memory is set). */
void ocl_budget(struct ocl_state *st, uint32_t device, uint64_t *free_bytes, uint64_t *total);

/* graph.c: the ABI v2 graph entries, live memory and buffer limits. */
int ocl_supports_op(void *state, uint32_t device, const struct trit_node *node);
int ocl_graph_workspace(void *state, uint32_t device, const struct trit_graph *graph,
                        uint64_t *bytes, char *err, size_t errlen);
int ocl_graph_compute(void *state, uint32_t device, const struct trit_graph *graph, char *err,
                      size_t errlen);
int ocl_get_memory(void *state, uint32_t device, uint64_t *free_bytes, uint64_t *total_bytes,
                   char *err, size_t errlen);

/* backend.c: the backend table's functions. */
int ocl_init(const struct trit_host *host, void **state, char *err, size_t errlen);
void ocl_shutdown(void *state);
uint32_t ocl_device_count(void *state);
const struct trit_device *ocl_device_get(void *state, uint32_t index);
int ocl_device_update(void *state, uint32_t index, char *err, size_t errlen);

TRIT_EXPORT const struct trit_backend *opencl_LTX_trit_backend_entry(void);

#endif /* TRIT_OPENCL_OCL_H */
