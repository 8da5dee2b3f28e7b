# The planner's reason codes, their sentences, and the text and JSON plan
# reports made from one model.
check_PROGRAMS += tests/check_plan_reasons
TESTS += tests/check_plan_reasons
tests_check_plan_reasons_SOURCES = tests/check_plan_reasons.c
tests_check_plan_reasons_CFLAGS = $(TEST_CFLAGS) $(CJSON_CFLAGS)
tests_check_plan_reasons_LDADD = $(TEST_LIBS) $(CJSON_LIBS)
