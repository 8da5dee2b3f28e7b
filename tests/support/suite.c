/*
 * suite.c - a suite's main loop: run every case, report through Check's
 * CK_* environment (TAP under make check), exit status by failures. The
 * cases and their fixtures stay in each suite.
 */
#include <build-config.h>

#include <stdlib.h>

#include "support.h"

int test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
