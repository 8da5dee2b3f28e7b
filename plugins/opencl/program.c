/*
 * program.c - the kernels program of one device: built from the embedded
 * ternary.cl (or the `source` override) once per device and process, kept on
 * disk as a binary keyed by platform, device, driver, build options and
 * source, so later processes skip the compiler; then a self-test runs every
 * kernel on a small problem and compares with the C reference of
 * trit/ternary.h bit for bit. A device advertises the kernels only when all
 * of that worked; otherwise the reason is kept for `trit devices`. The graph
 * ops of ops.cl come from the same program; a source without them leaves
 * the device its ternary matmul only.
 */
#include <build-config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <trit/ternary.h>

#include "ocl.h"

#define CACHE_MAGIC "TRITCLB1"
#define CACHE_MAX_BYTES (UINT64_C(256) << 20)
#define LOG_EXCERPT 600

static const char *const kernel_names[OCL_FMT_COUNT][2] = {
	{ "trit_i2s_t1", "trit_i2s_tt" },
	{ "trit_tl1_t1", "trit_tl1_tt" },
	{ "trit_tl2_t1", "trit_tl2_tt" },
};
static const char *const vector_names[2][2] = {
	{ "trit_tl1v_t1", "trit_tl1v_tt" },
	{ "trit_tl2v_t1", "trit_tl2v_tt" },
};

static const char *const op_kernel_names[OCL_OP_KERNELS] = {
	"op_unary", "op_binary", "op_rms_norm", "op_quantize", "op_rope",
	"op_get_rows", "op_cpy", "op_kv_write", "op_matmul_f", "op_attention",
	"op_quant_q8", "op_matmul_q8",
};

void ocl_ops_release(struct ocl_ops *o)
{
	for (int i = 0; i < OCL_OP_KERNELS; i++)
		if (o->k[i])
			clReleaseKernel(o->k[i]);
	if (o->errors)
		clReleaseMemObject(o->errors);
	memset(o, 0, sizeof *o);
}

void ocl_kernels_release(struct ocl_kernels *k)
{
	for (int f = 0; f < OCL_FMT_COUNT; f++)
		for (int i = 0; i < 2; i++)
			if (k->dot[f][i])
				clReleaseKernel(k->dot[f][i]);
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < 2; i++)
			if (k->tlv[f][i])
				clReleaseKernel(k->tlv[f][i]);
	if (k->quantize)
		clReleaseKernel(k->quantize);
	if (k->pad)
		clReleaseKernel(k->pad);
	if (k->program)
		clReleaseProgram(k->program);
	memset(k, 0, sizeof *k);
}

/* ------------------------------------------------------------------------ */
/* The binary cache.                                                         */

static const char *env(const char *name)
{
#ifdef HAVE_SECURE_GETENV
	return secure_getenv(name);
#else
	return getenv(name);
#endif
}

const char *ocl_cache_dir(const struct ocl_state *st, char *buf, size_t len, char *why,
                          size_t whylen)
{
	const char *xdg = env("XDG_CACHE_HOME"), *home = env("HOME");
	int n;

	if (!st->opt.cache) {
		ocl_errf(why, whylen, 0, "the binary cache is off (%s)", st->opt.cache_where);
		return NULL;
	}
	if (st->opt.cache_dir)
		n = snprintf(buf, len, "%s", st->opt.cache_dir);
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/trit/opencl", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.cache/trit/opencl", home);
	else {
		ocl_errf(why, whylen, 0, "no binary cache: neither XDG_CACHE_HOME nor HOME is an "
		         "absolute path (set [plugin.opencl] cache_dir)");
		return NULL;
	}
	if (n < 0 || (size_t)n >= len) {
		ocl_errf(why, whylen, 0, "no binary cache: its directory name is too long");
		return NULL;
	}
	return buf;
}

/* mkdir -p, private to the user; 0 or -1 with errno. */
static int make_dirs(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n >= sizeof tmp)
		return errno = ENAMETOOLONG, -1;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static uint64_t cache_key(const struct ocl_state *st, const struct ocl_device *d,
                          const char *options)
{
	const char *parts[] = { d->platform_name, d->platform_version, d->dev.name, d->dev.vendor,
		                d->device_version, d->driver_version, options };
	uint64_t h = OCL_FNV_INIT;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		const char *s = parts[i] ? parts[i] : "";
		h = ocl_fnv1a(h, s, strlen(s) + 1);
	}
	return ocl_fnv1a(h, st->source, st->source_len);
}

