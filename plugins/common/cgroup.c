/*
 * cgroup.c - find the directory of this process' cgroup for one controller,
 * from <proc_root>/self/cgroup (which cgroup) and <proc_root>/self/mountinfo
 * (where its hierarchy is mounted, and which part of it: the mount's root).
 * Reading limits from that directory is memory.c's and threads.c's job.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_common.h"

/* Bounds on what we accept: a mountinfo of a busy host is a few hundred KiB. */
#define CGROUP_FILE_LIMIT    (64u * 1024)
#define MOUNTINFO_FILE_LIMIT (16u * 1024 * 1024)

/* Does the comma-separated list contain `token` exactly? */
static int list_has(const char *list, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !strncmp(p, token, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space, \134 for a backslash). */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* A path we are willing to join onto a mount point: absolute, no "..". */
static int path_is_sane(const char *p)
{
	if (p[0] != '/')
		return 0;
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2)
		if (s[-1] == '/' && (s[2] == '/' || s[2] == '\0'))
			return 0;
	return 1;
}

/* The cgroup path of `controller` (v1) or of the unified hierarchy (when
 * controller is NULL) in the text of /proc/self/cgroup, which is cut up in
 * place; the result points into it. NULL when there is no such line. */
static char *cgroup_path(char *text, const char *controller)
{
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		if (controller ? list_has(c1 + 1, controller)
		               : (c1 - line == 1 && line[0] == '0' && c1[1] == '\0'))
			return c2 + 1;
	}
	return NULL;
}

struct mount {
	char *root, *point, *fstype, *super;
};

/* Split one mountinfo line in place; returns 0 or -1 when malformed. */
static int mount_parse(char *line, struct mount *m)
{
	char *field[64], *save = NULL;
	int n = 0, dash = -1;

	for (char *tok = strtok_r(line, " ", &save); tok && n < 64;
	     tok = strtok_r(NULL, " ", &save))
		field[n++] = tok;
	for (int i = 6; i < n; i++)
		if (!strcmp(field[i], "-")) {
			dash = i;
			break;
		}
	/* After "-": file system type, source, super options. */
	if (dash < 0 || dash + 3 >= n)
		return -1;
	m->root = field[3];
	m->point = field[4];
	m->fstype = field[dash + 1];
	m->super = field[dash + 3];
	unescape(m->root);
	unescape(m->point);
	/* The kernel writes absolute paths; anything else would be read
	 * relative to our working directory. */
	return m->root[0] == '/' && m->point[0] == '/' ? 0 : -1;
}

/* Is `path` the mount root or below it? */
static int under_root(const char *path, const char *root)
{
	size_t n = strlen(root);
	if (!strcmp(root, "/"))
		return 1;
	return !strncmp(path, root, n) && (path[n] == '/' || path[n] == '\0');
}

/* Fill cg->mount and cg->dir from the mount entry and the cgroup path. */
static int join(struct cpu_common_cgroup *cg, const struct mount *m, const char *path,
                char *why, size_t whylen)
{
	const char *rel = "";
	size_t len;

	if (cpu_common_pathf(cg->mount, sizeof cg->mount, "%s", m->point) != 0) {
		cpu_common_errf(why, whylen, 0, "cgroup mount point is too long: %.80s...", m->point);
		return TRIT_EFORMAT;
	}
	/* Strip the mount's root; a path outside it (another namespace's view)
	 * leaves only the mount point itself to read. */
	if (under_root(path, m->root))
		rel = strcmp(m->root, "/") ? path + strlen(m->root) : path;
	if (cpu_common_pathf(cg->dir, sizeof cg->dir, "%s%s", m->point, rel) != 0) {
		cpu_common_errf(why, whylen, 0, "cgroup directory path is too long: %.80s...", path);
		return TRIT_EFORMAT;
	}
	len = strlen(cg->dir);
	while (len > strlen(cg->mount) && cg->dir[len - 1] == '/')
		cg->dir[--len] = '\0';
	return 0;
}

/* Choose the mount of the hierarchy (v1 with `controller`, or cgroup2) whose
 * root contains `path`; failing that, the first such mount. */
