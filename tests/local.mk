# Tests: Check suites (one per module) and shell tests, all speaking TAP to
# automake's TAP driver. Check prints TAP when CK_TAP_LOG_FILE_NAME=- ; CK_FORK
# keeps one crashing case from hiding the others. CK_DEFAULT_TIMEOUT: Check's
# 4 s per case is a hang detector, not a speed test; an ASan build on two
# loaded cores ran a ternary packing case past it.

TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
#
# The CPU plugins measure memory bandwidth when they load, over a buffer of
# 4 x the L3 (at least 64 MiB): on a machine reporting a large L3 that is
# gigabytes written and read three times, in every `trit` the tests run (a
# 2-core VM with 2 x 508 MiB of L3 spent 16 s of CPU per `trit devices`). The
# tests set each plugin's bandwidth_bytes to 8 MiB through the environment,
# so the probe still runs, over the same code, on a small buffer; tests/cli.sh
# checks the default size rule without the variable. TRIT_PROBE_CACHE keeps
# the plugins' cached measurements in the build tree, never the user's
# ~/.cache (tests/probe-cache.sh checks the cache itself). cpu_avx2 times its
# kernel paths over 16 MiB instead of up to 256 MiB, for the same reason and
# so that a command that happens to take that measurement (once per run of
# the suite) stays within the tests' peak-RSS bounds.
TRIT_TEST_BANDWIDTH_ENV = \
	TRIT_PLUGIN_CPU_AVX2_BANDWIDTH_BYTES=8MiB TRIT_PLUGIN_CPU_NEON_BANDWIDTH_BYTES=8MiB \
	TRIT_PLUGIN_CPU_AVX2_CHOOSE_BYTES=16MiB
AM_TESTS_ENVIRONMENT = \
	CK_TAP_LOG_FILE_NAME=- CK_FORK=yes CK_VERBOSITY=silent CK_DEFAULT_TIMEOUT=120 \
	top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' \
	TRIT_TEST_PLUGIN_DIR='$(abs_top_builddir)/tests/plugins' $(TRIT_TEST_BANDWIDTH_ENV) \
	TRIT_TEST_SANITIZER='$(TRIT_SANITIZER)' \
	TRIT_PROBE_CACHE='$(abs_top_builddir)/tests/probe-cache.json'; \
	export CK_TAP_LOG_FILE_NAME CK_FORK CK_VERBOSITY CK_DEFAULT_TIMEOUT top_builddir top_srcdir TRIT_TEST_PLUGIN_DIR \
	TRIT_TEST_SANITIZER TRIT_PROBE_CACHE \
	TRIT_PLUGIN_CPU_AVX2_BANDWIDTH_BYTES TRIT_PLUGIN_CPU_NEON_BANDWIDTH_BYTES \
	TRIT_PLUGIN_CPU_AVX2_CHOOSE_BYTES;

TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
TEST_LIBS = tests/support/libtestsupport.la runtime/libtrit-internal.la $(CHECK_LIBS)

include $(srcdir)/tests/support/local.mk
include $(srcdir)/tests/config.mk
include $(srcdir)/tests/registry.mk
include $(srcdir)/tests/hostile.mk
include $(srcdir)/tests/described.mk
include $(srcdir)/tests/genmodel.mk
include $(srcdir)/tests/bench.mk
include $(srcdir)/tests/llamacpp.mk
include $(srcdir)/tests/refmodels.mk
include $(srcdir)/tests/ternary.mk
include $(srcdir)/tests/ref_ops.mk
include $(srcdir)/tests/cpu_neon_qemu.mk
include $(srcdir)/tests/conformance.mk
include $(srcdir)/tests/plan_reasons.mk
include $(srcdir)/tests/text.mk

TESTS += tests/cli.sh
EXTRA_DIST += tests/cli.sh tests/sdk-example.sh tests/tap.sh

# Every file-taking option given a FIFO, /dev/zero, a directory, a sparse file.
TESTS += tests/hostile-files.sh
EXTRA_DIST += tests/hostile-files.sh
tests/hostile-files.log: trit$(EXEEXT) tests/trit-genmodel$(EXEEXT)

# libtrit.so's exports against the public headers' declarations.
TESTS += tests/exports.sh
EXTRA_DIST += tests/exports.sh
tests/exports.log: runtime/libtrit.la

# Modules under runtime/ depend on each other one way only.
TESTS += tests/include-cycles.sh
EXTRA_DIST += tests/include-cycles.sh
include $(srcdir)/tests/tokenizer.mk
include $(srcdir)/tests/forward.mk
include $(srcdir)/tests/load.mk

# `trit run` end to end on small generated models.
TESTS += tests/run.sh
EXTRA_DIST += tests/run.sh
tests/run.log: trit tests/trit-genmodel$(EXEEXT) tests/trit-forward$(EXEEXT)
# `trit perplexity` and [planner] ternary_format end to end on a small model.
TESTS += tests/perplexity.sh
EXTRA_DIST += tests/perplexity.sh
tests/perplexity.log: trit tests/trit-genmodel$(EXEEXT) tests/trit-forward$(EXEEXT)
# The bundled trained model against PyTorch's figures (models/train/ref):
# tokenizer, F32 logits, perplexity of the F32, I2_S, TL1 and TL2 forms.
TESTS += tests/trained-model.sh
EXTRA_DIST += tests/trained-model.sh
tests/trained-model.log: trit tests/trit-forward$(EXEEXT)
include $(srcdir)/tests/replan.mk
include $(srcdir)/tests/convert.mk
include $(srcdir)/tests/plan-proof.mk
include $(srcdir)/tests/xval.mk
include $(srcdir)/tests/bitnetcpp-dist.mk
include $(srcdir)/tests/peers-dist.mk

# Text from files shown to people: terminal controls escaped (core/textsafe.c).
check_PROGRAMS += tests/check_textsafe
TESTS += tests/check_textsafe
tests_check_textsafe_SOURCES = tests/check_textsafe.c
tests_check_textsafe_CFLAGS = $(TEST_CFLAGS)
tests_check_textsafe_LDADD = $(TEST_LIBS)

# Hostile model files: text from them cannot drive the terminal; a million
# tensors inspected in memory bounded by the header (tests/mkgguf.py writes
# the files).
TESTS += tests/hostile-text.sh tests/inspect-many.sh
EXTRA_DIST += tests/hostile-text.sh tests/inspect-many.sh tests/mkgguf.py
tests/hostile-text.log: trit$(EXEEXT) tests/trit-genvocab$(EXEEXT)
tests/inspect-many.log: trit$(EXEEXT)

# The plugins' probe cache (runtime/backend/probe_cache.c).
check_PROGRAMS += tests/check_probe_cache
TESTS += tests/check_probe_cache
tests_check_probe_cache_SOURCES = tests/check_probe_cache.c
tests_check_probe_cache_CFLAGS = $(TEST_CFLAGS)
tests_check_probe_cache_LDADD = $(TEST_LIBS)
CLEANFILES += tests/probe-cache.json tests/probe-cache.json.lock
TESTS += tests/probe-cache.sh
EXTRA_DIST += tests/probe-cache.sh
tests/probe-cache.log: trit$(EXEEXT)

# What a command costs before its job (issue 14): under make check the peak
# RSS of trit plan and trit inspect on the default model (at most 50 MB);
# run alone it is the benchmark of wall time too (docs/plugins.md).
TESTS += tests/startup-cost.sh
EXTRA_DIST += tests/startup-cost.sh
tests/startup-cost.log: trit$(EXEEXT)
