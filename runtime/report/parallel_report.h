/*
 * parallel_report.h - the report of a parallel deployment's plan (pplan.h):
 * text for people, JSON for programs (docs/json.md, "Parallel plan").
 */
#ifndef TRIT_PARALLEL_REPORT_H
#define TRIT_PARALLEL_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "model/model.h"
#include "plan/pplan.h"

/* gpus: the GPUs the plan was made on (p->ranks index them); explain adds
 * every buffer of one rank of each stage, with the rule that sharded it. */
void trit_report_parallel_text(FILE *out, const struct trit_model *m, const struct trit_pplan *p,
                               const struct trit_pplan_gpu *gpus, int explain);
/* The JSON document as a tree (the cluster report nests the best plan's);
 * NULL when out of memory. */
cJSON *trit_report_parallel_tree(const struct trit_model *m, const struct trit_pplan *p,
                                 const struct trit_pplan_gpu *gpus, int explain);
/* A heap string (free()), or NULL when out of memory. */
char *trit_report_parallel_json(const struct trit_model *m, const struct trit_pplan *p,
                                const struct trit_pplan_gpu *gpus, int explain);

#endif
