/*
 * emit.h - a planned parallel deployment (pplan.h) written as the commands
 * that start it on another engine: vLLM (`vllm serve` with its parallel
 * degrees, memory utilisation and context, and Ray on each machine when
 * there are several) or llama.cpp's RPC backend (`ggml-rpc-server` on each
 * worker machine, `llama-server --rpc ... --tensor-split ...` on the head).
 * Each command is an argument vector, so a report can print it as a shell
 * line or as JSON. docs/deploy.md states the engine versions the flags match.
 */
#ifndef TRIT_EMIT_H
#define TRIT_EMIT_H

#include <stdint.h>

#include <trit/trit.h> /* enum trit_kv_type */

#include "plan/pplan.h"

enum trit_engine { TRIT_ENGINE_VLLM = 0, TRIT_ENGINE_LLAMACPP_RPC };

#define TRIT_EMIT_MAX_ARGS 40
#define TRIT_EMIT_MAX_CMDS (2 * 64 + 2)
#define TRIT_EMIT_MAX_NOTES 8

/* The TCP ports the commands use: llama.cpp's RPC default, Ray's default. */
#define TRIT_EMIT_RPC_PORT 50052
#define TRIT_EMIT_RAY_PORT 6379

struct trit_emit_machine {
	const char *name;     /* "dgx0"; "this machine" without a cluster */
	const char *address;  /* what the others connect to */
	uint32_t n_gpus;      /* the GPUs it has (the plan may use fewer) */
};

struct trit_emit_cmd {
	uint32_t machine;     /* where it runs */
	const char *role;     /* "worker", "head" */
	const char *env[4];   /* NAME=VALUE prefixes (NULL-terminated) */
	const char *argv[TRIT_EMIT_MAX_ARGS];  /* NULL-terminated */
	uint32_t argc;
};

struct trit_emit {
	enum trit_engine engine;
	const char *engine_name;       /* "vllm", "llama.cpp-rpc" */
	const char *versions;          /* the engine versions the flags match */
	struct trit_emit_cmd cmds[TRIT_EMIT_MAX_CMDS];
	uint32_t n_cmds;
	const char *notes[TRIT_EMIT_MAX_NOTES];
	uint32_t n_notes;
	double gpu_memory_utilization; /* vLLM: what was chosen; else 0 */
	/* every string above that is not a literal */
	char **strings;
	uint32_t n_strings;
};

struct trit_emit_in {
	const char *model;             /* the path the engine loads */
	int gguf;                      /* the model is a GGUF file */
	uint32_t n_ctx;                /* context asked for (not padded) */
	uint32_t n_seq, n_ubatch;
	enum trit_kv_type kv_type;
	const struct trit_pplan *plan; /* must fit */
	const struct trit_pplan_gpu *gpus;  /* the plan's GPUs, by rank */
	const struct trit_emit_machine *machines;
	uint32_t n_machines;
};

/* Parse "vllm" or "llama.cpp-rpc"; TRIT_EINVAL for anything else. */
int trit_engine_from_name(const char *name, enum trit_engine *out);

/* Write the commands; TRIT_EINVAL with a sentence when the engine cannot
 * run this deployment (llama.cpp: tensor or expert parallelism; vLLM: a
 * q8_0 or f32 KV cache, data-parallel experts over several machines),
 * TRIT_ENOMEM. Free with trit_emit_free. */
int trit_emit_make(enum trit_engine engine, const struct trit_emit_in *in, struct trit_emit *out,
                   char *err, size_t errlen);
void trit_emit_free(struct trit_emit *e);

#endif
