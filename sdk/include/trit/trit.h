/*
 * trit/trit.h - the embedding API of libtrit.
 *
 * A program links libtrit (pkg-config trit) to do what the `trit` CLI does
 * (the CLI uses nothing else): read the deployment configuration, find and
 * probe the backend plugins, analyse a model file, plan where it runs, and
 * measure the ternary kernels. Loading and running a model are added here
 * when they land; existing declarations keep their meaning (libtrit follows
 * libtool versioning; structs filled by libtrit may grow at the end).
 *
 * Errors: functions return 0 or a negative enum trit_result and fill a
 * caller-given error buffer (err, errlen; may be NULL/0) with a sentence a
 * user can act on. libtrit never exits or aborts on bad input.
 *
 * Ownership: every handle (struct trit_runtime, trit_model, trit_plan,
 * trit_bench_report) is opaque, created by one function and released by its
 * free/close function, which accepts NULL. Strings and structs a getter
 * returns belong to the handle and live until it is freed (or, for the
 * runtime's configuration, until it is changed). Report functions returning
 * char * hand over a heap string the caller releases with free().
 *
 * Threading: libtrit keeps no hidden global state apart from the log
 * threshold and sink. Different handles may be used from different threads;
 * one handle, and everything made from it (a plan from its runtime and
 * model), must be used by one thread at a time.
 */
#ifndef TRIT_TRIT_H
#define TRIT_TRIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <trit/backend.h>
#include <trit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* trit's version, e.g. "0.1.0". */
const char *trit_version(void);
/* The plugin ABI version this libtrit accepts (TRIT_BACKEND_ABI_VERSION). */
uint32_t trit_backend_abi(void);

struct trit_config;   /* deployment configuration (runtime/config/config.h) */
struct trit_registry; /* the set of plugins found and probed */

enum trit_plugin_status {
	TRIT_PLUGIN_LOADED  = 0, /* initialised; its devices are listed */
	TRIT_PLUGIN_SKIPPED = 1  /* not usable; `reason` says why */
};

/* One plugin file the registry found, whether it loaded or not. */
struct trit_plugin_info {
	const char *path;        /* file opened, or "(built-in)" */
	const char *origin;      /* the search step that found it: "--plugin-dir",
	                          * "TRIT_PLUGIN_PATH", "plugin_path (deploy.ini:3)",
	                          * "build tree", "pkglibdir", "built-in" */
	const char *name;        /* backend name; the file name when the table
	                          * could not be read */
	const char *version;     /* plugin version, NULL when unknown */
	const char *description; /* NULL when unknown */
	uint32_t abi_version;    /* as declared by the plugin, 0 when unknown */
	uint32_t struct_size;    /* backend table size declared, 0 when unknown */
	int status;              /* enum trit_plugin_status */
	const char *reason;      /* why it was skipped; NULL when loaded */
	uint32_t n_devices;
	/* The plugin's devices as the host sees them: full-size copies in which
	 * fields beyond the plugin's struct_size read as unknown / zero. */
	const struct trit_device *devices;
};

/* Registry flags. */
#define TRIT_REGISTRY_NO_BUILTIN      1u /* leave out the built-in reference backend */
#define TRIT_REGISTRY_NO_ENV          2u /* ignore TRIT_PLUGIN_PATH */
#define TRIT_REGISTRY_NO_DEFAULT_DIRS 4u /* skip the build tree and pkglibdir */
#define TRIT_REGISTRY_REMEASURE       8u /* plugins measure again what they keep in
                                          * the probe cache, and store it anew */

struct trit_registry_options {
	/* Directories searched first (the CLI's --plugin-dir), in order. */
	const char *const *plugin_dirs;
	size_t n_plugin_dirs;
	/* Configuration: [runtime] plugin_path and the [plugin.<name>] sections
	 * handed to each plugin. May be NULL. */
	struct trit_config *config;
	unsigned flags;
	/* A machine to plan for instead of this one (the CLI's --devices): an
	 * INI file of [device.<id>] sections, docs/devices.md. When set, no
	 * directory is searched and neither plugins nor the built-in `ref`
	 * backend are loaded: the registry holds only the built-in `described`
	 * backend, handed the path as its [plugin.described] file setting
	 * (origin "--devices", set in `config` when given). Problems in the
	 * file make that backend skipped with every problem as FILE:LINE in
	 * its reason; callers should treat that as a configuration error. */
	const char *devices_file;
	/* Plugin files to open, each exactly as named (a .la or a .so path),
	 * besides the directory search (which opts->flags may narrow: a tool
	 * that tests one plugin against the built-in `ref` passes its file with
	 * TRIT_REGISTRY_NO_ENV | TRIT_REGISTRY_NO_DEFAULT_DIRS). They are opened
	 * after the built-in backend and before any directory is scanned, with
	 * origin "plugin file". Appended to this struct: a program built against
	 * an older trit.h must be rebuilt (libtrit's libtool version says so). */
	const char *const *plugin_files;
	size_t n_plugin_files;
};

/*
 * Unless opts->devices_file is set (see above), find plugins in, in this order: opts->plugin_dirs, TRIT_PLUGIN_PATH (a colon
 * list), [runtime] plugin_path, the build tree when this libtrit runs
 * uninstalled, and the installed plugin directory. Each plugin is opened,
 * its ABI checked, and initialised. A plugin that fails any step is recorded
 * as skipped with the reason, and the others carry on; a plugin name found
 * again later in the search order is skipped as shadowed. Fails only when
 * memory runs out.
 */
