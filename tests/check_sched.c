/*
 * check_sched.c - the scheduler sends a device what it supports in runs of
 * graph_compute() and the rest to the built-in ref backend, lending ref the
 * device's tensors (wrapped when host-visible, staged otherwise), and the
 * result equals running everything on ref. The device is tests/plugins/
 * partial.c (ADD and F32 MATMUL only).
 */
#include <build-config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/trit.h>

#include "exec/sched.h"
#include "support/support.h"

#define K1 4     /* first matmul: [K1] -> [M1] */
#define M1 128   /* = the I2_S matmul's K (one 128-column block) */
#define M2 3
#define T 2

/* Offsets in the weight buffer and the activation buffer; deliberately not
 * multiples of 64, so the fallback's ranges do not start at its tensors. */
enum { W1_OFF = 20, W2_OFF = W1_OFF + K1 * M1 * 4 + 12, B_OFF = W2_OFF + 128 + 4,
       WBUF = B_OFF + M2 * T * 4 };
enum { X_OFF = 4, H_OFF = X_OFF + K1 * T * 4 + 8, Y_OFF = H_OFF + M1 * T * 4,
       Z_OFF = Y_OFF + M2 * T * 4 + 4, S_OFF = Z_OFF + M2 * T * 4,
       R_OFF = S_OFF + M2 * T * 4 + 36, ABUF = R_OFF + M2 * T * 4 };

static struct trit_registry *open_partial(const char *host_visible)
{
	char path[512], err[512];
	const char *files[1] = { path }, *dir = getenv("TRIT_TEST_PLUGIN_DIR");
	struct trit_registry_options o = {
		.flags = TRIT_REGISTRY_NO_ENV | TRIT_REGISTRY_NO_DEFAULT_DIRS,
		.plugin_files = files, .n_plugin_files = 1,
	};
	struct trit_registry *reg = NULL;

	ck_assert_msg(dir != NULL, "TRIT_TEST_PLUGIN_DIR is not set (run through make check)");
	snprintf(path, sizeof path, "%s/partial.la", dir);
	setenv("TRIT_PLUGIN_TEST_PARTIAL_HOST_VISIBLE", host_visible, 1);
	ck_assert_msg(trit_registry_open(&o, &reg, err, sizeof err) == 0, "%s", err);
	unsetenv("TRIT_PLUGIN_TEST_PARTIAL_HOST_VISIBLE");
	return reg;
}

static struct trit_sched_target target(struct trit_registry *reg, const char *name)
{
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *p = trit_registry_plugin(reg, i);
		struct trit_sched_target t = { .name = name };
		if (strcmp(p->name, name) != 0)
			continue;
		ck_assert_msg(p->status == TRIT_PLUGIN_LOADED, "%s: %s", name, p->reason);
		t.be = trit_registry_backend(reg, i, &t.state);
		return t;
	}
	ck_abort_msg("no backend %s", name);
	return (struct trit_sched_target){ 0 };
}

static struct trit_tensor f32(struct trit_buffer *b, uint64_t off, uint64_t ne0, uint64_t ne1)
{
	return (struct trit_tensor){ .type = TRIT_TYPE_F32, .ne = { ne0, ne1, 1, 1 },
	                             .nb = { 4, 4 * ne0, 4 * ne0 * ne1, 4 * ne0 * ne1 },
	                             .buffer = b, .offset = off };
}

/* Weights and inputs chosen so every F32 step is exact: integer activations
 * whose per-token absmax is 127 (so the I2_S activation scale is 1), a
 * ternary scale of 0.5. trits[r][k] is returned for the expected values. */
