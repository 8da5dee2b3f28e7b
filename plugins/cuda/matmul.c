/*
 * matmul.c - the cuda backend's ternary matrix products: check the operation
 * and its buffers, lay out the workspace (the same function answers
 * matmul_workspace, so the bytes reported are the bytes used), launch the
 * kernels of kernels.cu and wait for them. The arithmetic is in lanes.h and
 * kernels.cu; errors from the driver become sentences naming the kernel and
 * the device.
 *
 * Workspace of one op: int8 activations [tokens][cols_pad], zero-padded, then
 * on the F32 path one F32 multiplier per token. With TRIT_MATMUL_INT_DOTS and
 * cols == cols_pad the I8 input is read in place and no workspace is needed.
 */
#include <build-config.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <trit/ternary.h>

#include "internal.h"
#include "lanes.h"

#define GRID_Y_MAX 65535u
#define GRID_X_MAX 2147483647u

static uint32_t op_flags(const struct trit_matmul *op)
{
	/* flags was `reserved` (always 0) in hosts that predate it */
	return op->struct_size >= offsetof(struct trit_matmul, flags) + sizeof op->flags ?
	       op->flags : 0;
}

static const char *type_name(uint32_t t)
{
	const struct trit_type_traits *tr = trit_type_traits(t);
	return tr ? tr->name : "(unknown type)";
}

int cuda_ws_layout(const struct trit_matmul *op, struct cuda_ws_layout *l, char *err,
                   size_t errlen)
{
	struct trit_ternary_geometry g;
	uint32_t flags = op_flags(op);

	memset(l, 0, sizeof *l);
	if (op->struct_size < offsetof(struct trit_matmul, n_threads)) {
		snprintf(err, errlen, "struct trit_matmul is %u bytes, smaller than any host sends",
		         op->struct_size);
		return TRIT_EABI;
	}
	if (flags & ~TRIT_MATMUL_INT_DOTS) {
		snprintf(err, errlen, "matmul flags 0x%x: the cuda backend knows only "
		         "TRIT_MATMUL_INT_DOTS (0x1)", flags);
		return TRIT_EUNSUPPORTED;
	}
	if (op->weight_type != TRIT_TYPE_I2_S && op->weight_type != TRIT_TYPE_TL1 &&
	    op->weight_type != TRIT_TYPE_TL2) {
		snprintf(err, errlen, "the cuda backend has no %s matmul (it runs I2_S, TL1 and TL2)",
		         type_name(op->weight_type));
		return TRIT_EUNSUPPORTED;
	}
	if (!op->tokens || trit_ternary_geometry(op->weight_type, op->rows, op->cols, &g)) {
		snprintf(err, errlen, "%s matmul of %llu x %llu weights by %llu tokens: every "
		         "dimension must be at least 1 and below 2^40", type_name(op->weight_type),
		         (unsigned long long)op->rows, (unsigned long long)op->cols,
		         (unsigned long long)op->tokens);
		return TRIT_EINVAL;
	}
	if (op->tokens > INT32_MAX) {
		snprintf(err, errlen, "%llu tokens in one matmul: the cuda backend takes at most %d",
		         (unsigned long long)op->tokens, INT32_MAX);
		return TRIT_ERANGE;
	}
	if (g.cols_pad > UINT64_MAX / op->tokens) {
		snprintf(err, errlen, "%llu tokens x %llu columns overflow the workspace size",
		         (unsigned long long)op->tokens, (unsigned long long)g.cols_pad);
		return TRIT_ERANGE;
	}
	if (!(flags & TRIT_MATMUL_INT_DOTS) || g.cols_pad != op->cols)
		l->q_bytes = op->tokens * g.cols_pad;
	l->s_offset = l->q_bytes; /* cols_pad is a multiple of 64: aligned for F32 */
	l->s_bytes = flags & TRIT_MATMUL_INT_DOTS ? 0 : 4 * op->tokens;
	if (l->s_bytes > UINT64_MAX - l->q_bytes) {
		snprintf(err, errlen, "the workspace of %llu tokens overflows",
		         (unsigned long long)op->tokens);
		return TRIT_ERANGE;
	}
	l->total = l->q_bytes + l->s_bytes;
	return 0;
}

