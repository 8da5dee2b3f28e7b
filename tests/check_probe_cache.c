/*
 * check_probe_cache.c - the specification of runtime/backend/probe_cache.c,
 * the store behind the host table's cache_get/cache_put: a value is served
 * only to the same plugin file with the same stamp while it is young enough;
 * a damaged, hostile or foreign file is a warning and an empty cache, never
 * a crash; the file stays bounded; nothing is written when nothing changed.
 */
#include <build-config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <trit/trit.h>

#include "backend/probe_cache.h"
#include "support/support.h"

static char dir[64], path[128], warned[1024];

static void sink(void *ctx, int level, const char *message)
{
	(void)ctx;
	if (level <= TRIT_LOG_WARN)
		snprintf(warned, sizeof warned, "%s", message);
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/trit-pcache-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/sub/probe.json", dir);
	warned[0] = '\0';
	trit_log_set_sink(sink, NULL);
}

static void teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	trit_log_set_sink(NULL, NULL);
}

static void write_file(const char *text)
{
	char sub[160];
	FILE *f;

	snprintf(sub, sizeof sub, "%s/sub", dir);
	mkdir(sub, 0700);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static int get(struct trit_probe_cache *pc, const char *id, const char *key, const char *stamp,
               char *v, size_t len)
{
	return trit_probe_cache_get(pc, "cpu_x", id, key, stamp, v, len, NULL);
}

START_TEST(a_value_comes_back_in_the_next_run_for_the_same_stamp_and_file)
{
	struct trit_probe_cache *pc = trit_probe_cache_open(path, 3600, 0);
	char v[64];
	uint64_t age = 99;

	ck_assert_int_eq(get(pc, "id1", "cpu0.bw", "s1", v, sizeof v), 0);
	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "id1", "cpu0.bw", "s1", "123"), 0);
	trit_probe_cache_save(pc);
	trit_probe_cache_close(pc);

	pc = trit_probe_cache_open(path, 3600, 0);
	ck_assert_int_eq(trit_probe_cache_get(pc, "cpu_x", "id1", "cpu0.bw", "s1", v, sizeof v,
	                                      &age), 1);
	ck_assert_str_eq(v, "123");
	ck_assert_uint_le(age, 5);
	/* another stamp, another plugin file, another plugin, another key: none */
	ck_assert_int_eq(get(pc, "id1", "cpu0.bw", "s2", v, sizeof v), 0);
	ck_assert_int_eq(get(pc, "id2", "cpu0.bw", "s1", v, sizeof v), 0);
	ck_assert_int_eq(trit_probe_cache_get(pc, "cpu_y", "id1", "cpu0.bw", "s1", v, sizeof v,
	                                      NULL), 0);
	ck_assert_int_eq(get(pc, "id1", "cpu1.bw", "s1", v, sizeof v), 0);
	/* too small a buffer is the caller's error, not a miss */
	ck_assert_int_eq(get(pc, "id1", "cpu0.bw", "s1", v, 3), TRIT_ERANGE);
	trit_probe_cache_close(pc);
	ck_assert_str_eq(warned, "");
}
END_TEST

/* The same plugin built in two trees (two files, two ids): each keeps its
 * measurement, so alternating between the trees measures nothing again. */
START_TEST(two_files_of_one_plugin_keep_their_own_entries)
{
	struct trit_probe_cache *pc = trit_probe_cache_open(path, 3600, 0);
	char v[64];

	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "tree-a", "cpu0.bw", "s1", "100"), 0);
	trit_probe_cache_save(pc);
	trit_probe_cache_close(pc);
	pc = trit_probe_cache_open(path, 3600, 0);
	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "tree-b", "cpu0.bw", "s1", "200"), 0);
	trit_probe_cache_save(pc);
	trit_probe_cache_close(pc);
	pc = trit_probe_cache_open(path, 3600, 0);
	ck_assert_int_eq(get(pc, "tree-a", "cpu0.bw", "s1", v, sizeof v), 1);
	ck_assert_str_eq(v, "100");
	ck_assert_int_eq(get(pc, "tree-b", "cpu0.bw", "s1", v, sizeof v), 1);
	ck_assert_str_eq(v, "200");
	trit_probe_cache_close(pc);
}
END_TEST

