# trit-conformance: the backend conformance suite (docs/conformance.md).
# The core (everything but main.c) needs only the SDK headers, so a
# stand-alone test can compile it with a plugin's sources and the reference
# kernels; main.c finds the plugin and the ref through libtrit's registry.

CONFORMANCE_CORE = \
	sdk/conformance/conformance.h sdk/conformance/internal.h \
	sdk/conformance/cases.c sdk/conformance/setup.c sdk/conformance/tensors.c \
	sdk/conformance/encode.c sdk/conformance/run.c sdk/conformance/compare.c \
	sdk/conformance/report.c

bin_PROGRAMS += trit-conformance
trit_conformance_SOURCES = sdk/conformance/main.c $(CONFORMANCE_CORE)
# Only the public API: the SDK headers and trit.h, not runtime/.
trit_conformance_CPPFLAGS = -I$(top_srcdir)/sdk/include -I$(top_builddir)
trit_conformance_LDADD = runtime/libtrit.la -lm
