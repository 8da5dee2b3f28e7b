/*
 * backend.c - the cpu_neon backend's state, device and entry points: init
 * runs every probe (hwcaps, MIDR name, topology, threads, memory, bandwidth,
 * clock) and assembles one device "cpu0"; buffers are aligned host memory;
 * matmul checks its arguments here, each failure a sentence naming the field,
 * and hands a valid job to kernels.c. The probes shared with cpu_avx2 are in
 * plugins/common/.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/ternary.h>

#include "neon.h"

#define MAX_PROPS 28
#define BUFFER_ALIGN 64
#define CPUFREQ_MAX "devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"

typedef unsigned long long ull;

struct trit_buffer {
	uint64_t size;
	unsigned char *data;   /* BUFFER_ALIGN-aligned */
	int owned;             /* 0: wraps the caller's memory (buffer_from_host_ptr) */
};

struct cpu_neon_state {
	struct trit_host host;              /* a copy: the caller's may not outlive init */
	struct cpu_neon_options opt;
	struct cpu_common_pool pool;        /* strings valid until shutdown */
	struct cpu_common_pool mem_pool;    /* memory strings, replaced by device_update */
	struct cpu_common_topology topo;
	const char *topo_from;
	struct cpu_common_threads threads;
	struct cpu_common_memory mem;
	struct trit_value bandwidth, clock;
	struct cpu_neon_hwcaps hw;
	uint64_t caps;
	const char *features, *disabled;
	struct trit_value features_src, disabled_src, name_src;
	const struct cpu_neon_kernels *kernels;
	struct trit_value kernel_src;
	unsigned default_threads;           /* n_threads = 0 */
	struct cpu_common_team *team;       /* NULL: single-threaded */
	struct cpu_neon_engine engine;      /* the above, for the graph ops */
	struct trit_device dev;
	struct trit_property props[MAX_PROPS];
};

/* ------------------------------------------------------------------------ */
/* Probes that need the options.                                             */

static void clock_probe(struct cpu_neon_state *st)
{
	char path[4200], why[600], *text = NULL;
	uint64_t khz;

	if (cpu_common_pathf(path, sizeof path, "%s/" CPUFREQ_MAX, st->opt.sys_root) != 0) {
		st->clock = cpu_common_unknown("sys_root is too long");
		return;
	}
	if (cpu_common_read_file(path, 64, &text, NULL, why, sizeof why) != 0) {
		st->clock = cpu_common_unknown(cpu_common_pool_printf(&st->pool,
			"no cpufreq in sysfs (%s)", why));
		return;
	}
	if (cpu_common_parse_u64(text, &khz) != 0 || khz == 0 || khz > UINT64_MAX / 1000)
		st->clock = cpu_common_unknown(cpu_common_pool_printf(&st->pool,
			"%s does not hold a frequency in kHz: '%.20s'", path, text));
	else
		st->clock = cpu_common_measured(khz * 1000, cpu_common_pool_printf(&st->pool,
			"%s (kHz; the highest frequency cpufreq allows)", path));
	free(text);
}

static void bandwidth_probe(struct cpu_neon_state *st)
{
	const char *machine = cpu_common_pool_printf(&st->pool, "%s|%s|features=%s",
	                                        st->dev.name ? st->dev.name : "?",
	                                        st->dev.vendor ? st->dev.vendor : "?",
	                                        st->features ? st->features : "?");
	struct cpu_common_bandwidth_opts o = {
		.section = "[plugin.cpu_neon]",
		.probe = st->opt.bandwidth_probe,
		.probe_text = st->opt.bandwidth_probe_text,
		.probe_where = st->opt.bandwidth_probe_where,
		.bytes = st->opt.bandwidth_bytes,
		.bytes_where = st->opt.bandwidth_bytes_where,
		.host = &st->host,
		.machine = machine,
		.host_mem_total = st->mem.host_total.state != TRIT_VALUE_UNKNOWN
		                          ? st->mem.host_total.value : 0,
	};
	st->bandwidth = cpu_common_bandwidth_probe(&o, st->topo.l3.total, st->threads.hw_threads,
	                                           st->mem.free, &st->pool);
}

