# runtime/convert: `trit convert` (trit_convert): a Hugging Face BitNet b1.58
# directory or a GGUF file to a GGUF of architecture bitnet-b1.58, through
# the streaming GGUF writer (runtime/model/gguf_write.c) and trit's packer.

runtime_libtrit_internal_la_SOURCES += \
	runtime/model/gguf_write.c runtime/model/gguf_write.h \
	runtime/convert/convert.c runtime/convert/convert.h \
	runtime/convert/convert_hf.c runtime/convert/convert_gguf.c \
	runtime/convert/convert_tok.c runtime/api/api_convert.c
