/*
 * convert/convert_gguf.c - a GGUF file as the converter's source: every
 * metadata pair is copied unchanged except general.file_type (and
 * general.name / tokenizer.chat_template when the options give them); every
 * tensor is copied as stored except the attention and FFN weight matrices,
 * which are re-encoded as --type asks (I2_S and TQ2_0 decoded to trit x
 * scale, floats packed by trit's packer).
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert/convert.h"
#include "core/common.h"
#include "core/safeopen.h"
#include "model/ggml_types.h"
#include "model/gguf.h"
#include "model/names.h"

struct gguf_src {
	struct trit_gguf *g;
	int fd;
};

static int key_is(const struct trit_gguf_kv *kv, const char *key)
{
	return kv->key.len == strlen(key) && memcmp(kv->key.s, key, kv->key.len) == 0;
}

/* The source's pairs, with the file type, name and template replaced. */
static void copy_metadata(struct cv_job *job, const struct trit_gguf *g)
{
	const struct trit_convert_options *o = job->o;
	int named = 0, templated = 0;

	for (uint64_t i = 0; i < g->n_kv; i++) {
		const struct trit_gguf_kv *kv = &g->kv[i];
		if (key_is(kv, "general.file_type"))
			trit_gguf_put_u32(job->w, "general.file_type", cv_file_type(o->type));
		else if (o->name && key_is(kv, "general.name") && (named = 1))
			trit_gguf_put_str(job->w, "general.name", o->name, strlen(o->name));
		else if (o->chat_template && key_is(kv, "tokenizer.chat_template") && (templated = 1))
			trit_gguf_put_str(job->w, "tokenizer.chat_template", o->chat_template,
			                  strlen(o->chat_template));
		else
			trit_gguf_put_copy(job->w, kv);
	}
	if (!trit_gguf_find(g, "general.file_type"))
		trit_gguf_put_u32(job->w, "general.file_type", cv_file_type(o->type));
	if (o->name && !named)
		trit_gguf_put_str(job->w, "general.name", o->name, strlen(o->name));
	if (o->chat_template && !templated)
		trit_gguf_put_str(job->w, "tokenizer.chat_template", o->chat_template,
		                  strlen(o->chat_template));
}

static int reencodable(uint32_t id)
{
	return id == TRIT_GGML_F32 || id == TRIT_GGML_F16 || id == TRIT_GGML_BF16 ||
	       id == TRIT_GGML_I2_S || id == TRIT_GGML_TQ2_0;
}

/* What the converter does with tensor gt: matrices are re-typed. */
static int classify(const struct trit_gguf *g, const struct trit_gguf_tensor *gt,
                    struct cv_tensor *t, char *err, size_t errlen)
{
	struct trit_name_class c;
	int matrix = trit_names_classify(t->src_name, TRIT_NAMING_GGUF, 1, &c) == 0 &&
	             trit_role_is_matrix(c.role) && c.part == TRIT_PART_WEIGHT && gt->n_dims == 2;
	int id_ok = g->dialect == TRIT_GGML_BITNET || gt->type_id != TRIT_GGML_I2_S;

	t->kind = matrix ? CV_MATRIX : CV_KEEP;
	if (matrix && !(id_ok && reencodable(gt->type_id)))
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED,
		                 "%s: tensor %s is %s; trit convert re-types matrices stored as F32, "
		                 "F16, BF16, I2_S or TQ2_0", t->path, t->src_name, gt->type->name);
	return 0;
}

static int add_tensors(struct cv_job *job, struct gguf_src *s, char *err, size_t errlen)
{
	for (uint64_t i = 0; i < s->g->n_tensors; i++) {
		const struct trit_gguf_tensor *gt = &s->g->tensors[i];
		struct cv_tensor *t = cv_push(job);
		int rc;

		if (!t)
			return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
		if (gt->name.len >= sizeof t->name)
			return trit_errf(err, errlen, TRIT_ERANGE, "%s: tensor %zu: name longer than %zu "
			                 "bytes", job->o->src, (size_t)i, sizeof t->name - 1);
		memcpy(t->name, gt->name.s, gt->name.len);
		memcpy(t->src_name, gt->name.s, gt->name.len);
		t->n_dims = gt->n_dims;
		memcpy(t->ne, gt->ne, sizeof t->ne);
		t->fd = s->fd;
		t->path = job->o->src;
		t->offset = s->g->data_offset + gt->offset;
		t->bytes = gt->size;
		t->src_type = gt->type_id;
		if ((rc = classify(s->g, gt, t, err, errlen)) ||
		    (rc = cv_plan_tensor(job, t, err, errlen)))
			return rc;
		trit_gguf_add_tensor(job->w, t->name, t->n_dims, t->ne, t->dst_type, t->dst_bytes);
	}
	return 0;
}

int cv_from_gguf(struct cv_job *job, char *err, size_t errlen)
{
	struct gguf_src *s = calloc(1, sizeof *s);
	int rc;

	if (!s)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	s->fd = -1;
	job->src_state = s;
	if ((rc = trit_gguf_open(job->o->src, &s->g, err, errlen)))
		return rc;
	if ((s->fd = trit_open_regular(job->o->src, NULL, NULL, err, errlen)) < 0)
		return TRIT_EIO;
	if (!(job->w = trit_gguf_writer_new(s->g->alignment)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	copy_metadata(job, s->g);
	return add_tensors(job, s, err, errlen);
}

void cv_gguf_free(struct cv_job *job)
{
	struct gguf_src *s = job->src_state;

	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	trit_gguf_close(s->g);
	free(s);
	job->src_state = NULL;
}
