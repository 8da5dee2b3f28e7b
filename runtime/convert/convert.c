/*
 * convert/convert.c - the conversion behind trit_convert(): pick the source reader, write the
 * GGUF under a temporary name beside the output and rename it at the end,
 * and encode each tensor (F32, F16 or I2_S through trit's own packer) one
 * at a time, so memory holds one tensor and its encoding, never the model.
 */
#include <build-config.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <trit/quant.h>

#include "convert/convert.h"
#include "core/common.h"
#include "formats/ternary.h"
#include "model/ggml_types.h"

#define CV_CHUNK (UINT64_C(16) << 20) /* bytes per read when copying as stored */
#define CV_PROGRESS_BYTES (UINT64_C(64) << 20) /* models this large report progress */

struct cv_tensor *cv_push(struct cv_job *job)
{
	if (job->n_t == job->cap_t) {
		size_t cap = job->cap_t ? job->cap_t * 2 : 64;
		struct cv_tensor *t = realloc(job->t, cap * sizeof *t);
		if (!t)
			return NULL;
		job->t = t;
		job->cap_t = cap;
	}
	memset(&job->t[job->n_t], 0, sizeof job->t[0]);
	job->t[job->n_t].fd = -1;
	return &job->t[job->n_t++];
}

uint32_t cv_matrix_type(int convert_type)
{
	return convert_type == TRIT_CONVERT_F32 ? TRIT_GGML_F32
	     : convert_type == TRIT_CONVERT_F16 ? TRIT_GGML_F16 : TRIT_GGML_I2_S;
}

uint32_t cv_file_type(int convert_type)
{
	return convert_type == TRIT_CONVERT_F32 ? 0 : convert_type == TRIT_CONVERT_F16 ? 1
	     : CV_FTYPE_I2_S;
}

static uint64_t elements(const struct cv_tensor *t)
{
	uint64_t n = 1;

	for (uint32_t d = 0; d < t->n_dims; d++)
		n *= t->ne[d];
	return n;
}

int cv_plan_tensor(const struct cv_job *job, struct cv_tensor *t, char *err, size_t errlen)
{
	uint64_t n = elements(t);

	t->dst_type = t->kind == CV_NORM ? TRIT_GGML_F32
	            : t->kind == CV_MATRIX ? cv_matrix_type(job->o->type) : t->src_type;
	if (t->dst_type == t->src_type) {
		t->dst_bytes = t->bytes;
		return 0;
	}
	if (t->dst_type == TRIT_GGML_I2_S && (t->n_dims != 2 || n % 128 != 0))
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: tensor %s (%" PRIu64 " x %" PRIu64 "): I2_S packs blocks of 128 "
		                 "weights and this tensor has %" PRIu64 " elements; convert with "
		                 "--type f32 or f16", t->path, t->src_name, t->ne[1], t->ne[0], n);
	t->dst_bytes = t->dst_type == TRIT_GGML_I2_S ? n / 4 + TRIT_TERNARY_TRAILER_BYTES
	             : t->dst_type == TRIT_GGML_F16 ? n * 2 : n * 4;
	return 0;
}

