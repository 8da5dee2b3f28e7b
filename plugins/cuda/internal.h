/*
 * internal.h - the cuda plugin's internal interface: the CUDA driver entry
 * points it resolves at run time (driver.c), the per-device state the probe
 * fills (probe.c), buffers (buffers.c), the kernels (matmul.c) and the
 * embedded kernel image (image.c or the generated kernels-fatbin.c). Not part
 * of the SDK: only the plugin's own files and its Check suites include it.
 *
 * Types and constants come from NVIDIA's cuda.h; functions never do: the
 * plugin calls the driver only through the pointers in struct cuda_driver,
 * so the module has no link-time dependency on libcuda and loads on machines
 * without a driver.
 */
#ifndef TRIT_CUDA_INTERNAL_H
#define TRIT_CUDA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cuda.h>

#include <trit/backend.h>

/* The library the plugin opens unless told otherwise: the driver's soname,
 * as the CUDA runtime opens it. */
#define CUDA_DRIVER_DEFAULT "libcuda.so.1"

/* ------------------------------------------------------------------------ */
/* The driver (driver.c)                                                     */

/*
 * The entry points the plugin uses, by the names libcuda exports (the _v2
 * names where cuda.h maps the plain name to a versioned one). Member names
 * drop the "cu" prefix so cuda.h's macros (cuMemAlloc -> cuMemAlloc_v2) do
 * not rewrite them. The test double in tests/fakecuda exports exactly these.
 */
#define CUDA_DRIVER_SYMBOLS(X) \
	X(Init, "cuInit", CUresult, (unsigned int flags)) \
	X(DriverGetVersion, "cuDriverGetVersion", CUresult, (int *version)) \
	X(DeviceGetCount, "cuDeviceGetCount", CUresult, (int *count)) \
	X(DeviceGet, "cuDeviceGet", CUresult, (CUdevice *dev, int ordinal)) \
	X(DeviceGetName, "cuDeviceGetName", CUresult, (char *name, int len, CUdevice dev)) \
	X(DeviceTotalMem, "cuDeviceTotalMem_v2", CUresult, (size_t *bytes, CUdevice dev)) \
	X(DeviceGetAttribute, "cuDeviceGetAttribute", CUresult, \
	  (int *value, CUdevice_attribute attr, CUdevice dev)) \
	X(CtxCreate, "cuCtxCreate_v2", CUresult, (CUcontext *ctx, unsigned int flags, CUdevice dev)) \
	X(CtxDestroy, "cuCtxDestroy_v2", CUresult, (CUcontext ctx)) \
	X(CtxSetCurrent, "cuCtxSetCurrent", CUresult, (CUcontext ctx)) \
	X(CtxSynchronize, "cuCtxSynchronize", CUresult, (void)) \
	X(MemGetInfo, "cuMemGetInfo_v2", CUresult, (size_t *free_bytes, size_t *total_bytes)) \
	X(MemAlloc, "cuMemAlloc_v2", CUresult, (CUdeviceptr *ptr, size_t bytes)) \
	X(MemFree, "cuMemFree_v2", CUresult, (CUdeviceptr ptr)) \
	X(MemcpyHtoD, "cuMemcpyHtoD_v2", CUresult, (CUdeviceptr dst, const void *src, size_t bytes)) \
	X(MemcpyDtoH, "cuMemcpyDtoH_v2", CUresult, (void *dst, CUdeviceptr src, size_t bytes)) \
	X(ModuleLoadData, "cuModuleLoadData", CUresult, (CUmodule *mod, const void *image)) \
	X(ModuleUnload, "cuModuleUnload", CUresult, (CUmodule mod)) \
	X(ModuleGetFunction, "cuModuleGetFunction", CUresult, \
	  (CUfunction *fn, CUmodule mod, const char *name)) \
	X(LaunchKernel, "cuLaunchKernel", CUresult, \
	  (CUfunction fn, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, \
	   unsigned int by, unsigned int bz, unsigned int shared_bytes, CUstream stream, \
	   void **params, void **extra)) \
	X(GetErrorName, "cuGetErrorName", CUresult, (CUresult rc, const char **name)) \
	X(GetErrorString, "cuGetErrorString", CUresult, (CUresult rc, const char **text))

struct cuda_driver {
	void *handle;          /* from dlopen; never closed (see driver.c) */
	char path[1024];       /* what was opened */
	char origin[256];      /* where the path came from: "default", "TRIT_CUDA_DRIVER", "deploy.ini:3" */
	int version;           /* cuDriverGetVersion: 1000 * major + 10 * minor */
#define CUDA_DRIVER_MEMBER(member, symbol, ret, args) ret (*member) args;
	CUDA_DRIVER_SYMBOLS(CUDA_DRIVER_MEMBER)
#undef CUDA_DRIVER_MEMBER
};

