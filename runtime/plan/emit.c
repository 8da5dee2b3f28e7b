/*
 * emit.c - the commands that start a planned parallel deployment.
 *
 * vLLM: one `vllm serve` on the machine of rank 0 with the plan's degrees
 * (--enable-expert-parallel, and --data-parallel-size when ep > tp), the
 * context, and --gpu-memory-utilization = the share of each GPU the plan was
 * checked against (so vLLM's KV pool holds at least the planned context);
 * over several machines, Ray first (head and workers) and
 * --distributed-executor-backend ray.
 *
 * llama.cpp: whole layers per device only (tp = ep = 1). The head runs
 * llama-server on the machine of the last stage; every other machine runs
 * ggml-rpc-server with the GPUs the plan uses there. llama.cpp puts RPC
 * devices first, in --rpc order, then its local GPUs, and splits layers in
 * proportion to --tensor-split: the stages' layer counts in that order give
 * the plan's split exactly.
 */
#include <build-config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "plan/emit.h"

int trit_engine_from_name(const char *name, enum trit_engine *out)
{
	if (name && strcmp(name, "vllm") == 0)
		*out = TRIT_ENGINE_VLLM;
	else if (name && strcmp(name, "llama.cpp-rpc") == 0)
		*out = TRIT_ENGINE_LLAMACPP_RPC;
	else
		return TRIT_EINVAL;
	return 0;
}

struct ctx {
	struct trit_emit *e;
	const struct trit_emit_in *in;
	int oom;
};

/* A string the emit owns, or a literal when it cannot be made (oom set). */
static const char *own(struct ctx *c, const char *fmt, ...) TRIT_PRINTF(2, 3);
static const char *own(struct ctx *c, const char *fmt, ...)
{
	struct trit_emit *e = c->e;
	va_list ap;
	char buf[4096], **v;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	v = realloc(e->strings, (e->n_strings + 1) * sizeof *v);
	if (!v || !(v[e->n_strings] = trit_strdup(buf))) {
		if (v)
			e->strings = v;
		c->oom = 1;
		return "";
	}
	e->strings = v;
	return e->strings[e->n_strings++];
}

static struct trit_emit_cmd *cmd(struct ctx *c, uint32_t machine, const char *role)
{
	struct trit_emit *e = c->e;
	struct trit_emit_cmd *k = &e->cmds[e->n_cmds++];

	k->machine = machine;
	k->role = role;
	return k;
}

static void arg(struct trit_emit_cmd *k, const char *a)
{
	if (k->argc + 1 < TRIT_EMIT_MAX_ARGS)
		k->argv[k->argc++] = a;
}

static void env(struct trit_emit_cmd *k, const char *v)
{
	for (int i = 0; i < 3; i++)
		if (!k->env[i]) {
			k->env[i] = v;
			return;
		}
}

static void note(struct trit_emit *e, const char *s)
{
	if (e->n_notes < TRIT_EMIT_MAX_NOTES)
		e->notes[e->n_notes++] = s;
}

/* Machines in the order of the ranks that use them: order[0] has rank 0. */
static uint32_t machines_used(const struct trit_emit_in *in, uint32_t *order)
{
	uint32_t n = 0;

	for (uint32_t r = 0; r < in->plan->n_ranks; r++) {
		uint32_t m = in->gpus[r].machine, seen = 0;
		for (uint32_t i = 0; i < n; i++)
			seen |= order[i] == m;
		if (!seen)
			order[n++] = m;
	}
	return n;
}

/* "0,1,2": the local indices of the GPUs machine m contributes; *subset
 * when they are not all of its GPUs (n_total: the GPUs it has). */
static const char *locals(struct ctx *c, uint32_t m, const char *prefix, uint32_t n_total,
                          int *subset)
{
	char buf[1024] = "";
	size_t used = 0;
	uint32_t n = 0;

	for (uint32_t r = 0; r < c->in->plan->n_ranks; r++)
		if (c->in->gpus[r].machine == m && used < sizeof buf - 32) {
			used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s%u", n ? "," : "",
			                         prefix, c->in->gpus[r].local);
			n++;
		}
	*subset = n < n_total;
	return own(c, "%s", buf);
}

