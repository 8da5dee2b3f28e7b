/*
 * gguf_write.h - write a GGUF v3 file as a stream: metadata pairs and tensor
 * infos are collected first (each tensor's byte count is known before its
 * data), the header is written in one go, then each tensor's bytes in the
 * order the tensors were declared, in as many pieces as the caller likes.
 * Nothing but the header is ever held in memory, so a converter can go
 * tensor by tensor. gguf.h reads what this writes.
 */
#ifndef TRIT_MODEL_GGUF_WRITE_H
#define TRIT_MODEL_GGUF_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/gguf.h"

struct trit_gguf_writer;

/* A writer with this data alignment (0: GGUF's default 32; a power of two
 * otherwise). NULL when memory ran out. */
struct trit_gguf_writer *trit_gguf_writer_new(uint32_t alignment);
void trit_gguf_writer_free(struct trit_gguf_writer *w);
/* Metadata pairs added so far. */
uint64_t trit_gguf_writer_n_kv(const struct trit_gguf_writer *w);

/* Metadata pairs, in the order added. A failed allocation is remembered
 * and reported by trit_gguf_write_header(); so is a key added twice. */
void trit_gguf_put_u32(struct trit_gguf_writer *w, const char *key, uint32_t v);
void trit_gguf_put_i32(struct trit_gguf_writer *w, const char *key, int32_t v);
void trit_gguf_put_f32(struct trit_gguf_writer *w, const char *key, float v);
void trit_gguf_put_bool(struct trit_gguf_writer *w, const char *key, int v);
void trit_gguf_put_str(struct trit_gguf_writer *w, const char *key, const char *s, size_t len);
/* An array of count elements of elem_type: begin writes its head, then each
 * element follows with the element calls below (the caller keeps count). */
void trit_gguf_put_array(struct trit_gguf_writer *w, const char *key, uint32_t elem_type,
                         uint64_t count);
void trit_gguf_put_elem_str(struct trit_gguf_writer *w, const char *s, size_t len);
void trit_gguf_put_elem_i32(struct trit_gguf_writer *w, int32_t v);
/* A pair read by gguf.h, copied unchanged (arrays byte for byte). */
void trit_gguf_put_copy(struct trit_gguf_writer *w, const struct trit_gguf_kv *kv);

/* Declare the next tensor: GGML dims ne[0..n_dims-1] (ne[0] the row), type
 * id and its exact byte count. */
void trit_gguf_add_tensor(struct trit_gguf_writer *w, const char *name, uint32_t n_dims,
                          const uint64_t *ne, uint32_t type_id, uint64_t bytes);

/* Write the header (and the padding before the data) to f. Returns 0, or
 * TRIT_ENOMEM / TRIT_EINVAL (a duplicate key) / TRIT_EIO with err set; path
 * is for messages. */
int trit_gguf_write_header(struct trit_gguf_writer *w, FILE *f, const char *path, char *err,
                           size_t errlen);
/* The next bytes of the tensors' data, in declaration order; padding
 * between tensors is written as each one is complete. More bytes than the
 * tensors declared is TRIT_EINVAL. */
int trit_gguf_write_data(struct trit_gguf_writer *w, const void *p, size_t n, char *err,
                         size_t errlen);
/* Every declared byte was written: 0, else TRIT_EINVAL naming the tensor. */
int trit_gguf_write_finish(struct trit_gguf_writer *w, char *err, size_t errlen);

#endif
