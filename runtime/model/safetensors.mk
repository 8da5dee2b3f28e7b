# safetensors: build rules (sources added to libtrit, tests, fuzz target).

runtime_libtrit_la_SOURCES += runtime/model/safetensors.c
check_PROGRAMS += tests/check_safetensors
TESTS += tests/check_safetensors
tests_check_safetensors_SOURCES = tests/check_safetensors.c
tests_check_safetensors_CFLAGS = $(TEST_CFLAGS) $(CJSON_CFLAGS)
tests_check_safetensors_LDADD = $(TEST_LIBS) $(CJSON_LIBS)
