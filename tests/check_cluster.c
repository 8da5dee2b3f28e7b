/*
 * check_cluster.c - cluster inventories (plan/cluster.h) and the deployment
 * search over them (plan/cplan.h): docs/machines' two-DGX inventory reads
 * back machine by machine; a broken inventory reports every problem with
 * its line; the search finds the degrees a hand count says fit, ranks them,
 * and its decode estimate for Llama-3.1-70B at tp 8 x pp 2 across the two
 * machines equals the bytes read and sent, counted by hand, over the
 * described bandwidths.
 */
#include <build-config.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/names.h"
#include "plan/cluster.h"
#include "plan/cplan.h"
#include "support/support.h"

#define GIB (UINT64_C(1) << 30)

static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/trit-cluster-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	if (test_remove_tree(tmpdir) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static const char *dgx_cluster(void)
{
	static char path[4096];
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";

	snprintf(path, sizeof path, "%s/docs/clusters/2x-dgx-h100.ini", top);
	return path;
}

static struct trit_model *model(const char *shape)
{
	char out[256], err[512];
	struct trit_model *m;

	snprintf(out, sizeof out, "%s/%s.gguf", tmpdir, shape);
	test_genmodel_file(shape, "gguf", "F16", out);
	ck_assert_msg(trit_model_open(out, &m, err, sizeof err) == 0, "%s", err);
	return m;
}

START_TEST(the_two_dgx_inventory_reads_back)
{
	struct trit_cluster c;
	char err[4096];

	ck_assert_msg(trit_cluster_read(dgx_cluster(), &c, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(c.n_machines, 2);
	ck_assert_uint_eq(c.network, 50000000000ull);
	ck_assert_uint_eq(c.n_gpus, 16);
	for (uint32_t i = 0; i < 2; i++) {
		ck_assert_uint_eq(c.machines[i].n_gpus, 8);
		ck_assert_uint_eq(c.machines[i].first_gpu, 8 * i);
		ck_assert_uint_eq(c.machines[i].gpu_link, 450000000000ull);
		ck_assert_uint_eq(c.machines[i].ram, 2048 * GIB);
	}
	ck_assert_str_eq(c.machines[1].name, "dgx1");
	ck_assert_str_eq(c.machines[1].address, "dgx1.cluster.internal");
	ck_assert_str_eq(c.gpus[9].host, "dgx1");
	ck_assert_str_eq(c.gpus[9].name, "gpu1");
	ck_assert_uint_eq(c.gpus[9].free, 80 * GIB);
	ck_assert_uint_eq(c.gpu_bandwidth[9], 3350000000000ull);
	ck_assert_uint_eq(c.gpu_machine[9], 1);
	trit_cluster_free(&c);
}
END_TEST

/* Every problem of a broken inventory, each with its line. */
START_TEST(a_broken_inventory_names_every_problem_with_its_line)
{
	char path[128], err[8192];
	struct trit_cluster c;
	FILE *f;
	static const char *const want[] = {
		":1: [cluster] network is not set",
		":2: [cluster] unknown key 'speed'; accepted keys: network",
		":4: [machine.a] address: 'not an address!' is not a host name or address",
		":5: [machine.a] devices: ",          /* the devices file's own error follows */
		":6: [machine.a] gpu_link: '9 parsecs' is not a bandwidth",
		":7: [machine.b] has no address",
		":7: [machine.b] has no devices",
		":9: [machine.a] is already described at line 3",
		":10: unknown section [rack]",
	};

	snprintf(path, sizeof path, "%s/broken.ini", tmpdir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("[cluster]\nspeed = fast\n[machine.a]\naddress = not an address!\n"
	      "devices = missing.ini\ngpu_link = 9 parsecs\n[machine.b]\n\n[machine.a]\n[rack]\n",
	      f);
	fclose(f);
	ck_assert_int_eq(trit_cluster_read(path, &c, err, sizeof err), TRIT_ECONFIG);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(err, want[i]), "no \"%s\" in:\n%s", want[i], err);
	ck_assert_msg(strstr(err, "missing.ini"), "the devices file is not named:\n%s", err);
}
END_TEST

/* Bytes a rank of a tp-8 stage over layers [a, b) of Llama-3.1-70B F16
 * reads per token: its eighth of every matrix (one of 8 KV heads for k, v),
 * the norms whole, its KV cache (8192 cells, one head, f16, K and V). */
static double llama70_stage_read(const struct trit_model *m, uint32_t a, uint32_t b)
{
	double sum = 0;

	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_model_tensor *t = &m->tensors[i];
		if (t->layer < (int32_t)a || t->layer >= (int32_t)b)
			continue;
		sum += trit_role_is_matrix(t->role) ? (double)t->n_bytes / 8 : (double)t->n_bytes;
	}
	return sum + (b - a) * 8192.0 * 128 * 2 * 2;
}

START_TEST(the_decode_estimate_counts_reads_links_and_the_network)
{
	struct trit_model *m = model("Llama-3.1-70B");
	struct trit_estimate_opts o = { .n_ctx = 8192, .n_seq = 1, .kv_type = TRIT_KV_F16,
	                                .headroom = -1, .n_ubatch = 512 };
	struct trit_cluster c;
	struct trit_cplan p;
	const struct trit_cplan_candidate *k = NULL;
	double head = 0, out_norm = 0, link, want;
	char err[4096];

	ck_assert_msg(trit_cluster_read(dgx_cluster(), &c, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(trit_cplan_make(m, &o, &c, 0.90, NULL, &p, err, sizeof err) == 0, "%s", err);
	for (uint32_t i = 0; i < p.n; i++)
		if (p.c[i].par.tp == 8 && p.c[i].par.pp == 2)
			k = &p.c[i];
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->verdict, TRIT_CAND_FITS);
	ck_assert_uint_eq(k->n_machines, 2);
	/* stage 1 on the second machine */
	ck_assert_uint_eq(k->gpu_index[8], 8);
	/* outside the layers, on the last stage: the head (128256 / 8 rows of
	 * f16), the output norm and the RoPE table; the token embeddings, on the
	 * first, are looked up, not read */
	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_model_tensor *t = &m->tensors[i];
		if (t->layer >= 0 || t->role == TRIT_ROLE_TOKEN_EMBD)
			continue;
		if (t->role == TRIT_ROLE_OUTPUT)
			head = 16032.0 * 8192 * 2;
		else
			out_norm += (double)t->n_bytes;
	}
	ck_assert(head > 0);
	/* two ring all-reduces a layer, 7/8 of an f16 hidden state each way */
	link = 40 * 2 * 2.0 * 7 / 8 * 8192 * 2;
	want = llama70_stage_read(m, 0, 40) / 3350e9 + link / 450e9 + /* stage 0 */
	       2.0 * 8192 * 2 / 50e9 +                                    /* hidden + residual */
	       (llama70_stage_read(m, 40, 80) + head + out_norm) / 3350e9 + link / 450e9;
	ck_assert_msg(fabs(k->tokens_per_s * want - 1) < 1e-9, "%.6f tokens/s, want %.6f",
	              k->tokens_per_s, 1 / want);
	ck_assert_uint_eq(k->net_bytes, 2 * 8192 * 2);
	ck_assert_uint_eq(k->link_bytes, (uint64_t)(2 * link));
	/* the best: all eight GPUs of one machine, nothing over the network */
	ck_assert_uint_eq(p.c[0].par.tp, 8);
	ck_assert_uint_eq(p.c[0].par.pp, 1);
	ck_assert_uint_eq(p.c[0].net_bytes, 0);
	/* tp 3 is refused once, with its reason */
	for (uint32_t i = 0, seen = 0; i < p.n; i++)
		if (p.c[i].par.tp == 3) {
			ck_assert_uint_eq(++seen, 1);
			ck_assert_int_eq(p.c[i].verdict, TRIT_CAND_REFUSED);
			ck_assert_msg(strstr(p.c[i].why, "64 attention heads"), "%s", p.c[i].why);
		}
	trit_cplan_free(&p);
	trit_cluster_free(&c);
	trit_model_close(m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("cluster");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_two_dgx_inventory_reads_back);
	tcase_add_test(tc, a_broken_inventory_names_every_problem_with_its_line);
	tcase_add_test(tc, the_decode_estimate_counts_reads_links_and_the_network);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
