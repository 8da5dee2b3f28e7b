/*
 * estimate.c - the memory trit needs to run a model, buffer by buffer.
 *
 * Weights are the model's exact tensor bytes; the KV cache follows the same
 * rules as llama.cpp (cells padded to kv_pad (256), sliding-window layers
 * capped at window + ubatch, MLA caching only the compressed latent); the
 * activation buffers are those trit's forward pass holds for one ubatch;
 * workspace from each backend's graph_workspace (matmul_workspace for int8
 * ternary kernels and v1 plugins); overhead from what
 * the backend measured. BitLinear weights a device cannot run as stored are
 * counted in the ternary format the loader will repack them into, plus the
 * loader's transient repack buffers. docs/memory.md writes the formulas out.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/ternary.h>

#include "core/common.h"
#include "exec/forward.h"
#include "exec/kvcache.h"
#include "plan/estimate.h"
#include "plan/parallel.h"
#include "model/names.h"
#include "text/sampler.h"

#define GIB (UINT64_C(1) << 30)

const char *trit_mem_component_name(enum trit_mem_component c)
{
	static const char *const names[TRIT_MEM_COUNT] = {
		"weights", "kv", "activations", "workspace", "overhead", "repack"
	};
	return (unsigned)c < TRIT_MEM_COUNT ? names[c] : "?";
}

const char *trit_kv_type_name(enum trit_kv_type t)
{
	return t == TRIT_KV_F32 ? "f32" : t == TRIT_KV_Q8_0 ? "q8_0" : "f16";
}

int trit_kv_type_from_name(const char *name, enum trit_kv_type *out)
{
	static const enum trit_kv_type all[] = { TRIT_KV_F32, TRIT_KV_F16, TRIT_KV_Q8_0 };
	for (size_t i = 0; i < TRIT_ARRAY_LEN(all); i++)
		if (name && strcmp(name, trit_kv_type_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return TRIT_EINVAL;
}

uint64_t trit_estimate_headroom(uint64_t bytes, double fraction)
{
	if (fraction < 0)
		fraction = bytes > 8 * GIB ? 0.20 : 0.10;
	return (uint64_t)((double)bytes * fraction + 0.5);
}

/* Bytes of one KV row of n elements (Q8_0: blocks of 32 in 34 bytes). */
static uint64_t kv_row_bytes(enum trit_kv_type t, uint64_t n)
{
	switch (t) {
	case TRIT_KV_F32: return n * 4;
	case TRIT_KV_Q8_0: return (n + 31) / 32 * 34;
	default: return n * 2;
	}
}

static uint32_t ceil_div(uint32_t a, uint32_t b)
{
	return b ? (a + b - 1) / b : a;
}

uint64_t trit_estimate_kv_layer(const struct trit_model *m, uint32_t il, uint32_t n_cells,
                                enum trit_kv_type t, uint32_t tp)
{
	const struct trit_hparams *hp = &m->hp;
	uint64_t k_row, v_row;

	if (il >= hp->n_layer)
		return 0;
	if (hp->kv_lora_rank) {
		/* MLA: the cache holds the compressed latent plus the RoPE part of
		 * the key, shared by all heads; values are read back from it. */
		k_row = (uint64_t)hp->kv_lora_rank + hp->rope_head_dim_mla;
		v_row = 0;
	} else {
		uint32_t heads = ceil_div(hp->n_head_kv[il], tp ? tp : 1);
		k_row = (uint64_t)heads * hp->head_dim_k;
		v_row = (uint64_t)heads * hp->head_dim_v;
	}
	return (kv_row_bytes(t, k_row) + (v_row ? kv_row_bytes(t, v_row) : 0)) * n_cells;
}

static uint32_t kv_trit_type(enum trit_kv_type t)
{
	return t == TRIT_KV_F32 ? TRIT_TYPE_F32 : t == TRIT_KV_Q8_0 ? TRIT_TYPE_Q8_0 : TRIT_TYPE_F16;
}

/* ------------------------------------------------------------------------ */

struct est {
	struct trit_estimate *e;
	const struct trit_estimate_device *devs;
	int keep_floats;             /* trit_estimate_opts' */
	int all_logits;              /* trit_estimate_opts' */
	uint32_t tp, ep;             /* trit_estimate_opts', at least 1 */
	size_t cap;
	int oom;
};

/* Add a buffer (none when bytes is 0); returns it, or NULL. */
static struct trit_mem_buffer *add(struct est *s, uint32_t dev, enum trit_mem_component c,
                                   int32_t layer, uint64_t bytes, const char *fmt, ...)
	TRIT_PRINTF(6, 7);