/* Try the cached binary; 0 with k->program built, or -1 (reason logged). */
static int cache_load(struct ocl_state *st, struct ocl_device *d, const char *path, uint64_t key,
                      const char *options)
{
	const struct trit_host *h = &st->host;
	char *data = NULL, why[300], ebuf[64];
	size_t len = 0, size;
	uint64_t got_key, got_size;
	const unsigned char *bin;
	cl_int e, status = CL_SUCCESS;
	cl_program prog;

	if (access(path, R_OK) != 0)
		return -1; /* not cached yet */
	if (ocl_read_file(path, CACHE_MAX_BYTES, &data, &len, why, sizeof why) != 0) {
		trit_host_logf(h, TRIT_LOG_INFO, "%s: binary cache not used: %s", d->dev.id, why);
		return -1;
	}
	if (len < 24 || memcmp(data, CACHE_MAGIC, 8) != 0) {
		trit_host_logf(h, TRIT_LOG_INFO, "%s: binary cache %s is not a trit OpenCL cache "
		               "file (no " CACHE_MAGIC " header); rebuilding", d->dev.id, path);
		free(data);
		return -1;
	}
	memcpy(&got_key, data + 8, 8);
	memcpy(&got_size, data + 16, 8);
	if (got_key != key || got_size != len - 24) {
		trit_host_logf(h, TRIT_LOG_INFO, "%s: binary cache %s is for another build or "
		               "truncated (%llu bytes of binary announced, %llu present); rebuilding",
		               d->dev.id, path, (unsigned long long)got_size,
		               (unsigned long long)(len - 24));
		free(data);
		return -1;
	}
	bin = (const unsigned char *)data + 24;
	size = len - 24;
	prog = clCreateProgramWithBinary(d->ctx, 1, &d->id, &size, &bin, &status, &e);
	if (!prog || e != CL_SUCCESS || status != CL_SUCCESS) {
		trit_host_logf(h, TRIT_LOG_INFO, "%s: the driver refused the cached binary %s (%s); "
		               "rebuilding", d->dev.id, path,
		               ocl_strerror(e != CL_SUCCESS ? e : status, ebuf, sizeof ebuf));
		if (prog)
			clReleaseProgram(prog);
		free(data);
		return -1;
	}
	free(data);
	if ((e = clBuildProgram(prog, 1, &d->id, options, NULL, NULL)) != CL_SUCCESS) {
		trit_host_logf(h, TRIT_LOG_INFO, "%s: the cached binary %s does not build (%s); "
		               "rebuilding", d->dev.id, path, ocl_strerror(e, ebuf, sizeof ebuf));
		clReleaseProgram(prog);
		return -1;
	}
	d->k.program = prog;
	return 0;
}

