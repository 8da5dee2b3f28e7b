/*
 * report/run_report.h - what `trit run` says after it ran: the load (RSS
 * before, peak and after; bytes in place, copied and repacked; bytes per
 * device; time), the speeds (prompt and decode tokens/s, with the plan's
 * estimate), and memory measured against the plan per component and for the
 * whole process. The caller fills one view; the text and the JSON are both
 * rendered from it, so they cannot disagree.
 */
#ifndef TRIT_REPORT_RUN_REPORT_H
#define TRIT_REPORT_RUN_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "load/load.h"

/* One component of one device: planned bytes and the bytes the run holds. */
struct trit_run_mem_row {
	const char *component;        /* "weights", "kv", "activations", "workspace", ... */
	uint64_t planned;
	uint64_t measured;
	int has_measured;             /* 0: nothing measures it (say so) */
	const char *how;              /* what "measured" counts */
};

#define TRIT_RUN_MEM_ROWS 8

/* One device's buffers: weights, KV cache, activation arena and workspace,
 * planned (the plan's figure for that device) and held by the run. */
enum { TRIT_RUN_DEV_WEIGHTS, TRIT_RUN_DEV_KV, TRIT_RUN_DEV_ACT, TRIT_RUN_DEV_WS,
       TRIT_RUN_DEV_N };
struct trit_run_dev_mem {
	const char *device;           /* "opencl/p0d0" */
	uint64_t planned[TRIT_RUN_DEV_N], measured[TRIT_RUN_DEV_N];
};

struct trit_run_view {
	const char *model;
	const char *device;           /* where the layers ran, "cpu_avx2/cpu0", or
	                               * "opencl/p0d0 + cpu_avx2/cpu0" for a split */
	uint32_t threads, n_ctx, ubatch;
	const char *kv_type;          /* "f16", ... */
	const char *replanned;        /* NULL, or why the plan was made again at load */
	/* generation */
	const int32_t *prompt_tokens, *tokens;
	uint32_t n_prompt, n_tokens, n_decode_evals;
	const char *text;
	size_t text_len;
	const char *stop;
	double prompt_seconds, decode_seconds, sample_seconds;
	double estimate_tps;          /* the plan's decode estimate; < 0 unknown */
	/* memory */
	struct trit_run_mem_row rows[TRIT_RUN_MEM_ROWS];
	uint32_t n_rows;
	uint64_t planned_total;       /* the plan's bytes on its devices, without headroom */
	uint64_t planned_host;        /* the part on devices whose buffers are host memory */
	const struct trit_run_dev_mem *devs; /* per device the plan uses */
	uint32_t n_devs;
	uint64_t rss_start;           /* the process before the load */
	uint64_t rss_peak;            /* VmHWM at the end */
	int peak_reset;               /* 1: VmHWM was reset before the load */
};

/* Tokens per second of n tokens in s seconds; < 0 when unknown. */
double trit_run_rate(uint64_t n, double s);

void trit_report_run_text(FILE *out, const struct trit_run_view *v);
char *trit_report_run_json(const struct trit_run_view *v, const char *plan_json,
                           const char *load_json);

/* The load report; names[i] names target i. */
void trit_report_load_text(FILE *out, const struct trit_load_report *r, const char *const *names);
char *trit_report_load_json(const struct trit_load_report *r, const char *const *names);

#endif