static void fill(unsigned char *w, unsigned char *a, int8_t trits[M2][M1])
{
	float v;

	memset(w, 0, WBUF);
	memset(a, 0, ABUF);
	for (int r = 0; r < M1; r++) {
		float row[K1] = { (float)((r * 37) % 255 - 127), (float)((r * 91 + 5) % 255 - 127),
		                  (float)(r % 7), -(float)(r % 5) };
		memcpy(w + W1_OFF + (size_t)r * K1 * 4, row, sizeof row);
	}
	for (int r = 0; r < M2; r++)
		for (int k = 0; k < M1; k++) {
			int t = (r * 7 + k * 3) % 3 - 1, g = k / 32, b = k % 32;
			trits[r][k] = (int8_t)t;
			w[W2_OFF + r * 32 + b] |= (unsigned char)((t + 1) << (6 - 2 * g));
		}
	v = 0.5f;
	memcpy(w + W2_OFF + M2 * 32, &v, sizeof v);
	for (int i = 0; i < M2 * T; i++) {
		v = (float)(i * 3 - 4);
		memcpy(w + B_OFF + i * 4, &v, sizeof v);
	}
	for (int t = 0; t < T; t++) { /* token t picks weight column t: H[:, t] = W1[:, t] */
		v = 1.0f;
		memcpy(a + X_OFF + (size_t)(t * K1 + t) * 4, &v, sizeof v);
	}
}

/* H = W1 x (device), Y = W2 H with I2_S W2 (ref: the device has no I2_S),
 * Z = Y + B (device), S = 0.5 Z (ref: no SCALE), a NONE, R = S + B and
 * R = R + B in place (device, one call). */
#define N_NODES 7

static void build(struct trit_node *n, struct trit_buffer *w, struct trit_buffer *a)
{
	struct trit_tensor w2 = { .type = TRIT_TYPE_I2_S, .ne = { M1, M2, 1, 1 },
	                          .nb = { 32, 32, 32 * M2, 32 * M2 }, .buffer = w,
	                          .offset = W2_OFF };
	struct trit_tensor b = f32(w, B_OFF, M2, T);

	memset(n, 0, N_NODES * sizeof *n);
	for (int i = 0; i < N_NODES; i++)
		n[i].struct_size = sizeof *n;
	n[0].op = TRIT_OP_MATMUL, n[0].name = "h";
	n[0].src[0] = f32(w, W1_OFF, K1, M1), n[0].src[1] = f32(a, X_OFF, K1, T);
	n[0].dst = f32(a, H_OFF, M1, T);
	n[1].op = TRIT_OP_MATMUL, n[1].name = "y";
	n[1].src[0] = w2, n[1].src[1] = n[0].dst, n[1].dst = f32(a, Y_OFF, M2, T);
	n[2].op = TRIT_OP_ADD, n[2].name = "z";
	n[2].src[0] = n[1].dst, n[2].src[1] = b, n[2].dst = f32(a, Z_OFF, M2, T);
	n[3].op = TRIT_OP_SCALE, n[3].name = "s", n[3].fparams[0] = 0.5f;
	n[3].src[0] = n[2].dst, n[3].dst = f32(a, S_OFF, M2, T);
	n[4].op = TRIT_OP_NONE, n[4].name = "nothing";
	n[5].op = TRIT_OP_ADD, n[5].name = "r";
	n[5].src[0] = n[3].dst, n[5].src[1] = b, n[5].dst = f32(a, R_OFF, M2, T);
	n[6] = n[5];
	n[6].name = "r2", n[6].src[0] = n[5].dst;
}

/* R by hand: every step is exact in F32 (see fill()). */
static void expected(const unsigned char *w, int8_t trits[M2][M1], float r[M2 * T])
{
	for (int t = 0; t < T; t++)
		for (int m = 0; m < M2; m++) {
			float h, b;
			int32_t d = 0;
			for (int k = 0; k < M1; k++) {
				memcpy(&h, w + W1_OFF + ((size_t)k * K1 + t) * 4, sizeof h);
				d += trits[m][k] * (int32_t)h;
			}
			memcpy(&b, w + B_OFF + (size_t)(t * M2 + m) * 4, sizeof b);
			r[t * M2 + m] = ((float)d * 0.5f + b) * 0.5f + b + b;
		}
}

struct bufs {
	struct trit_buffer *w, *a;
};

