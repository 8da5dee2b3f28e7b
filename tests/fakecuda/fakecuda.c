/*
 * fakecuda.c - a test double for the CUDA driver library (libcuda.so.1).
 *
 * It exports exactly the driver entry points the cuda plugin resolves, by
 * the names the real libcuda exports (cuMemAlloc_v2, ...), and simulates the
 * devices an environment variable describes, with memory accounting and
 * failure injection, so that CI machines without a GPU test the plugin's
 * detection, memory figures, planning and error handling. It cannot run
 * kernels: by default cuLaunchKernel fails with CUDA_ERROR_NOT_SUPPORTED,
 * whose text says that a simulated device cannot run kernels; with
 * FAKECUDA_LAUNCH=noop it checks each launch against the hardware's limits,
 * counts it and returns CUDA_SUCCESS without running anything, so that a
 * forward pass on a simulated GPU can be tested for allocations, launch
 * counts, re-planning and leaks (never for what it computes).
 *
 * The driver's types and constants are declared here (the values are the
 * ones cuda.h gives them), so the fake builds without CUDA. Its variables do
 * not start with TRIT_: trit warns about TRIT_* variables it does not know.
 *
 * FAKECUDA_DEVICES: devices separated by commas,
 *     NAME:TOTAL[/FREE free] [key=value | flag]...
 *   TOTAL, FREE  sizes: 4GiB, 1.5GiB, 512MiB, 24GB (decimal), bytes. FREE is
 *                what is free before any context (default: TOTAL)
 *   cc=8.6       compute capability (default 8.0)
 *   sms=N        multiprocessors (default 16)
 *   clock=FREQ   SM clock, e.g. 1500MHz (default 1500MHz)
 *   memclock=FREQ memory clock as cuDeviceGetAttribute reports it (default
 *                7000MHz; 0 = the driver reports 0)
 *   bus=BITS     memory bus width (default 256)
 *   l2=SIZE      L2 cache (default 4MiB)
 *   ctx=SIZE     device memory each context costs (default 300MiB)
 *   pci=N        PCI bus number (default: 1 + the device's index)
 *   integrated   shares the host's memory (INTEGRATED = 1)
 *   pageable     can access pageable host memory (PAGEABLE_MEMORY_ACCESS = 1)
 *   e.g. "RTX 3050:4GiB cc=8.6 sms=20, RTX 4090:24GiB/20GiB free, A100:80GiB"
 *   Unset or empty: no device (cuInit answers CUDA_ERROR_NO_DEVICE). A
 *   malformed value makes cuInit fail with CUDA_ERROR_INVALID_VALUE, and
 *   cuGetErrorString then says what is wrong.
 *
 * FAKECUDA_FAIL: failures to inject, separated by commas; read at every
 * call, so a test can change it between calls:
 *   init[=CODE]      cuInit fails with CODE (default 999, CUDA_ERROR_UNKNOWN)
 *   alloc[=N]        the Nth cuMemAlloc since cuInit (default: every one)
 *                    fails with CUDA_ERROR_OUT_OF_MEMORY
 *   lost=DEV[:CODE]  device DEV is lost: every call that needs it (contexts,
 *                    memory, copies, modules, launches) fails with CODE
 *                    (default 999)
 *   module[=DEV]     cuModuleLoadData fails with CUDA_ERROR_NO_BINARY_FOR_GPU
 *                    (on DEV, default every device)
 *   ctxlimit=N       at most N live contexts per device; more fail with
 *                    CUDA_ERROR_OUT_OF_MEMORY
 *   taken=DEV:SIZE[@K]  another process takes SIZE bytes of device DEV from
 *                    the Kth cuMemGetInfo on DEV onward (K counted from 1,
 *                    per device, since cuInit; default 1): cuMemGetInfo
 *                    reports SIZE fewer bytes free (never below 0), and
 *                    cuMemAlloc and cuCtxCreate fail with
 *                    CUDA_ERROR_OUT_OF_MEMORY beyond what is left. SIZE as in
 *                    FAKECUDA_DEVICES (1GiB, 512MiB, bytes). Several taken=
 *                    entries may be given, for one device or several; those
 *                    of a device that are active add up. A malformed entry
 *                    (or DEV not simulated) makes cuMemGetInfo, cuMemAlloc
 *                    and cuCtxCreate fail with CUDA_ERROR_INVALID_VALUE, and
 *                    cuGetErrorString says what is wrong.
 *                    When it hits in `trit run`: the cuda plugin's probe
 *                    calls cuMemGetInfo 2 times per device (trit's context,
 *                    then a second context that measures mem.overhead; 1
 *                    time when that second context cannot be created or the
 *                    kernels do not load into it; check_cuda pins the 2),
 *                    planning calls it 0 times, and the load's memory check
 *                    calls it once per device that receives weights
 *                    (get_memory, or device_update where the plugin has no
 *                    get_memory; once more when it refuses, for the
 *                    message), so
 *                    taken=0:1GiB@3 is seen by the load's check and its
 *                    allocations and not by the plan. @1: the probe and the
 *                    plan see it; @2: it falls between the probe's two
 *                    measurements, so mem.overhead grows by SIZE instead.
 *                    Each later get_memory, device_update or re-plan's
 *                    re-measure is one more call.
 * Unknown keys are ignored; every key but taken= is read at its first entry.
 *
 * FAKECUDA_LAUNCH: what cuLaunchKernel does once the handle, the context
 * and the launch are valid; read at every launch:
 *   unset or empty   fails with CUDA_ERROR_NOT_SUPPORTED ("a simulated device
 *                    cannot run kernels"); an invalid launch fails with
 *                    CUDA_ERROR_INVALID_VALUE, as always
 *   noop             checks the limits of real hardware too (block.x and
 *                    block.y <= 1024, block.z <= 64, <= 1024 threads a block,
 *                    grid.x <= 2^31-1, grid.y and grid.z <= 65535, every
 *                    dimension >= 1, <= 49152 bytes (48 KiB) of dynamic
 *                    shared memory, kernelParams not NULL, extra NULL, the
 *                    stream NULL, CU_STREAM_LEGACY or CU_STREAM_PER_THREAD:
 *                    the fake has no streams), then counts the launch and
 *                    returns CUDA_SUCCESS without running anything. A launch
 *                    beyond a limit fails with CUDA_ERROR_INVALID_VALUE, and
 *                    cuGetErrorString names the limit.
 *   emulate          as noop, then runs the kernel on the CPU: emulate.cc
 *                    compiles the cuda plugin's own kernels.cu as host C++
 *                    (a fiber per thread, barriers and warp shuffles
 *                    honoured; see there), on the allocations' host memory.
 *                    A kernel it does not know fails the launch with
 *                    CUDA_ERROR_LAUNCH_FAILED, the reason in
 *                    cuGetErrorString. Only when built with a C++17
 *                    compiler (configure says); otherwise INVALID_VALUE
 *                    saying so
 *   anything else    every launch fails with CUDA_ERROR_INVALID_VALUE, and
 *                    cuGetErrorString says which values are known
 *
 * FAKECUDA_LAUNCH_LOG=PATH: read at cuInit (the last cuInit's value counts);
 * when set and not empty, PATH is written when the process that called
 * cuInit exits (atexit; a forked child writes nothing): the launches
 * FAKECUDA_LAUNCH=noop counted in the whole process (not reset by cuInit),
 * one line "DEVICE KERNEL COUNT" per device ordinal and kernel name (the
 * name given to cuModuleGetFunction), sorted by device then name, then
 *     max_shared_bytes N   the most dynamic shared memory one launch asked
 *     max_block_threads N  the largest block, in threads (bx x by x bz)
 *     total N              every counted launch
 * (device lines start with a digit, the others with a letter; total is
 * the last). Written to PATH.tmp, then renamed to PATH; a failure is
 * reported on stderr.
 *
 * Memory: free = FREE - ctx x live contexts - bytes allocated, exactly
 * (less what taken= says another process holds).
 * Allocations are backed by anonymous memory mapped on demand, so copies
 * work and large allocations cost no host memory until written.
 *
 * Not thread-safe beyond what the suites need: one thread drives it. The
 * current context is per thread, as in the real driver.
 */