static struct trit_mem_buffer *add(struct est *s, uint32_t dev, enum trit_mem_component c,
                                   int32_t layer, uint64_t bytes, const char *fmt, ...)
{
	struct trit_estimate *e = s->e;
	struct trit_mem_buffer *b;
	va_list ap;

	if (!bytes)
		return NULL;
	if (e->n_buffers == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct trit_mem_buffer *v = realloc(e->buffers, cap * sizeof *v);
		if (!v) {
			s->oom = 1;
			return NULL;
		}
		e->buffers = v;
		s->cap = cap;
	}
	b = &e->buffers[e->n_buffers++];
	va_start(ap, fmt);
	vsnprintf(b->name, sizeof b->name, fmt, ap);
	va_end(ap);
	b->device = dev;
	b->component = (uint8_t)c;
	b->layer = layer;
	b->bytes = bytes;
	b->tensor = -1;
	b->run_type = -1;
	b->from_type = -1;
	e->device[dev][c] += bytes;
	e->totals[c] += bytes;
	return b;
}

static void note(struct trit_estimate *e, const char *fmt, ...) TRIT_PRINTF(2, 3);
static void note(struct trit_estimate *e, const char *fmt, ...)
{
	char buf[sizeof e->notes[0]];
	va_list ap;

	if (e->n_notes >= TRIT_ARRAY_LEN(e->notes))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (uint32_t i = 0; i < e->n_notes; i++)
		if (strcmp(buf, e->notes[i]) == 0)
			return;
	memcpy(e->notes[e->n_notes++], buf, sizeof buf);
}

/* KV bytes of one layer: exec/kvcache.c's exact size (what the forward pass
 * allocates), or the formula where the cache does not hold this layout yet
 * (MLA, tensor parallel) or rejects the head size. */
static uint64_t kv_layer(struct est *s, const struct trit_model *m, uint32_t il, uint32_t cells,
                         enum trit_kv_type t, uint32_t tp)
{
	uint64_t bytes = 0;
	char why[200] = "";

	if (tp <= 1 && !m->hp.kv_lora_rank && m->hp.head_dim_k == m->hp.head_dim_v &&
	    !trit_kvcache_layer_bytes(&m->hp, il, cells, kv_trit_type(t), &bytes, why, sizeof why))
		return bytes;
	note(s->e, "KV cache by formula (%s)", why[0] ? why : tp > 1 ? "tensor parallel" :
	     "a layout exec/kvcache.c does not allocate yet");
	return trit_estimate_kv_layer(m, il, cells, t, tp);
}

/* Host memory `trit run` holds besides the model's buffers, itemised on the
 * first CPU device: the last token's logits, the sampler's buffers and the
 * tokenizer's tables (what the process held before, GGUF metadata and tensor
 * table included, is the CPU device's measured process.baseline). */
static void host(struct est *s, const struct trit_model *m, const struct trit_estimate_opts *o,
                 uint32_t n_devs)
{
	uint64_t nv = m->hp.n_vocab;
	uint32_t d = 0;

	while (d < n_devs && !s->devs[d].is_cpu)
		d++;
	if (d == n_devs && s->devs[0].as_stored)
		return; /* another engine's deployment: none of trit's host buffers */
	if (d == n_devs) {
		note(s->e, "host buffers (logits, sampler, tokenizer) are not counted: the plan has "
		     "no CPU device");
		return;
	}
	add(s, d, TRIT_MEM_OVERHEAD, -1, nv * sizeof(float), "host.logits");
	if (o->sampler_history >= 0 && nv <= INT32_MAX)
		add(s, d, TRIT_MEM_OVERHEAD, -1, trit_sampler_bytes((int32_t)nv, o->sampler_history),
		    "host.sampler");
	add(s, d, TRIT_MEM_OVERHEAD, -1, o->host_tokenizer, "host.tokenizer");
}

/* The device a non-layer tensor lives on. */
static uint32_t nonlayer_device(const struct trit_model_tensor *t, const struct trit_placement *p)
{
	return trit_role_group(t->role) == TRIT_GROUP_EMBEDDING ? p->embd_device : p->output_device;
}

/* trit's type for the data of a tensor as the file stores it, or -1 when no
 * trit type describes those bytes. GGUF's TL1 and TL2 are bitnet.cpp's, tiled
 * per model shape from generated kernel configurations: not trit's layouts. */
static int file_type(const struct trit_model_tensor *t)
{
	static const struct {
		const char *name;
		int type;
	} map[] = {
		{ "F32", TRIT_TYPE_F32 }, { "F16", TRIT_TYPE_F16 }, { "BF16", TRIT_TYPE_BF16 },
		{ "I2_S", TRIT_TYPE_I2_S }, { "TQ1_0", TRIT_TYPE_TQ1_0 }, { "TQ2_0", TRIT_TYPE_TQ2_0 },
		{ "Q8_0", TRIT_TYPE_Q8_0 },
	};
	for (size_t i = 0; i < TRIT_ARRAY_LEN(map); i++)
		if (strcmp(map[i].name, t->type_name) == 0)
			return map[i].type;
	return -1;
}

static int is_float(int type)
{
	return type == TRIT_TYPE_F32 || type == TRIT_TYPE_F16 || type == TRIT_TYPE_BF16;
}

