/*
 * safetensors.c - validate SafeTensors headers (one file, or every shard a
 * model.safetensors.index.json lists) and read the config.json beside them.
 * Headers are parsed with cJSON; every name, dtype, shape and offset is
 * checked against the file. Tensor data is never read, and what config.json
 * means is left to model.c.
 */
#include <build-config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/common.h"
#include "core/safeopen.h"
#include "core/log.h"
#include "model/safetensors.h"

#define INDEX_NAME  "model.safetensors.index.json"
#define CONFIG_NAME "config.json"

/* cJSON stores numbers as doubles: integers above 2^53 - 1 are no longer
 * exact (2^53 + 1 reads back as 2^53), so counts and offsets must stay below. */
#define MAX_EXACT UINT64_C(9007199254740991)

/* Names printed in messages are cut here: a header may hold a 100 MiB name. */
#define NAME_MAX_SHOWN 200

static const struct {
	const char *name;
	uint32_t size;
} dtypes[TRIT_ST_DTYPE_COUNT] = {
	[TRIT_ST_F64] = { "F64", 8 },   [TRIT_ST_F32] = { "F32", 4 },
	[TRIT_ST_F16] = { "F16", 2 },   [TRIT_ST_BF16] = { "BF16", 2 },
	[TRIT_ST_I64] = { "I64", 8 },   [TRIT_ST_I32] = { "I32", 4 },
	[TRIT_ST_I16] = { "I16", 2 },   [TRIT_ST_I8] = { "I8", 1 },
	[TRIT_ST_U64] = { "U64", 8 },   [TRIT_ST_U32] = { "U32", 4 },
	[TRIT_ST_U16] = { "U16", 2 },   [TRIT_ST_U8] = { "U8", 1 },
	[TRIT_ST_BOOL] = { "BOOL", 1 }, [TRIT_ST_F8_E4M3] = { "F8_E4M3", 1 },
	[TRIT_ST_F8_E5M2] = { "F8_E5M2", 1 },
};

const char *trit_st_dtype_name(uint32_t dtype)
{
	return dtype < TRIT_ST_DTYPE_COUNT ? dtypes[dtype].name : NULL;
}

uint32_t trit_st_dtype_size(uint32_t dtype)
{
	return dtype < TRIT_ST_DTYPE_COUNT ? dtypes[dtype].size : 0;
}

/* ------------------------------------------------------------ the builder */

/* A trit_st under construction: arrays grow as shards are read. */
struct build {
	struct trit_st *st;
	uint64_t cap_tensors;
	uint32_t cap_shards;
};

static int push_shard(struct build *b, const char *path, uint64_t file_size,
                      uint64_t header_len)
{
	struct trit_st *st = b->st;

	if (st->n_shards == b->cap_shards) {
		uint32_t cap = b->cap_shards ? 2 * b->cap_shards : 4;
		struct trit_st_shard *s = realloc(st->shards, cap * sizeof *s);
		if (!s)
			return TRIT_ENOMEM;
		st->shards = s;
		b->cap_shards = cap;
	}
	st->shards[st->n_shards].path = trit_strdup(path);
	if (!st->shards[st->n_shards].path)
		return TRIT_ENOMEM;
	st->shards[st->n_shards].file_size = file_size;
	st->shards[st->n_shards].header_len = header_len;
	st->n_shards++;
	return 0;
}

static struct trit_st_tensor *push_tensor(struct build *b, const char *name)
{
	struct trit_st *st = b->st;
	struct trit_st_tensor *t;

	if (st->n_tensors == b->cap_tensors) {
		uint64_t cap = b->cap_tensors ? 2 * b->cap_tensors : 64;
		t = realloc(st->tensors, (size_t)cap * sizeof *t);
		if (!t)
			return NULL;
		st->tensors = t;
		b->cap_tensors = cap;
	}
	t = &st->tensors[st->n_tensors];
	memset(t, 0, sizeof *t);
	if (!(t->name = trit_strdup(name)))
		return NULL;
	st->n_tensors++;
	return t;
}

void trit_st_close(struct trit_st *st)
{
	if (!st)
		return;
	for (uint64_t i = 0; i < st->n_tensors; i++)
		free(st->tensors[i].name);
	for (uint32_t i = 0; i < st->n_shards; i++)
		free(st->shards[i].path);
	free(st->tensors);
	free(st->shards);
	cJSON_Delete(st->metadata);
	cJSON_Delete(st->config);
	free(st->config_path);
	free(st->index_path);
	free(st);
}

/* ------------------------------------------------------------ JSON helpers */

static const char *json_kind(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	return "an invalid value";
}

static unsigned count_members(const cJSON *v, unsigned stop_after)
{
	unsigned n = 0;
	for (const cJSON *c = v ? v->child : NULL; c && n <= stop_after; c = c->next)
		n++;
	return n;
}

enum { NUM_OK, NUM_NOT_NUMBER, NUM_NEGATIVE, NUM_FRACTION, NUM_TOO_BIG };

/* An exact non-negative integer, as counts and byte offsets must be. */
static int json_count(const cJSON *v, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return NUM_NOT_NUMBER;
	d = v->valuedouble;
	if (!(d >= 0))
		return NUM_NEGATIVE;
	if (d > (double)MAX_EXACT)
		return NUM_TOO_BIG;
	if ((double)(uint64_t)d != d)
		return NUM_FRACTION;
	*out = (uint64_t)d;
	return NUM_OK;
}