/* Decide the features; refuse (TRIT_EUNSUPPORTED) without NEON. */
static int features(struct cpu_neon_state *st, char *err, size_t errlen)
{
	char why[300], names[200];
	uint64_t hw;

	cpu_neon_hwcaps_read(&st->hw);
	hw = cpu_neon_caps_decode(&st->hw, why, sizeof why);
	st->caps = cpu_neon_caps_close(hw & ~st->opt.disable);
	if (!(hw & TRIT_CAP_NEON))
		return cpu_common_errf(err, errlen, TRIT_EUNSUPPORTED,
		                       "%s; the cpu_neon backend needs it", why);
	if (!(st->caps & TRIT_CAP_NEON))
		return cpu_common_errf(
		        err, errlen, TRIT_EUNSUPPORTED,
		        "NEON is disabled by [plugin.cpu_neon] disable = %s (%s); the cpu_neon "
		        "backend needs NEON, so it does not register",
		        st->opt.disable_text, st->opt.disable_where);

	cpu_neon_caps_format(st->caps, names, sizeof names);
	st->features = cpu_common_pool_printf(&st->pool, "%s", names);
	st->features_src = cpu_common_measured(0, cpu_common_pool_printf(&st->pool,
		"getauxval: AT_HWCAP = 0x%llx, AT_HWCAP2 = 0x%llx", (ull)st->hw.hwcap,
		(ull)st->hw.hwcap2));
	if (st->opt.disable_text) {
		cpu_neon_caps_format(hw & ~st->caps, names, sizeof names);
		st->disabled = cpu_common_pool_printf(&st->pool, "%s", names);
		st->disabled_src = cpu_common_configured(0, cpu_common_pool_printf(&st->pool,
			"[plugin.cpu_neon] disable = %s (%s)", st->opt.disable_text,
			st->opt.disable_where));
	} else {
		st->disabled = "none";
		st->disabled_src = cpu_common_configured(0, "default: nothing disabled");
	}
	st->kernels = cpu_neon_kernels_for(st->caps);
	st->kernel_src = cpu_common_derived(0, (st->caps & TRIT_CAP_DOTPROD)
		? "the CPU has the dot-product extension (HWCAP_ASIMDDP)"
		: (hw & TRIT_CAP_DOTPROD) ? "the dot-product extension is disabled by the "
		                            "configuration"
		                          : "the CPU has no dot-product extension (no "
		                            "HWCAP_ASIMDDP in AT_HWCAP)");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The device.                                                               */

static void prop_value(struct trit_property *p, const char *key, const char *unit,
                       struct trit_value v)
{
	memset(p, 0, sizeof *p);
	p->key = key;
	p->unit = unit;
	p->value = v;
}

static void prop_text(struct trit_property *p, const char *key, const char *text,
                      struct trit_value v)
{
	memset(p, 0, sizeof *p);
	p->key = key;
	p->text = text;
	p->value = v;
}

static void assemble(struct cpu_neon_state *st)
{
	struct trit_property *p = st->props;
	struct trit_device *d = &st->dev;

	d->mem_total = st->mem.total;
	d->mem_free = st->mem.free;

	prop_text(p++, "mem.pool", "host", cpu_common_measured(0, "a CPU uses host memory"));
	prop_text(p++, "cpu.name", d->name, st->name_src);
	prop_text(p++, "cpu.features", st->features, st->features_src);
	prop_text(p++, "cpu.features_disabled", st->disabled, st->disabled_src);
	prop_text(p++, "kernel.isa", st->kernels->name, st->kernel_src);
	prop_text(p++, "kernel.i2_s", st->kernels->i2s_how, st->kernel_src);
	prop_text(p++, "topology.from", st->topo_from,
	          cpu_common_measured(0, "how this build reads the topology"));
	prop_value(p++, "cpu.logical_processors", "count", st->topo.pus);
	prop_value(p++, "cpu.affinity", "count", st->threads.affinity);
	prop_value(p++, "cache.l1d", "bytes", st->topo.l1d.size);
	prop_value(p++, "cache.l1d.instances", "count", st->topo.l1d.instances);
	prop_value(p++, "cache.l2", "bytes", st->topo.l2.size);
	prop_value(p++, "cache.l2.instances", "count", st->topo.l2.instances);
	prop_value(p++, "cache.l3", "bytes", st->topo.l3.size);
	prop_value(p++, "cache.l3.instances", "count", st->topo.l3.instances);
	prop_value(p++, "numa.nodes", "count", st->topo.numa_nodes);
	prop_text(p++, "cgroup.cpu_quota", st->threads.quota_text, st->threads.quota_why);
	prop_value(p++, "mem.host_total", "bytes", st->mem.host_total);
	prop_value(p++, "mem.host_available", "bytes", st->mem.host_available);
	prop_value(p++, "mem.swap_total", "bytes", st->mem.swap_total);
	prop_value(p++, "mem.swap_free", "bytes", st->mem.swap_free);
	prop_text(p++, "cgroup.version", st->mem.cg_version, st->mem.cg_version_why);
	prop_text(p++, "cgroup.path", st->mem.cg_path, st->mem.cg_path_why);
	prop_value(p++, "cgroup.memory_limit", "bytes", st->mem.cg_limit);
	prop_value(p++, "cgroup.memory_working_set", "bytes", st->mem.cg_working_set);
	d->props = st->props;
	d->n_props = (uint32_t)(p - st->props);
}

static void log_value(const struct cpu_neon_state *st, const char *name, const char *unit,
                      const char *text, const struct trit_value *v)
{
	const struct trit_host *h = &st->host;
	if (text)
		trit_host_logf(h, TRIT_LOG_DEBUG, "cpu0 %s = %s (%s)", name, text,
		               v->source ? v->source : "no source");
	else if (v->state == TRIT_VALUE_UNKNOWN)
		trit_host_logf(h, TRIT_LOG_DEBUG, "cpu0 %s unknown: %s", name,
		               v->source ? v->source : "no reason given");
	else
		trit_host_logf(h, TRIT_LOG_DEBUG, "cpu0 %s = %llu%s%s (%s)", name, (ull)v->value,
		               unit ? " " : "", unit ? unit : "",
		               v->source ? v->source : "no source");
}

static void log_device(const struct cpu_neon_state *st, int memory_only)
{
	const struct trit_device *d = &st->dev;

	if (!memory_only) {
		log_value(st, "mem_bandwidth", "bytes/s", NULL, &d->mem_bandwidth);
		log_value(st, "compute_units", "cores", NULL, &d->compute_units);
		log_value(st, "hw_threads", "threads", NULL, &d->hw_threads);
		log_value(st, "clock_hz", "Hz", NULL, &d->clock_hz);
	}
	log_value(st, "mem_total", "bytes", NULL, &d->mem_total);
	log_value(st, "mem_free", "bytes", NULL, &d->mem_free);
	for (uint32_t i = 0; i < d->n_props; i++) {
		const struct trit_property *p = &d->props[i];
		int is_mem = !strncmp(p->key, "mem.", 4) || !strcmp(p->key, "cgroup.version") ||
		             !strcmp(p->key, "cgroup.path") ||
		             !strncmp(p->key, "cgroup.memory", 13);
		if (!memory_only || is_mem)
			log_value(st, p->key, p->unit, p->text, &p->value);
	}
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                 */

int cpu_neon_init(const struct trit_host *host, void **state, char *err, size_t errlen)
{
	struct cpu_neon_state *st;
	char why[300];
	int rc;

	if (!state)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon init was called without a state pointer");
	*state = NULL;
	if (host && host->abi_version != TRIT_BACKEND_ABI_VERSION)
		return cpu_common_errf(
		        err, errlen, TRIT_EABI,
		        "the runtime speaks plugin ABI %u but cpu_neon was built for ABI %u; "
		        "rebuild the plugin against this runtime",
		        (unsigned)host->abi_version, (unsigned)TRIT_BACKEND_ABI_VERSION);
	if (!(st = calloc(1, sizeof *st)))
		return cpu_common_errf(err, errlen, TRIT_ENOMEM,
		                       "out of memory for the cpu_neon state");
	if (host) {
		size_t n =
		        host->struct_size < sizeof st->host ? host->struct_size : sizeof st->host;
		memcpy(&st->host, host, n);
		st->host.struct_size = (uint32_t)n;
	}
	if ((rc = cpu_neon_options_read(host, &st->opt, &st->pool, err, errlen)) != 0 ||
	    (rc = features(st, err, errlen)) != 0) {
		cpu_neon_shutdown(st);
		return rc;
	}
	cpu_neon_name_probe(st->opt.proc_root, st->opt.sys_root, &st->hw, &st->dev.name,
	                    &st->dev.vendor, &st->name_src, &st->pool);
#ifdef CPU_NEON_HWLOC
	cpu_common_topology_probe(&st->topo, &st->pool);
	st->topo_from = "hwloc";
#else
	cpu_common_topology_probe_sysfs(st->opt.sys_root, &st->topo, &st->pool);
	st->topo_from = "sysfs (this build has no hwloc)";
#endif
	cpu_common_threads_probe(st->opt.proc_root, &st->threads, &st->pool);
	cpu_common_memory_probe(st->opt.proc_root, &st->mem, &st->mem_pool);
	clock_probe(st);
	bandwidth_probe(st);

	st->default_threads = 1;
	if (st->threads.hw_threads.state != TRIT_VALUE_UNKNOWN && st->threads.hw_threads.value)
		st->default_threads = st->threads.hw_threads.value > CPU_NEON_MAX_THREADS
		                              ? CPU_NEON_MAX_THREADS
		                              : (unsigned)st->threads.hw_threads.value;
	if (cpu_common_team_create(&st->team, why, sizeof why) != 0)
		trit_host_logf(&st->host, TRIT_LOG_WARN,
		               "cpu_neon runs its kernels on one thread: %s", why);

	st->dev.struct_size = sizeof st->dev;
	st->dev.kind = TRIT_DEVICE_CPU;
	st->dev.id = "cpu0";
	st->dev.mem_bandwidth = st->bandwidth;
	st->dev.compute_units = st->topo.cores;
	st->dev.hw_threads = st->threads.hw_threads;
	st->dev.clock_hz = st->clock;
	st->dev.compute_capability = cpu_common_unknown("not a GPU");
	st->dev.caps = st->caps;
	st->dev.matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
	                       TRIT_TYPE_BIT(TRIT_TYPE_TL2) | TRIT_TYPE_BIT(TRIT_TYPE_F32) |
	                       TRIT_TYPE_BIT(TRIT_TYPE_F16) | TRIT_TYPE_BIT(TRIT_TYPE_BF16) |
	                       TRIT_TYPE_BIT(TRIT_TYPE_Q8_0) | TRIT_TYPE_BIT(TRIT_TYPE_TQ1_0) |
	                       TRIT_TYPE_BIT(TRIT_TYPE_TQ2_0);
	st->engine = (struct cpu_neon_engine){ st->team, st->default_threads, st->kernels,
		                               &cpu_neon_ops_neon, st->opt.proc_root };
	assemble(st);

	if (st->pool.failed || st->mem_pool.failed) {
		cpu_neon_shutdown(st);
		return cpu_common_errf(err, errlen, TRIT_ENOMEM,
		                       "out of memory while probing the CPU");
	}
	trit_host_logf(&st->host, TRIT_LOG_DEBUG, "cpu0 is '%s' from '%s'; kernels: %s",
	               st->dev.name, st->dev.vendor ? st->dev.vendor : "(no vendor)",
	               st->kernels->name);
	log_device(st, 0);
	*state = st;
	return 0;
}

void cpu_neon_shutdown(void *state)
{
	struct cpu_neon_state *st = state;
	if (!st)
		return;
	cpu_common_team_destroy(st->team);
	cpu_common_pool_free(&st->pool);
	cpu_common_pool_free(&st->mem_pool);
	free(st);
}

uint32_t cpu_neon_device_count(void *state)
{
	return state ? 1 : 0;
}

const struct trit_device *cpu_neon_device_get(void *state, uint32_t index)
{
	struct cpu_neon_state *st = state;
	return st && index == 0 ? &st->dev : NULL;
}

struct cpu_neon_engine *cpu_neon_engine_of(void *state)
{
	struct cpu_neon_state *st = state;
	return st ? &st->engine : NULL;
}

const struct cpu_neon_kernels *cpu_neon_state_kernels(void *state)
{
	struct cpu_neon_state *st = state;
	return st ? st->kernels : NULL;
}

int cpu_neon_device_update(void *state, uint32_t index, char *err, size_t errlen)
{
	struct cpu_neon_state *st = state;
	struct cpu_common_pool fresh = { 0 };
	struct cpu_common_memory m;

	if (!st || index != 0)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "cpu_neon has one device (index "
		                       "0); index %u does not exist", (unsigned)index);
	cpu_common_memory_probe(st->opt.proc_root, &m, &fresh);
	if (fresh.failed) {
		cpu_common_pool_free(&fresh);
		return cpu_common_errf(err, errlen, TRIT_ENOMEM,
		                       "out of memory while re-measuring memory");
	}
	cpu_common_pool_free(&st->mem_pool);
	st->mem_pool = fresh;
	st->mem = m;
	assemble(st);
	log_device(st, 1);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Buffers                                                                   */

static int check_device(uint32_t device, const char *what, char *err, size_t errlen)
{
	if (device != 0)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon %s: device %u does not exist; cpu_neon has one "
		                       "device, index 0", what, (unsigned)device);
	return 0;
}

int cpu_neon_buffer_alloc(void *state, uint32_t device, uint64_t size,
                          struct trit_buffer **out, char *err, size_t errlen)
{
	struct trit_buffer *b;
	void *data = NULL;
	int rc;

	if (!out)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon buffer_alloc: no place to return the buffer (out "
		                       "is NULL)");
	*out = NULL;
	if ((rc = check_device(device, "buffer_alloc", err, errlen)) != 0)
		return rc;
	if (size == 0)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon buffer_alloc: size is 0; ask for at least 1 byte");
	if (size > SIZE_MAX - BUFFER_ALIGN || !(b = malloc(sizeof *b)))
		return cpu_common_errf(err, errlen, TRIT_ENOMEM,
		                       "cpu_neon buffer_alloc: out of memory for %llu bytes",
		                       (ull)size);
	if (posix_memalign(&data, BUFFER_ALIGN, (size_t)size) != 0) {
		free(b);
		return cpu_common_errf(err, errlen, TRIT_ENOMEM,
		                       "cpu_neon buffer_alloc: out of memory for %llu bytes",
		                       (ull)size);
	}
	b->size = size;
	b->data = data;
	b->owned = 1;
	*out = b;
	return 0;
}

int cpu_neon_buffer_from_host_ptr(void *state, uint32_t device, void *ptr, uint64_t size,
                                  struct trit_buffer **out, char *err, size_t errlen)
{
	struct trit_buffer *b;
	int rc;

	(void)state;
	if (!out)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "cpu_neon buffer_from_host_ptr: "
		                       "out is NULL");
	*out = NULL;
	if ((rc = check_device(device, "buffer_from_host_ptr", err, errlen)) != 0)
		return rc;
	if (!ptr || size == 0 || size > UINTPTR_MAX - (uintptr_t)ptr)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "cpu_neon buffer_from_host_ptr: "
		                       "%llu bytes at %p is not a usable range", (ull)size, ptr);
	if ((uintptr_t)ptr % BUFFER_ALIGN)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "cpu_neon buffer_from_host_ptr: "
		                       "%p is not %d-byte aligned, the alignment buffer_limits "
		                       "promises", ptr, BUFFER_ALIGN);
	if (!(b = malloc(sizeof *b)))
		return cpu_common_errf(err, errlen, TRIT_ENOMEM, "cpu_neon buffer_from_host_ptr: "
		                       "out of memory for the wrapper");
	*b = (struct trit_buffer){ size, ptr, 0 };
	*out = b;
	return 0;
}

