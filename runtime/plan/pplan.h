/*
 * pplan.h - a parallel deployment planned on GPUs: given the degrees
 * (parallel.h), the memory one rank of each pipeline stage holds (the
 * estimator with the sharding rules, weights as the file stores them) and
 * whether each rank fits the GPU it is given. The deployment is run by
 * another engine (vLLM, llama.cpp's RPC backend), not by trit.
 */
#ifndef TRIT_PPLAN_H
#define TRIT_PPLAN_H

#include <stdint.h>

#include "plan/estimate.h"
#include "plan/parallel.h"

/* A GPU offered to a parallel plan. */
struct trit_pplan_gpu {
	char host[64];       /* the machine; "" = this one */
	char name[96];       /* "cuda/gpu0" */
	uint64_t free;       /* free bytes, measured (or as a described machine states) */
	uint64_t usable;     /* what a rank may use: free, or its [memory] limit, x gpu_fraction */
	uint64_t overhead;   /* the runtime overhead measured on it (mem.overhead); 0 unknown */
	uint64_t total;      /* its memory (an emitted vLLM share is of it); 0 unknown */
	char vendor[32];     /* "NVIDIA", ...; "" unknown */
	uint32_t machine;    /* its machine (0 when there is one) */
	uint32_t local;      /* its place among its machine's GPUs, from 0 */
};

#define TRIT_PPLAN_NO_GPU UINT32_MAX

/* One rank: stage s, rank r within it, on gpu (TRIT_PPLAN_NO_GPU: none left). */
struct trit_pplan_rank {
	uint32_t stage, rank, gpu;
	uint64_t need;       /* the stage's rank buffers + the GPU's overhead */
	uint64_t headroom;   /* kept free on top */
	int fits;            /* need + headroom <= the GPU's usable */
};

struct trit_pplan {
	struct trit_parallel par;
	uint32_t stage_ranks;          /* GPUs per stage: max(tp, ep) */
	uint32_t n_ranks;              /* pp x stage_ranks */
	uint32_t *first, *count;       /* each stage's layers */
	struct trit_estimate est;      /* estimate device s: one rank of stage s */
	struct trit_pplan_rank *ranks; /* n_ranks, stage 0's first */
	uint32_t n_placed;             /* ranks given a GPU (the first ones) */
	uint32_t n_gpus;               /* GPUs offered */
	int fits;                      /* every rank placed and fitting */
	char why[400];                 /* when it does not fit: the first reason */
};

/* Plan model m with degrees par on the GPUs given (in their order: stage 0's
 * ranks first). Fails on degrees the model does not suit (parallel.h) or
 * an estimate that cannot be made, with a sentence in err; a deployment that
 * does not fit is a plan with fits 0 and why. Free with trit_pplan_free. */
int trit_pplan_make(const struct trit_model *m, const struct trit_estimate_opts *est,
                    const struct trit_parallel *par, const struct trit_pplan_gpu *gpus,
                    uint32_t n_gpus, struct trit_pplan *out, char *err, size_t errlen);
void trit_pplan_free(struct trit_pplan *p);

#endif
