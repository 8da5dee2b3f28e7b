# The SDK: public headers, pkg-config files, and an example backend that is
# built out of tree against the *installed* SDK by tests/sdk-example.sh.

tritincludedir = $(includedir)/trit
tritinclude_HEADERS = \
	sdk/include/trit/backend.h \
	sdk/include/trit/quant.h \
	sdk/include/trit/ternary.h \
	sdk/include/trit/types.h \
	sdk/include/trit/trit.h

pkgconfig_DATA += sdk/trit-backend.pc sdk/trit.pc
DISTCLEANFILES += sdk/trit-backend.pc sdk/trit.pc
EXTRA_DIST += sdk/README.md sdk/trit-backend.pc.in sdk/trit.pc.in \
	sdk/examples/hello/hello.c sdk/examples/hello/hello.h sdk/examples/hello/hello_buffers.c \
	sdk/examples/hello/hello_ops.c sdk/examples/hello/Makefile sdk/examples/hello/README.md
