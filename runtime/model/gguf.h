/*
 * gguf.h - read the header of a GGUF file (versions 2 and 3): metadata and
 * tensor infos, validated, with bounded reads. Never reads tensor data.
 *
 * The input is hostile: every count, length, offset and type is checked, and
 * an error names the byte offset, the field, and what was expected. What the
 * metadata *means* (architecture, hyper-parameters) is model.c's business.
 */
#ifndef TRIT_MODEL_GGUF_H
#define TRIT_MODEL_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "model/ggml_types.h"

/* Limits a valid file stays within (refused beyond, with the limit named). */
#define TRIT_GGUF_MAX_TENSORS   (1u << 20)     /* tensor infos */
#define TRIT_GGUF_MAX_KV        (1u << 16)     /* metadata pairs */
#define TRIT_GGUF_MAX_STRING    (1u << 24)     /* bytes in one string (16 MiB) */
#define TRIT_GGUF_MAX_HEADER    (UINT64_C(1) << 30) /* bytes before the data section */
#define TRIT_GGUF_MAX_DEPTH     4              /* array levels: an array of scalars is
                                                  level 1, an array of those level 2 */
#define TRIT_GGUF_MAX_NAME      65535u         /* bytes in a key or a tensor name */

enum trit_gguf_vtype {
	TRIT_GGUF_U8 = 0, TRIT_GGUF_I8 = 1, TRIT_GGUF_U16 = 2, TRIT_GGUF_I16 = 3,
	TRIT_GGUF_U32 = 4, TRIT_GGUF_I32 = 5, TRIT_GGUF_F32 = 6, TRIT_GGUF_BOOL = 7,
	TRIT_GGUF_STRING = 8, TRIT_GGUF_ARRAY = 9, TRIT_GGUF_U64 = 10, TRIT_GGUF_I64 = 11,
	TRIT_GGUF_F64 = 12
};

/* A string inside the header buffer: not NUL-terminated in the file, so
 * always use the length. */
struct trit_gguf_str {
	const char *s;
	uint64_t len;
};

/* One metadata pair. Scalars are decoded; arrays keep their element type,
 * count and where their elements start so callers can walk them (an array of
 * 128256 token strings is not copied into 128256 allocations). */
struct trit_gguf_kv {
	struct trit_gguf_str key;
	uint32_t type;            /* enum trit_gguf_vtype */
	uint64_t offset;          /* file offset of the pair, for error messages */
	union {
		uint64_t u;           /* U8..U64, BOOL (0/1) */
		int64_t i;            /* I8..I64 */
		double f;             /* F32, F64 */
		struct trit_gguf_str str;
	} v;
	/* TRIT_GGUF_ARRAY only: */
	uint32_t arr_type;        /* element type (may itself be ARRAY) */
	uint64_t arr_count;
	const unsigned char *arr_data; /* first element, inside the header buffer */
	uint64_t arr_bytes;       /* bytes the elements occupy */
};

struct trit_gguf_tensor {
	struct trit_gguf_str name;
	uint32_t n_dims;          /* 1..4 */
	uint64_t ne[4];           /* GGML order: ne[0] is the row length; unused = 1 */
	uint32_t type_id;         /* as stored */
	const struct trit_ggml_type *type; /* resolved in the file's dialect */
	uint64_t offset;          /* relative to the data section, as stored */
	uint64_t size;            /* exact bytes (trit_ggml_nbytes) */
	uint64_t info_offset;     /* file offset of this tensor info */
};

struct trit_gguf {
	uint32_t version;                 /* 2 or 3 */
	uint64_t n_kv, n_tensors;
	struct trit_gguf_kv *kv;
	struct trit_gguf_tensor *tensors; /* in file order */
	uint32_t alignment;               /* general.alignment, default 32 */
	enum trit_ggml_dialect dialect;   /* decided from the metadata, see gguf.c */
	uint64_t data_offset;             /* file offset of the data section */
	uint64_t file_size;
	void *buf;                        /* owns the header bytes strings point into */
	size_t buf_len;                   /* the header: the tensor infos end here */
};

/* Read and validate the header of the file at path. On failure *out is NULL
 * and err says "PATH: offset N: FIELD: expected WHAT, found WHAT". Returns
 * TRIT_EIO (cannot open or read), TRIT_EFORMAT (malformed), TRIT_ERANGE (a
 * count or size beyond the limits above) or TRIT_ENOMEM. */
int trit_gguf_open(const char *path, struct trit_gguf **out, char *err, size_t errlen);

/* The same on a memory buffer holding the start of a file of file_size
 * bytes (len <= file_size); used by the fuzz target and by tests. name is
 * used in messages. */
int trit_gguf_parse(const void *data, size_t len, uint64_t file_size, const char *name,
                    struct trit_gguf **out, char *err, size_t errlen);

void trit_gguf_close(struct trit_gguf *g);

/* Look-ups. find returns NULL when the key is absent. The typed getters
 * return 0, TRIT_EINVAL when absent, TRIT_EFORMAT when the type does not fit
 * and TRIT_ERANGE when the value does not: any integer type converts to
 * u64/i64 when the value fits (-1 is not a u64, 2^63 not an i64); F32/F64
 * convert to f64, integers do not; bool is only read by get_bool. */
const struct trit_gguf_kv *trit_gguf_find(const struct trit_gguf *g, const char *key);
int trit_gguf_get_u64(const struct trit_gguf *g, const char *key, uint64_t *out);
int trit_gguf_get_i64(const struct trit_gguf *g, const char *key, int64_t *out);
int trit_gguf_get_f64(const struct trit_gguf *g, const char *key, double *out);
int trit_gguf_get_bool(const struct trit_gguf *g, const char *key, int *out);
int trit_gguf_get_str(const struct trit_gguf *g, const char *key, struct trit_gguf_str *out);
/* Element i of an integer or float array (per-layer head counts are stored
 * that way), converted as above; TRIT_ERANGE past the end or when the
 * element does not fit, TRIT_EFORMAT when kv is not such an array. */
int trit_gguf_array_u64(const struct trit_gguf_kv *kv, uint64_t i, uint64_t *out);
int trit_gguf_array_f64(const struct trit_gguf_kv *kv, uint64_t i, double *out);
/* Walk an array of strings (a vocabulary): set *cursor to 0, then each call
 * stores the next element in *out and advances *cursor. Returns TRIT_ERANGE
 * after the last element, TRIT_EFORMAT when kv is not an array of strings or
 * *cursor does not point at an element (a wrong cursor is not always
 * detected, but what is returned always lies inside the array). */
int trit_gguf_array_next_str(const struct trit_gguf_kv *kv, uint64_t *cursor,
                             struct trit_gguf_str *out);

/* The tensor with this name, or NULL. */
const struct trit_gguf_tensor *trit_gguf_find_tensor(const struct trit_gguf *g,
                                                     const char *name);

/* Name of a value type ("u32", "string", "array"), for messages. */
const char *trit_gguf_type_name(uint32_t type);

#endif
