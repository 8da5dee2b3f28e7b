/*
 * api.h - what the handles of the embedding API (<trit/trit.h>) hold, shared
 * by api_runtime.c, api_plan.c and api_bench.c. Only those files include it:
 * the rest of the runtime knows nothing of the API built on it.
 */
#ifndef TRIT_API_H
#define TRIT_API_H

#include <trit/trit.h>

#include "bench/bench.h"
#include "config/config.h"

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

#endif
