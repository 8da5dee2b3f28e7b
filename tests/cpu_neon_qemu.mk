# The cpu_neon plugin on hosts that are not aarch64: configure found
# AARCH64_CC and QEMU_AARCH64 (NEON_CROSS), so `make check` cross-compiles
# the plugin's sources, the checks they share with the plugin's Check suite
# and the scalar reference into one static aarch64 program, and
# tests/cpu-neon-qemu.sh runs it on an emulated CPU with the dot-product
# extension and on one without. The Check suite itself, which needs the Check
# library for aarch64, is compiled with -fsyntax-only against the host's
# check.h. Only AARCH64_CC and these flags are used: the host's CC and
# CFLAGS (clang, sanitizers) are for the host.

NEON_QEMU_SRCS = \
	$(srcdir)/tests/cpu_neon_qemu.c \
	$(srcdir)/plugins/cpu_neon/kerncheck.c \
	$(srcdir)/plugins/cpu_neon/plugin.c \
	$(srcdir)/plugins/cpu_neon/backend.c \
	$(srcdir)/plugins/cpu_neon/graph.c \
	$(srcdir)/plugins/cpu_neon/ops_neon.c \
	$(srcdir)/plugins/cpu_neon/kernels.c \
	$(srcdir)/plugins/cpu_neon/features.c \
	$(srcdir)/plugins/cpu_neon/cpuname.c \
	$(srcdir)/plugins/cpu_neon/options.c \
	$(srcdir)/plugins/common/util.c \
	$(srcdir)/plugins/common/parse.c \
	$(srcdir)/plugins/common/cgroup.c \
	$(srcdir)/plugins/common/memory.c \
	$(srcdir)/plugins/common/threads.c \
	$(srcdir)/plugins/common/bandwidth.c \
	$(srcdir)/plugins/common/topology_sysfs.c \
	$(srcdir)/plugins/common/threadpool.c \
	$(srcdir)/plugins/common/ops.c \
	$(srcdir)/plugins/common/ops_elem.c \
	$(srcdir)/plugins/common/ops_matmul.c \
	$(srcdir)/plugins/common/ops_attn.c \
	$(srcdir)/plugins/common/ops_kern.c \
	$(srcdir)/plugins/common/opcheck.c \
	$(srcdir)/runtime/formats/ternary.c \
	$(srcdir)/runtime/core/common.c
NEON_QEMU_HDRS = \
	$(srcdir)/plugins/cpu_neon/neon.h \
	$(srcdir)/plugins/cpu_neon/kernels_i2s.h \
	$(srcdir)/plugins/cpu_neon/kerncheck.h \
	$(srcdir)/plugins/common/cpu_common.h \
	$(srcdir)/plugins/common/ops.h \
	$(srcdir)/plugins/common/ops_internal.h \
	$(srcdir)/plugins/common/opcheck.h \
	$(srcdir)/sdk/include/trit/quant.h \
	$(srcdir)/sdk/include/trit/backend.h \
	$(srcdir)/sdk/include/trit/ternary.h \
	$(srcdir)/sdk/include/trit/types.h \
	$(srcdir)/runtime/formats/ternary.h \
	$(srcdir)/runtime/core/common.h
NEON_QEMU_FLAGS = $(STD_CFLAGS) $(WARN_CFLAGS) -O2 -pthread \
	-I$(top_srcdir)/sdk/include -I$(top_srcdir)/runtime -I$(top_srcdir) -I$(top_builddir)

TESTS += tests/cpu-neon-qemu.sh
EXTRA_DIST += tests/cpu-neon-qemu.sh tests/cpu_neon_qemu.c
AM_TESTS_ENVIRONMENT += \
	QEMU_AARCH64='$(QEMU_AARCH64)' NEON_CROSS_WHY='$(NEON_CROSS_WHY)'; \
	export QEMU_AARCH64 NEON_CROSS_WHY;

if NEON_CROSS
check_DATA = tests/cpu_neon_qemu.aarch64
CLEANFILES += tests/cpu_neon_qemu.aarch64 tests/cpu_neon_qemu-dotprod.o

tests/cpu_neon_qemu.aarch64: $(NEON_QEMU_SRCS) $(NEON_QEMU_HDRS) \
		$(srcdir)/plugins/cpu_neon/kernels_dotprod.c \
		$(srcdir)/plugins/cpu_neon/check_cpu_neon.c build-config.h
	@$(MKDIR_P) tests
	$(AM_V_CC)$(AARCH64_CC) $(NEON_QEMU_FLAGS) $(CPU_NEON_DOTPROD_FLAGS) \
		-c -o tests/cpu_neon_qemu-dotprod.o $(srcdir)/plugins/cpu_neon/kernels_dotprod.c
	$(AM_V_at)inc=`$(PKG_CONFIG) --variable=includedir check 2>/dev/null`; \
	if test -n "$$inc" && test -f "$$inc/check.h"; then \
		$(AARCH64_CC) $(NEON_QEMU_FLAGS) -idirafter "$$inc" -fsyntax-only \
			$(srcdir)/plugins/cpu_neon/check_cpu_neon.c || exit 1; \
	else \
		echo "note: check.h not found; check_cpu_neon.c is not compile-checked for aarch64"; \
	fi
	$(AM_V_CCLD)$(AARCH64_CC) $(NEON_QEMU_FLAGS) -static -o $@ \
		$(NEON_QEMU_SRCS) tests/cpu_neon_qemu-dotprod.o -lm
endif
