# cpu_neon: the aarch64 CPU backend plugin (built on aarch64 hosts only; on
# other hosts tests/cpu_neon_qemu.mk cross-compiles and emulates it).
# As in cpu_avx2, everything but the entry point is a convenience library
# that both the module and its Check suite link. The dot-product kernels are
# a library of their own because only they are compiled with
# -march=armv8.2-a+dotprod; the plugin calls them only on CPUs whose
# AT_HWCAP says they have the extension.

CPU_NEON_IMPL_SRCS = \
	plugins/cpu_neon/neon.h \
	plugins/cpu_neon/kernels_i2s.h \
	plugins/cpu_neon/features.c \
	plugins/cpu_neon/cpuname.c \
	plugins/cpu_neon/options.c \
	plugins/cpu_neon/kernels.c \
	plugins/cpu_neon/backend.c \
	plugins/cpu_neon/graph.c \
	plugins/cpu_neon/ops_neon.c
CPU_NEON_DOTPROD_SRCS = plugins/cpu_neon/kernels_dotprod.c
CPU_NEON_DOTPROD_FLAGS = -march=armv8.2-a+dotprod

if BUILD_CPU_NEON
noinst_LTLIBRARIES += plugins/cpu_neon/libcpu_neon_dotprod.la \
	plugins/cpu_neon/libcpu_neon_impl.la
plugins_cpu_neon_libcpu_neon_dotprod_la_SOURCES = $(CPU_NEON_DOTPROD_SRCS)
plugins_cpu_neon_libcpu_neon_dotprod_la_CFLAGS = $(AM_CFLAGS) $(CPU_NEON_DOTPROD_FLAGS)

plugins_cpu_neon_libcpu_neon_impl_la_SOURCES = $(CPU_NEON_IMPL_SRCS)
plugins_cpu_neon_libcpu_neon_impl_la_CFLAGS = $(AM_CFLAGS) -pthread
plugins_cpu_neon_libcpu_neon_impl_la_LIBADD = plugins/cpu_neon/libcpu_neon_dotprod.la \
	plugins/common/libcpu_common.la $(PTHREAD_LIBS)
if CPU_NEON_HWLOC
# With hwloc the topology comes from it; without, from sysfs.
plugins_cpu_neon_libcpu_neon_impl_la_SOURCES += plugins/common/topology.c
plugins_cpu_neon_libcpu_neon_impl_la_CFLAGS += $(NEON_HWLOC_CFLAGS) -DCPU_NEON_HWLOC=1
plugins_cpu_neon_libcpu_neon_impl_la_LIBADD += $(NEON_HWLOC_LIBS)
endif

pkglib_LTLIBRARIES += plugins/cpu_neon/cpu_neon.la
plugins_cpu_neon_cpu_neon_la_SOURCES = plugins/cpu_neon/plugin.c
plugins_cpu_neon_cpu_neon_la_LIBADD = plugins/cpu_neon/libcpu_neon_impl.la
plugins_cpu_neon_cpu_neon_la_LDFLAGS = -module -avoid-version -no-undefined \
	-export-symbols-regex '^cpu_neon_LTX_trit_backend_entry$$'

# The suite compiles plugin.c too, to call the entry point as the runtime
# would, and the checks it shares with the qemu test (kerncheck.c).
check_PROGRAMS += plugins/cpu_neon/check_cpu_neon
plugins_cpu_neon_check_cpu_neon_SOURCES = plugins/cpu_neon/check_cpu_neon.c \
	plugins/cpu_neon/plugin.c plugins/cpu_neon/kerncheck.c plugins/cpu_neon/kerncheck.h \
	plugins/common/opcheck.c plugins/common/opcheck.h
plugins_cpu_neon_check_cpu_neon_CFLAGS = $(TEST_CFLAGS) -pthread
plugins_cpu_neon_check_cpu_neon_LDADD = plugins/cpu_neon/libcpu_neon_impl.la \
	$(TEST_LIBS) $(PTHREAD_LIBS)
TESTS += plugins/cpu_neon/check_cpu_neon
endif

EXTRA_DIST += plugins/cpu_neon/README.md