int trit_registry_open(const struct trit_registry_options *opts,
                       struct trit_registry **out, char *err, size_t errlen);
void trit_registry_close(struct trit_registry *reg);

size_t trit_registry_plugin_count(const struct trit_registry *reg);
const struct trit_plugin_info *trit_registry_plugin(const struct trit_registry *reg,
                                                    size_t index);
/* A measurement a plugin keeps in the probe cache (backend.h, cache_get):
 * taken from it in this run, or measured now and stored. */
struct trit_cached_measurement {
	const char *key;      /* the plugin's name for it: "cpu0.mem_bandwidth" */
	int from_cache;       /* 1: read from the cache; 0: measured now and stored */
	uint64_t age_s;       /* seconds since it was measured (0 when just now) */
};

/* The cached measurements of plugin `index` (*n of them), NULL when none. */
const struct trit_cached_measurement *trit_registry_cached(const struct trit_registry *reg,
                                                           size_t index, size_t *n);
/* The probe cache file ([runtime] probe_cache), or NULL when there is none,
 * with *why (may be NULL) saying why. */
const char *trit_registry_probe_cache(const struct trit_registry *reg, const char **why);

/* The directories searched, in order, with the step that contributed each
 * (origin as in trit_plugin_info) and whether it existed. NULL past the end. */
const char *trit_registry_search_dir(const struct trit_registry *reg, size_t index,
                                     const char **origin, int *exists);

/*
 * The backend table of loaded plugin `index` as the host calls it, or NULL
 * when that plugin was skipped (or index is past the end). *state (when
 * state is not NULL) receives the value to pass as every entry's `state`.
 *
 * It is the host's copy, not the plugin's own table: a full ABI v2 table
 * whatever ABI the plugin was built for. Every entry except init and
 * shutdown is non-NULL (those two are NULL: the registry owns the plugin's
 * life). An entry the plugin lacks answers as backend.h promises:
 * TRIT_EUNSUPPORTED with a reason; a v1 plugin's matmul() runs the MATMUL
 * nodes of graph_compute() and supports_op() says which; graph_submit()
 * runs the graph at once and hands back a completed event; buffer_copy()
 * stages through buffer_read()/buffer_write(); get_memory() re-measures
 * through device_update(). device_count()/device_get() answer with the
 * registry's full-size device copies (trit_plugin_info.devices).
 *
 * Calling rules: the table and state stay valid until trit_registry_close();
 * call one plugin from one thread at a time (event_wait() excepted, as
 * backend.h says); device indices run below trit_plugin_info.n_devices.
 */
const struct trit_backend *trit_registry_backend(const struct trit_registry *reg,
                                                 size_t index, void **state);

/* Parse a byte size as configuration files spell them: "123", "64KiB",
 * "1.5 GiB", "8G" (K/M/G/T binary), "8GB" (KB/MB/GB/TB decimal). Returns 0,
 * or TRIT_EINVAL (not a size) / TRIT_ERANGE (over 2^64 - 1). */
int trit_parse_size(const char *s, uint64_t *out);

/* ------------------------------------------------------------------------ */
/* Logging. Messages at or below the threshold (enum trit_log_level, WARN by
 * default) go to the sink, stderr ("trit: warn: ...") unless one is set.
 * Process-wide: set them before other threads use libtrit.                 */

typedef void (*trit_log_sink)(void *ctx, int level, const char *message);
void trit_log_set_level(int level);
/* Install a sink; NULL restores the stderr sink. */
void trit_log_set_sink(trit_log_sink sink, void *ctx);

/* ------------------------------------------------------------------------ */
/* The runtime: a configuration and, once opened, the devices.              */

struct trit_runtime;

/* An empty runtime: no configuration read, no device opened. Fails only when
 * memory runs out. */
int trit_runtime_new(struct trit_runtime **out, char *err, size_t errlen);
void trit_runtime_free(struct trit_runtime *rt);

/* Read a deploy.ini (docs/config.md): path, else $TRIT_CONFIG when path is
 * NULL, else nothing. Every problem is reported, one line each, as
 * "FILE:LINE: [section] key: ..."; on error the configuration is unchanged.
 * TRIT_ECONFIG: the file says something wrong; TRIT_EIO: it cannot be read. */
int trit_runtime_load_config(struct trit_runtime *rt, const char *path, char *err,
                             size_t errlen);
/* Apply the TRIT_* environment overrides; bad values are all reported, each
 * naming its variable, and leave the configuration unchanged. */
int trit_runtime_apply_env(struct trit_runtime *rt, char *err, size_t errlen);
/* Set one value as the command line does; `where` names it in reports
 * ("--ctx"; NULL: "command line"). Checked like a file's value. */
int trit_runtime_set(struct trit_runtime *rt, const char *section, const char *key,
                     const char *value, const char *where, char *err, size_t errlen);

/* One configuration value, read once and typed by its schema key. */
struct trit_config_value {
	const char *text;  /* as given, else the schema default; NULL: unset */
	const char *where; /* "deploy.ini:12", "environment TRIT_LOG", "--ctx", "default" */
	int64_t i;         /* integer keys; yes/no keys 0/1; choice keys: the index
	                    * of the value among the key's choices */
	uint64_t size;     /* byte-size keys */
	double fraction;   /* fraction keys ("20%" reads 0.2) */
};
/* The value of [section] key. 0 with out->text NULL when unset and without
 * a default; TRIT_EINVAL when the schema has no such key (a [plugin.<name>]
 * section holds whatever was set, untyped). */