int trit_estimate_is_bitlinear(const struct trit_model *m, const struct trit_model_tensor *t)
{
	if (t->part != TRIT_PART_WEIGHT || t->n_dims < 2 || !trit_role_is_matrix(t->role) ||
	    t->role == TRIT_ROLE_FFN_ROUTER || t->role == TRIT_ROLE_FFN_ROUTER_SHEXP)
		return 0;
	return t->ternary || (strcmp(m->hp.family, "bitnet") == 0 && is_float(file_type(t)));
}

/* The ternary formats trit repacks into, in the default order of preference:
 * I2_S (the format BitNet files ship in, which every backend is expected to
 * run), then TL2 (fewer bytes: 5/3 bits a weight), then TL1. */
static const int repack_order[] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL2, TRIT_TYPE_TL1 };

/* Why a forced format cannot run on a device that lacks its kernel. */
static const char *forced_missing(uint32_t force)
{
	return force == TRIT_TYPE_TL1 ? "the device has no TL1 kernel, which [planner] "
	       "ternary_format = tl1 asks for" : force == TRIT_TYPE_TL2 ? "the device has no "
	       "TL2 kernel, which [planner] ternary_format = tl2 asks for" : "the device has no "
	       "I2_S kernel, which [planner] ternary_format = i2_s asks for";
}

void trit_estimate_weight_form(const struct trit_model *m, const struct trit_model_tensor *t,
                               uint64_t types, int32_t pref, uint32_t force, int keep_floats,
                               struct trit_weight_form *f)
{
	int ft = file_type(t), run = -1, runs_file;
	uint64_t rows = t->ne[1], cols = t->ne[0], mats = 1, one;

	memset(f, 0, sizeof *f);
	f->file_type = ft;
	runs_file = ft >= 0 && (types & TRIT_TYPE_BIT(ft));
	f->run_type = runs_file ? ft : -1;
	f->bytes = t->n_bytes;
	f->bitlinear = trit_estimate_is_bitlinear(m, t);
	if (!f->bitlinear)
		return;
	for (uint32_t d = 2; d < t->n_dims && d < 8; d++)
		mats *= t->ne[d];
	/* As stored: I2_S when bitnet.cpp's flattened rows are trit's (rows of
	 * whole 128-weight blocks, one matrix with its trailer); TQ1_0/TQ2_0
	 * carry their scales per block, so any slice of them runs. */
	if (runs_file && ft == TRIT_TYPE_I2_S && cols % TRIT_I2S_BLOCK_COLS == 0 && mats == 1 &&
	    (!force || force == TRIT_TYPE_I2_S))
		return;
	if (runs_file && !force && (ft == TRIT_TYPE_TQ1_0 || ft == TRIT_TYPE_TQ2_0))
		return;
	if (runs_file && keep_floats && is_float(ft))
		return; /* [planner] bitnet_floats = as-stored */
	f->run_type = -1;
	if (!(is_float(ft) || ft == TRIT_TYPE_TQ2_0 || ft == TRIT_TYPE_I2_S)) {
		f->fate = TRIT_WEIGHT_NO_KERNEL;
		f->why = strcmp(t->type_name, "TL1") == 0 || strcmp(t->type_name, "TL2") == 0 ?
		         "bitnet.cpp's TL1/TL2 files are tiled per model shape and trit cannot "
		         "read them back: use the model's I2_S file" :
		         "trit repacks only F32, F16, BF16, TQ2_0 and I2_S weights";
		return;
	}
	if (force && !(types & TRIT_TYPE_BIT(force))) {
		f->fate = TRIT_WEIGHT_NO_KERNEL;
		f->why = forced_missing(force);
		return;
	}
	if (force)
		run = (int)force;
	else if (pref >= 0 && (types & TRIT_TYPE_BIT(pref)))
		for (size_t i = 0; i < TRIT_ARRAY_LEN(repack_order); i++)
			if (repack_order[i] == pref)
				run = pref;
	for (size_t i = 0; run < 0 && i < TRIT_ARRAY_LEN(repack_order); i++)
		if (types & TRIT_TYPE_BIT(repack_order[i]))
			run = repack_order[i];
	if (run < 0) {
		f->fate = TRIT_WEIGHT_NO_KERNEL;
		f->why = is_float(ft) ? "the device runs none of I2_S, TL2, TL1 (running a BitNet "
		         "model's float weights as floats would skip its ternary quantisation)" :
		         "the device runs none of I2_S, TL2, TL1";
		return;
	}
	one = trit_ternary_bytes((uint32_t)run, rows, cols);
	if (!one || one > UINT64_MAX / mats) {
		f->fate = TRIT_WEIGHT_NO_KERNEL;
		f->why = "its shape is too large for a ternary layout";
		return;
	}
	f->fate = TRIT_WEIGHT_REPACKED;
	f->run_type = run;
	f->bytes = one * mats;
	f->why = is_float(ft) ? "a BitNet model's float weights are ternarised at load time" :
	         force && force != (uint32_t)ft ? "[planner] ternary_format asks for another format" :
	         !runs_file ? "the device does not run the file's format" :
	         "bitnet.cpp's I2_S rows are not whole 128-weight blocks here";
}

