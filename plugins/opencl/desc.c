/*
 * desc.c - the opencl backend's use of the host's probe cache (backend.h
 * cache_get/cache_put). Asking the ICD loader for its platforms loads every
 * vendor driver (pocl brings LLVM: tens of MB and a tenth of a second), and
 * the program build and self-test cost more; a command that only plans
 * should pay for none of it. So after a probe the facts each device's
 * description is made of go into the cache, stamped with a fingerprint of
 * what the device list depends on, taken without loading any driver: the
 * ICD vendor files and the libraries they name, the ICD loader, the
 * environment the loaders and drivers read, the options and the kernel
 * release. While the stamp holds, init describes the devices from the cache
 * and brings OpenCL up only when a device is first used (ocl_bring_up).
 *
 * Values (all printable ASCII, strings %XX-escaped), one per device under
 * "pPdD.desc", and the list under "devices":
 *
 *   devices:    ocl-list 1;n=2;p0d0,p1d0
 *   pPdD.desc:  ocl-desc 1;plat=+..;pver=+..;name=+..;board=-;...;kern=ok
 *
 * A value is parsed as hostile input: anything out of place is a miss, and
 * the devices are probed again.
 */
#include <build-config.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <trit/ternary.h>

#include "ocl.h"

#define LIST_KEY "devices"
#define LIST_MAGIC "ocl-list 1"
#define DESC_MAGIC "ocl-desc 1"
#define MAX_CACHED_DEVICES 64
#define ICD_FILE_MAX (64u << 10)

extern char **environ;

typedef unsigned long long ull;

static int have_cache(const struct ocl_state *st)
{
	const struct trit_host *h = &st->host;
	return TRIT_HOST_HAS(h, cache_put) && h->cache_get && h->cache_put;
}

static const char *env(const char *name)
{
#ifdef HAVE_SECURE_GETENV
	return secure_getenv(name);
#else
	return getenv(name);
#endif
}

/* ------------------------------------------------------------------------ */
/* The stamp.                                                                */