#include <build-config.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* The driver's types, as cuda.h declares them                               */

typedef int CUresult;
typedef int CUdevice;
typedef int CUdevice_attribute;
typedef unsigned long long CUdeviceptr;
typedef struct fake_ctx *CUcontext;
typedef struct fake_mod *CUmodule;
typedef struct fake_fn *CUfunction;
typedef struct fake_stream *CUstream;

enum {
	CUDA_SUCCESS = 0,
	CUDA_ERROR_INVALID_VALUE = 1,
	CUDA_ERROR_OUT_OF_MEMORY = 2,
	CUDA_ERROR_NOT_INITIALIZED = 3,
	CUDA_ERROR_NO_DEVICE = 100,
	CUDA_ERROR_INVALID_DEVICE = 101,
	CUDA_ERROR_INVALID_IMAGE = 200,
	CUDA_ERROR_INVALID_CONTEXT = 201,
	CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
	CUDA_ERROR_INVALID_HANDLE = 400,
	CUDA_ERROR_NOT_FOUND = 500,
	CUDA_ERROR_LAUNCH_FAILED = 719,
	CUDA_ERROR_NOT_SUPPORTED = 801,
	CUDA_ERROR_SYSTEM_DRIVER_MISMATCH = 803,
	CUDA_ERROR_UNKNOWN = 999
};

enum {
	CU_DEVICE_ATTRIBUTE_CLOCK_RATE = 13,
	CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
	CU_DEVICE_ATTRIBUTE_INTEGRATED = 18,
	CU_DEVICE_ATTRIBUTE_PCI_BUS_ID = 33,
	CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID = 34,
	CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE = 36,
	CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37,
	CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38,
	CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID = 50,
	CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
	CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
	CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS = 88
};

/* The streams every context has without cuStreamCreate. */
#define CU_STREAM_LEGACY ((CUstream)(uintptr_t)0x1)
#define CU_STREAM_PER_THREAD ((CUstream)(uintptr_t)0x2)

/* The limits of real hardware that FAKECUDA_LAUNCH=noop checks (every
 * compute capability the plugin builds for: 5.0 and later). */
#define MAX_BLOCK_XY 1024u
#define MAX_BLOCK_Z 64u
#define MAX_BLOCK_THREADS 1024u
#define MAX_GRID_X 2147483647u
#define MAX_GRID_YZ 65535u
#define MAX_SHARED 49152u /* dynamic shared memory without the opt-in attribute */

/* The exported entry points (prototypes for -Wmissing-prototypes). */
CUresult cuInit(unsigned int flags);
CUresult cuDriverGetVersion(int *version);
CUresult cuDeviceGetCount(int *count);
CUresult cuDeviceGet(CUdevice *dev, int ordinal);
CUresult cuDeviceGetName(char *name, int len, CUdevice dev);
CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev);
CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attr, CUdevice dev);
CUresult cuCtxCreate_v2(CUcontext *ctx, unsigned int flags, CUdevice dev);
CUresult cuCtxDestroy_v2(CUcontext ctx);
CUresult cuCtxSetCurrent(CUcontext ctx);
CUresult cuCtxSynchronize(void);
CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total_bytes);
CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t bytes);
CUresult cuMemFree_v2(CUdeviceptr ptr);
CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes);
CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes);
CUresult cuModuleLoadData(CUmodule *mod, const void *image);
CUresult cuModuleUnload(CUmodule mod);
CUresult cuModuleGetFunction(CUfunction *fn, CUmodule mod, const char *name);
CUresult cuLaunchKernel(CUfunction fn, unsigned int gx, unsigned int gy, unsigned int gz,
                        unsigned int bx, unsigned int by, unsigned int bz,
                        unsigned int shared_bytes, CUstream stream, void **params,
                        void **extra);
CUresult cuGetErrorName(CUresult rc, const char **name);
CUresult cuGetErrorString(CUresult rc, const char **text);

/* ------------------------------------------------------------------------ */
/* Simulated state                                                           */

#define MAX_DEVS 16
#define MAGIC_CTX 0x43545821u
#define MAGIC_MOD 0x4d4f4421u
#define MAGIC_FN  0x464e2121u

struct fdev {
	char name[128];
	uint64_t total, free0, ctx_cost, allocated, l2;
	int cc_major, cc_minor, sms, bus, pci, integrated, pageable;
	int clock_khz, memclock_khz;
	int contexts;              /* live */
};

struct fake_ctx {
	uint32_t magic;
	int dev;
};

struct fake_mod {
	uint32_t magic;
	struct fake_ctx *ctx;
	const unsigned char *image;
	size_t image_bytes;
};