/* The device, if it runs kernels; else TRIT_EUNSUPPORTED with the reason. */
static int kernel_device(struct cuda_state *s, uint32_t device, struct cuda_dev **out,
                         char *err, size_t errlen)
{
	if (device >= s->n_devs) {
		snprintf(err, errlen, "the cuda backend has %u device%s; there is no device %u",
		         s->n_devs, s->n_devs == 1 ? "" : "s", device);
		return TRIT_EINVAL;
	}
	*out = &s->devs[device];
	return cuda_no_kernels(*out, err, errlen);
}

int cuda_no_kernels(const struct cuda_dev *d, char *err, size_t errlen)
{
	if (d->has_kernels)
		return 0;
	if (err)
		snprintf(err, errlen, "%s (%s) runs no kernels: %s", d->id, d->name,
		         d->kernels_text + strlen("none: "));
	return TRIT_EUNSUPPORTED;
}

int cuda_matmul_workspace(void *state, uint32_t device, const struct trit_matmul *op,
                          uint64_t *bytes, char *err, size_t errlen)
{
	struct cuda_ws_layout l;
	struct cuda_dev *d;
	int rc;

	if ((rc = kernel_device(state, device, &d, err, errlen)) ||
	    (rc = cuda_ws_layout(op, &l, err, errlen)))
		return rc;
	*bytes = l.total;
	return 0;
}

int cuda_launch(struct cuda_state *s, struct cuda_dev *d, enum cuda_kernel k, unsigned gx,
                unsigned gy, unsigned threads, unsigned shared, void **params, char *err,
                size_t errlen)
{
	CUresult r = s->drv.LaunchKernel(d->fn[k], gx, gy, 1, threads, 1, 1, shared, NULL, params,
	                                 NULL);
	if (r != CUDA_SUCCESS)
		return cuda_fail(&s->drv, r, err, errlen, "launching %s on %s (%s)",
		                 cuda_kernel_names[k], d->id, d->name);
	return 0;
}

int cuda_ternary_launch(struct cuda_state *s, struct cuda_dev *d,
                        const struct cuda_ternary_job *j, char *err, size_t errlen)
{
	struct trit_ternary_geometry g;
	int rc;

	if (trit_ternary_geometry(j->type, j->rows, j->cols, &g) != 0 || !j->tokens ||
	    j->tokens > INT32_MAX) {
		snprintf(err, errlen, "%s matmul of %llu x %llu weights by %llu tokens is outside "
		         "what the kernels take", type_name(j->type), (unsigned long long)j->rows,
		         (unsigned long long)j->cols, (unsigned long long)j->tokens);
		return TRIT_EINVAL;
	}
	/* the activations go to the workspace unless they are I8 rows of cols_pad */
	int pad = !j->in_i8 || j->cols != g.cols_pad;
	CUdeviceptr w = j->w, in = j->in, out = j->out, q = pad ? j->ws : j->in;
	CUdeviceptr sp = j->scales ? j->scales : j->in_i8 ? 0 : j->ws + j->tokens * g.cols_pad;
	uint64_t cols = j->cols, cols_pad = g.cols_pad, q_stride = pad ? cols_pad : cols;
	uint64_t rows = j->rows, tokens = j->tokens, data_bytes = g.data_bytes;

	if (pad) {
		void *qp[] = { &in, &cols, &cols_pad, &q, &sp };
		void *pp[] = { &in, &cols, &cols_pad, &q };
		rc = j->in_i8 ? cuda_launch(s, d, CUDA_K_PAD_I8, (unsigned)tokens, 1, CU_QTHREADS, 0,
		                            pp, err, errlen)
		              : cuda_launch(s, d, CUDA_K_QUANTIZE, (unsigned)tokens, 1, CU_QTHREADS, 0,
		                            qp, err, errlen);
		if (rc)
			return rc;
	}

	int gemv = tokens == 1, tt = gemv ? 1 : CU_TT;
	enum cuda_kernel k;
	uint64_t gx;
	switch (j->type) {
	case TRIT_TYPE_I2_S:
		k = gemv ? CUDA_K_I2S_GEMV : CUDA_K_I2S_GEMM;
		gx = (rows + CU_WARPS - 1) / CU_WARPS;
		break;
	case TRIT_TYPE_TL1:
		k = gemv ? CUDA_K_TL1_GEMV : CUDA_K_TL1_GEMM;
		gx = g.rows_pad / 32;
		break;
	default:
		k = gemv ? CUDA_K_TL2_GEMV : CUDA_K_TL2_GEMM;
		gx = g.rows_pad / 32;
		break;
	}
	if (gx > GRID_X_MAX) {
		snprintf(err, errlen, "%llu rows need %llu thread blocks, more than a CUDA grid holds",
		         (unsigned long long)rows, (unsigned long long)gx);
		return TRIT_ERANGE;
	}
	/* tokens in chunks of at most GRID_Y_MAX blocks of tt */
	for (uint64_t t_base = 0; t_base < tokens; t_base += (uint64_t)GRID_Y_MAX * tt) {
		uint64_t left = (tokens - t_base + (uint64_t)tt - 1) / (uint64_t)tt;
		unsigned gy = left > GRID_Y_MAX ? GRID_Y_MAX : (unsigned)left;
		void *mp[] = { &w, &data_bytes, &rows, &cols_pad, &q, &q_stride, &tokens, &t_base,
		               &sp, &out };
		if ((rc = cuda_launch(s, d, k, (unsigned)gx, gy, CU_WARPS * CU_WARP, 0, mp, err,
		                      errlen)))
			return rc;
	}
	return 0;
}

