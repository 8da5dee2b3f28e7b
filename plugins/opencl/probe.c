/*
 * probe.c - find the OpenCL devices through the ICD loader and measure what
 * OpenCL tells about them: name, vendor, type, global memory, largest
 * allocation, compute units, clock, and free memory where the vendor has a
 * query for it (AMD's cl_amd_device_attribute_query). What OpenCL cannot
 * tell is unknown with the reason. Each device gets its own context and
 * in-order queue; the kernels are program.c's business.
 */
#include <build-config.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl.h"

/* Vendor queries, defined here so older headers still build. */
#define OCL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV 0x4000
#define OCL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV 0x4001
#define OCL_DEVICE_INTEGRATED_MEMORY_NV 0x4006
#define OCL_DEVICE_PCI_BUS_ID_NV 0x4008
#define OCL_DEVICE_PCI_SLOT_ID_NV 0x4009
#define OCL_DEVICE_PCI_DOMAIN_ID_NV 0x400A
#define OCL_DEVICE_BOARD_NAME_AMD 0x4038
#define OCL_DEVICE_GLOBAL_FREE_MEMORY_AMD 0x4039
#define OCL_DEVICE_PCI_BUS_INFO_KHR 0x410F
#define OCL_PLATFORM_NOT_FOUND_KHR (-1001)

typedef unsigned long long ull;

struct pci_bus_info { /* cl_device_pci_bus_info_khr */
	cl_uint domain, bus, device, function;
};