struct fake_fn {
	uint32_t magic;
	struct fake_mod *mod;
	char name[128];
	size_t stat;               /* 1 + its index in fk.ls, 0 before its first launch */
	struct fake_fn *next;
};

/* Launches of one kernel on one device (FAKECUDA_LAUNCH=noop). */
struct lstat {
	int dev;
	char name[128];
	unsigned long long count;
};

struct falloc {
	CUdeviceptr ptr;
	size_t size, mapped;
	struct fake_ctx *ctx;
};

static struct {
	int initialised;
	int n;
	struct fdev dev[MAX_DEVS];
	char parse_error[512];  /* why FAKECUDA_DEVICES was refused */
	unsigned long allocs;   /* cuMemAlloc calls since cuInit */
	struct falloc *al;
	size_t n_al, cap_al;
	int live_contexts;
	struct fake_fn *fns;    /* every function handle, freed with its module */
	unsigned long meminfo[MAX_DEVS]; /* cuMemGetInfo calls per device since cuInit */
	char why[512];          /* why this call fails with CUDA_ERROR_INVALID_VALUE
	                         * (a launch limit, FAKECUDA_LAUNCH, taken=); cleared
	                         * when a call starts (need_init) */
	/* the launches FAKECUDA_LAUNCH=noop counted, in the whole process */
	struct lstat *ls;
	size_t n_ls, cap_ls;
	unsigned long long launches;
	unsigned long max_shared, max_block;
	char *log_path;         /* FAKECUDA_LAUNCH_LOG at the last cuInit, or NULL */
	pid_t log_pid;          /* the process that writes it */
	int log_registered;     /* the atexit handler is */
} fk;

static _Thread_local struct fake_ctx *current;

/* ------------------------------------------------------------------------ */
/* Parsing                                                                   */

static int parse_size(const char *s, const char *end, uint64_t *out)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {
		{ "", 1 }, { "B", 1 }, { "KiB", 1024.0 }, { "MiB", 1048576.0 },
		{ "GiB", 1073741824.0 }, { "TiB", 1099511627776.0 }, { "KB", 1e3 },
		{ "MB", 1e6 }, { "GB", 1e9 }, { "TB", 1e12 },
	};
	char buf[64], *num_end;
	size_t len = (size_t)(end - s);
	double v;

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	v = strtod(buf, &num_end);
	if (num_end == buf || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(num_end, units[i].unit) == 0) {
			double b = v * units[i].mult;
			if (b >= 18446744073709551615.0)
				return -1;
			*out = (uint64_t)(b + 0.5);
			return 0;
		}
	return -1;
}

/* A frequency in kHz: "1500MHz", "1.4GHz", "800000kHz", "0". */
static int parse_freq(const char *s, int *khz)
{
	char *end;
	double v = strtod(s, &end), mult;

	if (end == s || v < 0)
		return -1;
	if (strcmp(end, "kHz") == 0)
		mult = 1;
	else if (strcmp(end, "MHz") == 0)
		mult = 1e3;
	else if (strcmp(end, "GHz") == 0)
		mult = 1e6;
	else if (*end == '\0' && v == 0)
		mult = 1;
	else
		return -1;
	if (v * mult > 2147483647.0)
		return -1;
	*khz = (int)(v * mult + 0.5);
	return 0;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 1000000)
		return -1;
	*out = (int)v;
	return 0;
}

static char entry_text[256]; /* the entry being parsed, for messages */

static int bad(int index, const char *entry, const char *what)
{
	(void)entry;
	snprintf(fk.parse_error, sizeof fk.parse_error,
	         "FAKECUDA_DEVICES device %d ('%s'): %s", index, entry_text, what);
	fprintf(stderr, "fakecuda: %s\n", fk.parse_error);
	return -1;
}

/* One entry "NAME:TOTAL[/FREE free] options..." into d. */
static int parse_entry(int index, char *e, struct fdev *d)
{
	char *colon = strchr(e, ':'), *p, *tok, *save = NULL;

	snprintf(entry_text, sizeof entry_text, "%s", e);
	*d = (struct fdev){ .cc_major = 8, .cc_minor = 0, .sms = 16, .bus = 256,
	                    .clock_khz = 1500000, .memclock_khz = 7000000,
	                    .ctx_cost = 300ull << 20, .l2 = 4ull << 20, .pci = index + 1 };
	if (!colon || colon == e)
		return bad(index, e, "expected NAME:MEMORY, e.g. 'RTX 4090:24GiB'");
	if ((size_t)(colon - e) >= sizeof d->name)
		return bad(index, e, "the name is longer than 127 bytes");
	memcpy(d->name, e, (size_t)(colon - e));
	d->name[colon - e] = '\0';
	p = colon + 1;
	while (*p == ' ')
		p++;
	char *mem_end = p + strcspn(p, " /");
	if (parse_size(p, mem_end, &d->total) || d->total == 0)
		return bad(index, e, "the memory size is not a size like 24GiB");
	d->free0 = d->total;
	p = mem_end;
	if (*p == '/') {
		char *f = p + 1, *f_end = f + strcspn(f, " ");
		if (parse_size(f, f_end, &d->free0))
			return bad(index, e, "the free size after '/' is not a size like 20GiB");
		p = f_end;
		while (*p == ' ')
			p++;
		if (strncmp(p, "free", 4) != 0 || (p[4] && p[4] != ' '))
			return bad(index, e, "expected 'free' after TOTAL/FREE");
		p += 4;
		if (d->free0 > d->total)
			return bad(index, e, "more memory free than there is");
	}
	for (tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		const char *val = eq ? eq + 1 : NULL;
		int ok = 0;
		if (eq)
			*eq = '\0';
		if (!strcmp(tok, "integrated") && !val)
			ok = (d->integrated = 1);
		else if (!strcmp(tok, "pageable") && !val)
			ok = (d->pageable = 1);
		else if (!val)
			ok = 0;
		else if (!strcmp(tok, "cc"))
			ok = sscanf(val, "%d.%d", &d->cc_major, &d->cc_minor) == 2 &&
			     d->cc_major > 0 && d->cc_minor >= 0 && d->cc_minor < 10;
		else if (!strcmp(tok, "sms"))
			ok = !parse_int(val, &d->sms);
		else if (!strcmp(tok, "bus"))
			ok = !parse_int(val, &d->bus);
		else if (!strcmp(tok, "pci"))
			ok = !parse_int(val, &d->pci) && d->pci < 256;
		else if (!strcmp(tok, "clock"))
			ok = !parse_freq(val, &d->clock_khz);
		else if (!strcmp(tok, "memclock"))
			ok = !parse_freq(val, &d->memclock_khz);
		else if (!strcmp(tok, "l2"))
			ok = !parse_size(val, val + strlen(val), &d->l2) && d->l2 <= 2147483647u;
		else if (!strcmp(tok, "ctx"))
			ok = !parse_size(val, val + strlen(val), &d->ctx_cost);
		if (!ok) {
			char what[200];
			snprintf(what, sizeof what, "'%s%s%s' is not one of cc=M.m sms=N clock=FREQ "
			         "memclock=FREQ bus=BITS l2=SIZE ctx=SIZE pci=N integrated pageable", tok,
			         val ? "=" : "", val ? val : "");
			return bad(index, e, what);
		}
	}
	return 0;
}