static struct bufs upload(const struct trit_sched_target *t, const unsigned char *w,
                          const unsigned char *a)
{
	struct bufs b;
	char err[512];

	ck_assert_int_eq(t->be->buffer_alloc(t->state, 0, WBUF, &b.w, err, sizeof err), 0);
	ck_assert_int_eq(t->be->buffer_alloc(t->state, 0, ABUF, &b.a, err, sizeof err), 0);
	ck_assert_int_eq(t->be->buffer_write(t->state, b.w, 0, w, WBUF, err, sizeof err), 0);
	ck_assert_int_eq(t->be->buffer_write(t->state, b.a, 0, a, ABUF, err, sizeof err), 0);
	return b;
}

static void result(const struct trit_sched_target *t, struct bufs b, float *r)
{
	char err[512];
	ck_assert_int_eq(t->be->buffer_read(t->state, b.a, R_OFF, r, M2 * T * 4, err, sizeof err), 0);
	t->be->buffer_free(t->state, b.w);
	t->be->buffer_free(t->state, b.a);
}

/* Run the mixed graph on test_partial with ref as fallback, and all of it
 * on ref; both must give the hand-computed R exactly. */
static void mixed_graph(const char *host_visible, int wrapped)
{
	static unsigned char w[WBUF], a[ABUF];
	int8_t trits[M2][M1];
	float want[M2 * T], split[M2 * T], all_ref[M2 * T];
	struct trit_node nodes[N_NODES];
	struct trit_sched_stats st, st_ref;
	uint8_t where[N_NODES];
	char err[1024];
	struct trit_registry *reg = open_partial(host_visible);
	struct trit_sched_target dev = target(reg, "test_partial"), fb;
	struct bufs b;

	ck_assert_msg(trit_sched_fallback(reg, &fb, err, sizeof err) == 0, "%s", err);
	fill(w, a, trits);
	expected(w, trits, want);

	b = upload(&dev, w, a);
	build(nodes, b.w, b.a);
	ck_assert_msg(trit_sched_run(&dev, &fb, nodes, N_NODES, 1, where, &st, err,
	                             sizeof err) == 0, "%s", err);
	result(&dev, b, split);

	b = upload(&fb, w, a);
	build(nodes, b.w, b.a);
	ck_assert_msg(trit_sched_run(&fb, &fb, nodes, N_NODES, 1, NULL, &st_ref, err,
	                             sizeof err) == 0, "%s", err);
	result(&fb, b, all_ref);

	for (int i = 0; i < M2 * T; i++) {
		ck_assert_float_eq(split[i], want[i]);
		ck_assert_float_eq(all_ref[i], want[i]);
	}
	const uint8_t want_where[N_NODES] = { TRIT_SCHED_DEVICE, TRIT_SCHED_FALLBACK,
		TRIT_SCHED_DEVICE, TRIT_SCHED_FALLBACK, TRIT_SCHED_SKIPPED, TRIT_SCHED_DEVICE,
		TRIT_SCHED_DEVICE };
	ck_assert_mem_eq(where, want_where, N_NODES);
	ck_assert_uint_eq(st.device_nodes, 4);
	ck_assert_uint_eq(st.fallback_nodes, 2);
	ck_assert_uint_eq(st.skipped_nodes, 1);
	ck_assert_uint_eq(st.device_calls, 3);   /* h | z | r, r2 */
	ck_assert_uint_eq(st.fallback_calls, 2); /* y | s */
	/* y lends W and A, s lends A */
	ck_assert_uint_eq(st.wrapped_buffers, wrapped ? 3 : 0);
	ck_assert_uint_eq(st.staged_buffers, wrapped ? 0 : 3);
	ck_assert_uint_eq(st_ref.device_nodes, 6);
	ck_assert_uint_eq(st_ref.device_calls, 1);
	ck_assert_uint_eq(st_ref.fallback_nodes, 0);
	trit_registry_close(reg);
}

START_TEST(mixed_graph_on_host_visible_device_matches_all_ref)
{
	mixed_graph("1", 1);
}
END_TEST

START_TEST(mixed_graph_on_device_memory_is_staged_and_matches_all_ref)
{
	mixed_graph("0", 0);
}
END_TEST

