/*
 * core/cachefile.c - cache file paths and atomic replacement (cachefile.h).
 */
#include <build-config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
#include "core/cachefile.h"

int trit_cachefile_path(const char *what, const char *option, const char *option_name,
                        const char *configured, const char *configured_name, const char *name,
                        char *out, size_t len, const char **origin, char *err, size_t errlen)
{
	const char *xdg = trit_getenv("XDG_CACHE_HOME"), *home = trit_getenv("HOME"), *o;
	int n;

	if (option && *option) {
		n = snprintf(out, len, "%s", option);
		o = option_name;
	} else if (configured && *configured) {
		n = snprintf(out, len, "%s", configured);
		o = configured_name;
	} else if (xdg && xdg[0] == '/') {
		/* the XDG spec ignores a relative XDG_CACHE_HOME */
		n = snprintf(out, len, "%s/trit/%s", xdg, name);
		o = "$XDG_CACHE_HOME";
	} else if (home && *home) {
		n = snprintf(out, len, "%s/.cache/trit/%s", home, name);
		o = "$HOME/.cache";
	} else {
		return trit_errf(err, errlen, TRIT_ECONFIG, "no place for %s: HOME and XDG_CACHE_HOME "
		                 "are unset; give one with %s", what,
		                 option_name ? option_name : configured_name);
	}
	if (n < 0 || (size_t)n >= len)
		return trit_errf(err, errlen, TRIT_ERANGE, "the path of %s is too long", what);
	if (origin)
		*origin = o;
	return 0;
}

static int make_parents(const char *path, const char *what, char *err, size_t errlen)
{
	char dir[4096];
	char *slash;

	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
		return trit_errf(err, errlen, TRIT_EIO, "the path of %s is too long", what);
	if (!(slash = strrchr(dir, '/')) || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(dir, 0755) && errno != EEXIST)
				return trit_errf(err, errlen, TRIT_EIO, "cannot create %s for %s: %s", dir,
				                 what, strerror(errno));
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

int trit_cachefile_write(const char *path, const char *what, const char *text, char *err,
                         size_t errlen)
{
	char tmp[4200];
	FILE *f;
	int rc;

	if ((rc = make_parents(path, what, err, errlen)))
		return rc;
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return trit_errf(err, errlen, TRIT_EIO, "the path of %s is too long", what);
	if (!(f = fopen(tmp, "w")))
		return trit_errf(err, errlen, TRIT_EIO, "cannot write %s %s: %s", what, tmp,
		                 strerror(errno));
	rc = fputs(text, f) == EOF || fputc('\n', f) == EOF;
	if (fclose(f) || rc) {
		rc = trit_errf(err, errlen, TRIT_EIO, "cannot write %s %s: %s", what, tmp,
		               strerror(errno));
		remove(tmp);
		return rc;
	}
	if (rename(tmp, path)) {
		rc = trit_errf(err, errlen, TRIT_EIO, "cannot replace %s %s: %s", what, path,
		               strerror(errno));
		remove(tmp);
		return rc;
	}
	return 0;
}
