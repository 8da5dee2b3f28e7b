# cpu_avx2: the x86-64 CPU backend plugin.
# The probes are a convenience library that both the module and its Check
# suite link, so the suite calls them directly; the module adds only the
# entry point (plugin.c) and exports nothing else.

if BUILD_CPU_AVX2
noinst_LTLIBRARIES += plugins/cpu_avx2/libcpu_avx2_probe.la
plugins_cpu_avx2_libcpu_avx2_probe_la_SOURCES = \
	plugins/cpu_avx2/probe.h \
	plugins/cpu_avx2/features.c \
	plugins/common/topology.c \
	plugins/cpu_avx2/options.c \
	plugins/cpu_avx2/backend.c
plugins_cpu_avx2_libcpu_avx2_probe_la_CFLAGS = $(AM_CFLAGS) $(HWLOC_CFLAGS) -pthread
plugins_cpu_avx2_libcpu_avx2_probe_la_LIBADD = plugins/common/libcpu_common.la \
	$(HWLOC_LIBS) $(PTHREAD_LIBS)

pkglib_LTLIBRARIES += plugins/cpu_avx2/cpu_avx2.la
plugins_cpu_avx2_cpu_avx2_la_SOURCES = plugins/cpu_avx2/plugin.c
plugins_cpu_avx2_cpu_avx2_la_LIBADD = plugins/cpu_avx2/libcpu_avx2_probe.la
plugins_cpu_avx2_cpu_avx2_la_LDFLAGS = -module -avoid-version -no-undefined \
	-export-symbols-regex '^cpu_avx2_LTX_trit_backend_entry$$'

# The suite compiles plugin.c too, to call the entry point as the runtime would.
check_PROGRAMS += plugins/cpu_avx2/check_cpu_avx2
plugins_cpu_avx2_check_cpu_avx2_SOURCES = \
	plugins/cpu_avx2/check_cpu_avx2.c plugins/cpu_avx2/plugin.c
plugins_cpu_avx2_check_cpu_avx2_CFLAGS = $(TEST_CFLAGS) $(HWLOC_CFLAGS) -pthread
plugins_cpu_avx2_check_cpu_avx2_LDADD = plugins/cpu_avx2/libcpu_avx2_probe.la \
	$(CHECK_LIBS) $(HWLOC_LIBS) $(PTHREAD_LIBS)
TESTS += plugins/cpu_avx2/check_cpu_avx2
endif