int trit_runtime_config(const struct trit_runtime *rt, const char *section, const char *key,
                        struct trit_config_value *out);
/* The configured log threshold ([runtime] log_level, TRIT_LOG). */
int trit_runtime_log_level(const struct trit_runtime *rt);

/* One key the configuration accepts, for listings (`trit config --schema`). */
struct trit_config_key_info {
	const char *section, *key;
	const char *env;     /* environment override, NULL if none */
	const char *choices; /* "a|b|c" for choice keys, else NULL */
	const char *def;     /* default, NULL if none */
	const char *doc;     /* one sentence */
};
/* Schema key `index` in documentation order; TRIT_ERANGE past the end. */
int trit_config_schema_key(size_t index, struct trit_config_key_info *out);

/* `trit config`: every schema key with its effective value and origin. */
void trit_runtime_config_report_text(const struct trit_runtime *rt, FILE *out);
char *trit_runtime_config_report_json(const struct trit_runtime *rt);

/*
 * Find, load and probe the backends as trit_registry_open does, with the
 * runtime's configuration (opts->config is ignored; opts may be NULL). Once
 * per runtime (TRIT_EINVAL the second time). With opts->devices_file, a file
 * that does not load is TRIT_ECONFIG, err carrying every problem in it:
 * planning for an empty machine would hide them.
 */
int trit_runtime_open_devices(struct trit_runtime *rt, const struct trit_registry_options *opts,
                              char *err, size_t errlen);
/* The registry opened above, NULL before. Owned by the runtime. */
const struct trit_registry *trit_runtime_registry(const struct trit_runtime *rt);

/*
 * Read `trit bench`'s cache: path, else [runtime] bench_cache, else
 * $XDG_CACHE_HOME/trit/bench.json, else ~/.cache/trit/bench.json. A missing
 * file is an empty cache. Once read, device reports show the results, plans
 * use them and trit_bench_run adds to the file. On error the runtime keeps an
 * empty cache and the reason, which device reports show; plans then warn and
 * go without, and trit_bench_run writes nothing.
 */
int trit_runtime_load_bench_cache(struct trit_runtime *rt, const char *path, char *err,
                                  size_t errlen);

/* `trit devices`: every plugin and device the runtime opened (verbose adds
 * the search path and each value's source), with the cached bench results.
 * Before trit_runtime_open_devices: nothing printed, NULL. */
void trit_devices_report_text(const struct trit_runtime *rt, FILE *out, int verbose);
char *trit_devices_report_json(const struct trit_runtime *rt);

/* ------------------------------------------------------------------------ */
/* Models: what a file says, exactly. Weights are never read.               */

struct trit_model;

/* Open and analyse a GGUF file, a .safetensors file, a
 * model.safetensors.index.json or a directory holding a SafeTensors model
 * (recognised by content, not name: a .gguf name only makes a file that is
 * neither format "not a GGUF file" in the message). Hyper-parameters no
 * model can have are refused with TRIT_EFORMAT, naming the key and value. */
int trit_model_open(const char *path, struct trit_model **out, char *err, size_t errlen);
void trit_model_close(struct trit_model *m);

/* The facts `trit inspect` starts with. A value the file does not state is 0
 * (per-layer values: of layer 0). */
struct trit_model_facts {
	const char *path;
	const char *format;          /* "gguf", "safetensors" */
	const char *arch;            /* as the file names it */
	const char *family;          /* trit's name for the graph: "llama", "bitnet", ... */
	uint32_t n_layer, n_embd, n_vocab, n_ctx_train;
	uint32_t n_head, n_head_kv, n_ff;
	uint32_t n_expert, n_expert_used;
	uint64_t n_params, n_bytes;  /* all tensors */
	uint64_t file_bytes;         /* all files */
	size_t n_tensors, n_files, n_warnings;
	const char *primary_type;    /* type of most weight-matrix bytes ("I2_S") */
	int mixed_types;             /* weight matrices use more than one type */
	double bits_per_weight;
	int ternary_kernels;         /* every attention/FFN matrix is ternary */
	const char *ternary_why;     /* why not; "" when ternary_kernels */
};
void trit_model_get_facts(const struct trit_model *m, struct trit_model_facts *out);

/* `trit inspect`: architecture, hyper-parameters, bytes by role group, type
 * and layer; with_tensors adds every tensor. */
void trit_model_report_text(const struct trit_model *m, FILE *out, int with_tensors);
char *trit_model_report_json(const struct trit_model *m, int with_tensors);
/* The same JSON written to out as it is made (with a final newline): the
 * tensor list of a million-tensor model is never held in memory. Returns 0,
 * TRIT_ENOMEM or TRIT_EIO (out reported an error). */
int trit_model_report_json_write(const struct trit_model *m, FILE *out, int with_tensors);

/* ------------------------------------------------------------------------ */
/* Plans: where a model runs, with every buffer, and why.                   */

enum trit_strategy {
	TRIT_STRATEGY_AUTO = 0, TRIT_STRATEGY_CPU, TRIT_STRATEGY_GPU, TRIT_STRATEGY_HYBRID,
	TRIT_STRATEGY_NONE /* nothing fits */
};
enum trit_priority { TRIT_PRIORITY_BALANCED = 0, TRIT_PRIORITY_LATENCY, TRIT_PRIORITY_THROUGHPUT };
enum trit_kv_type { TRIT_KV_F32 = 0, TRIT_KV_F16 = 1, TRIT_KV_Q8_0 = 2 };

/* What to plan for. trit_runtime_plan_options fills it from the
 * configuration ([model], [memory], [planner], [runtime] threads). */
