/*
 * conformance.h - the core of trit-conformance: the op x type x shape cases
 * of ABI v2, their seeded inputs, running one case on a device under test
 * and on an oracle backend, and the tolerance check.
 *
 * The core needs only the SDK headers and two backend tables (it never calls
 * libtrit), so a stand-alone test can link it with a plugin's own sources and
 * the reference kernels. main.c finds the tables through libtrit's registry.
 */
#ifndef TRIT_CONFORMANCE_H
#define TRIT_CONFORMANCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <trit/backend.h>

/* One device of one backend, as the suite calls it. */
struct cf_backend {
	const struct trit_backend *be;
	void *state;
	uint32_t device;
	const char *name;     /* "cpu_avx2/cpu0", for messages */
};

/* Case flags. */
#define CF_INPLACE (1u << 0) /* dst is src[0] */
#define CF_VIEW    (1u << 1) /* rows of every F32/I8 operand are strided */
#define CF_I8      (1u << 2) /* MATMUL: I8 activations with scales (QUANTIZE_ACT form) */
#define CF_BCAST   (1u << 3) /* ADD/MUL: y is one row broadcast over x */
#define CF_NOGAMMA (1u << 4) /* RMS_NORM without the weight operand */
#define CF_SCALAR  (1u << 5) /* ADD/MUL: y is a single element */

/* A pseudo-op after the real ones: a buffer write/copy/read round trip. */
#define CF_OP_BUFFER TRIT_OP_COUNT

/* One case: an op, its types and its shape. The meaning of d[] per op is in
 * cases.c (cf_case_label() prints it). */
struct cf_case {
	uint32_t op;
	uint32_t t0;          /* the type that varies: weights, table, cache, CPY source */
	uint32_t t1;          /* CPY destination type; else unused */
	uint64_t d[4];
	int32_t ip[4];
	float fp[4];
	unsigned flags;
};

/* The whole case list (built once; owned by cases.c). */
size_t cf_cases(const struct cf_case **out);
const char *cf_op_name(uint32_t op);
/* The op for a name ("MATMUL", "matmul", "buffer"), or -1. */
int cf_op_from_name(const char *name);
/* The type for a name ("I2_S", "q8_0"), or -1. */
int cf_type_from_name(const char *name);
/* "MATMUL I2_S M=33 K=256 T=3 view" into buf. */
void cf_case_label(const struct cf_case *c, char *buf, size_t len);
/* 1 when the case mentions `type` as any of its types. */
int cf_case_has_type(const struct cf_case *c, uint32_t type);

/* ------------------------------------------------------------------------ */
/* Operands (tensors.c)                                                      */

#define CF_MAX_OPERANDS (1 + TRIT_NODE_MAX_SRC) /* 0 = dst, 1 + i = src[i] */

enum cf_tol_kind {
	CF_TOL_EXACT = 0, /* every element equal (NaN equals NaN) */
	CF_TOL_NMSE,      /* sum (a-b)^2 / sum b^2 <= eps */
	CF_TOL_ELEM       /* |a-b| <= tol[i] per element */
};

struct cf_operand {
	int used;
	int output;           /* compared after the run */
	int alias;            /* the same tensor as src[0] (in place) */
	struct trit_tensor t; /* buffer and offset filled per backend */
	uint64_t bytes;       /* buffer size */
	unsigned char *init;  /* initial contents, `bytes` long */
	uint64_t n;           /* logical elements (ne[0] * ne[1] * ne[2] * ne[3]) */
	float *val;           /* decoded values of the inputs, logical order */
	/* outputs: how to compare */
	int tol_kind;
	double eps;           /* NMSE bound */
	float *tol;           /* per-element bound (CF_TOL_ELEM), n long */
	const char *why;      /* one phrase: the reason for this tolerance */
};

struct cf_setup {
	struct trit_node node;  /* op and params; tensors come from operands */
	struct cf_operand o[CF_MAX_OPERANDS];
};