static void cache_store(struct ocl_state *st, struct ocl_device *d, const char *dir,
                        const char *path, uint64_t key)
{
	const struct trit_host *h = &st->host;
	size_t size = 0;
	unsigned char *bin = NULL;
	char tmp[4200];
	uint64_t size64;
	FILE *f;
	int fd, ok;

	if (clGetProgramInfo(d->k.program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) !=
	            CL_SUCCESS || size == 0 || size > CACHE_MAX_BYTES - 24 ||
	    !(bin = malloc(size)) ||
	    clGetProgramInfo(d->k.program, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) != CL_SUCCESS) {
		trit_host_logf(h, TRIT_LOG_INFO, "%s: the driver gives no program binary; nothing "
		               "cached", d->dev.id);
		free(bin);
		return;
	}
	if (make_dirs(dir) != 0) {
		trit_host_logf(h, TRIT_LOG_INFO, "%s: cannot create the cache directory %s: %s; "
		               "nothing cached", d->dev.id, dir, strerror(errno));
		free(bin);
		return;
	}
	snprintf(tmp, sizeof tmp, "%s/.tmp-XXXXXX", dir);
	if ((fd = mkstemp(tmp)) < 0 || !(f = fdopen(fd, "wb"))) {
		trit_host_logf(h, TRIT_LOG_INFO, "%s: cannot write in the cache directory %s: %s; "
		               "nothing cached", d->dev.id, dir, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(bin);
		return;
	}
	size64 = size;
	ok = fwrite(CACHE_MAGIC, 1, 8, f) == 8 && fwrite(&key, 8, 1, f) == 1 &&
	     fwrite(&size64, 8, 1, f) == 1 && fwrite(bin, 1, size, f) == size;
	ok = (fclose(f) == 0) && ok;
	free(bin);
	if (!ok || rename(tmp, path) != 0) {
		trit_host_logf(h, TRIT_LOG_INFO, "%s: writing the cache file %s failed: %s",
		               d->dev.id, path, strerror(errno));
		unlink(tmp);
		return;
	}
	trit_host_logf(h, TRIT_LOG_DEBUG, "%s: program binary cached in %s (%zu bytes)",
	               d->dev.id, path, size);
}

/* ------------------------------------------------------------------------ */
/* Building.                                                                 */

/* The build log's first LOG_EXCERPT characters, one line, into the pool. */
static const char *build_log(struct ocl_state *st, struct ocl_device *d, cl_program prog)
{
	size_t n = 0;
	char *log;
	const char *s;

	if (clGetProgramBuildInfo(prog, d->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) != CL_SUCCESS ||
	    n <= 1 || !(log = calloc(1, n + 1)))
		return "(the driver gave no build log)";
	if (clGetProgramBuildInfo(prog, d->id, CL_PROGRAM_BUILD_LOG, n, log, NULL) != CL_SUCCESS) {
		free(log);
		return "(the driver gave no build log)";
	}
	for (char *p = log; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	if (strlen(log) > LOG_EXCERPT)
		strcpy(log + LOG_EXCERPT - 3, "...");
	for (size_t n2 = strlen(log); n2 > 0 && log[n2 - 1] == ' '; n2--)
		log[n2 - 1] = '\0';
	s = ocl_pool_printf(&st->pool, "%s", log);
	free(log);
	return s;
}

/* Fail the device's kernels with a reason (into the pool); returns -1. */
static int refuse(struct ocl_state *st, struct ocl_device *d, const char *fmt, ...)
	TRIT_PRINTF(3, 4);
static int refuse(struct ocl_state *st, struct ocl_device *d, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	d->kernels_text = NULL;
	d->program_text = NULL;
	d->kernels_src = ocl_unknown(ocl_pool_printf(&st->pool, "%s", msg));
	trit_host_logf(&st->host, TRIT_LOG_WARN, "%s '%s': no ternary kernels: %.400s", d->dev.id,
	               d->dev.name, msg);
	ocl_ops_release(&d->ops);
	d->have_ops = 0;
	ocl_kernels_release(&d->k);
	d->have_kernels = 0;
	return -1;
}

static int build_from_source(struct ocl_state *st, struct ocl_device *d, const char *options)
{
	const char *src = st->source;
	size_t len = st->source_len;
	char ebuf[64];
	cl_int e;
	cl_program prog = clCreateProgramWithSource(d->ctx, 1, &src, &len, &e);

	if (!prog || e != CL_SUCCESS)
		return refuse(st, d, "clCreateProgramWithSource failed for %s: %s", st->source_name,
		              ocl_strerror(e, ebuf, sizeof ebuf));
	e = clBuildProgram(prog, 1, &d->id, options, NULL, NULL);
	if (e != CL_SUCCESS) {
		const char *log = build_log(st, d, prog);
		clReleaseProgram(prog);
		return refuse(st, d, "building %s with options '%s' failed: %s; build log: %s",
		              st->source_name, options, ocl_strerror(e, ebuf, sizeof ebuf), log);
	}
	d->k.program = prog;
	return 0;
}

static size_t pow2_floor(size_t v)
{
	size_t p = 1;
	while (p * 2 <= v)
		p *= 2;
	return p;
}

static int create_kernels(struct ocl_state *st, struct ocl_device *d)
{
	struct ocl_kernels *k = &d->k;
	char ebuf[64];
	cl_int e;
	size_t wg, qwg = 256, dwg = 64;

	k->quantize = clCreateKernel(k->program, "trit_quantize", &e);
	if (e == CL_SUCCESS)
		k->pad = clCreateKernel(k->program, "trit_pad", &e);
	if (e != CL_SUCCESS)
		return refuse(st, d, "%s has no kernel trit_quantize/trit_pad: %s", st->source_name,
		              ocl_strerror(e, ebuf, sizeof ebuf));
	for (int f = 0; f < OCL_FMT_COUNT; f++)
		for (int i = 0; i < 2; i++) {
			k->dot[f][i] = clCreateKernel(k->program, kernel_names[f][i], &e);
			if (e != CL_SUCCESS)
				return refuse(st, d, "%s has no kernel %s: %s", st->source_name,
				              kernel_names[f][i], ocl_strerror(e, ebuf, sizeof ebuf));
		}
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < 2; i++) {
			k->tlv[f][i] = clCreateKernel(k->program, vector_names[f][i], &e);
			if (e != CL_SUCCESS)
				return refuse(st, d, "%s has no kernel %s: %s", st->source_name,
				              vector_names[f][i], ocl_strerror(e, ebuf, sizeof ebuf));
		}
	/* A CPU device's compiler vectorises inside a work-item, not across
	 * work-items that loop: there a work-item takes a whole TL tile with
	 * 16-lane vectors. A GPU runs the work-item-per-row-pair kernels. */
	k->tl_vector = (d->type & CL_DEVICE_TYPE_CPU) != 0;
	/* Work-group sizes every kernel of the kind accepts on this device. */
	if (qwg > d->max_wg)
		qwg = d->max_wg;
	if (dwg > d->max_wg)
		dwg = d->max_wg;
	if (clGetKernelWorkGroupInfo(k->quantize, d->id, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg,
	                             NULL) == CL_SUCCESS && wg && wg < qwg)
		qwg = wg;
	if (clGetKernelWorkGroupInfo(k->pad, d->id, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg,
	                             NULL) == CL_SUCCESS && wg && wg < qwg)
		qwg = wg;
	for (int f = 0; f < OCL_FMT_COUNT; f++)
		for (int i = 0; i < 2; i++)
			if (clGetKernelWorkGroupInfo(k->dot[f][i], d->id, CL_KERNEL_WORK_GROUP_SIZE,
			                             sizeof wg, &wg, NULL) == CL_SUCCESS &&
			    wg && wg < dwg)
				dwg = wg;
	k->quant_local = pow2_floor(qwg);
	k->dot_local = dwg;
	/* TL1/TL2: 16 work-items per 32-row tile. One tile per work-group on a
	 * CPU device, whose compiler then vectorises the tile's byte loads;
	 * four on others, to fill more of a GPU's SIMD width. */
	k->tile_local = (d->type & CL_DEVICE_TYPE_CPU) ? 16 : 64;
	for (int f = OCL_FMT_TL1; f < OCL_FMT_COUNT; f++)
		for (int i = 0; i < 2; i++)
			if (clGetKernelWorkGroupInfo(k->dot[f][i], d->id, CL_KERNEL_WORK_GROUP_SIZE,
			                             sizeof wg, &wg, NULL) == CL_SUCCESS &&
			    wg < k->tile_local)
				k->tile_local = wg / 16 * 16;
	if (k->tile_local < 16 || k->tile_local > d->max_wg)
		return refuse(st, d, "the TL1/TL2 kernels need work-groups of 16; the device allows %zu",
		              d->max_wg);
	return 0;
}

/* The graph ops' kernels and error words. Missing ones (a `source` override
 * that predates ops.cl) leave have_ops 0 with a note in the log. */
static void create_op_kernels(struct ocl_state *st, struct ocl_device *d)
{
	struct ocl_ops *o = &d->ops;
	size_t wg, local = 256;
	cl_int e = CL_SUCCESS;
	char ebuf[64], why[300];

	d->have_ops = 0;
	for (int i = 0; i < OCL_OP_KERNELS; i++) {
		o->k[i] = clCreateKernel(d->k.program, op_kernel_names[i], &e);
		if (e != CL_SUCCESS) {
			trit_host_logf(&st->host, TRIT_LOG_INFO, "%s: %s has no kernel %s (%s): "
			               "only the ternary matmul runs here", d->dev.id,
			               st->source_name, op_kernel_names[i],
			               ocl_strerror(e, ebuf, sizeof ebuf));
			ocl_ops_release(o);
			return;
		}
		if (clGetKernelWorkGroupInfo(o->k[i], d->id, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg,
		                             &wg, NULL) == CL_SUCCESS && wg && wg < local)
			local = wg;
	}
	o->local = pow2_floor(local < d->max_wg ? local : d->max_wg);
	o->errors = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, 4 * sizeof(cl_int), NULL, &e);
	if (!o->errors || e != CL_SUCCESS) {
		trit_host_logf(&st->host, TRIT_LOG_WARN, "%s: no buffer for the graph ops' error "
		               "words (%s): only the ternary matmul runs here", d->dev.id,
		               ocl_strerror(e, ebuf, sizeof ebuf));
		ocl_ops_release(o);
		return;
	}
	d->have_ops = 1;
	if (ocl_ops_self_test(st, d, why, sizeof why) != 0) {
		trit_host_logf(&st->host, TRIT_LOG_WARN, "%s '%s': the graph ops failed their "
		               "self-test (%s): only the ternary matmul runs here", d->dev.id,
		               d->dev.name, why);
		d->have_ops = 0;
		ocl_ops_release(o);
	}
}