struct trit_plan_options {
	uint32_t n_ctx;             /* tokens; 0 = the model's training context */
	uint32_t n_ubatch;          /* tokens per forward pass; 0 = the planner chooses */
	uint32_t n_seq;             /* sequences decoded together */
	enum trit_kv_type kv_type;
	double headroom;            /* share kept free; < 0 = 10%, 20% above 8 GiB */
	uint32_t kv_pad;            /* KV cells are a multiple of this */
	enum trit_strategy strategy; /* AUTO, or one to force */
	enum trit_priority priority;
	int32_t max_gpu_layers;     /* -1 = no cap */
	double gpu_fraction;        /* of a GPU's free memory, <= 0.95 */
	double workspace_fraction, workspace_overhead; /* overhead < 0 = default */
	uint32_t max_batch;         /* cap on a GPU's workspace batch */
	uint32_t threads;           /* CPU threads; 0 = from the measured cores */
	/* 1: plan for a session opened with all_logits (trit_session_options):
	 * the activation arena holds a ubatch of logit rows. Appended to this
	 * struct: a program built against an older trit.h must be rebuilt. */
	int all_logits;
};
void trit_runtime_plan_options(const struct trit_runtime *rt, struct trit_plan_options *out);

struct trit_plan;

/*
 * Plan model m on the runtime's devices (trit_runtime_open_devices first),
 * with [memory] limit.<backend>.<id> caps and the bench cache's
 * measurements when it was read. A model that fits nowhere still gives a
 * plan, of strategy TRIT_STRATEGY_NONE. The plan refers to rt's devices and
 * to m: free it before either.
 */
int trit_plan_create(const struct trit_runtime *rt, const struct trit_model *m,
                     const struct trit_plan_options *o, struct trit_plan **out, char *err,
                     size_t errlen);
void trit_plan_free(struct trit_plan *p);

struct trit_plan_summary {
	enum trit_strategy strategy;
	const char *strategy_name;   /* "cpu-only", "gpu-only", "hybrid", "none" */
	const char *why;
	uint32_t n_devices;          /* devices used: trit_plan_get_device */
	uint32_t n_ctx, ubatch, threads;
	double gpu_fraction;
	double tokens_per_s;         /* decode estimate; < 0 unknown */
	uint32_t max_ctx;            /* STRATEGY_NONE: the largest context that fits, 0 none */
	uint64_t total_bytes, headroom_bytes;
};
void trit_plan_get_summary(const struct trit_plan *p, struct trit_plan_summary *out);

struct trit_plan_device_info {
	const char *backend, *device_id;
	uint32_t n_layers, first_layer;
	uint64_t bytes;              /* every buffer placed on it */
	uint64_t headroom;           /* kept free on top */
	uint64_t usable;             /* what the plan may use there */
	/* "I2_S", "TL1", "TL2" (or TQ1_0, TQ2_0 as stored): what its BitLinear
	 * weights run in, repacked or as the file stores them; NULL when it
	 * holds none. Appended: filled only for callers built with it. */
	const char *ternary_format;
};
/* Device `index` (GPUs first, then the CPU); TRIT_ERANGE past the end. */
int trit_plan_get_device(const struct trit_plan *p, uint32_t index,
                         struct trit_plan_device_info *out);

/* `trit plan`: strategy and why, placement, memory per device, threads,
 * speed; explain adds the formulas and every buffer. */
void trit_plan_report_text(const struct trit_plan *p, FILE *out, int explain);
char *trit_plan_report_json(const struct trit_plan *p, int explain);

/* ------------------------------------------------------------------------ */
/* Parallel deployments: tensor, pipeline and expert parallelism over
 * several GPUs, run by another engine (vLLM, llama.cpp's RPC backend). trit
 * plans what each GPU holds by the engine's sharding rules
 * (docs/memory.md, "Parallel deployments"); it runs none of it.            */

struct trit_parallel_options {
	uint32_t tp;  /* tensor-parallel ranks per pipeline stage (1 = none) */
	uint32_t pp;  /* pipeline stages (1 = none) */
	uint32_t ep;  /* expert-parallel ranks (1 = none; a multiple of tp) */
};
/* From [parallel] tp, pp, ep. */
void trit_runtime_parallel_options(const struct trit_runtime *rt,
                                   struct trit_parallel_options *out);

struct trit_parallel_plan;

/*
 * Plan model m with degrees par on the runtime's GPUs (those with known free
 * memory, in `trit devices` order: stage 0's ranks on the first), o giving
 * the context, ubatch, sequences, KV type, headroom and GPU fraction. Fails
 * with TRIT_EINVAL and a sentence when m does not suit the degrees (heads
 * not divisible by tp, ...); a deployment that does not fit is a plan whose
 * summary has fits 0 and why.
 */
int trit_parallel_plan_create(const struct trit_runtime *rt, const struct trit_model *m,
                              const struct trit_plan_options *o,
                              const struct trit_parallel_options *par,
                              struct trit_parallel_plan **out, char *err, size_t errlen);
void trit_parallel_plan_free(struct trit_parallel_plan *p);

struct trit_parallel_summary {
	uint32_t gpus_per_stage;  /* max(tp, ep) */
	uint32_t n_ranks;         /* GPUs the deployment takes: pp x gpus_per_stage */
	uint32_t n_gpus;          /* GPUs offered */
	int fits;                 /* every rank fits its GPU with headroom */
	const char *why;          /* when it does not: the first reason; else "" */
	uint64_t most_bytes;      /* the largest placed rank's bytes, its GPU's overhead
	                           * included and headroom not */
};
void trit_parallel_plan_get_summary(const struct trit_parallel_plan *p,
                                    struct trit_parallel_summary *out);
