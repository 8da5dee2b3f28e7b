/*
 * check_load_big.c - the loader on full-size models (a TAP test of make check).
 *
 * trit-genmodel writes sparse GGUFs sized as the real ones: Llama-3-8B's
 * shape with I2_S matrices (the Llama3-8B-1.58 layout, 3.85 GB) and with
 * F16 ones (16 GB, so tensor offsets pass 4 GiB). Each is loaded onto the
 * cpu_avx2 plugin through the registry: in place, where the process' peak
 * RSS must stay within 5% of what it held before plus the buffers the load
 * allocated and its own tables (bookkeeping_bytes; the mapping's pages are
 * never read); copied (the same bound:
 * the copies are what it allocated; skipped when the machine lacks the
 * RAM); and repacked to TL2, where the peak may add the repacked buffers
 * and one chunk. The numbers are printed for the record.
 *
 * A model is skipped when the temporary directory's file system has less
 * free than the file's size plus a margin (5 and 17 GiB: the files are
 * sparse, but a file system without holes would write them out); all is
 * skipped when cpu_avx2 does not load on this CPU. TRIT_TEST_LOAD_BIG_NO_REPACK
 * leaves out the TL2 repack of the I2_S model, the slow part (24 s on two
 * shared cores).
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <trit/trit.h>

#include "load/load.h"
#include "model/model.h"
#include "support/support.h"

#define MIB (1024.0 * 1024.0)

static int failed(const char *what)
{
	printf("# %s\n", what);
	return 1;
}

/* The cpu_avx2 plugin of this build tree; 1 (after a TAP skip plan) without it. */
static int open_cpu(struct trit_registry **reg, struct trit_load_target *lt)
{
	char path[1024], err[512];
	const char *top = getenv("top_builddir"), *files[1] = { path };
	struct trit_registry_options o = {
		.flags = TRIT_REGISTRY_NO_ENV | TRIT_REGISTRY_NO_DEFAULT_DIRS | TRIT_REGISTRY_NO_BUILTIN,
		.plugin_files = files, .n_plugin_files = 1,
	};

	snprintf(path, sizeof path, "%s/plugins/cpu_avx2/cpu_avx2.la", top ? top : ".");
	if (trit_registry_open(&o, reg, err, sizeof err) != 0) {
		printf("1..0 # SKIP the registry did not open %s: %s\n", path, err);
		return 1;
	}
	for (size_t i = 0; i < trit_registry_plugin_count(*reg); i++) {
		const struct trit_plugin_info *p = trit_registry_plugin(*reg, i);
		if (strcmp(p->name, "cpu_avx2") != 0)
			continue;
		if (p->status != TRIT_PLUGIN_LOADED || p->n_devices == 0) {
			printf("1..0 # SKIP cpu_avx2 did not load: %s\n", p->reason ? p->reason : "no device");
			return 1;
		}
		memset(lt, 0, sizeof *lt);
		lt->t.be = trit_registry_backend(*reg, i, &lt->t.state);
		lt->t.name = "cpu_avx2/cpu0";
		return 0;
	}
	printf("1..0 # SKIP no cpu_avx2 plugin in %s\n", path);
	return 1;
}

static void show(const char *label, const struct trit_load_report *r)
{
	printf("# %s: %.2f s; model %.1f MiB; RSS before %.1f, peak %.1f (%s), after %.1f MiB; "
	       "peak/model %.3f, (peak-before)/model %.4f; in place %u (%.1f MiB), copied %u "
	       "(%.1f MiB), repacked %u (%.1f MiB); allocated %.1f MiB, chunk %.1f MiB\n",
	       label, r->seconds, r->model_bytes / MIB, r->rss_before / MIB, r->rss_peak / MIB,
	       r->peak_source == TRIT_LOAD_PEAK_HWM ? "VmHWM reset" : "sampled",
	       r->rss_after / MIB, (double)r->rss_peak / (double)r->model_bytes,
	       (double)(r->rss_peak - r->rss_before) / (double)r->model_bytes, r->n_in_place,
	       r->bytes_in_place / MIB, r->n_copied, r->bytes_copied / MIB, r->n_repacked,
	       r->bytes_repacked / MIB, r->bytes_allocated / MIB, r->staging_peak / MIB);
	fflush(stdout);
}

/* The process' RSS split, for the record. */
static void status_lines(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "RssAnon", 7) == 0 || strncmp(line, "RssFile", 7) == 0)
			printf("#   %s", line);
	if (f)
		fclose(f);
}

/* Whether this build is instrumented (configure's TRIT_SANITIZER, exported by
 * make check): its peak RSS holds the sanitizer's own memory, which no plan
 * counts, so the peak bound is checked in the plain builds only. */
static int sanitized(void)
{
	const char *s = getenv("TRIT_TEST_SANITIZER");
	return s && *s;
}

/* Load `path` onto lt; check the placement and the peak. */
/* A way of loading: in place (0), a ternary type to repack into, or this:
 * every tensor copied (allow_zero_copy = 0). */
#define WAY_COPY UINT32_MAX

