# The plan report: reason sentences (reason.c), the one report model
# (plan_model.c) and its text and JSON renderers (plan_report.c).
runtime_libtrit_internal_la_SOURCES += \
	runtime/report/reason.c runtime/report/reason.h \
	runtime/report/plan_model.c runtime/report/plan_model.h \
	runtime/report/plan_report.c runtime/report/json_build.h
# `trit inspect`: the model report, its JSON tensor list streamed.
runtime_libtrit_internal_la_SOURCES += runtime/report/model_report.c
# The load and run reports of `trit run`.
runtime_libtrit_internal_la_SOURCES += runtime/report/run_report.c runtime/report/run_report.h
# The plan of a parallel deployment (trit plan --tp/--pp/--ep).
runtime_libtrit_internal_la_SOURCES += runtime/report/parallel_report.c \
	runtime/report/parallel_report.h runtime/report/cluster_report.c \
	runtime/report/cluster_report.h runtime/report/emit_report.c \
	runtime/report/emit_report.h runtime/report/engine_report.c \
	runtime/report/engine_report.h