static int has_ext(const char *exts, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = exts; p && (p = strstr(p, name)) != NULL; p += n)
		if ((p == exts || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/* A device string into the pool; NULL when the query fails. */
static const char *dev_string(cl_device_id dev, cl_device_info what, struct ocl_pool *pool)
{
	size_t n = 0;
	char *buf;
	const char *s;

	if (clGetDeviceInfo(dev, what, 0, NULL, &n) != CL_SUCCESS || n == 0 || n > (1u << 20))
		return NULL;
	if (!(buf = calloc(1, n + 1)))
		return NULL;
	if (clGetDeviceInfo(dev, what, n, buf, NULL) != CL_SUCCESS) {
		free(buf);
		return NULL;
	}
	/* trim the blanks some drivers pad names with */
	while (n > 0 && (buf[n - 1] == '\0' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	s = buf;
	while (*s == ' ')
		s++;
	s = ocl_pool_printf(pool, "%s", s);
	free(buf);
	return s;
}

static const char *plat_string(cl_platform_id p, cl_platform_info what, struct ocl_pool *pool)
{
	size_t n = 0;
	char *buf;
	const char *s;

	if (clGetPlatformInfo(p, what, 0, NULL, &n) != CL_SUCCESS || n == 0 || n > (1u << 20))
		return NULL;
	if (!(buf = calloc(1, n + 1)))
		return NULL;
	if (clGetPlatformInfo(p, what, n, buf, NULL) != CL_SUCCESS) {
		free(buf);
		return NULL;
	}
	s = ocl_pool_printf(pool, "%s", buf);
	free(buf);
	return s;
}

/* Fixed-size device queries; return 0 on success. The size must match. */
static int dev_info(cl_device_id dev, cl_device_info what, void *out, size_t size)
{
	size_t got = 0;
	if (clGetDeviceInfo(dev, what, size, out, &got) != CL_SUCCESS || got != size)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Memory.                                                                   */

/* [plugin.opencl] memory: the budget is the total, and what this plugin's
 * live buffers leave of it is free. */
static void budget_memory(struct ocl_state *st, struct ocl_device *d)
{
	struct ocl_pool *pool = &d->mem_pool;
	uint64_t free_bytes, total;

	ocl_budget(st, (uint32_t)(d - st->devs), &free_bytes, &total);
	d->dev.mem_total = ocl_configured(total, ocl_pool_printf(pool,
		"[plugin.opencl] memory = %s (%s), a budget in place of the device's %llu "
		"bytes (CL_DEVICE_GLOBAL_MEM_SIZE)", st->opt.memory_text, st->opt.memory_where,
		(unsigned long long)d->f.mem_total));
	d->dev.mem_free = ocl_derived(free_bytes, ocl_pool_printf(pool,
		"the memory budget ([plugin.opencl] memory = %s, %s) less the %llu bytes of "
		"buffers this plugin has allocated on the device", st->opt.memory_text,
		st->opt.memory_where, (unsigned long long)(total - free_bytes)));
}

void ocl_probe_memory(struct ocl_state *st, struct ocl_device *d)
{
	struct ocl_pool *pool = &d->mem_pool;

	if (st->opt.memory) {
		budget_memory(st, d);
	} else if (d->amd_free && !d->live) {
		d->dev.mem_free = ocl_unknown("not measured yet: the device was described from the "
			"probe cache, and OpenCL is brought up at its first use (or device_update)");
	} else if (d->amd_free) {
		/* size_t[2] in KiB: free memory in total, and the largest free block */
		size_t kib[2] = { 0, 0 }, got = 0;
		cl_int e = clGetDeviceInfo(d->id, OCL_DEVICE_GLOBAL_FREE_MEMORY_AMD, sizeof kib, kib,
		                           &got);
		char ebuf[64];
		if (e == CL_SUCCESS && got >= sizeof kib[0] && kib[0] <= UINT64_MAX / 1024)
			d->dev.mem_free = ocl_measured((uint64_t)kib[0] * 1024,
				"CL_DEVICE_GLOBAL_FREE_MEMORY_AMD (cl_amd_device_attribute_query, KiB)");
		else
			d->dev.mem_free = ocl_unknown(ocl_pool_printf(pool,
				"CL_DEVICE_GLOBAL_FREE_MEMORY_AMD failed: %s",
				ocl_strerror(e, ebuf, sizeof ebuf)));
	} else if (d->type & CL_DEVICE_TYPE_CPU) {
		d->dev.mem_free = ocl_unknown("a CPU device shares host memory (mem.pool = host); "
			"OpenCL has no free-memory query, and the host's free memory is what the "
			"CPU backend measures");
	} else if (d->nv_attrs) {
		d->dev.mem_free = ocl_unknown("NVIDIA's OpenCL has no free-memory query "
			"(cl_nv_device_attribute_query gives compute capability, registers, warp "
			"size and PCI location only); the cuda backend measures free memory");
	} else {
		d->dev.mem_free = ocl_unknown(ocl_pool_printf(pool,
			"OpenCL has no free-memory query and '%s' offers no vendor extension for "
			"it (trit reads cl_amd_device_attribute_query)",
			d->platform_name ? d->platform_name : "this platform"));
	}
}

/* ------------------------------------------------------------------------ */
/* One device.                                                               */

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

/* Ask the driver for the static facts about device d->id (everything the
 * description is made of but free memory) into d->f; strings into the pool.
 * The probe cache stores these facts, so that ocl_describe can rebuild the
 * same description later without OpenCL. */
void ocl_query_facts(struct ocl_state *st, struct ocl_device *d)
{
	struct ocl_pool *pool = &st->pool;
	struct ocl_facts *f = &d->f;
	cl_uint u = 0;
	cl_ulong ul = 0;
	cl_bool b = CL_FALSE;
	cl_device_fp_config fp = 0;
	size_t wg = 0;
	const char *exts;
	char id[32];

	memset(f, 0, sizeof *f);
	f->name = dev_string(d->id, CL_DEVICE_NAME, pool);
	exts = dev_string(d->id, CL_DEVICE_EXTENSIONS, pool);
	f->amd_free = has_ext(exts, "cl_amd_device_attribute_query");
	f->nv_attrs = has_ext(exts, "cl_nv_device_attribute_query");
	f->fp16 = has_ext(exts, "cl_khr_fp16");
	if (f->amd_free)
		f->board = dev_string(d->id, OCL_DEVICE_BOARD_NAME_AMD, pool);
	f->vendor = dev_string(d->id, CL_DEVICE_VENDOR, pool);
	f->device_version = dev_string(d->id, CL_DEVICE_VERSION, pool);
	f->driver_version = dev_string(d->id, CL_DRIVER_VERSION, pool);
	if (dev_info(d->id, CL_DEVICE_TYPE, &f->type, sizeof f->type) != 0)
		f->type = CL_DEVICE_TYPE_DEFAULT;
	if (dev_info(d->id, CL_DEVICE_MAX_COMPUTE_UNITS, &u, sizeof u) == 0)
		f->compute_units = u;
	u = 0;
	if (dev_info(d->id, CL_DEVICE_MAX_CLOCK_FREQUENCY, &u, sizeof u) == 0)
		f->clock_mhz = u;
	if (dev_info(d->id, CL_DEVICE_GLOBAL_MEM_SIZE, &ul, sizeof ul) == 0)
		f->mem_total = ul;
	if (f->nv_attrs) {
		cl_uint major = 0, minor = 0;
		if (dev_info(d->id, OCL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV, &major, sizeof major) == 0 &&
		    dev_info(d->id, OCL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV, &minor, sizeof minor) == 0) {
			f->cc_ok = 1;
			f->cc = (uint64_t)major * 10 + minor;
		}
	}
	ul = 0;
	if (dev_info(d->id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, &ul, sizeof ul) == 0)
		f->max_alloc = ul;
	if (dev_info(d->id, CL_DEVICE_MAX_WORK_GROUP_SIZE, &wg, sizeof wg) != 0 || wg == 0)
		wg = 1;
	f->max_wg = wg;
	f->little_endian = dev_info(d->id, CL_DEVICE_ENDIAN_LITTLE, &b, sizeof b) == 0 && b;
	b = CL_FALSE;
	f->compiler = dev_info(d->id, CL_DEVICE_COMPILER_AVAILABLE, &b, sizeof b) == 0 && b;
	b = CL_FALSE;
	f->host_unified = dev_info(d->id, CL_DEVICE_HOST_UNIFIED_MEMORY, &b, sizeof b) == 0 && b;
	if (f->nv_attrs) {
		b = CL_FALSE;
		if (dev_info(d->id, OCL_DEVICE_INTEGRATED_MEMORY_NV, &b, sizeof b) == 0 && b)
			f->host_unified = 1;
	}
	if (dev_info(d->id, CL_DEVICE_SINGLE_FP_CONFIG, &fp, sizeof fp) != 0)
		fp = 0;
	f->crdiv = (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
	fp = 0;
	f->fp64 = dev_info(d->id, CL_DEVICE_DOUBLE_FP_CONFIG, &fp, sizeof fp) == 0 && fp != 0;

	/* Which physical memory the device draws on: the host's for a CPU device
	 * or one that shares host memory; otherwise the card, named by its PCI
	 * location when the driver gives it (so that the same card seen through
	 * another backend can be recognised), else by this backend's id. */
	snprintf(id, sizeof id, "p%ud%u", (unsigned)d->platform_index, (unsigned)d->device_index);
	if ((f->type & CL_DEVICE_TYPE_CPU) || f->host_unified) {
		f->pool_text = "host";
	} else {
		struct pci_bus_info pci;
		cl_uint bus = 0, slot = 0, domain = 0;
		if (has_ext(exts, "cl_khr_pci_bus_info") &&
		    dev_info(d->id, OCL_DEVICE_PCI_BUS_INFO_KHR, &pci, sizeof pci) == 0)
			f->pool_text = ocl_pool_printf(pool, "pci:%04x:%02x:%02x.%x", pci.domain,
			                               pci.bus, pci.device, pci.function);
		else if (f->nv_attrs &&
		         dev_info(d->id, OCL_DEVICE_PCI_BUS_ID_NV, &bus, sizeof bus) == 0 &&
		         dev_info(d->id, OCL_DEVICE_PCI_SLOT_ID_NV, &slot, sizeof slot) == 0 &&
		         dev_info(d->id, OCL_DEVICE_PCI_DOMAIN_ID_NV, &domain, sizeof domain) == 0)
			/* the slot id is device << 3 | function; without the domain
			 * (older drivers) the location is ambiguous, so not used */
			f->pool_text = ocl_pool_printf(pool, "pci:%04x:%02x:%02x.%x", domain,
			                               bus & 0xff, (slot >> 3) & 0xff, slot & 7);
		else
			f->pool_text = ocl_pool_printf(pool, "opencl.%s", id);
	}
	ul = 0;
	if (dev_info(d->id, CL_DEVICE_LOCAL_MEM_SIZE, &ul, sizeof ul) == 0)
		f->local_mem = ul;
	ul = 0;
	if (dev_info(d->id, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, &ul, sizeof ul) == 0)
		f->global_mem_cache = ul;
}

/* The static part of the description (everything but memory free and the
 * kernels) from d->f, d->platform_name and d->platform_version, calling no
 * OpenCL function: the same facts give the same description. */
void ocl_describe(struct ocl_state *st, struct ocl_device *d, const char *id)
{
	struct ocl_pool *pool = &st->pool;
	const struct ocl_facts *f = &d->f;
	struct trit_device *t = &d->dev;

	t->struct_size = sizeof *t;
	t->id = id;
	d->amd_free = f->amd_free;
	d->nv_attrs = f->nv_attrs;
	t->name = f->board && *f->board ? f->board
	        : f->name ? f->name : "OpenCL device (no name given)";
	t->vendor = f->vendor;
	d->device_version = f->device_version;
	d->driver_version = f->driver_version;
	d->type = (cl_device_type)f->type;
	t->kind = d->type & CL_DEVICE_TYPE_GPU   ? TRIT_DEVICE_GPU
	        : d->type & CL_DEVICE_TYPE_CPU   ? TRIT_DEVICE_CPU
	                                         : TRIT_DEVICE_ACCELERATOR;

	if (f->compute_units)
		t->compute_units = ocl_measured(f->compute_units, d->type & CL_DEVICE_TYPE_CPU
			? "CL_DEVICE_MAX_COMPUTE_UNITS (for a CPU device, the runtime's worker "
			  "threads, usually the logical processors)"
			: "CL_DEVICE_MAX_COMPUTE_UNITS");
	else
		t->compute_units = ocl_unknown("the driver did not answer CL_DEVICE_MAX_COMPUTE_UNITS");
	t->hw_threads = ocl_unknown(d->type & CL_DEVICE_TYPE_CPU
		? "OpenCL does not report the hardware threads a process may use; the CPU "
		  "backend measures them"
		: "not a CPU");
	if (f->clock_mhz)
		t->clock_hz = ocl_measured(f->clock_mhz * 1000000u,
		                           "CL_DEVICE_MAX_CLOCK_FREQUENCY (MHz)");
	else
		t->clock_hz = ocl_unknown("the driver reports no CL_DEVICE_MAX_CLOCK_FREQUENCY");
	t->mem_bandwidth = ocl_unknown("OpenCL reports no memory bandwidth and the opencl "
	                               "backend does not measure it");

	t->compute_capability = ocl_unknown("not an NVIDIA device (no "
	                                    "cl_nv_device_attribute_query)");
	if (d->nv_attrs)
		t->compute_capability = f->cc_ok
			? ocl_measured(f->cc, "CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV / _MINOR_NV")
			: ocl_unknown("cl_nv_device_attribute_query did not answer the compute "
			              "capability");
	if (f->mem_total)
		t->mem_total = ocl_measured(f->mem_total, d->type & CL_DEVICE_TYPE_CPU
			? "CL_DEVICE_GLOBAL_MEM_SIZE (a CPU device: the OpenCL runtime's share "
			  "of host memory)"
			: "CL_DEVICE_GLOBAL_MEM_SIZE");
	else
		t->mem_total = ocl_unknown("the driver did not answer CL_DEVICE_GLOBAL_MEM_SIZE");

	d->max_alloc = f->max_alloc;
	d->max_wg = f->max_wg ? (size_t)f->max_wg : 1;
	d->little_endian = f->little_endian;
	d->compiler = f->compiler;
	d->host_unified = f->host_unified;
	d->crdiv = f->crdiv;
	d->fp64 = f->fp64;

	t->caps = 0;
	if (f->fp16)
		t->caps |= TRIT_CAP_FP16;
	if (d->host_unified || (d->type & CL_DEVICE_TYPE_CPU))
		t->caps |= TRIT_CAP_UNIFIED_MEM | TRIT_CAP_INTEGRATED;

	/* the static properties after mem.pool; ocl_device_assemble adds the rest */
	prop_text(&d->props[0], "mem.pool", f->pool_text, ocl_measured(0,
		(d->type & CL_DEVICE_TYPE_CPU) ? "a CPU device: host memory"
		: d->host_unified ? "CL_DEVICE_HOST_UNIFIED_MEMORY: shares host memory"
		                  : "the device's own memory"));
	prop_text(&d->props[1], "opencl.platform",
	          ocl_pool_printf(pool, "%s (%s)", d->platform_name ? d->platform_name : "?",
	                          d->platform_version ? d->platform_version : "?"),
	          ocl_measured(0, "CL_PLATFORM_NAME, CL_PLATFORM_VERSION"));
	prop_text(&d->props[2], "opencl.device_version", d->device_version,
	          d->device_version ? ocl_measured(0, "CL_DEVICE_VERSION")
	                            : ocl_unknown("CL_DEVICE_VERSION not answered"));
	prop_text(&d->props[3], "opencl.driver_version", d->driver_version,
	          d->driver_version ? ocl_measured(0, "CL_DRIVER_VERSION")
	                            : ocl_unknown("CL_DRIVER_VERSION not answered"));
	prop_value(&d->props[4], "opencl.max_alloc", "bytes", f->max_alloc
	           ? ocl_measured(f->max_alloc, "CL_DEVICE_MAX_MEM_ALLOC_SIZE: the largest buffer")
	           : ocl_unknown("CL_DEVICE_MAX_MEM_ALLOC_SIZE not answered"));
	prop_value(&d->props[5], "opencl.local_mem", "bytes", f->local_mem
	           ? ocl_measured(f->local_mem, "CL_DEVICE_LOCAL_MEM_SIZE")
	           : ocl_unknown("CL_DEVICE_LOCAL_MEM_SIZE not answered"));
	prop_value(&d->props[6], "opencl.global_mem_cache", "bytes", f->global_mem_cache
	           ? ocl_measured(f->global_mem_cache, "CL_DEVICE_GLOBAL_MEM_CACHE_SIZE")
	           : ocl_unknown("the driver reports no global memory cache"));
	prop_value(&d->props[7], "opencl.max_work_group", "count",
	           ocl_measured(d->max_wg, "CL_DEVICE_MAX_WORK_GROUP_SIZE"));
	prop_text(&d->props[8], "opencl.fp32_divide", d->crdiv ? "correctly rounded" : "approximate",
	          ocl_measured(0, "CL_DEVICE_SINGLE_FP_CONFIG & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT"));
}

/* The per-call properties: kernels and free memory. */
void ocl_device_assemble(struct ocl_state *st, struct ocl_device *d)
{
	struct trit_property *p = &d->props[9];

	prop_text(p++, "opencl.kernels", d->kernels_text, d->kernels_src);
	prop_text(p++, "opencl.program", d->program_text,
	          d->program_text ? d->kernels_src : ocl_unknown("no program: opencl.kernels says why"));
	d->dev.props = d->props;
	d->dev.n_props = (uint32_t)(p - d->props);
	(void)st;
}

/* ------------------------------------------------------------------------ */
/* Enumeration.                                                              */

static const char *type_name(cl_device_type t)
{
	return t == CL_DEVICE_TYPE_GPU ? "GPU" : t == CL_DEVICE_TYPE_CPU ? "CPU"
	     : t == CL_DEVICE_TYPE_ACCELERATOR ? "accelerator" : "";
}

/* Append a sentence to the reasons buffer. */
static void why_add(char *buf, size_t len, const char *fmt, ...) TRIT_PRINTF(3, 4);
static void why_add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	if (used + 3 >= len)
		return;
	if (used) {
		strcpy(buf + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* Context and queue for one device; 0, or an OpenCL error. */
static cl_int open_device(struct ocl_device *d)
{
	cl_context_properties props[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)d->platform,
	                                  0 };
	cl_int e = CL_SUCCESS;

	d->ctx = clCreateContext(props, 1, &d->id, NULL, NULL, &e);
	if (!d->ctx || e != CL_SUCCESS)
		return e != CL_SUCCESS ? e : CL_OUT_OF_HOST_MEMORY;
	d->queue = clCreateCommandQueue(d->ctx, d->id, 0, &e);
	if (!d->queue || e != CL_SUCCESS) {
		clReleaseContext(d->ctx);
		d->ctx = NULL;
		return e != CL_SUCCESS ? e : CL_OUT_OF_HOST_MEMORY;
	}
	return CL_SUCCESS;
}

void ocl_device_release(struct ocl_device *d)
{
	ocl_ops_release(&d->ops);
	d->have_ops = 0;
	ocl_kernels_release(&d->k);
	if (d->queue)
		clReleaseCommandQueue(d->queue);
	if (d->ctx)
		clReleaseContext(d->ctx);
	d->queue = NULL;
	d->ctx = NULL;
	ocl_pool_free(&d->mem_pool);
}

/*
 * Keep the ICD loader in memory for the rest of the process. It holds its
 * list of vendor drivers in memory it never frees, and the drivers it loaded
 * run threads; if the runtime unloaded this plugin and the loader went with
 * it, that memory would become unreachable (a leak to LeakSanitizer and
 * valgrind) and the threads could outlive their code. A program linked with
 * -lOpenCL gets this anyway.
 */
static void pin_icd_loader(const struct trit_host *h)
{
	Dl_info info;
	union {
		cl_int (*fn)(cl_uint, cl_platform_id *, cl_uint *);
		void *p;
	} sym;

	sym.fn = clGetPlatformIDs;
	if (!dladdr(sym.p, &info) || !info.dli_fname) {
		trit_host_logf(h, TRIT_LOG_DEBUG, "cannot tell which library holds clGetPlatformIDs; "
		               "the ICD loader is not pinned");
		return;
	}
	/* the handle is kept on purpose: the library stays loaded */
	if (!dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE))
		trit_host_logf(h, TRIT_LOG_DEBUG, "cannot pin the ICD loader %s: %s", info.dli_fname,
		               dlerror());
}

int ocl_probe(struct ocl_state *st, char *err, size_t errlen)
{
	const struct trit_host *h = &st->host;
	cl_platform_id *plats = NULL;
	cl_uint np = 0, cap = 0;
	cl_int e;
	char ebuf[64], why[1024] = "";
	const char *vendors = NULL;

#ifdef HAVE_SECURE_GETENV
	vendors = secure_getenv("OCL_ICD_VENDORS");
#else
	vendors = getenv("OCL_ICD_VENDORS");
#endif
	pin_icd_loader(h);
	e = clGetPlatformIDs(0, NULL, &np);
	if (e == OCL_PLATFORM_NOT_FOUND_KHR || (e == CL_SUCCESS && np == 0))
		return ocl_errf(err, errlen, TRIT_ENODEV,
		                "the OpenCL ICD loader found no platform: no vendor driver listed "
		                "in %s%s could be loaded (none is listed, or its library is missing "
		                "or broken; OCL_ICD_DEBUG=15 makes the loader say which). Install "
		                "one, e.g. pocl-opencl-icd, or the GPU vendor's OpenCL ICD",
		                vendors ? "OCL_ICD_VENDORS=" : "/etc/OpenCL/vendors",
		                vendors ? vendors : "");
	if (e != CL_SUCCESS)
		return ocl_errf(err, errlen, ocl_result(e) == TRIT_ENOMEM ? TRIT_ENOMEM : TRIT_ENODEV,
		                "clGetPlatformIDs failed: %s", ocl_strerror(e, ebuf, sizeof ebuf));
	if (np > 64)
		np = 64;
	if (!(plats = calloc(np, sizeof *plats)))
		return ocl_errf(err, errlen, TRIT_ENOMEM, "out of memory listing OpenCL platforms");
	if ((e = clGetPlatformIDs(np, plats, &np)) != CL_SUCCESS) {
		free(plats);
		return ocl_errf(err, errlen, TRIT_ENODEV, "clGetPlatformIDs failed: %s",
		                ocl_strerror(e, ebuf, sizeof ebuf));
	}

	for (cl_uint p = 0; p < np; p++) {
		const char *pname = plat_string(plats[p], CL_PLATFORM_NAME, &st->pool);
		const char *pver = plat_string(plats[p], CL_PLATFORM_VERSION, &st->pool);
		cl_device_id *ids;
		cl_uint nd = 0;

		if (!pname)
			pname = "(unnamed platform)";
		e = clGetDeviceIDs(plats[p], st->opt.device_type, 0, NULL, &nd);
		if (e == CL_DEVICE_NOT_FOUND || (e == CL_SUCCESS && nd == 0)) {
			why_add(why, sizeof why, "platform %u '%s' has no %s%sdevice%s%s%s", p, pname,
			        type_name(st->opt.device_type),
			        *type_name(st->opt.device_type) ? " " : "",
			        st->opt.device_type_where ? " (device_type = " : "",
			        st->opt.device_type_where ? st->opt.device_type_text : "",
			        st->opt.device_type_where ? ")" : "");
			trit_host_logf(h, TRIT_LOG_INFO, "OpenCL platform %u '%s' has no %s device",
			               p, pname, st->opt.device_type == CL_DEVICE_TYPE_ALL
			                                 ? "usable" : type_name(st->opt.device_type));
			continue;
		}
		if (e != CL_SUCCESS) {
			why_add(why, sizeof why, "platform %u '%s': clGetDeviceIDs failed: %s", p,
			        pname, ocl_strerror(e, ebuf, sizeof ebuf));
			trit_host_logf(h, TRIT_LOG_WARN, "OpenCL platform %u '%s': clGetDeviceIDs "
			               "failed: %s", p, pname, ebuf);
			continue;
		}
		if (nd > 64)
			nd = 64;
		if (!(ids = calloc(nd, sizeof *ids)) ||
		    clGetDeviceIDs(plats[p], st->opt.device_type, nd, ids, &nd) != CL_SUCCESS) {
			free(ids);
			why_add(why, sizeof why, "platform %u '%s': cannot list its devices", p, pname);
			continue;
		}
		if (st->n_devs + nd > cap) {
			uint32_t ncap = st->n_devs + nd;
			struct ocl_device *grown = realloc(st->devs, ncap * sizeof *grown);
			if (!grown) {
				free(ids);
				free(plats);
				return ocl_errf(err, errlen, TRIT_ENOMEM,
				                "out of memory recording OpenCL devices");
			}
			st->devs = grown;
			cap = ncap;
		}
		for (cl_uint i = 0; i < nd; i++) {
			struct ocl_device *d = &st->devs[st->n_devs];
			const char *id = ocl_pool_printf(&st->pool, "p%ud%u", p, i);
			cl_bool avail = CL_TRUE;

			memset(d, 0, sizeof *d);
			d->platform = plats[p];
			d->id = ids[i];
			d->platform_index = p;
			d->device_index = i;
			d->platform_name = pname;
			d->platform_version = pver;
			ocl_query_facts(st, d);
			ocl_describe(st, d, id);
			if (dev_info(d->id, CL_DEVICE_AVAILABLE, &avail, sizeof avail) == 0 && !avail) {
				why_add(why, sizeof why, "%s '%s' is not available (CL_DEVICE_AVAILABLE "
				        "is false)", id, d->dev.name);
				trit_host_logf(h, TRIT_LOG_WARN, "OpenCL device %s '%s' is not available "
				               "(CL_DEVICE_AVAILABLE is false); left out", id, d->dev.name);
				continue;
			}
			if ((e = open_device(d)) != CL_SUCCESS) {
				why_add(why, sizeof why, "%s '%s': cannot create a context and queue: %s",
				        id, d->dev.name, ocl_strerror(e, ebuf, sizeof ebuf));
				trit_host_logf(h, TRIT_LOG_WARN, "OpenCL device %s '%s': cannot create a "
				               "context and queue (%s); left out", id, d->dev.name, ebuf);
				continue;
			}
			d->live = 1;
			ocl_probe_memory(st, d);
			trit_host_logf(h, TRIT_LOG_DEBUG, "OpenCL device %s: '%s' from '%s' on '%s', "
			               "%s, %llu bytes global, %llu bytes largest allocation", id,
			               d->dev.name, d->dev.vendor ? d->dev.vendor : "?", pname,
			               d->type & CL_DEVICE_TYPE_GPU ? "GPU"
			               : d->type & CL_DEVICE_TYPE_CPU ? "CPU" : "accelerator",
			               (ull)d->dev.mem_total.value, (ull)d->max_alloc);
			st->n_devs++;
		}
		free(ids);
	}
	free(plats);
	if (st->n_devs == 0)
		return ocl_errf(err, errlen, TRIT_ENODEV, "no usable OpenCL device: %s",
		                why[0] ? why : "the platforms list none");
	return st->pool.failed ? ocl_errf(err, errlen, TRIT_ENOMEM, "out of memory probing OpenCL")
	                       : 0;
}

/* ------------------------------------------------------------------------ */
/* Bringing up a device described from the probe cache.                      */

/* What must not have changed since the probe for the cached description
 * (and the kernels' self-test) to hold; compute units and clock may move. */
static int same_device(const struct ocl_device *a, const struct ocl_device *b)
{
	const struct ocl_facts *x = &a->f, *y = &b->f;
	const char *sa[] = { a->platform_name, a->platform_version, x->name, x->board, x->vendor,
		             x->device_version, x->driver_version, x->pool_text };
	const char *sb[] = { b->platform_name, b->platform_version, y->name, y->board, y->vendor,
		             y->device_version, y->driver_version, y->pool_text };

	for (size_t i = 0; i < sizeof sa / sizeof sa[0]; i++)
		if (strcmp(sa[i] ? sa[i] : "", sb[i] ? sb[i] : "") != 0 || !sa[i] != !sb[i])
			return 0;
	return x->type == y->type && x->mem_total == y->mem_total &&
	       x->max_alloc == y->max_alloc && x->max_wg == y->max_wg &&
	       x->little_endian == y->little_endian && x->compiler == y->compiler &&
	       x->crdiv == y->crdiv && x->host_unified == y->host_unified &&
	       x->amd_free == y->amd_free && x->nv_attrs == y->nv_attrs;
}

static int bring_up(struct ocl_state *st, struct ocl_device *d, char *err, size_t errlen)
{
	const struct trit_host *h = &st->host;
	cl_platform_id plats[64];
	cl_device_id *ids = NULL;
	cl_uint np = 0, nd = 0;
	cl_bool avail = CL_TRUE;
	struct ocl_device now;
	char ebuf[64];
	cl_int e;
	double t0 = ocl_now();

	pin_icd_loader(h);
	e = clGetPlatformIDs(64, plats, &np);
	if (e != CL_SUCCESS && e != OCL_PLATFORM_NOT_FOUND_KHR)
		return ocl_errf(err, errlen, TRIT_EDEVICE, "%s '%s': clGetPlatformIDs failed: %s",
		                d->dev.id, d->dev.name, ocl_strerror(e, ebuf, sizeof ebuf));
	if (e != CL_SUCCESS || d->platform_index >= np)
		return ocl_errf(err, errlen, TRIT_EDEVICE, "%s '%s' is gone: the OpenCL ICD loader "
		                "lists %u platform%s now, not platform %u of the probe cache; the "
		                "drivers changed since it was probed: run `trit devices "
		                "--remeasure`", d->dev.id, d->dev.name, (unsigned)np,
		                np == 1 ? "" : "s", (unsigned)d->platform_index);
	e = clGetDeviceIDs(plats[d->platform_index], st->opt.device_type, 0, NULL, &nd);
	if (e == CL_SUCCESS && nd > 64)
		nd = 64;
	if (e != CL_SUCCESS || d->device_index >= nd || !(ids = calloc(nd, sizeof *ids)) ||
	    clGetDeviceIDs(plats[d->platform_index], st->opt.device_type, nd, ids, &nd) !=
	            CL_SUCCESS || d->device_index >= nd) {
		free(ids);
		return ocl_errf(err, errlen, TRIT_EDEVICE, "%s '%s' is gone: OpenCL platform %u "
		                "lists %u such device%s now; the drivers or the hardware changed "
		                "since the probe cache was filled: run `trit devices --remeasure`",
		                d->dev.id, d->dev.name, (unsigned)d->platform_index,
		                (unsigned)nd, nd == 1 ? "" : "s");
	}
	memset(&now, 0, sizeof now);
	now.platform = plats[d->platform_index];
	now.id = ids[d->device_index];
	free(ids);
	now.platform_index = d->platform_index;
	now.device_index = d->device_index;
	now.platform_name = plat_string(now.platform, CL_PLATFORM_NAME, &st->pool);
	if (!now.platform_name)
		now.platform_name = "(unnamed platform)";
	now.platform_version = plat_string(now.platform, CL_PLATFORM_VERSION, &st->pool);
	ocl_query_facts(st, &now);
	if (!same_device(d, &now))
		return ocl_errf(err, errlen, TRIT_EDEVICE, "%s: the OpenCL device found now ('%s', "
		                "%s, %s) is not the one in the probe cache ('%s', %s, %s): the "
		                "drivers or the hardware changed since it was probed; run `trit "
		                "devices --remeasure`", d->dev.id,
		                now.f.name ? now.f.name : "?",
		                now.f.driver_version ? now.f.driver_version : "?",
		                now.platform_name, d->f.name ? d->f.name : "?",
		                d->f.driver_version ? d->f.driver_version : "?",
		                d->platform_name ? d->platform_name : "?");
	if (dev_info(now.id, CL_DEVICE_AVAILABLE, &avail, sizeof avail) == 0 && !avail)
		return ocl_errf(err, errlen, TRIT_EDEVICE, "%s '%s' is not available now "
		                "(CL_DEVICE_AVAILABLE is false)", d->dev.id, d->dev.name);
	d->platform = now.platform;
	d->id = now.id;
	if ((e = open_device(d)) != CL_SUCCESS)
		return ocl_errf(err, errlen, ocl_result(e) == TRIT_ENOMEM ? TRIT_ENOMEM : TRIT_EDEVICE,
		                "%s '%s': cannot create a context and queue: %s", d->dev.id,
		                d->dev.name, ocl_strerror(e, ebuf, sizeof ebuf));
	d->live = 1;
	ocl_program_build(st, d);
	d->dev.matmul_types = d->have_kernels ? TRIT_TYPE_BIT(TRIT_TYPE_I2_S) |
	                                                TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
	                                                TRIT_TYPE_BIT(TRIT_TYPE_TL2)
	                                      : 0;
	/* free memory where the vendor can tell it (the old strings stay in
	 * mem_pool until the next device_update, as the contract asks) */
	if (d->amd_free)
		ocl_probe_memory(st, d);
	ocl_device_assemble(st, d);
	trit_host_logf(h, TRIT_LOG_INFO, "%s '%s': OpenCL brought up at first use in %.2f s",
	               d->dev.id, d->dev.name, ocl_now() - t0);
	return st->pool.failed ? ocl_errf(err, errlen, TRIT_ENOMEM, "out of memory bringing up "
	                                  "%s", d->dev.id)
	                       : 0;
}

int ocl_bring_up(struct ocl_state *st, struct ocl_device *d, char *err, size_t errlen)
{
	char why[1024];
	int rc;

	if (d->live)
		return 0;
	if (d->bring_up_rc)
		return ocl_errf(err, errlen, d->bring_up_rc, "%s", d->bring_up_error);
	rc = bring_up(st, d, why, sizeof why);
	if (rc == 0)
		return 0;
	if (d->live) { /* the queue was made but something after it failed */
		ocl_ops_release(&d->ops);
		d->have_ops = 0;
		ocl_kernels_release(&d->k);
		d->have_kernels = 0;
		d->dev.matmul_types = 0;
		if (d->queue)
			clReleaseCommandQueue(d->queue);
		if (d->ctx)
			clReleaseContext(d->ctx);
		d->queue = NULL;
		d->ctx = NULL;
		d->live = 0;
	}
	d->bring_up_rc = rc;
	d->bring_up_error = ocl_pool_printf(&st->pool, "%s", why);
	if (!d->bring_up_error)
		d->bring_up_error = "out of memory bringing up the device";
	trit_host_logf(&st->host, TRIT_LOG_WARN, "%.500s", why);
	return ocl_errf(err, errlen, rc, "%s", why);
}
