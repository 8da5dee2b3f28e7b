/*
 * model.h - what a model file says, exactly: its architecture, the
 * hyper-parameters the planner needs, and every tensor classified (layer,
 * role, type, shape, bytes), with per-layer totals and a quantisation summary.
 *
 * Built from the GGUF or SafeTensors readers' output; never reads weights.
 * Memory estimates (estimate.c) are computed from this and nothing else, so
 * every number here is exact or explicitly absent.
 */
#ifndef TRIT_MODEL_MODEL_H
#define TRIT_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <trit/trit.h>

#include "model/hparams.h" /* hyper-parameters and tensor records */
#include "model/names.h"   /* roles and parts of tensors */

enum trit_model_format {
	TRIT_MODEL_GGUF = 1,
	TRIT_MODEL_SAFETENSORS = 2
};

struct trit_type_summary {
	const char *type_name;
	uint64_t n_tensors, n_params, n_bytes;
	uint64_t matrix_bytes;            /* of which in attention/FFN weight matrices */
	int ternary;
};

struct trit_quant_summary {
	struct trit_type_summary *types;  /* by bytes, largest first */
	size_t n_types;
	const char *primary;              /* type holding most bytes of 2-D weight matrices */
	int mixed;                        /* 2-D weight matrices use more than one type */
	double bits_per_weight;           /* all bytes * 8 / all params */
	int ternary_kernels;              /* every attention/FFN matrix is ternary */
	char ternary_why[192];            /* why not, when ternary_kernels is 0 */
};

struct trit_model {
	enum trit_model_format format;
	char *path;
	char **files;                     /* the files the tensors live in */
	uint32_t n_files;
	uint64_t file_bytes;              /* sum of file sizes */
	struct trit_hparams hp;
	struct trit_model_tensor *tensors;
	size_t n_tensors;
	char *names;                      /* one block holding every tensor's name */
	uint64_t n_params, n_bytes;       /* all tensors */
	uint64_t *layer_bytes;            /* n_layer entries */
	uint64_t *layer_params;
	uint64_t nonlayer_bytes, nonlayer_params;
	uint64_t group_bytes[TRIT_GROUP_COUNT], group_params[TRIT_GROUP_COUNT];
	struct trit_quant_summary quant;
	char **warnings;                  /* e.g. unclassified tensors, missing keys */
	size_t n_warnings;
};

/* trit_model_open and trit_model_close are declared in <trit/trit.h>. */

#endif