/* ------------------------------------------------------------------------ */
/* The self-test: every kernel, both output kinds, against trit/ternary.h.   */

#define ST_ROWS 64u
#define ST_COLS 384u /* a multiple of 128, 64 and 96: no padding to keep zero */
#define ST_TOKENS (OCL_TT + 1u) /* one TT tile and one single token */

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* Random valid codes for every byte of a tensor without padding. */
static void fill_weights(uint32_t type, unsigned char *w, const struct trit_ternary_geometry *g,
                         uint32_t seed)
{
	for (uint64_t i = 0; i < g->data_bytes; i++) {
		uint32_t r = lcg(&seed);
		switch (type) {
		case TRIT_TYPE_I2_S:
			w[i] = (unsigned char)((r % 3) << 6 | (r / 3 % 3) << 4 | (r / 9 % 3) << 2 |
			                       (r / 27 % 3));
			break;
		case TRIT_TYPE_TL1:
			w[i] = (unsigned char)((r % 9) | (r / 9 % 9) << 4);
			break;
		default: { /* TL2: magnitudes 0..13, or sign bits in the last 128 bytes */
			uint64_t off = i % TRIT_TL2_GROUP_BYTES;
			w[i] = off >= 512 ? (unsigned char)r
			                  : (unsigned char)((r % 14) | (r / 14 % 14) << 4);
		}
		}
	}
	memset(w + g->data_bytes, 0, TRIT_TERNARY_TRAILER_BYTES);
	{
		float scale = 0.0421875f; /* exact in binary */
		memcpy(w + g->data_bytes, &scale, sizeof scale);
	}
}

