/*
 * gguf.c - read and validate the header of a GGUF file (versions 2 and 3):
 * metadata pairs and tensor infos, parsed in place in one buffer that grows
 * by doubling, every count, length, type and offset checked against the file.
 * Decides the GGML dialect and each tensor's exact size; never reads tensor
 * data, and leaves what the metadata means to model.c.
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <trit/backend.h>

#include "core/common.h"
#include "core/safeopen.h"
#include "core/log.h"
#include "model/gguf.h"

#define U(x) ((unsigned long long)(x))

#define FIRST_READ       (UINT64_C(1) << 20) /* reads start at 1 MiB, then double */
#define HUGE_PAGE        (UINT64_C(1) << 21) /* the buffer's alignment and growth step */
#define HEADER_BYTES     24u  /* magic, version, n_tensors, n_kv */
#define MIN_KV_BYTES     14u  /* key length 8 + key >= 1 + type 4 + value >= 1 */
#define MIN_TENSOR_BYTES 33u  /* name length 8 + name >= 1 + n_dims 4 + ne 8 + type 4 + offset 8 */
#define MIN_ARRAY_BYTES  12u  /* element type 4 + count 8 */
#define DEFAULT_ALIGNMENT 32u

/* Bytes of one scalar of each value type; 0 for string and array. */
static const uint8_t scalar_size[] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };
static const char *const type_names[] = {
	"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"
};

const char *trit_gguf_type_name(uint32_t type)
{
	return type < TRIT_ARRAY_LEN(type_names) ? type_names[type] : "unknown";
}

/* ------------------------------------------------------------------ reader */

/*
 * The bytes of the file seen so far. From memory, what was given is all.
 * From a file, the buffer is one mapping that never moves: address space
 * for the largest header the file could hold is reserved inaccessible, and
 * made writable and read into as parsing needs more (reads of 1 MiB, then
 * doubling). Parsing a 2.8 MB header takes about 0.6 ms, while faulting in
 * small fresh pages for its bytes took 2-4 ms on the machines we measured;
 * hence a mapping aligned for, and advised to use, transparent huge pages
 * (small files, under 2 MiB, use small pages). Nothing is ever copied.
 */
struct rd {
	const unsigned char *p;  /* bytes [0, have) of the file */
	uint64_t have;
	uint64_t limit;          /* bytes a header may occupy: min(file size, MAX_HEADER) */
	uint64_t file_size;
	uint64_t given;          /* memory mode: bytes the caller gave */
	int fd;                  /* -1 in memory mode */
	unsigned char *map;      /* fd mode: the reservation p points to, map_len bytes */
	size_t map_len;
	uint64_t rw;             /* bytes of it made writable */
	uint64_t step;           /* rw grows in these: a huge page, or for a small file a page */
	const char *name;
	char *err;
	size_t errlen;
};

/* What trit_gguf_close frees: buf is either malloc'd or a mapping. */
struct owned {
	struct trit_gguf g;
	size_t map_len;          /* 0: buf came from malloc */
};

static uint64_t round_up(uint64_t x, uint64_t to)
{
	return (x + to - 1) / to * to;
}

/* "NAME: offset OFF: " + the sentence; returns code. */
TRIT_PRINTF(4, 5)
static int fail(const struct rd *r, int code, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!r->err || !r->errlen)
		return code;
	n = snprintf(r->err, r->errlen, "%s: offset %llu: ", r->name, U(off));
	if (n >= 0 && (size_t)n < r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int reserve(struct rd *r)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	size_t len, head;
	unsigned char *raw;

	r->step = r->limit >= HUGE_PAGE && HUGE_PAGE % page == 0 ? HUGE_PAGE : page;
	len = (size_t)(round_up(r->limit, r->step) + r->step - page);
	raw = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return fail(r, TRIT_ENOMEM, 0, "header buffer: expected %llu bytes of address space, "
		            "found mmap failed: %s", U(len), strerror(errno));
	head = (size_t)(round_up((uintptr_t)raw, r->step) - (uintptr_t)raw);
	if (head)
		munmap(raw, head);
	r->map = raw + head;
	r->map_len = len - head;
#ifdef MADV_HUGEPAGE
	if (r->step == HUGE_PAGE)
		madvise(r->map, r->map_len, MADV_HUGEPAGE); /* advice: failure changes nothing */
#endif
	return 0;
}