void *cpu_neon_buffer_host_ptr(void *state, struct trit_buffer *buf)
{
	(void)state;
	return buf ? buf->data : NULL;
}

int cpu_neon_buffer_span(void *ctx, const struct trit_buffer *b, unsigned char **data,
                         uint64_t *size)
{
	(void)ctx;
	if (!b)
		return -1;
	*data = b->data;
	*size = b->size;
	return 0;
}

void cpu_neon_buffer_free(void *state, struct trit_buffer *buf)
{
	if (!buf)
		return;
	if (buf->owned)
		free(buf->data);
	free(buf);
}

static int check_range(const struct trit_buffer *buf, uint64_t offset, uint64_t size,
                       const char *what, char *err, size_t errlen)
{
	if (!buf)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "cpu_neon %s: the buffer is NULL",
		                       what);
	if (offset > buf->size || size > buf->size - offset)
		return cpu_common_errf(err, errlen, TRIT_ERANGE,
		                       "cpu_neon %s: %llu bytes at offset %llu run past the end of "
		                       "the %llu-byte buffer",
		                       what, (ull)size, (ull)offset, (ull)buf->size);
	return 0;
}

int cpu_neon_buffer_write(void *state, struct trit_buffer *buf, uint64_t offset,
                          const void *src, uint64_t size, char *err, size_t errlen)
{
	int rc = check_range(buf, offset, size, "buffer_write", err, errlen);
	if (rc != 0)
		return rc;
	if (size && !src)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon buffer_write: src is NULL for %llu bytes", (ull)size);
	if (size)
		memcpy(buf->data + offset, src, (size_t)size);
	return 0;
}