/* "found -3", "found 1.5", "found a string": for messages about json_count. */
static const char *count_problem(int why, const cJSON *v, char *buf, size_t len)
{
	switch (why) {
	case NUM_NOT_NUMBER:
		snprintf(buf, len, "found %s", json_kind(v));
		break;
	case NUM_TOO_BIG:
		snprintf(buf, len, "found %.17g, above 2^53 - 1 where JSON numbers stop being exact",
		         v->valuedouble);
		break;
	default:
		snprintf(buf, len, "found %.17g", v->valuedouble);
		break;
	}
	return buf;
}

/* Offset of the first byte that is not valid UTF-8 (or is NUL), or
 * UINT64_MAX. Overlong forms, surrogates and code points past U+10FFFF are
 * invalid, as RFC 3629 says. */
static uint64_t utf8_invalid_at(const unsigned char *s, uint64_t n)
{
	uint64_t i = 0;

	while (i < n) {
		unsigned c = s[i], len, k;
		uint32_t cp;

		if (c < 0x80) {
			if (c == 0)
				return i;
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4;
		else
			return i;
		if (n - i < len)
			return i;
		cp = c & (0x3Fu >> (len - 1));
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3Fu);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += len;
	}
	return UINT64_MAX;
}

/* Offset of a \u0000 escape inside a JSON string, or UINT64_MAX. cJSON
 * decodes it into a NUL that silently cuts the C string short: "a\u0000x"
 * and "a\u0000y" would both become "a". */
static uint64_t nul_escape_at(const char *s, uint64_t n)
{
	int in_string = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (s[i] == '"') {
			in_string = !in_string;
		} else if (in_string && s[i] == '\\') {
			if (n - i > 5 && memcmp(s + i + 1, "u0000", 5) == 0)
				return i;
			i++; /* the escaped character cannot end the string */
		}
	}
	return UINT64_MAX;
}

/* An upper bound on the values cJSON would allocate for this text: one per
 * '[', '{' and ',' outside strings, plus one. Checked before parsing, since a
 * header of 100 MiB of "[0,0,0,..." would otherwise cost gigabytes of nodes. */
static uint64_t json_values_bound(const char *s, uint64_t n)
{
	uint64_t count = 1;
	int in_string = 0;

	for (uint64_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{' || c == ',') {
			count++;
		}
	}
	return count;
}

static int is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parse len bytes of JSON that start at file offset `base` of `file`. Only
 * whitespace may follow the value (SafeTensors pads headers with spaces).
 * Errors give the file offset of the problem, with line and column. */
static int parse_json(const char *file, const char *buf, uint64_t len, uint64_t base,
                      cJSON **out, char *err, size_t errlen)
{
	const char *end = NULL;
	uint64_t at, line = 1, col = 1;
	cJSON *v;

	*out = NULL;
	if ((at = nul_escape_at(buf, len)) != UINT64_MAX)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: \"\\u0000\" at byte offset %" PRIu64 ": names and strings must "
		                 "not contain NUL", file, base + at);
	if ((at = json_values_bound(buf, len)) > TRIT_ST_MAX_JSON_VALUES)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: the JSON at byte offset %" PRIu64 " holds about %" PRIu64
		                 " values; trit reads at most %u in one header or file", file, base, at,
		                 TRIT_ST_MAX_JSON_VALUES);
	v = cJSON_ParseWithLengthOpts(buf, (size_t)len, &end, 0);
	if (v) {
		while (end < buf + len && is_json_space(*end))
			end++;
		if (end == buf + len) {
			*out = v;
			return 0;
		}
		cJSON_Delete(v);
	}
	at = end && end >= buf && end <= buf + len ? (uint64_t)(end - buf) : 0;
	for (uint64_t i = 0; i < at; i++) {
		if (buf[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	if (v)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: unexpected bytes after the JSON value at byte offset %" PRIu64
		                 " (line %" PRIu64 ", column %" PRIu64 "); expected only spaces",
		                 file, base + at, line, col);
	return trit_errf(err, errlen, TRIT_EFORMAT,
	                 "%s: invalid JSON at byte offset %" PRIu64 " (line %" PRIu64
	                 ", column %" PRIu64 ")", file, base + at, line, col);
}

/* ---------------------------------------------------- one shard's header */

/* Where the header and data of the shard being parsed lie. */
struct shard_geom {
	const char *file;               /* for messages */
	uint32_t index;                 /* into trit_st.shards */
	uint64_t data_start;            /* 8 + header_len */
	uint64_t data_size;             /* file_size - data_start */
};

static void format_shape(char *buf, size_t len, const uint64_t *shape, uint32_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	used += (size_t)snprintf(buf, len, "[");
	for (uint32_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%" PRIu64, i ? ", " : "",
		                         shape[i]);
	if (used < len)
		snprintf(buf + used, len - used, "]");
}

static int parse_dtype(const struct shard_geom *g, const char *name, const cJSON *v,
                       uint32_t *dtype, char *err, size_t errlen)
{
	if (cJSON_IsString(v)) {
		for (uint32_t i = 0; i < TRIT_ST_DTYPE_COUNT; i++) {
			if (strcmp(v->valuestring, dtypes[i].name) == 0) {
				*dtype = i;
				return 0;
			}
		}
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: tensor \"%.*s\": \"dtype\" is \"%.*s\"; expected one of F64 F32 "
		                 "F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL F8_E4M3 F8_E5M2",
		                 g->file, NAME_MAX_SHOWN, name, NAME_MAX_SHOWN, v->valuestring);
	}
	return trit_errf(err, errlen, TRIT_EFORMAT,
	                 "%s: tensor \"%.*s\": \"dtype\" is %s; expected a string such as \"F32\"",
	                 g->file, NAME_MAX_SHOWN, name, json_kind(v));
}

/* Shape and the element count it implies (overflow is an error, unless a
 * zero dimension makes the product zero). */