static int read_more(struct rd *r, uint64_t want)
{
	uint64_t target = r->have ? r->have * 2 : FIRST_READ, rw;
	int rc;

	if (!r->map && (rc = reserve(r)) != 0)
		return rc;
	if (target < want)
		target = want;
	if (target > r->limit)
		target = r->limit;
	rw = round_up(target, r->step);
	if (rw > r->rw) {
		if (mprotect(r->map, (size_t)rw, PROT_READ | PROT_WRITE) != 0)
			return fail(r, TRIT_ENOMEM, r->have, "header buffer: expected %llu bytes of "
			            "memory, found mprotect failed: %s", U(rw), strerror(errno));
		r->rw = rw;
	}
	r->p = r->map;
	while (r->have < target) {
		ssize_t n = pread(r->fd, r->map + r->have, (size_t)(target - r->have),
		                  (off_t)r->have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(r, TRIT_EIO, r->have, "read: %s", strerror(errno));
		if (n == 0)
			return fail(r, TRIT_EIO, r->have, "read: expected %llu bytes (the size fstat "
			            "gave), found the file ends here (was it truncated while read?)",
			            U(r->file_size));
		r->have += (uint64_t)n;
	}
	return 0;
}

/* Make bytes [pos, pos + n) available; what names the field in a message. */
static int need_slow(struct rd *r, uint64_t pos, uint64_t n, const char *what)
{
	if (pos > r->file_size || n > r->file_size - pos)
		return fail(r, TRIT_EFORMAT, pos, "%s: expected %llu bytes, found %llu before the end "
		            "of the file (%llu bytes)", what, U(n),
		            U(pos < r->file_size ? r->file_size - pos : 0), U(r->file_size));
	if (n > r->limit - pos)
		return fail(r, TRIT_ERANGE, pos, "%s: expected the header to end within %llu bytes "
		            "(trit's limit), found it goes on past that", what, U(r->limit));
	if (r->fd < 0)
		return fail(r, TRIT_EFORMAT, pos, "%s: expected %llu bytes, found only the first %llu "
		            "of the file's %llu bytes given", what, U(n), U(r->given), U(r->file_size));
	return read_more(r, pos + n);
}

static inline int need(struct rd *r, uint64_t pos, uint64_t n, const char *what)
{
	if (n <= r->have && pos <= r->have - n)
		return 0;
	return need_slow(r, pos, n, what);
}

static inline uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static inline uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* A key or tensor name for messages: quoted, at most 60 bytes, bytes that
 * would garble a terminal shown as '?'. */
static const char *quote(const unsigned char *s, uint64_t len, char *buf, size_t cap)
{
	size_t n = 0;
	uint64_t i;

	buf[n++] = '\'';
	for (i = 0; i < len && n + 6 < cap && i < 60; i++)
		buf[n++] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\'' ? (char)s[i] : '?';
	if (i < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return buf;
}

/* Names of fields for messages are built for every pair and tensor but
 * printed only on failure, so they are joined without printf: a header of a
 * million tensors spent 40% of its time formatting names nobody read. */
static char *join3(char *buf, size_t cap, const char *a, const char *b, const char *c)
{
	const char *part[3] = { a, b, c };
	size_t n = 0;

	for (int i = 0; i < 3; i++) {
		size_t l = strlen(part[i]);
		if (l > cap - 1 - n)
			l = cap - 1 - n;
		memcpy(buf + n, part[i], l);
		n += l;
	}
	buf[n] = '\0';
	return buf;
}

static char *join(char *buf, size_t cap, const char *a, const char *b)
{
	return join3(buf, cap, a, b, "");
}

/* v in decimal, written backwards from the end of a 21-byte buf. */
static const char *dec(uint64_t v, char *buf)
{
	char *p = buf + 20;

	*p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return p;
}

/* ------------------------------------------------------------------ parser */

struct parser {
	struct rd r;
	uint64_t pos;
	struct trit_gguf *g;
};

static int read_u32(struct parser *ps, const char *what, uint32_t *out)
{
	int rc = need(&ps->r, ps->pos, 4, what);
	if (rc)
		return rc;
	*out = le32(ps->r.p + ps->pos);
	ps->pos += 4;
	return 0;
}

static int read_u64(struct parser *ps, const char *what, uint64_t *out)
{
	int rc = need(&ps->r, ps->pos, 8, what);
	if (rc)
		return rc;
	*out = le64(ps->r.p + ps->pos);
	ps->pos += 8;
	return 0;
}

/* A string's length (1..max when nonempty, else 0..max) and its bytes made
 * available; ps->pos is left after the string, *start at its first byte. */
static int read_str(struct parser *ps, const char *what, uint64_t max, int nonempty,
                    uint64_t *start, uint64_t *len)
{
	uint64_t at = ps->pos;
	int rc = read_u64(ps, what, len);

	if (rc)
		return rc;
	if (nonempty && *len == 0)
		return fail(&ps->r, TRIT_EFORMAT, at, "%s: expected a non-empty string, found length 0",
		            what);
	if (*len > max)
		return fail(&ps->r, TRIT_ERANGE, at, "%s: expected a length of at most %llu bytes, "
		            "found %llu", what, U(max), U(*len));
	if ((rc = need(&ps->r, ps->pos, *len, what)) != 0)
		return rc;
	*start = ps->pos;
	ps->pos += *len;
	return 0;
}

static int check_type(struct parser *ps, uint64_t at, const char *what, uint32_t type)
{
	if (type < TRIT_ARRAY_LEN(type_names))
		return 0;
	return fail(&ps->r, TRIT_EFORMAT, at, "%s: expected a value type 0 to 12, found %u", what,
	            type);
}

/* Refuse a count of elements of at least each bytes that cannot fit in what
 * is left of the file (a malformed count) or of the header limit (a header
 * too large for trit), before anything is read or allocated for them. */
static int check_count(const struct rd *r, uint64_t at, uint64_t from, const char *what,
                       uint64_t count, uint64_t each, const char *kind)
{
	uint64_t left = r->file_size > from ? r->file_size - from : 0;
	uint64_t room = r->limit > from ? r->limit - from : 0;

	if (count > left / each)
		return fail(r, TRIT_EFORMAT, at, "%s: expected at most %llu %s in the %llu bytes left "
		            "in the file (each takes at least %llu), found a count of %llu", what,
		            U(left / each), kind, U(left), U(each), U(count));
	if (count > room / each)
		return fail(r, TRIT_ERANGE, at, "%s: expected at most %llu %s within trit's header "
		            "limit of %llu bytes, found a count of %llu", what, U(room / each), kind,
		            U(TRIT_GGUF_MAX_HEADER), U(count));
	return 0;
}

/* The elements of an array at level depth (1 for a metadata value), whose
 * element type and count have been read; ps->pos is left after them. Nothing
 * is allocated: elements stay in the buffer for trit_gguf_array_*(). */
static int walk_array(struct parser *ps, const char *what, uint32_t type, uint64_t count,
                      int depth)
{
	struct rd *r = &ps->r;
	uint64_t each = type == TRIT_GGUF_STRING ? 8 : type == TRIT_GGUF_ARRAY ? MIN_ARRAY_BYTES :
	                scalar_size[type];
	char sub[512], kind[32], num[21];
	int rc;

	if (type == TRIT_GGUF_ARRAY && depth >= TRIT_GGUF_MAX_DEPTH)
		return fail(r, TRIT_ERANGE, ps->pos - 12, "%s: expected arrays nested at most %d "
		            "levels deep, found an array of arrays at level %d", what,
		            TRIT_GGUF_MAX_DEPTH, depth);
	join(kind, sizeof kind, type_names[type], " elements");
	if ((rc = check_count(r, ps->pos - 8, ps->pos, what, count, each, kind)) != 0)
		return rc;
	if (type != TRIT_GGUF_STRING && type != TRIT_GGUF_ARRAY) {
		const unsigned char *e;

		if ((rc = need(r, ps->pos, count * each, what)) != 0)
			return rc;
		e = r->p + ps->pos;
		for (uint64_t i = 0; type == TRIT_GGUF_BOOL && i < count; i++)
			if (e[i] > 1)
				return fail(r, TRIT_EFORMAT, ps->pos + i, "%s: element %llu: expected a bool "
				            "0 or 1, found %u", what, U(i), e[i]);
		ps->pos += count * each;
		return 0;
	}
	for (uint64_t i = 0; i < count; i++) {
		uint64_t at = ps->pos, len;
		if (type == TRIT_GGUF_STRING) {
			/* The hot loop of a vocabulary: no formatting unless it fails. */
			if (r->have >= 8 && at <= r->have - 8 &&
			    (len = le64(r->p + at)) <= r->have - at - 8 && len <= TRIT_GGUF_MAX_STRING) {
				ps->pos = at + 8 + len;
				continue;
			}
			join3(sub, sizeof sub, what, ": element ", dec(i, num));
			if ((rc = read_str(ps, sub, TRIT_GGUF_MAX_STRING, 0, &at, &len)) != 0)
				return rc;
		} else {
			uint32_t et;
			uint64_t n;
			join3(sub, sizeof sub, what, ": element ", dec(i, num));
			if ((rc = read_u32(ps, sub, &et)) != 0 || (rc = check_type(ps, at, sub, et)) != 0 ||
			    (rc = read_u64(ps, sub, &n)) != 0 ||
			    (rc = walk_array(ps, sub, et, n, depth + 1)) != 0)
				return rc;
		}
	}
	return 0;
}

/* Two's complement reinterpretation, as GGUF stores signed integers. */
static int64_t sign_extend(uint64_t v, unsigned bytes)
{
	uint64_t sign = UINT64_C(1) << (8 * bytes - 1), mask = (sign << 1) - 1;
	return (v & sign) ? -(int64_t)(~v & mask) - 1 : (int64_t)v;
}

static int read_kv(struct parser *ps, uint64_t i)
{
	struct rd *r = &ps->r;
	struct trit_gguf_kv *kv = &ps->g->kv[i];
	char what[160], kq[80], num[21];
	uint64_t start, at;
	int rc;

	kv->offset = ps->pos;
	join(what, sizeof what, "key of metadata pair ", dec(i, num));
	if ((rc = read_str(ps, what, TRIT_GGUF_MAX_NAME, 1, &start, &kv->key.len)) != 0)
		return rc;
	quote(r->p + start, kv->key.len, kq, sizeof kq);
	join(what, sizeof what, "value type of ", kq);
	at = ps->pos;
	if ((rc = read_u32(ps, what, &kv->type)) != 0 || (rc = check_type(ps, at, what, kv->type)))
		return rc;
	join(what, sizeof what, "value of ", kq);
	at = ps->pos;
	if (kv->type == TRIT_GGUF_STRING)
		return read_str(ps, what, TRIT_GGUF_MAX_STRING, 0, &start, &kv->v.str.len);
	if (kv->type == TRIT_GGUF_ARRAY) {
		if ((rc = read_u32(ps, what, &kv->arr_type)) != 0 ||
		    (rc = check_type(ps, at, what, kv->arr_type)) != 0 ||
		    (rc = read_u64(ps, what, &kv->arr_count)) != 0 ||
		    (rc = walk_array(ps, what, kv->arr_type, kv->arr_count, 1)) != 0)
			return rc;
		kv->arr_bytes = ps->pos - at - 12;
		return 0;
	}
	if ((rc = need(r, at, scalar_size[kv->type], what)) != 0)
		return rc;
	switch (kv->type) {
	case TRIT_GGUF_U8: kv->v.u = r->p[at]; break;
	case TRIT_GGUF_I8: kv->v.i = sign_extend(r->p[at], 1); break;
	case TRIT_GGUF_U16: kv->v.u = le16(r->p + at); break;
	case TRIT_GGUF_I16: kv->v.i = sign_extend(le16(r->p + at), 2); break;
	case TRIT_GGUF_U32: kv->v.u = le32(r->p + at); break;
	case TRIT_GGUF_I32: kv->v.i = sign_extend(le32(r->p + at), 4); break;
	case TRIT_GGUF_U64: kv->v.u = le64(r->p + at); break;
	case TRIT_GGUF_I64: kv->v.i = sign_extend(le64(r->p + at), 8); break;
	case TRIT_GGUF_F32: {
		uint32_t b = le32(r->p + at);
		float f;
		memcpy(&f, &b, sizeof f);
		kv->v.f = f;
		break;
	}
	case TRIT_GGUF_F64: {
		uint64_t b = le64(r->p + at);
		memcpy(&kv->v.f, &b, sizeof kv->v.f);
		break;
	}
	case TRIT_GGUF_BOOL:
		if (r->p[at] > 1)
			return fail(r, TRIT_EFORMAT, at, "%s: expected a bool 0 or 1, found %u", what,
			            r->p[at]);
		kv->v.u = r->p[at];
		break;
	}
	ps->pos = at + scalar_size[kv->type];
	return 0;
}

static int read_tensor_info(struct parser *ps, uint64_t i)
{
	struct rd *r = &ps->r;
	struct trit_gguf_tensor *t = &ps->g->tensors[i];
	static const char *const ne_field[] = { ": ne[0]", ": ne[1]", ": ne[2]", ": ne[3]" };
	char what[160], tq[80], pre[96], num[21];
	uint64_t start, at;
	int rc;

	t->info_offset = ps->pos;
	join(what, sizeof what, "name of tensor ", dec(i, num));
	if ((rc = read_str(ps, what, TRIT_GGUF_MAX_NAME, 1, &start, &t->name.len)) != 0)
		return rc;
	join(pre, sizeof pre, "tensor ", quote(r->p + start, t->name.len, tq, sizeof tq));
	join(what, sizeof what, pre, ": n_dims");
	at = ps->pos;
	if ((rc = read_u32(ps, what, &t->n_dims)) != 0)
		return rc;
	if (t->n_dims < 1 || t->n_dims > 4)
		return fail(r, TRIT_EFORMAT, at, "%s: expected 1 to 4 dimensions, found %u", what,
		            t->n_dims);
	for (uint32_t d = 0; d < 4; d++) {
		t->ne[d] = 1;
		if (d >= t->n_dims)
			continue;
		join(what, sizeof what, pre, ne_field[d]);
		at = ps->pos;
		if ((rc = read_u64(ps, what, &t->ne[d])) != 0)
			return rc;
		if (t->ne[d] == 0 || t->ne[d] > INT64_MAX)
			return fail(r, TRIT_EFORMAT, at, "%s: expected a dimension from 1 to 2^63-1, "
			            "found %llu", what, U(t->ne[d]));
	}
	join(what, sizeof what, pre, ": type");
	if ((rc = read_u32(ps, what, &t->type_id)) != 0)
		return rc;
	join(what, sizeof what, pre, ": offset");
	return read_u64(ps, what, &t->offset);
}

/* Magic, version and the two counts, checked against the limits and against
 * the bytes left, so the arrays allocated from them are never larger than
 * the file could fill. */
static int read_preamble(struct parser *ps)
{
	struct rd *r = &ps->r;
	struct trit_gguf *g = ps->g;
	int rc;

	if ((rc = need(r, 0, 4, "magic")) != 0)
		return rc;
	if (memcmp(r->p, "GGUF", 4) != 0)
		return fail(r, TRIT_EFORMAT, 0, "magic: expected \"GGUF\" (47 47 55 46), found "
		            "%02x %02x %02x %02x: not a GGUF file", r->p[0], r->p[1], r->p[2], r->p[3]);
	ps->pos = 4;
	if ((rc = read_u32(ps, "version", &g->version)) != 0)
		return rc;
	if (g->version == 1)
		return fail(r, TRIT_EFORMAT, 4, "version: GGUF version 1 (2023) is not supported: "
		            "re-convert the model with a current llama.cpp");
	if (g->version == 0x02000000u || g->version == 0x03000000u)
		return fail(r, TRIT_EFORMAT, 4, "version: expected 2 or 3 (little-endian), found "
		            "0x%08x: a big-endian GGUF, which trit does not read", g->version);
	if (g->version != 2 && g->version != 3)
		return fail(r, TRIT_EFORMAT, 4, "version: expected 2 or 3, found %u%s", g->version,
		            g->version > 3 ? " (a GGUF newer than this trit knows)" : "");
	if ((rc = read_u64(ps, "n_tensors", &g->n_tensors)) != 0 ||
	    (rc = read_u64(ps, "n_kv", &g->n_kv)) != 0)
		return rc;
	if (g->n_tensors > TRIT_GGUF_MAX_TENSORS)
		return fail(r, TRIT_ERANGE, 8, "n_tensors: expected at most %u (trit's limit), "
		            "found %llu", TRIT_GGUF_MAX_TENSORS, U(g->n_tensors));
	if (g->n_kv > TRIT_GGUF_MAX_KV)
		return fail(r, TRIT_ERANGE, 16, "n_kv: expected at most %u (trit's limit), found %llu",
		            TRIT_GGUF_MAX_KV, U(g->n_kv));
	if ((rc = check_count(r, 16, HEADER_BYTES, "n_kv", g->n_kv, MIN_KV_BYTES,
	                      "metadata pairs")) != 0)
		return rc;
	return check_count(r, 8, HEADER_BYTES + g->n_kv * MIN_KV_BYTES, "n_tensors", g->n_tensors,
	                   MIN_TENSOR_BYTES, "tensor infos after the metadata pairs");
}

/* Strings and arrays point into the header buffer; set them once it stops
 * moving. Every position follows from the offsets recorded while parsing. */
static void set_pointers(struct trit_gguf *g)
{
	const unsigned char *b = g->buf;

	for (uint64_t i = 0; i < g->n_kv; i++) {
		struct trit_gguf_kv *kv = &g->kv[i];
		uint64_t v = kv->offset + 8 + kv->key.len + 4;
		kv->key.s = (const char *)b + kv->offset + 8;
		if (kv->type == TRIT_GGUF_STRING)
			kv->v.str.s = (const char *)b + v + 8;
		else if (kv->type == TRIT_GGUF_ARRAY)
			kv->arr_data = b + v + 12;
	}
	for (uint64_t i = 0; i < g->n_tensors; i++)
		g->tensors[i].name.s = (const char *)b + g->tensors[i].info_offset + 8;
}

/* ------------------------------------------------------- semantic checks */

static int str_cmp(const struct trit_gguf_str *a, const struct trit_gguf_str *b)
{
	int c = memcmp(a->s, b->s, a->len < b->len ? (size_t)a->len : (size_t)b->len);
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int cmp_kv_key(const void *a, const void *b)
{
	const struct trit_gguf_kv *x = *(const struct trit_gguf_kv *const *)a;
	const struct trit_gguf_kv *y = *(const struct trit_gguf_kv *const *)b;
	int c = str_cmp(&x->key, &y->key);
	return c ? c : (x->offset > y->offset) - (x->offset < y->offset);
}

static int cmp_tensor_name(const void *a, const void *b)
{
	const struct trit_gguf_tensor *x = *(const struct trit_gguf_tensor *const *)a;
	const struct trit_gguf_tensor *y = *(const struct trit_gguf_tensor *const *)b;
	int c = str_cmp(&x->name, &y->name);
	return c ? c : (x->info_offset > y->info_offset) - (x->info_offset < y->info_offset);
}

static int cmp_tensor_offset(const void *a, const void *b)
{
	const struct trit_gguf_tensor *x = *(const struct trit_gguf_tensor *const *)a;
	const struct trit_gguf_tensor *y = *(const struct trit_gguf_tensor *const *)b;
	if (x->offset != y->offset)
		return (x->offset > y->offset) - (x->offset < y->offset);
	return (x->info_offset > y->info_offset) - (x->info_offset < y->info_offset);
}

/* File offsets of a tensor info's type and offset fields, for messages. */
static uint64_t type_field(const struct trit_gguf_tensor *t)
{
	return t->info_offset + 8 + t->name.len + 4 + 8 * (uint64_t)t->n_dims;
}

/* qsort, which must not be given a null base even for nothing to sort. */
static void sort(void *base, uint64_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, (size_t)n, size, cmp);
}

static int unique_keys(struct rd *r, struct trit_gguf *g, void **sorted)
{
	const struct trit_gguf_kv **kv = (const struct trit_gguf_kv **)sorted;
	char q[80];

	for (uint64_t i = 0; i < g->n_kv; i++)
		kv[i] = &g->kv[i];
	sort(kv, g->n_kv, sizeof *kv, cmp_kv_key);
	for (uint64_t i = 1; i < g->n_kv; i++)
		if (str_cmp(&kv[i - 1]->key, &kv[i]->key) == 0)
			return fail(r, TRIT_EFORMAT, kv[i]->offset, "key %s: expected each key once, "
			            "found it again (first at offset %llu)",
			            quote((const unsigned char *)kv[i]->key.s, kv[i]->key.len, q, sizeof q),
			            U(kv[i - 1]->offset));
	return 0;
}

static int unique_names(struct rd *r, struct trit_gguf *g, void **sorted)
{
	const struct trit_gguf_tensor **t = (const struct trit_gguf_tensor **)sorted;
	char q[80];

	for (uint64_t i = 0; i < g->n_tensors; i++)
		t[i] = &g->tensors[i];
	sort(t, g->n_tensors, sizeof *t, cmp_tensor_name);
	for (uint64_t i = 1; i < g->n_tensors; i++)
		if (str_cmp(&t[i - 1]->name, &t[i]->name) == 0)
			return fail(r, TRIT_EFORMAT, t[i]->info_offset, "tensor %s: name: expected each "
			            "tensor name once, found it again (first at offset %llu)",
			            quote((const unsigned char *)t[i]->name.s, t[i]->name.len, q, sizeof q),
			            U(t[i - 1]->info_offset));
	return 0;
}

static int read_alignment(struct rd *r, struct trit_gguf *g)
{
	const struct trit_gguf_kv *kv = trit_gguf_find(g, "general.alignment");
	uint64_t at;

	g->alignment = DEFAULT_ALIGNMENT;
	if (!kv)
		return 0;
	at = kv->offset + 8 + kv->key.len;
	if (kv->type != TRIT_GGUF_U32)
		return fail(r, TRIT_EFORMAT, at, "general.alignment: expected type u32, found %s",
		            trit_gguf_type_name(kv->type));
	if (kv->v.u == 0 || (kv->v.u & (kv->v.u - 1)) != 0)
		return fail(r, TRIT_EFORMAT, at + 4, "general.alignment: expected a power of two, "
		            "found %llu", U(kv->v.u));
	g->alignment = (uint32_t)kv->v.u;
	return 0;
}

static int str_is(const struct trit_gguf_str *s, const char *lit)
{
	return s->len == strlen(lit) && memcmp(s->s, lit, (size_t)s->len) == 0;
}

/*
 * The dialect: ids 36-39 mean different types in mainline ggml (36-38
 * removed, 39 MXFP4) and in bitnet.cpp's fork (36 I2_S, 37 I8_S, 38 TL1,
 * 39 TL2); general.file_type collides too (38: mainline MOSTLY_MXFP4_MOE,
 * fork MOSTLY_TL1; 39: mainline MOSTLY_NVFP4, fork MOSTLY_TL2; 40: mainline
 * MOSTLY_Q1_0, fork MOSTLY_I2_S), so neither settles it alone. The rule:
 *   1. a tensor of type 36, 37 or 38 -> bitnet.cpp (mainline never writes
 *      them since they were removed);
 *   2. else a tensor of type 39 -> bitnet.cpp when the architecture is one
 *      of the fork's (bitnet, bitnet-b1.58, bitnet-25, bitnet-1.58) or when
 *      general.file_type is 39 (the fork's TL2 models of other architectures,
 *      e.g. Llama3-8B-1.58 is "llama"), unless general.file_type is 38, which
 *      in a file without type-38 tensors can only be mainline's MXFP4_MOE;
 *      otherwise mainline (MXFP4);
 *   3. no tensor of type 36-39 -> mainline: the dialects agree on every
 *      other id, so nothing depends on the choice.
 */
static enum trit_ggml_dialect decide_dialect(const struct trit_gguf *g, const char **why)
{
	static const char *const fork_archs[] = { "bitnet", "bitnet-b1.58", "bitnet-25",
	                                          "bitnet-1.58" };
	struct trit_gguf_str arch = { "", 0 };
	uint64_t ftype = UINT64_MAX;
	int has39 = 0, fork_arch = 0;

	for (uint64_t i = 0; i < g->n_tensors; i++) {
		uint32_t id = g->tensors[i].type_id;
		if (id >= TRIT_GGML_I2_S && id <= TRIT_GGML_TL1) {
			*why = "a tensor has a type (36-38) only bitnet.cpp writes";
			return TRIT_GGML_BITNET;
		}
		has39 |= id == 39;
	}
	if (!has39) {
		*why = "no tensor has a type whose meaning differs";
		return TRIT_GGML_MAINLINE;
	}
	trit_gguf_get_str(g, "general.architecture", &arch);
	trit_gguf_get_u64(g, "general.file_type", &ftype);
	for (size_t i = 0; i < TRIT_ARRAY_LEN(fork_archs); i++)
		fork_arch |= str_is(&arch, fork_archs[i]);
	if (ftype == 38) {
		*why = "type 39 with general.file_type 38 (mainline MOSTLY_MXFP4_MOE)";
		return TRIT_GGML_MAINLINE;
	}
	if (fork_arch) {
		*why = "type 39 in a bitnet.cpp architecture";
		return TRIT_GGML_BITNET;
	}
	if (ftype == 39) {
		*why = "type 39 with general.file_type 39 (bitnet.cpp MOSTLY_TL2)";
		return TRIT_GGML_BITNET;
	}
	*why = "type 39 in an architecture bitnet.cpp does not define";
	return TRIT_GGML_MAINLINE;
}

/* Names of ids removed from the format, for messages only (the sizes live
 * in ggml_types.c, which treats these as unknown). */
static const char *removed_name(uint32_t id)
{
	switch (id) {
	case 4: return "Q4_2";
	case 5: return "Q4_3";
	case 31: return "Q4_0_4_4";
	case 32: return "Q4_0_4_8";
	case 33: return "Q4_0_8_8";
	case 36: return "IQ4_NL_4_4";
	case 37: return "IQ4_NL_4_8";
	case 38: return "IQ4_NL_8_8";
	default: return NULL;
	}
}

static int check_tensor(struct rd *r, struct trit_gguf *g, struct trit_gguf_tensor *t)
{
	char q[80], sub[256];
	uint64_t at = type_field(t), room;
	const char *removed;
	int rc;

	quote((const unsigned char *)t->name.s, t->name.len, q, sizeof q);
	t->type = trit_ggml_type(t->type_id, g->dialect);
	if (!t->type && (removed = removed_name(t->type_id)) != NULL)
		return fail(r, TRIT_EFORMAT, at, "tensor %s: type: expected a GGML type id in use, "
		            "found %u (%s, removed from ggml): re-convert the model with a current "
		            "llama.cpp", q, t->type_id, removed);
	if (!t->type)
		return fail(r, TRIT_EFORMAT, at, "tensor %s: type: expected a GGML type id trit knows "
		            "(%s dialect), found %u", q,
		            g->dialect == TRIT_GGML_BITNET ? "bitnet.cpp" : "mainline", t->type_id);
	rc = trit_ggml_nbytes(t->type, t->n_dims, t->ne, &t->size, sub, sizeof sub);
	if (rc)
		return fail(r, rc, t->info_offset + 8 + t->name.len, "tensor %s: shape: expected a "
		            "shape %s can store, found one it cannot: %s", q, t->type->name, sub);
	at += 4;
	if (t->offset % g->alignment)
		return fail(r, TRIT_EFORMAT, at, "tensor %s: offset: expected a multiple of the "
		            "alignment %u, found %llu", q, g->alignment, U(t->offset));
	room = g->file_size > g->data_offset ? g->file_size - g->data_offset : 0;
	if (t->offset > room || t->size > room - t->offset)
		return fail(r, TRIT_EFORMAT, at, "tensor %s: offset: expected its %llu bytes at data "
		            "offset %llu to end within the file (%llu bytes of data from offset %llu), "
		            "found they run past the end", q, U(t->size), U(t->offset), U(room),
		            U(g->data_offset));
	return 0;
}

static int no_overlap(struct rd *r, struct trit_gguf *g, void **sorted)
{
	const struct trit_gguf_tensor **t = (const struct trit_gguf_tensor **)sorted;
	char q[80], p[80];
	int in_order = 1;

	for (uint64_t i = 0; i < g->n_tensors; i++) {
		t[i] = &g->tensors[i];
		in_order &= i == 0 || g->tensors[i - 1].offset <= g->tensors[i].offset;
	}
	if (!in_order) /* writers lay tensors out in file order: usually no sort */
		sort(t, g->n_tensors, sizeof *t, cmp_tensor_offset);
	for (uint64_t i = 1; i < g->n_tensors; i++) {
		const struct trit_gguf_tensor *a = t[i - 1], *b = t[i];
		if (a->offset + a->size <= b->offset) /* both checked within the file */
			continue;
		return fail(r, TRIT_EFORMAT, type_field(b) + 4, "tensor %s: offset: expected at least "
		            "%llu, past tensor %s (data bytes %llu to %llu), found %llu (they overlap)",
		            quote((const unsigned char *)b->name.s, b->name.len, q, sizeof q),
		            U(a->offset + a->size),
		            quote((const unsigned char *)a->name.s, a->name.len, p, sizeof p),
		            U(a->offset), U(a->offset + a->size), U(b->offset));
	}
	return 0;
}

static int validate(struct rd *r, struct trit_gguf *g)
{
	uint64_t n = g->n_kv > g->n_tensors ? g->n_kv : g->n_tensors;
	void **sorted = n ? malloc((size_t)n * sizeof *sorted) : NULL;
	const char *why = "";
	int rc;

	if (n && !sorted)
		return fail(r, TRIT_ENOMEM, 0, "index: expected %llu bytes of memory, found the "
		            "allocation failed", U(n * sizeof *sorted));
	if ((rc = unique_keys(r, g, sorted)) != 0 || (rc = read_alignment(r, g)) != 0 ||
	    (rc = unique_names(r, g, sorted)) != 0)
		goto out;
	g->data_offset = g->buf_len; /* end of the tensor infos, see parse() */
	g->data_offset += (g->alignment - g->data_offset % g->alignment) % g->alignment;
	g->dialect = decide_dialect(g, &why);
	for (uint64_t i = 0; i < g->n_tensors; i++)
		if ((rc = check_tensor(r, g, &g->tensors[i])) != 0)
			goto out;
	rc = no_overlap(r, g, sorted);
	if (!rc)
		trit_log(TRIT_LOG_DEBUG, "%s: GGUF v%u, %llu metadata pairs, %llu tensors, %s dialect "
		         "(%s), data at offset %llu", r->name, g->version, U(g->n_kv),
		         U(g->n_tensors), g->dialect == TRIT_GGML_BITNET ? "bitnet.cpp" : "mainline",
		         why, U(g->data_offset));
out:
	free(sorted);
	return rc;
}

/* Parse the header r gives; on success *out owns a copy of (fd mode: the
 * buffer holding) the header bytes. */
static int parse(struct rd *r, struct trit_gguf **out)
{
	struct parser ps = { .r = *r, .pos = 0 };
	struct owned *o = calloc(1, sizeof *o);
	struct trit_gguf *g = &o->g;
	int rc;

	*out = NULL;
	if (!o)
		return trit_errf(r->err, r->errlen, TRIT_ENOMEM, "%s: out of memory", r->name);
	ps.g = g;
	g->file_size = r->file_size;
	if ((rc = read_preamble(&ps)) != 0)
		goto fail;
	if ((g->n_kv && !(g->kv = calloc((size_t)g->n_kv, sizeof *g->kv))) ||
	    (g->n_tensors && !(g->tensors = trit_calloc_large((size_t)g->n_tensors,
	                                                    sizeof *g->tensors)))) {
		rc = fail(r, TRIT_ENOMEM, 8, "header: expected memory for %llu metadata pairs and "
		          "%llu tensor infos, found the allocation failed", U(g->n_kv),
		          U(g->n_tensors));
		goto fail;
	}
	for (uint64_t i = 0; i < g->n_kv; i++)
		if ((rc = read_kv(&ps, i)) != 0)
			goto fail;
	for (uint64_t i = 0; i < g->n_tensors; i++)
		if ((rc = read_tensor_info(&ps, i)) != 0)
			goto fail;

	/* The header ends here: keep its bytes, give back the rest. */
	g->buf_len = (size_t)ps.pos;
	if (ps.r.fd >= 0) {
		size_t keep = (size_t)round_up(g->buf_len, (uint64_t)sysconf(_SC_PAGESIZE));
		if (keep < ps.r.map_len)
			munmap(ps.r.map + keep, ps.r.map_len - keep);
		g->buf = ps.r.map;
		o->map_len = keep;
		ps.r.map = NULL;
	} else if ((g->buf = malloc(g->buf_len)) != NULL) {
		memcpy(g->buf, ps.r.p, g->buf_len);
	} else {
		rc = fail(r, TRIT_ENOMEM, 0, "header: expected %llu bytes of memory, found the "
		          "allocation failed", U(g->buf_len));
		goto fail;
	}
	set_pointers(g);
	if ((rc = validate(&ps.r, g)) != 0)
		goto fail;
	*out = g;
	return 0;
fail:
	if (ps.r.map)
		munmap(ps.r.map, ps.r.map_len);
	trit_gguf_close(g);
	return rc;
}

int trit_gguf_parse(const void *data, size_t len, uint64_t file_size, const char *name,
                    struct trit_gguf **out, char *err, size_t errlen)
{
	struct rd r = { .fd = -1, .err = err, .errlen = errlen };

	r.name = name ? name : "<memory>";
	if (!out || (len && !data) || len > file_size) {
		if (out)
			*out = NULL;
		return trit_errf(err, errlen, TRIT_EINVAL, "%s: trit_gguf_parse needs out, data, "
		                 "and len <= file_size", r.name);
	}
	r.p = data;
	r.file_size = file_size;
	r.given = len;
	r.limit = file_size < TRIT_GGUF_MAX_HEADER ? file_size : TRIT_GGUF_MAX_HEADER;
	r.have = len < r.limit ? len : r.limit;
	return parse(&r, out);
}

int trit_gguf_open(const char *path, struct trit_gguf **out, char *err, size_t errlen)
{
	struct rd r = { .name = path, .err = err, .errlen = errlen };
	int rc;

	if (!out || !path)
		return trit_errf(err, errlen, TRIT_EINVAL, "trit_gguf_open needs a path and out");
	*out = NULL;
	r.fd = trit_open_regular(path, &r.file_size, NULL, err, errlen);
	if (r.fd < 0)
		return r.fd;
	r.limit = r.file_size < TRIT_GGUF_MAX_HEADER ? r.file_size : TRIT_GGUF_MAX_HEADER;
	rc = parse(&r, out);
	close(r.fd);
	return rc;
}

void trit_gguf_close(struct trit_gguf *g)
{
	struct owned *o = (struct owned *)g; /* g is the first member */

	if (!g)
		return;
	free(g->kv);
	free(g->tensors);
	if (o->map_len)
		munmap(g->buf, o->map_len);
	else
		free(g->buf);
	free(o);
}

/* ----------------------------------------------------------------- getters */

const struct trit_gguf_kv *trit_gguf_find(const struct trit_gguf *g, const char *key)
{
	size_t n;

	if (!g || !key)
		return NULL;
	n = strlen(key);
	for (uint64_t i = 0; i < g->n_kv; i++)
		if (g->kv[i].key.len == n && memcmp(g->kv[i].key.s, key, n) == 0)
			return &g->kv[i];
	return NULL;
}

const struct trit_gguf_tensor *trit_gguf_find_tensor(const struct trit_gguf *g,
                                                     const char *name)
{
	size_t n;

	if (!g || !name)
		return NULL;
	n = strlen(name);
	for (uint64_t i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].name.len == n && memcmp(g->tensors[i].name.s, name, n) == 0)
			return &g->tensors[i];
	return NULL;
}

static int is_unsigned(uint32_t t)
{
	return t == TRIT_GGUF_U8 || t == TRIT_GGUF_U16 || t == TRIT_GGUF_U32 || t == TRIT_GGUF_U64;
}

static int is_signed(uint32_t t)
{
	return t == TRIT_GGUF_I8 || t == TRIT_GGUF_I16 || t == TRIT_GGUF_I32 || t == TRIT_GGUF_I64;
}

/* A scalar of type t at p, widened: unsigned into *u, signed into *i. */
static void load_scalar(uint32_t t, const unsigned char *p, uint64_t *u, int64_t *i, double *f)
{
	switch (t) {
	case TRIT_GGUF_U8: *u = p[0]; break;
	case TRIT_GGUF_U16: *u = le16(p); break;
	case TRIT_GGUF_U32: *u = le32(p); break;
	case TRIT_GGUF_U64: *u = le64(p); break;
	case TRIT_GGUF_I8: *i = sign_extend(p[0], 1); break;
	case TRIT_GGUF_I16: *i = sign_extend(le16(p), 2); break;
	case TRIT_GGUF_I32: *i = sign_extend(le32(p), 4); break;
	case TRIT_GGUF_I64: *i = sign_extend(le64(p), 8); break;
	case TRIT_GGUF_F32: {
		uint32_t b = le32(p);
		float x;
		memcpy(&x, &b, sizeof x);
		*f = x;
		break;
	}
	case TRIT_GGUF_F64: {
		uint64_t b = le64(p);
		memcpy(f, &b, sizeof *f);
		break;
	}
	default: break;
	}
}

static int to_u64(uint32_t t, uint64_t u, int64_t i, uint64_t *out)
{
	if (is_unsigned(t)) {
		*out = u;
		return 0;
	}
	if (!is_signed(t))
		return TRIT_EFORMAT;
	if (i < 0)
		return TRIT_ERANGE;
	*out = (uint64_t)i;
	return 0;
}

int trit_gguf_get_u64(const struct trit_gguf *g, const char *key, uint64_t *out)
{
	const struct trit_gguf_kv *kv = trit_gguf_find(g, key);

	if (!kv)
		return TRIT_EINVAL;
	return to_u64(kv->type, kv->v.u, kv->v.i, out);
}

int trit_gguf_get_i64(const struct trit_gguf *g, const char *key, int64_t *out)
{
	const struct trit_gguf_kv *kv = trit_gguf_find(g, key);

	if (!kv)
		return TRIT_EINVAL;
	if (is_signed(kv->type)) {
		*out = kv->v.i;
		return 0;
	}
	if (!is_unsigned(kv->type))
		return TRIT_EFORMAT;
	if (kv->v.u > INT64_MAX)
		return TRIT_ERANGE;
	*out = (int64_t)kv->v.u;
	return 0;
}

int trit_gguf_get_f64(const struct trit_gguf *g, const char *key, double *out)
{
	const struct trit_gguf_kv *kv = trit_gguf_find(g, key);

	if (!kv)
		return TRIT_EINVAL;
	if (kv->type != TRIT_GGUF_F32 && kv->type != TRIT_GGUF_F64)
		return TRIT_EFORMAT;
	*out = kv->v.f;
	return 0;
}

int trit_gguf_get_bool(const struct trit_gguf *g, const char *key, int *out)
{
	const struct trit_gguf_kv *kv = trit_gguf_find(g, key);

	if (!kv)
		return TRIT_EINVAL;
	if (kv->type != TRIT_GGUF_BOOL)
		return TRIT_EFORMAT;
	*out = kv->v.u != 0;
	return 0;
}

int trit_gguf_get_str(const struct trit_gguf *g, const char *key, struct trit_gguf_str *out)
{
	const struct trit_gguf_kv *kv = trit_gguf_find(g, key);

	if (!kv)
		return TRIT_EINVAL;
	if (kv->type != TRIT_GGUF_STRING)
		return TRIT_EFORMAT;
	*out = kv->v.str;
	return 0;
}

/* Element i of a numeric array, widened. */
static int array_elem(const struct trit_gguf_kv *kv, uint64_t i, uint64_t *u, int64_t *s,
                      double *f)
{
	uint64_t size;

	if (!kv || kv->type != TRIT_GGUF_ARRAY || kv->arr_type >= TRIT_ARRAY_LEN(scalar_size) ||
	    (size = scalar_size[kv->arr_type]) == 0 || kv->arr_type == TRIT_GGUF_BOOL)
		return TRIT_EFORMAT;
	if (i >= kv->arr_count)
		return TRIT_ERANGE;
	load_scalar(kv->arr_type, kv->arr_data + i * size, u, s, f);
	return 0;
}

int trit_gguf_array_u64(const struct trit_gguf_kv *kv, uint64_t i, uint64_t *out)
{
	uint64_t u = 0;
	int64_t s = 0;
	double f = 0;
	int rc = array_elem(kv, i, &u, &s, &f);

	return rc ? rc : to_u64(kv->arr_type, u, s, out);
}

int trit_gguf_array_f64(const struct trit_gguf_kv *kv, uint64_t i, double *out)
{
	uint64_t u = 0;
	int64_t s = 0;
	int rc;

	if (kv && kv->type == TRIT_GGUF_ARRAY && kv->arr_type != TRIT_GGUF_F32 &&
	    kv->arr_type != TRIT_GGUF_F64)
		return TRIT_EFORMAT;
	rc = array_elem(kv, i, &u, &s, out);
	return rc;
}

int trit_gguf_array_next_str(const struct trit_gguf_kv *kv, uint64_t *cursor,
                             struct trit_gguf_str *out)
{
	uint64_t at, len;

	if (!kv || !cursor || kv->type != TRIT_GGUF_ARRAY || kv->arr_type != TRIT_GGUF_STRING)
		return TRIT_EFORMAT;
	at = *cursor;
	if (at == kv->arr_bytes)
		return TRIT_ERANGE;
	if (at > kv->arr_bytes || kv->arr_bytes - at < 8)
		return TRIT_EFORMAT;
	len = le64(kv->arr_data + at);
	if (len > kv->arr_bytes - at - 8)
		return TRIT_EFORMAT;
	out->s = (const char *)kv->arr_data + at + 8;
	out->len = len;
	*cursor = at + 8 + len;
	return 0;
}
