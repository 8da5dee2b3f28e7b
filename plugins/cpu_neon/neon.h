/*
 * neon.h - the cpu_neon plugin's internal interface: what the CPU can execute
 * (getauxval hwcaps), what it is called (MIDR), its configuration, the
 * ternary kernels and the backend table built from all of that. The probes
 * it shares with cpu_avx2 (memory, cgroups, threads, topology, bandwidth) are
 * in plugins/common/cpu_common.h. Not part of the SDK; only the plugin's own
 * files and its tests include it.
 */
#ifndef CPU_NEON_NEON_H
#define CPU_NEON_NEON_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

#include "../common/cpu_common.h"
#include "../common/ops.h"

/* ------------------------------------------------------------------------ */
/* Instruction-set features (features.c).                                   */

/* The auxiliary-vector words the decision is made from (getauxval AT_HWCAP
 * and AT_HWCAP2). Kept raw so tests can feed in other CPUs. */
struct cpu_neon_hwcaps {
	uint64_t hwcap, hwcap2;
};

/* Bits of AT_HWCAP / AT_HWCAP2 on arm64 Linux (asm/hwcap.h; features.c
 * checks them against the system header when it has one). */
#define CPU_NEON_HWCAP_FP       (UINT64_C(1) << 0)
#define CPU_NEON_HWCAP_ASIMD    (UINT64_C(1) << 1)
#define CPU_NEON_HWCAP_FPHP     (UINT64_C(1) << 9)
#define CPU_NEON_HWCAP_ASIMDHP  (UINT64_C(1) << 10)
#define CPU_NEON_HWCAP_CPUID    (UINT64_C(1) << 11)
#define CPU_NEON_HWCAP_ASIMDDP  (UINT64_C(1) << 20)
#define CPU_NEON_HWCAP_SVE      (UINT64_C(1) << 22)
#define CPU_NEON_HWCAP2_I8MM    (UINT64_C(1) << 13)
#define CPU_NEON_HWCAP2_BF16    (UINT64_C(1) << 14)

/* Read AT_HWCAP and AT_HWCAP2 of this process (0 where getauxval has none,
 * and everywhere on a non-aarch64 build). */
void cpu_neon_hwcaps_read(struct cpu_neon_hwcaps *raw);

/* The TRIT_CAP_* flags the hwcaps announce: NEON (ASIMD), DOTPROD
 * (ASIMDDP), I8MM, SVE, FP16 (FPHP and ASIMDHP), BF16. When NEON is absent,
 * writes into why (if given) a sentence saying so; otherwise why is "". */
uint64_t cpu_neon_caps_decode(const struct cpu_neon_hwcaps *raw, char *why, size_t whylen);
/* Drop flags whose prerequisite is missing (no NEON: nothing at all). */
uint64_t cpu_neon_caps_close(uint64_t caps);
/* The flags named by one `disable` token ("dotprod", "neon"...), or 0. */
uint64_t cpu_neon_caps_by_name(const char *name);
/* Space-separated names of the flags in caps, e.g. "neon dotprod fp16". */
void cpu_neon_caps_format(uint64_t caps, char *buf, size_t len);
/* The accepted `disable` names, comma-separated, for error messages. */
const char *cpu_neon_caps_names(void);

/* ------------------------------------------------------------------------ */
/* The CPU's name (cpuname.c), from its Main ID Register.                   */

/* One MIDR_EL1 value split into its fields. */
struct cpu_neon_midr {
	unsigned implementer, variant, architecture, part, revision;
};

/* Decode MIDR_EL1. */
struct cpu_neon_midr cpu_neon_midr_split(uint64_t midr);
/* "Arm", "Fujitsu"... or NULL for an implementer code we have no name for. */
const char *cpu_neon_implementer_name(unsigned implementer);
/* "Cortex-A76", "Neoverse-N1"... or NULL for a part we have no name for. */
const char *cpu_neon_part_name(unsigned implementer, unsigned part);

/* The distinct (implementer, part) pairs in a /proc/cpuinfo text, in order
 * of first appearance (big.LITTLE machines have several). Returns how many
 * were found (at most max), 0 when the text has no "CPU implementer" and
 * "CPU part" lines (another architecture, or an emulator showing the host's
 * file). */
unsigned cpu_neon_cpuinfo_parts(const char *text, struct cpu_neon_midr *out, unsigned max);

