/*
 * config/config_index.c - the configuration's lookup indexes (see
 * config_index.h): two string hash maps and a growing array per section.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>

#include "config/config_index.h"

static int group_append(struct trit_config_index *ix, const char *section, size_t pos)
{
	struct trit_config_group *g;
	size_t gi;

	if (!trit_strmap_get(&ix->by_section, section, &gi)) {
		if (ix->n_groups == ix->cap_groups) {
			size_t cap = ix->cap_groups ? 2 * ix->cap_groups : 8;
			struct trit_config_group *v = realloc(ix->groups, cap * sizeof *v);
			if (!v)
				return TRIT_ENOMEM;
			ix->groups = v;
			ix->cap_groups = cap;
		}
		gi = ix->n_groups;
		if (trit_strmap_put(&ix->by_section, section, gi))
			return TRIT_ENOMEM;
		memset(&ix->groups[gi], 0, sizeof ix->groups[gi]);
		ix->n_groups++;
	}
	g = &ix->groups[gi];
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 4;
		size_t *v = realloc(g->at, cap * sizeof *v);
		if (!v)
			return TRIT_ENOMEM;
		g->at = v;
		g->cap = cap;
	}
	g->at[g->n++] = pos;
	return 0;
}

int trit_config_index_add(struct trit_config_index *ix, const char *section, const char *key,
                          size_t pos, int grouped)
{
	size_t old;

	if (trit_config_index_find(ix, section, key, &old))
		return 0;
	if (trit_strmap_put2(&ix->by_key, section, key, pos))
		return TRIT_ENOMEM;
	return grouped ? group_append(ix, section, pos) : 0;
}

int trit_config_index_find(const struct trit_config_index *ix, const char *section,
                           const char *key, size_t *pos)
{
	return trit_strmap_get2(&ix->by_key, section, key, pos);
}

const struct trit_config_group *trit_config_index_group(const struct trit_config_index *ix,
                                                        const char *section)
{
	size_t gi;

	return trit_strmap_get(&ix->by_section, section, &gi) ? &ix->groups[gi] : NULL;
}

void trit_config_index_free(struct trit_config_index *ix)
{
	for (size_t i = 0; i < ix->n_groups; i++)
		free(ix->groups[i].at);
	free(ix->groups);
	trit_strmap_free(&ix->by_key);
	trit_strmap_free(&ix->by_section);
	memset(ix, 0, sizeof *ix);
}