static int parse_shape(const struct shard_geom *g, struct trit_st_tensor *t, const cJSON *v,
                       uint64_t *elements, char *err, size_t errlen)
{
	uint64_t n = 1;
	int zero = 0, overflow = 0;
	unsigned dims;
	char why[128], shape[256];

	if (!cJSON_IsArray(v))
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: tensor \"%.*s\": \"shape\" is %s; expected an array of "
		                 "dimensions", g->file, NAME_MAX_SHOWN, t->name, json_kind(v));
	dims = count_members(v, TRIT_ST_MAX_DIMS);
	if (dims > TRIT_ST_MAX_DIMS)
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "%s: tensor \"%.*s\": \"shape\" has %d dimensions; trit accepts at "
		                 "most %u", g->file, NAME_MAX_SHOWN, t->name, cJSON_GetArraySize(v),
		                 TRIT_ST_MAX_DIMS);
	t->n_dims = dims;
	dims = 0;
	for (const cJSON *d = v->child; d; d = d->next, dims++) {
		int r = json_count(d, &t->shape[dims]);
		if (r != NUM_OK)
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "%s: tensor \"%.*s\": \"shape\"[%u]: expected a non-negative "
			                 "integer, %s", g->file, NAME_MAX_SHOWN, t->name, dims,
			                 count_problem(r, d, why, sizeof why));
		if (t->shape[dims] == 0)
			zero = 1;
		else if (!overflow && n > UINT64_MAX / t->shape[dims])
			overflow = 1;
		else
			n *= t->shape[dims];
	}
	if (zero) {
		*elements = 0;
		return 0;
	}
	if (overflow) {
		format_shape(shape, sizeof shape, t->shape, t->n_dims);
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: tensor \"%.*s\": shape %s has more than 2^64 elements",
		                 g->file, NAME_MAX_SHOWN, t->name, shape);
	}
	*elements = n;
	return 0;
}

static int parse_offsets(const struct shard_geom *g, struct trit_st_tensor *t, const cJSON *v,
                         uint64_t elements, char *err, size_t errlen)
{
	uint64_t off[2], size = trit_st_dtype_size(t->dtype), bytes;
	char why[128], shape[256];
	unsigned n;
	const cJSON *e;

	if (!cJSON_IsArray(v))
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: tensor \"%.*s\": \"data_offsets\" is %s; expected [begin, end]",
		                 g->file, NAME_MAX_SHOWN, t->name, json_kind(v));
	if ((n = count_members(v, 2)) != 2)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: tensor \"%.*s\": \"data_offsets\" has %d entries; expected 2, "
		                 "[begin, end]", g->file, NAME_MAX_SHOWN, t->name,
		                 cJSON_GetArraySize(v));
	e = v->child;
	for (unsigned i = 0; i < 2; i++, e = e->next) {
		int r = json_count(e, &off[i]);
		if (r != NUM_OK)
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "%s: tensor \"%.*s\": \"data_offsets\"[%u]: expected a "
			                 "non-negative integer, %s", g->file, NAME_MAX_SHOWN, t->name, i,
			                 count_problem(r, e, why, sizeof why));
	}
	if (off[0] > off[1])
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: tensor \"%.*s\": \"data_offsets\" [%" PRIu64 ", %" PRIu64 "] "
		                 "begins after it ends", g->file, NAME_MAX_SHOWN, t->name, off[0],
		                 off[1]);
	if (off[1] > g->data_size)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: tensor \"%.*s\": \"data_offsets\" end %" PRIu64 " is past the "
		                 "end of the data section (%" PRIu64 " bytes from file offset %" PRIu64
		                 ")", g->file, NAME_MAX_SHOWN, t->name, off[1], g->data_size,
		                 g->data_start);
	format_shape(shape, sizeof shape, t->shape, t->n_dims);
	if (elements > UINT64_MAX / size)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: tensor \"%.*s\": shape %s of %s needs more than 2^64 bytes",
		                 g->file, NAME_MAX_SHOWN, t->name, shape, dtypes[t->dtype].name);
	bytes = elements * size;
	if (off[1] - off[0] != bytes)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: tensor \"%.*s\": \"data_offsets\" [%" PRIu64 ", %" PRIu64 "] "
		                 "span %" PRIu64 " bytes, but shape %s of %s needs %" PRIu64
		                 " (%" PRIu64 " elements x %" PRIu64 " bytes)", g->file,
		                 NAME_MAX_SHOWN, t->name, off[0], off[1], off[1] - off[0], shape,
		                 dtypes[t->dtype].name, bytes, elements, size);
	t->begin = g->data_start + off[0];
	t->end = g->data_start + off[1];
	return 0;
}

/* One header entry other than __metadata__. */
static int parse_tensor(struct build *b, const struct shard_geom *g, const cJSON *entry,
                        char *err, size_t errlen)
{
	const char *name = entry->string;
	const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
	struct trit_st_tensor *t;
	uint64_t elements = 0;
	int rc;

	if (!name || !*name)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: the header names a tensor \"\"; tensor names must not be empty",
		                 g->file);
	if (!cJSON_IsObject(entry))
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: tensor \"%.*s\" is %s; expected an object with \"dtype\", "
		                 "\"shape\" and \"data_offsets\"", g->file, NAME_MAX_SHOWN, name,
		                 json_kind(entry));
	for (const cJSON *m = entry->child; m; m = m->next) {
		const cJSON **slot = strcmp(m->string, "dtype") == 0 ? &dtype
		                   : strcmp(m->string, "shape") == 0 ? &shape
		                   : strcmp(m->string, "data_offsets") == 0 ? &offsets : NULL;
		if (!slot)
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "%s: tensor \"%.*s\" has an unknown member \"%.*s\"; expected "
			                 "only \"dtype\", \"shape\" and \"data_offsets\"", g->file,
			                 NAME_MAX_SHOWN, name, NAME_MAX_SHOWN, m->string);
		if (*slot)
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "%s: tensor \"%.*s\" has \"%s\" twice", g->file,
			                 NAME_MAX_SHOWN, name, m->string);
		*slot = m;
	}
	if (!dtype || !shape || !offsets)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s: tensor \"%.*s\" has no \"%s\"",
		                 g->file, NAME_MAX_SHOWN, name,
		                 !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
	if (b->st->n_tensors >= TRIT_ST_MAX_TENSORS)
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "%s: the model has more than %u tensors; trit refuses more", g->file,
		                 TRIT_ST_MAX_TENSORS);
	if (!(t = push_tensor(b, name)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory reading the header",
		                 g->file);
	t->shard = g->index;
	if ((rc = parse_dtype(g, name, dtype, &t->dtype, err, errlen)) ||
	    (rc = parse_shape(g, t, shape, &elements, err, errlen)) ||
	    (rc = parse_offsets(g, t, offsets, elements, err, errlen)))
		return rc;
	return 0;
}

