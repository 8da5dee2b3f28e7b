/*
 * cplan.h - parallel deployments searched over a cluster inventory
 * (cluster.h): every tensor-parallel degree within a machine, expert
 * parallelism for mixtures of experts, pipeline stages within and across
 * machines; each candidate planned (pplan.h), and those that fit ranked by
 * an estimated decode speed that counts the bytes each GPU reads and the
 * bytes crossing the GPU links and the network per token.
 */
#ifndef TRIT_CPLAN_H
#define TRIT_CPLAN_H

#include <stdint.h>

#include "plan/cluster.h"
#include "plan/pplan.h"

enum trit_cplan_verdict {
	TRIT_CAND_FITS = 0,   /* every rank fits its GPU */
	TRIT_CAND_NO_FIT,     /* placed, but a rank does not fit */
	TRIT_CAND_REFUSED     /* the model does not suit the degrees */
};

struct trit_cplan_candidate {
	struct trit_parallel par;
	uint32_t order;                /* in the search: ties keep it */
	enum trit_cplan_verdict verdict;
	char why[400];                 /* NO_FIT, REFUSED: why it lost */
	uint32_t n_gpus;               /* pp x max(tp, ep) */
	uint32_t n_machines;           /* machines its stages use */
	struct trit_pplan plan;        /* FITS only (freed otherwise) */
	struct trit_pplan_gpu *gpus;   /* FITS: the GPUs in rank order */
	uint32_t *gpu_index;           /* FITS: each rank's GPU in the cluster */
	double tokens_per_s;           /* FITS: decode estimate, < 0 unknown */
	char speed[400];               /* FITS: what the estimate counted, or why unknown */
	uint64_t net_bytes;            /* FITS: bytes crossing the network per token */
	uint64_t link_bytes;           /* FITS: bytes over a machine's GPU links per token */
};

struct trit_cplan {
	struct trit_cplan_candidate *c;  /* fitting first, fastest first; then the rest */
	uint32_t n, n_fit;
};

/* Search m's deployments on cluster cl; est gives the context, ubatch,
 * sequences, KV type and headroom, gpu_fraction the share of each GPU's
 * memory a rank may use; only (may be NULL) keeps its non-zero degrees.
 * Free with trit_cplan_free. */
int trit_cplan_make(const struct trit_model *m, const struct trit_estimate_opts *est,
                    const struct trit_cluster *cl, double gpu_fraction,
                    const struct trit_parallel *only, struct trit_cplan *out, char *err,
                    size_t errlen);
void trit_cplan_free(struct trit_cplan *p);

#endif
