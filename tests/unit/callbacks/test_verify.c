/*
 * test_verify.c: callbacks/verify.c against the official vectors and every
 * way a callback can fail authentication.
 */
#include "callbacks/callbacks.h"
#include "common/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#define ALI_URL "https://www.example.com/your/callback"
#define ALI_TS	"1519375990"
#define ALI_SIG "c72b60894140fa98920f1279219b7ed4" /* key test123 */
#define ALI_NOW 1519375990

#define TC_KEY "SignKeyExample"
#define TC_T   1700000600
#define TC_SIG "39f9dc560c0433538b804f0dc4bbe011"

static void
assert_secret_free(const struct err *e)
{
	assert_null(strstr(e->msg, "test123"));
	assert_null(strstr(e->msg, TC_KEY));
	assert_null(strstr(e->msg, ALI_SIG));
	assert_null(strstr(e->msg, TC_SIG));
}

static void
ali_official_vector(void **state)
{
	struct err e = {0};

	(void)state;
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, ALI_SIG, "test123",
					   NULL, ALI_NOW, 300, &e),
			 0);
	/* Hex of either case. */
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS,
					   "C72B60894140FA98920F1279219B7ED4",
					   "test123", NULL, ALI_NOW, 300, &e),
			 0);
}

static void
ali_mismatch(void **state)
{
	struct err e = {0};

	(void)state;
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, ALI_SIG, "test124",
					   NULL, ALI_NOW, 300, &e),
			 ERR_AUTH);
	assert_string_equal(e.msg, "signature mismatch");
	assert_secret_free(&e);
	/* The URL is part of what is signed. */
	assert_int_equal(cb_verify_alibaba(ALI_URL "/", ALI_TS, ALI_SIG,
					   "test123", NULL, ALI_NOW, 300, &e),
			 ERR_AUTH);
	/* One flipped digit. */
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS,
					   "c72b60894140fa98920f1279219b7ed5",
					   "test123", NULL, ALI_NOW, 300, &e),
			 ERR_AUTH);
}

static void
ali_window(void **state)
{
	struct err e = {0};

	(void)state;
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, ALI_SIG, "test123",
					   NULL, ALI_NOW + 300, 300, &e),
			 0);
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, ALI_SIG, "test123",
					   NULL, ALI_NOW - 300, 300, &e),
			 0);
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, ALI_SIG, "test123",
					   NULL, ALI_NOW + 412, 300, &e),
			 ERR_AUTH);
	assert_string_equal(e.msg,
			    "stale timestamp: 412 s outside the 300 s window");
	/* From the future too. */
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, ALI_SIG, "test123",
					   NULL, ALI_NOW - 301, 300, &e),
			 ERR_AUTH);
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, ALI_SIG, "test123",
					   NULL, ALI_NOW, -1, &e),
			 ERR_INPUT);
}

static void
ali_missing_and_malformed(void **state)
{
	struct err e = {0};

	(void)state;
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, NULL, "test123",
					   NULL, ALI_NOW, 300, &e),
			 ERR_AUTH);
	assert_string_equal(e.msg, "missing X-VOD-SIGNATURE header");
	assert_int_equal(cb_verify_alibaba(ALI_URL, "", ALI_SIG, "test123",
					   NULL, ALI_NOW, 300, &e),
			 ERR_AUTH);
	assert_string_equal(e.msg, "missing X-VOD-TIMESTAMP header");
	assert_int_equal(cb_verify_alibaba(ALI_URL, "151937599", ALI_SIG,
					   "test123", NULL, ALI_NOW, 300, &e),
			 ERR_INPUT);
	assert_int_equal(cb_verify_alibaba(ALI_URL, "15193759900", ALI_SIG,
					   "test123", NULL, ALI_NOW, 300, &e),
			 ERR_INPUT);
	assert_int_equal(cb_verify_alibaba(ALI_URL, "-519375990", ALI_SIG,
					   "test123", NULL, ALI_NOW, 300, &e),
			 ERR_INPUT);
	assert_int_equal(cb_verify_alibaba(ALI_URL, "15193x5990", ALI_SIG,
					   "test123", NULL, ALI_NOW, 300, &e),
			 ERR_INPUT);
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS,
					   "c72b60894140fa98920f1279219b7ed",
					   "test123", NULL, ALI_NOW, 300, &e),
			 ERR_INPUT);
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS,
					   "g72b60894140fa98920f1279219b7ed4",
					   "test123", NULL, ALI_NOW, 300, &e),
			 ERR_INPUT);
	assert_int_equal(cb_verify_alibaba(NULL, ALI_TS, ALI_SIG, "test123",
					   NULL, ALI_NOW, 300, &e),
			 ERR_INPUT);
	assert_secret_free(&e);
}