static int read_at(const struct cv_tensor *t, void *buf, uint64_t len, uint64_t off,
                   char *err, size_t errlen)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t r = pread(t->fd, p, len > CV_CHUNK ? CV_CHUNK : (size_t)len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return trit_errf(err, errlen, TRIT_EIO, "%s: tensor %s: %s at byte offset %"
			                 PRIu64, t->path, t->src_name,
			                 r < 0 ? strerror(errno) : "file ends early (truncated?)", off);
		p += r;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

/* The tensor as stored, in bounded pieces. */
static int copy_stored(const struct cv_job *job, const struct cv_tensor *t, char *err,
                       size_t errlen)
{
	uint64_t chunk = t->bytes < CV_CHUNK ? t->bytes : CV_CHUNK;
	void *buf = malloc(chunk ? (size_t)chunk : 1);
	int rc = 0;

	if (!buf)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory copying %s", t->src_name);
	for (uint64_t done = 0; !rc && done < t->bytes; done += chunk) {
		uint64_t k = t->bytes - done < chunk ? t->bytes - done : chunk;
		rc = read_at(t, buf, k, t->offset + done, err, errlen);
		if (!rc)
			rc = trit_gguf_write_data(job->w, buf, (size_t)k, err, errlen);
	}
	free(buf);
	return rc;
}

/* A ternary tensor as its file holds it (I2_S: bitnet.cpp's layout, codes
 * flattened row-major in 128-weight blocks, then the trailer; TQ2_0:
 * llama.cpp's 256-weight blocks) into trit x scale floats. Goes through the
 * packer, which refuses invalid codes and TQ2_0 block scales that differ. */
static int decode_ternary(const struct cv_tensor *t, uint32_t src_type, const void *src,
                          float *f, char *err, size_t errlen)
{
	uint64_t rows = elements(t) / t->ne[0], cols = t->ne[0];
	uint64_t bytes = trit_ternary_bytes(TRIT_TYPE_I2_S, rows, cols);
	void *packed = bytes ? malloc((size_t)bytes) : NULL;
	char why[256];
	int rc;

	if (!packed)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory decoding %s", t->src_name);
	rc = trit_ternary_pack(TRIT_TYPE_I2_S, packed, bytes, src_type, src, t->bytes, rows, cols,
	                       why, sizeof why);
	if (!rc)
		rc = trit_ternary_unpack_f32(TRIT_TYPE_I2_S, packed, rows, cols, f, why, sizeof why);
	free(packed);
	if (rc)
		return trit_errf(err, errlen, rc, "%s: tensor %s: %s", t->path, t->src_name, why);
	return 0;
}

/* The stored bytes as floats. */
static int decode(const struct cv_tensor *t, const void *src, float *f, char *err,
                  size_t errlen)
{
	uint64_t n = elements(t);
	const uint16_t *h = src;

	switch (t->src_type) {
	case TRIT_GGML_F32:
		memcpy(f, src, (size_t)n * 4);
		return 0;
	case TRIT_GGML_F16:
		for (uint64_t i = 0; i < n; i++)
			f[i] = trit_f16_to_f32(h[i]);
		return 0;
	case TRIT_GGML_BF16:
		for (uint64_t i = 0; i < n; i++)
			f[i] = trit_bf16_to_f32(h[i]);
		return 0;
	case TRIT_GGML_I2_S:
		return decode_ternary(t, TRIT_TERNARY_SRC_I2S_BITNET, src, f, err, errlen);
	case TRIT_GGML_TQ2_0:
		return decode_ternary(t, TRIT_TYPE_TQ2_0, src, f, err, errlen);
	}
	return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "%s: tensor %s: cannot re-encode type %u",
	                 t->path, t->src_name, t->src_type);
}

/* Every value is 0 or +-s for one s: BitNet's BitLinear weights. */
static int check_ternary(const struct cv_tensor *t, const float *f, uint64_t n, char *err,
                         size_t errlen)
{
	uint64_t first = UINT64_MAX;

	for (uint64_t i = 0; i < n; i++) {
		float a = fabsf(f[i]);
		if (!isfinite(a))
			return trit_errf(err, errlen, TRIT_EFORMAT, "%s: tensor %s: element %" PRIu64
			                 " is not finite", t->path, t->src_name, i);
		if (a == 0.0f)
			continue;
		if (first == UINT64_MAX)
			first = i;
		else if (a != fabsf(f[first]))
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "%s: tensor %s is not ternary x one scale (|element %" PRIu64
			                 "| = %g, |element %" PRIu64 "| = %g), so it cannot be I2_S "
			                 "as it is; convert with --type f32 or f16, or with --ternarize "
			                 "(BitNet's absmean rule)", t->path, t->src_name, first,
			                 (double)fabsf(f[first]), i, (double)a);
	}
	return 0;
}

/* floats into the output encoding, in place where the encoding is smaller
 * or equal; I2_S into out. */
static int encode(const struct cv_job *job, const struct cv_tensor *t, float *f, void *out,
                  char *err, size_t errlen)
{
	uint64_t n = elements(t);
	uint16_t *h = (uint16_t *)(void *)f;
	char why[256];
	int rc;

	if (t->dst_type == TRIT_GGML_F16)
		for (uint64_t i = 0; i < n; i++)
			h[i] = trit_f32_to_f16(f[i]);
	if (t->dst_type != TRIT_GGML_I2_S)
		return 0;
	if (!job->o->ternarize && (rc = check_ternary(t, f, n, err, errlen)))
		return rc;
	/* bitnet.cpp's file layout flattens the rows into 128-weight blocks:
	 * trit's I2_S of one row of n weights is exactly that */
	rc = trit_ternary_pack(TRIT_TYPE_I2_S, out, t->dst_bytes, TRIT_TYPE_F32, f, n * 4, 1, n,
	                       why, sizeof why);
	if (rc)
		return trit_errf(err, errlen, rc, "%s: tensor %s: %s", t->path, t->src_name, why);
	return 0;
}

int cv_write_tensor(const struct cv_job *job, const struct cv_tensor *t, char *err,
                    size_t errlen)
{
	uint64_t n = elements(t);
	void *src = NULL, *out = NULL;
	float *f = NULL;
	int rc;

	if (t->dst_type == t->src_type)
		return copy_stored(job, t, err, errlen);
	if (n > SIZE_MAX / 4 || !(src = malloc(t->bytes ? (size_t)t->bytes : 1)) ||
	    !(f = malloc((size_t)n * 4)) ||
	    (t->dst_type == TRIT_GGML_I2_S && !(out = malloc((size_t)t->dst_bytes)))) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory converting %s (%" PRIu64
		               " elements)", t->src_name, n);
		goto done;
	}
	if ((rc = read_at(t, src, t->bytes, t->offset, err, errlen)) ||
	    (rc = decode(t, src, f, err, errlen)))
		goto done;
	free(src);
	src = NULL;
	if ((rc = encode(job, t, f, out, err, errlen)))
		goto done;
	rc = trit_gguf_write_data(job->w, out ? out : (void *)f, (size_t)t->dst_bytes, err, errlen);