/* Open `path` and resolve every entry point. On failure returns TRIT_ENODEV
 * with a sentence naming the file and the missing library or symbol, and
 * leaves nothing open. */
int cuda_driver_open(struct cuda_driver *drv, const char *path, const char *origin,
                     char *err, size_t errlen);

/* "CUDA_ERROR_OUT_OF_MEMORY (out of memory)" for rc, through the driver's
 * own cuGetErrorName/cuGetErrorString; the number when the driver has no
 * name for it. Returns buf. */
const char *cuda_error_text(const struct cuda_driver *drv, CUresult rc, char *buf, size_t len);

/* The trit_result a driver error maps to: out of memory -> TRIT_ENOMEM, no
 * or invalid device -> TRIT_ENODEV, not supported -> TRIT_EUNSUPPORTED, bad
 * value -> TRIT_EINVAL, anything else (the device failed, was lost, a
 * launch failed) -> TRIT_EDEVICE. */
int cuda_result(CUresult rc);

/* Write "<what> failed on <id>: <error text>" into err; return cuda_result(rc). */
int cuda_fail(const struct cuda_driver *drv, CUresult rc, char *err, size_t errlen,
              const char *fmt, ...) TRIT_PRINTF(5, 6);

/* ------------------------------------------------------------------------ */
/* The embedded kernels (kernels-fatbin.c when built with nvcc, image.c)     */

/* The fatbin nvcc built from kernels.cu, or NULL when the plugin was built
 * without nvcc (then *why says so). */
const unsigned char *cuda_kernel_image(size_t *bytes, const char **why);

/* The GPU code in the image, for messages (configure's summary of CUDA_ARCHS). */
#ifdef TRIT_CUDA_ARCHS
#define TRIT_CUDA_ARCHS_TEXT TRIT_CUDA_ARCHS
#else
#define TRIT_CUDA_ARCHS_TEXT "no GPU code"
#endif

/* The kernels, by index into cuda_dev.fn. */
enum cuda_kernel {
	CUDA_K_QUANTIZE, CUDA_K_PAD_I8,
	CUDA_K_I2S_GEMV, CUDA_K_I2S_GEMM,
	CUDA_K_TL1_GEMV, CUDA_K_TL1_GEMM,
	CUDA_K_TL2_GEMV, CUDA_K_TL2_GEMM,
	/* the ABI v2 graph ops (ops.cuh) */
	CUDA_K_OP_UNARY, CUDA_K_OP_BINARY, CUDA_K_OP_RMS_NORM, CUDA_K_OP_QUANTIZE,
	CUDA_K_OP_ROPE, CUDA_K_OP_GET_ROWS, CUDA_K_OP_CPY, CUDA_K_OP_KV_WRITE,
	CUDA_K_OP_ATTENTION, CUDA_K_OP_MATMUL_F, CUDA_K_OP_QUANT_Q8, CUDA_K_OP_MATMUL_Q8,
	CUDA_K_COUNT
};
extern const char *const cuda_kernel_names[CUDA_K_COUNT];

/* ------------------------------------------------------------------------ */
/* Devices and plugin state (probe.c)                                        */

enum {
	CUDA_PROP_POOL, CUDA_PROP_OVERHEAD, CUDA_PROP_DRIVER, CUDA_PROP_LIBRARY,
	CUDA_PROP_PCI, CUDA_PROP_MEMCLOCK, CUDA_PROP_BUSWIDTH, CUDA_PROP_L2, CUDA_PROP_KERNELS,
	CUDA_PROP_COUNT
};

struct cuda_dev {
	int ordinal;
	CUdevice dev;
	CUcontext ctx;                 /* created at probe, destroyed at shutdown */
	CUmodule mod;                  /* NULL when the kernels did not load here */
	CUfunction fn[CUDA_K_COUNT];
	int has_kernels;
	CUdeviceptr errors;            /* the graph ops' error words (opsabi.h), 0 until
	                                * the first graph_compute */
	uint64_t overhead;             /* bytes trit's context (and module) cost */
	int overhead_known;

	struct trit_device pub;
	struct trit_property props[CUDA_PROP_COUNT];
	char id[16], name[256], pci[32], pool[48];
	char driver_text[32], library_text[1300], kernels_text[512];
	char src_total[32], src_free[400], src_bw[360], src_cu[320], src_clock[320],
	     src_cc[320], src_overhead[400], src_memclock[320], src_bus[320], src_l2[320];
};

struct cuda_state {
	const struct trit_host *host;
	struct cuda_driver drv;
	struct cuda_dev *devs;
	uint32_t n_devs;
};

/* Options from [plugin.cuda] and the environment (probe.c). */
struct cuda_options {
	const char *driver;            /* library to open */
	char origin[256];              /* where it came from */
};
int cuda_options_read(const struct trit_host *host, struct cuda_options *o,
                      char *err, size_t errlen);

