/*
 * test_url.c: webhooks/url.c, which URLs a subscription may name. Literal
 * addresses only, so that nothing here needs a resolver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "webhooks/webhooks.h"

/* webhook_url_check's code for url under (allow_http, allow_private). */
static int
check(bool allow_http, bool allow_private, const char *url, char *msg, size_t n)
{
	struct webhook_url_opts o = {.allow_http = allow_http,
				     .allow_private = allow_private};
	struct err e;
	int rc;

	err_clear(&e);
	rc = webhook_url_check(&o, url, &e);
	snprintf(msg, n, "%s", e.msg);
	return rc;
}

static void
schemes(void **state)
{
	char m[256];

	(void)state;
	assert_int_equal(
	    check(false, true, "https://127.0.0.1:8443/h", m, sizeof(m)), 0);
	assert_int_equal(check(false, true, "http://127.0.0.1/h", m, sizeof(m)),
			 ERR_INPUT);
	assert_non_null(strstr(m, "webhook_allow_http"));
	assert_int_equal(check(true, true, "http://127.0.0.1/h", m, sizeof(m)),
			 0);
	assert_int_equal(check(true, true, "ftp://127.0.0.1/h", m, sizeof(m)),
			 ERR_INPUT);
	assert_int_equal(check(true, true, "not a url", m, sizeof(m)),
			 ERR_INPUT);
}

static void
user_information_is_refused(void **state)
{
	char m[256];

	(void)state;
	assert_int_equal(
	    check(true, true, "https://u:p@127.0.0.1/h", m, sizeof(m)),
	    ERR_INPUT);
	assert_non_null(strstr(m, "user name or password"));
	assert_int_equal(
	    check(true, true, "https://u@127.0.0.1/h", m, sizeof(m)),
	    ERR_INPUT);
}

static void
addresses(void **state)
{
	char m[256];

	(void)state;
	/* Loopback and private-use: only when allowed. */
	assert_int_equal(
	    check(true, false, "https://127.0.0.1/h", m, sizeof(m)),
	    ERR_FORBIDDEN);
	assert_non_null(strstr(m, "webhook_allow_private_urls"));
	assert_int_equal(check(true, false, "https://[::1]:9/h", m, sizeof(m)),
			 ERR_FORBIDDEN);
	assert_int_equal(check(true, true, "https://[::1]:9/h", m, sizeof(m)),
			 0);
	assert_int_equal(check(true, true, "https://10.1.2.3/h", m, sizeof(m)),
			 0);
	/* Special-purpose: always. */
	assert_int_equal(
	    check(true, true, "https://169.254.169.254/", m, sizeof(m)),
	    ERR_FORBIDDEN);
	assert_int_equal(check(true, true, "https://198.18.0.1/", m, sizeof(m)),
			 ERR_FORBIDDEN);
	assert_int_equal(
	    check(true, true, "https://[::ffff:169.254.1.1]/", m, sizeof(m)),
	    ERR_FORBIDDEN);
	/* A global address is fine. */
	assert_int_equal(
	    check(false, false, "https://203.0.114.7/", m, sizeof(m)), 0);
}

static void
length_is_capped(void **state)
{
	char url[2100], m[256];

	(void)state;
	memset(url, 'a', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	memcpy(url, "https://x/", 10);
	assert_int_equal(check(true, true, url, m, sizeof(m)), ERR_INPUT);
	assert_non_null(strstr(m, "longer than"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(schemes),
	    cmocka_unit_test(user_information_is_refused),
	    cmocka_unit_test(addresses),
	    cmocka_unit_test(length_is_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
