/*
 * cluster_report.h - the report of a deployment search over a cluster
 * (cplan.h): text for people, JSON for programs (docs/json.md, "Cluster plan").
 */
#ifndef TRIT_CLUSTER_REPORT_H
#define TRIT_CLUSTER_REPORT_H

#include <stdio.h>

#include "model/model.h"
#include "plan/cluster.h"
#include "plan/cplan.h"

/* The machines, the deployments that fit ranked (ten unless explain), the
 * best one's stages and ranks; explain adds those that lost, with why. */
void trit_report_cluster_text(FILE *out, const struct trit_model *m, const struct trit_cluster *cl,
                              const struct trit_cplan *p, int explain);
/* Every candidate, the best plan nested; a heap string or NULL (no memory). */
char *trit_report_cluster_json(const struct trit_model *m, const struct trit_cluster *cl,
                               const struct trit_cplan *p, int explain);

#endif
