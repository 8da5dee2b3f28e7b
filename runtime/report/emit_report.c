/*
 * emit_report.c - a deployment's commands for people (shell lines, quoted
 * where a word needs it, each under a comment naming its machine and role)
 * and for programs (JSON: argv arrays and the same lines). Decides nothing.
 */
#include <build-config.h>

#include <string.h>

#include "core/common.h"
#include "report/emit_report.h"
#include "report/json_build.h"

/* Whether a word can go into a shell line unquoted. */
static int plain(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("_./:=,+-@%", *s)))
			return 0;
	return 1;
}

/* Append word to buf (at *used), single-quoted when it needs it. */
static void word(char *buf, size_t len, size_t *used, const char *w)
{
	if (*used && *used < len)
		buf[(*used)++] = ' ';
	if (plain(w)) {
		*used += (size_t)snprintf(buf + *used, *used < len ? len - *used : 0, "%s", w);
		return;
	}
	*used += (size_t)snprintf(buf + *used, *used < len ? len - *used : 0, "'");
	for (; *w; w++)
		*used += (size_t)snprintf(buf + *used, *used < len ? len - *used : 0,
		                          *w == '\'' ? "'\\''" : "%c", *w);
	*used += (size_t)snprintf(buf + *used, *used < len ? len - *used : 0, "'");
}

/* The command as one shell line (environment first). */
static void line(const struct trit_emit_cmd *k, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < 4 && k->env[i]; i++)
		word(buf, len, &used, k->env[i]);
	for (uint32_t i = 0; i < k->argc; i++)
		word(buf, len, &used, k->argv[i]);
	if (used >= len)
		memcpy(buf + len - 4, "...", 4);
}

void trit_report_emit_text(FILE *out, const struct trit_emit *e,
                           const struct trit_emit_machine *machines)
{
	char buf[8192];

	fprintf(out, "# %s: flags of %s\n", e->engine_name, e->versions);
	for (uint32_t i = 0; i < e->n_cmds; i++) {
		const struct trit_emit_cmd *k = &e->cmds[i];
		line(k, buf, sizeof buf);
		fprintf(out, "\n# on %s (%s), %s:\n%s\n", machines[k->machine].name,
		        machines[k->machine].address, k->role, buf);
	}
	for (uint32_t i = 0; i < e->n_notes; i++)
		fprintf(out, "%s# %s\n", i ? "" : "\n", e->notes[i]);
}

static void cmd_json(struct jb *jb, cJSON *arr, const struct trit_emit_cmd *k,
                     const struct trit_emit_machine *machines)
{
	cJSON *o = chk(jb, cJSON_CreateObject()), *a;
	char buf[8192];

	if (!o)
		return;
	cJSON_AddItemToArray(arr, o);
	json_str(jb, o, "machine", machines[k->machine].name);
	json_str(jb, o, "address", machines[k->machine].address);
	json_str(jb, o, "role", k->role);
	if ((a = chk(jb, cJSON_AddArrayToObject(o, "env"))))
		for (int i = 0; i < 4 && k->env[i]; i++)
			if (!cJSON_AddItemToArray(a, chk(jb, cJSON_CreateString(k->env[i]))))
				jb->oom = 1;
	if ((a = chk(jb, cJSON_AddArrayToObject(o, "argv"))))
		for (uint32_t i = 0; i < k->argc; i++)
			if (!cJSON_AddItemToArray(a, chk(jb, cJSON_CreateString(k->argv[i]))))
				jb->oom = 1;
	line(k, buf, sizeof buf);
	json_str(jb, o, "line", buf);
}

cJSON *trit_report_emit_tree(const struct trit_emit *e, const struct trit_emit_machine *machines,
                             const struct trit_parallel *par, cJSON *plan)
{
	struct jb jb = { 0 };
	cJSON *root = cJSON_CreateObject(), *arr, *o;

	if (!root) {
		cJSON_Delete(plan);
		return NULL;
	}
	json_str(&jb, root, "engine", e->engine_name);
	json_str(&jb, root, "versions", e->versions);
	if ((o = chk(&jb, cJSON_AddObjectToObject(root, "parallel")))) {
		json_num(&jb, o, "tp", par->tp);
		json_num(&jb, o, "pp", par->pp);
		json_num(&jb, o, "ep", par->ep);
	}
	if (e->gpu_memory_utilization > 0)
		json_num(&jb, root, "gpu_memory_utilization", e->gpu_memory_utilization);
	if ((arr = chk(&jb, cJSON_AddArrayToObject(root, "commands"))))
		for (uint32_t i = 0; i < e->n_cmds; i++)
			cmd_json(&jb, arr, &e->cmds[i], machines);
	if ((arr = chk(&jb, cJSON_AddArrayToObject(root, "notes"))))
		for (uint32_t i = 0; i < e->n_notes; i++)
			if (!cJSON_AddItemToArray(arr, chk(&jb, cJSON_CreateString(e->notes[i]))))
				jb.oom = 1;
	if (plan)
		cJSON_AddItemToObject(root, "plan", plan);
	if (jb.oom) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}