/* `trit plan --tp/--pp/--ep`: stages, ranks, GPUs, rules; explain adds
 * every buffer of one rank of each stage. */
void trit_parallel_plan_report_text(const struct trit_parallel_plan *p, FILE *out, int explain);
char *trit_parallel_plan_report_json(const struct trit_parallel_plan *p, int explain);

/*
 * A cluster inventory (docs/cluster.md: machines, each a devices file with
 * its address and GPU link, and the network between them): every
 * deployment searched (tp within a machine, pp within and across machines,
 * ep for the experts), planned, and those that fit ranked by an estimated
 * decode speed counting the bytes over GPU links and the network. par
 * restricts the search: a degree of 0 is searched, another is kept. Fails
 * with TRIT_ECONFIG naming the file and line of every problem of the
 * inventory; finding nothing that fits is a plan with n_fit 0.
 */
struct trit_cluster_plan;
int trit_cluster_plan_create(const struct trit_model *m, const struct trit_plan_options *o,
                             const char *cluster_file, const struct trit_parallel_options *par,
                             struct trit_cluster_plan **out, char *err, size_t errlen);
void trit_cluster_plan_free(struct trit_cluster_plan *p);

struct trit_cluster_summary {
	uint32_t n_searched, n_fit;
	/* the best deployment (n_fit > 0) */
	uint32_t tp, pp, ep, n_gpus;
	double tokens_per_s;        /* < 0 unknown */
};
void trit_cluster_plan_get_summary(const struct trit_cluster_plan *p,
                                   struct trit_cluster_summary *out);
void trit_cluster_plan_report_text(const struct trit_cluster_plan *p, FILE *out, int explain);
char *trit_cluster_plan_report_json(const struct trit_cluster_plan *p, int explain);

/*
 * The commands that start a planned deployment on an engine: "vllm" (vllm
 * serve with the degrees, --gpu-memory-utilization and --max-model-len from
 * the plan; Ray on each machine when there are several) or "llama.cpp-rpc"
 * (ggml-rpc-server on each worker machine, llama-server --rpc ...
 * --tensor-split ... on the head). Written to out as shell lines under
 * comments, or with json as one document holding each command's argv and
 * line, the notes and the plan (docs/json.md, "Deployment"). A cluster plan
 * writes the fastest deployment that fits and the engine runs. TRIT_EINVAL
 * with a sentence when the engine cannot run it (llama.cpp: tp or ep above
 * 1; vLLM: a KV cache other than f16), or nothing fits.
 */
int trit_parallel_plan_emit(const struct trit_parallel_plan *p, const char *engine, int json,
                            FILE *out, char *err, size_t errlen);
int trit_cluster_plan_emit(const struct trit_cluster_plan *p, const char *engine, int json,
                           FILE *out, char *err, size_t errlen);

/*
 * [engine] name = llama.cpp: the buffers llama.cpp itself allocates to run
 * m on the CPU (its model buffer, KV cache and compute buffer;
 * docs/llamacpp-memory.md) for o's context, ubatch, sequences and KV type
 * and [engine] flash_attn, written as text or, with json, one document
 * (docs/json.md, "Engine profile"). TRIT_EINVAL with a sentence when
 * llama.cpp would not run it so, or the engine is not llama.cpp.
 */