static int find_mount(char *mountinfo, int version, const char *controller,
                      const char *path, struct cpu_common_cgroup *cg, char *why, size_t whylen)
{
	char *save = NULL;
	struct mount m, chosen;
	int found = 0;

	memset(&chosen, 0, sizeof chosen);

	for (char *line = strtok_r(mountinfo, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (mount_parse(line, &m) != 0)
			continue;
		if (version == 2
		            ? strcmp(m.fstype, "cgroup2") != 0
		            : (strcmp(m.fstype, "cgroup") != 0 || !list_has(m.super, controller)))
			continue;
		if (!found || (!under_root(path, chosen.root) && under_root(path, m.root))) {
			chosen = m;
			found = 1;
		}
	}
	if (!found) {
		if (version == 2)
			cpu_common_errf(why, whylen, 0, "no cgroup2 file system is mounted");
		else
			cpu_common_errf(why, whylen, 0,
			                "no cgroup v1 hierarchy with the %s controller is mounted",
			                controller);
		return TRIT_ENODEV;
	}
	cg->version = version;
	return join(cg, &chosen, path, why, whylen);
}

/* For v2: is the controller enabled in this hierarchy? Its root lists the
 * controllers that can be used below it in cgroup.controllers. */
static int v2_has_controller(const char *mount, const char *controller, char *why, size_t whylen)
{
	char path[4200], *text = NULL;
	int ok;

	if (cpu_common_pathf(path, sizeof path, "%s/cgroup.controllers", mount) != 0 ||
	    cpu_common_read_file(path, CGROUP_FILE_LIMIT, &text, NULL, why, whylen) != 0)
		return 0;
	for (char *p = text; *p; p++)
		if (*p == ' ' || *p == '\n')
			*p = ',';
	ok = list_has(text, controller);
	if (!ok)
		cpu_common_errf(why, whylen, 0,
		                "the cgroup2 hierarchy at %s has no %s controller (%s "
		                "does not list it)",
		                mount, controller, path);
	free(text);
	return ok;
}

int cpu_common_cgroup_find(const char *proc_root, const char *controller,
                           struct cpu_common_cgroup *cg, char *why, size_t whylen)
{
	char cg_path[4200], mi_path[4200];
	char *cg_text = NULL, *mi_text = NULL, *copy = NULL;
	const char *path;
	int rc;

	memset(cg, 0, sizeof *cg);
	if (cpu_common_pathf(cg_path, sizeof cg_path, "%s/self/cgroup", proc_root) != 0 ||
	    cpu_common_pathf(mi_path, sizeof mi_path, "%s/self/mountinfo", proc_root) != 0) {
		cpu_common_errf(why, whylen, 0, "proc_root is too long: %.80s...", proc_root);
		return TRIT_EINVAL;
	}
	if ((rc = cpu_common_read_file(cg_path, CGROUP_FILE_LIMIT, &cg_text, NULL, why, whylen)) != 0)
		return rc;
	if ((rc = cpu_common_read_file(mi_path, MOUNTINFO_FILE_LIMIT, &mi_text, NULL, why,
	                               whylen)) != 0)
		goto out;
	if (!(copy = strdup(cg_text))) {
		cpu_common_errf(why, whylen, 0, "out of memory reading %s", cg_path);
		rc = TRIT_ENOMEM;
		goto out;
	}

	/* A v1 hierarchy carrying the controller takes precedence: in hybrid
	 * setups the unified hierarchy is mounted but has no controllers. */
	path = cgroup_path(copy, controller);
	if (path) {
		if (!path_is_sane(path)) {
			cpu_common_errf(why, whylen, 0,
			                "%s: the %s cgroup path '%.200s' is not an absolute "
			                "path without '..'",
			                cg_path, controller, path);
			rc = TRIT_EFORMAT;
			goto out;
		}
		rc = find_mount(mi_text, 1, controller, path, cg, why, whylen);
		goto out;
	}
	path = cgroup_path(cg_text, NULL);
	if (!path) {
		cpu_common_errf(why, whylen, 0,
		                "%s names no %s controller and no cgroup v2 hierarchy", cg_path,
		                controller);
		rc = TRIT_ENODEV;
		goto out;
	}
	if (!path_is_sane(path)) {
		cpu_common_errf(why, whylen, 0,
		                "%s: the cgroup v2 path '%.200s' is not an absolute path "
		                "without '..'",
		                cg_path, path);
		rc = TRIT_EFORMAT;
		goto out;
	}
	rc = find_mount(mi_text, 2, controller, path, cg, why, whylen);
	if (rc == 0 && !v2_has_controller(cg->mount, controller, why, whylen))
		rc = TRIT_ENODEV;
out:
	free(copy);
	free(cg_text);
	free(mi_text);
	return rc;
}

int cpu_common_cgroup_parent(char *dir, const char *mount)
{
	size_t mlen = strlen(mount);
	char *slash;

	if (strlen(dir) <= mlen)
		return -1;
	slash = strrchr(dir, '/');
	if (!slash || (size_t)(slash - dir) < mlen)
		return -1;
	if ((size_t)(slash - dir) == mlen)
		dir[mlen] = '\0';
	else
		*slash = '\0';
	return 0;
}