static void weights(struct est *s, const struct trit_model *m, const struct trit_placement *p)
{
	struct trit_estimate *e = s->e;
	uint32_t kept_floats = 0;

	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_model_tensor *t = &m->tensors[i];
		uint32_t dev = t->layer >= 0 ? p->layer_device[t->layer] : nonlayer_device(t, p);
		const struct trit_estimate_device *d = &s->devs[dev];
		struct trit_repack_summary *r = &e->repack[dev];
		struct trit_weight_form f;
		struct trit_mem_buffer *b;
		uint64_t bytes;

		if (d->as_stored) { /* the engine runs the file's bytes */
			int ft = file_type(t);
			f = (struct trit_weight_form){ .fate = TRIT_WEIGHT_AS_IS, .bytes = t->n_bytes,
			                               .file_type = ft, .run_type = ft };
		} else
			trit_estimate_weight_form(m, t, d->matmul_types, d->ternary_pref,
			                          d->ternary_force, s->keep_floats, &f);
		/* tensor and expert parallel: one rank's share (parallel.h) */
		bytes = trit_parallel_tensor_bytes(m, t, f.bytes, s->tp, s->ep, NULL);
		if ((b = add(s, dev, TRIT_MEM_WEIGHTS, t->layer, bytes, "%s", t->name))) {
			b->tensor = (int32_t)i;
			b->run_type = f.run_type;
			b->from_type = f.fate == TRIT_WEIGHT_REPACKED ? f.file_type : -1;
		}
		if (f.bitlinear) {
			switch (f.fate) {
			case TRIT_WEIGHT_AS_IS:
				r->n_as_is++;
				r->as_is_bytes += bytes;
				r->as_is_types |= 1u << f.run_type;
				kept_floats += is_float(f.run_type);
				break;
			case TRIT_WEIGHT_REPACKED:
				r->n_repacked++;
				r->file_bytes += t->n_bytes;
				r->repacked_bytes += bytes;
				r->from_types |= 1u << f.file_type;
				r->run_type = f.run_type;
				if (t->n_bytes > e->repack_source)
					e->repack_source = t->n_bytes;
				if (bytes > e->repack_staging)
					e->repack_staging = bytes;
				break;
			default:
				r->n_no_kernel++;
				r->no_kernel_bytes += bytes;
				if (!r->no_kernel_why)
					r->no_kernel_why = f.why;
			}
		}
		/* Tied output: the output matmul multiplies by the token embedding
		 * matrix, so a device other than the embeddings' holds a copy of it
		 * (llama.cpp duplicates it the same way). */
		if (t->role == TRIT_ROLE_TOKEN_EMBD && m->hp.tied_embeddings &&
		    p->output_device != p->embd_device &&
		    (b = add(s, p->output_device, TRIT_MEM_WEIGHTS, -1, bytes,
		             "output (tied: copy of %s)", t->name))) {
			b->tensor = (int32_t)i;
			b->run_type = f.run_type;
		}
	}
	e->keep_floats = s->keep_floats;
	if (kept_floats)
		note(e, "%u BitLinear matrices of this BitNet model run as the floats they are "
		     "stored as, without BitNet's int8 activations ([planner] bitnet_floats = "
		     "as-stored; llama.cpp runs them so too)", kept_floats);
}

/* The loader's repack buffers are host memory: counted on the first CPU
 * device of the placement, or noted as not counted when there is none. */
static void repack_scratch(struct est *s, uint32_t n_devs)
{
	struct trit_estimate *e = s->e;
	char b1[32], b2[32];

	e->repack_device = -1;
	for (uint32_t d = 0; d < n_devs; d++) {
		if (e->repack[d].n_no_kernel)
			note(e, "%s cannot run %u BitLinear weights (%s): counted as in the file",
			     s->devs[d].name, e->repack[d].n_no_kernel, e->repack[d].no_kernel_why);
		if (e->repack_device < 0 && s->devs[d].is_cpu)
			e->repack_device = (int32_t)d;
	}
	if (!e->repack_source)
		return;
	if (e->repack_device < 0) {
		note(e, "the loader's repack buffers (%s source + %s repacked, host memory) are not "
		     "counted: the plan has no CPU device",
		     trit_format_bytes(e->repack_source, b1, sizeof b1),
		     trit_format_bytes(e->repack_staging, b2, sizeof b2));
		return;
	}
	add(s, (uint32_t)e->repack_device, TRIT_MEM_REPACK, -1, e->repack_source, "repack.source");
	add(s, (uint32_t)e->repack_device, TRIT_MEM_REPACK, -1, e->repack_staging, "repack.staging");
}