static int parse_devices(void)
{
	const char *env = getenv("FAKECUDA_DEVICES");
	char *copy, *tok, *save = NULL;
	int rc = 0;

	fk.n = 0;
	fk.parse_error[0] = '\0';
	if (!env || !*env)
		return 0;
	copy = strdup(env);
	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		char *end = tok + strlen(tok);
		while (end > tok && end[-1] == ' ')
			*--end = '\0';
		if (fk.n == MAX_DEVS) {
			snprintf(entry_text, sizeof entry_text, "%s", tok);
			rc = bad(fk.n, tok, "the fake driver simulates at most 16 devices");
			break;
		}
		rc = parse_entry(fk.n, tok, &fk.dev[fk.n]);
		if (!rc)
			fk.n++;
	}
	free(copy);
	if (rc)
		fk.n = 0;
	return rc;
}

/* Failure injection: the value of the nth (from 0) entry `key` in
 * FAKECUDA_FAIL. Returns 1 when there is one (val gets what follows '=', or
 * "" when nothing), -1 when there is one whose value was cut to len - 1
 * bytes, 0 when there is none. */
static int fail_nth(const char *key, int nth, char *val, size_t len)
{
	const char *env = getenv("FAKECUDA_FAIL"), *p;
	size_t klen = strlen(key);

	if (!env)
		return 0;
	for (p = env; *p;) {
		while (*p == ',' || *p == ' ')
			p++;
		size_t n = strcspn(p, ", ");
		if (n >= klen && strncmp(p, key, klen) == 0 && (n == klen || p[klen] == '=') &&
		    nth-- == 0) {
			size_t vn = n > klen ? n - klen - 1 : 0;
			int cut = vn >= len;
			if (cut)
				vn = len - 1;
			memcpy(val, p + klen + (n > klen), vn);
			val[vn] = '\0';
			return cut ? -1 : 1;
		}
		p += n;
	}
	return 0;
}

/* The first entry `key` in FAKECUDA_FAIL, as fail_nth (a cut value counts
 * as present). */
static int fail_get(const char *key, char *val, size_t len)
{
	return fail_nth(key, 0, val, len) != 0;
}

/* Fail this call with CUDA_ERROR_INVALID_VALUE, cuGetErrorString saying why. */
#if defined(__GNUC__)
#define FAKE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FAKE_PRINTF(f, a)
#endif
static CUresult invalid(const char *fmt, ...) FAKE_PRINTF(1, 2);
static CUresult invalid(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fk.why, sizeof fk.why, fmt, ap);
	va_end(ap);
	return CUDA_ERROR_INVALID_VALUE;
}

/* The error a lost device answers with, or 0 when `dev` is not lost. */
static CUresult lost(int dev)
{
	char v[32];
	int d = -1, code = CUDA_ERROR_UNKNOWN;

	if (!fail_get("lost", v, sizeof v))
		return 0;
	if (sscanf(v, "%d:%d", &d, &code) < 1)
		return 0;
	return d == dev ? code : 0;
}

/* Every entry point that can fail with CUDA_ERROR_INVALID_VALUE starts here
 * (directly or through check_dev or current_dev), or clears fk.why itself:
 * cuGetErrorString explains the last call's failure, never an older one. */
static CUresult need_init(void)
{
	fk.why[0] = '\0';
	return fk.initialised ? CUDA_SUCCESS : CUDA_ERROR_NOT_INITIALIZED;
}

static int ctx_ok(const struct fake_ctx *c)
{
	return c && c->magic == MAGIC_CTX;
}

static uint64_t dev_free(const struct fdev *d)
{
	uint64_t used = d->allocated + d->ctx_cost * (uint64_t)d->contexts;
	return used >= d->free0 ? 0 : d->free0 - used;
}

/* What the taken= entries of FAKECUDA_FAIL hold on device `dev` once it has
 * answered `calls` cuMemGetInfo calls: 0, or CUDA_ERROR_INVALID_VALUE with
 * the reason in fk.why when an entry is malformed. */
static CUresult taken(int dev, unsigned long calls, uint64_t *bytes)
{
	char v[64], *end;
	int got;

	*bytes = 0;
	for (int i = 0; (got = fail_nth("taken", i, v, sizeof v)); i++) {
		const char *colon = strchr(v, ':'), *at, *size_end;
		unsigned long k = 1;
		uint64_t size;
		long d;

		if (got < 0)
			return invalid("FAKECUDA_FAIL taken='%s...': longer than %zu bytes; expected "
			               "taken=DEV:SIZE[@K], e.g. taken=0:1GiB@3", v, sizeof v - 1);
		if (!colon)
			return invalid("FAKECUDA_FAIL taken='%s': expected taken=DEV:SIZE[@K], e.g. "
			               "taken=0:1GiB@3", v);
		errno = 0;
		d = strtol(v, &end, 10);
		if (end == v || end != colon || !isdigit((unsigned char)v[0]) || errno)
			return invalid("FAKECUDA_FAIL taken='%s': DEV is not a device ordinal; expected "
			               "taken=DEV:SIZE[@K], e.g. taken=0:1GiB@3", v);
		if (d >= fk.n)
			return invalid("FAKECUDA_FAIL taken='%s': there is no device %ld (%d simulated)",
			               v, d, fk.n);
		at = strchr(colon + 1, '@');
		size_end = at ? at : colon + 1 + strlen(colon + 1);
		if (parse_size(colon + 1, size_end, &size))
			return invalid("FAKECUDA_FAIL taken='%s': SIZE is not a size like 1GiB, 512MiB "
			               "or a number of bytes", v);
		if (at) {
			errno = 0;
			k = strtoul(at + 1, &end, 10);
			if (!isdigit((unsigned char)at[1]) || *end || errno || k == 0)
				return invalid("FAKECUDA_FAIL taken='%s': K after '@' is not a count from 1 "
				               "(the Kth cuMemGetInfo on the device)", v);
		}
		if (d == dev && calls >= k)
			*bytes = size > UINT64_MAX - *bytes ? UINT64_MAX : *bytes + size;
	}
	return 0;
}

