# graph/: the node-list builder and the architectures' forward passes.
runtime_libtrit_internal_la_SOURCES += \
	runtime/graph/graph.c runtime/graph/graph.h runtime/graph/arch.c
