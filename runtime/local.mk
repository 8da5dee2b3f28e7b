# libtrit (the runtime modules) and the trit CLI.

lib_LTLIBRARIES += runtime/libtrit.la
runtime_libtrit_la_SOURCES = \
	runtime/common.c runtime/common.h \
	runtime/log.c runtime/log.h \
	runtime/inifile.c runtime/inifile.h \
	runtime/config.c runtime/config.h \
	runtime/registry.c runtime/registry.h \
	runtime/adopt.c runtime/adopt.h \
	runtime/exec/tensor.c runtime/exec/tensor.h \
	runtime/exec/sched.c runtime/exec/sched.h \
	runtime/ternary.c runtime/ternary.h \
	runtime/backends/ref.c runtime/backends/ref.h \
	runtime/backends/ref_node.c runtime/backends/ref_node.h \
	runtime/backends/ref_ops.c runtime/backends/ref_move.c \
	runtime/backends/ref_attention.c runtime/backends/ref_matmul.c \
	runtime/backends/described.c runtime/backends/described.h \
	runtime/report.c runtime/report.h \
	runtime/model/ggml_types.c runtime/model/ggml_types.h \
	runtime/model/names.c runtime/model/names.h \
	runtime/model/model.c runtime/model/model.h \
	runtime/estimate.c runtime/estimate.h \
	runtime/plan.c runtime/plan.h \
	runtime/bench.c runtime/bench.h
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
