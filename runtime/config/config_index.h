/*
 * config/config_index.h - the indexes that keep configuration lookups cheap
 * however many entries a file sets: an entry by section and key, and each
 * [plugin.<name>] section's entries in the order they were set. It holds
 * positions in config.c's entry array, never the entries themselves; config.c
 * rebuilds it whenever that array changes shape.
 */
#ifndef TRIT_CONFIG_INDEX_H
#define TRIT_CONFIG_INDEX_H

#include <stddef.h>

#include "core/strmap.h"

struct trit_config_index {
	struct trit_strmap by_key;     /* section + key -> position of its entry */
	struct trit_strmap by_section; /* grouped section name -> position in groups */
	/* The grouped sections in the order of their first entry; at[] holds the
	 * positions of a section's entries in the order they were added. */
	struct trit_config_group {
		size_t *at;
		size_t n, cap;
	} *groups;
	size_t n_groups, cap_groups;
};

/* Record that the entry at `pos` is section/key (a key already recorded
 * keeps its first position). When `grouped`, the entry is also appended to
 * its section's group. 0 or TRIT_ENOMEM (the index is then incomplete:
 * free it). */
int trit_config_index_add(struct trit_config_index *ix, const char *section, const char *key,
                          size_t pos, int grouped);
/* 1 and *pos when section/key is recorded, else 0. */
int trit_config_index_find(const struct trit_config_index *ix, const char *section,
                           const char *key, size_t *pos);
/* The group of a grouped section, or NULL. */
const struct trit_config_group *trit_config_index_group(const struct trit_config_index *ix,
                                                        const char *section);
void trit_config_index_free(struct trit_config_index *ix);

#endif
