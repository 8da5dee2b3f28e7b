# Benchmarks: `make bench`. Each reports its numbers as a ratio against a
# baseline measured in the same run; none of them is a test.

EXTRA_PROGRAMS = tests/bench_model
tests_bench_model_SOURCES = tests/bench_model.c
tests_bench_model_LDADD = runtime/libtrit-internal.la
CLEANFILES += tests/bench_model

bench: tests/bench_model tests/trit-genmodel trit$(EXEEXT)
	@dir=$$(mktemp -d "$${TMPDIR:-/tmp}/trit-bench-XXXXXX") && \
	trap 'rm -rf "$$dir"' EXIT && \
	for shape in Llama-3.2-1B Llama-3.1-8B; do \
		$(top_builddir)/tests/trit-genmodel --shape $$shape --format gguf --type Q4_0 --vocab-strings \
			-o "$$dir/$$shape-q4_0.gguf" >/dev/null || exit 1; \
		echo "== $$shape Q4_0: analysis (< 5 ms, < 10 MiB extra) and planning (< 20 ms)"; \
		$(top_builddir)/libtool --mode=execute $(top_builddir)/tests/bench_model \
			"$$dir/$$shape-q4_0.gguf" 50 || exit 1; \
	done; \
	echo "== trit bench --full: every device's ternary kernels against a streaming read (docs/bench.md)"; \
	$(top_builddir)/trit bench --full --no-cache

.PHONY: bench

# `make fuzz`: every fuzz target for a million executions (the gguf fragment
# declares fuzz: fuzz-gguf; prerequisites of one target add up).
fuzz: fuzz-safetensors

# `trit bench` and its cache, end to end (tests/bench-cli.sh), on a test
# backend whose simulated CPU runs the ternary kernels with known memory, so
# the planner uses its measurements.
check_LTLIBRARIES += tests/benchplug/test_ternary.la
tests_benchplug_test_ternary_la_SOURCES = tests/benchplug/test_ternary.c
tests_benchplug_test_ternary_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_benchplug_test_ternary_la_LIBADD = $(LIBS)
TESTS += tests/bench-cli.sh
EXTRA_DIST += tests/bench-cli.sh
