# fakecuda: a test double for the CUDA driver (libcuda.so.1), built only for
# `make check` (-rpath makes libtool build a shared module although it is
# never installed). It exports exactly the driver entry points the cuda
# plugin resolves and simulates the devices FAKECUDA_DEVICES describes;
# see fakecuda.c. It declares the driver types itself: no CUDA needed.
# With a C++17 compiler it also carries emulate.cc, which compiles the cuda
# plugin's kernels as host code and runs them (FAKECUDA_LAUNCH=emulate).

EXTRA_DIST += tests/fakecuda/emulate.cc tests/cuda-run.sh tests/gpu-check.sh tests/gpu-bundle.sh

if BUILD_CUDA
check_LTLIBRARIES += tests/fakecuda/fakecuda.la
tests_fakecuda_fakecuda_la_SOURCES = tests/fakecuda/fakecuda.c
tests_fakecuda_fakecuda_la_LDFLAGS = -module -avoid-version -no-undefined -rpath /nowhere \
	-export-symbols-regex '^cu[A-Z]'
if FAKECUDA_EMULATE
tests_fakecuda_fakecuda_la_SOURCES += tests/fakecuda/emulate.cc
tests_fakecuda_fakecuda_la_CPPFLAGS = $(AM_CPPFLAGS) -DFAKECUDA_EMULATE=1
# no contraction, as nvcc --fmad=false builds the same kernels
tests_fakecuda_fakecuda_la_CXXFLAGS = -std=c++17 -O2 -ffp-contract=off $(WARN_CXXFLAGS)
endif

# trit run with layers on simulated GPUs (launch accounting, the emulated
# kernels, hybrid and two-GPU splits, the load-time fallback).
TESTS += tests/cuda-run.sh
tests/cuda-run.log: trit$(EXEEXT) tests/fakecuda/fakecuda.la plugins/cuda/cuda.la
endif
