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
/* String pool: every string a device or property points to lives in a pool */
/* owned by the plugin state, so it stays valid until shutdown (or, for the */
/* memory strings, until the next device_update).                           */

struct cpu_avx2_pool {
	char **items;
	size_t n, cap;
	int failed;  /* an allocation failed; the pool handed out a fallback */
};

/* printf into a new pooled string. Never returns NULL: on allocation failure
 * it returns a static "(out of memory)" and sets pool->failed. */
const char *cpu_avx2_pool_printf(struct cpu_avx2_pool *pool, const char *fmt, ...)
	TRIT_PRINTF(2, 3);
void cpu_avx2_pool_free(struct cpu_avx2_pool *pool);

/* Shorthands for filling a trit_value. */
struct trit_value cpu_avx2_measured(uint64_t value, const char *source);
struct trit_value cpu_avx2_derived(uint64_t value, const char *source);
struct trit_value cpu_avx2_configured(uint64_t value, const char *source);
struct trit_value cpu_avx2_unknown(const char *reason);

/* ------------------------------------------------------------------------ */
/* Bounded file access (util.c). Input is treated as hostile.               */

/* Write a sentence into buf (if buf && len; truncating long paths is fine)
 * and return code. Every error and reason message goes through this. */
int cpu_avx2_errf(char *buf, size_t len, int code, const char *fmt, ...) TRIT_PRINTF(4, 5);

/* Read at most `limit` bytes of `path` into a new NUL-terminated buffer
 * (*out, free() it). A file longer than `limit`, unreadable, or containing a
 * NUL byte is an error: returns a negative TRIT_E* code and explains in why. */
int cpu_avx2_read_file(const char *path, size_t limit, char **out, size_t *len,
                       char *why, size_t whylen);
/* Parse a whole unsigned decimal (surrounding blanks and one trailing newline
 * allowed). Returns 0, or -1 on anything else (sign, junk, overflow). */
int cpu_avx2_parse_u64(const char *s, uint64_t *out);
/* Does dir/name exist? Errors other than "no such file" count as existing,
 * so that reading the file reports them. */
int cpu_avx2_file_exists(const char *dir, const char *name);
/* snprintf into buf that reports truncation: 0, or -1 if it did not fit. */
int cpu_avx2_pathf(char *buf, size_t len, const char *fmt, ...) TRIT_PRINTF(3, 4);

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
/* Topology from hwloc (topology.c).                                        */

struct cpu_avx2_cache {
	struct trit_value size;      /* bytes of one instance */
	struct trit_value instances; /* how many */
	uint64_t total;              /* sum over instances, 0 when unknown */
};

struct cpu_avx2_topology {
	struct trit_value cores;     /* physical cores the process may run on */
	struct trit_value pus;       /* logical processors in the allowed cpuset */
	struct trit_value numa_nodes;
	struct cpu_avx2_cache l1d, l2, l3;
};

/* Never fails: what hwloc cannot tell becomes unknown with the reason. */
void cpu_avx2_topology_probe(struct cpu_avx2_topology *t, struct cpu_avx2_pool *pool);

/* ------------------------------------------------------------------------ */
/* Control groups (cgroup.c).                                               */

/* Where one controller of this process lives. */
struct cpu_avx2_cgroup {
	int version;           /* 1 or 2 */
	char mount[4096];      /* the hierarchy's mount point */
	char dir[4096];        /* the process' cgroup directory under it */
};

/* Find the cgroup directory of `controller` ("memory", "cpu") for the process
 * described by <proc_root>/self/cgroup and <proc_root>/self/mountinfo. A v1
 * hierarchy carrying the controller wins over the v2 one (the kernel attaches
 * a controller to one hierarchy only). Returns 0, or a negative code with why
 * ("no cgroup memory controller is mounted"). */
int cpu_avx2_cgroup_find(const char *proc_root, const char *controller,
                         struct cpu_avx2_cgroup *cg, char *why, size_t whylen);

/* The parent of `dir` within the hierarchy mounted at `mount`, in place;
 * returns 0, or -1 when dir is already the mount point. */
int cpu_avx2_cgroup_parent(char *dir, const char *mount);

/* ------------------------------------------------------------------------ */
/* Memory (memory.c): /proc/meminfo combined with the cgroup limit.         */

struct cpu_avx2_memory {
	struct trit_value total, free;                 /* what the device reports */
	struct trit_value host_total, host_available;  /* /proc/meminfo */
	struct trit_value swap_total, swap_free;
	const char *cg_version, *cg_path;              /* text, NULL when unknown */
	struct trit_value cg_version_why, cg_path_why; /* the reason when NULL */
	struct trit_value cg_limit, cg_working_set;
};

/* Measure. Never fails: unreadable or malformed files become unknown values
 * with the reason. Strings go into pool. */
void cpu_avx2_memory_probe(const char *proc_root, struct cpu_avx2_memory *m,
                           struct cpu_avx2_pool *pool);

/* ------------------------------------------------------------------------ */
/* Threads (threads.c): affinity and the cgroup CPU quota.                  */

struct cpu_avx2_threads {
	struct trit_value hw_threads; /* min(affinity, ceil(quota)) */
	struct trit_value affinity;   /* CPUs in sched_getaffinity */
	const char *quota_text;       /* "1.50 CPUs", NULL when no quota */
	struct trit_value quota_why;  /* the reason when quota_text is NULL */
};

void cpu_avx2_threads_probe(const char *proc_root, struct cpu_avx2_threads *t,
                            struct cpu_avx2_pool *pool);

/* ------------------------------------------------------------------------ */
/* Memory bandwidth (bandwidth.c).                                          */

/* Stream-read `bytes` with `threads` threads: one warm-up pass that writes
 * every page, then 3 timed read passes; *bytes_per_s is the best. Returns 0,
 * or a negative code with why (allocation or thread creation failed). */
int cpu_avx2_bandwidth_measure(uint64_t bytes, unsigned threads, uint64_t *bytes_per_s,
                               char *why, size_t whylen);

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
};

/* Read and validate every key the host has for this plugin. Unknown keys and
 * bad values are TRIT_ECONFIG with a message naming where the key was set. */
int cpu_avx2_options_read(const struct trit_host *host, struct cpu_avx2_options *o,
                          struct cpu_avx2_pool *pool, char *err, size_t errlen);

/* Parse a byte size: "67108864", "64MiB", "64M" (binary), "64MB" (decimal),
 * "1.5 GiB". Returns 0, or -1 when malformed or above UINT64_MAX. */
int cpu_avx2_parse_size(const char *s, uint64_t *out);

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
