/*
 * report.h - what trit tells people (text tables) and programs (JSON, via
 * cJSON) about devices and configuration. The JSON key names are a stable
 * interface, documented in docs/json.md. Nothing here decides anything.
 */
#ifndef TRIT_REPORT_H
#define TRIT_REPORT_H

#include <stdio.h>

#include <trit/trit.h>

#include "bench/bench.h"
#include "config/config.h"
#include "model/model.h"
#include "plan/plan.h"

/* `trit devices`: text for people (verbose adds every value's source).
 * bench (may be NULL) adds each device's cached `trit bench` results;
 * bench_error says why the cache could not be read (NULL: it could). */
void trit_report_devices_text(FILE *out, const struct trit_registry *reg, int verbose,
                              const struct trit_bench_cache *bench, const char *bench_error);
/* `trit devices --json`: the whole report as one JSON document; returns a
 * heap string (free with free()) or NULL when out of memory. */
char *trit_report_devices_json(const struct trit_registry *reg,
                               const struct trit_bench_cache *bench, const char *bench_error);

/* `trit bench`: the results (grouped by device as given), the kernels not
 * reported with why, the cache file (NULL: none) and whether it was
 * written, and (JSON) whether it was a --full run. */
void trit_report_bench_text(FILE *out, const struct trit_bench_result *r, size_t n,
                            const struct trit_bench_refusal *f, size_t nf, const char *cache,
                            int written);
char *trit_report_bench_json(const struct trit_bench_result *r, size_t n,
                             const struct trit_bench_refusal *f, size_t nf, const char *cache,
                             int written, int full);

/* `trit config`: every schema key with its value and origin. */
void trit_report_config_text(FILE *out, const struct trit_config *cfg);
char *trit_report_config_json(const struct trit_config *cfg);

/* `trit inspect`: the model's architecture, hyper-parameters, parameter and
 * byte counts by role group, type and layer; with_tensors adds every tensor. */
void trit_report_model_text(FILE *out, const struct trit_model *m, int with_tensors);
char *trit_report_model_json(const struct trit_model *m, int with_tensors);
/* The JSON written to out as it is made (the tensor list is never held in
 * memory whole), with a final newline; 0, TRIT_ENOMEM or TRIT_EIO. */
int trit_report_model_json_write(FILE *out, const struct trit_model *m, int with_tensors);

/* `trit plan`: the strategy and why, the placement, the per-device memory
 * table, threads, ubatch, GPU fraction, speed estimate; explain adds the
 * formulas and every buffer. devs are the devices the plan was made from. */
void trit_report_plan_text(FILE *out, const struct trit_model *m, const struct trit_plan_result *p,
                           const struct trit_plan_device *devs, int explain);
char *trit_report_plan_json(const struct trit_model *m, const struct trit_plan_result *p,
                            const struct trit_plan_device *devs, int explain);

#endif
