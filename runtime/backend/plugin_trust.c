/*
 * plugin_trust.c - refuse plugin files that someone other than root or the
 * user trit runs as could have written or replaced (rules in
 * plugin_trust.h). Reads file status and libtool archives' text only;
 * loading, and what a refusal means, are registry.c's.
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/plugin_trust.h"
#include "core/common.h"

/* 1 (with why) when `path`, a `what` ("plugin file", "directory"), could be
 * written by someone other than root and the effective user. */
static int judge(const char *what, const char *path, char *why, size_t len)
{
	struct stat st;
	unsigned mode;
	int sticky;

	if (stat(path, &st) != 0)
		return 0;
	mode = (unsigned)st.st_mode & 07777;
	sticky = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, len, "%s %s is owned by uid %u, neither root nor the user trit runs "
		         "as (uid %u)", what, path, (unsigned)st.st_uid, (unsigned)geteuid());
		return 1;
	}
	if ((st.st_mode & S_IWOTH) && !sticky) {
		snprintf(why, len, "%s %s is writable by every user (mode %04o)", what, path, mode);
		return 1;
	}
	if ((st.st_mode & S_IWGRP) && !sticky && st.st_gid != 0 && st.st_gid != getegid()) {
		snprintf(why, len, "%s %s is writable by group %u (mode %04o), which is neither "
		         "root's nor the user's (gid %u)", what, path, (unsigned)st.st_gid, mode,
		         (unsigned)getegid());
		return 1;
	}
	return 0;
}

/* Judge the directory part of `path` (which has a '/'), resolved. */
static int judge_dir_of(const char *path, char *why, size_t len)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == path ? trit_strdup("/") : trit_strdup(path);
	char *real;
	int bad = 0;

	if (!dir)
		return 0;
	if (slash != path)
		dir[slash - path] = '\0';
	real = realpath(dir, NULL);
	if (real)
		bad = judge("directory", real, why, len);
	free(real);
	free(dir);
	return bad;
}

/* The file, the directory it is named in, and (through links) the one it
 * really lies in. */
static int judge_file(const char *file, char *why, size_t len)
{
	char *real = realpath(file, NULL);
	int bad;

	if (!real)
		return 0;
	bad = judge("plugin file", real, why, len) ||
	      (strchr(file, '/') && judge_dir_of(file, why, len)) ||
	      judge_dir_of(real, why, len);
	free(real);
	return bad;
}

/* Copy the value of `key=value` or `key='value'` in line into out. */
static void la_value(const char *line, const char *key, char *out, size_t len)
{
	size_t k = strlen(key), n;
	const char *v;

	if (strncmp(line, key, k) != 0 || line[k] != '=')
		return;
	v = line + k + 1;
	if (*v == '\'')
		v++;
	n = strcspn(v, "'\n");
	snprintf(out, len, "%.*s", (int)n, v);
}

/* dlname, libdir and installed of libtool archive `la`; 0 when read. A file
 * that is not a regular one (a FIFO would block) is not read. */
static int read_la(const char *la, char *dlname, char *libdir, char *installed, size_t len)
{
	char line[PATH_MAX + 32];
	struct stat st;
	int fd = open(la, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	FILE *f;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !(f = fdopen(fd, "r"))) {
		close(fd);
		return -1;
	}
	dlname[0] = libdir[0] = installed[0] = '\0';
	for (int i = 0; i < 256 && fgets(line, sizeof line, f); i++) {
		la_value(line, "dlname", dlname, len);
		la_value(line, "libdir", libdir, len);
		la_value(line, "installed", installed, len);
	}
	fclose(f);
	return 0;
}

/* The shared objects libltdl may open for archive `la` (see libltdl's
 * find_module): the installed or the uninstalled one, then the one beside
 * the archive. Those that exist are judged. */
static int judge_la(const char *la, char *why, size_t len)
{
	char dlname[PATH_MAX], libdir[PATH_MAX], installed[16];
	char *real = realpath(la, NULL), *first = NULL, *beside = NULL;
	int bad = 0;

	if (!real || read_la(real, dlname, libdir, installed, sizeof dlname) || !dlname[0] ||
	    strchr(dlname, '/')) {
		free(real);
		return 0;
	}
	*strrchr(real, '/') = '\0';
	if (strcmp(installed, "yes") == 0)
		first = libdir[0] ? trit_asprintf("%s/%s", libdir, dlname) : NULL;
	else
		first = trit_asprintf("%s/.libs/%s", real, dlname);
	beside = trit_asprintf("%s/%s", real, dlname);
	if (first && access(first, F_OK) == 0)
		bad = judge_file(first, why, len);
	if (!bad && beside && access(beside, F_OK) == 0)
		bad = judge_file(beside, why, len);
	free(first);
	free(beside);
	free(real);
	return bad;
}

int trit_plugin_untrusted(const char *file, char *why, size_t len)
{
	size_t n = strlen(file);

	if (judge_file(file, why, len))
		return 1;
	return n > 3 && strcmp(file + n - 3, ".la") == 0 && judge_la(file, why, len);
}
