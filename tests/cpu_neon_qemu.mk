# The cpu_neon plugin on hosts that are not aarch64: configure found
# AARCH64_CC and QEMU_AARCH64 (NEON_CROSS), so `make check` cross-compiles
# the plugin's sources, the checks they share with the plugin's Check suite
# and the scalar reference into one static aarch64 program, and
# tests/cpu-neon-qemu.sh runs it on an emulated CPU with the dot-product
# extension and on one without. The Check suite itself, which needs the Check
# library for aarch64, is compiled with -fsyntax-only against the host's
# check.h. Only AARCH64_CC and these flags are used: the host's CC and
# CFLAGS (clang, sanitizers) are for the host.
#
# A second program, tests/cpu_neon_conformance.aarch64, links the same
# plugin sources with trit-conformance's core (sdk/conformance/ but main.c)
# and the ref backend's files (runtime/backend/ref*.c), and
# tests/cpu-neon-conformance.sh runs the whole suite on both CPU models.

NEON_QEMU_SRCS = $(srcdir)/tests/cpu_neon_qemu.c $(NEON_PLUGIN_SRCS)
# The plugin, the checks it shares (kerncheck.c also gives both programs
# their host table) and the runtime files the plugin links against.
NEON_PLUGIN_SRCS = \
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
	$(srcdir)/runtime/core/common.c $(srcdir)/runtime/core/textsafe.c
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

# The suite's core and the reference backend, for the conformance program.
NEON_CONF_SRCS = \
	$(srcdir)/tests/cpu_neon_conformance.c \
	$(srcdir)/sdk/conformance/cases.c \
	$(srcdir)/sdk/conformance/setup.c \
	$(srcdir)/sdk/conformance/tensors.c \
	$(srcdir)/sdk/conformance/encode.c \
	$(srcdir)/sdk/conformance/run.c \
	$(srcdir)/sdk/conformance/compare.c \
	$(srcdir)/sdk/conformance/report.c \
	$(srcdir)/runtime/backend/ref.c \
	$(srcdir)/runtime/backend/ref_node.c \
	$(srcdir)/runtime/backend/ref_ops.c \
	$(srcdir)/runtime/backend/ref_move.c \
	$(srcdir)/runtime/backend/ref_attention.c \
	$(srcdir)/runtime/backend/ref_matmul.c
NEON_CONF_HDRS = \
	$(srcdir)/sdk/conformance/conformance.h \
	$(srcdir)/sdk/conformance/internal.h \
	$(srcdir)/runtime/backend/ref.h \
	$(srcdir)/runtime/backend/ref_node.h

TESTS += tests/cpu-neon-conformance.sh
EXTRA_DIST += tests/cpu-neon-conformance.sh tests/cpu_neon_conformance.c

if NEON_CROSS
check_DATA = tests/cpu_neon_qemu.aarch64 tests/cpu_neon_conformance.aarch64
CLEANFILES += tests/cpu_neon_qemu.aarch64 tests/cpu_neon_qemu-dotprod.o \
	tests/cpu_neon_conformance.aarch64

tests/cpu_neon_qemu-dotprod.o: $(srcdir)/plugins/cpu_neon/kernels_dotprod.c $(NEON_QEMU_HDRS) \
		build-config.h
	@$(MKDIR_P) tests
	$(AM_V_CC)$(AARCH64_CC) $(NEON_QEMU_FLAGS) $(CPU_NEON_DOTPROD_FLAGS) \
		-c -o $@ $(srcdir)/plugins/cpu_neon/kernels_dotprod.c

tests/cpu_neon_qemu.aarch64: $(NEON_QEMU_SRCS) $(NEON_QEMU_HDRS) tests/cpu_neon_qemu-dotprod.o \
		$(srcdir)/plugins/cpu_neon/check_cpu_neon.c build-config.h
	$(AM_V_at)inc=`$(PKG_CONFIG) --variable=includedir check 2>/dev/null`; \
	if test -n "$$inc" && test -f "$$inc/check.h"; then \
		$(AARCH64_CC) $(NEON_QEMU_FLAGS) -idirafter "$$inc" -fsyntax-only \
			$(srcdir)/plugins/cpu_neon/check_cpu_neon.c || exit 1; \
	else \
		echo "note: check.h not found; check_cpu_neon.c is not compile-checked for aarch64"; \
	fi
	$(AM_V_CCLD)$(AARCH64_CC) $(NEON_QEMU_FLAGS) -static -o $@ \
		$(NEON_QEMU_SRCS) tests/cpu_neon_qemu-dotprod.o -lm

tests/cpu_neon_conformance.aarch64: $(NEON_CONF_SRCS) $(NEON_CONF_HDRS) $(NEON_PLUGIN_SRCS) \
		$(NEON_QEMU_HDRS) tests/cpu_neon_qemu-dotprod.o build-config.h
	$(AM_V_CCLD)$(AARCH64_CC) $(NEON_QEMU_FLAGS) -static -o $@ \
		$(NEON_CONF_SRCS) $(NEON_PLUGIN_SRCS) tests/cpu_neon_qemu-dotprod.o -lm
endif
