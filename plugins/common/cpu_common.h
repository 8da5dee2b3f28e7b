/*
 * cpu_common.h - the probes the CPU backend plugins (cpu_avx2, cpu_neon)
 * share: a string pool for device strings, trit_value shorthands, bounded
 * file reading, cgroup discovery, memory (/proc/meminfo under the cgroup
 * limit), usable threads (affinity and CPU quota), topology (hwloc or sysfs)
 * and a memory bandwidth run. Nothing here is specific to an instruction
 * set; what a CPU can execute is each plugin's own business. Not part of the
 * SDK: only the plugins and their tests include it.
 */
#ifndef TRIT_PLUGINS_CPU_COMMON_H
#define TRIT_PLUGINS_CPU_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

/* ------------------------------------------------------------------------ */
/* String pool: every string a device or property points to lives in a pool */
/* owned by the plugin state, so it stays valid until shutdown (or, for the */
/* memory strings, until the next device_update).                           */

struct cpu_common_pool {
	char **items;
	size_t n, cap;
	int failed;  /* an allocation failed; the pool handed out a fallback */
};

/* printf into a new pooled string. Never returns NULL: on allocation failure
 * it returns a static "(out of memory)" and sets pool->failed. */
const char *cpu_common_pool_printf(struct cpu_common_pool *pool, const char *fmt, ...)
	TRIT_PRINTF(2, 3);
void cpu_common_pool_free(struct cpu_common_pool *pool);

/* Shorthands for filling a trit_value. */
struct trit_value cpu_common_measured(uint64_t value, const char *source);
struct trit_value cpu_common_derived(uint64_t value, const char *source);
struct trit_value cpu_common_configured(uint64_t value, const char *source);
struct trit_value cpu_common_unknown(const char *reason);

/* ------------------------------------------------------------------------ */
/* Bounded file access (util.c). Input is treated as hostile.               */

/* Write a sentence into buf (if buf && len; truncating long paths is fine)
 * and return code. Every error and reason message goes through this. */
int cpu_common_errf(char *buf, size_t len, int code, const char *fmt, ...) TRIT_PRINTF(4, 5);

/* Read at most `limit` bytes of `path` into a new NUL-terminated buffer
 * (*out, free() it). A file longer than `limit`, unreadable, or containing a
 * NUL byte is an error: returns a negative TRIT_E* code and explains in why. */
int cpu_common_read_file(const char *path, size_t limit, char **out, size_t *len,
                         char *why, size_t whylen);
/* Parse a whole unsigned decimal (surrounding blanks and one trailing newline
 * allowed). Returns 0, or -1 on anything else (sign, junk, overflow). */
int cpu_common_parse_u64(const char *s, uint64_t *out);
/* Does dir/name exist? Errors other than "no such file" count as existing,
 * so that reading the file reports them. */
int cpu_common_file_exists(const char *dir, const char *name);
/* snprintf into buf that reports truncation: 0, or -1 if it did not fit. */
int cpu_common_pathf(char *buf, size_t len, const char *fmt, ...) TRIT_PRINTF(3, 4);

/* The probe cache (backend.h cache_get/cache_put), for every plugin here:
 * a stamp made printable in place (bytes outside 0x20-0x7e, which a CPU or
 * driver name may hold, become '?'), and a cached value's age as source
 * text: "42 s", "12 min", "3 h", "9 days". */
void cpu_common_stamp_printable(char *stamp);
const char *cpu_common_age_text(uint64_t seconds, struct cpu_common_pool *pool);

/* ------------------------------------------------------------------------ */
/* Topology (topology.c with hwloc, topology_sysfs.c without).             */

struct cpu_common_cache {
	struct trit_value size;      /* bytes of one instance */
	struct trit_value instances; /* how many */
	uint64_t total;              /* sum over instances, 0 when unknown */
};

