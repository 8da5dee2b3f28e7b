# Benchmarks: `make bench`. Each reports its numbers as a ratio against a
# baseline measured in the same run; none of them is a test.

EXTRA_PROGRAMS = tests/bench_model
tests_bench_model_SOURCES = tests/bench_model.c
tests_bench_model_LDADD = runtime/libtrit.la
CLEANFILES += tests/bench_model

bench: tests/bench_model tests/trit-genmodel
	@dir=$$(mktemp -d "$${TMPDIR:-/tmp}/trit-bench-XXXXXX") && \
	trap 'rm -rf "$$dir"' EXIT && \
	$(top_builddir)/tests/trit-genmodel --shape Llama-3.2-1B --format gguf --type Q4_0 --vocab-strings \
		-o "$$dir/llama-3.2-1b-q4_0.gguf" >/dev/null && \
	echo "== model analysis (issue: < 5 ms, < 10 MiB extra)" && \
	$(top_builddir)/libtool --mode=execute $(top_builddir)/tests/bench_model \
		"$$dir/llama-3.2-1b-q4_0.gguf" 50

.PHONY: bench

# `make fuzz`: every fuzz target for a million executions (the gguf fragment
# declares fuzz: fuzz-gguf; prerequisites of one target add up).
fuzz: fuzz-safetensors