START_TEST(remeasure_and_max_age_and_off_make_every_get_miss)
{
	struct trit_probe_cache *pc;
	char v[64], text[512];

	/* measured two hours ago */
	snprintf(text, sizeof text, "{\"format\": 1, \"entries\": [{\"plugin\": \"cpu_x\", "
	         "\"plugin_id\": \"id1\", \"key\": \"k\", \"stamp\": \"s\", \"value\": \"7\", "
	         "\"measured_at\": %lld}]}", (long long)time(NULL) - 7200);
	write_file(text);
	pc = trit_probe_cache_open(path, 7300, 0);
	ck_assert_int_eq(get(pc, "id1", "k", "s", v, sizeof v), 1);
	trit_probe_cache_close(pc);
	pc = trit_probe_cache_open(path, 3600, 0);   /* older than the limit */
	ck_assert_int_eq(get(pc, "id1", "k", "s", v, sizeof v), 0);
	trit_probe_cache_close(pc);
	pc = trit_probe_cache_open(path, 7300, 1);   /* --remeasure */
	ck_assert_int_eq(get(pc, "id1", "k", "s", v, sizeof v), 0);
	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "id1", "k", "s", "8"), 0);
	/* ... but what this run stored reads back (a plugin checks that the
	 * cache keeps values that way: cpu_avx2's choose.c and peak.c) */
	ck_assert_int_eq(get(pc, "id1", "k", "s", v, sizeof v), 1);
	ck_assert_str_eq(v, "8");
	trit_probe_cache_save(pc);
	trit_probe_cache_close(pc);
	pc = trit_probe_cache_open(path, 7300, 0);   /* the new value replaced the old */
	ck_assert_int_eq(get(pc, "id1", "k", "s", v, sizeof v), 1);
	ck_assert_str_eq(v, "8");
	trit_probe_cache_close(pc);
	pc = trit_probe_cache_open(NULL, 7300, 0);   /* off: misses, puts dropped */
	ck_assert_ptr_null(trit_probe_cache_path(pc));
	ck_assert_int_eq(get(pc, "id1", "k", "s", v, sizeof v), 0);
	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "id1", "k", "s", "9"), 0);
	trit_probe_cache_close(pc);
}
END_TEST

START_TEST(a_time_in_the_future_is_not_trusted)
{
	struct trit_probe_cache *pc;
	char v[64], text[512];

	snprintf(text, sizeof text, "{\"format\": 1, \"entries\": [{\"plugin\": \"cpu_x\", "
	         "\"plugin_id\": \"id1\", \"key\": \"k\", \"stamp\": \"s\", \"value\": \"7\", "
	         "\"measured_at\": %lld}]}", (long long)time(NULL) + 86400);
	write_file(text);
	pc = trit_probe_cache_open(path, 604800, 0);
	ck_assert_int_eq(get(pc, "id1", "k", "s", v, sizeof v), 0);
	trit_probe_cache_close(pc);
}
END_TEST

/* Each of these files is ignored with a warning naming it, and replaced by
 * a good file at the next save. */
static const char *const damaged[] = {
	"not json at all",
	"[1, 2, 3]",
	"{\"format\": 2, \"entries\": []}",
	"{\"format\": 1, \"entries\": {}}",
	"{\"format\": 1, \"entries\": [{\"plugin\": \"cpu_x\"}]}",
	"{\"format\": 1, \"entries\": [{\"plugin\": \"cpu_x\", \"plugin_id\": \"i\", \"key\": "
	"\"BAD KEY\", \"stamp\": \"s\", \"value\": \"1\", \"measured_at\": 1}]}",
	"{\"format\": 1, \"entries\": [{\"plugin\": \"cpu_x\", \"plugin_id\": \"i\", \"key\": "
	"\"k\", \"stamp\": \"s\\u001b[2J\", \"value\": \"1\", \"measured_at\": 1}]}",
	"{\"format\": 1, \"entries\": [{\"plugin\": \"cpu_x\", \"plugin_id\": \"i\", \"key\": "
	"\"k\", \"stamp\": \"s\", \"value\": 1, \"measured_at\": 1}]}",
	"{\"format\": 1, \"entries\": [{\"plugin\": \"cpu_x\", \"plugin_id\": \"i\", \"key\": "
	"\"k\", \"stamp\": \"s\", \"value\": \"1\", \"measured_at\": -5}]}",
};