done:
	free(src);
	free(f);
	free(out);
	return rc;
}

/* ---------------------------------------------------------------- driver */

static int write_all(struct cv_job *job, FILE *f, const char *tmp, char *err, size_t errlen)
{
	uint64_t total = 0;
	int rc, loud;

	for (size_t i = 0; i < job->n_t; i++)
		total += job->t[i].bytes;
	loud = job->o->progress && total >= CV_PROGRESS_BYTES;
	if ((rc = trit_gguf_write_header(job->w, f, tmp, err, errlen)))
		return rc;
	for (size_t i = 0; i < job->n_t; i++) {
		const struct cv_tensor *t = &job->t[i];
		if (loud)
			fprintf(job->o->progress, "[%zu/%zu] %s\n", i + 1, job->n_t, t->name);
		if ((rc = cv_write_tensor(job, t, err, errlen)))
			return rc;
	}
	return trit_gguf_write_finish(job->w, err, errlen);
}

/* OUT.tmp-XXXXXX beside OUT, opened for writing. */
static FILE *open_temp(const char *out, char **tmp, char *err, size_t errlen)
{
	int fd;
	FILE *f;

	if (!(*tmp = trit_asprintf("%s.tmp-XXXXXX", out))) {
		trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
		return NULL;
	}
	if ((fd = mkstemp(*tmp)) < 0) {
		trit_errf(err, errlen, TRIT_EIO, "%s: cannot create a file beside it: %s", out,
		          strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	fchmod(fd, 0644);
	if (!(f = fdopen(fd, "wb"))) {
		trit_errf(err, errlen, TRIT_EIO, "%s: %s", *tmp, strerror(errno));
		close(fd);
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return f;
}

static int write_out(struct cv_job *job, struct trit_convert_result *res, char *err,
                     size_t errlen)
{
	char *tmp = NULL;
	FILE *f = open_temp(job->o->out, &tmp, err, errlen);
	int rc;

	if (!f)
		return TRIT_EIO;
	rc = write_all(job, f, tmp, err, errlen);
	if (!rc && fflush(f) != 0)
		rc = trit_errf(err, errlen, TRIT_EIO, "%s: write failed: %s", tmp, strerror(errno));
	if (!rc && res)
		res->bytes = (uint64_t)ftello(f);
	if (!rc && fsync(fileno(f)) != 0)
		rc = trit_errf(err, errlen, TRIT_EIO, "%s: fsync failed: %s", tmp, strerror(errno));
	if (fclose(f) != 0 && !rc)
		rc = trit_errf(err, errlen, TRIT_EIO, "%s: close failed: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, job->o->out) != 0)
		rc = trit_errf(err, errlen, TRIT_EIO, "%s: cannot rename %s to it: %s", job->o->out,
		               tmp, strerror(errno));
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

static void result(const struct cv_job *job, struct trit_convert_result *res)
{
	res->n_tensors = job->n_t;
	for (size_t i = 0; i < job->n_t; i++)
		res->n_converted += job->t[i].dst_type != job->t[i].src_type;
	res->file_type = cv_file_type(job->o->type);
	res->n_kv = trit_gguf_writer_n_kv(job->w);
}

int cv_convert(const struct trit_convert_options *o, struct trit_convert_result *res,
               char *err, size_t errlen)
{
	struct cv_job job = { .o = o };
	struct stat st;
	int rc, dir;

	if (res)
		memset(res, 0, sizeof *res);
	if (!o || !o->src || !o->out || o->type < TRIT_CONVERT_I2_S || o->type > TRIT_CONVERT_F16)
		return trit_errf(err, errlen, TRIT_EINVAL, "trit_convert: bad options");
	if (stat(o->src, &st) != 0)
		return trit_errf(err, errlen, TRIT_EIO, "%s: %s", o->src, strerror(errno));
	dir = S_ISDIR(st.st_mode);
	rc = dir ? cv_from_hf(&job, err, errlen) : cv_from_gguf(&job, err, errlen);
	if (!rc)
		rc = write_out(&job, res, err, errlen);
	if (!rc && res)
		result(&job, res);
	if (dir)
		cv_hf_free(&job);
	else
		cv_gguf_free(&job);
	trit_gguf_writer_free(job.w);
	free(job.t);
	return rc;
}
