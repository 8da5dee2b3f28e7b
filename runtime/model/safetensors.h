/*
 * safetensors.h - read SafeTensors models: a single file, or shards listed by
 * model.safetensors.index.json, plus the Hugging Face config.json beside them.
 * Headers are parsed with cJSON and validated; tensor data is never read.
 *
 * The input is hostile: header length, JSON, dtypes, shapes and data offsets
 * are checked against each other and the file size; errors name the file,
 * the byte offset or JSON key, and what was expected. What config.json
 * *means* is model.c's business: this module hands it over parsed.
 */
#ifndef TRIT_MODEL_SAFETENSORS_H
#define TRIT_MODEL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define TRIT_ST_MAX_HEADER   (UINT64_C(100) << 20) /* bytes of JSON header (format limit) */
#define TRIT_ST_MAX_TENSORS  (1u << 20)
#define TRIT_ST_MAX_SHARDS   4096u
#define TRIT_ST_MAX_DIMS     8u
#define TRIT_ST_MAX_CONFIG   (UINT64_C(16) << 20)  /* bytes of config.json / index.json */
/* JSON values in one header, index or config: bounds cJSON's memory (about
 * 64 bytes a value) whatever the text; a real shard header has ~8 a tensor. */
#define TRIT_ST_MAX_JSON_VALUES (1u << 22)

enum trit_st_dtype {
	TRIT_ST_F64, TRIT_ST_F32, TRIT_ST_F16, TRIT_ST_BF16,
	TRIT_ST_I64, TRIT_ST_I32, TRIT_ST_I16, TRIT_ST_I8,
	TRIT_ST_U64, TRIT_ST_U32, TRIT_ST_U16, TRIT_ST_U8,
	TRIT_ST_BOOL, TRIT_ST_F8_E4M3, TRIT_ST_F8_E5M2,
	TRIT_ST_DTYPE_COUNT
};

/* "F32", "BF16", "F8_E4M3" ... (NULL past the enum) and bytes per element
 * (0 past the enum). Headers must spell dtypes exactly so. */
const char *trit_st_dtype_name(uint32_t dtype);
uint32_t trit_st_dtype_size(uint32_t dtype);

/*
 * One tensor as the header describes it. Invariants after a successful open:
 * name is non-empty UTF-8 without NUL and unique across the model; shape
 * values are exact integers below 2^53; end - begin == product(shape) x
 * dtype size (0 for an empty tensor, 1 element for a scalar); [begin, end)
 * lies in its shard's data section, and a shard's non-empty tensors tile
 * that section with no overlap and no hole.
 */
struct trit_st_tensor {
	char *name;
	uint32_t dtype;                 /* enum trit_st_dtype */
	uint32_t n_dims;                /* 0 (a scalar) .. TRIT_ST_MAX_DIMS */
	uint64_t shape[TRIT_ST_MAX_DIMS]; /* row-major order as in the file: shape[n_dims-1] is the row */
	uint64_t begin, end;            /* absolute file offsets of the data in its shard */
	uint32_t shard;                 /* index into trit_st.shards */
};

struct trit_st_shard {
	char *path;
	uint64_t file_size;
	uint64_t header_len;            /* the JSON header's length (after the 8-byte prefix) */
};

struct trit_st {
	struct trit_st_shard *shards;   /* with an index: sorted by file name */
	uint32_t n_shards;
	struct trit_st_tensor *tensors; /* all shards, in shard then header order */
	uint64_t n_tensors;
	/* __metadata__ of the first shard, as a cJSON object (may be NULL). */
	struct cJSON *metadata;
	/* config.json from the model directory, parsed (NULL when absent). */
	struct cJSON *config;
	char *config_path;              /* NULL when absent */
	char *index_path;               /* the index.json read, NULL for one file */
};

/*
 * Open `path`: a .safetensors file, an index (any path ending in ".json"),
 * or a directory holding model.safetensors.index.json (preferred) or exactly
 * one .safetensors file. With an index every shard it names is opened once;
 * shard names must be plain file names beside the index; each tensor must
 * live in the shard the weight_map says, exactly once across shards, and
 * every shard tensor must be listed. A metadata.total_size that disagrees
 * with the tensors' bytes is logged as a warning (writers differ on it), not
 * refused. config.json is read from the directory of `path` if present.
 *
 * Returns 0, or TRIT_EIO (cannot open/read, missing shard), TRIT_EFORMAT
 * (malformed), TRIT_ERANGE (beyond a TRIT_ST_MAX_* limit), TRIT_EINVAL (bad
 * argument, ambiguous directory) or TRIT_ENOMEM, with a sentence in err
 * naming the file and the byte offset or JSON key.
 */
int trit_st_open(const char *path, struct trit_st **out, char *err, size_t errlen);

/* Parse one shard's bytes from memory (the fuzz target and tests use this):
 * data holds the first len bytes of a file of file_size bytes; len must
 * cover the 8-byte prefix and the header. No index, no config.json. */
int trit_st_parse(const void *data, size_t len, uint64_t file_size, const char *name,
                  struct trit_st **out, char *err, size_t errlen);

void trit_st_close(struct trit_st *st);

/* Read a JSON file of at most max bytes whole and parse it with the bounds
 * above (values, NUL escapes); errors name the file and the byte offset,
 * line and column. *errnum (may be NULL) as trit_read_file() sets it. The
 * converter reads tokenizer.json and tokenizer_config.json this way. */
int trit_st_read_json(const char *path, uint64_t max, struct cJSON **out, int *errnum,
                      char *err, size_t errlen);

#endif
