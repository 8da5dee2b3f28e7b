/*
 * models.c - model files for the suites that read them, written by
 * trit-genmodel from the build tree ($top_builddir, "." without it). Which
 * shapes and where the files go is left to each suite.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "support.h"

int test_genmodel(const char *args)
{
	const char *top = getenv("top_builddir");
	char cmd[8192];
	int rc;

	snprintf(cmd, sizeof cmd, "'%s/tests/trit-genmodel' %s", top ? top : ".", args);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void test_genmodel_file(const char *shape, const char *format, const char *type,
                        const char *out)
{
	char args[2048];
	const char *opt = strcmp(format, "gguf") == 0 ? "--type " : "--dtype ";

	ck_assert_msg(getenv("top_builddir") != NULL,
	              "top_builddir is not set (run through make check)");
	ck_assert_msg(snprintf(args, sizeof args, "--shape '%s' --format %s %s%s -o '%s' >/dev/null",
	                       shape, format, type ? opt : "", type ? type : "", out)
	                      < (int)sizeof args, "trit-genmodel arguments too long for %s", out);
	ck_assert_msg(test_genmodel(args) == 0, "failed: trit-genmodel %s", args);
}
