/*
 * core/strmap.c - open addressing with linear probing over FNV-1a hashes;
 * the table doubles when half full. A two-part key is hashed and compared
 * part by part, so looking one up allocates nothing.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>

#include "core/strmap.h"

#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME  UINT64_C(1099511628211)

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV_PRIME;
	return h;
}

static uint64_t hash2(const char *a, const char *b)
{
	return b ? fnv(fnv(fnv(FNV_OFFSET, a), "\n"), b) : fnv(FNV_OFFSET, a);
}

/* Does key equal a (b NULL) or a "\n" b? */
static int same(const char *key, const char *a, const char *b)
{
	size_t n = strlen(a);

	if (strncmp(key, a, n) != 0)
		return 0;
	if (!b)
		return key[n] == '\0';
	return key[n] == '\n' && strcmp(key + n + 1, b) == 0;
}

/* The slot holding the key, or the empty slot where it would go. */
static struct trit_strmap_slot *probe(const struct trit_strmap *m, uint64_t h, const char *a,
                                      const char *b)
{
	size_t mask = m->cap - 1;

	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct trit_strmap_slot *s = &m->slots[i];
		if (!s->key || (s->hash == h && same(s->key, a, b)))
			return s;
	}
}

static int grow(struct trit_strmap *m)
{
	struct trit_strmap bigger = { .cap = m->cap ? m->cap * 2 : 16, .n = m->n };

	if (!(bigger.slots = calloc(bigger.cap, sizeof *bigger.slots)))
		return TRIT_ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct trit_strmap_slot *s = &m->slots[i];
		if (!s->key)
			continue;
		size_t mask = bigger.cap - 1, j = (size_t)s->hash & mask;
		while (bigger.slots[j].key)
			j = (j + 1) & mask;
		bigger.slots[j] = *s;
	}
	free(m->slots);
	*m = bigger;
	return 0;
}

static int put(struct trit_strmap *m, const char *a, const char *b, size_t value)
{
	uint64_t h = hash2(a, b);
	struct trit_strmap_slot *s;
	size_t la = strlen(a), lb = b ? strlen(b) : 0;

	if ((m->n + 1) * 2 > m->cap && grow(m) != 0)
		return TRIT_ENOMEM;
	s = probe(m, h, a, b);
	if (!s->key) {
		if (!(s->key = malloc(la + (b ? lb + 2 : 1))))
			return TRIT_ENOMEM;
		memcpy(s->key, a, la);
		if (b) {
			s->key[la] = '\n';
			memcpy(s->key + la + 1, b, lb + 1);
		} else {
			s->key[la] = '\0';
		}
		s->hash = h;
		m->n++;
	}
	s->value = value;
	return 0;
}

static int get(const struct trit_strmap *m, const char *a, const char *b, size_t *value)
{
	const struct trit_strmap_slot *s;

	if (!m->cap)
		return 0;
	s = probe(m, hash2(a, b), a, b);
	if (!s->key)
		return 0;
	*value = s->value;
	return 1;
}

int trit_strmap_put(struct trit_strmap *m, const char *key, size_t value)
{
	return put(m, key, NULL, value);
}

int trit_strmap_get(const struct trit_strmap *m, const char *key, size_t *value)
{
	return get(m, key, NULL, value);
}

int trit_strmap_put2(struct trit_strmap *m, const char *a, const char *b, size_t value)
{
	return put(m, a, b, value);
}

int trit_strmap_get2(const struct trit_strmap *m, const char *a, const char *b, size_t *value)
{
	return get(m, a, b, value);
}

void trit_strmap_free(struct trit_strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	memset(m, 0, sizeof *m);
}
