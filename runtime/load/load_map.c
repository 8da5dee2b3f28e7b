/*
 * load/load_map.c - the model's files, mapped read-only once; every
 * tensor's extent checked against its file's real size before anything
 * reads it (a truncated file is an error naming the tensor, never a
 * SIGBUS); the finiteness scans of norms and scales; giving read pages
 * back; and the process-memory probe the report uses.
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <trit/ternary.h>

#include "core/common.h"
#include "core/safeopen.h"
#include "formats/ternary.h"
#include "load/load_int.h"

void load_unmap_files(struct load_map *maps, uint32_t n)
{
	for (uint32_t i = 0; maps && i < n; i++)
		if (maps[i].base)
			munmap(maps[i].base, (size_t)maps[i].size);
	free(maps);
}

static int map_one(const char *path, struct load_map *out, char *err, size_t errlen)
{
	void *p;
	int fd = trit_open_regular(path, &out->size, NULL, err, errlen);

	if (fd < 0)
		return fd;
	out->base = NULL;
	if (out->size == 0 || (uint64_t)(size_t)out->size != out->size) {
		close(fd);
		return out->size == 0 ? 0 : trit_errf(err, errlen, TRIT_ERANGE, "%s (%llu bytes) "
		                                      "does not fit in this process' address space",
		                                      path, (unsigned long long)out->size);
	}
	p = mmap(NULL, (size_t)out->size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return trit_errf(err, errlen, errno == ENOMEM ? TRIT_ENOMEM : TRIT_EIO,
		                 "cannot map %s (%llu bytes): %s", path,
		                 (unsigned long long)out->size, strerror(errno));
	out->base = p;
	return 0;
}

/* Each tensor's [offset, offset + n_bytes) inside its file. */
static int check_extents(const struct trit_model *m, const struct load_map *maps,
                         char *err, size_t errlen)
{
	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_model_tensor *t = &m->tensors[i];
		uint64_t size;

		if (t->file >= m->n_files)
			return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s names file %u of %u",
			                 t->name, t->file, m->n_files);
		size = maps[t->file].size;
		if (t->offset > size || t->n_bytes > size - t->offset)
			return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s spans bytes %llu..%llu of "
			                 "%s but the file has %llu bytes (truncated?)", t->name,
			                 (unsigned long long)t->offset,
			                 (unsigned long long)(t->offset + t->n_bytes),
			                 m->files[t->file], (unsigned long long)size);
	}
	return 0;
}

int load_map_files(const struct trit_model *m, struct load_map **out, char *err, size_t errlen)
{
	struct load_map *maps = calloc(m->n_files ? m->n_files : 1, sizeof *maps);
	int rc = 0;

	*out = NULL;
	if (!maps)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	for (uint32_t f = 0; f < m->n_files && !rc; f++)
		rc = map_one(m->files[f], &maps[f], err, errlen);
	if (!rc)
		rc = check_extents(m, maps, err, errlen);
	if (rc) {
		load_unmap_files(maps, m->n_files);
		return rc;
	}
	*out = maps;
	return 0;
}

/* The kernel maps pages around a faulting one ("fault-around", 64 KiB by
 * default), so what a read leaves mapped reaches past the bytes read: drop
 * the window around them, inside the mapping. */
#define DROP_ALIGN (UINT64_C(1) << 16)

void load_drop_pages(const struct load_map *map, const void *p, uint64_t n)
{
	uint64_t a, b;

	if (!map->base || !p || !n)
		return;
	a = (uint64_t)((const unsigned char *)p - map->base);
	b = a + n;
	a = a / DROP_ALIGN * DROP_ALIGN;
	if (map->size < DROP_ALIGN || b > map->size - DROP_ALIGN)
		b = map->size;
	else
		b = trit_round_up_u64(b, DROP_ALIGN);
	madvise(map->base + a, (size_t)(b - a), MADV_DONTNEED);
}

static float f16_value(const unsigned char *p)
{
	unsigned h = (unsigned)p[0] | (unsigned)p[1] << 8, e = (h >> 10) & 31, f = h & 1023;
	float v = e == 0 ? ldexpf((float)f, -24) : e == 31 ? (f ? NAN : INFINITY) :
	          ldexpf((float)(f | 1024), (int)e - 25);
	return h & 0x8000 ? -v : v;
}

static int not_finite(const struct trit_model_tensor *mt, const char *what, uint64_t index,
                      uint64_t off, float v, char *err, size_t errlen)
{
	return trit_errf(err, errlen, TRIT_EFORMAT, "tensor %s: %s %llu (file offset %llu) is %s; "
	                 "it must be finite", mt->name, what, (unsigned long long)index,
	                 (unsigned long long)off, isnan(v) ? "NaN" : "infinite");
}

int load_check_values(const struct trit_model_tensor *mt, const struct load_item *it,
                      const unsigned char *p, char *err, size_t errlen)
{
	uint64_t n, blk, d_at;
	float v;

	switch (it->check) {
	case LOAD_CHECK_F32:
		for (n = 0; n < mt->n_bytes / 4; n++) {
			memcpy(&v, p + 4 * n, sizeof v);
			if (!isfinite(v))
				return not_finite(mt, "element", n, mt->offset + 4 * n, v, err, errlen);
		}
		return 0;
	case LOAD_CHECK_I2S_SCALE:
		n = mt->n_bytes - TRIT_TERNARY_TRAILER_BYTES;
		memcpy(&v, p + n, sizeof v);
		return isfinite(v) ? 0 : not_finite(mt, "the scale, element", 0, mt->offset + n, v,
		                                    err, errlen);
	case LOAD_CHECK_BLOCK_SCALES:
		blk = it->src_type == TRIT_TYPE_TQ1_0 ? 54 : 66;
		for (n = 0; n < mt->n_bytes / blk; n++) {
			d_at = n * blk + blk - 2;
			v = f16_value(p + d_at);
			if (!isfinite(v))
				return not_finite(mt, "the scale d of block", n, mt->offset + d_at, v,
				                  err, errlen);
		}
		return 0;
	default:
		return 0;
	}
}

