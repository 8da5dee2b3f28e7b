/*
 * core/strmap.h - a hash map from strings to size_t (an index into the
 * caller's own array), so that looking a name up costs the same whatever
 * the number of names: the INI reader's keys seen so far and the
 * configuration's entries and sections are found through one. Keys are
 * copied; nothing is ever removed (callers only add and replace).
 */
#ifndef TRIT_CORE_STRMAP_H
#define TRIT_CORE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

/* Zero-initialise before use. Invariant: cap is 0 or a power of two and
 * n <= cap / 2, so a probe always reaches an empty slot. */
struct trit_strmap {
	struct trit_strmap_slot {
		char *key; /* NULL: empty */
		uint64_t hash;
		size_t value;
	} *slots;
	size_t n, cap;
};

/* Set key's value (adding the key or replacing its value): 0 or TRIT_ENOMEM. */
int trit_strmap_put(struct trit_strmap *m, const char *key, size_t value);
/* 1 and *value when key is there, else 0. */
int trit_strmap_get(const struct trit_strmap *m, const char *key, size_t *value);
/* The same for a key made of two parts, as if joined by a '\n' (which
 * neither an INI section name nor a key can hold). */
int trit_strmap_put2(struct trit_strmap *m, const char *a, const char *b, size_t value);
int trit_strmap_get2(const struct trit_strmap *m, const char *a, const char *b, size_t *value);
void trit_strmap_free(struct trit_strmap *m);

#endif