static int parse_metadata(const struct shard_geom *g, const cJSON *v, char *err, size_t errlen)
{
	if (!cJSON_IsObject(v))
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: \"__metadata__\" is %s; expected an object of strings", g->file,
		                 json_kind(v));
	for (const cJSON *m = v->child; m; m = m->next)
		if (!cJSON_IsString(m))
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "%s: \"__metadata__\".\"%.*s\" is %s; the format allows only "
			                 "string values there", g->file, NAME_MAX_SHOWN, m->string,
			                 json_kind(m));
	return 0;
}

struct span {
	uint64_t begin, end, tensor;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->tensor < y->tensor ? -1 : x->tensor > y->tensor;
}

/* Tensors of one shard, in order, must tile its data section exactly: the
 * format forbids both overlap and holes. Empty tensors take no bytes. */
static int check_layout(const struct trit_st *st, const struct shard_geom *g, uint64_t first,
                        char *err, size_t errlen)
{
	uint64_t n = 0, pos = g->data_start, stop = g->data_start + g->data_size;
	const struct trit_st_tensor *prev = NULL;
	struct span *s;
	int rc = 0;

	s = malloc((size_t)(st->n_tensors - first + 1) * sizeof *s);
	if (!s)
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", g->file);
	for (uint64_t i = first; i < st->n_tensors; i++)
		if (st->tensors[i].end > st->tensors[i].begin)
			s[n++] = (struct span){ st->tensors[i].begin, st->tensors[i].end, i };
	qsort(s, (size_t)n, sizeof *s, cmp_span);
	for (uint64_t i = 0; i < n && !rc; i++) {
		const struct trit_st_tensor *t = &st->tensors[s[i].tensor];
		if (t->begin > pos && prev)
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s: data section bytes %" PRIu64 "..%" PRIu64 " belong to no "
			               "tensor: a hole between \"%.*s\" and \"%.*s\" (the format has no "
			               "holes)", g->file, pos - g->data_start, t->begin - g->data_start,
			               NAME_MAX_SHOWN, prev->name, NAME_MAX_SHOWN, t->name);
		else if (t->begin > pos)
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s: data section bytes 0..%" PRIu64 " belong to no tensor: a "
			               "hole before \"%.*s\" (the format has no holes)", g->file,
			               t->begin - g->data_start, NAME_MAX_SHOWN, t->name);
		else if (t->begin < pos)
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s: tensors \"%.*s\" (data_offsets [%" PRIu64 ", %" PRIu64 "]) "
			               "and \"%.*s\" ([%" PRIu64 ", %" PRIu64 "]) overlap", g->file,
			               NAME_MAX_SHOWN, prev->name, prev->begin - g->data_start,
			               prev->end - g->data_start, NAME_MAX_SHOWN, t->name,
			               t->begin - g->data_start, t->end - g->data_start);
		pos = t->end;
		prev = t;
	}
	if (!rc && pos < stop)
		rc = prev ? trit_errf(err, errlen, TRIT_EFORMAT,
		                      "%s: data section bytes %" PRIu64 "..%" PRIu64 " belong to no "
		                      "tensor: a hole after \"%.*s\", the last one (the format has "
		                      "no holes)", g->file, pos - g->data_start, g->data_size,
		                      NAME_MAX_SHOWN, prev->name)
		          : trit_errf(err, errlen, TRIT_EFORMAT,
		                      "%s: the data section has %" PRIu64 " bytes but no tensor "
		                      "holds any of them (the format has no holes)", g->file,
		                      g->data_size);
	free(s);
	return rc;
}

struct named {
	const char *name;
	uint64_t index;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->index < y->index ? -1 : x->index > y->index);
}

/* Tensors [first, n) sorted by name: cJSON keeps duplicate keys, the format
 * does not allow them. *out is the sorted array (the caller frees it). */
static int sort_names(const struct trit_st *st, uint64_t first, struct named **out)
{
	uint64_t n = st->n_tensors - first;
	struct named *v = malloc((size_t)(n + 1) * sizeof *v);

	if (!v)
		return TRIT_ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		v[i] = (struct named){ st->tensors[first + i].name, first + i };
	qsort(v, (size_t)n, sizeof *v, cmp_named);
	*out = v;
	return 0;
}

static int check_unique(const struct trit_st *st, const struct shard_geom *g, uint64_t first,
                        char *err, size_t errlen)
{
	struct named *v;
	int rc = 0;

	if (sort_names(st, first, &v))
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", g->file);
	for (uint64_t i = 1; i < st->n_tensors - first && !rc; i++)
		if (strcmp(v[i - 1].name, v[i].name) == 0)
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s: tensor \"%.*s\" appears twice in the header (names must "
			               "be unique)", g->file, NAME_MAX_SHOWN, v[i].name);
	free(v);
	return rc;
}