static int run(const char *path, struct trit_load_target *lt, uint32_t ternary, const char *label)
{
	int copy = ternary == WAY_COPY;
	struct trit_model *m;
	struct trit_weights *w;
	struct trit_load_report r;
	struct trit_load_spec s = { .targets = lt, .n_targets = 1, .allow_zero_copy = 1 };
	uint32_t *layers;
	char err[512];
	double bound;
	int rc = 0;

	if (trit_model_open(path, &m, err, sizeof err) != 0)
		return failed(err);
	layers = calloc(m->hp.n_layer, sizeof *layers);
	s.layer_target = layers;
	s.allow_zero_copy = !copy;
	lt->ternary_type = ternary = copy ? 0 : ternary;
	if (!layers || (rc = trit_load(m, &s, &w, &r, err, sizeof err)) != 0) {
		free(layers);
		trit_model_close(m);
		if (copy && rc == TRIT_ENOMEM) { /* this machine lacks the RAM: say so */
			printf("# %s: skipped, %s\n", label, err);
			return 0;
		}
		return failed(err);
	}
	show(label, &r);
	status_lines();
	bound = 1.05 * (double)(r.rss_before + r.bytes_allocated + r.staging_peak +
	                        r.bookkeeping_bytes);
	if (r.n_in_place + r.n_copied + r.n_repacked != m->n_tensors)
		rc = failed("the report's counts do not add up to the tensors");
	else if (copy && r.n_copied != m->n_tensors)
		rc = failed("a tensor was not copied with allow_zero_copy = 0");
	else if (!copy && !ternary && r.n_in_place != m->n_tensors)
		rc = failed("a tensor cpu_avx2 runs as stored was not placed in place");
	else if (ternary && r.n_repacked == 0)
		rc = failed("no tensor was repacked");
	else if (sanitized())
		printf("#   peak bound not checked: a %s-sanitized build's allocator and shadow "
		       "memory are resident too\n", getenv("TRIT_TEST_SANITIZER"));
	else if ((double)r.rss_peak > bound)
		rc = failed("peak RSS above 1.05 x (RSS before + allocated buffers + one chunk + "
		            "the loader's tables)");
	printf("#   peak %.1f MiB, bound %.1f MiB (the loader's tables: %.1f KiB)\n", r.rss_peak / MIB,
	       bound / MIB, r.bookkeeping_bytes / 1024.0);
	trit_weights_free(w);
	free(layers);
	trit_model_close(m);
	return rc;
}

/* Write the Llama-3-8B-shaped model of `type` into dir; its path. */
static int model(const char *dir, const char *type, char *path, size_t len)
{
	char args[1400];

	snprintf(path, len, "%s/llama3-8b-%s.gguf", dir, type);
	snprintf(args, sizeof args, "--shape Llama-3.1-8B --format gguf --type %s -o '%s'", type,
	         path);
	return test_genmodel(args) == 0 ? 0 : failed("trit-genmodel did not write the model");
}

/* Free bytes where the models go. */
static unsigned long long disk_free(const char *dir)
{
	struct statvfs v;
	return statvfs(dir, &v) == 0 ? (unsigned long long)v.f_bavail * v.f_frsize : 0;
}

/* Test `n` of the plan: write the model, load it each way asked, delete it.
 * Skipped (TAP) when the disk could not hold it written out. */
static int check_model(int n, const char *dir, const char *type, double gib,
                       struct trit_load_target *lt, const uint32_t *ternary, int n_ways)
{
	char path[600], label[160];
	int rc;

	if ((double)disk_free(dir) < gib * 1024.0 * 1024.0 * 1024.0) {
		printf("ok %d # SKIP %s has %.1f GiB free; the sparse %s model needs %.0f GiB on a "
		       "file system without holes\n", n, dir, disk_free(dir) / (1024.0 * MIB), type, gib);
		return 0;
	}
	rc = model(dir, type, path, sizeof path);
	for (int k = 0; k < n_ways && !rc; k++) {
		snprintf(label, sizeof label, "Llama-3-8B %s, %s", type,
		         ternary[k] == WAY_COPY ? "copied" : ternary[k] ? "repacked to TL2" :
		         "in place");
		rc = run(path, lt, ternary[k], label);
	}
	unlink(path);
	printf("%sok %d - Llama-3-8B shape, %s: placed, counts add up, peak RSS bounded\n",
	       rc ? "not " : "", n, type);
	return rc;
}

int main(void)
{
	static const uint32_t i2s_ways[3] = { 0, WAY_COPY, TRIT_TYPE_TL2 }, f16_ways[1] = { 0 };
	char dir[512];
	const char *tmp = getenv("TMPDIR");
	struct trit_registry *reg = NULL;
	struct trit_load_target lt;
	int rc;

	test_clear_trit_env();
	snprintf(dir, sizeof dir, "%s/load_big.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP cannot create a directory under %s\n", tmp ? tmp : "/tmp");
		return 0;
	}
	if (open_cpu(&reg, &lt) != 0) {
		trit_registry_close(reg);
		test_remove_tree(dir);
		return 0;
	}
	printf("1..2\n");
	/* I2_S: 3.9 GB, in place, copied and (unless told not to) repacked to TL2 */
	rc = check_model(1, dir, "I2_S", 5.0, &lt, i2s_ways,
	                 getenv("TRIT_TEST_LOAD_BIG_NO_REPACK") ? 2 : 3);
	/* F16: 16 GB, tensors past 4 GiB, in place */
	rc |= check_model(2, dir, "F16", 17.0, &lt, f16_ways, 1);
	trit_registry_close(reg);
	test_remove_tree(dir);
	return rc ? 1 : 0;
}
