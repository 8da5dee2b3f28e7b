/*
 * backend.c - the cpu_avx2 backend's state and device: init runs every probe
 * (features, topology, threads, memory, bandwidth, clock) and assembles one
 * device "cpu0" with its properties; device_update re-measures memory. The
 * probes themselves live in their own files. It also picks the kernels'
 * instruction set: the isa option against the probed caps, then, unless the
 * operator forced a path, the fastest measured path per kernel type
 * (choose.c); it advertises I2_S, TL1 and TL2 only when one can run;
 * matmul.c runs them.
 */
#include <build-config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "probe.h"

#define MAX_PROPS 40
#define CPUFREQ_MAX "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"

typedef unsigned long long ull;

struct cpu_avx2_state {
	struct trit_host host;          /* a copy: the caller's table may not outlive init */
	struct cpu_avx2_options opt;
	struct cpu_avx2_pool pool;      /* strings valid until shutdown */
	struct cpu_avx2_pool mem_pool;  /* memory strings, replaced by device_update */
	struct cpu_avx2_topology topo;
	struct cpu_avx2_threads threads;
	struct cpu_avx2_memory mem;
	struct trit_value bandwidth, clock;
	const char *features, *disabled;
	struct trit_value features_src, disabled_src;
	uint64_t caps;
	struct cpu_avx2_engine engine;  /* kernels, default threads, worker pool */
	const char *isa_text;
	struct trit_value isa_src;
	struct cpu_avx2_mix mix;        /* the kernels when the types' paths differ */
	const char *ktext[CPU_AVX2_NK]; /* the path of each kernel type */
	struct trit_value ksrc[CPU_AVX2_NK];
	const struct cpu_avx2_kernels *kpath[CPU_AVX2_NK]; /* its table; NULL: none runs */
	struct trit_value peak[CPU_AVX2_NK]; /* int8 ops/s of one core on that path (peak.c) */
	struct trit_device dev;
	struct trit_property props[MAX_PROPS];
};

/* ------------------------------------------------------------------------ */
/* Probes that need the options.                                             */

static void clock_probe(struct cpu_avx2_state *st)
{
	char why[600], *text = NULL;
	uint64_t khz;

	if (cpu_avx2_read_file(CPUFREQ_MAX, 64, &text, NULL, why, sizeof why) != 0) {
		st->clock = cpu_avx2_unknown(cpu_avx2_pool_printf(&st->pool,
			"no cpufreq in sysfs (%s)", why));
		return;
	}
	if (cpu_avx2_parse_u64(text, &khz) != 0 || khz == 0 || khz > UINT64_MAX / 1000)
		st->clock = cpu_avx2_unknown(cpu_avx2_pool_printf(&st->pool,
			"%s does not hold a frequency in kHz: '%.20s'", CPUFREQ_MAX, text));
	else
		st->clock = cpu_avx2_measured(khz * 1000, CPUFREQ_MAX " (kHz; the highest "
		                              "frequency cpufreq allows)");
	free(text);
}