static void
ali_key_rotation(void **state)
{
	struct err e = {0};

	(void)state;
	/* Signed with the old key: passes only while it is configured. */
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, ALI_SIG, "NewKey1",
					   "test123", ALI_NOW, 300, &e),
			 0);
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, ALI_SIG, "test123",
					   "OldKey1", ALI_NOW, 300, &e),
			 0);
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, ALI_SIG, "NewKey1",
					   NULL, ALI_NOW, 300, &e),
			 ERR_AUTH);
	assert_int_equal(cb_verify_alibaba(ALI_URL, ALI_TS, ALI_SIG, "NewKey1",
					   "", ALI_NOW, 300, &e),
			 ERR_AUTH);
}

static void
ali_not_configured(void **state)
{
	(void)state;
	assert_int_equal(
	    cb_verify_alibaba(ALI_URL, NULL, NULL, NULL, NULL, 0, 300, NULL),
	    0);
}

static int
tc_verify(const char *body, const char *qs, const char *qt, int64_t now,
	  struct err *e)
{
	return cb_verify_tencent(body, body ? strlen(body) : 0, qs, qt, TC_KEY,
				 now, e);
}

static void
tc_official_vector(void **state)
{
	struct err e = {0};

	(void)state;
	/* T as a number and as a string, Sign/T and sign/t, at the top. */
	assert_int_equal(tc_verify("{\"EventType\":\"X\",\"Sign\":\"" TC_SIG
				   "\",\"T\":1700000600}",
				   NULL, NULL, 1700000000, &e),
			 0);
	assert_int_equal(tc_verify("{\"Sign\":\"" TC_SIG
				   "\",\"T\":\"1700000600\"}",
				   NULL, NULL, 1700000000, &e),
			 0);
	assert_int_equal(
	    tc_verify("{\"sign\":\"39F9DC560C0433538B804F0DC4BBE011"
		      "\",\"t\":1700000600}",
		      NULL, NULL, 1700000000, &e),
	    0);
	/* Query parameters. */
	assert_int_equal(tc_verify("{\"EventType\":\"X\"}", TC_SIG,
				   "1700000600", 1700000000, &e),
			 0);
	/* A body that is not JSON leaves the query parameters. */
	assert_int_equal(
	    tc_verify("not json", TC_SIG, "1700000600", 1700000000, &e), 0);
	/* Expiry is inclusive: T == now still passes (grace 0). */
	assert_int_equal(tc_verify(NULL, TC_SIG, "1700000600", TC_T, &e), 0);
}

static void
tc_doc_form(void **state)
{
	const char *body = "{\"Sign\":\"" TC_SIG "\",\"T\":1700000600}";
	cJSON *doc = json_parse(body, strlen(body));
	struct err e = {0};

	(void)state;
	assert_non_null(doc);
	assert_int_equal(
	    cb_verify_tencent_doc(doc, NULL, NULL, TC_KEY, 1700000000, &e), 0);
	assert_int_equal(
	    cb_verify_tencent_doc(doc, NULL, NULL, "OtherKey", 1700000000, &e),
	    ERR_AUTH);
	cJSON_Delete(doc);
	assert_int_equal(cb_verify_tencent_doc(NULL, TC_SIG, "1700000600",
					       TC_KEY, 1700000000, &e),
			 0);
}