/* The widest feed-forward a layer computes at once. */
static uint64_t ffn_width(const struct trit_hparams *hp, uint32_t il)
{
	uint64_t w = hp->n_ff[il];
	uint64_t moe = (uint64_t)hp->n_ff_exp * (hp->n_expert_used ? hp->n_expert_used : 1);

	if (moe > w)
		w = moe;
	if (hp->n_ff_shexp > w)
		w = hp->n_ff_shexp;
	return w;
}

/*
 * The forward pass's buffers on a device running layers, for u tokens,
 * reused from layer to layer (so the widest layer on the device sizes them):
 *   hidden state, residual, normalised input     3 x u x n_embd        F32
 *   q, k, v                                      u x heads x head dim  F32
 *   attention scores                             heads x u x n_ctx     F32
 *   attention output                             u x heads x v dim     F32
 *   feed-forward gate and up                     2 x u x ffn width     F32
 *   router logits (MoE)                          u x experts           F32
 *   quantised activations for ternary kernels    u x max(embd, ffn) bytes + u scales
 */
static void activations(struct est *s, const struct trit_model *m, uint32_t dev,
                        const struct trit_placement *p, uint32_t u, uint32_t n_ctx, uint32_t tp)
{
	const struct trit_hparams *hp = &m->hp;
	uint64_t heads = 0, kv_heads = 0, ffn = 0;
	int any = 0;

	for (uint32_t il = 0; il < hp->n_layer; il++) {
		if (p->layer_device[il] != dev)
			continue;
		any = 1;
		if (ceil_div(hp->n_head[il], tp) > heads)
			heads = ceil_div(hp->n_head[il], tp);
		if (ceil_div(hp->n_head_kv[il], tp) > kv_heads)
			kv_heads = ceil_div(hp->n_head_kv[il], tp);
		if (ffn_width(hp, il) / tp > ffn)
			ffn = (ffn_width(hp, il) + tp - 1) / tp;
	}
	if (!any)
		return;
	add(s, dev, TRIT_MEM_ACTIVATIONS, -1, 3ull * u * hp->n_embd * 4, "act.hidden");
	add(s, dev, TRIT_MEM_ACTIVATIONS, -1,
	    (uint64_t)u * (heads * hp->head_dim_k + kv_heads * (hp->head_dim_k + hp->head_dim_v)) * 4,
	    "act.qkv");
	add(s, dev, TRIT_MEM_ACTIVATIONS, -1, heads * u * n_ctx * 4, "act.scores");
	add(s, dev, TRIT_MEM_ACTIVATIONS, -1, (uint64_t)u * heads * hp->head_dim_v * 4, "act.attn_out");
	add(s, dev, TRIT_MEM_ACTIVATIONS, -1, 2ull * u * ffn * 4, "act.ffn");
	add(s, dev, TRIT_MEM_ACTIVATIONS, -1, (uint64_t)u * hp->n_expert * 4, "act.router");
	add(s, dev, TRIT_MEM_ACTIVATIONS, -1,
	    (uint64_t)u * (hp->n_embd > ffn ? hp->n_embd : ffn) + (uint64_t)u * 4, "act.quantised");
}

/* Whether device dev runs the whole model (every layer, embeddings, output). */
static int runs_all(const struct trit_model *m, const struct trit_placement *p, uint32_t dev)
{
	for (uint32_t il = 0; il < m->hp.n_layer; il++)
		if (p->layer_device[il] != dev)
			return 0;
	return p->embd_device == dev && p->output_device == dev;
}

/* The activation arena exactly as the forward pass allocates it: the same
 * graph builder, split and allocator (exec/forward.h) for the worst-case
 * ubatch, with ternary weights in the format this device runs them. A
 * split's crossings pass through a host buffer, counted on the first CPU
 * device with the other host buffers. Returns 0 when it counted, 1 when the formula must (tensor
 * parallelism, which the forward pass does not run). */
static int arena(struct est *s, const struct trit_model *m, uint32_t dev,
                 const struct trit_placement *p, uint32_t n_devs, uint32_t u, uint32_t n_ctx,
                 uint32_t tp, enum trit_kv_type kvt)
{
	const struct trit_repack_summary *r = &s->e->repack[dev];
	uint32_t tt = r->run_type >= 0 ? (uint32_t)r->run_type : 0;
	uint64_t bytes = 0, unshared = 0, crossing = 0;
	struct trit_forward_place pl = { p->layer_device, p->embd_device, p->output_device, dev,
	                                 n_devs, dev == p->embd_device ? &crossing : NULL };
	char why[256] = "";
	int rc;

	if (tp > 1 || s->ep > 1 || s->devs[dev].as_stored) {
		note(s->e, "activations by trit's formula for its own forward pass at this "
		     "ubatch (%s)", tp > 1 || s->ep > 1 ? "that pass runs no tensor or expert "
		     "parallelism, so its graph cannot size them" : "another engine runs this "
		     "deployment");
		return 1;
	}
	if (runs_all(m, p, dev))
		rc = trit_forward_model_arena_bytes(m, tt, n_ctx, kv_trit_type(kvt), u,
		                                    s->all_logits, &bytes, &unshared, why, sizeof why);
	else
		rc = trit_forward_model_split_arena_bytes(m, tt, n_ctx, kv_trit_type(kvt), u,
		                                          s->all_logits, &pl, &bytes, why,
		                                          sizeof why);
	if (rc) {
		note(s->e, "%s: activations by formula: the graph builder cannot size this model (%s)",
		     s->devs[dev].name, why);
		return 1;
	}
	if (bytes)
		add(s, dev, TRIT_MEM_ACTIVATIONS, -1, bytes, "act.arena");
	for (uint32_t d = 0; crossing && d < n_devs; d++)
		if (s->devs[d].is_cpu) {
			add(s, d, TRIT_MEM_OVERHEAD, -1, crossing, "host.crossing");
			break;
		}
	return 0;
}