START_TEST(node_that_neither_device_nor_fallback_runs_is_refused_by_name)
{
	static unsigned char w[WBUF], a[ABUF];
	int8_t trits[M2][M1];
	struct trit_node nodes[N_NODES];
	struct trit_registry *reg = open_partial("1");
	struct trit_sched_target dev = target(reg, "test_partial"), fb;
	struct trit_sched_stats st = { 0 };
	struct bufs b;
	char err[1024];

	ck_assert_int_eq(trit_sched_fallback(reg, &fb, err, sizeof err), 0);
	fill(w, a, trits);
	b = upload(&dev, w, a);
	build(nodes, b.w, b.a);
	/* no fallback: the SCALE node has nowhere to go */
	ck_assert_int_eq(trit_sched_place(&dev, NULL, nodes, N_NODES, NULL, &st, err, sizeof err),
	                 TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "node 1 (y)") && strstr(err, "MATMUL"), "%s", err);
	/* an op no backend knows */
	nodes[2].op = TRIT_OP_COUNT + 3;
	ck_assert_int_eq(trit_sched_run(&dev, &fb, nodes, N_NODES, 1, NULL, &st, err, sizeof err),
	                 TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "node 2 (z)") && strstr(err, "ref/ref0"), "%s", err);
	ck_assert_uint_eq(st.device_calls, 0); /* refused before anything ran */
	result(&dev, b, (float[M2 * T]){ 0 });
	trit_registry_close(reg);
}
END_TEST

START_TEST(fallback_error_names_the_node_it_came_from)
{
	static unsigned char w[WBUF], a[ABUF];
	int8_t trits[M2][M1];
	struct trit_node nodes[N_NODES];
	struct trit_registry *reg = open_partial("1");
	struct trit_sched_target dev = target(reg, "test_partial"), fb;
	struct bufs b;
	char err[1024];

	ck_assert_int_eq(trit_sched_fallback(reg, &fb, err, sizeof err), 0);
	fill(w, a, trits);
	b = upload(&dev, w, a);
	build(nodes, b.w, b.a);
	nodes[3].src[0].offset = ABUF; /* S reads past the end of A */
	ck_assert_int_ne(trit_sched_run(&dev, &fb, nodes, N_NODES, 1, NULL, NULL, err, sizeof err),
	                 0);
	ck_assert_msg(strstr(err, "node 3 (s)"), "%s", err);
	result(&dev, b, (float[M2 * T]){ 0 });
	trit_registry_close(reg);
}
END_TEST

START_TEST(fallback_is_the_built_in_ref_backend)
{
	char err[512];
	struct trit_registry_options o = {
		.flags = TRIT_REGISTRY_NO_ENV | TRIT_REGISTRY_NO_DEFAULT_DIRS |
		         TRIT_REGISTRY_NO_BUILTIN,
	};
	struct trit_registry *reg = NULL;
	struct trit_sched_target fb;

	ck_assert_int_eq(trit_registry_open(&o, &reg, err, sizeof err), 0);
	ck_assert_int_eq(trit_sched_fallback(reg, &fb, err, sizeof err), TRIT_ENODEV);
	ck_assert_msg(strstr(err, "'ref'"), "%s", err);
	trit_registry_close(reg);
	reg = open_partial("1");
	ck_assert_int_eq(trit_sched_fallback(reg, &fb, err, sizeof err), 0);
	ck_assert_uint_eq(fb.be->device_count(fb.state), 1);
	ck_assert_str_eq(fb.be->device_get(fb.state, 0)->id, "ref0");
	trit_registry_close(reg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sched");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{ "wrapped", mixed_graph_on_host_visible_device_matches_all_ref },
		{ "staged", mixed_graph_on_device_memory_is_staged_and_matches_all_ref },
		{ "neither", node_that_neither_device_nor_fallback_runs_is_refused_by_name },
		{ "fberror", fallback_error_names_the_node_it_came_from },
		{ "ref", fallback_is_the_built_in_ref_backend },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	return test_run_suite(s);
}
