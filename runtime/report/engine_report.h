/*
 * engine_report.h - an engine profile's prediction (plan/llamacpp.h) for
 * people and for programs (docs/json.md, "Engine profile").
 */
#ifndef TRIT_ENGINE_REPORT_H
#define TRIT_ENGINE_REPORT_H

#include <stdio.h>

#include "model/model.h"
#include "plan/llamacpp.h"

void trit_report_llamacpp_text(FILE *out, const struct trit_model *m,
                               const struct trit_llamacpp_opts *o,
                               const struct trit_llamacpp_mem *p);
/* A heap string, or NULL when out of memory. */
char *trit_report_llamacpp_json(const struct trit_model *m, const struct trit_llamacpp_opts *o,
                                const struct trit_llamacpp_mem *p);

#endif
