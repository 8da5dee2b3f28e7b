# cpu_avx2: the x86-64 CPU backend plugin.
# The probes, buffers and matmul driver are a convenience library that both
# the module and its Check suites link, so the suites call them directly; the
# module adds only the entry point (plugin.c) and exports nothing else.
# The kernels are convenience libraries of their own, one per instruction
# set, because each source needs its own -m flags; nothing else in the plugin
# is compiled with them, so it loads (and refuses cleanly) on any x86-64 CPU.

EXTRA_DIST += plugins/cpu_avx2/README.md

if BUILD_CPU_AVX2
noinst_LTLIBRARIES += plugins/cpu_avx2/libcpu_avx2_kavx2.la
plugins_cpu_avx2_libcpu_avx2_kavx2_la_SOURCES = plugins/cpu_avx2/kern_avx2.c \
	plugins/cpu_avx2/kern_tables.h plugins/cpu_avx2/kernels.h
plugins_cpu_avx2_libcpu_avx2_kavx2_la_CFLAGS = $(AM_CFLAGS) -mavx2 -mfma
# The graph ops' loops use F16C too; cpu_avx2_ops_select checks all three.
noinst_LTLIBRARIES += plugins/cpu_avx2/libcpu_avx2_kops.la
plugins_cpu_avx2_libcpu_avx2_kops_la_SOURCES = plugins/cpu_avx2/kern_ops_avx2.c
plugins_cpu_avx2_libcpu_avx2_kops_la_CFLAGS = $(AM_CFLAGS) -mavx2 -mfma -mf16c
cpu_avx2_ops_libs = plugins/cpu_avx2/libcpu_avx2_kops.la
cpu_avx2_kernel_libs = plugins/cpu_avx2/libcpu_avx2_kavx2.la

if CPU_AVX2_AVX512
noinst_LTLIBRARIES += plugins/cpu_avx2/libcpu_avx2_k512bw.la \
	plugins/cpu_avx2/libcpu_avx2_k512vnni.la
plugins_cpu_avx2_libcpu_avx2_k512bw_la_SOURCES = plugins/cpu_avx2/kern_avx512.c
plugins_cpu_avx2_libcpu_avx2_k512bw_la_CFLAGS = $(AM_CFLAGS) -mavx2 -mfma \
	-mavx512f -mavx512bw
plugins_cpu_avx2_libcpu_avx2_k512vnni_la_SOURCES = plugins/cpu_avx2/kern_avx512.c
plugins_cpu_avx2_libcpu_avx2_k512vnni_la_CFLAGS = $(AM_CFLAGS) -mavx2 -mfma \
	-mavx512f -mavx512bw -mavx512vnni -DKERN_VNNI
cpu_avx2_kernel_libs += plugins/cpu_avx2/libcpu_avx2_k512bw.la \
	plugins/cpu_avx2/libcpu_avx2_k512vnni.la
endif

noinst_LTLIBRARIES += plugins/cpu_avx2/libcpu_avx2_probe.la
plugins_cpu_avx2_libcpu_avx2_probe_la_SOURCES = \
	plugins/cpu_avx2/probe.h \
	plugins/cpu_avx2/kernels.h \
	plugins/cpu_avx2/features.c \
	plugins/common/topology.c \
	plugins/cpu_avx2/options.c \
	plugins/cpu_avx2/pool.c \
	plugins/cpu_avx2/matmul.c \
	plugins/cpu_avx2/choose.c \
	plugins/cpu_avx2/peak.c \
	plugins/cpu_avx2/graph.c \
	plugins/cpu_avx2/backend.c
plugins_cpu_avx2_libcpu_avx2_probe_la_CFLAGS = $(AM_CFLAGS) $(HWLOC_CFLAGS) -pthread
plugins_cpu_avx2_libcpu_avx2_probe_la_LIBADD = $(cpu_avx2_kernel_libs) $(cpu_avx2_ops_libs) \
	plugins/common/libcpu_common.la $(HWLOC_LIBS) $(PTHREAD_LIBS) -lm

pkglib_LTLIBRARIES += plugins/cpu_avx2/cpu_avx2.la
plugins_cpu_avx2_cpu_avx2_la_SOURCES = plugins/cpu_avx2/plugin.c
plugins_cpu_avx2_cpu_avx2_la_LIBADD = plugins/cpu_avx2/libcpu_avx2_probe.la
plugins_cpu_avx2_cpu_avx2_la_LDFLAGS = -module -avoid-version -no-undefined \
	-export-symbols-regex '^cpu_avx2_LTX_trit_backend_entry$$'

# The suites compile plugin.c too, to call the entry point as the runtime would.
check_PROGRAMS += plugins/cpu_avx2/check_cpu_avx2
plugins_cpu_avx2_check_cpu_avx2_SOURCES = \
	plugins/cpu_avx2/check_cpu_avx2.c plugins/cpu_avx2/plugin.c
plugins_cpu_avx2_check_cpu_avx2_CFLAGS = $(TEST_CFLAGS) $(HWLOC_CFLAGS) -pthread
plugins_cpu_avx2_check_cpu_avx2_LDADD = plugins/cpu_avx2/libcpu_avx2_probe.la \
	tests/support/libtestsupport.la $(CHECK_LIBS) $(HWLOC_LIBS) $(PTHREAD_LIBS)