static void fill_input(float *x, int8_t *q8, uint32_t seed)
{
	for (uint32_t t = 0; t < ST_TOKENS; t++)
		for (uint32_t k = 0; k < ST_COLS; k++) {
			uint32_t r = lcg(&seed);
			float v = ((float)(r % 20001u) - 10000.0f) / 2500.0f; /* -4 .. 4 */
			if (t == 1)
				v = 0.0f; /* amax 0: s = 127 / eps */
			else if (t == 2)
				v = k == 0 ? 127.0f : (float)((int)(r % 255u) - 127) / 2.0f; /* s = 1: ties */
			x[t * ST_COLS + k] = v;
			q8[t * ST_COLS + k] = (int8_t)((int)(r % 256u) - 128);
		}
}

static int self_test_one(struct ocl_state *st, struct ocl_device *d, uint32_t type, cl_mem w,
                         cl_mem in_q, cl_mem in_x, cl_mem out, cl_mem ws, const unsigned char *wh,
                         const struct trit_ternary_geometry *g, const float *x,
                         const int8_t *q8)
{
	struct trit_matmul op;
	int32_t got_i[ST_TOKENS * ST_ROWS];
	float got_f[ST_TOKENS * ST_ROWS];
	int8_t q[ST_COLS];
	char err[400], ebuf[64];
	float scale = trit_ternary_scale(wh, g->data_bytes);
	cl_int e;
	const char *tname = type == TRIT_TYPE_I2_S ? "I2_S" : type == TRIT_TYPE_TL1 ? "TL1" : "TL2";

	memset(&op, 0, sizeof op);
	op.struct_size = sizeof op;
	op.weight_type = type;
	op.rows = ST_ROWS;
	op.cols = ST_COLS;
	op.tokens = ST_TOKENS;
	for (int pass = 0; pass < 2; pass++) {
		int int_dots = pass == 0;
		op.flags = int_dots ? TRIT_MATMUL_INT_DOTS : 0;
		if (ocl_run(d, &op, w, int_dots ? in_q : in_x, out, ws, err, sizeof err) != 0)
			return refuse(st, d, "self-test: %s %s failed: %s", tname,
			              int_dots ? "integer dots" : "F32", err);
		e = clEnqueueReadBuffer(d->queue, out, CL_TRUE, 0, sizeof got_i,
		                        int_dots ? (void *)got_i : (void *)got_f, 0, NULL, NULL);
		if (e != CL_SUCCESS)
			return refuse(st, d, "self-test: reading the %s result failed: %s", tname,
			              ocl_strerror(e, ebuf, sizeof ebuf));
		for (uint32_t t = 0; t < ST_TOKENS; t++) {
			float s = 0.0f;
			const int8_t *qt = q8 + t * ST_COLS;
			if (!int_dots) {
				s = trit_quantize_act(x + t * ST_COLS, ST_COLS, q);
				qt = q;
			}
			for (uint32_t r = 0; r < ST_ROWS; r++) {
				int32_t dot = 0;
				for (uint32_t k = 0; k < ST_COLS; k++)
					dot += trit_ternary_get(type, g, wh, r, k) * qt[k];
				if (int_dots && got_i[t * ST_ROWS + r] != dot)
					return refuse(st, d, "self-test: %s integer dot of row %u, token "
					              "%u is %d on the device, %d in the C reference",
					              tname, r, t, (int)got_i[t * ST_ROWS + r], (int)dot);
				if (!int_dots) {
					float want = trit_ternary_output(dot, s, scale);
					float have = got_f[t * ST_ROWS + r];
					if (memcmp(&want, &have, sizeof want) != 0)
						return refuse(st, d, "self-test: %s F32 output of row "
						              "%u, token %u is %.9g on the device, %.9g in "
						              "the C reference (activation quantisation "
						              "or division differs)", tname, r, t,
						              (double)have, (double)want);
				}
			}
		}
	}
	return 0;
}