/* Name the CPU: /proc/cpuinfo's CPU implementer/part lines, else
 * <sys_root>/devices/system/cpu/cpu0/regs/identification/midr_el1, else
 * MIDR_EL1 read directly when the kernel (or emulator) says it traps and
 * emulates that (HWCAP_CPUID). *name and *vendor point into pool; *vendor may
 * be NULL. *source says where the name came from, or why it is unknown. */
void cpu_neon_name_probe(const char *proc_root, const char *sys_root,
                         const struct cpu_neon_hwcaps *raw, const char **name,
                         const char **vendor, struct trit_value *source,
                         struct cpu_common_pool *pool);

/* ------------------------------------------------------------------------ */
/* Configuration (options.c): the [plugin.cpu_neon] section.                */

struct cpu_neon_options {
	const char *proc_root;          /* default "/proc" */
	const char *sys_root;           /* default "/sys" */
	uint64_t disable;               /* TRIT_CAP_* bits to mask */
	const char *disable_text;       /* as given, NULL when unset */
	const char *disable_where;
	int bandwidth_probe;            /* default 1 */
	const char *bandwidth_probe_text;
	const char *bandwidth_probe_where;
	uint64_t bandwidth_bytes;       /* 0 = choose from the L3 (or L2) size */
	const char *bandwidth_bytes_where;
};

/* Read and validate every key the host has for this plugin. Unknown keys and
 * bad values are TRIT_ECONFIG with a message naming where the key was set. */