/* Free memory on `dev` for a new context or allocation: dev_free less what
 * taken= holds; 0 or CUDA_ERROR_INVALID_VALUE (a malformed taken=). */
static CUresult avail(int dev, uint64_t *bytes)
{
	uint64_t t, f = dev_free(&fk.dev[dev]);
	CUresult rc = taken(dev, fk.meminfo[dev], &t);

	*bytes = t >= f ? 0 : f - t;
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Initialisation and devices                                                */

static void drop_allocations(struct fake_ctx *c)
{
	for (size_t i = 0; i < fk.n_al;) {
		if (c && fk.al[i].ctx != c) {
			i++;
			continue;
		}
		munmap((void *)(uintptr_t)fk.al[i].ptr, fk.al[i].mapped);
		fk.dev[fk.al[i].ctx->dev].allocated -= fk.al[i].size;
		fk.al[i] = fk.al[--fk.n_al];
	}
}

/* ------------------------------------------------------------------------ */
/* The launch log (FAKECUDA_LAUNCH_LOG)                                      */

static int lstat_order(const void *a, const void *b)
{
	const struct lstat *x = *(const struct lstat *const *)a, *y = *(const struct lstat *const *)b;
	return x->dev != y->dev ? (x->dev > y->dev) - (x->dev < y->dev) : strcmp(x->name, y->name);
}

/* At exit: the counts into fk.log_path, through PATH.tmp and a rename. */
static void write_launch_log(void)
{
	const struct lstat **order = NULL;
	char *tmp;
	FILE *f;
	int ok;

	if (!fk.log_path || getpid() != fk.log_pid)
		return;
	tmp = malloc(strlen(fk.log_path) + 5);
	if (fk.n_ls)
		order = malloc(fk.n_ls * sizeof *order);
	if (!tmp || (fk.n_ls && !order)) {
		fprintf(stderr, "fakecuda: FAKECUDA_LAUNCH_LOG: out of memory; %s not written\n",
		        fk.log_path);
		free(tmp);
		free(order);
		return;
	}
	for (size_t i = 0; i < fk.n_ls; i++)
		order[i] = &fk.ls[i];
	if (fk.n_ls)
		qsort(order, fk.n_ls, sizeof *order, lstat_order);
	sprintf(tmp, "%s.tmp", fk.log_path);
	errno = 0;
	f = fopen(tmp, "w");
	ok = f != NULL;
	for (size_t i = 0; ok && i < fk.n_ls; i++)
		ok = fprintf(f, "%d %s %llu\n", order[i]->dev, order[i]->name, order[i]->count) > 0;
	if (ok)
		ok = fprintf(f, "max_shared_bytes %lu\nmax_block_threads %lu\ntotal %llu\n",
		             fk.max_shared, fk.max_block, fk.launches) > 0;
	if (f && fclose(f) != 0)
		ok = 0;
	if (ok && rename(tmp, fk.log_path) != 0)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "fakecuda: FAKECUDA_LAUNCH_LOG: cannot write %s: %s\n",
		        f ? fk.log_path : tmp, errno ? strerror(errno) : "write error");
		if (f)
			remove(tmp);
	}
	free(order);
	free(tmp);
}

/* cuInit: take FAKECUDA_LAUNCH_LOG, registering the writer once. */
static void launch_log_setup(void)
{
	const char *env = getenv("FAKECUDA_LAUNCH_LOG");

	free(fk.log_path);
	fk.log_path = NULL;
	if (!env || !*env)
		return;
	if (!(fk.log_path = strdup(env))) {
		fprintf(stderr, "fakecuda: FAKECUDA_LAUNCH_LOG: out of memory; no log\n");
		return;
	}
	fk.log_pid = getpid();
	if (!fk.log_registered && atexit(write_launch_log) != 0) {
		fprintf(stderr, "fakecuda: FAKECUDA_LAUNCH_LOG: atexit failed; no log\n");
		return;
	}
	fk.log_registered = 1;
}

CUresult cuInit(unsigned int flags)
{
	char v[32];

	fk.why[0] = '\0';
	if (flags != 0)
		return CUDA_ERROR_INVALID_VALUE;
	if (fail_get("init", v, sizeof v))
		return *v ? atoi(v) : CUDA_ERROR_UNKNOWN;
	launch_log_setup();
	/* A fresh simulation unless contexts of an earlier one are alive (the
	 * real cuInit is idempotent; a suite re-reads the description). */
	if (fk.live_contexts == 0) {
		fk.initialised = 0;
		fk.allocs = 0;
		memset(fk.meminfo, 0, sizeof fk.meminfo);
		if (parse_devices())
			return CUDA_ERROR_INVALID_VALUE;
	}
	if (fk.n == 0)
		return CUDA_ERROR_NO_DEVICE;
	fk.initialised = 1;
	return CUDA_SUCCESS;
}

CUresult cuDriverGetVersion(int *version)
{
	fk.why[0] = '\0';
	if (!version)
		return CUDA_ERROR_INVALID_VALUE;
	*version = 13000;
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count)
{
	CUresult rc = need_init();
	if (rc)
		return rc;
	if (!count)
		return CUDA_ERROR_INVALID_VALUE;
	*count = fk.n;
	return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *dev, int ordinal)
{
	CUresult rc = need_init();
	if (rc)
		return rc;
	if (!dev)
		return CUDA_ERROR_INVALID_VALUE;
	if (ordinal < 0 || ordinal >= fk.n)
		return CUDA_ERROR_INVALID_DEVICE;
	*dev = ordinal;
	return CUDA_SUCCESS;
}