int cpu_neon_buffer_read(void *state, struct trit_buffer *buf, uint64_t offset, void *dst,
                         uint64_t size, char *err, size_t errlen)
{
	int rc = check_range(buf, offset, size, "buffer_read", err, errlen);
	if (rc != 0)
		return rc;
	if (size && !dst)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon buffer_read: dst is NULL for %llu bytes", (ull)size);
	if (size)
		memcpy(dst, buf->data + offset, (size_t)size);
	return 0;
}

int cpu_neon_buffer_copy(void *state, struct trit_buffer *dst, uint64_t dst_offset,
                         struct trit_buffer *src, uint64_t src_offset, uint64_t size,
                         char *err, size_t errlen)
{
	int rc;

	(void)state;
	if ((rc = check_range(dst, dst_offset, size, "buffer_copy (destination)", err,
	                      errlen)) != 0 ||
	    (rc = check_range(src, src_offset, size, "buffer_copy (source)", err, errlen)) != 0)
		return rc;
	if (size)
		memmove(dst->data + dst_offset, src->data + src_offset, (size_t)size);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Matmul                                                                    */

static const char *type_name(uint32_t type)
{
	const struct trit_type_traits *t = trit_type_traits(type);
	return t && t->name ? t->name : "unknown";
}

/* The shape part of a matmul's checks, shared with matmul_workspace. */
static int check_shape(uint32_t device, const struct trit_matmul *op, const char *fn,
                       struct trit_ternary_geometry *g, struct cpu_neon_ws_layout *lay,
                       char *err, size_t errlen)
{
	int rc, int_dots;

	if (!op)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "cpu_neon %s: op is NULL", fn);
	if (op->struct_size < offsetof(struct trit_matmul, flags) + sizeof op->flags)
		return cpu_common_errf(err, errlen, TRIT_EABI,
		                       "cpu_neon %s: struct trit_matmul is %u bytes; this plugin "
		                       "needs the %zu bytes up to and including flags",
		                       fn, (unsigned)op->struct_size,
		                       offsetof(struct trit_matmul, flags) + sizeof op->flags);
	if ((rc = check_device(device, fn, err, errlen)) != 0)
		return rc;
	if (op->weight_type != TRIT_TYPE_I2_S && op->weight_type != TRIT_TYPE_TL1 &&
	    op->weight_type != TRIT_TYPE_TL2)
		return cpu_common_errf(err, errlen, TRIT_EUNSUPPORTED,
		                       "cpu_neon %s: weight_type %u (%s) has no kernel here; "
		                       "cpu_neon runs I2_S, TL1 and TL2",
		                       fn, (unsigned)op->weight_type, type_name(op->weight_type));
	if (op->flags & ~TRIT_MATMUL_INT_DOTS)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon %s: flags 0x%x has bits this plugin does not know "
		                       "(only TRIT_MATMUL_INT_DOTS = 0x%x)",
		                       fn, (unsigned)op->flags, (unsigned)TRIT_MATMUL_INT_DOTS);
	if (op->rows == 0 || op->cols == 0 || op->tokens == 0)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon %s: rows %llu, cols %llu, tokens %llu: all three "
		                       "must be at least 1",
		                       fn, (ull)op->rows, (ull)op->cols, (ull)op->tokens);
	if (op->rows > INT32_MAX || op->cols > INT32_MAX ||
	    trit_ternary_geometry(op->weight_type, op->rows, op->cols, g) != 0)
		return cpu_common_errf(err, errlen, TRIT_ERANGE,
		                       "cpu_neon %s: a %s tensor of %llu x %llu is too large "
		                       "(rows and cols must be below 2^31)",
		                       fn, type_name(op->weight_type), (ull)op->rows, (ull)op->cols);
	int_dots = (op->flags & TRIT_MATMUL_INT_DOTS) != 0;
	if (op->tokens > UINT64_MAX / 4 / (op->rows > op->cols ? op->rows : op->cols) ||
	    cpu_neon_ws_layout(op->weight_type, g->cols_pad, op->tokens, int_dots, lay) != 0)
		return cpu_common_errf(err, errlen, TRIT_ERANGE,
		                       "cpu_neon %s: %llu tokens of %llu columns need more bytes "
		                       "than 64 bits count",
		                       fn, (ull)op->tokens, (ull)op->cols);
	return 0;
}