/*
 * Parse the header of one shard (json = its header_len bytes) and append
 * the shard and its tensors to b. If metadata is not NULL, the shard's
 * __metadata__ (if any) is moved there.
 */
static int parse_shard(struct build *b, const char *file, const char *json,
                       uint64_t header_len, uint64_t file_size, cJSON **metadata,
                       char *err, size_t errlen)
{
	struct shard_geom g = { file, b->st->n_shards, 8 + header_len, file_size - 8 - header_len };
	uint64_t first = b->st->n_tensors, bad;
	cJSON *root, *meta = NULL;
	int rc;

	if ((bad = utf8_invalid_at((const unsigned char *)json, header_len)) != UINT64_MAX)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: the header has %s at byte offset %" PRIu64 "; expected UTF-8 "
		                 "JSON text", file, json[bad] ? "a byte that is not UTF-8" : "a NUL byte",
		                 8 + bad);
	if ((rc = parse_json(file, json, header_len, 8, &root, err, errlen)))
		return rc;
	if (!cJSON_IsObject(root)) {
		rc = trit_errf(err, errlen, TRIT_EFORMAT,
		               "%s: the header (byte offsets 8..%" PRIu64 ") is %s; expected a JSON "
		               "object of tensors", file, 8 + header_len, json_kind(root));
		goto out;
	}
	if ((rc = push_shard(b, file, file_size, header_len))) {
		rc = trit_errf(err, errlen, rc, "%s: out of memory", file);
		goto out;
	}
	for (cJSON *m = root->child; m && !rc; m = m->next) {
		if (strcmp(m->string, "__metadata__") != 0) {
			rc = parse_tensor(b, &g, m, err, errlen);
		} else if (meta) {
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s: \"__metadata__\" appears twice in the header", file);
		} else if (!(rc = parse_metadata(&g, m, err, errlen))) {
			meta = m;
		}
	}
	if (!rc)
		rc = check_unique(b->st, &g, first, err, errlen);
	if (!rc)
		rc = check_layout(b->st, &g, first, err, errlen);
	if (!rc && meta && metadata)
		*metadata = cJSON_DetachItemViaPointer(root, meta);
out:
	cJSON_Delete(root);
	return rc;
}

static uint64_t read_le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The 8-byte prefix says how long the header is: check it against the
 * format's limit and the file. */
static int check_header_len(const char *file, uint64_t n, uint64_t file_size,
                            char *err, size_t errlen)
{
	if (n > TRIT_ST_MAX_HEADER)
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "%s: header length %" PRIu64 " (bytes 0..8) is above the format's "
		                 "limit of %" PRIu64 " bytes; this is not a SafeTensors file or it is "
		                 "corrupt", file, n, TRIT_ST_MAX_HEADER);
	if (n > file_size - 8)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: header length %" PRIu64 " (bytes 0..8) runs past the end of the "
		                 "file: 8 + %" PRIu64 " > file size %" PRIu64 " (truncated download?)",
		                 file, n, n, file_size);
	if (n < 2)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: header length %" PRIu64 " (bytes 0..8) is too short for a JSON "
		                 "object; expected at least 2 (\"{}\")", file, n);
	return 0;
}

int trit_st_parse(const void *data, size_t len, uint64_t file_size, const char *name,
                  struct trit_st **out, char *err, size_t errlen)
{
	const unsigned char *p = data;
	struct build b = { 0 };
	cJSON *meta = NULL;
	uint64_t n;
	char *json;
	int rc;

	if (!name)
		name = "<memory>";
	if (!out)
		return trit_errf(err, errlen, TRIT_EINVAL, "trit_st_parse: out is NULL");
	*out = NULL;
	if ((!data && len) || len > file_size)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "%s: %zu bytes given for a file of %" PRIu64 " bytes", name, len,
		                 file_size);
	if (file_size < 8)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s: file is %" PRIu64 " bytes; a SafeTensors file starts with an "
		                 "8-byte header length", name, file_size);
	if (len < 8)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "%s: only %zu bytes given; the header length needs 8", name, len);
	n = read_le64(p);
	if ((rc = check_header_len(name, n, file_size, err, errlen)))
		return rc;
	if (n > len - 8)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "%s: only %zu bytes given; the header needs 8 + %" PRIu64, name, len,
		                 n);
	/* A copy of exactly n bytes, so that a read past the header by the JSON
	 * parser is an out-of-bounds read that sanitizers see. */
	if (!(json = malloc((size_t)n)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory for a %" PRIu64
		                 "-byte header", name, n);
	memcpy(json, p + 8, (size_t)n);
	if (!(b.st = calloc(1, sizeof *b.st))) {
		free(json);
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", name);
	}
	rc = parse_shard(&b, name, json, n, file_size, &meta, err, errlen);
	free(json);
	b.st->metadata = meta;
	if (rc) {
		trit_st_close(b.st);
		return rc;
	}
	*out = b.st;
	return 0;
}

/* ------------------------------------------------------------ files */

/* pread exactly len bytes at off; a short file is an error of its own. */
static int read_at(int fd, const char *file, void *buf, uint64_t len, uint64_t off,
                   char *err, size_t errlen)
{
	unsigned char *p = buf;

	while (len) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t got = pread(fd, p, chunk, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return trit_errf(err, errlen, TRIT_EIO, "%s: read failed at byte offset %"
			                 PRIu64 ": %s", file, off, strerror(errno));
		if (got == 0)
			return trit_errf(err, errlen, TRIT_EIO, "%s: the file ended at byte offset %"
			                 PRIu64 " while reading it (did it change?)", file, off);
		p += got;
		off += (uint64_t)got;
		len -= (uint64_t)got;
	}
	return 0;
}

