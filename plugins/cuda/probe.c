/*
 * probe.c - the cuda backend's init: open the driver (driver.c), enumerate
 * the devices and measure each in a context of its own: name, total and
 * free memory, multiprocessors, clocks, bus width (-> peak bandwidth),
 * compute capability, integrated / pageable-memory flags, and what trit's
 * context and kernel module cost in device memory (property mem.overhead,
 * which the estimator counts). Loads the embedded kernels into each context;
 * a device whose kernels do not load is advertised without them, with the
 * reason. Buffers and kernels are buffers.c's and matmul.c's.
 *
 * Broken environments are reasons, never crashes: no driver library ->
 * init fails with TRIT_ENODEV (the plugin is listed as skipped, saying why);
 * a driver with no device -> init succeeds with zero devices (logged); a
 * device that cannot be measured is left out (logged), and if none can be,
 * init fails with the first device's reason.
 */
#include <build-config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SECTION "[plugin.cuda]"
#define MAX_KEYS 1024 /* guards against a host that never says NULL */

static const char *env_get(const char *name)
{
#ifdef HAVE_SECURE_GETENV
	return secure_getenv(name);
#else
	return getenv(name);
#endif
}

static const char *where(const struct trit_host *host, const char *key)
{
	const char *w = NULL;
	if (TRIT_HOST_HAS(host, config_where) && host->config_where)
		w = host->config_where(host->ctx, key);
	return w ? w : "the configuration";
}

int cuda_options_read(const struct trit_host *host, struct cuda_options *o,
                      char *err, size_t errlen)
{
	const char *k, *v;

	o->driver = CUDA_DRIVER_DEFAULT;
	snprintf(o->origin, sizeof o->origin, "the default");
	if (TRIT_HOST_HAS(host, config_key) && host->config_key)
		for (uint32_t i = 0; i < MAX_KEYS && (k = host->config_key(host->ctx, i)); i++)
			if (strcmp(k, "driver") != 0) {
				snprintf(err, errlen, "%s: " SECTION " %s: unknown key; the cuda backend "
				         "knows only 'driver' (the CUDA driver library to load)",
				         where(host, k), k);
				return TRIT_ECONFIG;
			}
	if (TRIT_HOST_HAS(host, config_get) && host->config_get &&
	    (v = host->config_get(host->ctx, "driver"))) {
		if (!*v) {
			snprintf(err, errlen, "%s: " SECTION " driver is empty; give the path of the "
			         "CUDA driver library (libcuda.so.1)", where(host, "driver"));
			return TRIT_ECONFIG;
		}
		o->driver = v;
		snprintf(o->origin, sizeof o->origin, "%s", where(host, "driver"));
	}
	/* The environment wins over the file, as everywhere in trit; it is
	 * ignored in setuid programs, like the OpenCL ICD loader's overrides. */
	if ((v = env_get("TRIT_CUDA_DRIVER")) && *v) {
		o->driver = v;
		snprintf(o->origin, sizeof o->origin, "environment TRIT_CUDA_DRIVER");
	}
	return 0;
}

/* ------------------------------------------------------------------------ */

static struct trit_value measured(uint64_t v, const char *src)
{
	return (struct trit_value){ .value = v, .state = TRIT_VALUE_MEASURED, .source = src };
}

static struct trit_value derived(uint64_t v, const char *src)
{
	return (struct trit_value){ .value = v, .state = TRIT_VALUE_DERIVED, .source = src };
}

static struct trit_value unknown(const char *why)
{
	return (struct trit_value){ .state = TRIT_VALUE_UNKNOWN, .source = why };
}

