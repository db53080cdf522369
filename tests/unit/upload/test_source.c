/*
 * test_source.c: upload/source.c's confinement of local paths to the upload
 * root (links resolved) and its refusal of private URLs. Uses a temporary
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
	    "http://[::ffff:127.0.0.1]/x", "http://100.64.0.1/x"};

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
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_confined),
	    cmocka_unit_test(test_url_private),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