/* Contiguous F32-or-other tensor [ne0, ne1] with no buffer (shapes only). */
static struct trit_tensor shape2(uint32_t type, uint64_t ne0, uint64_t ne1)
{
	const struct trit_type_traits *tt = trit_type_traits(type);
	uint64_t row = tt && tt->block_elems ? ne0 / tt->block_elems * tt->block_bytes : 0;
	struct trit_tensor t = { .type = type, .ne = { ne0, ne1, 1, 1 } };

	t.nb[0] = tt ? tt->block_bytes : 0, t.nb[1] = row, t.nb[2] = t.nb[3] = row * ne1;
	return t;
}

/* Workspace one matrix needs for `tokens` columns of activations: what the
 * device's graph_workspace says of the MATMUL node the forward pass builds
 * for it (F32 activations; the int8 ones of I2_S/TL1/TL2 are the matmul
 * kernels' own, which matmul_workspace answers, as it does for a v1 plugin). */
static int matrix_workspace(const struct trit_estimate_device *d, const struct trit_model_tensor *t,
                            uint32_t type, uint32_t tokens, uint64_t *bytes, char *why,
                            size_t whylen)
{
	int ternary = type == TRIT_TYPE_I2_S || type == TRIT_TYPE_TL1 || type == TRIT_TYPE_TL2;

	if (!d->be->graph_workspace) {
		struct trit_matmul op = { .struct_size = sizeof op, .weight_type = type,
		                          .rows = t->ne[1], .cols = t->ne[0], .tokens = tokens };
		return d->be->matmul_workspace(d->state, d->index, &op, bytes, why, whylen);
	}
	/* the node the forward pass runs: ternary weights take the int8
	 * activations QUANTIZE_ACT made, with their scales */
	struct trit_node n = { .struct_size = sizeof n, .op = TRIT_OP_MATMUL, .name = t->name };
	n.src[0] = shape2(type, t->ne[0], t->ne[1]);
	n.src[1] = shape2(ternary ? TRIT_TYPE_I8 : TRIT_TYPE_F32, t->ne[0], tokens);
	if (ternary)
		n.src[2] = shape2(TRIT_TYPE_F32, tokens, 1);
	n.dst = shape2(TRIT_TYPE_F32, t->ne[1], tokens);
	struct trit_graph g = { .struct_size = sizeof g, .n_nodes = 1, .nodes = &n };
	return d->be->graph_workspace(d->state, d->index, &g, bytes, why, whylen);
}

/* Does the model run its output head through the token embeddings? */
static int tied_output(const struct trit_model *m)
{
	for (size_t i = 0; i < m->n_tensors; i++)
		if (m->tensors[i].role == TRIT_ROLE_OUTPUT && m->tensors[i].part == TRIT_PART_WEIGHT)
			return 0;
	return 1;
}

/* Workspace: the largest any of the device's matrices needs, as its backend
 * reports it: u tokens through the layers, one through the output head (the
 * forward pass computes the last position's logits only). */
/* The workspace exactly as the forward pass asks it of a device with graph
 * calls: its share of the worst-case ubatch graph, split as p says. 0 when
 * it counted; 1 when the device cannot say (no graph calls, or a model the
 * graph builder cannot size), and the per-matrix way below must. */
static int graph_workspace(struct est *s, const struct trit_model *m, uint32_t dev,
                           const struct trit_placement *p, uint32_t n_devs, uint32_t u,
                           uint32_t n_ctx, uint32_t tp, enum trit_kv_type kvt)
{
	const struct trit_estimate_device *d = &s->devs[dev];
	const struct trit_repack_summary *r = &s->e->repack[dev];
	struct trit_sched_target t = { d->be, d->state, d->index, d->name };
	struct trit_forward_place pl = { p->layer_device, p->embd_device, p->output_device, dev,
	                                 n_devs, NULL };
	uint64_t bytes = 0;
	char why[256] = "";

	if (tp > 1 || s->ep > 1 || !d->be || !d->be->supports_op || !d->be->graph_workspace ||
	    trit_forward_model_workspace(m, r->run_type >= 0 ? (uint32_t)r->run_type : 0, n_ctx,
	                                 kv_trit_type(kvt), u, s->all_logits, &pl,
	                                 s->keep_floats ? NULL : trit_estimate_is_bitlinear, &t,
	                                 &bytes, why, sizeof why))
		return 1;
	add(s, dev, TRIT_MEM_WORKSPACE, -1, bytes, "workspace");
	return 0;
}