/* One attribute into *v: 0, or -1 with a sentence in why. */
static int attr(struct cuda_state *s, CUdevice dev, CUdevice_attribute a, const char *name,
                int *v, char *why, size_t whylen)
{
	CUresult rc = s->drv.DeviceGetAttribute(v, a, dev);
	char text[256];

	if (rc == CUDA_SUCCESS)
		return 0;
	*v = 0;
	snprintf(why, whylen, "cuDeviceGetAttribute(%s) failed: %s", name,
	         cuda_error_text(&s->drv, rc, text, sizeof text));
	return -1;
}
#define ATTR(name, v, why) \
	attr(s, d->dev, CU_DEVICE_ATTRIBUTE_##name, #name, (v), (why), sizeof(why))

/* What the driver tells about a device, each value with whether it answered. */
struct attrs {
	int major, minor, sms, clock, memclock, bus, l2, integrated, pageable, dom, pbus, pdev;
	int cc_ok, sms_ok, clock_ok, memclock_ok, bus_ok, l2_ok, pci_ok;
};

/* Read the attributes; a reason for each missing one goes into d's sources. */
static void read_attrs(struct cuda_state *s, struct cuda_dev *d, struct attrs *a)
{
	char why[300];

	a->cc_ok = !ATTR(COMPUTE_CAPABILITY_MAJOR, &a->major, d->src_cc) &&
	           !ATTR(COMPUTE_CAPABILITY_MINOR, &a->minor, d->src_cc);
	a->sms_ok = !ATTR(MULTIPROCESSOR_COUNT, &a->sms, d->src_cu);
	if (a->sms_ok && a->sms <= 0) {
		a->sms_ok = 0;
		snprintf(d->src_cu, sizeof d->src_cu, "the driver reports %d multiprocessors", a->sms);
	}
	a->clock_ok = !ATTR(CLOCK_RATE, &a->clock, d->src_clock);
	if (a->clock_ok && a->clock <= 0) {
		a->clock_ok = 0;
		snprintf(d->src_clock, sizeof d->src_clock, "the driver reports a clock of %d kHz",
		         a->clock);
	}
	a->memclock_ok = !ATTR(MEMORY_CLOCK_RATE, &a->memclock, d->src_memclock);
	if (a->memclock_ok && a->memclock <= 0) {
		a->memclock_ok = 0;
		snprintf(d->src_memclock, sizeof d->src_memclock, "the driver reports a memory "
		         "clock of %d kHz", a->memclock);
	}
	a->bus_ok = !ATTR(GLOBAL_MEMORY_BUS_WIDTH, &a->bus, d->src_bus);
	if (a->bus_ok && a->bus <= 0) {
		a->bus_ok = 0;
		snprintf(d->src_bus, sizeof d->src_bus, "the driver reports a bus width of %d bits",
		         a->bus);
	}
	a->l2_ok = !ATTR(L2_CACHE_SIZE, &a->l2, d->src_l2);
	if (a->l2_ok && a->l2 <= 0) {
		a->l2_ok = 0;
		snprintf(d->src_l2, sizeof d->src_l2, "the driver reports an L2 cache of %d bytes",
		         a->l2);
	}
	if (ATTR(INTEGRATED, &a->integrated, why) || ATTR(PAGEABLE_MEMORY_ACCESS, &a->pageable, why))
		trit_host_logf(s->host, TRIT_LOG_INFO, "%s: %s: the integrated and unified-memory "
		               "flags are left clear", d->id, why);
	a->pci_ok = !ATTR(PCI_DOMAIN_ID, &a->dom, why) && !ATTR(PCI_BUS_ID, &a->pbus, why) &&
	            !ATTR(PCI_DEVICE_ID, &a->pdev, why);
}

/* Free device memory as seen from the current context. */
static CUresult mem_free(struct cuda_state *s, size_t *free_b)
{
	size_t total = 0;
	return s->drv.MemGetInfo(free_b, &total);
}

/* Load the kernel image into the current context; 0 or a CUresult. */
static CUresult load_module(struct cuda_state *s, const void *image, CUmodule *mod,
                            CUfunction *fn, const char **failed)
{
	CUresult rc = s->drv.ModuleLoadData(mod, image);

	*failed = "cuModuleLoadData";
	if (rc != CUDA_SUCCESS) {
		*mod = NULL;
		return rc;
	}
	for (int k = 0; fn && k < CUDA_K_COUNT; k++)
		if ((rc = s->drv.ModuleGetFunction(&fn[k], *mod, cuda_kernel_names[k])) != CUDA_SUCCESS) {
			*failed = cuda_kernel_names[k];
			s->drv.ModuleUnload(*mod);
			*mod = NULL;
			return rc;
		}
	return CUDA_SUCCESS;
}

/*
 * What trit's context (and module) cost: free memory in our context minus
 * free memory after creating a second, identical one, which is then
 * destroyed. (A process's first context may cost a little more: per-process
 * driver state is not visible this way.)
 */
static void measure_overhead(struct cuda_state *s, struct cuda_dev *d, size_t free1,
                             const void *image)
{
	CUcontext probe = NULL;
	CUmodule mod = NULL;
	size_t free2 = 0;
	char text[256];
	const char *failed;
	CUresult rc = s->drv.CtxCreate(&probe, 0, d->dev);

	if (rc != CUDA_SUCCESS) {
		snprintf(d->src_overhead, sizeof d->src_overhead, "not measured: a second context "
		         "to measure the first one's cost could not be created: %s; the free memory "
		         "reported already excludes trit's context",
		         cuda_error_text(&s->drv, rc, text, sizeof text));
		return;
	}
	if (d->mod && (rc = load_module(s, image, &mod, NULL, &failed)) != CUDA_SUCCESS) {
		snprintf(d->src_overhead, sizeof d->src_overhead, "not measured: loading the kernels "
		         "into a second context failed: %s; the free memory reported already "
		         "excludes trit's context", cuda_error_text(&s->drv, rc, text, sizeof text));
	} else if ((rc = mem_free(s, &free2)) != CUDA_SUCCESS) {
		snprintf(d->src_overhead, sizeof d->src_overhead, "not measured: cuMemGetInfo in a "
		         "second context failed: %s; the free memory reported already excludes "
		         "trit's context", cuda_error_text(&s->drv, rc, text, sizeof text));
	} else if (free2 > free1) {
		snprintf(d->src_overhead, sizeof d->src_overhead, "not measured: free memory rose "
		         "from %zu to %zu bytes while a second context was created (another process "
		         "freed memory); the free memory reported already excludes trit's context",
		         free1, free2);
	} else {
		d->overhead = free1 - free2;
		d->overhead_known = 1;
		snprintf(d->src_overhead, sizeof d->src_overhead, "cuMemGetInfo: %zu bytes free in "
		         "trit's context, %zu after creating a second context%s: what a context%s "
		         "costs", free1, free2, d->mod ? " and loading the kernels into it" : "",
		         d->mod ? " with trit's kernels" : "");
	}
	if (mod)
		s->drv.ModuleUnload(mod);
	s->drv.CtxDestroy(probe);
	s->drv.CtxSetCurrent(d->ctx);
}

/* Fill d->pub.mem_free from free memory measured in our context. */
static void set_free(struct cuda_dev *d, size_t free_b)
{
	if (d->overhead_known) {
		snprintf(d->src_free, sizeof d->src_free, "cuMemGetInfo in trit's context (%zu "
		         "bytes) + what that context costs (mem.overhead, %llu bytes): the memory "
		         "free before trit used the device", free_b, (unsigned long long)d->overhead);
		d->pub.mem_free = derived((uint64_t)free_b + d->overhead, d->src_free);
	} else {
		snprintf(d->src_free, sizeof d->src_free, "cuMemGetInfo in trit's context (what "
		         "that context costs is already taken off)");
		d->pub.mem_free = measured(free_b, d->src_free);
	}
	if (d->pub.mem_total.state && d->pub.mem_free.value > d->pub.mem_total.value)
		d->pub.mem_free.value = d->pub.mem_total.value;
}

static void set_kernels_none(struct cuda_dev *d, const char *fmt, ...) TRIT_PRINTF(2, 3);
static void set_kernels_none(struct cuda_dev *d, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(d->kernels_text, sizeof d->kernels_text, "none: %s", why);
}

/* d->pub and d->props from the measurements. */
static void describe(struct cuda_state *s, struct cuda_dev *d, const struct attrs *a,
                     size_t total, size_t free1)
{
	struct trit_device *p = &d->pub;
	struct trit_property *pr = d->props;
	const struct cuda_driver *drv = &s->drv;

	p->struct_size = sizeof *p;
	p->kind = TRIT_DEVICE_GPU;
	p->id = d->id;
	p->name = d->name;
	p->vendor = "NVIDIA";
	snprintf(d->src_total, sizeof d->src_total, "cuDeviceTotalMem");
	p->mem_total = measured(total, d->src_total);
	set_free(d, free1);
	if (a->memclock_ok && a->bus_ok) {
		snprintf(d->src_bw, sizeof d->src_bw, "2 x %d kHz memory clock x %d-bit bus / 8 "
		         "(cuDeviceGetAttribute MEMORY_CLOCK_RATE, GLOBAL_MEMORY_BUS_WIDTH): the "
		         "theoretical peak, not a measured rate", a->memclock, a->bus);
		p->mem_bandwidth = derived(2ull * (uint64_t)a->memclock * 1000 * (uint64_t)a->bus / 8,
		                           d->src_bw);
	} else {
		snprintf(d->src_bw, sizeof d->src_bw, "unknown: %s",
		         !a->memclock_ok ? d->src_memclock : d->src_bus);
		p->mem_bandwidth = unknown(d->src_bw);
	}
	p->compute_units = a->sms_ok ? measured((uint64_t)a->sms, "cuDeviceGetAttribute "
	                                        "MULTIPROCESSOR_COUNT") : unknown(d->src_cu);
	p->hw_threads = unknown("a GPU: its parallel units are compute_units (multiprocessors)");
	p->clock_hz = a->clock_ok ? measured((uint64_t)a->clock * 1000, "cuDeviceGetAttribute "
	                                     "CLOCK_RATE (peak, kHz x 1000)") : unknown(d->src_clock);
	if (a->cc_ok) {
		snprintf(d->src_cc, sizeof d->src_cc, "cuDeviceGetAttribute COMPUTE_CAPABILITY_MAJOR "
		         "and _MINOR (%d.%d)", a->major, a->minor);
		p->compute_capability = measured((uint64_t)(a->major * 10 + a->minor), d->src_cc);
	} else {
		p->compute_capability = unknown(d->src_cc);
	}
	if (a->cc_ok && a->major * 10 + a->minor >= 53)
		p->caps |= TRIT_CAP_FP16;
	if (a->cc_ok && a->major >= 8)
		p->caps |= TRIT_CAP_BF16;
	if (a->pageable > 0)
		p->caps |= TRIT_CAP_UNIFIED_MEM;
	if (a->integrated > 0)
		p->caps |= TRIT_CAP_INTEGRATED;
	if (d->has_kernels)
		p->matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
		                  TRIT_TYPE_BIT(TRIT_TYPE_TL2);

	/* an integrated GPU draws on the host's memory, a discrete one on its own */
	if (a->pci_ok)
		snprintf(d->pci, sizeof d->pci, "%04x:%02x:%02x.0", (unsigned)a->dom & 0xffffu,
		         (unsigned)a->pbus & 0xffu, (unsigned)a->pdev & 0xffu);
	else
		snprintf(d->pci, sizeof d->pci, "unknown");
	if (a->integrated > 0)
		snprintf(d->pool, sizeof d->pool, "host");
	else if (a->pci_ok)
		/* the same key the opencl backend gives this card: one memory, not two */
		snprintf(d->pool, sizeof d->pool, "pci:%s", d->pci);
	else
		snprintf(d->pool, sizeof d->pool, "cuda:%d", d->ordinal);
	pr[CUDA_PROP_POOL] = (struct trit_property){ .key = "mem.pool", .text = d->pool };
	pr[CUDA_PROP_OVERHEAD] = (struct trit_property){
		.key = "mem.overhead", .unit = "bytes",
		.value = d->overhead_known ? measured(d->overhead, d->src_overhead) :
		                             unknown(d->src_overhead),
	};
	if (drv->version)
		snprintf(d->driver_text, sizeof d->driver_text, "%d.%d", drv->version / 1000,
		         drv->version % 1000 / 10);
	else
		snprintf(d->driver_text, sizeof d->driver_text, "unknown");
	pr[CUDA_PROP_DRIVER] = (struct trit_property){ .key = "cuda.driver_version",
	                                               .text = d->driver_text };
	snprintf(d->library_text, sizeof d->library_text, "%s (%s)", drv->path, drv->origin);
	pr[CUDA_PROP_LIBRARY] = (struct trit_property){ .key = "cuda.driver_library",
	                                                .text = d->library_text };
	pr[CUDA_PROP_PCI] = (struct trit_property){ .key = "pci.bus_id", .text = d->pci };
	pr[CUDA_PROP_MEMCLOCK] = (struct trit_property){
		.key = "mem.clock", .unit = "hz",
		.value = a->memclock_ok ? measured((uint64_t)a->memclock * 1000, "cuDeviceGetAttribute "
		                                   "MEMORY_CLOCK_RATE (peak, kHz x 1000)") :
		                          unknown(d->src_memclock),
	};
	pr[CUDA_PROP_BUSWIDTH] = (struct trit_property){
		.key = "mem.bus_width", .unit = "count",
		.value = a->bus_ok ? measured((uint64_t)a->bus, "cuDeviceGetAttribute "
		                              "GLOBAL_MEMORY_BUS_WIDTH (bits)") : unknown(d->src_bus),
	};
	/* the last-level cache, which sizes trit bench's working set */
	pr[CUDA_PROP_L2] = (struct trit_property){
		.key = "cache.l2", .unit = "bytes",
		.value = a->l2_ok ? measured((uint64_t)a->l2, "cuDeviceGetAttribute L2_CACHE_SIZE") :
		                    unknown(d->src_l2),
	};
	pr[CUDA_PROP_KERNELS] = (struct trit_property){ .key = "kernels", .text = d->kernels_text };
	p->props = d->props;
	p->n_props = CUDA_PROP_COUNT;
}

/* Load the kernels into d's context, or say in d->kernels_text why not. */
static void load_kernels(struct cuda_state *s, struct cuda_dev *d, const struct attrs *a)
{
	size_t bytes = 0;
	const char *why = NULL, *failed = NULL;
	const unsigned char *image = cuda_kernel_image(&bytes, &why);
	char text[256];
	CUresult r;

	if (!image) {
		set_kernels_none(d, "%s", why);
	} else if ((r = load_module(s, image, &d->mod, d->fn, &failed)) != CUDA_SUCCESS) {
		set_kernels_none(d, "%s failed: %s (the kernels are built for %s; this device is "
		                 "sm_%d%d)", failed, cuda_error_text(&s->drv, r, text, sizeof text),
		                 TRIT_CUDA_ARCHS_TEXT, a->major, a->minor);
		trit_host_logf(s->host, TRIT_LOG_WARN, "%s (%s): kernels not available: %s", d->id,
		               d->name, d->kernels_text + strlen("none: "));
	} else {
		d->has_kernels = 1;
		snprintf(d->kernels_text, sizeof d->kernels_text, "I2_S TL1 TL2 (GEMV and GEMM) "
		         "and the graph ops; image built for %s", TRIT_CUDA_ARCHS_TEXT);
	}
}

/* Measure device `ordinal` into d. On failure returns a trit_result with the
 * reason in why, and d holds nothing to release. */
static int probe_device(struct cuda_state *s, int ordinal, struct cuda_dev *d, char *why,
                        size_t whylen)
{
	struct cuda_driver *drv = &s->drv;
	struct attrs a = { 0 };
	size_t total = 0, free1 = 0, bytes;
	const char *image_why;
	int rc;
	CUresult r;

	d->ordinal = ordinal;
	snprintf(d->id, sizeof d->id, "cuda%d", ordinal);
	if ((r = drv->DeviceGet(&d->dev, ordinal)) != CUDA_SUCCESS)
		return cuda_fail(drv, r, why, whylen, "cuDeviceGet(%d)", ordinal);
	if ((r = drv->DeviceGetName(d->name, (int)sizeof d->name, d->dev)) != CUDA_SUCCESS)
		return cuda_fail(drv, r, why, whylen, "cuDeviceGetName(%s)", d->id);
	d->name[sizeof d->name - 1] = '\0';
	if ((r = drv->DeviceTotalMem(&total, d->dev)) != CUDA_SUCCESS)
		return cuda_fail(drv, r, why, whylen, "cuDeviceTotalMem(%s)", d->id);
	read_attrs(s, d, &a);

	/* trit's context on this device, kept until shutdown */
	if ((r = drv->CtxCreate(&d->ctx, 0, d->dev)) != CUDA_SUCCESS) {
		d->ctx = NULL;
		return cuda_fail(drv, r, why, whylen, "cuCtxCreate on %s (%s)", d->id, d->name);
	}
	load_kernels(s, d, &a);
	if ((r = mem_free(s, &free1)) != CUDA_SUCCESS) {
		rc = cuda_fail(drv, r, why, whylen, "cuMemGetInfo on %s (%s)", d->id, d->name);
		if (d->mod)
			drv->ModuleUnload(d->mod);
		drv->CtxDestroy(d->ctx);
		d->mod = NULL;
		d->ctx = NULL;
		return rc;
	}
	measure_overhead(s, d, free1, cuda_kernel_image(&bytes, &image_why));
	describe(s, d, &a, total, free1);
	return 0;
}

static void release_device(struct cuda_state *s, struct cuda_dev *d)
{
	if (!d->ctx)
		return;
	s->drv.CtxSetCurrent(d->ctx);
	cuda_graph_release(s, d);
	if (d->mod)
		s->drv.ModuleUnload(d->mod);
	s->drv.CtxDestroy(d->ctx);
	d->mod = NULL;
	d->ctx = NULL;
}

void cuda_shutdown(void *state)
{
	struct cuda_state *s = state;

	if (!s)
		return;
	for (uint32_t i = 0; i < s->n_devs; i++)
		release_device(s, &s->devs[i]);
	free(s->devs);
	free(s);
}

int cuda_init(const struct trit_host *host, void **state, char *err, size_t errlen)
{
	struct cuda_state *s = calloc(1, sizeof *s);
	struct cuda_options o;
	char text[256], first[1024] = "";
	int rc, count = 0, first_rc = 0;
	CUresult r;

	*state = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return TRIT_ENOMEM;
	}
	s->host = host;
	if ((rc = cuda_options_read(host, &o, err, errlen)) ||
	    (rc = cuda_driver_open(&s->drv, o.driver, o.origin, err, errlen))) {
		free(s);
		return rc;
	}
	r = s->drv.Init(0);
	if (r == CUDA_ERROR_NO_DEVICE) {
		trit_host_logf(host, TRIT_LOG_INFO, "the CUDA driver %s reports no device (cuInit: %s)",
		               s->drv.path, cuda_error_text(&s->drv, r, text, sizeof text));
		*state = s;
		return 0;
	}
	if (r != CUDA_SUCCESS) {
		snprintf(err, errlen, "the CUDA driver %s (%s) failed to initialise: cuInit: %s",
		         s->drv.path, s->drv.origin, cuda_error_text(&s->drv, r, text, sizeof text));
		free(s);
		return TRIT_ENODEV;
	}
	if (s->drv.DriverGetVersion(&s->drv.version) != CUDA_SUCCESS)
		s->drv.version = 0;
	if ((r = s->drv.DeviceGetCount(&count)) != CUDA_SUCCESS) {
		rc = cuda_fail(&s->drv, r, err, errlen, "cuDeviceGetCount (driver %s)", s->drv.path);
		free(s);
		return rc;
	}
	if (count <= 0) {
		trit_host_logf(host, TRIT_LOG_INFO, "the CUDA driver %s reports no device", s->drv.path);
		*state = s;
		return 0;
	}
	s->devs = calloc((size_t)count, sizeof *s->devs);
	if (!s->devs) {
		free(s);
		snprintf(err, errlen, "out of memory describing %d CUDA devices", count);
		return TRIT_ENOMEM;
	}
	for (int i = 0; i < count; i++) {
		char why[1024] = "";
		struct cuda_dev *d = &s->devs[s->n_devs];
		rc = probe_device(s, i, d, why, sizeof why);
		if (rc == 0) {
			s->n_devs++;
			continue;
		}
		trit_host_logf(host, TRIT_LOG_WARN, "CUDA device %d is not used: %s", i, why);
		if (!first_rc) {
			first_rc = rc;
			snprintf(first, sizeof first, "%s", why);
		}
		memset(d, 0, sizeof *d);
	}
	if (s->n_devs == 0) {
		snprintf(err, errlen, "none of the %d CUDA device%s could be used; the first failure: %s",
		         count, count == 1 ? "" : "s", first);
		cuda_shutdown(s);
		return first_rc;
	}
	*state = s;
	return 0;
}