START_TEST(a_damaged_file_is_a_warning_and_an_empty_cache_then_rewritten)
{
	struct trit_probe_cache *pc;
	char v[64];

	write_file(damaged[_i]);
	pc = trit_probe_cache_open(path, 604800, 0);
	ck_assert_ptr_nonnull(pc);
	ck_assert_msg(strstr(warned, "ignoring the probe cache") && strstr(warned, path),
	              "case %d warned '%s'", _i, warned);
	ck_assert_int_eq(get(pc, "i", "k", "s", v, sizeof v), 0);
	trit_probe_cache_save(pc);   /* dirty: the damaged file is replaced */
	trit_probe_cache_close(pc);
	warned[0] = '\0';
	pc = trit_probe_cache_open(path, 604800, 0);
	ck_assert_str_eq(warned, "");
	trit_probe_cache_close(pc);
}
END_TEST

START_TEST(a_directory_or_a_fifo_in_its_place_is_a_warning_not_a_hang)
{
	struct trit_probe_cache *pc;
	char sub[160];

	snprintf(sub, sizeof sub, "%s/sub", dir);
	mkdir(sub, 0700);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	pc = trit_probe_cache_open(path, 604800, 0);
	ck_assert_msg(strstr(warned, "FIFO"), "warned '%s'", warned);
	trit_probe_cache_close(pc);
	unlink(path);
	mkdir(path, 0700);
	warned[0] = '\0';
	pc = trit_probe_cache_open(path, 604800, 0);
	ck_assert_msg(strstr(warned, "directory"), "warned '%s'", warned);
	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "i", "k", "s", "1"), 0);
	warned[0] = '\0';
	trit_probe_cache_save(pc);   /* cannot replace a directory: a warning */
	ck_assert_msg(strstr(warned, "probe cache"), "warned '%s'", warned);
	trit_probe_cache_close(pc);
}
END_TEST

START_TEST(keys_stamps_and_values_are_checked)
{
	struct trit_probe_cache *pc = trit_probe_cache_open(path, 604800, 0);
	char v[64], big[TRIT_HOST_CACHE_VALUE_MAX + 2];

	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "i", "", "s", "1"), TRIT_EINVAL);
	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "i", "Key", "s", "1"), TRIT_EINVAL);
	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "i", "k", "a\nb", "1"), TRIT_EINVAL);
	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "i", "k", "s", "\x1b[2J"), TRIT_EINVAL);
	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "i", "k", "s", NULL), TRIT_EINVAL);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "i", "k", "s", big), TRIT_EINVAL);
	big[TRIT_HOST_CACHE_VALUE_MAX] = '\0';
	ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "i", "k", "s", big), 0);
	ck_assert_int_eq(get(pc, "i", "k!", "s", v, sizeof v), TRIT_EINVAL);
	ck_assert_int_eq(get(pc, "i", "k", NULL, v, sizeof v), TRIT_EINVAL);
	trit_probe_cache_close(pc);
}
END_TEST