int cpu_neon_matmul_workspace(void *state, uint32_t device, const struct trit_matmul *op,
                              uint64_t *bytes, char *err, size_t errlen)
{
	struct trit_ternary_geometry g;
	struct cpu_neon_ws_layout lay;
	int rc;

	if (!bytes)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon matmul_workspace: bytes is NULL");
	*bytes = 0;
	if ((rc = check_shape(device, op, "matmul_workspace", &g, &lay, err, errlen)) != 0)
		return rc;
	*bytes = lay.total;
	return 0;
}

/* One operand of a matmul: which field, where, how many bytes. */
struct operand {
	const char *name;
	const struct trit_buffer *buf;
	uint64_t offset, bytes;
	int written;
};

static int check_operand(const struct operand *o, uint64_t align, char *err, size_t errlen)
{
	if (!o->buf)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon matmul: %s is NULL but %llu bytes are needed there",
		                       o->name, (ull)o->bytes);
	if (o->offset % align)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon matmul: %s offset %llu is not a multiple of %llu "
		                       "(the size of its elements)",
		                       o->name, (ull)o->offset, (ull)align);
	if (o->offset > o->buf->size || o->bytes > o->buf->size - o->offset)
		return cpu_common_errf(err, errlen, TRIT_ERANGE,
		                       "cpu_neon matmul: %s needs %llu bytes at offset %llu but its "
		                       "buffer holds %llu",
		                       o->name, (ull)o->bytes, (ull)o->offset, (ull)o->buf->size);
	return 0;
}