static CUresult check_dev(CUdevice dev)
{
	CUresult rc = need_init();
	if (rc)
		return rc;
	return dev >= 0 && dev < fk.n ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice dev)
{
	CUresult rc = check_dev(dev);
	if (rc)
		return rc;
	if (!name || len <= 0)
		return CUDA_ERROR_INVALID_VALUE;
	snprintf(name, (size_t)len, "%s", fk.dev[dev].name);
	return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev)
{
	CUresult rc = check_dev(dev);
	if (rc)
		return rc;
	if (!bytes)
		return CUDA_ERROR_INVALID_VALUE;
	*bytes = (size_t)fk.dev[dev].total;
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attr, CUdevice dev)
{
	CUresult rc = check_dev(dev);
	const struct fdev *d;

	if (rc)
		return rc;
	if (!value)
		return CUDA_ERROR_INVALID_VALUE;
	d = &fk.dev[dev];
	switch (attr) {
	case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *value = d->cc_major; break;
	case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *value = d->cc_minor; break;
	case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *value = d->sms; break;
	case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: *value = d->clock_khz; break;
	case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: *value = d->memclock_khz; break;
	case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: *value = d->bus; break;
	case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *value = (int)d->l2; break;
	case CU_DEVICE_ATTRIBUTE_INTEGRATED: *value = d->integrated; break;
	case CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS: *value = d->pageable; break;
	case CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID: *value = 0; break;
	case CU_DEVICE_ATTRIBUTE_PCI_BUS_ID: *value = d->pci; break;
	case CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID: *value = 0; break;
	default: return CUDA_ERROR_INVALID_VALUE;
	}
	return CUDA_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* Contexts                                                                  */

CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
	CUresult rc = check_dev(dev);
	struct fake_ctx *c;
	uint64_t free_b;
	char v[32];

	if (rc)
		return rc;
	if (!pctx)
		return CUDA_ERROR_INVALID_VALUE;
	if ((rc = lost(dev)))
		return rc;
	if (fail_get("ctxlimit", v, sizeof v) && fk.dev[dev].contexts >= atoi(v))
		return CUDA_ERROR_OUT_OF_MEMORY;
	if ((rc = avail(dev, &free_b)))
		return rc;
	if (fk.dev[dev].ctx_cost > free_b)
		return CUDA_ERROR_OUT_OF_MEMORY;
	c = malloc(sizeof *c);
	if (!c)
		return CUDA_ERROR_OUT_OF_MEMORY;
	c->magic = MAGIC_CTX;
	c->dev = dev;
	fk.dev[dev].contexts++;
	fk.live_contexts++;
	current = c;
	*pctx = c;
	return CUDA_SUCCESS;
}

static void drop_functions(struct fake_mod *m)
{
	for (struct fake_fn **pp = &fk.fns; *pp;) {
		struct fake_fn *f = *pp;
		if (!m || f->mod == m) {
			*pp = f->next;
			f->magic = 0;
			free(f);
		} else {
			pp = &f->next;
		}
	}
}

CUresult cuCtxDestroy_v2(CUcontext ctx)
{
	if (!ctx_ok(ctx))
		return CUDA_ERROR_INVALID_CONTEXT;
	drop_allocations(ctx);
	/* modules of the context: their function handles die with them; the
	 * module structs themselves are owned by their holders' unload calls,
	 * so only mark the functions of modules bound to this context */
	for (struct fake_fn **pp = &fk.fns; *pp;) {
		struct fake_fn *f = *pp;
		if (f->mod->ctx == ctx) {
			*pp = f->next;
			f->magic = 0;
			free(f);
		} else {
			pp = &f->next;
		}
	}
	fk.dev[ctx->dev].contexts--;
	fk.live_contexts--;
	ctx->magic = 0;
	if (current == ctx)
		current = NULL;
	free(ctx);
	return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext ctx)
{
	if (ctx && !ctx_ok(ctx))
		return CUDA_ERROR_INVALID_CONTEXT;
	current = ctx;
	return CUDA_SUCCESS;
}

/* The current context's device, or an error. */
static CUresult current_dev(int *dev)
{
	CUresult rc = need_init();
	if (rc)
		return rc;
	if (!ctx_ok(current))
		return CUDA_ERROR_INVALID_CONTEXT;
	*dev = current->dev;
	return lost(*dev);
}

CUresult cuCtxSynchronize(void)
{
	int dev;
	return current_dev(&dev);
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                    */

CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total_bytes)
{
	int dev;
	CUresult rc = current_dev(&dev);
	uint64_t f;

	if (rc)
		return rc;
	if (!free_bytes || !total_bytes)
		return CUDA_ERROR_INVALID_VALUE;
	/* this call is the (meminfo + 1)th: a taken=...@K with K of it counts */
	fk.meminfo[dev]++;
	if ((rc = avail(dev, &f))) {
		fk.meminfo[dev]--;
		return rc;
	}
	*free_bytes = (size_t)f;
	*total_bytes = (size_t)fk.dev[dev].total;
	return CUDA_SUCCESS;
}

CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t bytes)
{
	int dev;
	CUresult rc = current_dev(&dev);
	uint64_t free_b;
	char v[32];
	void *p;

	if (rc)
		return rc;
	if (!ptr || bytes == 0)
		return CUDA_ERROR_INVALID_VALUE;
	fk.allocs++;
	if (fail_get("alloc", v, sizeof v) && (!*v || strtoul(v, NULL, 10) == fk.allocs))
		return CUDA_ERROR_OUT_OF_MEMORY;
	if ((rc = avail(dev, &free_b)))
		return rc;
	if (bytes > free_b)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (fk.n_al == fk.cap_al) {
		size_t cap = fk.cap_al ? fk.cap_al * 2 : 16;
		struct falloc *a = realloc(fk.al, cap * sizeof *a);
		if (!a)
			return CUDA_ERROR_OUT_OF_MEMORY;
		fk.al = a;
		fk.cap_al = cap;
	}
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
	         -1, 0);
	if (p == MAP_FAILED)
		return CUDA_ERROR_OUT_OF_MEMORY;
	fk.al[fk.n_al++] = (struct falloc){ .ptr = (CUdeviceptr)(uintptr_t)p, .size = bytes,
	                                    .mapped = bytes, .ctx = current };
	fk.dev[dev].allocated += bytes;
	*ptr = (CUdeviceptr)(uintptr_t)p;
	return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr ptr)
{
	CUresult rc = need_init();
	if (rc)
		return rc;
	for (size_t i = 0; i < fk.n_al; i++)
		if (fk.al[i].ptr == ptr) {
			if ((rc = lost(fk.al[i].ctx->dev)))
				return rc;
			munmap((void *)(uintptr_t)ptr, fk.al[i].mapped);
			fk.dev[fk.al[i].ctx->dev].allocated -= fk.al[i].size;
			fk.al[i] = fk.al[--fk.n_al];
			return CUDA_SUCCESS;
		}
	return CUDA_ERROR_INVALID_VALUE;
}