/* Per matrix: the largest workspace the device asks for one of the
 * matrices placed on it (devices without graph calls, tensor parallelism). */
static void workspace(struct est *s, const struct trit_model *m, uint32_t dev,
                      const struct trit_placement *p, uint32_t u)
{
	const struct trit_estimate_device *d = &s->devs[dev];
	uint64_t most = 0;
	int refused = 0, tied = tied_output(m);
	char why[256] = "";

	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_model_tensor *t = &m->tensors[i];
		int head = t->role == TRIT_ROLE_OUTPUT || (tied && t->role == TRIT_ROLE_TOKEN_EMBD);
		uint32_t tdev = t->layer >= 0 ? p->layer_device[t->layer] :
		                head ? p->output_device : nonlayer_device(t, p);
		struct trit_weight_form f;
		uint64_t bytes = 0;

		if (tdev != dev || t->part != TRIT_PART_WEIGHT ||
		    !(trit_role_is_matrix(t->role) || head) || t->n_dims < 2)
			continue;
		/* the type the kernel will run: the repacked one for BitLinear
		 * weights, else the file's */
		trit_estimate_weight_form(m, t, d->matmul_types, d->ternary_pref, d->ternary_force,
		                          s->keep_floats, &f);
		if (f.run_type < 0 && !f.bitlinear)
			f.run_type = f.file_type;
		if (!d->be || f.run_type < 0 ||
		    matrix_workspace(d, t, (uint32_t)f.run_type, head ? 1 : u, &bytes, why,
		                     sizeof why)) {
			refused++;
			continue;
		}
		if (bytes > most)
			most = bytes;
	}
	add(s, dev, TRIT_MEM_WORKSPACE, -1, most, "workspace");
	if (refused)
		note(s->e, "%s reports no workspace for %d of its matrices (no kernel for their "
		     "type yet%s%s): counted as 0", d->name, refused, why[0] ? ": " : "", why);
}

/* The sizes the KV cache and the activations are computed from, each > 0
 * (trit_model_open refuses a file stating 0; a file may leave them out). */
static int sizes_stated(const struct trit_model *m, char *err, size_t errlen)
{
	const struct trit_hparams *hp = &m->hp;
	int heads = hp->n_head && hp->n_head_kv && hp->n_layer;

	for (uint32_t il = 0; heads && il < hp->n_layer; il++)
		heads = hp->n_head[il] && hp->n_head_kv[il];
	if (!hp->n_embd || !heads || !hp->head_dim_k || (!hp->head_dim_v && !hp->kv_lora_rank))
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s does not state its embedding size "
		                 "(%u), head counts and head sizes (%u, %u), which the KV cache and "
		                 "activations need", m->path, hp->n_embd, hp->head_dim_k, hp->head_dim_v);
	return 0;
}