/* Machine m's GPU count, and the vendor of the GPUs the plan uses there. */
static uint32_t machine_gpus(const struct trit_emit_in *in, uint32_t m, const char **vendor)
{
	*vendor = NULL;
	for (uint32_t r = 0; r < in->plan->n_ranks; r++)
		if (in->gpus[r].machine == m)
			*vendor = in->gpus[r].vendor;
	return in->machines[m].n_gpus;
}

/* CUDA_VISIBLE_DEVICES for k when the plan uses only some of machine m's
 * NVIDIA GPUs (CUDA numbers them as the devices file or trit lists them). */
static void visible(struct ctx *c, struct trit_emit_cmd *k, uint32_t m)
{
	const char *vendor, *list;
	int subset;
	uint32_t n = machine_gpus(c->in, m, &vendor);

	list = locals(c, m, "", n, &subset);
	if (subset && vendor && strcmp(vendor, "NVIDIA") == 0)
		env(k, own(c, "CUDA_VISIBLE_DEVICES=%s", list));
}

/* ------------------------------------------------------------------ vLLM */

/* The share of a GPU's memory vLLM may take: the budget the plan checked
 * every rank against (its usable memory over its total), the smallest of
 * the ranks', rounded down to 1%. Every total is known (vllm_refusal). */
static double utilisation(const struct trit_emit_in *in)
{
	double least = 1;

	for (uint32_t r = 0; r < in->plan->n_ranks; r++) {
		const struct trit_pplan_gpu *g = &in->gpus[r];
		double u = (double)g->usable / (double)g->total;
		if (u < least)
			least = u;
	}
	return (double)(uint64_t)(least * 100 + 1e-9) / 100;
}

/* The largest share of its GPU's memory a rank needs, headroom included. */
static double needed(const struct trit_emit_in *in)
{
	double most = 0;

	for (uint32_t r = 0; r < in->plan->n_ranks; r++) {
		const struct trit_pplan_rank *k = &in->plan->ranks[r];
		double u = (double)(k->need + k->headroom) / (double)in->gpus[r].total;
		if (u > most)
			most = u;
	}
	return most;
}

static int vllm_refusal(const struct trit_emit_in *in, uint32_t n_machines, char *err,
                        size_t errlen)
{
	const struct trit_parallel *p = &in->plan->par;

	if (in->kv_type != TRIT_KV_F16)
		return trit_errf(err, errlen, TRIT_EINVAL, "vLLM keeps its KV cache in the model's "
		                 "16-bit type (or fp8), not %s: plan with --kv-type f16",
		                 trit_kv_type_name(in->kv_type));
	for (uint32_t r = 0; r < in->plan->n_ranks; r++)
		if (!in->gpus[r].total)
			return trit_errf(err, errlen, TRIT_EINVAL, "%s's total memory is unknown, and "
			                 "vLLM's --gpu-memory-utilization is a share of it",
			                 in->gpus[r].name);
	if (p->ep > p->tp && (n_machines > 1 || p->pp > 1))
		return trit_errf(err, errlen, TRIT_EINVAL, "ep %u over tp %u runs the attention "
		                 "data-parallel (%u copies); trit writes that vLLM deployment for "
		                 "one machine and one stage only", p->ep, p->tp, p->ep / p->tp);
	return 0;
}

