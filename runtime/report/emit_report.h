/*
 * emit_report.h - the commands of a deployment (plan/emit.h) as shell lines
 * with a comment saying where each runs, or as JSON (docs/json.md,
 * "Deployment").
 */
#ifndef TRIT_EMIT_REPORT_H
#define TRIT_EMIT_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "plan/emit.h"

void trit_report_emit_text(FILE *out, const struct trit_emit *e,
                           const struct trit_emit_machine *machines);
/* The deployment as a JSON object (plan: the plan's tree, taken over; may
 * be NULL); NULL when out of memory. */
cJSON *trit_report_emit_tree(const struct trit_emit *e, const struct trit_emit_machine *machines,
                             const struct trit_parallel *par, cJSON *plan);

#endif