int trit_engine_profile_write(const struct trit_runtime *rt, const struct trit_model *m,
                              const struct trit_plan_options *o, int json, FILE *out,
                              char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Bench: each device's ternary kernels against a streaming read of the
 * same bytes (docs/bench.md).                                              */

#define TRIT_BENCH_OPT_MAX_SHAPES 16u
#define TRIT_BENCH_OPT_MAX_FILTERS 16u

struct trit_bench_options {
	uint32_t kernels;            /* TRIT_TYPE_BIT of I2_S, TL1, TL2; 0 = all three */
	uint64_t rows[TRIT_BENCH_OPT_MAX_SHAPES], cols[TRIT_BENCH_OPT_MAX_SHAPES];
	uint32_t n_shapes;           /* 0 = BitNet-b1.58-2B-4T's five layer shapes */
	uint32_t tokens;             /* activations per matmul, 1 .. 4096 */
	uint32_t reps;               /* timed samples per shape, 1 .. 1000; 0 = 5, or 9 when full */
	uint64_t working_set;        /* bytes; 0 = twice the last-level cache, at most
	                                256 MiB unless full */
	/* Only these backends / device ids (n = 0: all). `ref`, the scalar
	 * reference, runs only when named or when no other backend has a kernel
	 * asked for. */
	const char *backends[TRIT_BENCH_OPT_MAX_FILTERS];
	const char *devices[TRIT_BENCH_OPT_MAX_FILTERS];
	uint32_t n_backends, n_devices;
	/* Progress and notes for people (NULL: none), and each kernel that
	 * failed or disagreed with the reference as it happens (NULL: none). */
	void (*progress)(void *ctx, const char *message);
	void (*failure)(void *ctx, const char *message);
	void *ctx;
	/* 1: the long version (`trit bench --full`): the working set is not
	 * capped. 0: a quick run. Results record which; a quick result is
	 * cached beside a full one, never over it (docs/bench.md). Appended to
	 * this struct: a program built against an older trit.h must be rebuilt
	 * (and, built so, gets a quick run where it got the long one). */
	uint32_t full;
};

struct trit_bench_report;

/*
 * Measure every kernel the options select on the runtime's devices, with the
 * planner's thread count ([runtime] threads), and add the results to the
 * bench cache when trit_runtime_load_bench_cache read it. Returns 0 with
 * *out; TRIT_ENODEV when nothing matched (*out NULL); TRIT_EIO when the
 * cache could not be written and TRIT_ENOMEM when memory ran out midway, both
 * with *out holding what was measured. A kernel that failed is in the report
 * as refused, with why; it is not an error of the run.
 */
int trit_bench_run(struct trit_runtime *rt, const struct trit_bench_options *o,
                   struct trit_bench_report **out, char *err, size_t errlen);
void trit_bench_report_free(struct trit_bench_report *r);

struct trit_bench_kernel_info {
	const char *backend, *device_id, *device_name;
	const char *isa;             /* "" when the device reports none */
	const char *kernel;          /* "I2_S", "TL1", "TL2" */
	const char *why;             /* refused: why; NULL for a result */
	uint32_t tokens, threads;
	double gops;                 /* over all shapes */
	double weight_bps;           /* weight bytes streamed per second */
	double read_bps;             /* the plain read's; < 0 unknown */
};
size_t trit_bench_report_count(const struct trit_bench_report *r);   /* results */
size_t trit_bench_report_refused(const struct trit_bench_report *r); /* refusals */
/* Result `index` (0 .. count-1), then refusal `index - count`; TRIT_ERANGE
 * past the end. */
int trit_bench_report_get(const struct trit_bench_report *r, size_t index,
                          struct trit_bench_kernel_info *out);
void trit_bench_report_text(const struct trit_bench_report *r, FILE *out);
char *trit_bench_report_json(const struct trit_bench_report *r);

/* ------------------------------------------------------------------------ */
/* Tokenizers: text to token ids and back with a GGUF file's vocabulary
 * (the tokenizer.ggml.* keys), token for token as llama.cpp tokenizes the
 * same file. Byte-level BPE ("gpt2") with the llama-bpe (Llama 3, Falcon 3,
 * BitNet b1.58 2B4T), gpt-2 and default pre-tokenizers, and SentencePiece
 * ("llama"). A tokenizer is read-only once open: several threads may
 * tokenize with one at the same time.                                      */

struct trit_tokenizer;

/* Read the vocabulary of the GGUF file at path. Errors name the key and,
 * for an array, the element: "tokenizer.ggml.scores[7]: ...". TRIT_EINVAL:
 * the file has no tokenizer; TRIT_EUNSUPPORTED: a tokenizer model or
 * pre-tokenizer trit does not implement (the message names it); TRIT_EIO,
 * TRIT_EFORMAT, TRIT_ERANGE, TRIT_ENOMEM as for the file itself. */
int trit_tokenizer_open(const char *path, struct trit_tokenizer **out, char *err,
                        size_t errlen);
/* The same for the file a model was opened from (GGUF only: a SafeTensors
 * model is TRIT_EUNSUPPORTED). The tokenizer does not refer to m. */
int trit_tokenizer_open_model(const struct trit_model *m, struct trit_tokenizer **out,
                              char *err, size_t errlen);
void trit_tokenizer_free(struct trit_tokenizer *t);

struct trit_tokenizer_info {
	const char *model;            /* "gpt2" (byte-level BPE) or "llama" (SentencePiece) */
	const char *pre;              /* tokenizer.ggml.pre as stated; "" when absent */
	uint32_t n_tokens;
	int32_t bos, eos, eot, unk, pad; /* token ids; -1 when the vocabulary has none */
	int add_bos, add_eos;         /* what add_special adds */
	int add_space_prefix;         /* SentencePiece: a space is put before the text */
};
void trit_tokenizer_get_info(const struct trit_tokenizer *t, struct trit_tokenizer_info *out);

/*
 * Tokenize text[0..len) (any bytes; no NUL needed). add_special: add the BOS
 * and EOS the vocabulary asks for (info.add_bos, add_eos). parse_special:
 * control tokens written in the text ("<|eot_id|>") are those tokens, not
 * text; user-defined tokens always are. The ids go to ids[0..cap) and *n
 * receives how many there are: when more than cap, the first cap are
 * stored and TRIT_ERANGE returned (call again with *n). Malformed UTF-8 is
 * tokenized as llama.cpp does (BPE: each bad byte as U+FFFD; SentencePiece:
 * as byte tokens). TRIT_ERANGE also for text over 1 GiB; TRIT_EFORMAT when a
 * byte has no token and the vocabulary no unknown token; TRIT_ENOMEM.
 */
int trit_tokenize(const struct trit_tokenizer *t, const char *text, size_t len,
                  int add_special, int parse_special, int32_t *ids, size_t cap, size_t *n,
                  char *err, size_t errlen);

/*
 * The bytes of token id: byte-level BPE's characters mapped back to bytes
 * ("\u0120" is a space), SentencePiece's U+2581 as a space and <0xHH> as
 * that byte. Control and unknown tokens give their text when special is
 * set and nothing otherwise. At most cap bytes go to buf (no NUL added);
 * *n receives the piece's length, which may exceed cap. A piece can end
 * inside a UTF-8 character (byte tokens, byte-level pieces): see
 * trit_utf8_complete. Returns 0, or TRIT_EINVAL when id is not a token.
 */
int trit_token_to_piece(const struct trit_tokenizer *t, int32_t id, int special, char *buf,
                        size_t cap, size_t *n);

/* The pieces of ids[0..n_ids) one after the other, as trit_token_to_piece,
 * except that with a SentencePiece vocabulary that adds a space prefix the
 * space that starts the first text piece is dropped (so text tokenized
 * with add_space_prefix comes back as it was). Output as above: *n the
 * whole length, at most cap bytes written. TRIT_EINVAL names the first id
 * that is not a token. */
int trit_detokenize(const struct trit_tokenizer *t, const int32_t *ids, size_t n_ids,
                    int special, char *buf, size_t cap, size_t *n, char *err, size_t errlen);

/* For streaming output: how many bytes of buf[0..len) can be written out
 * now. Everything, except a UTF-8 character at the end still missing
 * continuation bytes (keep those and put the next piece after them).
 * Malformed bytes are not held back. */
size_t trit_utf8_complete(const char *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* Running: a model loaded where its plan says, generating text
 * (docs/run.md).                                                           */

struct trit_session;

/* A load's progress: bytes of tensor data placed so far. */
struct trit_load_status {
	uint64_t done_bytes, total_bytes;
	uint32_t done_tensors, total_tensors;
	const char *tensor;          /* the tensor just placed */
	double seconds;              /* since the load began */
};

struct trit_session_options {
	int no_zero_copy;            /* copy every tensor instead of using the mapped file */
	/* Called as tensors are placed (may be NULL), from the loading thread. */
	void (*progress)(void *ctx, const struct trit_load_status *s);
	void *ctx;
	/* 1: trit_session_eval returns the logits of every token it runs, not
	 * only the last's (perplexity); the activation arena holds a ubatch of
	 * logit rows. Such a session does not generate. Appended to this
	 * struct: a program built against an older trit.h must be rebuilt. */
	int all_logits;
};

/*
 * Load m's weights where plan p places them (progressively, in place from
 * the mapped file where the device runs the stored type, repacked in bounded
 * chunks where it does not), make the KV cache and the activation arena the
 * plan listed, and read the tokenizer. When a device has less free memory
 * than planned, the session re-plans with the memory measured now and loads
 * that plan (trit_session_replanned says why). The session refers to rt, m
 * and p: free it before them. A plan of strategy NONE is TRIT_ENOMEM.
 */
int trit_session_new(struct trit_runtime *rt, const struct trit_model *m,
                     const struct trit_plan *p, const struct trit_session_options *o,
                     struct trit_session **out, char *err, size_t errlen);
void trit_session_free(struct trit_session *s);

/* Floats in one row of logits (the model's vocabulary), and the positions
 * the session's KV cache holds (the plan's context). */
uint32_t trit_session_n_vocab(const struct trit_session *s);
uint32_t trit_session_n_ctx(const struct trit_session *s);

/*
 * Run tokens[0..n) at positions pos0 .. pos0 + n - 1 through the forward pass
 * the session loaded, in the plan's ubatches. The KV cache must hold every
 * position below pos0 from earlier calls since the session was made or last
 * reset (pos0 = 0 always works: it starts afresh); later positions are
 * overwritten. logits (may be NULL): n_vocab floats of the last token, or
 * n x n_vocab (row i for token i) when the session was opened with
 * all_logits. TRIT_EINVAL for pos0 past what the cache holds or n = 0;
 * TRIT_ERANGE for a token outside the vocabulary or positions past the
 * context.
 */
int trit_session_eval(struct trit_session *s, const int32_t *tokens, uint32_t n, uint32_t pos0,
                      float *logits, char *err, size_t errlen);
/* Forget the KV cache's positions: the next eval starts at pos0 = 0.
 * trit_session_generate leaves the session so too. */
void trit_session_reset(struct trit_session *s);

/* The plan the session runs: p, or the one it made when the load found less
 * memory than p assumed. */
const struct trit_plan *trit_session_plan(const struct trit_session *s);
/* NULL, or why the session re-planned. */
const char *trit_session_replanned(const struct trit_session *s);

/* The load: RSS before, peak and after, bytes in place, copied and
 * repacked, per device, time. */
void trit_session_load_report_text(const struct trit_session *s, FILE *out);
char *trit_session_load_report_json(const struct trit_session *s);

struct trit_generate_options {
	const char *prompt;          /* UTF-8 (any bytes are tokenized) */
	int chat;                    /* format the prompt as a user turn of the model's template */
	const char *system;          /* chat: a system turn first (NULL: none) */
	const char *chat_template;   /* chat: a template by name instead of the model's */
	int32_t n_predict;           /* tokens to generate; < 0: until end of turn or context */
	float temperature;           /* <= 0: greedy */
	int32_t top_k;               /* <= 0: off */
	float top_p, min_p;          /* 1 and 0: off */
	float repeat_penalty;        /* 1: off */
	int32_t repeat_last_n;
	uint64_t seed;               /* the same seed gives the same tokens at any thread count */
	/* Text as it is generated, whole UTF-8 characters (may be NULL); a
	 * non-zero return stops generation. */
	int (*on_text)(void *ctx, const char *text, size_t len);
	void *ctx;
};
/* llama.cpp's defaults: temperature 0.8, top_k 40, top_p 0.95, min_p 0.05,
 * no repetition penalty over the last 64; n_predict 128; seed 0. */
void trit_generate_options_default(struct trit_generate_options *o);

struct trit_run_report;

/*
 * Generate from the session's context start: tokenize (chat-format first
 * when asked), run the prompt in the plan's ubatches, sample and decode one
 * token at a time. *out holds the tokens, the text, the speeds and the
 * memory measured against the plan's; it exists (with what was generated)
 * even when an error stopped generation midway.
 */
int trit_session_generate(struct trit_session *s, const struct trit_generate_options *o,
                          struct trit_run_report **out, char *err, size_t errlen);
void trit_run_report_free(struct trit_run_report *r);

struct trit_run_summary {
	const int32_t *prompt_tokens;  uint32_t n_prompt_tokens;
	const int32_t *tokens;         uint32_t n_tokens;      /* generated */
	const char *text;              size_t text_len;
	const char *stop;              /* why generation stopped */
	double prompt_tokens_per_s;    /* < 0: unknown */
	double decode_tokens_per_s;    /* < 0: unknown (fewer than 2 tokens generated) */
	double estimate_tokens_per_s;  /* the plan's decode estimate, < 0 unknown */
	uint64_t planned_bytes;        /* the plan's total over its devices, without headroom */
	uint64_t measured_peak_bytes;  /* the process's peak resident memory (VmHWM) */
};
void trit_run_report_get(const struct trit_run_report *r, struct trit_run_summary *out);

/* Speeds and memory measured vs planned per device and component, for
 * people; JSON: docs/json.md. */
void trit_run_report_text(const struct trit_run_report *r, FILE *out);
char *trit_run_report_json(const struct trit_run_report *r);

/* ------------------------------------------------------------------------ */
/* Converting models to GGUF: a Hugging Face BitNet b1.58 directory
 * (config.json, model.safetensors or its index, tokenizer.json) or a GGUF
 * file (re-typed) to a GGUF v3 file of architecture bitnet-b1.58, tensor by
 * tensor. The output is written under a temporary name beside it and
 * renamed at the end: a failed conversion leaves no output. docs/convert.md. */

enum trit_convert_type {
	TRIT_CONVERT_I2_S = 0,   /* the BitLinear matrices packed as I2_S (the default) */
	TRIT_CONVERT_F32 = 1,
	TRIT_CONVERT_F16 = 2
};

struct trit_convert_options {
	const char *src;            /* a model directory or a GGUF file */
	const char *out;            /* the GGUF to write */
	int type;                   /* enum trit_convert_type */
	const char *name;           /* general.name (NULL: the source's, or the directory name) */
	const char *chat_template;  /* template text (NULL: tokenizer_config.json's / the file's) */
	int ternarize;              /* I2_S of a matrix that is not ternary x one scale:
	                             * 0 refuses it, 1 applies BitNet's absmean rule */
	FILE *progress;             /* a line per tensor for large models (NULL: silent) */
};

struct trit_convert_result {
	uint64_t n_tensors, n_converted; /* written; of those re-encoded */
	uint64_t n_kv;                   /* metadata pairs written */
	uint64_t bytes;                  /* size of the file */
	uint32_t file_type;              /* general.file_type written */
};

/* Convert as o says. Returns 0, or a negative TRIT_E* with a sentence in err
 * naming the file and the field or tensor at fault. res may be NULL. */
int trit_convert(const struct trit_convert_options *o, struct trit_convert_result *res,
                 char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Perplexity, as llama.cpp's llama-perplexity measures it (docs/perplexity.md). */

struct trit_perplexity_options {
	uint32_t n_ctx;              /* window in tokens; 0 = the session's context */
	uint32_t n_batch;            /* tokens per eval; 0 = the plan's ubatch */
	uint32_t max_chunks;         /* windows to evaluate; 0 = every full one */
	/* After each window (may be NULL): its number from 1, of n_chunks, and
	 * the estimate so far. */
	void (*progress)(void *ctx, uint32_t chunk, uint32_t n_chunks, double ppl);
	void *ctx;
};

struct trit_perplexity_result {
	double ppl;                  /* exp(mean NLL) */
	double ppl_err;              /* llama.cpp's +-: standard error of the mean NLL x ppl */
	double mean_nll, nll_stderr;
	uint64_t n_scored;           /* tokens scored: n_chunks x (n_ctx - 1 - n_ctx / 2) */
	uint64_t n_tokens;           /* the text's tokens (BOS included when added) */
	uint32_t n_chunks, n_ctx, n_batch;
	int add_bos;                 /* each window starts with BOS */
	double seconds;              /* evaluating the windows */
	double tokens_per_s;         /* tokens evaluated (n_chunks x n_ctx) per second */
};

/*
 * Tokenize text[0..len) with the model's vocabulary (BOS first when it adds
 * one), cut it into non-overlapping windows of n_ctx tokens (the partial one
 * at the end dropped), evaluate each from an empty KV cache with its first
 * token replaced by BOS when the vocabulary adds one, and score the second
 * half of each: the negative log-likelihood of token i + 1 under the logits
 * of position i for i in [n_ctx / 2, n_ctx - 1), log-softmax in double. The
 * session must have been opened with all_logits (TRIT_EINVAL otherwise).
 * TRIT_EINVAL too when the text has fewer than n_ctx tokens (the message
 * says how many it has and needs) or n_ctx is under 3 or over the
 * session's context.
 */
int trit_session_perplexity(struct trit_session *s, const char *text, size_t len,
                            const struct trit_perplexity_options *o,
                            struct trit_perplexity_result *out, char *err, size_t errlen);
/* The result with the model, the plan the session runs and the load, as one
 * JSON document (docs/json.md); NULL when memory runs out. */
char *trit_perplexity_report_json(const struct trit_session *s,
                                  const struct trit_perplexity_result *r);

#ifdef __cplusplus
}
#endif

#endif /* TRIT_TRIT_H */