int cpu_neon_options_read(const struct trit_host *host, struct cpu_neon_options *o,
                          struct cpu_common_pool *pool, char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Kernels (kernels.c, kernels_dotprod.c).                                  */

/*
 * Workspace layout, in this order, each part starting where the last ends
 * (no alignment is assumed; everything is read bytewise or with memcpy):
 *   s    tokens * 4 bytes             the F32 path's per-token multipliers
 *                                     (absent with TRIT_MATMUL_INT_DOTS)
 *   q    tokens * cols_pad bytes      I8 activations, zero past cols
 *   lut  tokens * lut_bytes(cols_pad) TL1: 32 bytes per column pair,
 *                                     TL2: 64 bytes per column triple
 */
struct cpu_neon_ws_layout {
	uint64_t s, q, lut, total;      /* offsets, and the bytes in all */
	uint64_t lut_per_token;
};

/* The layout for this shape; -1 when a size would overflow 64 bits. */
int cpu_neon_ws_layout(uint32_t type, uint64_t cols_pad, uint64_t tokens, int int_dots,
                       struct cpu_neon_ws_layout *l);

struct cpu_neon_kernels;

/* Everything a kernel reads: the packed weights, the activations prepared
 * in the workspace (quantised, zero-padded to cols_pad, and for TL1/TL2 the
 * lookup tables), and where the results go. */
struct cpu_neon_job {
	uint32_t type;                  /* TRIT_TYPE_I2_S, _TL1 or _TL2 */
	uint64_t rows, cols, tokens;
	uint64_t rows_pad, cols_pad;    /* trit_ternary_geometry */
	const uint8_t *w;               /* the packed data */
	float scale;                    /* from the trailer */
	int int_dots;                   /* TRIT_MATMUL_INT_DOTS */
	const void *in;                 /* F32 or I8 [tokens][cols] */
	const float *scales;            /* I8 input already quantised, with these
	                                 * multipliers (graph MATMUL); else NULL */
	void *out;                      /* F32 or I32 [tokens][rows] */
	uint8_t *ws;                    /* the workspace, laid out as lay says */
	struct cpu_neon_ws_layout lay;
	const struct cpu_neon_kernels *k;
};

/* One instruction-set path of the kernels. TL1 and TL2 use table lookups,
 * the same on every path; I2_S is where the dot-product extension helps. */
struct cpu_neon_kernels {
	const char *name;               /* "neon" or "dotprod" */
	const char *i2s_how;            /* for the device's properties */
	/* Integer dots of rows [r0, r1) for every token, written through
	 * cpu_neon_emit(). */
	void (*i2s)(const struct cpu_neon_job *job, uint64_t r0, uint64_t r1);
};

extern const struct cpu_neon_kernels cpu_neon_kernels_neon;
/* Defined in kernels_dotprod.c (built with +dotprod); call it only when the
 * CPU has the extension. */
extern const struct cpu_neon_kernels cpu_neon_kernels_dotprod;

/* The path for these capabilities: dotprod when TRIT_CAP_DOTPROD is set. */
const struct cpu_neon_kernels *cpu_neon_kernels_for(uint64_t caps);

/* Store n consecutive dots of token t starting at row r (n may run past
 * rows; the excess is dropped): I32 as they are, F32 through
 * trit_ternary_output() with the token's multiplier. */
void cpu_neon_emit(const struct cpu_neon_job *job, uint64_t t, uint64_t r,
                   const int32_t *dots, unsigned n);

/* Run a job on up to n_threads threads of team (NULL: the calling thread
 * only): prepare the activations, then the kernel over rows or row tiles.
 * The job has been validated; this cannot fail. Returns the threads used. */
unsigned cpu_neon_run(const struct cpu_neon_job *job, struct cpu_common_team *team,
                      unsigned n_threads);

/* ------------------------------------------------------------------------ */
/* The backend (backend.c): the functions of the table plugin.c exports.    */

/* The most threads one matmul may ask for. */
#define CPU_NEON_MAX_THREADS 1024u

int cpu_neon_init(const struct trit_host *host, void **state, char *err, size_t errlen);
void cpu_neon_shutdown(void *state);
uint32_t cpu_neon_device_count(void *state);
const struct trit_device *cpu_neon_device_get(void *state, uint32_t index);
int cpu_neon_device_update(void *state, uint32_t index, char *err, size_t errlen);
int cpu_neon_buffer_alloc(void *state, uint32_t device, uint64_t size,
                          struct trit_buffer **out, char *err, size_t errlen);
void cpu_neon_buffer_free(void *state, struct trit_buffer *buf);
int cpu_neon_buffer_write(void *state, struct trit_buffer *buf, uint64_t offset,
                          const void *src, uint64_t size, char *err, size_t errlen);
int cpu_neon_buffer_read(void *state, struct trit_buffer *buf, uint64_t offset, void *dst,
                         uint64_t size, char *err, size_t errlen);
int cpu_neon_matmul_workspace(void *state, uint32_t device, const struct trit_matmul *op,
                              uint64_t *bytes, char *err, size_t errlen);
int cpu_neon_matmul(void *state, uint32_t device, const struct trit_matmul *op, char *err,
                    size_t errlen);

/* ABI v2 buffers (backend.c). */
int cpu_neon_buffer_from_host_ptr(void *state, uint32_t device, void *ptr, uint64_t size,
                                  struct trit_buffer **out, char *err, size_t errlen);
void *cpu_neon_buffer_host_ptr(void *state, struct trit_buffer *buf);
int cpu_neon_buffer_copy(void *state, struct trit_buffer *dst, uint64_t dst_offset,
                         struct trit_buffer *src, uint64_t src_offset, uint64_t size,
                         char *err, size_t errlen);
int cpu_neon_buffer_span(void *ctx, const struct trit_buffer *b, unsigned char **data,
                         uint64_t *size);

/* What the graph ops need of a state (backend.c fills it). */
struct cpu_neon_engine {
	struct cpu_common_team *team;       /* NULL: one thread */
	unsigned default_threads;
	const struct cpu_neon_kernels *kernels;
	const struct cpu_ops_kernels *ops;
	const char *proc_root;
};
struct cpu_neon_engine *cpu_neon_engine_of(void *state);

/* The graph ops' inner loops with Advanced SIMD (ops_neon.c). */
extern const struct cpu_ops_kernels cpu_neon_ops_neon;

/* ABI v2 entries (graph.c). */
int cpu_neon_supports_op(void *state, uint32_t device, const struct trit_node *node);
int cpu_neon_graph_workspace(void *state, uint32_t device, const struct trit_graph *graph,
                             uint64_t *bytes, char *err, size_t errlen);
int cpu_neon_graph_compute(void *state, uint32_t device, const struct trit_graph *graph,
                           char *err, size_t errlen);
int cpu_neon_get_memory(void *state, uint32_t device, uint64_t *free_bytes,
                        uint64_t *total_bytes, char *err, size_t errlen);
int cpu_neon_buffer_limits(void *state, uint32_t device, struct trit_buffer_limits *out,
                           char *err, size_t errlen);

/* The kernel path a state runs (for tests and the device's properties). */
const struct cpu_neon_kernels *cpu_neon_state_kernels(void *state);

/* The module's one exported symbol (plugin.c), libltdl-prefixed. */
TRIT_EXPORT const struct trit_backend *cpu_neon_LTX_trit_backend_entry(void);

#endif /* CPU_NEON_NEON_H */
