/*
 * api.h - what the handles of the embedding API (<trit/trit.h>) hold, shared
 * by the api_*.c files. Only those files include it:
 * the rest of the runtime knows nothing of the API built on it.
 */
#ifndef TRIT_API_H
#define TRIT_API_H

#include <trit/trit.h>

#include "bench/bench.h"
#include "config/config.h"
#include "plan/plan.h"

enum api_bench_state { API_BENCH_UNREAD = 0, API_BENCH_READ, API_BENCH_FAILED };

struct trit_runtime {
	struct trit_config cfg;
	struct trit_registry *reg;        /* NULL until trit_runtime_open_devices */
	int described;                    /* the devices come from a --devices file */
	struct trit_bench_cache bench;    /* empty unless bench_state is READ */
	enum api_bench_state bench_state;
	char bench_error[1200];           /* bench_state FAILED: why */
};

/* The bench cache as reports and the planner take it: NULL when never read,
 * else the cache (empty when reading failed); *why (may be NULL) the error. */
const struct trit_bench_cache *trit_api_bench(const struct trit_runtime *rt, const char **why);

/* A plan and what it was made from (api_plan.c makes it, api_run.c runs it). */
struct trit_plan {
	struct trit_plan_result r;
	struct trit_plan_device *devs;  /* what it was planned from; r.slots index it */
	uint32_t n_devs;
	const struct trit_model *m;
	char *why;                      /* the strategy's sentence, for the summary */
};

/* Every loaded device, with its [memory] limit.<backend>.<id> (api_plan.c;
 * the parallel plans offer the GPUs among them). Free with free(); NULL
 * when out of memory. */
struct trit_plan_device *trit_api_plan_devices(const struct trit_registry *reg,
                                               const struct trit_config *cfg, uint32_t *n);

/* The vocabulary a session read from its model (api_run.c). */
struct trit_vocab;
const struct trit_vocab *trit_api_session_vocab(const struct trit_session *s);
/* Whether it was opened with all_logits. */
int trit_api_session_all_logits(const struct trit_session *s);

#endif
