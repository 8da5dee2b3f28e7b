/*
 * probe.h - the cpu_avx2 plugin's internal interface: how it measures the CPU
 * (cpuid, hwloc, cgroups, /proc/meminfo, a bandwidth run) and the backend
 * table built from those measurements. Not part of the SDK; only the plugin's
 * own files and its Check suite include it. Every number here carries a
 * trit_value saying where it came from or why it is unknown.
 */
#ifndef CPU_AVX2_PROBE_H
#define CPU_AVX2_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

/* ------------------------------------------------------------------------ */
/* The probes shared with cpu_neon (string pool, file reading, topology,    */
/* cgroups, memory, threads, bandwidth, size parsing) live in               */
/* plugins/common/; this plugin keeps calling them by its own names.        */

#include "../common/cpu_common.h"

#define cpu_avx2_pool              cpu_common_pool
#define cpu_avx2_pool_printf       cpu_common_pool_printf
#define cpu_avx2_pool_free         cpu_common_pool_free
#define cpu_avx2_measured          cpu_common_measured
#define cpu_avx2_derived           cpu_common_derived
#define cpu_avx2_configured        cpu_common_configured
#define cpu_avx2_unknown           cpu_common_unknown
#define cpu_avx2_errf              cpu_common_errf
#define cpu_avx2_read_file         cpu_common_read_file
#define cpu_avx2_parse_u64         cpu_common_parse_u64
#define cpu_avx2_file_exists       cpu_common_file_exists
#define cpu_avx2_pathf             cpu_common_pathf
#define cpu_avx2_cache             cpu_common_cache
#define cpu_avx2_topology          cpu_common_topology
#define cpu_avx2_topology_probe    cpu_common_topology_probe
#define cpu_avx2_cgroup            cpu_common_cgroup
#define cpu_avx2_cgroup_find       cpu_common_cgroup_find
#define cpu_avx2_cgroup_parent     cpu_common_cgroup_parent
#define cpu_avx2_memory            cpu_common_memory
#define cpu_avx2_memory_probe      cpu_common_memory_probe
#define cpu_avx2_threads           cpu_common_threads
#define cpu_avx2_threads_probe     cpu_common_threads_probe
#define cpu_avx2_bandwidth_measure cpu_common_bandwidth_measure
#define cpu_avx2_parse_size        cpu_common_parse_size

/* ------------------------------------------------------------------------ */
/* Instruction-set features (features.c).                                   */

/* The raw cpuid/XGETBV words the decision is made from. Kept raw so tests
 * can feed in other CPUs. */
struct cpu_avx2_cpuid {
	uint32_t max_leaf;       /* leaf 0 EAX */
	uint32_t max_ext_leaf;   /* leaf 0x80000000 EAX */
	uint32_t leaf1_ecx;
	uint32_t leaf7_ebx, leaf7_ecx;  /* leaf 7 subleaf 0; valid if max_leaf >= 7 */
	uint32_t leaf7_max_sub;         /* leaf 7 subleaf 0 EAX */
	uint32_t leaf7s1_eax;           /* leaf 7 subleaf 1; valid if leaf7_max_sub >= 1 */
	uint64_t xcr0;                  /* valid if leaf1_ecx has OSXSAVE */
	char vendor[13];                /* leaf 0 EBX EDX ECX */
	char brand[49];                 /* 0x80000002..4, trimmed; "" when absent */
};

/* Execute cpuid and XGETBV on this CPU. */
void cpu_avx2_cpuid_read(struct cpu_avx2_cpuid *raw);

/* The TRIT_CAP_* flags that are present and enabled by the OS. When AVX2 is
 * not usable, writes into why (if given) a sentence saying which bit is
 * missing; otherwise why is set to "". */
uint64_t cpu_avx2_caps_decode(const struct cpu_avx2_cpuid *raw, char *why, size_t whylen);

/* Drop flags whose prerequisite is missing (no AVX: nothing above SSE4.2;
 * no AVX512F: no AVX-512 at all). */
uint64_t cpu_avx2_caps_close(uint64_t caps);

/* The flags named by one `disable` token ("avx512", "avx2", ...), or 0 when
 * the name is unknown. */
uint64_t cpu_avx2_caps_by_name(const char *name);
/* Space-separated names of the flags in caps, e.g. "sse4.2 avx avx2 fma". */
void cpu_avx2_caps_format(uint64_t caps, char *buf, size_t len);
/* The accepted `disable` names, comma-separated, for error messages. */
const char *cpu_avx2_caps_names(void);

/* ------------------------------------------------------------------------ */
/* Configuration (options.c): the [plugin.cpu_avx2] section.                */

struct cpu_avx2_options {
	const char *proc_root;          /* default "/proc" */
	uint64_t disable;               /* TRIT_CAP_* bits to mask */
	const char *disable_text;       /* as given, NULL when unset */
	const char *disable_where;
	int bandwidth_probe;            /* default 1 */
	const char *bandwidth_probe_text;   /* as given ("no", "off"...), NULL when unset */
	const char *bandwidth_probe_where;
	uint64_t bandwidth_bytes;       /* 0 = choose from the L3 size */
	const char *bandwidth_bytes_where;
	int isa;                        /* enum cpu_avx2_isa (kernels.h); default auto */
	const char *isa_text;           /* as given, NULL when unset */
	const char *isa_where;
	int choose;                     /* CPU_AVX2_CHOOSE_*; default measure */
	const char *choose_text;        /* as given, NULL when unset */
	const char *choose_where;
	uint64_t choose_bytes;          /* working set of the timing; 0 = from L3 */
	const char *choose_bytes_where;
	unsigned spin_us;               /* default CPU_AVX2_SPIN_US (kernels.h) */
	int pin;                        /* default 1 */
};

/* The `choose` option: with isa = auto, time the kernel paths and take the
 * fastest per kernel type (choose.c), or take the widest. */
enum { CPU_AVX2_CHOOSE_MEASURE = 0, CPU_AVX2_CHOOSE_WIDEST };

/* Read and validate every key the host has for this plugin. Unknown keys and
 * bad values are TRIT_ECONFIG with a message naming where the key was set. */
int cpu_avx2_options_read(const struct trit_host *host, struct cpu_avx2_options *o,
                          struct cpu_avx2_pool *pool, char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* The backend (backend.c): the functions of the table plugin.c exports.    */

int cpu_avx2_init(const struct trit_host *host, void **state, char *err, size_t errlen);
void cpu_avx2_shutdown(void *state);
uint32_t cpu_avx2_device_count(void *state);
const struct trit_device *cpu_avx2_device_get(void *state, uint32_t index);
int cpu_avx2_device_update(void *state, uint32_t index, char *err, size_t errlen);
int cpu_avx2_matmul_workspace(void *state, uint32_t device, const struct trit_matmul *op,
                              uint64_t *bytes, char *err, size_t errlen);
int cpu_avx2_matmul(void *state, uint32_t device, const struct trit_matmul *op, char *err,
                    size_t errlen);

/* The module's one exported symbol (plugin.c), libltdl-prefixed. */
TRIT_EXPORT const struct trit_backend *cpu_avx2_LTX_trit_backend_entry(void);

#endif /* CPU_AVX2_PROBE_H */