static void bandwidth_probe(struct cpu_avx2_state *st)
{
	const char *machine = cpu_avx2_pool_printf(&st->pool, "%s|%s|features=%s",
	                                        st->dev.name ? st->dev.name : "?",
	                                        st->dev.vendor ? st->dev.vendor : "?",
	                                        st->features ? st->features : "?");
	struct cpu_common_bandwidth_opts o = {
		.section = "[plugin.cpu_avx2]",
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

/* A text property; when text is NULL it is unknown and v says why, otherwise
 * v.source says where the text came from. */
static void prop_text(struct trit_property *p, const char *key, const char *text,
                      struct trit_value v)
{
	memset(p, 0, sizeof *p);
	p->key = key;
	p->text = text;
	p->value = v;
}

static void assemble(struct cpu_avx2_state *st)
{
	struct trit_property *p = st->props;
	struct trit_device *d = &st->dev;

	d->mem_total = st->mem.total;
	d->mem_free = st->mem.free;

	prop_text(p++, "cpu.features", st->features, st->features_src);
	prop_text(p++, "cpu.features_disabled", st->disabled, st->disabled_src);
	prop_text(p++, "kernel.isa", st->isa_text, st->isa_src);
	for (int t = 0; t < CPU_AVX2_NK; t++)
		prop_text(p++, cpu_avx2_ktypes[t].prop, st->ktext[t], st->ksrc[t]);
	/* backend.h's TRIT_PROP_COMPUTE_INT8_PEAK: the I2_S path's, then per type */
	prop_value(p++, "compute.int8_peak", "ops/s", st->peak[CPU_AVX2_K_I2S]);
	for (int t = 0; t < CPU_AVX2_NK; t++)
		prop_value(p++, cpu_avx2_ktypes[t].peak_prop, "ops/s", st->peak[t]);
	/* backend.h's well-known key: the planner must not count host RAM twice */
	prop_text(p++, "mem.pool", "host", (struct trit_value){ .state = TRIT_VALUE_DERIVED,
	          .source = "a CPU device draws on host memory" });
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

static void log_value(const struct cpu_avx2_state *st, const char *name, const char *unit,
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

static void log_device(const struct cpu_avx2_state *st, int memory_only)
{
	const struct trit_device *d = &st->dev;

	if (!memory_only) {
		trit_host_logf(&st->host, TRIT_LOG_DEBUG, "cpu0 is '%s' from '%s'", d->name,
		               d->vendor ? d->vendor : "(no vendor)");
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
/* Backend functions.                                                        */

/* Decide the features; refuse (TRIT_EUNSUPPORTED) without AVX2. */
static int features(struct cpu_avx2_state *st, char *err, size_t errlen)
{
	struct cpu_avx2_cpuid raw;
	char why[300], names[300];
	uint64_t hw;

	cpu_avx2_cpuid_read(&raw);
	hw = cpu_avx2_caps_decode(&raw, why, sizeof why);
	st->caps = cpu_avx2_caps_close(hw & ~st->opt.disable);
	if (!(hw & TRIT_CAP_AVX2))
		return cpu_avx2_errf(err, errlen, TRIT_EUNSUPPORTED,
		                     "%s; the cpu_avx2 backend needs AVX2", why);
	if (!(st->caps & TRIT_CAP_AVX2))
		return cpu_avx2_errf(
		        err, errlen, TRIT_EUNSUPPORTED,
		        "AVX2 is disabled by [plugin.cpu_avx2] disable = %s (%s); the cpu_avx2 "
		        "backend needs AVX2, so it does not register",
		        st->opt.disable_text, st->opt.disable_where);

	cpu_avx2_caps_format(st->caps, names, sizeof names);
	st->features = cpu_avx2_pool_printf(&st->pool, "%s", names);
	st->features_src = cpu_avx2_measured(0, "cpuid leaves 1 and 7, XGETBV (XCR0)");
	if (st->opt.disable_text) {
		cpu_avx2_caps_format(hw & ~st->caps, names, sizeof names);
		st->disabled = cpu_avx2_pool_printf(&st->pool, "%s", names);
		st->disabled_src = cpu_avx2_configured(0, cpu_avx2_pool_printf(&st->pool,
			"[plugin.cpu_avx2] disable = %s (%s)", st->opt.disable_text,
			st->opt.disable_where));
	} else {
		st->disabled = "none";
		st->disabled_src = cpu_avx2_configured(0, "default: nothing disabled");
	}
	st->dev.name = raw.brand[0] ? cpu_avx2_pool_printf(&st->pool, "%s", raw.brand)
	                            : "x86-64 CPU (cpuid has no brand string)";
	st->dev.vendor = raw.vendor[0] ? cpu_avx2_pool_printf(&st->pool, "%s", raw.vendor) : NULL;
	return 0;
}

/* Pick the kernels. A forced isa the CPU cannot run is a configuration
 * error; no AVX2+FMA at all (FMA disabled, say) leaves the device without
 * matmul types and says why in kernel.isa. */
static int choose_kernels(struct cpu_avx2_state *st, char *err, size_t errlen)
{
	char why[400];
	const struct cpu_avx2_kernels *k =
	        cpu_avx2_kernels_select(st->caps, (enum cpu_avx2_isa)st->opt.isa,
	                                st->opt.isa_where, why, sizeof why);

	if (!k && st->opt.isa == CPU_AVX2_ISA_AVX512)
		return cpu_avx2_errf(err, errlen, TRIT_ECONFIG, "%s", why);
	st->engine.k = k;
	for (int t = 0; t < CPU_AVX2_NK; t++)
		st->kpath[t] = k;
	st->engine.ops = cpu_avx2_ops_select(st->caps, (enum cpu_avx2_isa)st->opt.isa);
	st->engine.proc_root = st->opt.proc_root;
	if (!(st->engine.pool = cpu_avx2_workers_new()))
		return cpu_avx2_errf(err, errlen, TRIT_ENOMEM,
		                     "out of memory for the cpu_avx2 worker pool");
	cpu_avx2_workers_set(st->engine.pool, st->opt.spin_us, st->opt.pin);
	if (!k) {
		st->engine.why = cpu_avx2_pool_printf(&st->pool, "%s", why);
		st->isa_text = NULL;
		st->isa_src = cpu_avx2_unknown(st->engine.why);
		return 0;
	}
	st->isa_text = k->isa;
	if (st->opt.isa_text)
		st->isa_src = cpu_avx2_configured(0, cpu_avx2_pool_printf(&st->pool,
			"[plugin.cpu_avx2] isa = %s (%s)", st->opt.isa_text, st->opt.isa_where));
	else
		st->isa_src = cpu_avx2_derived(0, "isa = auto: the widest kernels the cpu.features "
		                                  "allow");
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		st->ktext[t] = k->isa;
		st->ksrc[t] = st->isa_src;
	}
	return 0;
}

/* With isa = auto (set or not) and several kernel paths, take the fastest
 * per kernel type (choose.c), unless choose = widest. Runs after the
 * probes: the measurement uses the default threads and the L3 size. */
static void measure_kernels(struct cpu_avx2_state *st)
{
	struct cpu_avx2_choose_in in = { 0 };
	struct cpu_avx2_choice ch;
	const char *srcs[CPU_AVX2_NK];
	int same_path, same_src;

	if (!st->engine.k || st->opt.isa != CPU_AVX2_ISA_AUTO)
		return;
	if (st->opt.choose == CPU_AVX2_CHOOSE_WIDEST) {
		st->isa_src = cpu_avx2_configured(0, cpu_avx2_pool_printf(&st->pool,
			"[plugin.cpu_avx2] choose = %s (%s): the widest kernels the cpu.features "
			"allow, not measured", st->opt.choose_text, st->opt.choose_where));
		for (int t = 0; t < CPU_AVX2_NK; t++)
			st->ksrc[t] = st->isa_src;
		return;
	}
	in.host = &st->host;
	in.machine = cpu_avx2_pool_printf(&st->pool, "%s|%s|features=%s",
	                                  st->dev.name ? st->dev.name : "?",
	                                  st->dev.vendor ? st->dev.vendor : "?",
	                                  st->features ? st->features : "?");
	in.threads = st->engine.default_threads;
	in.l3_total = st->topo.l3.total;
	in.mem_free = st->mem.free.state != TRIT_VALUE_UNKNOWN ? st->mem.free.value : 0;
	in.ws_bytes = st->opt.choose_bytes;
	in.ws_where = st->opt.choose_bytes_where;
	in.engine = &st->engine;
	in.n_paths = cpu_avx2_kernel_paths(st->caps, in.paths);
	cpu_avx2_choose(&in, &ch, &st->pool);
	if (!in.n_paths)
		return;
	cpu_avx2_kernels_mix(&st->mix, ch.k[CPU_AVX2_K_I2S], ch.k[CPU_AVX2_K_TL1],
	                     ch.k[CPU_AVX2_K_TL2]);
	same_path = ch.k[0] == ch.k[1] && ch.k[1] == ch.k[2];
	st->engine.k = same_path ? ch.k[0] : &st->mix.k;
	st->isa_text = st->engine.k->isa;
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		st->ktext[t] = ch.k[t]->isa;
		st->ksrc[t] = ch.src[t];
		st->kpath[t] = ch.k[t];
		srcs[t] = ch.src[t].source ? ch.src[t].source : "";
	}
	same_src = !strcmp(srcs[0], srcs[1]) && !strcmp(srcs[1], srcs[2]);
	if (same_src) {
		st->isa_src = ch.src[0];
	} else {
		int same_state = ch.src[0].state == ch.src[1].state &&
		                 ch.src[1].state == ch.src[2].state;
		st->isa_src = (struct trit_value){
			.state = same_state ? ch.src[0].state : TRIT_VALUE_DERIVED,
			.source = cpu_avx2_pool_printf(&st->pool, "I2_S %s; TL1 %s; TL2 %s", srcs[0],
			                               srcs[1], srcs[2]),
		};
	}
	if (ch.measured_now)
		trit_host_logf(&st->host, TRIT_LOG_DEBUG,
		               "timed the kernel paths in %.0f ms: I2_S %s, TL1 %s, TL2 %s (kept "
		               "in the probe cache)", (double)ch.spent_ns / 1e6, st->ktext[0],
		               st->ktext[1], st->ktext[2]);
}

/* The peak int8 throughput of one core on each kernel type's path (peak.c),
 * each path once. Runs after the paths are chosen, on the calling thread. */
static void measure_peak(struct cpu_avx2_state *st)
{
	const char *machine = cpu_avx2_pool_printf(&st->pool, "%s|%s|features=%s",
	                                           st->dev.name ? st->dev.name : "?",
	                                           st->dev.vendor ? st->dev.vendor : "?",
	                                           st->features ? st->features : "?");

	for (int t = 0; t < CPU_AVX2_NK; t++) {
		struct cpu_avx2_peak_in in = {
			.host = &st->host, .machine = machine, .path = st->kpath[t],
			.why_none = st->engine.why,
		};
		struct cpu_avx2_peak pk;
		int u = 0;

		while (u < t && st->kpath[u] != st->kpath[t])
			u++;
		if (u < t) {
			st->peak[t] = st->peak[u];
			continue;
		}
		cpu_avx2_peak_get(&in, &pk, &st->pool);
		st->peak[t] = pk.ops;
		if (pk.measured_now)
			trit_host_logf(&st->host, TRIT_LOG_DEBUG, "timed the int8 peak of the %s path "
			               "in %.0f ms (kept in the probe cache)", st->kpath[t]->isa,
			               (double)pk.run.spent_ns / 1e6);
	}
}

int cpu_avx2_init(const struct trit_host *host, void **state, char *err, size_t errlen)
{
	struct cpu_avx2_state *st;
	int rc;

	if (!state)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2 init was called without a state pointer");
	*state = NULL;
	if (host && host->abi_version != TRIT_BACKEND_ABI_VERSION)
		return cpu_avx2_errf(
		        err, errlen, TRIT_EABI,
		        "the runtime speaks plugin ABI %u but cpu_avx2 "
		        "was built for ABI %u; rebuild the plugin against this runtime",
		        (unsigned)host->abi_version, (unsigned)TRIT_BACKEND_ABI_VERSION);
	if (!(st = calloc(1, sizeof *st)))
		return cpu_avx2_errf(err, errlen, TRIT_ENOMEM,
		                     "out of memory for the cpu_avx2 state");
	if (host) {
		size_t n =
		        host->struct_size < sizeof st->host ? host->struct_size : sizeof st->host;
		memcpy(&st->host, host, n);
		st->host.struct_size = (uint32_t)n;
	}

	if ((rc = cpu_avx2_options_read(host, &st->opt, &st->pool, err, errlen)) != 0 ||
	    (rc = features(st, err, errlen)) != 0 || (rc = choose_kernels(st, err, errlen)) != 0) {
		cpu_avx2_shutdown(st);
		return rc;
	}
	cpu_avx2_topology_probe(&st->topo, &st->pool);
	cpu_avx2_threads_probe(st->opt.proc_root, &st->threads, &st->pool);
	cpu_avx2_memory_probe(st->opt.proc_root, &st->mem, &st->mem_pool);
	clock_probe(st);
	bandwidth_probe(st);

	st->dev.struct_size = sizeof st->dev;
	st->dev.kind = TRIT_DEVICE_CPU;
	st->dev.id = "cpu0";
	st->dev.mem_bandwidth = st->bandwidth;
	st->dev.compute_units = st->topo.cores;
	st->dev.hw_threads = st->threads.hw_threads;
	st->dev.clock_hz = st->clock;
	st->dev.compute_capability = cpu_avx2_unknown("not a GPU");
	st->dev.caps = st->caps;
	st->engine.default_threads =
	        st->threads.hw_threads.state != TRIT_VALUE_UNKNOWN && st->threads.hw_threads.value
	                ? (st->threads.hw_threads.value > CPU_AVX2_MAX_THREADS
	                           ? CPU_AVX2_MAX_THREADS
	                           : (unsigned)st->threads.hw_threads.value)
	                : 1;
	measure_kernels(st);
	measure_peak(st);
	/* Advertise only what runs: the shared ops always, the ternary types
	 * when a kernel can. */
	st->dev.matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_F32) | TRIT_TYPE_BIT(TRIT_TYPE_F16) |
	                       TRIT_TYPE_BIT(TRIT_TYPE_BF16) | TRIT_TYPE_BIT(TRIT_TYPE_Q8_0) |
	                       TRIT_TYPE_BIT(TRIT_TYPE_TQ1_0) | TRIT_TYPE_BIT(TRIT_TYPE_TQ2_0);
	if (st->engine.k)
		st->dev.matmul_types |= TRIT_TYPE_BIT(TRIT_TYPE_I2_S) |
		                        TRIT_TYPE_BIT(TRIT_TYPE_TL1) | TRIT_TYPE_BIT(TRIT_TYPE_TL2);
	assemble(st);

	if (st->pool.failed || st->mem_pool.failed) {
		cpu_avx2_shutdown(st);
		return cpu_avx2_errf(err, errlen, TRIT_ENOMEM,
		                     "out of memory while probing the CPU");
	}
	log_device(st, 0);
	*state = st;
	return 0;
}

void cpu_avx2_shutdown(void *state)
{
	struct cpu_avx2_state *st = state;
	if (!st)
		return;
	cpu_avx2_workers_free(st->engine.pool);
	cpu_avx2_pool_free(&st->pool);
	cpu_avx2_pool_free(&st->mem_pool);
	free(st);
}

struct cpu_avx2_engine *cpu_avx2_engine_of(void *state)
{
	struct cpu_avx2_state *st = state;
	return st ? &st->engine : NULL;
}

uint32_t cpu_avx2_device_count(void *state)
{
	return state ? 1 : 0;
}

const struct trit_device *cpu_avx2_device_get(void *state, uint32_t index)
{
	struct cpu_avx2_state *st = state;
	return st && index == 0 ? &st->dev : NULL;
}

int cpu_avx2_device_update(void *state, uint32_t index, char *err, size_t errlen)
{
	struct cpu_avx2_state *st = state;
	struct cpu_avx2_pool fresh = { 0 };
	struct cpu_avx2_memory m;

	if (!st || index != 0)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL, "cpu_avx2 has one device (index 0); "
		                     "index %u does not exist", (unsigned)index);
	cpu_avx2_memory_probe(st->opt.proc_root, &m, &fresh);
	if (fresh.failed) {
		cpu_avx2_pool_free(&fresh);
		return cpu_avx2_errf(err, errlen, TRIT_ENOMEM,
		                     "out of memory while re-measuring memory");
	}
	/* The old strings may be freed now: the contract keeps them valid only
	 * until the next device_update. */
	cpu_avx2_pool_free(&st->mem_pool);
	st->mem_pool = fresh;
	st->mem = m;
	assemble(st);
	log_device(st, 1);
	return 0;
}

int cpu_avx2_matmul_workspace(void *state, uint32_t device, const struct trit_matmul *op,
                              uint64_t *bytes, char *err, size_t errlen)
{
	struct cpu_avx2_state *st = state;
	return cpu_avx2_engine_workspace(st ? &st->engine : NULL, device, op, bytes, err, errlen);
}

int cpu_avx2_matmul(void *state, uint32_t device, const struct trit_matmul *op, char *err,
                    size_t errlen)
{
	struct cpu_avx2_state *st = state;
	return cpu_avx2_engine_matmul(st ? &st->engine : NULL, device, op, err, errlen);
}