uint32_t cuda_device_count(void *state)
{
	struct cuda_state *s = state;
	return s ? s->n_devs : 0;
}

const struct trit_device *cuda_device_get(void *state, uint32_t index)
{
	struct cuda_state *s = state;
	return s && index < s->n_devs ? &s->devs[index].pub : NULL;
}

int cuda_use(struct cuda_state *s, uint32_t index, char *err, size_t errlen)
{
	CUresult r;

	if (index >= s->n_devs) {
		snprintf(err, errlen, "the cuda backend has %u device%s; there is no device %u",
		         s->n_devs, s->n_devs == 1 ? "" : "s", index);
		return TRIT_EINVAL;
	}
	if ((r = s->drv.CtxSetCurrent(s->devs[index].ctx)) != CUDA_SUCCESS)
		return cuda_fail(&s->drv, r, err, errlen, "cuCtxSetCurrent on %s (%s)",
		                 s->devs[index].id, s->devs[index].name);
	return 0;
}

int cuda_device_update(void *state, uint32_t index, char *err, size_t errlen)
{
	struct cuda_state *s = state;
	size_t free_b = 0;
	CUresult r;
	int rc = cuda_use(s, index, err, errlen);

	if (rc)
		return rc;
	if ((r = mem_free(s, &free_b)) != CUDA_SUCCESS)
		return cuda_fail(&s->drv, r, err, errlen, "cuMemGetInfo on %s (%s)",
		                 s->devs[index].id, s->devs[index].name);
	set_free(&s->devs[index], free_b);
	return 0;
}
