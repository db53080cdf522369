/*
 * test_source.c: upload/source.c's confinement of local paths to the upload
 * root (links resolved), its refusal of private URLs, and its telling a file
 * written after it was opened. Uses a temporary
 * directory; no network (only literal addresses are resolved).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "upload/upload_int.h"

static char root[256], outside[256];

static int
setup(void **state)
{
	char p[512];
	FILE *f;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/vh-src-XXXXXX");
	snprintf(outside, sizeof(outside), "/tmp/vh-out-XXXXXX");
	if (mkdtemp(root) == NULL || mkdtemp(outside) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/a.mp4", root);
	f = fopen(p, "w");
	fputs("hello", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/secret.mp4", outside);
	f = fopen(p, "w");
	fputs("secret", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/link.mp4", root);
	{
		char target[512];

		snprintf(target, sizeof(target), "%s/secret.mp4", outside);
		if (symlink(target, p) != 0)
			return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, outside);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_path_confined(void **state)
{
	struct upload_source_opts o = {.root = root, .max_bytes = 100};
	char p[512], *res = NULL;
	int64_t size = 0;
	struct err e;

	(void)state;
	snprintf(p, sizeof(p), "%s/a.mp4", root);
	assert_int_equal(upload__path_check(&o, p, &res, &size, &e), 0);
	assert_int_equal(size, 5);
	free(res);
	/* Relative to the root. */
	assert_int_equal(upload__path_check(&o, "a.mp4", &res, &size, &e), 0);
	free(res);
	/* A link out of the root is refused once resolved. */
	snprintf(p, sizeof(p), "%s/link.mp4", root);
	assert_int_equal(upload__path_check(&o, p, &res, &size, &e),
			 ERR_FORBIDDEN);
	snprintf(p, sizeof(p), "%s/../%s/secret.mp4", root,
		 strrchr(outside, '/') + 1);
	assert_int_equal(upload__path_check(&o, p, &res, &size, &e),
			 ERR_FORBIDDEN);
	/* A sibling sharing the root's prefix is outside it. */
	assert_int_equal(upload__path_check(&o, "/etc/passwd", &res, &size, &e),
			 ERR_FORBIDDEN);
	/* Missing outside the root: still forbidden, nothing revealed. */
	assert_int_equal(
	    upload__path_check(&o, "/nonexistent/x.mp4", &res, &size, &e),
	    ERR_FORBIDDEN);
	/* Missing: invalid input (400). */
	snprintf(p, sizeof(p), "%s/none.mp4", root);
	assert_int_equal(upload__path_check(&o, p, &res, &size, &e), ERR_INPUT);
	/* A directory is not a file. */
	snprintf(p, sizeof(p), "%s/d", root);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(upload__path_check(&o, p, &res, &size, &e), ERR_INPUT);
	/* Too large. */
	o.max_bytes = 3;
	snprintf(p, sizeof(p), "%s/a.mp4", root);
	assert_int_equal(upload__path_check(&o, p, &res, &size, &e), ERR_LIMIT);
	/* No root configured: nothing local is accepted. */
	o.root = "";
	assert_int_equal(upload__path_check(&o, p, &res, &size, &e),
			 ERR_FORBIDDEN);
}