struct cpu_common_topology {
	struct trit_value cores;     /* physical cores the process may run on */
	struct trit_value pus;       /* logical processors in the allowed cpuset */
	struct trit_value numa_nodes;
	struct cpu_common_cache l1d, l2, l3;
};

/* Never fails: what hwloc cannot tell becomes unknown with the reason. */
void cpu_common_topology_probe(struct cpu_common_topology *t, struct cpu_common_pool *pool);

/* ------------------------------------------------------------------------ */
/* Control groups (cgroup.c).                                               */

/* Where one controller of this process lives. */
struct cpu_common_cgroup {
	int version;           /* 1 or 2 */
	char mount[4096];      /* the hierarchy's mount point */
	char dir[4096];        /* the process' cgroup directory under it */
};

/* Find the cgroup directory of `controller` ("memory", "cpu") for the process
 * described by <proc_root>/self/cgroup and <proc_root>/self/mountinfo. A v1
 * hierarchy carrying the controller wins over the v2 one (the kernel attaches
 * a controller to one hierarchy only). Returns 0, or a negative code with why
 * ("no cgroup memory controller is mounted"). */
int cpu_common_cgroup_find(const char *proc_root, const char *controller,
                           struct cpu_common_cgroup *cg, char *why, size_t whylen);

/* The parent of `dir` within the hierarchy mounted at `mount`, in place;
 * returns 0, or -1 when dir is already the mount point. */
int cpu_common_cgroup_parent(char *dir, const char *mount);

/* ------------------------------------------------------------------------ */
/* Memory (memory.c): /proc/meminfo combined with the cgroup limit.         */

struct cpu_common_memory {
	struct trit_value total, free;                 /* what the device reports */
	struct trit_value host_total, host_available;  /* /proc/meminfo */
	struct trit_value swap_total, swap_free;
	const char *cg_version, *cg_path;              /* text, NULL when unknown */
	struct trit_value cg_version_why, cg_path_why; /* the reason when NULL */
	struct trit_value cg_limit, cg_working_set;
};

/* Measure. Never fails: unreadable or malformed files become unknown values
 * with the reason. Strings go into pool. */
void cpu_common_memory_probe(const char *proc_root, struct cpu_common_memory *m,
                             struct cpu_common_pool *pool);

/* The same measurement as two numbers for get_memory(): free (MemAvailable
 * under the cgroup headroom) and total. Returns 0, or TRIT_EIO with the
 * reason in why when either is unknown (TRIT_ENOMEM when out of memory). */
int cpu_common_memory_live(const char *proc_root, uint64_t *free_bytes, uint64_t *total_bytes,
                           char *why, size_t whylen);

/* The ABI v2 entries both CPU plugins answer alike from that measurement:
 * get_memory() (errors name `plugin`), and buffer_limits() for host-memory
 * buffers aligned to `alignment` whose largest size is the memory the
 * process may use now, or, unmeasured, the bound the allocator enforces. */
int cpu_common_get_memory(const char *plugin, const char *proc_root, uint64_t *free_bytes,
                          uint64_t *total_bytes, char *err, size_t errlen);
