/*
 * bench_model.c - how long analysing a model takes and how much memory it
 * needs, against a baseline measured in the same run: reading the file's
 * header bytes (everything before the tensor data) into memory.
 *
 * Time: best of N runs of each, warm page cache. Memory: peak RSS of a child
 * process that analyses the model, minus that of a child that only reads the
 * header (so the process' own footprint and the header bytes cancel out).
 * A benchmark, not a test: it prints numbers and the targets, never fails a build.
 */
#include <build-config.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model/gguf.h"
#include "model/model.h"
#include "plan/plan.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The baseline: read the first `bytes` of the file into a fresh buffer. */
static int read_header(const char *path, uint64_t bytes)
{
	char *buf = malloc(bytes ? bytes : 1);
	int fd = open(path, O_RDONLY);
	uint64_t got = 0;
	ssize_t n = 1;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (got < bytes && (n = read(fd, buf + got, bytes - got)) > 0)
		got += (uint64_t)n;
	close(fd);
	/* touch the bytes so the read cannot be optimised into nothing */
	volatile char sink = buf[got ? got - 1 : 0];
	(void)sink;
	free(buf);
	return got == bytes ? 0 : -1;
}

static int analyse(const char *path)
{
	struct trit_model *m;
	char err[512];

	if (trit_model_open(path, &m, err, sizeof err)) {
		fprintf(stderr, "bench_model: %s\n", err);
		return -1;
	}
	trit_model_close(m);
	return 0;
}

/* Analysis plus planning on a simulated machine (an 8 GiB GPU, 16 GiB of RAM):
 * what `trit plan` does after the devices are known. */
static int analyse_and_plan(const char *path)
{
	const uint64_t gib = UINT64_C(1) << 30;
	struct trit_device g = {
		.struct_size = sizeof g, .kind = TRIT_DEVICE_GPU, .id = "gpu0", .name = "bench GPU",
		.mem_total = { 8 * gib, TRIT_VALUE_CONFIGURED, 0, "bench" },
		.mem_free = { 7 * gib, TRIT_VALUE_CONFIGURED, 0, "bench" },
		.mem_bandwidth = { 272000000000ull, TRIT_VALUE_CONFIGURED, 0, "bench" },
	};
	struct trit_device c = {
		.struct_size = sizeof c, .kind = TRIT_DEVICE_CPU, .id = "cpu0", .name = "bench CPU",
		.mem_total = { 16 * gib, TRIT_VALUE_CONFIGURED, 0, "bench" },
		.mem_free = { 15 * gib, TRIT_VALUE_CONFIGURED, 0, "bench" },
		.compute_units = { 8, TRIT_VALUE_CONFIGURED, 0, "bench" },
	};
	struct trit_plan_device d[2] = { { .dev = &g, .backend = "bench" }, { .dev = &c, .backend = "bench" } };
	struct trit_plan_opts o = {
		.est = { .n_seq = 1, .kv_type = TRIT_KV_F16, .headroom = -1 },
		.max_gpu_layers = -1, .gpu_fraction = 0.90, .workspace_fraction = 0.80, .workspace_overhead = -1, .max_batch = 256,
	};
	struct trit_model *m;
	struct trit_plan_result p;
	char err[512];

	if (trit_model_open(path, &m, err, sizeof err) || trit_plan_make(m, d, 2, &o, &p, err, sizeof err)) {
		fprintf(stderr, "bench_model: %s\n", err);
		return -1;
	}
	trit_plan_result_free(&p);
	trit_model_close(m);
	return 0;
}

/* Peak RSS (KiB) of a child that runs what(path). */
static long child_maxrss(const char *path, uint64_t header, int analyse_it)
{
	struct rusage ru;
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(analyse_it ? (analyse(path) ? 1 : 0) : (read_header(path, header) ? 1 : 0));
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -1;
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	struct trit_gguf *g;
	char err[512];
	int runs = argc > 2 ? atoi(argv[2]) : 50;
	double best_read = 1e9, best_analyse = 1e9, best_plan = 1e9;
	uint64_t header;

	if (argc < 2 || runs < 1) {
		fprintf(stderr, "usage: bench_model MODEL.gguf [RUNS]\n");
		return 2;
	}
	if (trit_gguf_open(argv[1], &g, err, sizeof err)) {
		fprintf(stderr, "bench_model: %s\n", err);
		return 1;
	}
	header = g->data_offset;
	trit_gguf_close(g);

	for (int i = 0; i < runs; i++) {
		double t0 = now();
		if (read_header(argv[1], header))
			return 1;
		double t1 = now();
		if (analyse(argv[1]))
			return 1;
		double t2 = now();
		if (t1 - t0 < best_read)
			best_read = t1 - t0;
		if (t2 - t1 < best_analyse)
			best_analyse = t2 - t1;
		if (analyse_and_plan(argv[1]))
			return 1;
		double t3 = now();
		if (t3 - t2 < best_plan)
			best_plan = t3 - t2;
	}
	long rss_read = child_maxrss(argv[1], header, 0);
	long rss_analyse = child_maxrss(argv[1], header, 1);

	printf("model: %s\n", argv[1]);
	printf("header bytes: %llu\n", (unsigned long long)header);
	printf("baseline (read the header bytes), best of %d: %.3f ms\n", runs, best_read * 1e3);
	printf("trit_model_open + close, best of %d:          %.3f ms\n", runs, best_analyse * 1e3);
	printf("ratio analyse / read: %.2f\n", best_analyse / best_read);
	if (rss_read > 0 && rss_analyse > 0)
		printf("peak RSS: read-only child %ld KiB, analysing child %ld KiB, extra %ld KiB "
		       "(%.2f MiB)\n", rss_read, rss_analyse, rss_analyse - rss_read,
		       (double)(rss_analyse - rss_read) / 1024.0);
	printf("analyse + plan (8 GiB GPU + 16 GiB RAM), best of %d: %.3f ms\n", runs, best_plan * 1e3);
	printf("ratio plan / analyse (trit plan vs trit inspect): %.2f\n", best_plan / best_analyse);
	printf("targets: analyse < 5 ms: %s; extra memory < 10 MiB: %s; plan < 20 ms: %s\n",
	       best_analyse < 0.005 ? "met" : "NOT met",
	       rss_read > 0 && rss_analyse - rss_read < 10 * 1024 ? "met" : "NOT met",
	       best_plan < 0.020 ? "met" : "NOT met");
	return 0;
}