TESTS += plugins/cpu_avx2/check_cpu_avx2

# The ABI v2 graph ops (plugins/common/opcheck.c's cases) through the table.
check_PROGRAMS += plugins/cpu_avx2/check_cpu_avx2_ops
plugins_cpu_avx2_check_cpu_avx2_ops_SOURCES = plugins/cpu_avx2/check_cpu_avx2_ops.c \
	plugins/cpu_avx2/plugin.c plugins/common/opcheck.c plugins/common/opcheck.h
plugins_cpu_avx2_check_cpu_avx2_ops_CFLAGS = $(TEST_CFLAGS) -pthread
plugins_cpu_avx2_check_cpu_avx2_ops_LDADD = plugins/cpu_avx2/libcpu_avx2_probe.la \
	$(TEST_LIBS) $(HWLOC_LIBS) $(PTHREAD_LIBS) -lm
TESTS += plugins/cpu_avx2/check_cpu_avx2_ops

# The kernels against the reference (libtrit's trit_ref_matmul_*): one
# source, three programs. _kernels: what this CPU runs, through the plugin
# table. _avx512: the native AVX-512 kernels (a TAP skip on CPUs without).
# _avx512_emu: the AVX-512 kernels built against SIMDe's emulation of the
# intrinsics, so their logic runs on any AVX2 CPU (a skip without SIMDe).
cpu_avx2_kernel_check_sources = \
	plugins/cpu_avx2/check_cpu_avx2_kernels.c plugins/cpu_avx2/plugin.c
cpu_avx2_kernel_check_ldadd = plugins/cpu_avx2/libcpu_avx2_probe.la \
	$(TEST_LIBS) $(HWLOC_LIBS) $(PTHREAD_LIBS) -lm
check_PROGRAMS += plugins/cpu_avx2/check_cpu_avx2_kernels \
	plugins/cpu_avx2/check_cpu_avx2_avx512 plugins/cpu_avx2/check_cpu_avx2_avx512_emu
TESTS += plugins/cpu_avx2/check_cpu_avx2_kernels \
	plugins/cpu_avx2/check_cpu_avx2_avx512 plugins/cpu_avx2/check_cpu_avx2_avx512_emu
plugins_cpu_avx2_check_cpu_avx2_kernels_SOURCES = $(cpu_avx2_kernel_check_sources)
plugins_cpu_avx2_check_cpu_avx2_kernels_CFLAGS = $(TEST_CFLAGS) -pthread -DKERNELS_MODE=0
plugins_cpu_avx2_check_cpu_avx2_kernels_LDADD = $(cpu_avx2_kernel_check_ldadd)
plugins_cpu_avx2_check_cpu_avx2_avx512_SOURCES = $(cpu_avx2_kernel_check_sources)
plugins_cpu_avx2_check_cpu_avx2_avx512_CFLAGS = $(TEST_CFLAGS) -pthread -DKERNELS_MODE=1
plugins_cpu_avx2_check_cpu_avx2_avx512_LDADD = $(cpu_avx2_kernel_check_ldadd)
plugins_cpu_avx2_check_cpu_avx2_avx512_emu_SOURCES = $(cpu_avx2_kernel_check_sources)
plugins_cpu_avx2_check_cpu_avx2_avx512_emu_CFLAGS = $(TEST_CFLAGS) -pthread -DKERNELS_MODE=2
plugins_cpu_avx2_check_cpu_avx2_avx512_emu_LDADD = $(cpu_avx2_kernel_check_ldadd)

if CPU_AVX2_SIMDE
check_LTLIBRARIES += plugins/cpu_avx2/libcpu_avx2_k512bw_emu.la \
	plugins/cpu_avx2/libcpu_avx2_k512vnni_emu.la
plugins_cpu_avx2_libcpu_avx2_k512bw_emu_la_SOURCES = plugins/cpu_avx2/kern_avx512.c
# -Wno-psabi: clang warns that SIMDe's 512-bit values passed between its
# (inline) functions would use another ABI with AVX-512 enabled.
plugins_cpu_avx2_libcpu_avx2_k512bw_emu_la_CFLAGS = $(AM_CFLAGS) -mavx2 -mfma \
	-Wno-psabi -DCPU_AVX2_EMULATE
plugins_cpu_avx2_libcpu_avx2_k512vnni_emu_la_SOURCES = plugins/cpu_avx2/kern_avx512.c
plugins_cpu_avx2_libcpu_avx2_k512vnni_emu_la_CFLAGS = $(AM_CFLAGS) -mavx2 -mfma \
	-Wno-psabi -DCPU_AVX2_EMULATE -DKERN_VNNI
plugins_cpu_avx2_check_cpu_avx2_avx512_emu_CFLAGS += -DCPU_AVX2_HAVE_EMU
plugins_cpu_avx2_check_cpu_avx2_avx512_emu_LDADD += \
	plugins/cpu_avx2/libcpu_avx2_k512bw_emu.la plugins/cpu_avx2/libcpu_avx2_k512vnni_emu.la
endif
endif
EXTRA_DIST += plugins/cpu_avx2/README.md
