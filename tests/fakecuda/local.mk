# fakecuda: a test double for the CUDA driver (libcuda.so.1), built only for
# `make check` (-rpath makes libtool build a shared module although it is
# never installed). It exports exactly the driver entry points the cuda
# plugin resolves and simulates the devices TRIT_FAKECUDA_DEVICES describes;
# see fakecuda.c. It declares the driver types itself: no CUDA needed.

if BUILD_CUDA
check_LTLIBRARIES += tests/fakecuda/fakecuda.la
tests_fakecuda_fakecuda_la_SOURCES = tests/fakecuda/fakecuda.c
tests_fakecuda_fakecuda_la_LDFLAGS = -module -avoid-version -no-undefined -rpath /nowhere \
	-export-symbols-regex '^cu[A-Z]'
endif