/* Open a regular file for reading; *size gets its size. On failure *errnum
 * holds errno (ENOENT lets callers say which reference was dangling). */
static int open_file(const char *path, int *fd_out, uint64_t *size, int *errnum,
                     char *err, size_t errlen)
{
	int fd = trit_open_regular(path, size, errnum, err, errlen);

	if (fd < 0)
		return fd;
	*fd_out = fd;
	return 0;
}

/* Read one .safetensors file's header and append it as the next shard. */
static int open_shard(struct build *b, const char *path, cJSON **metadata, int *errnum,
                      char *err, size_t errlen)
{
	unsigned char prefix[8];
	uint64_t size, n;
	char *json = NULL;
	int fd, rc;

	if ((rc = open_file(path, &fd, &size, errnum, err, errlen)))
		return rc;
	if (size < 8) {
		rc = trit_errf(err, errlen, TRIT_EFORMAT,
		               "%s: file is %" PRIu64 " bytes; a SafeTensors file starts with an "
		               "8-byte header length", path, size);
		goto out;
	}
	if ((rc = read_at(fd, path, prefix, 8, 0, err, errlen)))
		goto out;
	n = read_le64(prefix);
	if ((rc = check_header_len(path, n, size, err, errlen)))
		goto out;
	if (!(json = malloc((size_t)n))) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory for a %" PRIu64
		               "-byte header", path, n);
		goto out;
	}
	if ((rc = read_at(fd, path, json, n, 8, err, errlen)))
		goto out;
	rc = parse_shard(b, path, json, n, size, metadata, err, errlen);
out:
	free(json);
	close(fd);
	return rc;
}

int trit_st_read_json(const char *path, uint64_t max, struct cJSON **out, int *errnum,
                      char *err, size_t errlen)
{
	size_t size;
	char *buf;
	int rc;

	*out = NULL;
	if ((rc = trit_read_file(path, max, &buf, &size, errnum, err, errlen)))
		return rc;
	rc = parse_json(path, buf, size, 0, out, err, errlen);
	free(buf);
	return rc;
}