static int self_test(struct ocl_state *st, struct ocl_device *d)
{
	static const uint32_t types[] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
	float x[ST_TOKENS * ST_COLS];
	int8_t q8[ST_TOKENS * ST_COLS];
	unsigned char *wh = NULL;
	cl_mem w = NULL, in_q = NULL, in_x = NULL, out = NULL, ws = NULL;
	char ebuf[64];
	cl_int e = CL_SUCCESS;
	int rc = -1;
	size_t wmax = 0;

	for (size_t i = 0; i < 3; i++)
		if (trit_ternary_bytes(types[i], ST_ROWS, ST_COLS) > wmax)
			wmax = (size_t)trit_ternary_bytes(types[i], ST_ROWS, ST_COLS);
	fill_input(x, q8, 12345u);
	if (!(wh = malloc(wmax)))
		return refuse(st, d, "self-test: out of host memory");
	w = clCreateBuffer(d->ctx, CL_MEM_READ_ONLY, wmax, NULL, &e);
	if (e == CL_SUCCESS)
		in_q = clCreateBuffer(d->ctx, CL_MEM_READ_ONLY, sizeof q8, NULL, &e);
	if (e == CL_SUCCESS)
		in_x = clCreateBuffer(d->ctx, CL_MEM_READ_ONLY, sizeof x, NULL, &e);
	if (e == CL_SUCCESS)
		out = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, ST_TOKENS * ST_ROWS * 4, NULL, &e);
	if (e == CL_SUCCESS)
		ws = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, ST_TOKENS * (ST_COLS + 4), NULL, &e);
	if (e == CL_SUCCESS)
		e = clEnqueueWriteBuffer(d->queue, in_q, CL_TRUE, 0, sizeof q8, q8, 0, NULL, NULL);
	if (e == CL_SUCCESS)
		e = clEnqueueWriteBuffer(d->queue, in_x, CL_TRUE, 0, sizeof x, x, 0, NULL, NULL);
	if (e != CL_SUCCESS) {
		refuse(st, d, "self-test: cannot set up its buffers: %s",
		       ocl_strerror(e, ebuf, sizeof ebuf));
		goto done;
	}
	for (size_t i = 0; i < 3; i++) {
		struct trit_ternary_geometry g = { 0, 0, 0, 0 };
		if (trit_ternary_geometry(types[i], ST_ROWS, ST_COLS, &g) != 0) {
			refuse(st, d, "self-test: no geometry for type %u (a bug)", (unsigned)types[i]);
			goto done;
		}
		fill_weights(types[i], wh, &g, 777u + (uint32_t)i);
		e = clEnqueueWriteBuffer(d->queue, w, CL_TRUE, 0, g.total_bytes, wh, 0, NULL, NULL);
		if (e != CL_SUCCESS) {
			refuse(st, d, "self-test: writing the test data failed: %s",
			       ocl_strerror(e, ebuf, sizeof ebuf));
			goto done;
		}
		if (self_test_one(st, d, types[i], w, in_q, in_x, out, ws, wh, &g, x, q8) != 0)
			goto done;
	}
	rc = 0;
