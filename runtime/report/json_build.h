/* json_build.h - building a report's cJSON tree without checking every call:
 * cJSON_Add* return NULL when allocation fails, and chk() collects that in
 * one flag the report looks at once, at the end. Shared by every report. */
#ifndef TRIT_REPORT_JSON_BUILD_H
#define TRIT_REPORT_JSON_BUILD_H

#include <cjson/cJSON.h>

struct jb {
	int oom; /* an allocation failed somewhere in the tree */
};

static inline cJSON *chk(struct jb *jb, cJSON *item)
{
	if (!item)
		jb->oom = 1;
	return item;
}

/* key: s, or null when s is NULL */
static inline void json_str(struct jb *jb, cJSON *obj, const char *key, const char *s)
{
	chk(jb, s ? cJSON_AddStringToObject(obj, key, s) : cJSON_AddNullToObject(obj, key));
}

static inline void json_num(struct jb *jb, cJSON *obj, const char *key, double v)
{
	chk(jb, cJSON_AddNumberToObject(obj, key, v));
}

#endif
