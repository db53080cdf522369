/*
 * test_spool.c: what the spool keeps when a record is torn, by a crash
 * (a file left by an earlier process) or by a failed write: every record
 * acknowledged after it must still be replayed. The records are read back
 * here in the documented format (callbacks/spool_int.h), as the replay
 * does: each file up to its first damaged record.
 */
#include "callbacks/spool_int.h"

#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

struct fixture {
	char dir[64];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/vh-spool-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
put_record(FILE *out, const char *raw)
{
	char md5[33];

	md5_hex(raw, strlen(raw), md5);
	fprintf(out, "VH1 %d %d %zu %s\n%s\n", (int)VOD_ALIBABA, (int)VIA_PUSH,
		strlen(raw), md5, raw);
}

/* Append the intact records of path (up to the first damaged one). */
static void
read_file(const char *path, char *got, size_t cap)
{
	FILE *in = fopen(path, "r");
	char head[160], want[33], md5[33];
	size_t len;
	int prov, via;

	assert_non_null(in);
	while (fgets(head, sizeof(head), in) != NULL &&
	       sscanf(head, "VH1 %d %d %zu %32s", &prov, &via, &len, want) ==
		   4 &&
	       len < 4096) {
		char raw[4097];

		if (fread(raw, 1, len + 1, in) != len + 1 || raw[len] != '\n')
			break;
		raw[len] = '\0';
		md5_hex(raw, len, md5);
		if (strcmp(md5, want) != 0)
			break;
		strncat(got, raw, cap - strlen(got) - 2);
		strcat(got, ";");
	}
	fclose(in);
}

/* Every intact record in the spool, as "raw;raw;..." in file order. */
static void
recovered(const char *dir, char *got, size_t cap)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	assert_true(n >= 0);
	got[0] = '\0';
	/* the replay's order: replay-* oldest first, then what is active */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			const char *name = names[i]->d_name;
			char path[512];

			if ((pass == 0) != (strncmp(name, "replay-", 7) == 0) ||
			    (pass == 1 && strcmp(name, "active.spool") != 0))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			read_file(path, got, cap);
		}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int
write_one(struct spool *sp, const char *raw)
{
	enum vod_provider p = VOD_ALIBABA;
	enum vod_via v = VIA_PUSH;
	size_t len = strlen(raw);
	struct err e;

	return spool__append(sp, 1, &p, &v, &raw, &len, &e);
}

static void
test_file_torn_by_a_crash_is_not_appended_to(void **state)
{
	struct fixture *f = *state;
	char path[128], got[4096];
	struct spool *sp;
	struct err e;
	FILE *out;

	/* An earlier process spooled A, then died writing the next record. */
	snprintf(path, sizeof(path), "%s/active.spool", f->dir);
	out = fopen(path, "w");
	assert_non_null(out);
	put_record(out, "{\"A\":1}");
	fprintf(out, "VH1 %d %d 400 0123456789abcdef0123456789abcdef\n{\"to",
		(int)VOD_ALIBABA, (int)VIA_PUSH);
	fclose(out);

	assert_int_equal(spool__new(f->dir, &sp, &e), 0);
	assert_int_equal(write_one(sp, "{\"B\":2}"), 0);
	assert_int_equal(write_one(sp, "{\"C\":3}"), 0);
	spool__free(sp);
	recovered(f->dir, got, sizeof(got));
	assert_string_equal(got, "{\"A\":1};{\"B\":2};{\"C\":3};");
}

static void
test_failed_write_ends_its_file(void **state)
{
	struct fixture *f = *state;
	char big[1024], got[8192];
	struct rlimit was, lim;
	struct spool *sp;
	struct stat st;
	char path[128];
	struct err e;

	memset(big, 'x', sizeof(big) - 1);
	big[0] = '"', big[sizeof(big) - 2] = '"', big[sizeof(big) - 1] = '\0';
	assert_int_equal(spool__new(f->dir, &sp, &e), 0);
	assert_int_equal(write_one(sp, "{\"A\":1}"), 0);

	/* The file may grow by 100 bytes only: B is written in part, and
	 * refused (not acknowledged). */
	snprintf(path, sizeof(path), "%s/active.spool", f->dir);
	assert_int_equal(stat(path, &st), 0);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
	lim = was;
	lim.rlim_cur = (rlim_t)st.st_size + 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_not_equal(write_one(sp, big), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);

	/* C, acknowledged after the failure, is kept. */
	assert_int_equal(write_one(sp, "{\"C\":3}"), 0);
	spool__free(sp);
	recovered(f->dir, got, sizeof(got));
	assert_string_equal(got, "{\"A\":1};{\"C\":3};");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_file_torn_by_a_crash_is_not_appended_to, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_write_ends_its_file,
					    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