done:
	if (w)
		clReleaseMemObject(w);
	if (in_q)
		clReleaseMemObject(in_q);
	if (in_x)
		clReleaseMemObject(in_x);
	if (out)
		clReleaseMemObject(out);
	if (ws)
		clReleaseMemObject(ws);
	free(wh);
	return rc;
}

void ocl_program_build(struct ocl_state *st, struct ocl_device *d)
{
	const struct trit_host *h = &st->host;
	char options[1024], dirbuf[4096], path[4200], why[400];
	const char *dir, *how;
	uint64_t key;
	int emulate, cached = 0;
	double t0 = ocl_now();

	d->have_kernels = 0;
	if (!st->opt.kernels) {
		/* the operator's choice: a reason to show, not a warning */
		d->kernels_text = d->program_text = NULL;
		d->kernels_src = ocl_unknown(ocl_pool_printf(&st->pool, "not built: [plugin.opencl] %s",
		                                             st->opt.kernels_where));
		return;
	}
	if (!d->compiler) {
		refuse(st, d, "the device has no OpenCL C compiler (CL_DEVICE_COMPILER_AVAILABLE "
		       "is false)");
		return;
	}
	if (!d->little_endian) {
		refuse(st, d, "the device is big-endian; trit's weight layouts are little-endian");
		return;
	}
	emulate = st->opt.divide == OCL_DIVIDE_EMULATE ||
	          (st->opt.divide == OCL_DIVIDE_AUTO && !d->crdiv);
	snprintf(options, sizeof options, "-DTRIT_TT=%u -DTRIT_DIV_EMULATE=%d%s%s%s", OCL_TT,
	         emulate, emulate ? "" : " -cl-fp32-correctly-rounded-divide-sqrt",
	         st->opt.build_options ? " " : "",
	         st->opt.build_options ? st->opt.build_options : "");
	key = cache_key(st, d, options);
	dir = ocl_cache_dir(st, dirbuf, sizeof dirbuf, why, sizeof why);
	if (dir) {
		snprintf(path, sizeof path, "%s/%016llx.bin", dir, (unsigned long long)key);
		cached = cache_load(st, d, path, key, options) == 0;
	} else {
		trit_host_logf(h, TRIT_LOG_DEBUG, "%s: %s", d->dev.id, why);
	}
	if (!cached) {
		if (build_from_source(st, d, options) != 0)
			return;
		if (dir)
			cache_store(st, d, dir, path, key);
	}
	if (create_kernels(st, d) != 0 || self_test(st, d) != 0)
		return;
	create_op_kernels(st, d);
	d->build_seconds = ocl_now() - t0;
	d->from_cache = cached;
	d->have_kernels = 1;
	how = cached ? ocl_pool_printf(&st->pool, "loaded from the binary cache %s", path)
	             : ocl_pool_printf(&st->pool, "built from %s", st->source_name);
	d->kernels_text = "I2_S TL1 TL2";
	d->program_text = ocl_pool_printf(&st->pool, "%s in %.2f s, self-test passed",
	                                  cached ? "loaded from the binary cache" : "compiled",
	                                  d->build_seconds);
	d->kernels_src = ocl_measured(0, ocl_pool_printf(&st->pool,
		"%s with '%s', self-test passed, %.2f s in all; %s division", how, options,
		d->build_seconds, emulate ? "emulated correctly rounded" : "correctly rounded"));
	trit_host_logf(h, TRIT_LOG_INFO, "%s '%s': ternary kernels %s in %.2f s (self-test "
	               "passed)", d->dev.id, d->dev.name, cached ? "loaded from cache" : "built",
	               d->build_seconds);
}