START_TEST(the_file_stays_bounded_and_is_written_only_when_changed)
{
	struct trit_probe_cache *pc = trit_probe_cache_open(path, 604800, 0);
	char key[32], v[16];
	struct stat st1, st2;

	for (unsigned i = 0; i < TRIT_PROBE_CACHE_MAX_ENTRIES + 100; i++) {
		snprintf(key, sizeof key, "k%u", i);
		ck_assert_int_eq(trit_probe_cache_put(pc, "cpu_x", "i", key, "s", "1"), 0);
	}
	trit_probe_cache_save(pc);
	trit_probe_cache_close(pc);
	pc = trit_probe_cache_open(path, 604800, 0);
	ck_assert_str_eq(warned, "");
	ck_assert_int_eq(get(pc, "i", "k2147", "s", v, sizeof v), 1);  /* the newest stays */
	ck_assert_int_eq(stat(path, &st1), 0);
	sleep(1);
	trit_probe_cache_save(pc);   /* nothing stored: the file is not touched */
	trit_probe_cache_close(pc);
	ck_assert_int_eq(stat(path, &st2), 0);
	ck_assert_int_eq(st1.st_mtime, st2.st_mtime);
	ck_assert_int_eq(st1.st_ino, st2.st_ino);
}
END_TEST

START_TEST(two_processes_saving_keep_each_others_measurements)
{
	struct trit_probe_cache *a, *b, *c;
	char v[64];

	a = trit_probe_cache_open(path, 604800, 0);
	ck_assert_int_eq(trit_probe_cache_put(a, "cpu_x", "i", "old", "s", "0"), 0);
	trit_probe_cache_save(a);
	trit_probe_cache_close(a);

	/* both read the file, then each stores something else and saves */
	a = trit_probe_cache_open(path, 604800, 0);
	b = trit_probe_cache_open(path, 604800, 0);
	ck_assert_int_eq(trit_probe_cache_put(a, "cpu_x", "i", "from_a", "s", "1"), 0);
	ck_assert_int_eq(trit_probe_cache_put(a, "cpu_x", "i", "old", "s", "a"), 0);
	trit_probe_cache_save(a);
	ck_assert_int_eq(trit_probe_cache_put(b, "ocl", "j", "from_b", "s", "2"), 0);
	trit_probe_cache_save(b);   /* b still holds "old" = 0 as read: a's newer one stays */
	trit_probe_cache_close(a);
	trit_probe_cache_close(b);

	c = trit_probe_cache_open(path, 604800, 0);
	ck_assert_int_eq(get(c, "i", "from_a", "s", v, sizeof v), 1);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(trit_probe_cache_get(c, "ocl", "j", "from_b", "s", v, sizeof v, NULL), 1);
	ck_assert_str_eq(v, "2");
	ck_assert_int_eq(get(c, "i", "old", "s", v, sizeof v), 1);
	ck_assert_str_eq(v, "a");
	trit_probe_cache_close(c);
	ck_assert_str_eq(warned, "");
}
END_TEST

#define ADD(s, t) do { TCase *tc = tcase_create(#t); tcase_add_checked_fixture(tc, setup, teardown); \
	tcase_add_test(tc, t); suite_add_tcase(s, tc); } while (0)

int main(void)
{
	Suite *s = suite_create("probe_cache");
	TCase *loop;

	ADD(s, a_value_comes_back_in_the_next_run_for_the_same_stamp_and_file);
	ADD(s, two_files_of_one_plugin_keep_their_own_entries);
	ADD(s, remeasure_and_max_age_and_off_make_every_get_miss);
	ADD(s, a_time_in_the_future_is_not_trusted);
	loop = tcase_create("damaged");
	tcase_add_checked_fixture(loop, setup, teardown);
	tcase_add_loop_test(loop, a_damaged_file_is_a_warning_and_an_empty_cache_then_rewritten, 0,
	                    (int)(sizeof damaged / sizeof damaged[0]));
	suite_add_tcase(s, loop);
	ADD(s, a_directory_or_a_fifo_in_its_place_is_a_warning_not_a_hang);
	ADD(s, keys_stamps_and_values_are_checked);
	ADD(s, the_file_stays_bounded_and_is_written_only_when_changed);
	ADD(s, two_processes_saving_keep_each_others_measurements);
	return test_run_suite(s);
}