static int vllm(struct ctx *c, const uint32_t *order, uint32_t n_machines, char *err,
                size_t errlen)
{
	const struct trit_emit_in *in = c->in;
	const struct trit_parallel *p = &in->plan->par;
	struct trit_emit *e = c->e;
	struct trit_emit_cmd *k;
	int rc;

	if ((rc = vllm_refusal(in, n_machines, err, errlen)))
		return rc;
	e->gpu_memory_utilization = utilisation(in);
	for (uint32_t i = 0; n_machines > 1 && i < n_machines; i++) {
		k = cmd(c, order[i], i ? "worker" : "head");
		visible(c, k, order[i]);
		arg(k, "ray");
		arg(k, "start");
		if (i == 0) {
			arg(k, "--head");
			arg(k, own(c, "--port=%u", TRIT_EMIT_RAY_PORT));
		} else {
			arg(k, own(c, "--address=%s:%u", in->machines[order[0]].address,
			           TRIT_EMIT_RAY_PORT));
		}
	}
	k = cmd(c, order[0], "head");
	if (n_machines == 1)
		visible(c, k, order[0]);
	arg(k, "vllm");
	arg(k, "serve");
	arg(k, in->model);
	arg(k, "--tensor-parallel-size");
	arg(k, own(c, "%u", p->tp));
	arg(k, "--pipeline-parallel-size");
	arg(k, own(c, "%u", p->pp));
	if (p->ep > 1)
		arg(k, "--enable-expert-parallel");
	if (p->ep > p->tp) {
		arg(k, "--data-parallel-size");
		arg(k, own(c, "%u", p->ep / p->tp));
	}
	arg(k, "--gpu-memory-utilization");
	arg(k, own(c, "%.2f", e->gpu_memory_utilization));
	arg(k, "--max-model-len");
	arg(k, own(c, "%u", in->n_ctx));
	if (in->n_seq > 1) {
		arg(k, "--max-num-seqs");
		arg(k, own(c, "%u", in->n_seq));
	}
	if (n_machines > 1) {
		arg(k, "--distributed-executor-backend");
		arg(k, "ray");
	}
	note(e, own(c, "--gpu-memory-utilization is the share of each GPU the plan was checked "
	     "against ([planner] gpu_fraction of its free memory); a rank needs %.0f%% of its GPU "
	     "with headroom, and vLLM fills the rest of its share with KV blocks (more concurrent "
	     "sequences than the planned context needs)", needed(in) * 100 + 0.5));
	if (in->gguf)
		note(e, "vLLM reads GGUF files experimentally: add --tokenizer with the model's "
		     "Hugging Face repository, and check that vLLM supports the file's tensor types");
	if (p->ep > 1)
		note(e, "with --enable-expert-parallel vLLM's expert ranks are the tensor-parallel "
		     "ranks times the data-parallel size, as planned");
	return 0;
}

/* ------------------------------------------------------------- llama.cpp */

/* ggml's name for GPU number i of a vendor, or NULL when unknown. */
static const char *ggml_prefix(const char *vendor)
{
	if (vendor && strcmp(vendor, "NVIDIA") == 0)
		return "CUDA";
	if (vendor && (strcmp(vendor, "AMD") == 0 || strcmp(vendor, "Advanced Micro Devices, Inc.") == 0))
		return "ROCm";
	return NULL;
}

static void rpc_worker(struct ctx *c, uint32_t m)
{
	const char *vendor, *prefix;
	uint32_t n = machine_gpus(c->in, m, &vendor);
	struct trit_emit_cmd *k = cmd(c, m, "worker");
	int subset;

	arg(k, "ggml-rpc-server");
	arg(k, "--host");
	arg(k, "0.0.0.0");
	arg(k, "--port");
	arg(k, own(c, "%u", TRIT_EMIT_RPC_PORT));
	if ((prefix = ggml_prefix(vendor))) {
		arg(k, "--device");
		arg(k, locals(c, m, prefix, n, &subset));
	} else {
		note(c->e, "a worker's GPUs are not NVIDIA or AMD ones: ggml-rpc-server exposes all "
		     "of its accelerators; pass --device with the ones the plan uses (it lists "
		     "their names when it starts)");
	}
}

/* The stages' layer counts in stage order (llama.cpp's device order), the
 * last one plus the output layer: with -ngl above the layers llama.cpp
 * splits n_layer + 1 layers, device d taking layer il when the cumulative
 * split before it is <= il / (n_layer + 1) < its own (load_tensors,
 * src/llama-model.cpp), so these counts give each device its stage. */
static const char *split(struct ctx *c)
{
	const struct trit_pplan *p = c->in->plan;
	char buf[4096] = "";
	size_t used = 0;

	for (uint32_t s = 0; s < p->par.pp && used < sizeof buf - 16; s++)
		used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%u", s ? "," : "",
		                         p->count[s] + (s + 1 == p->par.pp));
	return own(c, "%s", buf);
}

