# exec/: the forward pass context, its activation allocator and KV cache.
runtime_libtrit_internal_la_SOURCES += \
	runtime/exec/alloc.c runtime/exec/alloc.h \
	runtime/exec/kvcache.c runtime/exec/kvcache.h \
	runtime/exec/split.c runtime/exec/split.h \
	runtime/exec/forward.c runtime/exec/forward.h
runtime_libtrit_internal_la_SOURCES += runtime/exec/generate.c runtime/exec/generate.h
runtime_libtrit_internal_la_SOURCES += runtime/exec/perplexity.c runtime/exec/perplexity.h
