/*
 * hello.h - what the example backend's two files share: its state, and the
 * buffer and op entries hello_ops.c implements for the table in hello.c.
 */
#ifndef HELLO_H
#define HELLO_H

#include <stdio.h>

#include <trit/backend.h>

struct hello {
	struct trit_device dev;
	char name[96];
};

/* Host-memory buffers: owned (malloc'd) or wrapping the caller's memory. */
int hello_buffer_alloc(void *state, uint32_t device, uint64_t size, struct trit_buffer **out,
                       char *err, size_t errlen);
void hello_buffer_free(void *state, struct trit_buffer *buf);
int hello_buffer_write(void *state, struct trit_buffer *buf, uint64_t offset, const void *src,
                       uint64_t size, char *err, size_t errlen);
int hello_buffer_read(void *state, struct trit_buffer *buf, uint64_t offset, void *dst,
                      uint64_t size, char *err, size_t errlen);
int hello_buffer_limits(void *state, uint32_t device, struct trit_buffer_limits *out,
                        char *err, size_t errlen);
int hello_buffer_wrap(void *state, uint32_t device, void *ptr, uint64_t size,
                      struct trit_buffer **out, char *err, size_t errlen);
void *hello_buffer_host_ptr(void *state, struct trit_buffer *buf);
uint64_t hello_buffer_size(const struct trit_buffer *buf);
int hello_buffer_copy(void *state, struct trit_buffer *dst, uint64_t dst_offset,
                      struct trit_buffer *src, uint64_t src_offset, uint64_t size,
                      char *err, size_t errlen);

/* The ops: ADD, MUL and SCALE on same-shape contiguous F32, and RMS_NORM. */
int hello_supports_op(void *state, uint32_t device, const struct trit_node *node);
int hello_graph_workspace(void *state, uint32_t device, const struct trit_graph *graph,
                          uint64_t *bytes, char *err, size_t errlen);
int hello_graph_compute(void *state, uint32_t device, const struct trit_graph *graph,
                        char *err, size_t errlen);

#endif
