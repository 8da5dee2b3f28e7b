# plugins/common: the probes the CPU backend plugins share (cpu_avx2,
# cpu_neon) and the thread team their kernels run on, as a convenience
# library each plugin's probe library links.
# topology.c needs hwloc, so it is not in here: a plugin lists it among its
# own sources when it has hwloc, or uses topology_sysfs.c (in here) instead.

CPU_COMMON_SRCS = \
	plugins/common/cpu_common.h \
	plugins/common/util.c \
	plugins/common/parse.c \
	plugins/common/cgroup.c \
	plugins/common/memory.c \
	plugins/common/threads.c \
	plugins/common/bandwidth.c \
	plugins/common/topology_sysfs.c \
	plugins/common/threadpool.c \
	plugins/common/ops.h \
	plugins/common/ops_internal.h \
	plugins/common/ops.c \
	plugins/common/ops_elem.c \
	plugins/common/ops_matmul.c \
	plugins/common/ops_attn.c \
	plugins/common/ops_kern.c \
	plugins/common/ops_device.c

if BUILD_CPU_COMMON
noinst_LTLIBRARIES += plugins/common/libcpu_common.la
plugins_common_libcpu_common_la_SOURCES = $(CPU_COMMON_SRCS)
plugins_common_libcpu_common_la_CFLAGS = $(AM_CFLAGS) -pthread
plugins_common_libcpu_common_la_LIBADD = $(PTHREAD_LIBS) -lm

# What cpu_avx2's suite does not cover already: the sysfs topology, the
# thread team, the parsers. Built wherever the library is.
check_PROGRAMS += plugins/common/check_cpu_common
plugins_common_check_cpu_common_SOURCES = plugins/common/check_cpu_common.c
plugins_common_check_cpu_common_CFLAGS = $(TEST_CFLAGS) -pthread
plugins_common_check_cpu_common_LDADD = plugins/common/libcpu_common.la $(CHECK_LIBS) \
	$(PTHREAD_LIBS)
TESTS += plugins/common/check_cpu_common
endif