static void
tc_expired(void **state)
{
	struct err e = {0};

	(void)state;
	assert_int_equal(tc_verify("{\"Sign\":\"" TC_SIG "\",\"T\":1700000600}",
				   NULL, NULL, TC_T + 1, &e),
			 ERR_AUTH);
	assert_non_null(strstr(e.msg, "expired T"));
	assert_secret_free(&e);
}

static void
tc_mismatch(void **state)
{
	struct err e = {0};

	(void)state;
	/* Right sign, other T. */
	assert_int_equal(tc_verify("{\"Sign\":\"" TC_SIG "\",\"T\":1700000601}",
				   NULL, NULL, 1700000000, &e),
			 ERR_AUTH);
	assert_string_equal(e.msg, "signature mismatch");
	assert_secret_free(&e);
	/* Other key. */
	assert_int_equal(cb_verify_tencent(NULL, 0, TC_SIG, "1700000600",
					   "SignKeyExamplf", 1700000000, &e),
			 ERR_AUTH);
	/* The body's pair wins over the query's. */
	assert_int_equal(
	    tc_verify("{\"Sign\":\"00000000000000000000000000000000"
		      "\",\"T\":1700000600}",
		      TC_SIG, "1700000600", 1700000000, &e),
	    ERR_AUTH);
	/* T written with leading zeros is hashed as sent: another digest. */
	assert_int_equal(tc_verify(NULL, TC_SIG, "01700000600", 1700000000, &e),
			 ERR_AUTH);
}

static void
tc_missing_and_malformed(void **state)
{
	struct err e = {0};

	(void)state;
	assert_int_equal(
	    tc_verify("{\"EventType\":\"X\"}", NULL, NULL, 1700000000, &e),
	    ERR_AUTH);
	assert_string_equal(e.msg, "missing Sign");
	assert_int_equal(
	    tc_verify("{\"Sign\":\"" TC_SIG "\"}", NULL, NULL, 1700000000, &e),
	    ERR_AUTH);
	assert_string_equal(e.msg, "missing T");
	assert_int_equal(tc_verify("{\"Sign\":\"" TC_SIG "\",\"T\":\"soon\"}",
				   NULL, NULL, 1700000000, &e),
			 ERR_INPUT);
	assert_int_equal(tc_verify("{\"Sign\":\"" TC_SIG "\",\"T\":1.5}", NULL,
				   NULL, 1700000000, &e),
			 ERR_INPUT);
	assert_int_equal(tc_verify("{\"Sign\":\"" TC_SIG "\",\"T\":-5}", NULL,
				   NULL, 1700000000, &e),
			 ERR_INPUT);
	assert_int_equal(tc_verify("{\"Sign\":12,\"T\":1700000600}", NULL, NULL,
				   1700000000, &e),
			 ERR_INPUT);
	assert_int_equal(tc_verify("{\"Sign\":\"abc\",\"T\":1700000600}", NULL,
				   NULL, 1700000000, &e),
			 ERR_INPUT);
	assert_int_equal(
	    tc_verify("{\"Sign\":null,\"T\":null}", NULL, NULL, 1700000000, &e),
	    ERR_AUTH);
}

static void
tc_not_configured(void **state)
{
	(void)state;
	assert_int_equal(cb_verify_tencent("{}", 2, NULL, NULL, NULL, 0, NULL),
			 0);
	assert_int_equal(cb_verify_tencent("{}", 2, NULL, NULL, "", 0, NULL),
			 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ali_official_vector),
	    cmocka_unit_test(ali_mismatch),
	    cmocka_unit_test(ali_window),
	    cmocka_unit_test(ali_missing_and_malformed),
	    cmocka_unit_test(ali_key_rotation),
	    cmocka_unit_test(ali_not_configured),
	    cmocka_unit_test(tc_official_vector),
	    cmocka_unit_test(tc_doc_form),
	    cmocka_unit_test(tc_expired),
	    cmocka_unit_test(tc_mismatch),
	    cmocka_unit_test(tc_missing_and_malformed),
	    cmocka_unit_test(tc_not_configured),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