/* The allocation holding [p, p + n), or NULL. */
static struct falloc *find(CUdeviceptr p, size_t n)
{
	for (size_t i = 0; i < fk.n_al; i++)
		if (p >= fk.al[i].ptr && p - fk.al[i].ptr <= fk.al[i].size &&
		    n <= fk.al[i].size - (p - fk.al[i].ptr))
			return &fk.al[i];
	return NULL;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes)
{
	int dev;
	CUresult rc = current_dev(&dev);
	struct falloc *a;

	if (rc)
		return rc;
	if (!(a = find(dst, bytes)) || (!src && bytes))
		return CUDA_ERROR_INVALID_VALUE;
	if ((rc = lost(a->ctx->dev)))
		return rc;
	if (bytes)
		memcpy((void *)(uintptr_t)dst, src, bytes);
	return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes)
{
	int dev;
	CUresult rc = current_dev(&dev);
	struct falloc *a;

	if (rc)
		return rc;
	if (!(a = find(src, bytes)) || (!dst && bytes))
		return CUDA_ERROR_INVALID_VALUE;
	if ((rc = lost(a->ctx->dev)))
		return rc;
	if (bytes)
		memcpy(dst, (const void *)(uintptr_t)src, bytes);
	return CUDA_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* Modules and kernels                                                       */

/* Size of a fatbin from its header (magic 0xBA55ED50, u16 version, u16
 * header size, u64 size of what follows), or 0 when image is not one. */
static size_t fatbin_size(const unsigned char *image)
{
	uint32_t magic;
	uint16_t header;
	uint64_t body;

	memcpy(&magic, image, 4);
	if (magic != 0xBA55ED50u)
		return 0;
	memcpy(&header, image + 6, 2);
	memcpy(&body, image + 8, 8);
	if (header < 16 || body > (UINT64_C(1) << 32))
		return 0;
	return (size_t)header + (size_t)body;
}

CUresult cuModuleLoadData(CUmodule *mod, const void *image)
{
	int dev;
	CUresult rc = current_dev(&dev);
	char v[32];
	struct fake_mod *m;
	size_t size;

	if (rc)
		return rc;
	if (!mod || !image)
		return CUDA_ERROR_INVALID_VALUE;
	if (fail_get("module", v, sizeof v) && (!*v || atoi(v) == dev))
		return CUDA_ERROR_NO_BINARY_FOR_GPU;
	if (!(size = fatbin_size(image)))
		return CUDA_ERROR_INVALID_IMAGE; /* the fake reads fatbins only */
	m = malloc(sizeof *m);
	if (!m)
		return CUDA_ERROR_OUT_OF_MEMORY;
	*m = (struct fake_mod){ .magic = MAGIC_MOD, .ctx = current, .image = image,
	                        .image_bytes = size };
	*mod = m;
	return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule mod)
{
	if (!mod || mod->magic != MAGIC_MOD)
		return CUDA_ERROR_INVALID_HANDLE;
	drop_functions(mod);
	mod->magic = 0;
	free(mod);
	return CUDA_SUCCESS;
}

/* Whether the image holds `name` as a whole NUL-terminated symbol string
 * (an uncompressed fatbin keeps its ELF string tables readable). */
static int image_has(const struct fake_mod *m, const char *name)
{
	size_t n = strlen(name) + 1;
	const unsigned char *p = m->image, *end = m->image + m->image_bytes;

	while (n <= (size_t)(end - p) && (p = memchr(p, name[0], (size_t)(end - p) - n + 1))) {
		if (memcmp(p, name, n) == 0 &&
		    (p == m->image || !(isalnum(p[-1]) || p[-1] == '_')))
			return 1;
		p++;
	}
	return 0;
}

CUresult cuModuleGetFunction(CUfunction *fn, CUmodule mod, const char *name)
{
	struct fake_fn *f;

	if (!fn || !name || !mod || mod->magic != MAGIC_MOD)
		return CUDA_ERROR_INVALID_HANDLE;
	if (!image_has(mod, name))
		return CUDA_ERROR_NOT_FOUND;
	f = calloc(1, sizeof *f);
	if (!f)
		return CUDA_ERROR_OUT_OF_MEMORY;
	f->magic = MAGIC_FN;
	f->mod = mod;
	snprintf(f->name, sizeof f->name, "%s", name);
	f->next = fk.fns;
	fk.fns = f;
	*fn = f;
	return CUDA_SUCCESS;
}

#ifdef FAKECUDA_EMULATE
/* emulate.cc: the cuda plugin's kernels compiled for the host */
int fakecuda_emulate(const char *name, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                     unsigned by, unsigned bz, unsigned shared, void **params, char *why,
                     size_t whylen);
#endif

/* FAKECUDA_LAUNCH: 0 unset or empty, 1 noop, 2 emulate, -1 anything else
 * (fk.why says so). */
static int launch_mode(void)
{
	const char *env = getenv("FAKECUDA_LAUNCH");

	if (!env || !*env)
		return 0;
	if (strcmp(env, "noop") == 0)
		return 1;
	if (strcmp(env, "emulate") == 0) {
#ifdef FAKECUDA_EMULATE
		return 2;
#else
		invalid("FAKECUDA_LAUNCH=emulate: this fakecuda was built without its kernel "
		        "emulator (configure found no C++17 compiler, or no cuda kernels)");
		return -1;
#endif
	}
	invalid("FAKECUDA_LAUNCH='%.64s' is not a known value: 'noop' checks and counts "
	        "launches and runs nothing, 'emulate' also runs them on the CPU; unset, "
	        "launches fail with CUDA_ERROR_NOT_SUPPORTED", env);
	return -1;
}

CUresult cuLaunchKernel(CUfunction fn, unsigned int gx, unsigned int gy, unsigned int gz,
                        unsigned int bx, unsigned int by, unsigned int bz,
                        unsigned int shared_bytes, CUstream stream, void **params, void **extra)
{
	int dev, noop;
	CUresult rc = current_dev(&dev);

	if (rc)
		return rc;
	if ((noop = launch_mode()) < 0)
		return CUDA_ERROR_INVALID_VALUE;
	if (!fn || fn->magic != MAGIC_FN)
		return CUDA_ERROR_INVALID_HANDLE;
	if (fn->mod->ctx != current)
		return CUDA_ERROR_INVALID_CONTEXT;
	if (!noop) {
		if (!gx || !gy || !gz || !bx || !by || !bz || (unsigned long)bx * by * bz > 1024 ||
		    gy > 65535 || gz > 65535 || (!params && !extra))
			return CUDA_ERROR_INVALID_VALUE;
		return CUDA_ERROR_NOT_SUPPORTED;
	}

	/* FAKECUDA_LAUNCH=noop or emulate: what real hardware refuses, naming the limit */
	char at[300];
	unsigned long threads = (unsigned long)bx * by * bz;
	snprintf(at, sizeof at, "in cuLaunchKernel(%s, grid %ux%ux%u, block %ux%ux%u)", fn->name,
	         gx, gy, gz, bx, by, bz);
	if (!gx || !gy || !gz || !bx || !by || !bz)
		return invalid("a grid or block dimension of 0 %s", at);
	if (bx > MAX_BLOCK_XY)
		return invalid("block.x %u > %u %s", bx, MAX_BLOCK_XY, at);
	if (by > MAX_BLOCK_XY)
		return invalid("block.y %u > %u %s", by, MAX_BLOCK_XY, at);
	if (bz > MAX_BLOCK_Z)
		return invalid("block.z %u > %u %s", bz, MAX_BLOCK_Z, at);
	if (threads > MAX_BLOCK_THREADS)
		return invalid("%lu threads a block > %u %s", threads, MAX_BLOCK_THREADS, at);
	if (gx > MAX_GRID_X)
		return invalid("grid.x %u > %u (2^31-1) %s", gx, MAX_GRID_X, at);
	if (gy > MAX_GRID_YZ)
		return invalid("grid.y %u > %u %s", gy, MAX_GRID_YZ, at);
	if (gz > MAX_GRID_YZ)
		return invalid("grid.z %u > %u %s", gz, MAX_GRID_YZ, at);
	if (shared_bytes > MAX_SHARED)
		return invalid("%u bytes of dynamic shared memory > %u (48 KiB) %s", shared_bytes,
		               MAX_SHARED, at);
	if (!params)
		return invalid("kernelParams is NULL (the fake takes parameters only there) %s", at);
	if (extra)
		return invalid("extra is not NULL (the fake takes parameters only in kernelParams) "
		               "%s", at);
	if (stream && stream != CU_STREAM_LEGACY && stream != CU_STREAM_PER_THREAD)
		return invalid("stream %p is not a stream (the fake has none: NULL, CU_STREAM_LEGACY "
		               "or CU_STREAM_PER_THREAD) %s", (void *)stream, at);

	/* counted per device and kernel name; the handle remembers its entry */
	if (!fn->stat) {
		size_t i;
		for (i = 0; i < fk.n_ls; i++)
			if (fk.ls[i].dev == dev && strcmp(fk.ls[i].name, fn->name) == 0)
				break;
		if (i == fk.n_ls) {
			if (fk.n_ls == fk.cap_ls) {
				size_t cap = fk.cap_ls ? fk.cap_ls * 2 : 16;
				struct lstat *l = realloc(fk.ls, cap * sizeof *l);
				if (!l)
					return CUDA_ERROR_OUT_OF_MEMORY;
				fk.ls = l;
				fk.cap_ls = cap;
			}
			fk.ls[i] = (struct lstat){ .dev = dev };
			snprintf(fk.ls[i].name, sizeof fk.ls[i].name, "%s", fn->name);
			fk.n_ls++;
		}
		fn->stat = i + 1;
	}
	fk.ls[fn->stat - 1].count++;
	fk.launches++;
	if (shared_bytes > fk.max_shared)
		fk.max_shared = shared_bytes;
	if (threads > fk.max_block)
		fk.max_block = threads;
#ifdef FAKECUDA_EMULATE
	if (noop == 2 && fakecuda_emulate(fn->name, gx, gy, gz, bx, by, bz, shared_bytes, params,
	                                  fk.why, sizeof fk.why) != 0)
		return CUDA_ERROR_LAUNCH_FAILED;
#endif
	return CUDA_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

static const struct {
	CUresult rc;
	const char *name, *text;
} errors[] = {
	{ CUDA_SUCCESS, "CUDA_SUCCESS", "no error" },
	{ CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument" },
	{ CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory" },
	{ CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error" },
	{ CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected" },
	{ CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal" },
	{ CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE",
	  "device kernel image is invalid (fakecuda reads fatbins only)" },
	{ CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context" },
	{ CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU",
	  "no kernel image is available for execution on the device" },
	{ CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle" },
	{ CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found" },
	{ CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure" },
	{ CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED",
	  "operation not supported: a simulated device cannot run kernels (fakecuda)" },
	{ CUDA_ERROR_SYSTEM_DRIVER_MISMATCH, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
	  "system has unsupported display driver / cuda driver combination" },
	{ CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error" },
};

CUresult cuGetErrorName(CUresult rc, const char **name)
{
	if (!name)
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
		if (errors[i].rc == rc) {
			*name = errors[i].name;
			return CUDA_SUCCESS;
		}
	*name = NULL;
	return CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetErrorString(CUresult rc, const char **text)
{
	static char detail[640];

	if (!text)
		return CUDA_ERROR_INVALID_VALUE;
	if (rc == CUDA_ERROR_INVALID_VALUE && (fk.why[0] || fk.parse_error[0])) {
		snprintf(detail, sizeof detail, "invalid argument: %s",
		         fk.why[0] ? fk.why : fk.parse_error);
		*text = detail;
		return CUDA_SUCCESS;
	}
	if (rc == CUDA_ERROR_LAUNCH_FAILED && fk.why[0]) {
		snprintf(detail, sizeof detail, "unspecified launch failure: %s", fk.why);
		*text = detail;
		return CUDA_SUCCESS;
	}
	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
		if (errors[i].rc == rc) {
			*text = errors[i].text;
			return CUDA_SUCCESS;
		}
	*text = NULL;
	return CUDA_ERROR_INVALID_VALUE;
}