/* Read a small JSON file (index.json, config.json) whole, bounded. */
static int read_json_file(const char *path, cJSON **out, int *errnum, char *err, size_t errlen)
{
	return trit_st_read_json(path, TRIT_ST_MAX_CONFIG, out, errnum, err, errlen);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return trit_strdup(".");
	if (slash == path)
		return trit_strdup("/");
	return trit_asprintf("%.*s", (int)(slash - path), path);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ------------------------------------------------------------ the index */

struct wm_entry {
	const char *tensor, *shard;     /* point into the index's cJSON tree */
	uint32_t shard_index;
	int found;
};

static int cmp_wm(const void *a, const void *b)
{
	return strcmp(((const struct wm_entry *)a)->tensor, ((const struct wm_entry *)b)->tensor);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Shard names come from a downloaded file: only plain names in the index's
 * own directory, never a path that could leave it. */
static int shard_name_ok(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int read_weight_map(const char *index, const cJSON *wm, struct wm_entry **out,
                           uint64_t *n_out, char *err, size_t errlen)
{
	uint64_t n = 0;
	struct wm_entry *v;

	for (const cJSON *m = wm->child; m; m = m->next)
		if (++n > TRIT_ST_MAX_TENSORS)
			return trit_errf(err, errlen, TRIT_ERANGE,
			                 "%s: \"weight_map\" lists more than %u tensors", index,
			                 TRIT_ST_MAX_TENSORS);
	if (!(v = calloc((size_t)n + 1, sizeof *v)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", index);
	n = 0;
	for (const cJSON *m = wm->child; m; m = m->next, n++) {
		int rc = 0;
		if (!*m->string)
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s: \"weight_map\" has an empty tensor name", index);
		else if (!cJSON_IsString(m))
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s: \"weight_map\".\"%.*s\" is %s; expected a shard file name",
			               index, NAME_MAX_SHOWN, m->string, json_kind(m));
		else if (!shard_name_ok(m->valuestring))
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s: \"weight_map\".\"%.*s\" is \"%.*s\"; a shard must be a "
			               "plain file name beside the index (no '/', not '..', not "
			               "absolute, not empty)", index, NAME_MAX_SHOWN, m->string,
			               NAME_MAX_SHOWN, m->valuestring);
		if (rc) {
			free(v);
			return rc;
		}
		v[n].tensor = m->string;
		v[n].shard = m->valuestring;
	}
	qsort(v, (size_t)n, sizeof *v, cmp_wm);
	for (uint64_t i = 1; i < n; i++) {
		if (strcmp(v[i - 1].tensor, v[i].tensor) == 0) {
			int rc = trit_errf(err, errlen, TRIT_EFORMAT,
			                   "%s: \"weight_map\" lists tensor \"%.*s\" twice", index,
			                   NAME_MAX_SHOWN, v[i].tensor);
			free(v);
			return rc;
		}
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* The distinct shard names of the weight map, sorted (so shard order, and
 * tensor order with it, does not depend on the JSON's key order). */
static int list_shards(const char *index, struct wm_entry *wm, uint64_t n, const char ***out,
                       uint32_t *n_out, char *err, size_t errlen)
{
	const char **v = malloc((size_t)(n + 1) * sizeof *v);
	uint64_t k = 0;

	if (!v)
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", index);
	for (uint64_t i = 0; i < n; i++)
		v[i] = wm[i].shard;
	qsort(v, (size_t)n, sizeof *v, cmp_str);
	for (uint64_t i = 0; i < n; i++)
		if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
			v[k++] = v[i];
	if (k > TRIT_ST_MAX_SHARDS) {
		free(v);
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "%s: \"weight_map\" names %" PRIu64 " shard files; trit opens at most "
		                 "%u", index, k, TRIT_ST_MAX_SHARDS);
	}
	for (uint64_t i = 0; i < n; i++) {
		const char **hit = bsearch(&wm[i].shard, v, (size_t)k, sizeof *v, cmp_str);
		wm[i].shard_index = (uint32_t)(hit - v);
	}
	*out = v;
	*n_out = (uint32_t)k;
	return 0;
}

/* Every tensor of every shard is listed, in the shard the map says, once. */
static int cross_check(const struct trit_st *st, const char *index, struct wm_entry *wm,
                       uint64_t n, char *err, size_t errlen)
{
	struct named *v;
	int rc = 0;

	if (sort_names(st, 0, &v))
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", index);
	for (uint64_t i = 1; i < st->n_tensors && !rc; i++)
		if (strcmp(v[i - 1].name, v[i].name) == 0)
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s: tensor \"%.*s\" is in both %s and %s; a tensor must live "
			               "in exactly one shard", index, NAME_MAX_SHOWN, v[i].name,
			               st->shards[st->tensors[v[i - 1].index].shard].path,
			               st->shards[st->tensors[v[i].index].shard].path);
	free(v);
	for (uint64_t i = 0; i < st->n_tensors && !rc; i++) {
		const struct trit_st_tensor *t = &st->tensors[i];
		struct wm_entry key = { .tensor = t->name }, *e;
		e = bsearch(&key, wm, (size_t)n, sizeof *wm, cmp_wm);
		if (!e)
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s holds tensor \"%.*s\", which the \"weight_map\" of %s does "
			               "not list", st->shards[t->shard].path, NAME_MAX_SHOWN, t->name,
			               index);
		else if (e->shard_index != t->shard)
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s: \"weight_map\" puts tensor \"%.*s\" in \"%.*s\", but it is "
			               "in %s", index, NAME_MAX_SHOWN, t->name, NAME_MAX_SHOWN, e->shard,
			               st->shards[t->shard].path);
		else
			e->found = 1;
	}
	for (uint64_t i = 0; i < n && !rc; i++)
		if (!wm[i].found)
			rc = trit_errf(err, errlen, TRIT_EFORMAT,
			               "%s: \"weight_map\" puts tensor \"%.*s\" in \"%.*s\", but that "
			               "shard has no such tensor", index, NAME_MAX_SHOWN, wm[i].tensor,
			               NAME_MAX_SHOWN, wm[i].shard);
	return rc;
}

/* metadata.total_size is only a sanity check (writers have computed it in
 * odd ways, e.g. bools as 1/8 byte), so a mismatch is a warning. */
static void check_total_size(const struct trit_st *st, const char *index, const cJSON *meta)
{
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(meta, "total_size");
	uint64_t want, sum = 0;
	char why[128];
	int r;

	if (!ts)
		return;
	for (uint64_t i = 0; i < st->n_tensors; i++)
		sum += st->tensors[i].end - st->tensors[i].begin;
	if ((r = json_count(ts, &want)) != NUM_OK)
		trit_log(TRIT_LOG_WARN, "%s: \"metadata\".\"total_size\" is not a byte count (%s); "
		         "ignored", index, count_problem(r, ts, why, sizeof why));
	else if (want != sum)
		trit_log(TRIT_LOG_WARN, "%s: \"metadata\".\"total_size\" says %" PRIu64 " bytes, but "
		         "the shards' tensors hold %" PRIu64 " bytes", index, want, sum);
}

static int open_index(struct build *b, const char *index, const char *dir, char *err,
                      size_t errlen)
{
	const cJSON *wm = NULL, *meta = NULL;
	struct wm_entry *entries = NULL;
	const char **shards = NULL;
	uint32_t n_shards = 0;
	uint64_t n = 0;
	cJSON *root;
	int rc, errnum;

	if ((rc = read_json_file(index, &root, &errnum, err, errlen)))
		return rc;
	if (!cJSON_IsObject(root)) {
		rc = trit_errf(err, errlen, TRIT_EFORMAT, "%s: is %s; expected an object with "
		               "\"weight_map\"", index, json_kind(root));
		goto out;
	}
	for (const cJSON *m = root->child; m && !rc; m = m->next) {
		const cJSON **slot = strcmp(m->string, "weight_map") == 0 ? &wm
		                   : strcmp(m->string, "metadata") == 0 ? &meta : NULL;
		if (slot && *slot)
			rc = trit_errf(err, errlen, TRIT_EFORMAT, "%s: \"%s\" appears twice", index,
			               m->string);
		else if (slot)
			*slot = m;
	}
	if (rc)
		goto out;
	if (!cJSON_IsObject(wm) || (meta && !cJSON_IsObject(meta))) {
		rc = !wm ? trit_errf(err, errlen, TRIT_EFORMAT,
		                     "%s: no \"weight_map\"; a sharded model's index maps each tensor "
		                     "name to its shard file", index)
		         : trit_errf(err, errlen, TRIT_EFORMAT, "%s: \"%s\" is %s; expected an object",
		                     index, cJSON_IsObject(wm) ? "metadata" : "weight_map",
		                     json_kind(cJSON_IsObject(wm) ? meta : wm));
		goto out;
	}
	if ((rc = read_weight_map(index, wm, &entries, &n, err, errlen)) ||
	    (rc = list_shards(index, entries, n, &shards, &n_shards, err, errlen)))
		goto out;
	for (uint32_t s = 0; s < n_shards && !rc; s++) {
		char *path = trit_asprintf("%s/%s", dir, shards[s]);
		if (!path) {
			rc = trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", index);
			break;
		}
		rc = open_shard(b, path, s == 0 ? &b->st->metadata : NULL, &errnum, err, errlen);
		if (rc && errnum == ENOENT) {
			const char *t = "";
			for (uint64_t i = 0; i < n; i++)
				if (entries[i].shard_index == s) {
					t = entries[i].tensor;
					break;
				}
			rc = trit_errf(err, errlen, TRIT_EIO,
			               "%s: \"weight_map\" puts tensor \"%.*s\" in \"%.*s\", but %s does "
			               "not exist", index, NAME_MAX_SHOWN, t, NAME_MAX_SHOWN, shards[s],
			               path);
		}
		free(path);
	}
	if (!rc)
		rc = cross_check(b->st, index, entries, n, err, errlen);
	if (!rc && meta)
		check_total_size(b->st, index, meta);
out:
	free(entries);
	free(shards);
	cJSON_Delete(root);
	return rc;
}

/* ------------------------------------------------------------ directories */

/* A directory without an index must hold exactly one .safetensors file. */
static int find_single_file(const char *dir, char **out, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, list[1024];
	size_t n = 0, cap = 0, used = 0;
	int rc = 0;

	*out = NULL;
	if (!d)
		return trit_errf(err, errlen, TRIT_EIO, "%s: cannot list: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL && !rc) {
		if (!ends_with(de->d_name, ".safetensors"))
			continue;
		if (n == cap) {
			char **v = realloc(names, (cap = cap ? 2 * cap : 8) * sizeof *v);
			if (!v) {
				rc = TRIT_ENOMEM;
				break;
			}
			names = v;
		}
		if (!(names[n] = trit_strdup(de->d_name)))
			rc = TRIT_ENOMEM;
		else
			n++;
	}
	closedir(d);
	if (rc)
		rc = trit_errf(err, errlen, rc, "%s: out of memory", dir);
	else if (n == 0)
		rc = trit_errf(err, errlen, TRIT_EIO, "%s: no %s and no .safetensors file", dir,
		               INDEX_NAME);
	else if (n > 1) {
		qsort(names, n, sizeof *names, cmp_str);
		list[0] = '\0';
		for (size_t i = 0; i < n && used < sizeof list; i++)
			used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
			                         i ? ", " : "", names[i]);
		rc = trit_errf(err, errlen, TRIT_EINVAL,
		               "%s: %zu .safetensors files (%s) and no %s to say how they fit "
		               "together; name one file, or add the index", dir, n, list, INDEX_NAME);
	} else if (!(*out = trit_asprintf("%s/%s", dir, names[0])))
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", dir);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* config.json beside the weights: absent is fine, anything else must parse
 * as an object. */
static int read_config(struct trit_st *st, const char *dir, char *err, size_t errlen)
{
	char *path = trit_asprintf("%s/%s", dir, CONFIG_NAME);
	cJSON *cfg = NULL;
	int rc, errnum;

	if (!path)
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", dir);
	rc = read_json_file(path, &cfg, &errnum, err, errlen);
	if (rc && errnum == ENOENT) {
		free(path);
		return 0;
	}
	if (!rc && !cJSON_IsObject(cfg))
		rc = trit_errf(err, errlen, TRIT_EFORMAT, "%s: is %s; expected a JSON object of "
		               "model settings", path, json_kind(cfg));
	if (rc) {
		cJSON_Delete(cfg);
		free(path);
		return rc;
	}
	st->config = cfg;
	st->config_path = path;
	return 0;
}

int trit_st_open(const char *path, struct trit_st **out, char *err, size_t errlen)
{
	struct build b = { 0 };
	char *dir = NULL, *file = NULL;
	struct stat sb;
	int rc, errnum;

	if (!out || !path)
		return trit_errf(err, errlen, TRIT_EINVAL, "trit_st_open: path or out is NULL");
	*out = NULL;
	if (stat(path, &sb) != 0)
		return trit_errf(err, errlen, TRIT_EIO, "%s: %s", path, strerror(errno));
	if (!(b.st = calloc(1, sizeof *b.st)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", path);
	if (S_ISDIR(sb.st_mode)) {
		dir = trit_strdup(path);
		file = dir ? trit_asprintf("%s/%s", dir, INDEX_NAME) : NULL;
		/* an index that is there but is no regular file is an error, not absent */
		if (file && (rc = trit_check_regular(file, &errnum, err, errlen))) {
			if (errnum != ENOENT)
				goto out;
			free(file);
			file = NULL;
			if ((rc = find_single_file(dir, &file, err, errlen)))
				goto out;
		}
	} else {
		dir = dir_of(path);
		file = trit_strdup(path);
	}
	if (!dir || !file) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if (ends_with(file, ".json")) {
		if (!(b.st->index_path = trit_strdup(file))) {
			rc = trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", path);
			goto out;
		}
		if ((rc = open_index(&b, file, dir, err, errlen)))
			goto out;
	} else {
		if ((rc = open_shard(&b, file, &b.st->metadata, &errnum, err, errlen)))
			goto out;
	}
	if ((rc = read_config(b.st, dir, err, errlen)))
		goto out;
	trit_log(TRIT_LOG_DEBUG, "%s: %" PRIu64 " tensors in %u shard%s%s%s", path,
	         b.st->n_tensors, b.st->n_shards, b.st->n_shards == 1 ? "" : "s",
	         b.st->config ? ", with " : "", b.st->config ? CONFIG_NAME : "");
	*out = b.st;
	b.st = NULL;
out:
	trit_st_close(b.st);
	free(dir);
	free(file);
	return rc;
}