static int overlap(const struct operand *a, const struct operand *b)
{
	return a->buf && a->buf == b->buf && a->bytes && b->bytes &&
	       a->offset < b->offset + b->bytes && b->offset < a->offset + a->bytes;
}

int cpu_neon_matmul(void *state, uint32_t device, const struct trit_matmul *op, char *err,
                    size_t errlen)
{
	struct cpu_neon_state *st = state;
	struct trit_ternary_geometry g;
	struct cpu_neon_job job;
	struct operand w, in, out, ws;
	unsigned threads;
	int rc, int_dots;

	if (!st)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "cpu_neon matmul: state is NULL");
	memset(&job, 0, sizeof job);
	if ((rc = check_shape(device, op, "matmul", &g, &job.lay, err, errlen)) != 0)
		return rc;
	int_dots = (op->flags & TRIT_MATMUL_INT_DOTS) != 0;
	w = (struct operand){ "weights", op->weights, op->weights_offset, g.total_bytes, 0 };
	in = (struct operand){ "input", op->input, op->input_offset,
	                       op->tokens * op->cols * (int_dots ? 1 : 4), 0 };
	out = (struct operand){ "output", op->output, op->output_offset,
	                        op->tokens * op->rows * 4, 1 };
	ws = (struct operand){ "workspace", op->workspace, op->workspace_offset, job.lay.total,
	                       1 };
	if ((rc = check_operand(&w, 1, err, errlen)) != 0 ||
	    (rc = check_operand(&in, int_dots ? 1 : 4, err, errlen)) != 0 ||
	    (rc = check_operand(&out, 4, err, errlen)) != 0 ||
	    (rc = check_operand(&ws, 1, err, errlen)) != 0)
		return rc;
	if (overlap(&out, &w) || overlap(&out, &in) || overlap(&out, &ws) || overlap(&ws, &w) ||
	    overlap(&ws, &in))
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "cpu_neon matmul: the output or workspace range overlaps "
		                       "another operand in the same buffer; give each its own "
		                       "bytes");
	if (op->n_threads > CPU_NEON_MAX_THREADS)
		return cpu_common_errf(err, errlen, TRIT_ERANGE,
		                       "cpu_neon matmul: n_threads %u is more than the %u this "
		                       "plugin runs; give 0 for the %u usable here",
		                       (unsigned)op->n_threads, CPU_NEON_MAX_THREADS,
		                       st->default_threads);

	job.type = op->weight_type;
	job.rows = op->rows;
	job.cols = op->cols;
	job.tokens = op->tokens;
	job.rows_pad = g.rows_pad;
	job.cols_pad = g.cols_pad;
	job.w = op->weights->data + op->weights_offset;
	job.scale = trit_ternary_scale(job.w, g.data_bytes);
	job.int_dots = int_dots;
	job.in = op->input->data + op->input_offset;
	job.out = op->output->data + op->output_offset;
	job.ws = job.lay.total ? op->workspace->data + op->workspace_offset : NULL;
	job.k = st->kernels;
	threads = op->n_threads ? op->n_threads : st->default_threads;
	cpu_neon_run(&job, st->team, threads);
	return 0;
}
