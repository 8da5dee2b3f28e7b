# genmodel: the model-file generator (always built: other suites and the
# fuzz corpora use its fixtures), the shape table's Check suite, and the
# cross-check of its GGUF files against an independent reader.

noinst_PROGRAMS += tests/trit-genmodel
tests_trit_genmodel_SOURCES = tests/genmodel.c tests/genweights.c tests/genweights.h \
	tests/shapes.c tests/shapes.h
tests_trit_genmodel_LDADD = runtime/libtrit-internal.la

check_PROGRAMS += tests/check_shapes
TESTS += tests/check_shapes tests/gguf-crosscheck.sh
tests_check_shapes_SOURCES = tests/check_shapes.c tests/shapes.c tests/shapes.h
tests_check_shapes_CFLAGS = $(TEST_CFLAGS) $(CJSON_CFLAGS)
tests_check_shapes_LDADD = $(TEST_LIBS) $(CJSON_LIBS)
# the files suite runs the generator
EXTRA_tests_check_shapes_DEPENDENCIES = tests/trit-genmodel

EXTRA_DIST += tests/gguf-crosscheck.sh tests/gguf-crosscheck.mjs

# Model analysis end to end: generated files of every shape read back.
check_PROGRAMS += tests/check_model
TESTS += tests/check_model
tests_check_model_SOURCES = tests/check_model.c tests/shapes.c tests/shapes.h
tests_check_model_CFLAGS = $(TEST_CFLAGS)
tests_check_model_LDADD = $(TEST_LIBS)

# One rank's memory under tensor, pipeline and expert parallelism.
check_PROGRAMS += tests/check_parallel
TESTS += tests/check_parallel
tests_check_parallel_SOURCES = tests/check_parallel.c
tests_check_parallel_CFLAGS = $(TEST_CFLAGS)
tests_check_parallel_LDADD = $(TEST_LIBS)
EXTRA_tests_check_parallel_DEPENDENCIES = tests/trit-genmodel
# Cluster inventories and the deployment search over them.
check_PROGRAMS += tests/check_cluster
TESTS += tests/check_cluster
tests_check_cluster_SOURCES = tests/check_cluster.c
tests_check_cluster_CFLAGS = $(TEST_CFLAGS)
tests_check_cluster_LDADD = $(TEST_LIBS) -lm
EXTRA_tests_check_cluster_DEPENDENCIES = tests/trit-genmodel
# The same through trit plan --tp/--pp/--ep on docs/machines.
TESTS += tests/parallel.sh
EXTRA_DIST += tests/parallel.sh

# The estimator's arithmetic and the planner's choices on simulated machines.
check_PROGRAMS += tests/check_plan
TESTS += tests/check_plan
tests_check_plan_SOURCES = tests/check_plan.c
tests_check_plan_CFLAGS = $(TEST_CFLAGS)
tests_check_plan_LDADD = $(TEST_LIBS)

# The default model the README's first command plans for: a file with the
# exact layout, tensor types and sizes of BitNet-b1.58-2B-4T in I2_S, written
# sparse (its weights are zeros and take no disk; planning never reads them).
noinst_DATA = models/bitnet-b1.58-2B-4T-I2_S.gguf
models/bitnet-b1.58-2B-4T-I2_S.gguf: tests/trit-genmodel$(EXEEXT)
	@$(MKDIR_P) models
	$(AM_V_GEN)$(top_builddir)/tests/trit-genmodel --shape BitNet-b1.58-2B-4T --format gguf \
		--type I2_S --vocab-strings -o $@ >/dev/null
CLEANFILES += models/bitnet-b1.58-2B-4T-I2_S.gguf