/* Build the operands of case c from seed. 0, or a negative TRIT_E* with err. */
int cf_setup(const struct cf_case *c, uint64_t seed, struct cf_setup *s, char *err, size_t errlen);
void cf_setup_free(struct cf_setup *s);

/* Logical element values of a tensor's bytes (laid out as t describes, from
 * byte 0 = t->offset) into out[n]. Types F32, F16, BF16, I8, I32, Q8_0. */
int cf_decode(const struct trit_tensor *t, const unsigned char *bytes, float *out);
/* Bytes a tensor spans from its offset. */
uint64_t cf_tensor_span(const struct trit_tensor *t);

/* The seeded PRNG (splitmix64). */
struct cf_rng { uint64_t s; };
uint64_t cf_rng_next(struct cf_rng *r);
float cf_rng_uniform(struct cf_rng *r, float lo, float hi);

/* ------------------------------------------------------------------------ */
/* Encoders from the documented layouts (encode.c)                          */

/* Pack trits t[rows * cols] (row-major, -1/0/+1) into `type` (I2_S, TL1, TL2)
 * with the given scale; dst has trit_ternary_bytes() bytes. */
void cf_pack_ternary(uint32_t type, const int8_t *t, uint64_t rows, uint64_t cols, float scale,
                     unsigned char *dst);
void cf_pack_tq2_0(const int8_t t[256], float d, unsigned char *dst);
void cf_pack_tq1_0(const int8_t t[256], float d, unsigned char *dst);
/* Decode what was packed with the header's own readers and compare: the
 * suite checks its encoders against trit/ternary.h and trit/quant.h. */
int cf_check_ternary(uint32_t type, const int8_t *t, uint64_t rows, uint64_t cols,
                     const unsigned char *packed);

/* ------------------------------------------------------------------------ */
/* Running (run.c, node.c)                                                   */

/* 1 when the backend runs the node: supports_op(), or for a table without
 * it (a v1 plugin linked stand-alone) a contiguous F32-activation MATMUL of
 * a type in the device's matmul_types. */
int cf_supports(const struct cf_backend *b, const struct trit_node *n);
/* Run one node with the graph call, or matmul() for a table without it. */
int cf_compute(const struct cf_backend *b, const struct trit_node *n, char *err, size_t errlen);

/* Outputs of one backend's run: out[i] holds operand i's bytes (outputs only). */
struct cf_result {
	unsigned char *out[CF_MAX_OPERANDS];
};

/* Allocate, upload, run and download case s on b. */
int cf_run(const struct cf_backend *b, const struct cf_setup *s, struct cf_result *r,
           char *err, size_t errlen);
void cf_result_free(struct cf_result *r);

/* ------------------------------------------------------------------------ */
/* Comparing (compare.c)                                                     */

struct cf_verdict {
	int ok;
	int operand;          /* the first operand that failed */
	double max_abs, max_rel;
	double err;           /* NMSE found, or the largest |a-b| - tol */
	double bound;         /* NMSE bound, or the tolerance at the first bad element */
	uint64_t first_bad;   /* logical element index */
	float got, want;
};

/* Compare the outputs of the device under test (dut) with the oracle's. */
int cf_compare(const struct cf_setup *s, const struct cf_result *dut,
               const struct cf_result *ref, struct cf_verdict *v, char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* The whole suite on one device (report.c)                                  */

struct cf_filter {
	int op, type;         /* -1 = any */
	uint64_t seed;
	int verbose;          /* also print passes and skips */
	int json;             /* one JSON object per line instead of text */
};

struct cf_tally {
	unsigned passed, failed, skipped;
};

/* Run every selected case on dut, compared with ref, printing to out one
 * line per failure (and, verbose, per pass and skip); adds to *t. */
void cf_run_device(const struct cf_backend *dut, const struct cf_backend *ref,
                   const struct cf_filter *f, struct cf_tally *t, FILE *out);
/* 1 when case c passes the filter. */
int cf_selected(const struct cf_filter *f, const struct cf_case *c);

#endif