int trit_estimate_run(const struct trit_model *m, const struct trit_estimate_opts *o,
                      const struct trit_placement *p, const struct trit_estimate_device *devs,
                      uint32_t n_devs, struct trit_estimate *out, char *err, size_t errlen)
{
	const struct trit_hparams *hp = &m->hp;
	struct est s = { .e = out, .devs = devs, .keep_floats = o->keep_floats,
	                 .all_logits = o->all_logits, .tp = o->tp ? o->tp : 1,
	                 .ep = o->ep ? o->ep : 1 };
	uint32_t n_ctx = o->n_ctx ? o->n_ctx : hp->n_ctx_train;
	uint32_t u = o->n_ubatch ? o->n_ubatch : 512, tp = o->tp ? o->tp : 1;
	uint32_t n_seq = o->n_seq ? o->n_seq : 1;
	uint32_t pad = o->kv_pad ? o->kv_pad : TRIT_KV_PAD;
	int rc;

	memset(out, 0, sizeof *out);
	if (!n_devs)
		return trit_errf(err, errlen, TRIT_EINVAL, "no device to place the model on");
	if (!n_ctx)
		return trit_errf(err, errlen, TRIT_EINVAL, "%s states no training context: give "
		                 "a context length ([model] context or --ctx)", m->path);
	if ((rc = sizes_stated(m, err, errlen)))
		return rc;
	if (p->embd_device >= n_devs || p->output_device >= n_devs)
		return trit_errf(err, errlen, TRIT_EINVAL, "placement names device %u of %u",
		                 p->embd_device >= n_devs ? p->embd_device : p->output_device, n_devs);
	for (uint32_t il = 0; il < hp->n_layer; il++)
		if (p->layer_device[il] >= n_devs)
			return trit_errf(err, errlen, TRIT_EINVAL, "placement puts layer %u on device "
			                 "%u of %u", il, p->layer_device[il], n_devs);
	if (n_ctx > UINT32_MAX - pad)
		return trit_errf(err, errlen, TRIT_ERANGE, "context %u is too large", n_ctx);
	n_ctx = (n_ctx + pad - 1) / pad * pad;

	out->n_ctx = n_ctx;
	out->n_ubatch = u;
	out->kv_type = o->kv_type;
	out->n_devices = n_devs;
	out->device = calloc(n_devs, sizeof *out->device);
	out->device_total = calloc(n_devs, sizeof *out->device_total);
	out->device_headroom = calloc(n_devs, sizeof *out->device_headroom);
	out->kv_layer = calloc(hp->n_layer, sizeof *out->kv_layer);
	out->kv_cells = calloc(hp->n_layer, sizeof *out->kv_cells);
	out->repack = calloc(n_devs, sizeof *out->repack);
	if (!out->device || !out->device_total || !out->device_headroom || !out->kv_layer ||
	    !out->kv_cells || !out->repack) {
		trit_estimate_free(out);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}

	for (uint32_t d = 0; d < n_devs; d++)
		out->repack[d].run_type = -1;
	weights(&s, m, p);
	repack_scratch(&s, n_devs);
	for (uint32_t il = 0; il < hp->n_layer; il++) {
		uint32_t cells = n_ctx;
		if (hp->swa[il] && hp->sliding_window) {
			/* the window of every sequence plus the ubatch being added */
			uint64_t w = (uint64_t)hp->sliding_window * n_seq + u;
			w = (w + pad - 1) / pad * pad;
			if (w < cells)
				cells = (uint32_t)w;
		}
		out->kv_cells[il] = cells;
		out->kv_layer[il] = kv_layer(&s, m, il, cells, o->kv_type, tp);
		add(&s, p->layer_device[il], TRIT_MEM_KV, (int32_t)il, out->kv_layer[il],
		    "blk.%u.kv", il);
	}
	for (uint32_t d = 0; d < n_devs; d++) {
		int formula = arena(&s, m, d, p, n_devs, u, n_ctx, tp, o->kv_type);
		if (formula)
			activations(&s, m, d, p, u, n_ctx, tp);
		if (devs[d].as_stored)
			note(out, "the engine's kernel workspace and compute buffers are its own "
			     "and not counted here");
		else if (graph_workspace(&s, m, d, p, n_devs, u, n_ctx, tp, o->kv_type))
			workspace(&s, m, d, p, u);
		if (formula && d == p->output_device) {
			add(&s, d, TRIT_MEM_ACTIVATIONS, -1, (uint64_t)u * hp->n_embd * 4, "act.output_norm");
			add(&s, d, TRIT_MEM_ACTIVATIONS, -1, (uint64_t)u * hp->n_vocab * 4, "act.logits");
		}
		if (formula && d == p->embd_device && !out->device[d][TRIT_MEM_ACTIVATIONS])
			add(&s, d, TRIT_MEM_ACTIVATIONS, -1, (uint64_t)u * hp->n_embd * 4, "act.embd");
		add(&s, d, TRIT_MEM_OVERHEAD, -1, devs[d].overhead,
		    devs[d].is_cpu ? "process.baseline" : "overhead");
		if (devs[d].overhead && devs[d].overhead_source) {
			char b[32];
			note(out, "%s: overhead %s, measured: %s", devs[d].name,
			     trit_format_bytes(devs[d].overhead, b, sizeof b), devs[d].overhead_source);
		}
	}
	host(&s, m, o, n_devs);
	if (s.oom) {
		trit_estimate_free(out);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	for (uint32_t d = 0; d < n_devs; d++) {
		for (int c = 0; c < TRIT_MEM_COUNT; c++)
			out->device_total[d] += out->device[d][c];
		out->device_headroom[d] = trit_estimate_headroom(out->device_total[d], o->headroom);
		out->total += out->device_total[d];
		out->headroom += out->device_headroom[d];
	}
	return 0;
}

uint64_t trit_estimate_named(const struct trit_estimate *e, uint32_t dev, const char *prefix)
{
	uint64_t sum = 0;
	size_t n = strlen(prefix);

	for (size_t i = 0; i < e->n_buffers; i++)
		if (e->buffers[i].device == dev && strncmp(e->buffers[i].name, prefix, n) == 0)
			sum += e->buffers[i].bytes;
	return sum;
}

void trit_estimate_free(struct trit_estimate *e)
{
	if (!e)
		return;
	free(e->buffers);
	free(e->device);
	free(e->device_total);
	free(e->device_headroom);
	free(e->kv_layer);
	free(e->kv_cells);
	free(e->repack);
	memset(e, 0, sizeof *e);
}
