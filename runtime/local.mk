# libtrit (the runtime modules) and the trit CLI.
#
# The modules are built once, as a convenience library that the Check suites,
# the plugins' suites and the test programs link (they test internals).
# libtrit.so is that library with only the public API exported: the functions
# the installed headers declare, listed by sdk/public-symbols.sh
# (tests/exports.sh checks the result).

noinst_LTLIBRARIES += runtime/libtrit-internal.la
runtime_libtrit_internal_la_SOURCES = \
	runtime/core/common.c runtime/core/common.h \
	runtime/core/textsafe.c runtime/core/textsafe.h \
	runtime/core/log.c runtime/core/log.h \
	runtime/core/caps.c runtime/core/caps.h \
	runtime/core/proc.c runtime/core/proc.h \
	runtime/core/safeopen.c runtime/core/safeopen.h \
	runtime/core/cachefile.c runtime/core/cachefile.h \
	runtime/core/strmap.c runtime/core/strmap.h \
	runtime/config/inifile.c runtime/config/inifile.h \
	runtime/config/config.c runtime/config/config.h \
	runtime/config/config_index.c runtime/config/config_index.h \
	runtime/backend/registry.c runtime/backend/registry.h \
	runtime/backend/adopt.c runtime/backend/adopt.h \
	runtime/backend/plugin_guard.c runtime/backend/plugin_guard.h \
	runtime/backend/plugin_trust.c runtime/backend/plugin_trust.h \
	runtime/backend/plugin_probe.c runtime/backend/plugin_probe.h \
	runtime/backend/probe_cache.c runtime/backend/probe_cache.h \
	runtime/backend/ref.c runtime/backend/ref.h \
	runtime/backend/ref_node.c runtime/backend/ref_node.h \
	runtime/backend/ref_ops.c runtime/backend/ref_move.c \
	runtime/backend/ref_attention.c runtime/backend/ref_matmul.c \
	runtime/backend/described.c runtime/backend/described.h \
	runtime/exec/tensor.c runtime/exec/tensor.h \
	runtime/exec/sched.c runtime/exec/sched.h \
	runtime/formats/ternary.c runtime/formats/ternary.h \
	runtime/report/report.c runtime/report/report.h \
	runtime/model/ggml_types.c runtime/model/ggml_types.h \
	runtime/model/names.c runtime/model/names.h \
	runtime/model/model.c runtime/model/model.h runtime/model/hparams.h \
	runtime/model/validate.c runtime/model/validate.h \
	runtime/plan/estimate.c runtime/plan/estimate.h \
	runtime/plan/parallel.c runtime/plan/parallel.h \
	runtime/plan/pplan.c runtime/plan/pplan.h \
	runtime/plan/cluster.c runtime/plan/cluster.h \
	runtime/plan/cplan.c runtime/plan/cplan.h \
	runtime/plan/emit.c runtime/plan/emit.h \
	runtime/plan/llamacpp.c runtime/plan/llamacpp.h \
	runtime/plan/plan.c runtime/plan/plan.h \
	runtime/bench/bench.c runtime/bench/bench.h \
	runtime/api/api.h runtime/api/api_runtime.c runtime/api/api_plan.c runtime/api/api_bench.c runtime/api/api_run.c \
	runtime/api/api_perplexity.c runtime/api/api_parallel.c
# TRIT_BUILDDIR lets an uninstalled trit find the plugins of its own build tree.
runtime_libtrit_internal_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTRIT_PKGLIBDIR='"$(pkglibdir)"' -DTRIT_BUILDDIR='"$(abs_top_builddir)"'
runtime_libtrit_internal_la_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(CJSON_CFLAGS)
runtime_libtrit_internal_la_LIBADD = $(LTDL_LIBS) $(INIH_LIBS) $(CJSON_LIBS) $(PTHREAD_LIBS) \
	$(LIBS)

lib_LTLIBRARIES += runtime/libtrit.la
runtime_libtrit_la_SOURCES =
runtime_libtrit_la_LIBADD = runtime/libtrit-internal.la
runtime_libtrit_la_LDFLAGS = -version-info $(LIBTRIT_LT_VERSION) \
	-export-symbols runtime/libtrit.sym -no-undefined
EXTRA_runtime_libtrit_la_DEPENDENCIES = runtime/libtrit.sym
runtime/libtrit.sym: $(tritinclude_HEADERS) $(srcdir)/sdk/public-symbols.sh
	@$(MKDIR_P) runtime
	$(AM_V_GEN)$(SHELL) $(srcdir)/sdk/public-symbols.sh \
		`for h in $(tritinclude_HEADERS); do echo $(srcdir)/$$h; done` > $@.tmp && \
	test -s $@.tmp && mv $@.tmp $@
CLEANFILES += runtime/libtrit.sym runtime/libtrit.sym.tmp
EXTRA_DIST += sdk/public-symbols.sh

# The CLI is a client of the public API: its include path holds the SDK's
# headers and its own, not the runtime's, and it links libtrit.so.
bin_PROGRAMS += trit
trit_SOURCES = runtime/cli/cli.h runtime/cli/cli.c runtime/cli/main.c runtime/cli/input.c \
	runtime/cli/cmd_devices.c runtime/cli/cmd_inspect.c runtime/cli/cmd_plan.c \
	runtime/cli/cmd_bench.c runtime/cli/cmd_config.c runtime/cli/cmd_tokenize.c runtime/cli/cmd_run.c \
	runtime/cli/cmd_convert.c
trit_SOURCES += runtime/cli/cmd_perplexity.c
trit_CPPFLAGS = -I$(top_srcdir)/sdk/include -I$(top_builddir)
trit_LDADD = runtime/libtrit.la

# The model readers keep their rules (library sources, suites, fuzz targets)
# in fragments of their own.
include $(srcdir)/runtime/model/gguf.mk
include $(srcdir)/runtime/model/safetensors.mk
include $(srcdir)/runtime/report/local.mk
include $(srcdir)/runtime/text/local.mk
include $(srcdir)/runtime/convert/local.mk
include $(srcdir)/runtime/graph/local.mk
include $(srcdir)/runtime/exec/forward.mk
include $(srcdir)/runtime/load/local.mk
