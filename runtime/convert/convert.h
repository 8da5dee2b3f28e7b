/*
 * convert/convert.h - what the converter's parts share. convert.c drives a
 * conversion (temporary output, rename, progress) and encodes tensors;
 * convert_hf.c reads a Hugging Face BitNet directory, convert_tok.c its
 * tokenizer.json, convert_gguf.c a GGUF to re-type. Each source part fills
 * a writer (metadata and tensor infos) and a list of tensors to copy.
 */
#ifndef TRIT_CONVERT_H
#define TRIT_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include <trit/trit.h>

#include "model/gguf_write.h"

#define CV_ARCH "bitnet-b1.58"
#define CV_FTYPE_I2_S 40u

/* What a tensor is for the converter. */
enum cv_kind {
	CV_KEEP,    /* copied as stored (embeddings, anything not a matrix below) */
	CV_NORM,    /* stays or becomes F32 */
	CV_MATRIX   /* a BitLinear matrix: --type applies */
};

/* One tensor of the output and where its bytes come from. */
struct cv_tensor {
	char name[80];         /* GGUF name */
	char src_name[256];    /* the source's name, for messages */
	uint32_t n_dims;
	uint64_t ne[4];        /* GGML order */
	enum cv_kind kind;
	int fd;                /* source file (owned by the source reader) */
	const char *path;      /* source file, for messages */
	uint64_t offset, bytes;
	uint32_t src_type;     /* GGML id of the stored encoding (F32, F16, BF16, I2_S) */
	uint32_t dst_type;     /* GGML id to write */
	uint64_t dst_bytes;
};

struct cv_job {
	const struct trit_convert_options *o;
	struct trit_gguf_writer *w;
	struct cv_tensor *t;
	size_t n_t, cap_t;
	uint32_t alignment;
	void *src_state;       /* the source reader's */
};

/* trit_convert() (sdk/include/trit/trit.h), which runtime/api/ forwards here. */
int cv_convert(const struct trit_convert_options *o, struct trit_convert_result *res,
               char *err, size_t errlen);

/* A new tensor at the end of job's list (NULL: out of memory). */
struct cv_tensor *cv_push(struct cv_job *job);
/* Choose dst_type and dst_bytes for t from its kind and the options;
 * refuses (naming the tensor) a shape I2_S cannot hold. */
int cv_plan_tensor(const struct cv_job *job, struct cv_tensor *t, char *err, size_t errlen);
/* The GGML id for each requested type; file type of the output. */
uint32_t cv_matrix_type(int convert_type);
uint32_t cv_file_type(int convert_type);

/* Sources: fill job->w's metadata and job's tensors (planned). */
int cv_from_hf(struct cv_job *job, char *err, size_t errlen);
int cv_from_gguf(struct cv_job *job, char *err, size_t errlen);
void cv_hf_free(struct cv_job *job);
void cv_gguf_free(struct cv_job *job);

/* tokenizer.json (and tokenizer_config.json beside it) into the writer's
 * tokenizer.ggml.* keys. vocab_size: config.json's (0 when absent); the
 * token list is padded to it. bos/eos: config.json's ids, -1 when absent. */
int cv_tokenizer(struct trit_gguf_writer *w, const char *dir, uint64_t vocab_size,
                 int64_t bos, int64_t eos, const char *chat_template, char *err,
                 size_t errlen);

/* Encode one tensor into the output (the writer's next tensor). */
int cv_write_tensor(const struct cv_job *job, const struct cv_tensor *t, char *err,
                    size_t errlen);

#endif
