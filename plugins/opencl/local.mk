# opencl: OpenCL devices through the ICD loader, with the ternary kernels.
# The backend is a convenience library that both the module and its Check
# suite link; the module adds only the entry point (plugin.c) and exports
# nothing else. ternary.cl and ops.cl are embedded as C strings at build time.

EXTRA_DIST += plugins/opencl/ternary.cl plugins/opencl/ops.cl plugins/opencl/embed.awk plugins/opencl/README.md \
	plugins/opencl/probe-cache.sh

if BUILD_OPENCL
noinst_LTLIBRARIES += plugins/opencl/libopencl_core.la
plugins_opencl_libopencl_core_la_SOURCES = \
	plugins/opencl/ocl.h \
	plugins/opencl/util.c \
	plugins/opencl/options.c \
	plugins/opencl/probe.c \
	plugins/opencl/desc.c \
	plugins/opencl/program.c \
	plugins/opencl/kernels.c \
	plugins/opencl/graph.c \
	plugins/opencl/opstest.c \
	plugins/opencl/backend.c
nodist_plugins_opencl_libopencl_core_la_SOURCES = plugins/opencl/ternary_cl.c \
	plugins/opencl/ops_cl.c
plugins_opencl_libopencl_core_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/plugins/opencl $(OPENCL_CFLAGS)
plugins_opencl_libopencl_core_la_CFLAGS = $(AM_CFLAGS) -pthread
plugins_opencl_libopencl_core_la_LIBADD = plugins/common/libcpu_common.la $(OPENCL_LIBS) \
	$(PTHREAD_LIBS)

plugins/opencl/ternary_cl.c: $(srcdir)/plugins/opencl/ternary.cl $(srcdir)/plugins/opencl/embed.awk
	$(AM_V_GEN)$(MKDIR_P) plugins/opencl && \
	$(AWK) -f $(srcdir)/plugins/opencl/embed.awk $(srcdir)/plugins/opencl/ternary.cl >$@.tmp && \
	mv $@.tmp $@
plugins/opencl/ops_cl.c: $(srcdir)/plugins/opencl/ops.cl $(srcdir)/plugins/opencl/embed.awk
	$(AM_V_GEN)$(MKDIR_P) plugins/opencl && \
	$(AWK) -v name=ops -f $(srcdir)/plugins/opencl/embed.awk $(srcdir)/plugins/opencl/ops.cl >$@.tmp && \
	mv $@.tmp $@
CLEANFILES += plugins/opencl/ternary_cl.c plugins/opencl/ops_cl.c

pkglib_LTLIBRARIES += plugins/opencl/opencl.la
plugins_opencl_opencl_la_SOURCES = plugins/opencl/plugin.c
plugins_opencl_opencl_la_CPPFLAGS = $(AM_CPPFLAGS) $(OPENCL_CFLAGS)
plugins_opencl_opencl_la_LIBADD = plugins/opencl/libopencl_core.la
plugins_opencl_opencl_la_LDFLAGS = -module -avoid-version -no-undefined \
	-export-symbols-regex '^opencl_LTX_trit_backend_entry$$'

# The suite compiles plugin.c too, to call the entry point as the runtime
# would, and links libtrit for the packer and the scalar reference kernels.
check_PROGRAMS += plugins/opencl/check_opencl
plugins_opencl_check_opencl_SOURCES = \
	plugins/opencl/check_opencl.c plugins/opencl/plugin.c
plugins_opencl_check_opencl_CPPFLAGS = $(AM_CPPFLAGS) $(OPENCL_CFLAGS)
plugins_opencl_check_opencl_CFLAGS = $(TEST_CFLAGS) -pthread
plugins_opencl_check_opencl_LDADD = plugins/opencl/libopencl_core.la $(TEST_LIBS) \
	$(OPENCL_LIBS) $(PTHREAD_LIBS) -lm
TESTS += plugins/opencl/check_opencl
# The probe cache end to end, through the runtime (`trit devices`).
TESTS += plugins/opencl/probe-cache.sh
endif