int cpu_common_buffer_limits(const char *plugin, const char *proc_root, uint64_t alignment,
                             struct trit_buffer_limits *out, char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Threads (threads.c): affinity and the cgroup CPU quota.                  */

struct cpu_common_threads {
	struct trit_value hw_threads; /* min(affinity, ceil(quota)) */
	struct trit_value affinity;   /* CPUs in sched_getaffinity */
	const char *quota_text;       /* "1.50 CPUs", NULL when no quota */
	struct trit_value quota_why;  /* the reason when quota_text is NULL */
};

void cpu_common_threads_probe(const char *proc_root, struct cpu_common_threads *t,
                              struct cpu_common_pool *pool);

/* ------------------------------------------------------------------------ */
/* Memory bandwidth (bandwidth.c).                                          */

/* Stream-read `bytes` with `threads` threads: one warm-up pass that writes
 * every page, then 3 timed read passes; *bytes_per_s is the best. Returns 0,
 * or a negative code with why (allocation or thread creation failed). */
int cpu_common_bandwidth_measure(uint64_t bytes, unsigned threads, uint64_t *bytes_per_s,
                                 char *why, size_t whylen);

/* A plugin's bandwidth settings ([plugin.<name>] bandwidth_probe and
 * bandwidth_bytes), with where each was set, for the reasons it gives. */
struct cpu_common_bandwidth_opts {
	const char *section;       /* "[plugin.cpu_avx2]" */
	int probe;                 /* 0: disabled by the operator */
	const char *probe_text, *probe_where;
	uint64_t bytes;            /* 0: 4 x L3, at least 64 MiB (256 MiB if L3 is unknown) */
	const char *bytes_where;
	/* The probe cache (backend.h cache_get/put; host may be NULL: no cache).
	 * A result is reused when the machine, the caches, the threads, the
	 * buffer, the host's memory and the kernel are the same: `machine`
	 * names the CPU (model and features), host_mem_total is MemTotal. */
	const struct trit_host *host;
	const char *machine;
	uint64_t host_mem_total;
};

/* The device's memory bandwidth: measured with hw_threads threads over a
 * buffer sized as above, or unknown with the reason (disabled, the buffer
 * would take more than half of mem_free, the run failed). A measurement is
 * kept in the probe cache as "cpu0.mem_bandwidth" and taken from it while
 * its stamp (see cpu_common_bandwidth_opts) holds; the source then says
 * how long ago it was measured. */
struct trit_value cpu_common_bandwidth_probe(const struct cpu_common_bandwidth_opts *o,
                                             uint64_t l3_total, struct trit_value hw_threads,
                                             struct trit_value mem_free,
                                             struct cpu_common_pool *pool);

/* ------------------------------------------------------------------------ */
/* Topology from sysfs (topology_sysfs.c), for machines without hwloc.      */

/* The same answers as cpu_common_topology_probe, read from
 * <sys_root>/devices/system/cpu (topology/core_cpus_list or
 * thread_siblings_list, cache/index*) and <sys_root>/devices/system/node for
 * the CPUs in this thread's affinity. Never fails. */
void cpu_common_topology_probe_sysfs(const char *sys_root, struct cpu_common_topology *t,
                                     struct cpu_common_pool *pool);

/* ------------------------------------------------------------------------ */
/* Parsing configuration values (parse.c).                                  */

/* Parse a byte size: "67108864", "64MiB", "64M" (binary), "64MB" (decimal),
 * "1.5 GiB". Returns 0, or -1 when malformed or above UINT64_MAX. */
int cpu_common_parse_size(const char *s, uint64_t *out);
/* yes/no, true/false, on/off, 1/0 (any case) into 0 or 1; -1 otherwise. */
int cpu_common_parse_bool(const char *s, int *out);

/* ------------------------------------------------------------------------ */
/* A persistent thread team for the kernels (threadpool.c).                 */

struct cpu_common_team;

/* An empty team; workers start when a run first needs them. */
int cpu_common_team_create(struct cpu_common_team **team, char *why, size_t whylen);
/* Stop and join every worker, then free the team (NULL is fine). */
void cpu_common_team_destroy(struct cpu_common_team *team);
/* Run fn(arg, i, n) for i = 0 .. n-1 and return when all have returned:
 * i = 0 on the calling thread, the others on the team's workers, started on
 * first need and kept for later runs. Returns the n it ran with, which is
 * smaller than asked when a worker could not be started (fn always sees the
 * n it runs with, so a split by i and n still covers all the work). Runs on
 * one team are serialised. */
unsigned cpu_common_team_run(struct cpu_common_team *team, unsigned n,
                             void (*fn)(void *arg, unsigned i, unsigned n), void *arg);
/* Threads a run can use now: the workers started so far plus the caller. */
unsigned cpu_common_team_size(struct cpu_common_team *team);

#endif /* TRIT_PLUGINS_CPU_COMMON_H */