static void
test_url_private(void **state)
{
	struct upload_source_opts o = {0};
	struct err e;
	static const char *const refused[] = {
	    "http://127.0.0.1/x.mp4",	   "http://10.1.2.3/x.mp4",
	    "https://192.168.0.1/x.mp4",   "http://172.16.5.5:8080/x.mp4",
	    "http://169.254.169.254/x",	   "http://[::1]/x.mp4",
	    "http://[fd00::1]/x.mp4",	   "http://0.0.0.0/x.mp4",
	    "http://[::ffff:127.0.0.1]/x", "http://100.64.0.1/x",
	    "http://198.18.0.1/x",	   "http://192.0.0.1/x",
	    "http://2130706433/x" /* 127.0.0.1 */};
	static const char *const always[] = {"http://198.18.0.1/x.mp4",
					     "http://192.0.0.1/x.mp4",
					     "http://169.254.169.254/latest",
					     "http://0.0.0.0/x",
					     "http://[fe80::1]/x",
					     "http://[64:ff9b::7f00:1]/x",
					     "http://[2002:7f00:1::1]/x",
					     "http://100.100.100.200/x"};

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_int_equal(upload__url_check(&o, refused[i], &e),
				 ERR_FORBIDDEN);
	assert_int_equal(upload__url_check(&o, "http://8.8.8.8/x.mp4", &e), 0);
	assert_int_equal(upload__url_check(&o, "ftp://8.8.8.8/x", &e),
			 ERR_INPUT);
	assert_int_equal(upload__url_check(&o, "not a url", &e), ERR_INPUT);
	o.allow_private_urls = true;
	assert_int_equal(upload__url_check(&o, "http://127.0.0.1/x.mp4", &e),
			 0);
	/* The setting opens loopback and private-use blocks only. */
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++) {
		err_clear(&e);
		assert_int_equal(upload__url_check(&o, always[i], &e),
				 ERR_FORBIDDEN);
		assert_non_null(strstr(e.msg, "always refused"));
	}
	/* Through a proxy, names are the proxy's to resolve; a literal
	 * address is still checked. */
	o.proxy = "http://127.0.0.1:9";
	assert_int_equal(
	    upload__url_check(&o, "http://no-such-host.invalid/x.mp4", &e), 0);
	assert_int_equal(upload__url_check(&o, "http://198.18.0.1/x", &e),
			 ERR_FORBIDDEN);
}

/* Write "abcde" over the file at path, then put its modification time back
 * as it was (touch -r, cp -p): only the status-change time still moves. */
static void
rewrite_keeping_mtime(const char *path)
{
	struct stat before, after;
	struct timespec times[2];
	FILE *f;

	assert_int_equal(stat(path, &before), 0);
	times[0] = before.st_atim;
	times[1] = before.st_mtim;
	/* The clock stamping the times moves in ticks of a few ms: write
	 * until the status-change time is another (a second at most). */
	for (int i = 0; i < 1000; i++) {
		f = fopen(path, "r+");
		assert_non_null(f);
		assert_int_equal(fputs("abcde", f) >= 0, 1);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
		assert_int_equal(stat(path, &after), 0);
		if (after.st_ctim.tv_sec != before.st_ctim.tv_sec ||
		    after.st_ctim.tv_nsec != before.st_ctim.tv_nsec)
			break;
		usleep(1000);
	}
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	assert_int_equal(after.st_size, before.st_size);
}

static void
test_file_written_after_open(void **state)
{
	struct upload_source_opts o = {.root = root, .max_bytes = 100};
	struct upload_job job = {.source_kind = "file"};
	struct upload_source *src = NULL, *again = NULL;
	char p[512], v1[400];
	struct err e;

	(void)state;
	snprintf(p, sizeof(p), "%s/changing.mp4", root);
	{
		FILE *f = fopen(p, "w");

		assert_non_null(f);
		fputs("01234", f);
		assert_int_equal(fclose(f), 0);
	}
	job.source = p;
	err_clear(&e);
	assert_int_equal(upload__source_new(&o, &job, 0, NULL, &src, &e), 0);
	snprintf(v1, sizeof(v1), "%s", upload__source_version(src));
	assert_int_equal(strncmp(v1, "file ", 5), 0);
	assert_int_equal(upload__source_check(src, &e), 0);

	/* Same size, same mtime, other bytes: still seen. */
	rewrite_keeping_mtime(p);
	assert_int_equal(upload__source_check(src, &e), ERR_UNAVAIL);
	assert_string_equal(e.remote, "SourceChanged");
	assert_non_null(strstr(e.msg, "5 bytes when opened, 5 now, written"));
	/* Opened again, its version is another: a resume starts over. */
	assert_int_equal(upload__source_new(&o, &job, 0, NULL, &again, &e), 0);
	assert_string_not_equal(upload__source_version(again), v1);
	assert_int_equal(upload__source_check(again, &e), 0);
	upload__source_free(again);
	upload__source_free(src);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_confined),
	    cmocka_unit_test(test_url_private),
	    cmocka_unit_test(test_file_written_after_open),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