int cuda_matmul(void *state, uint32_t device, const struct trit_matmul *op, char *err,
                size_t errlen)
{
	struct cuda_state *s = state;
	struct cuda_dev *d;
	struct cuda_ws_layout l;
	struct trit_ternary_geometry g;
	int int_dots = (op_flags(op) & TRIT_MATMUL_INT_DOTS) != 0, rc;
	uint64_t in_bytes, out_bytes;
	CUresult r;

	if ((rc = kernel_device(s, device, &d, err, errlen)) ||
	    (rc = cuda_ws_layout(op, &l, err, errlen)))
		return rc;
	trit_ternary_geometry(op->weight_type, op->rows, op->cols, &g);
	if (op->cols > UINT64_MAX / 4 / op->tokens || op->rows > UINT64_MAX / 4 / op->tokens) {
		snprintf(err, errlen, "%llu tokens of %llu inputs and %llu outputs overflow",
		         (unsigned long long)op->tokens, (unsigned long long)op->cols,
		         (unsigned long long)op->rows);
		return TRIT_ERANGE;
	}
	in_bytes = op->tokens * op->cols * (int_dots ? 1 : 4);
	out_bytes = op->tokens * op->rows * 4;
	if ((rc = cuda_buffer_check(op->weights, device, op->weights_offset, g.total_bytes,
	                            "weights", err, errlen)) ||
	    (rc = cuda_buffer_check(op->input, device, op->input_offset, in_bytes, "input",
	                            err, errlen)) ||
	    (rc = cuda_buffer_check(op->output, device, op->output_offset, out_bytes, "output",
	                            err, errlen)))
		return rc;
	if (l.total && (rc = cuda_buffer_check(op->workspace, device, op->workspace_offset,
	                                       l.total, "workspace", err, errlen)))
		return rc;
	/* F32 and I32 elements: the kernels load and store whole words */
	const char *misaligned = NULL;
	uint64_t off = 0;
	if (!int_dots && op->input_offset % 4)
		misaligned = "input", off = op->input_offset;
	else if (op->output_offset % 4)
		misaligned = "output", off = op->output_offset;
	else if (l.s_bytes && op->workspace_offset % 4)
		misaligned = "workspace", off = op->workspace_offset;
	if (misaligned) {
		snprintf(err, errlen, "the %s offset %llu is not a multiple of 4 (F32/I32 elements)",
		         misaligned, (unsigned long long)off);
		return TRIT_EINVAL;
	}
	if ((rc = cuda_use(s, device, err, errlen)))
		return rc;

	struct cuda_ternary_job j = {
		.type = op->weight_type, .rows = op->rows, .cols = op->cols, .tokens = op->tokens,
		.w = op->weights->ptr + op->weights_offset, .in = op->input->ptr + op->input_offset,
		.out = op->output->ptr + op->output_offset,
		.ws = l.total ? op->workspace->ptr + op->workspace_offset : 0, .in_i8 = int_dots,
	};
	if ((rc = cuda_ternary_launch(s, d, &j, err, errlen)))
		return rc;
	if ((r = s->drv.CtxSynchronize()) != CUDA_SUCCESS)
		return cuda_fail(&s->drv, r, err, errlen, "running the %s matmul on %s (%s)",
		                 type_name(op->weight_type), d->id, d->name);
	return 0;
}