static uint64_t hash_str(uint64_t h, const char *s)
{
	return ocl_fnv1a(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* A file's identity: its name, size, modification time and inode, or that
 * it is absent. */
static uint64_t hash_identity(uint64_t h, const char *path)
{
	struct stat sb;
	uint64_t v[5] = { 0, 0, 0, 0, 0 };

	h = hash_str(h, path);
	if (stat(path, &sb) == 0) {
		v[0] = (uint64_t)sb.st_size;
		v[1] = (uint64_t)sb.st_mtim.tv_sec;
		v[2] = (uint64_t)sb.st_mtim.tv_nsec;
		v[3] = (uint64_t)sb.st_ino;
		v[4] = (uint64_t)sb.st_dev;
	}
	return ocl_fnv1a(h, v, sizeof v);
}

/* A library named by an ICD file or OCL_ICD_FILENAMES: a path, or a name
 * the dynamic linker finds through LD_LIBRARY_PATH, its cache or the
 * system directories (the loader's own directory first). */
static uint64_t hash_library(uint64_t h, const char *name, const char *loader_dir)
{
	static const char *const sys_dirs[] = { "/lib64", "/usr/lib64", "/lib", "/usr/lib",
		                                "/usr/local/lib" };
	const char *lp = env("LD_LIBRARY_PATH");
	char path[4096];

	if (!*name || strchr(name, '/'))
		return hash_identity(h, name);
	while (lp && *lp) {
		size_t n = strcspn(lp, ":");
		if (n && n < sizeof path - 2 - strlen(name)) {
			struct stat sb;
			snprintf(path, sizeof path, "%.*s/%s", (int)n, lp, name);
			if (stat(path, &sb) == 0)
				return hash_identity(h, path);
		}
		lp += n + (lp[n] == ':');
	}
	if (loader_dir && strlen(loader_dir) + strlen(name) + 2 < sizeof path) {
		struct stat sb;
		snprintf(path, sizeof path, "%s/%s", loader_dir, name);
		if (stat(path, &sb) == 0)
			return hash_identity(h, path);
	}
	for (size_t i = 0; i < sizeof sys_dirs / sizeof sys_dirs[0]; i++) {
		struct stat sb;
		if (strlen(sys_dirs[i]) + strlen(name) + 2 >= sizeof path)
			continue;
		snprintf(path, sizeof path, "%s/%s", sys_dirs[i], name);
		if (stat(path, &sb) == 0)
			return hash_identity(h, path);
	}
	return hash_str(h, name); /* not found: the name alone */
}

/* An .icd file: its contents and the library its first line names. */
static uint64_t hash_icd_file(uint64_t h, const char *path, const char *loader_dir)
{
	char *data = NULL, why[300];
	size_t len = 0, n;

	h = hash_identity(h, path);
	if (ocl_read_file(path, ICD_FILE_MAX, &data, &len, why, sizeof why) != 0)
		return hash_str(h, "unreadable");
	h = ocl_fnv1a(h, data, len);
	n = strcspn(data, "\r\n");
	data[n] = '\0';
	while (n > 0 && (data[n - 1] == ' ' || data[n - 1] == '\t'))
		data[--n] = '\0';
	h = hash_library(h, data + strspn(data, " \t"), loader_dir);
	free(data);
	return h;
}

static int icd_name(const struct dirent *e)
{
	size_t n = strlen(e->d_name);
	return n > 4 && !strcmp(e->d_name + n - 4, ".icd");
}

/* OCL_ICD_VENDORS and friends name a directory of .icd files, one .icd
 * file, or (ocl-icd) a library. */
static uint64_t hash_vendors(uint64_t h, const char *where, const char *loader_dir)
{
	struct stat sb;
	struct dirent **list = NULL;
	int n;

	h = hash_str(h, where);
	if (!where || stat(where, &sb) != 0)
		return h;
	if (!S_ISDIR(sb.st_mode)) {
		size_t len = strlen(where);
		return len > 4 && !strcmp(where + len - 4, ".icd")
		               ? hash_icd_file(h, where, loader_dir)
		               : hash_library(h, where, loader_dir);
	}
	if ((n = scandir(where, &list, icd_name, alphasort)) < 0)
		return hash_str(h, "unlistable");
	for (int i = 0; i < n; i++) {
		char path[4200];
		if (snprintf(path, sizeof path, "%s/%s", where, list[i]->d_name) < (int)sizeof path)
			h = hash_icd_file(h, path, loader_dir);
		free(list[i]);
	}
	free(list);
	return h;
}

/* The environment the ICD loaders and the drivers read to pick devices. */
static int env_matters(const char *kv)
{
	static const char *const prefixes[] = {
		"OCL_ICD", "OPENCL_", "POCL_", "LD_LIBRARY_PATH=", "CUDA_VISIBLE_DEVICES=",
		"ROCR_VISIBLE_DEVICES=", "HIP_VISIBLE_DEVICES=", "GPU_DEVICE_ORDINAL=",
		"ZE_AFFINITY_MASK=", "RUSTICL_",
	};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (!strncmp(kv, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

void ocl_cache_stamp(struct ocl_state *st)
{
	const struct ocl_options *o = &st->opt;
	uint64_t icd = OCL_FNV_INIT, opts = OCL_FNV_INIT, loader = OCL_FNV_INIT;
	char loader_dir[4096] = "";
	const char *filenames = env("OCL_ICD_FILENAMES");
	struct utsname u;
	Dl_info info;
	union {
		cl_int (*fn)(cl_uint, cl_platform_id *, cl_uint *);
		void *p;
	} sym;
	int n;

	st->stamp[0] = '\0';
	if (!have_cache(st))
		return;
	/* the ICD loader this plugin calls (loaded with the plugin; cheap) */
	sym.fn = clGetPlatformIDs;
	if (dladdr(sym.p, &info) && info.dli_fname) {
		const char *slash = strrchr(info.dli_fname, '/');
		loader = hash_identity(loader, info.dli_fname);
		if (slash && (size_t)(slash - info.dli_fname) < sizeof loader_dir)
			snprintf(loader_dir, sizeof loader_dir, "%.*s", (int)(slash - info.dli_fname),
			         info.dli_fname);
	}
	loader = hash_identity(loader, "/etc/ld.so.cache");
	for (char **e = environ; e && *e; e++)
		if (env_matters(*e))
			icd = hash_str(icd, *e);
	icd = hash_vendors(icd, env("OCL_ICD_VENDORS"), loader_dir);
	icd = hash_vendors(icd, env("OPENCL_VENDOR_PATH"), loader_dir);
	icd = hash_vendors(icd, "/etc/OpenCL/vendors", loader_dir);
	while (filenames && *filenames) {
		char name[4096];
		size_t k = strcspn(filenames, ":");
		if (k < sizeof name) {
			memcpy(name, filenames, k);
			name[k] = '\0';
			icd = hash_library(icd, name, loader_dir);
		}
		filenames += k + (filenames[k] == ':');
	}
	/* the options that change the list, the kernels or the self-test */
	opts = ocl_fnv1a(opts, &o->device_type, sizeof o->device_type);
	opts = ocl_fnv1a(opts, &o->kernels, sizeof o->kernels);
	opts = ocl_fnv1a(opts, &o->divide, sizeof o->divide);
	opts = hash_str(opts, o->build_options);
	opts = ocl_fnv1a(opts, st->source ? st->source : "", st->source ? st->source_len : 0);
	if (uname(&u) != 0)
		memset(&u, 0, sizeof u);
	n = snprintf(st->stamp, sizeof st->stamp, "icd=%016llx loader=%016llx opts=%016llx "
	             "tt=%u kernel=%.200s %.60s", (ull)icd, (ull)loader, (ull)opts, OCL_TT,
	             u.release, u.machine);
	if (n < 0 || (size_t)n >= sizeof st->stamp) {
		st->stamp[0] = '\0';
		return;
	}
	cpu_common_stamp_printable(st->stamp);
}

/* ------------------------------------------------------------------------ */
/* The value format.                                                         */

struct out {
	char *p;
	size_t len, used;
	int full;
};

static void put_raw(struct out *o, const char *s, size_t n)
{
	if (o->full || o->used + n >= o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->used, s, n);
	o->used += n;
	o->p[o->used] = '\0';
}

static void put_text(struct out *o, const char *s)
{
	put_raw(o, s, strlen(s));
}

static void put_u64(struct out *o, const char *key, uint64_t v)
{
	char buf[96];
	snprintf(buf, sizeof buf, ";%s=%llu", key, (ull)v);
	put_text(o, buf);
}

/* ";key=-" for NULL, else ";key=+" and the string with every byte outside
 * printable ASCII, and '%' and ';', as %XX. */
static void put_str(struct out *o, const char *key, const char *s)
{
	put_text(o, ";");
	put_text(o, key);
	if (!s) {
		put_text(o, "=-");
		return;
	}
	put_text(o, "=+");
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		char esc[4];
		if (*c >= 0x20 && *c <= 0x7e && *c != '%' && *c != ';') {
			put_raw(o, (const char *)c, 1);
			continue;
		}
		snprintf(esc, sizeof esc, "%%%02X", *c);
		put_raw(o, esc, 3);
	}
}

int ocl_desc_encode(const struct ocl_device *d, int kernels_state, const char *why, char *out,
                    size_t len)
{
	const struct ocl_facts *f = &d->f;
	struct out o = { out, len, 0, 0 };
	uint64_t flags = (uint64_t)f->little_endian | (uint64_t)f->compiler << 1 |
	                 (uint64_t)f->host_unified << 2 | (uint64_t)f->crdiv << 3 |
	                 (uint64_t)f->fp64 << 4 | (uint64_t)f->fp16 << 5 |
	                 (uint64_t)f->amd_free << 6 | (uint64_t)f->nv_attrs << 7;

	if (!len)
		return -1;
	out[0] = '\0';
	put_text(&o, DESC_MAGIC);
	put_str(&o, "plat", d->platform_name);
	put_str(&o, "pver", d->platform_version);
	put_str(&o, "name", f->name);
	put_str(&o, "board", f->board);
	put_str(&o, "vendor", f->vendor);
	put_str(&o, "dver", f->device_version);
	put_str(&o, "drv", f->driver_version);
	put_str(&o, "pool", f->pool_text);
	put_u64(&o, "type", f->type);
	put_u64(&o, "cu", f->compute_units);
	put_u64(&o, "mhz", f->clock_mhz);
	put_u64(&o, "mem", f->mem_total);
	put_u64(&o, "alloc", f->max_alloc);
	put_u64(&o, "local", f->local_mem);
	put_u64(&o, "gcache", f->global_mem_cache);
	put_u64(&o, "wg", f->max_wg);
	if (f->cc_ok)
		put_u64(&o, "cc", f->cc);
	else
		put_text(&o, ";cc=-");
	put_u64(&o, "flags", flags);
	if (kernels_state > 0)
		put_text(&o, ";kern=ok");
	else if (kernels_state == 0)
		put_text(&o, ";kern=off");
	else
		put_str(&o, "kern", why ? why : "failed");
	return o.full ? -1 : 0;
}

/* The next field "key=..." of *p (after ';'); its value in [*v, *v + *n). */
static int take(const char **p, const char *key, const char **v, size_t *n)
{
	size_t k = strlen(key);
	if (**p != ';' || strncmp(*p + 1, key, k) != 0 || (*p)[1 + k] != '=')
		return -1;
	*v = *p + 2 + k;
	*n = strcspn(*v, ";");
	*p = *v + *n;
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
	     : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A string field: NULL for "-", else the unescaped text in the pool. */
static int take_str(struct ocl_state *st, const char **p, const char *key, const char **out)
{
	const char *v;
	size_t n, j = 0;
	char *buf;

	if (take(p, key, &v, &n) != 0 || n == 0)
		return -1;
	if (n == 1 && v[0] == '-') {
		*out = NULL;
		return 0;
	}
	if (v[0] != '+' || !(buf = malloc(n)))
		return -1;
	for (size_t i = 1; i < n; i++) {
		if (v[i] != '%') {
			buf[j++] = v[i];
			continue;
		}
		if (i + 2 >= n + 0 || hexval(v[i + 1]) < 0 || hexval(v[i + 2]) < 0 ||
		    (hexval(v[i + 1]) | hexval(v[i + 2])) == 0) {
			free(buf);
			return -1;
		}
		buf[j++] = (char)(hexval(v[i + 1]) << 4 | hexval(v[i + 2]));
		i += 2;
	}
	buf[j] = '\0';
	*out = ocl_pool_printf(&st->pool, "%s", buf);
	free(buf);
	return *out ? 0 : -1;
}

static int take_u64(const char **p, const char *key, uint64_t *out)
{
	const char *v;
	size_t n;
	uint64_t x = 0;

	if (take(p, key, &v, &n) != 0 || n == 0 || n > 20 || (n > 1 && v[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

int ocl_desc_parse(struct ocl_state *st, const char *value, struct ocl_device *d, int *kernels,
                   const char **why, char *err, size_t errlen)
{
	struct ocl_facts *f = &d->f;
	const char *p = value, *v, *field = "the header";
	uint64_t flags = 0;
	size_t n;

	*why = NULL;
	memset(f, 0, sizeof *f);
	if (strncmp(p, DESC_MAGIC, strlen(DESC_MAGIC)) != 0)
		goto bad;
	p += strlen(DESC_MAGIC);
#define S(key, dst) field = key; if (take_str(st, &p, key, &(dst)) != 0) goto bad
#define U(key, dst) field = key; if (take_u64(&p, key, &(dst)) != 0) goto bad
	S("plat", d->platform_name);
	S("pver", d->platform_version);
	S("name", f->name);
	S("board", f->board);
	S("vendor", f->vendor);
	S("dver", f->device_version);
	S("drv", f->driver_version);
	S("pool", f->pool_text);
	U("type", f->type);
	U("cu", f->compute_units);
	U("mhz", f->clock_mhz);
	U("mem", f->mem_total);
	U("alloc", f->max_alloc);
	U("local", f->local_mem);
	U("gcache", f->global_mem_cache);
	U("wg", f->max_wg);
	field = "cc";
	if (!strncmp(p, ";cc=-", 5) && (p[5] == ';' || !p[5])) {
		p += 5;
	} else {
		U("cc", f->cc);
		f->cc_ok = 1;
	}
	U("flags", flags);
#undef S
#undef U
	field = "flags";
	if (flags >> 8 || !f->pool_text || f->clock_mhz > UINT64_MAX / 1000000u ||
	    f->max_wg == 0 || f->max_wg > SIZE_MAX)
		goto bad;
	f->little_endian = (int)(flags & 1);
	f->compiler = (int)(flags >> 1 & 1);
	f->host_unified = (int)(flags >> 2 & 1);
	f->crdiv = (int)(flags >> 3 & 1);
	f->fp64 = (int)(flags >> 4 & 1);
	f->fp16 = (int)(flags >> 5 & 1);
	f->amd_free = (int)(flags >> 6 & 1);
	f->nv_attrs = (int)(flags >> 7 & 1);
	field = "kern";
	if (take(&p, "kern", &v, &n) != 0)
		goto bad;
	if (n == 2 && !strncmp(v, "ok", 2)) {
		*kernels = 1;
	} else if (n == 3 && !strncmp(v, "off", 3)) {
		*kernels = 0;
	} else {
		p = v - strlen(";kern=");
		if (take_str(st, &p, "kern", why) != 0 || !*why)
			goto bad;
		*kernels = -1;
	}
	if (*p != '\0') {
		field = "the end";
		goto bad;
	}
	return 0;
bad:
	return ocl_errf(err, errlen, TRIT_EINVAL, "field '%s' is missing or malformed", field);
}

/* ------------------------------------------------------------------------ */
/* Loading and storing.                                                      */

/* "p3d12" into its two numbers. */
static int parse_id(const char *s, size_t n, uint32_t *plat, uint32_t *dev)
{
	unsigned a = 0, b = 0;
	size_t i = 0;

	if (n < 4 || s[i++] != 'p')
		return -1;
	if (s[i] < '0' || s[i] > '9')
		return -1;
	while (i < n && s[i] >= '0' && s[i] <= '9' && a < 1000)
		a = a * 10 + (unsigned)(s[i++] - '0');
	if (i >= n || s[i++] != 'd' || i >= n || s[i] < '0' || s[i] > '9')
		return -1;
	while (i < n && s[i] >= '0' && s[i] <= '9' && b < 1000)
		b = b * 10 + (unsigned)(s[i++] - '0');
	if (i != n || a >= 64 || b >= 64)
		return -1;
	*plat = a;
	*dev = b;
	return 0;
}

/* One device from its cached value; 0, or -1 with the reason in why. */
static int load_device(struct ocl_state *st, struct ocl_device *d, uint32_t plat, uint32_t dev,
                       char *why, size_t whylen)
{
	const struct trit_host *h = &st->host;
	char key[TRIT_HOST_CACHE_KEY_MAX + 1], *value;
	const char *id, *reason;
	uint64_t age = 0;
	int kernels = 0, rc;

	snprintf(key, sizeof key, "p%ud%u.desc", (unsigned)plat, (unsigned)dev);
	if (!(value = malloc(TRIT_HOST_CACHE_VALUE_MAX + 1)))
		return ocl_errf(why, whylen, -1, "out of memory");
	rc = h->cache_get(h->ctx, key, st->stamp, value, TRIT_HOST_CACHE_VALUE_MAX + 1, &age);
	if (rc != 1) {
		free(value);
		return ocl_errf(why, whylen, -1, "%s is not cached (%d)", key, rc);
	}
	value[TRIT_HOST_CACHE_VALUE_MAX] = '\0';
	memset(d, 0, sizeof *d);
	d->platform_index = plat;
	d->device_index = dev;
	rc = ocl_desc_parse(st, value, d, &kernels, &reason, why, whylen);
	free(value);
	if (rc != 0) {
		size_t n = strlen(why);
		snprintf(why + n, whylen - n, " in %s", key);
		return -1;
	}
	id = ocl_pool_printf(&st->pool, "p%ud%u", (unsigned)plat, (unsigned)dev);
	ocl_describe(st, d, id);
	d->from_probe_cache = 1;
	ocl_probe_memory(st, d);
	if (!st->opt.kernels) {
		ocl_program_build(st, d); /* only says why not; no OpenCL */
	} else if (kernels > 0) {
		d->kernels_text = "I2_S TL1 TL2";
		d->program_text = "not built yet: built (or loaded from the binary cache) and "
		                  "self-tested when the device is first used";
		d->kernels_src = ocl_measured(0, ocl_pool_printf(&st->pool, "probe cache: the "
			"program built and passed the self-test when the device was probed %s ago; "
			"it is built and self-tested again when the device is first used",
			cpu_common_age_text(age, &st->pool)));
	} else {
		d->kernels_text = d->program_text = NULL;
		d->kernels_src = ocl_unknown(ocl_pool_printf(&st->pool, "%s (probe cache, %s ago; "
			"`trit devices --remeasure` tries again)", reason ? reason : "failed",
			cpu_common_age_text(age, &st->pool)));
	}
	d->dev.matmul_types = kernels > 0 && st->opt.kernels
	                              ? TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
	                                        TRIT_TYPE_BIT(TRIT_TYPE_TL2)
	                              : 0;
	ocl_device_assemble(st, d);
	return 0;
}

int ocl_cache_load(struct ocl_state *st)
{
	const struct trit_host *h = &st->host;
	char list[TRIT_HOST_CACHE_VALUE_MAX + 1], why[300] = "";
	const char *p;
	uint64_t n = 0;

	if (!st->stamp[0])
		return 0;
	if (h->cache_get(h->ctx, LIST_KEY, st->stamp, list, sizeof list, NULL) != 1)
		return 0;
	list[TRIT_HOST_CACHE_VALUE_MAX] = '\0';
	p = list + strlen(LIST_MAGIC);
	if (strncmp(list, LIST_MAGIC, strlen(LIST_MAGIC)) != 0 || take_u64(&p, "n", &n) != 0 ||
	    n == 0 || n > MAX_CACHED_DEVICES || *p != ';') {
		ocl_errf(why, sizeof why, 0, "the device list '%.80s' is malformed", list);
		goto miss;
	}
	if (!(st->devs = calloc((size_t)n, sizeof *st->devs))) {
		ocl_errf(why, sizeof why, 0, "out of memory");
		goto miss;
	}
	for (p++; st->n_devs < n; st->n_devs++) {
		size_t k = strcspn(p, ",");
		uint32_t plat, dev;
		if (parse_id(p, k, &plat, &dev) != 0) {
			ocl_errf(why, sizeof why, 0, "device %u in the list '%.80s' is malformed",
			         (unsigned)st->n_devs, list);
			goto miss;
		}
		for (uint32_t i = 0; i < st->n_devs; i++)
			if (st->devs[i].platform_index == plat && st->devs[i].device_index == dev) {
				ocl_errf(why, sizeof why, 0, "p%ud%u is listed twice", plat, dev);
				goto miss;
			}
		if (load_device(st, &st->devs[st->n_devs], plat, dev, why, sizeof why) != 0)
			goto miss;
		p += k;
		if (*p == ',' && st->n_devs + 1 < n)
			p++;
		else if (*p != '\0' || st->n_devs + 1 < n) {
			ocl_errf(why, sizeof why, 0, "the device list '%.80s' does not hold %llu "
			         "devices", list, (ull)n);
			goto miss;
		}
	}
	if (st->pool.failed) {
		ocl_errf(why, sizeof why, 0, "out of memory");
		goto miss;
	}
	st->probe_cache_hit = 1;
	trit_host_logf(h, TRIT_LOG_DEBUG, "%u OpenCL device%s described from the probe cache; "
	               "OpenCL is brought up at first use", (unsigned)st->n_devs,
	               st->n_devs == 1 ? "" : "s");
	return 1;
miss:
	trit_host_logf(h, TRIT_LOG_INFO, "probe cache not used: %s; probing OpenCL again", why);
	for (uint32_t i = 0; i < st->n_devs; i++)
		ocl_pool_free(&st->devs[i].mem_pool);
	free(st->devs);
	st->devs = NULL;
	st->n_devs = 0;
	return 0;
}

void ocl_cache_store(struct ocl_state *st)
{
	const struct trit_host *h = &st->host;
	char *value, list[TRIT_HOST_CACHE_VALUE_MAX + 1];
	struct out o = { list, sizeof list, 0, 0 };
	char num[32];

	if (!st->stamp[0] || st->n_devs == 0 || st->n_devs > MAX_CACHED_DEVICES ||
	    !(value = malloc(TRIT_HOST_CACHE_VALUE_MAX + 1)))
		return;
	list[0] = '\0';
	put_text(&o, LIST_MAGIC);
	snprintf(num, sizeof num, ";n=%u;", (unsigned)st->n_devs);
	put_text(&o, num);
	for (uint32_t i = 0; i < st->n_devs; i++) {
		const struct ocl_device *d = &st->devs[i];
		char key[TRIT_HOST_CACHE_KEY_MAX + 1];
		int state = d->have_kernels ? 1 : st->opt.kernels ? -1 : 0;
		int rc;

		if (ocl_desc_encode(d, state, d->kernels_src.source, value,
		                    TRIT_HOST_CACHE_VALUE_MAX + 1) != 0) {
			trit_host_logf(h, TRIT_LOG_DEBUG, "%s: its description does not fit the probe "
			               "cache; not cached", d->dev.id);
			free(value);
			return;
		}
		snprintf(key, sizeof key, "%s.desc", d->dev.id);
		if ((rc = h->cache_put(h->ctx, key, st->stamp, value)) != 0) {
			trit_host_logf(h, TRIT_LOG_DEBUG, "%s: the probe cache refused it (%d)", key,
			               rc);
			free(value);
			return;
		}
		if (i)
			put_text(&o, ",");
		put_text(&o, d->dev.id);
	}
	free(value);
	if (!o.full)
		h->cache_put(h->ctx, LIST_KEY, st->stamp, list);
}
