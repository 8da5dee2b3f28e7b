# runtime/text: what turns logits and conversations into text work for
# `trit run`: the token sampler and the chat prompt formats (the tokenizer
# adds its own files here).
runtime_libtrit_internal_la_SOURCES += \
	runtime/text/sampler.c runtime/text/sampler.h \
	runtime/text/chat.c runtime/text/chat.h
