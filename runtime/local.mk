# libtrit (the runtime modules) and the trit CLI.

lib_LTLIBRARIES += runtime/libtrit.la
runtime_libtrit_la_SOURCES = \
	runtime/core/common.c runtime/core/common.h \
	runtime/core/log.c runtime/core/log.h \
	runtime/config/inifile.c runtime/config/inifile.h \
	runtime/config/config.c runtime/config/config.h \
	runtime/backend/registry.c runtime/backend/registry.h \
	runtime/backend/adopt.c runtime/backend/adopt.h \
	runtime/exec/tensor.c runtime/exec/tensor.h \
	runtime/exec/sched.c runtime/exec/sched.h \
	runtime/formats/ternary.c runtime/formats/ternary.h \
	runtime/backend/ref.c runtime/backend/ref.h \
	runtime/backend/ref_node.c runtime/backend/ref_node.h \
	runtime/backend/ref_ops.c runtime/backend/ref_move.c \
	runtime/backend/ref_attention.c runtime/backend/ref_matmul.c \
	runtime/backend/described.c runtime/backend/described.h \
	runtime/report/report.c runtime/report/report.h \
	runtime/model/ggml_types.c runtime/model/ggml_types.h \
	runtime/model/names.c runtime/model/names.h \
	runtime/model/model.c runtime/model/model.h \
	runtime/plan/estimate.c runtime/plan/estimate.h \
	runtime/plan/plan.c runtime/plan/plan.h \
	runtime/bench/bench.c runtime/bench/bench.h
# TRIT_BUILDDIR lets an uninstalled trit find the plugins of its own build tree.
runtime_libtrit_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTRIT_PKGLIBDIR='"$(pkglibdir)"' -DTRIT_BUILDDIR='"$(abs_top_builddir)"'
runtime_libtrit_la_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(CJSON_CFLAGS)
runtime_libtrit_la_LIBADD = $(LTDL_LIBS) $(INIH_LIBS) $(CJSON_LIBS) $(PTHREAD_LIBS) $(LIBS)
runtime_libtrit_la_LDFLAGS = -version-info $(LIBTRIT_LT_VERSION) \
	-export-symbols-regex '^trit_' -no-undefined

bin_PROGRAMS += trit
trit_SOURCES = runtime/cli/trit.c
trit_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
trit_LDADD = runtime/libtrit.la $(CJSON_LIBS)

# The model readers keep their rules (library sources, suites, fuzz targets)
# in fragments of their own.
include $(srcdir)/runtime/model/gguf.mk
include $(srcdir)/runtime/model/safetensors.mk
