# The loader: model weights onto their devices (runtime/load/load.h).
runtime_libtrit_internal_la_SOURCES += \
	runtime/load/load.h runtime/load/load_int.h runtime/load/load_place.h \
	runtime/load/load_run.c runtime/load/load_plan.c runtime/load/load_map.c \
	runtime/load/load_place.c