static void rpc_head(struct ctx *c, const uint32_t *order, uint32_t n_machines)
{
	const struct trit_emit_in *in = c->in;
	uint32_t head = order[n_machines - 1];
	struct trit_emit_cmd *k = cmd(c, head, "head");
	char rpc[4096] = "";
	size_t used = 0;

	visible(c, k, head);
	arg(k, "llama-server");
	arg(k, "-m");
	arg(k, in->model);
	for (uint32_t i = 0; i + 1 < n_machines && used < sizeof rpc - 300; i++)
		used += (size_t)snprintf(rpc + used, sizeof rpc - used, "%s%s:%u", i ? "," : "",
		                         in->machines[order[i]].address, TRIT_EMIT_RPC_PORT);
	if (n_machines > 1) {
		arg(k, "--rpc");
		arg(k, own(c, "%s", rpc));
	}
	arg(k, "-ngl");
	arg(k, "999");
	arg(k, "--split-mode");
	arg(k, "layer");
	arg(k, "--tensor-split");
	arg(k, split(c));
	arg(k, "-c");
	arg(k, own(c, "%u", in->n_ctx));
	arg(k, "-ub");
	arg(k, own(c, "%u", in->n_ubatch));
	if (in->n_seq > 1) {
		arg(k, "-np");
		arg(k, own(c, "%u", in->n_seq));
	}
	if (in->kv_type != TRIT_KV_F16) {
		const char *t = in->kv_type == TRIT_KV_F32 ? "f32" : "q8_0";
		arg(k, "-ctk");
		arg(k, t);
		arg(k, "-ctv");
		arg(k, t);
	}
}

static int llamacpp(struct ctx *c, const uint32_t *order, uint32_t n_machines, char *err,
                    size_t errlen)
{
	const struct trit_parallel *p = &c->in->plan->par;

	if (p->tp > 1 || p->ep > 1)
		return trit_errf(err, errlen, TRIT_EINVAL, "llama.cpp splits whole layers over its "
		                 "devices (--split-mode layer) and runs no tensor or expert "
		                 "parallelism over RPC (its --split-mode tensor is experimental and "
		                 "trit does not plan it): plan with tp 1 and ep 1, or emit vllm");
	for (uint32_t i = 0; i + 1 < n_machines; i++)
		rpc_worker(c, order[i]);
	rpc_head(c, order, n_machines);
	if (n_machines > 1)
		note(c->e, "ggml-rpc-server listens on every interface (--host 0.0.0.0): llama.cpp "
		     "warns never to run it on an open network; bind it to the cluster's");
	note(c->e, "--tensor-split gives each device its stage's layers (the last also the "
	     "output layer): llama.cpp lists the RPC servers' devices first, in --rpc order, "
	     "then the head's own GPUs");
	note(c->e, "llama.cpp keeps the token embeddings in the head's host memory, not on a GPU, "
	     "and adds its own compute buffers, which trit does not predict yet");
	return 0;
}

int trit_emit_make(enum trit_engine engine, const struct trit_emit_in *in, struct trit_emit *out,
                   char *err, size_t errlen)
{
	struct ctx c = { .e = out, .in = in };
	uint32_t order[TRIT_EMIT_MAX_CMDS] = { 0 }, n;
	int rc;

	memset(out, 0, sizeof *out);
	out->engine = engine;
	out->engine_name = engine == TRIT_ENGINE_VLLM ? "vllm" : "llama.cpp-rpc";
	out->versions = engine == TRIT_ENGINE_VLLM ?
	                "vLLM 0.8 to 0.11 (vllm serve, --enable-expert-parallel, --data-parallel-size)" :
	                "llama.cpp v0.5.0 as node-llama-cpp 3.22.1 bundles it (ggml-rpc-server; "
	                "earlier builds name it rpc-server)";
	if (!in->plan->fits)
		return trit_errf(err, errlen, TRIT_EINVAL, "the deployment does not fit: %s",
		                 in->plan->why);
	if (in->n_machines > TRIT_EMIT_MAX_CMDS / 2 - 1)
		return trit_errf(err, errlen, TRIT_ERANGE, "%u machines is more than trit writes "
		                 "commands for", in->n_machines);
	n = machines_used(in, order);
	rc = engine == TRIT_ENGINE_VLLM ? vllm(&c, order, n, err, errlen) :
	     llamacpp(&c, order, n, err, errlen);
	if (!rc && c.oom)
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	if (rc)
		trit_emit_free(out);
	return rc;
}

void trit_emit_free(struct trit_emit *e)
{
	for (uint32_t i = 0; i < e->n_strings; i++)
		free(e->strings[i]);
	free(e->strings);
	memset(e, 0, sizeof *e);
}