int cuda_init(const struct trit_host *host, void **state, char *err, size_t errlen);
void cuda_shutdown(void *state);
uint32_t cuda_device_count(void *state);
const struct trit_device *cuda_device_get(void *state, uint32_t index);
int cuda_device_update(void *state, uint32_t index, char *err, size_t errlen);

/* Make device `index`'s context current on this thread; fills err. */
int cuda_use(struct cuda_state *s, uint32_t index, char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Buffers (buffers.c)                                                       */

struct trit_buffer {
	CUdeviceptr ptr;   /* 0 for an empty buffer */
	uint64_t size;
	uint32_t device;
	uint32_t magic;    /* CUDA_BUFFER_MAGIC while allocated */
};
#define CUDA_BUFFER_MAGIC 0x43554442u /* "CUDB" */

int cuda_buffer_alloc(void *state, uint32_t device, uint64_t size, struct trit_buffer **out,
                      char *err, size_t errlen);
void cuda_buffer_free(void *state, struct trit_buffer *buf);
int cuda_buffer_write(void *state, struct trit_buffer *buf, uint64_t offset, const void *src,
                      uint64_t size, char *err, size_t errlen);
int cuda_buffer_read(void *state, struct trit_buffer *buf, uint64_t offset, void *dst,
                     uint64_t size, char *err, size_t errlen);
/* 0 when [offset, offset + size) lies in buf, which belongs to `device`. */
int cuda_buffer_check(const struct trit_buffer *buf, uint32_t device, uint64_t offset,
                      uint64_t size, const char *what, char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Kernels (matmul.c)                                                        */

/* The workspace layout of one matmul, shared by matmul_workspace and matmul
 * so the two can never disagree. */
struct cuda_ws_layout {
	uint64_t q_bytes;      /* int8 [tokens][cols_pad]; 0 when the input is used in place */
	uint64_t s_offset;     /* F32 per-token multipliers, after q */
	uint64_t s_bytes;      /* 4 x tokens on the F32 path, else 0 */
	uint64_t total;
};
int cuda_ws_layout(const struct trit_matmul *op, struct cuda_ws_layout *l, char *err,
                   size_t errlen);

int cuda_matmul_workspace(void *state, uint32_t device, const struct trit_matmul *op,
                          uint64_t *bytes, char *err, size_t errlen);
int cuda_matmul(void *state, uint32_t device, const struct trit_matmul *op, char *err,
                size_t errlen);

/* One ternary product as device addresses the caller has checked: shared by
 * matmul() and the graph's MATMUL nodes. `in` is F32 [tokens][cols], or I8
 * when in_i8 (then `scales`, when not 0, holds the tokens' multipliers and
 * the output is F32; without scales the output is I32 dots). The workspace
 * holds the zero-padded int8 activations when the input is F32 or its rows
 * are not cols_pad long ([tokens][cols_pad]), then, on the F32 path without
 * given scales, the multipliers. Launches only: the caller synchronises. */
struct cuda_ternary_job {
	uint32_t type;
	uint64_t rows, cols, tokens;
	CUdeviceptr w, in, out, ws, scales;
	int in_i8;
};
int cuda_ternary_launch(struct cuda_state *s, struct cuda_dev *d,
                        const struct cuda_ternary_job *j, char *err, size_t errlen);

/* 0 when d runs kernels, else TRIT_EUNSUPPORTED with why (err may be NULL). */
int cuda_no_kernels(const struct cuda_dev *d, char *err, size_t errlen);

/* Launch kernel k on d's context (current) with a grid gx x gy of blocks of
 * `threads` threads and `shared` bytes of dynamic shared memory. */
int cuda_launch(struct cuda_state *s, struct cuda_dev *d, enum cuda_kernel k, unsigned gx,
                unsigned gy, unsigned threads, unsigned shared, void **params, char *err,
                size_t errlen);

/* ------------------------------------------------------------------------ */
/* Graphs (graph.c): ABI v2                                                  */

int cuda_supports_op(void *state, uint32_t device, const struct trit_node *node);
int cuda_graph_workspace(void *state, uint32_t device, const struct trit_graph *graph,
                         uint64_t *bytes, char *err, size_t errlen);
int cuda_graph_compute(void *state, uint32_t device, const struct trit_graph *graph, char *err,
                       size_t errlen);
int cuda_get_memory(void *state, uint32_t device, uint64_t *free_bytes, uint64_t *total_bytes,
                    char *err, size_t errlen);
/* Free d's error words (shutdown). */
void cuda_graph_release(struct cuda_state *s, struct cuda_dev *d);

/* The module's one exported symbol (plugin.c), libltdl-prefixed. */
TRIT_EXPORT const struct trit_backend *cuda_LTX_trit_backend_entry(void);

#endif /* TRIT_CUDA_INTERNAL_H */
