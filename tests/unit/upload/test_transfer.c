/*
 * test_transfer.c: the pure parts of upload/transfer.c and the Tencent
 * adapter's session round trip: part size choice, object-store error
 * classification (never retry a refusal), XML extraction, and the COS
 * signature the adapter produces. No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "upload/upload_int.h"

#define MIB  (1024LL * 1024)
#define P(s) (s), (sizeof(s) - 1)

static void
test_part_size(void **state)
{
	(void)state;
	/* The wanted size when it fits in 10,000 parts. */
	assert_int_equal(upload__part_size(64 * MIB, 8 * MIB, MIB, 10000),
			 8 * MIB);
	/* At least the store's minimum. */
	assert_int_equal(upload__part_size(64 * MIB, 1000, MIB, 10000), MIB);
	/* Grown (doubled) until no more than 10,000 parts are needed. */
	int64_t size = 200000 * MIB; /* ~195 GiB */
	int64_t ps = upload__part_size(size, 8 * MIB, MIB, 10000);
	assert_true((size + ps - 1) / ps <= 10000);
	assert_int_equal(ps, 32 * MIB);
	/* Exactly 10,000 parts is allowed. */
	assert_int_equal(
	    upload__part_size(10000 * 8 * MIB, 8 * MIB, MIB, 10000), 8 * MIB);
	assert_int_equal(
	    upload__part_size(10000 * 8 * MIB + 1, 8 * MIB, MIB, 10000),
	    16 * MIB);
}

static void
test_store_error(void **state)
{
	static const char sig[] =
	    "<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n"
	    "<Code>SignatureDoesNotMatch</Code>\n"
	    "<Message>The Signature you specified is invalid.</Message>\n"
	    "<RequestId>NjQ=</RequestId></Error>";
	static const char slow[] =
	    "<Error><Code>SlowDown</Code><Message>slow</Message></Error>";
	static const char nsu[] =
	    "<Error><Code>NoSuchUpload</Code><Message>x</Message></Error>";
	static const char bad[] =
	    "<Error><Code>EntityTooSmall</Code><Message>x</Message></Error>";
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(upload__store_error(403, P(sig), &e), ERR_AUTH);
	assert_string_equal(e.remote, "SignatureDoesNotMatch");
	assert_non_null(strstr(e.msg, "invalid"));
	assert_int_equal(upload__store_error(503, P(slow), &e), ERR_UNAVAIL);
	assert_int_equal(upload__store_error(404, P(nsu), &e), ERR_NOTFOUND);
	assert_int_equal(upload__store_error(400, P(bad), &e), ERR_REMOTE);
	assert_string_equal(e.remote, "EntityTooSmall");
	/* No body: the status decides. */
	assert_int_equal(upload__store_error(500, "", 0, &e), ERR_UNAVAIL);
	assert_int_equal(upload__store_error(429, "", 0, &e), ERR_UNAVAIL);
	assert_int_equal(upload__store_error(403, "", 0, &e), ERR_AUTH);
	assert_int_equal(upload__store_error(400, "", 0, &e), ERR_REMOTE);
	/* A refusal is not retried even with a 5xx-looking code mix. */
	assert_int_equal(upload__store_error(503, P(sig), &e), ERR_AUTH);
}

/* The refusals the engine renews the credential for, and one it must not:
 * a signature out of its time window is the clock, not the credential. */
static void
test_token_expired(void **state)
{
	static const char *const renew[] = {
	    "SecurityTokenExpired", "ExpiredToken", "InvalidSecurityToken"};
	static const char *const keep[] = {
	    "<Error><Code>AccessDenied</Code><Message>Request has expired"
	    "</Message></Error>",
	    "<Error><Code>RequestTimeTooSkewed</Code><Message>x</Message>"
	    "</Error>",
	    "<Error><Code>SignatureDoesNotMatch</Code><Message>x</Message>"
	    "</Error>"};
	char body[160];
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(renew) / sizeof(renew[0]); i++) {
		snprintf(body, sizeof(body),
			 "<Error><Code>%s</Code><Message>The security token "
			 "you provided has expired.</Message></Error>",
			 renew[i]);
		err_clear(&e);
		assert_int_equal(
		    upload__store_error(403, body, strlen(body), &e), ERR_AUTH);
		assert_true(upload__token_expired(&e));
	}
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		err_clear(&e);
		(void)upload__store_error(403, keep[i], strlen(keep[i]), &e);
		assert_false(upload__token_expired(&e));
	}
	/* Not a refusal at all: a network error carries no code. */
	err_clear(&e);
	err_set(&e, ERR_NET, "connection reset");
	assert_false(upload__token_expired(&e));
}

static void
test_xml_tag(void **state)
{
	static const char x[] = "<R><UploadId>abc</UploadId><Key>k</Key></R>";
	char *v;

	(void)state;
	v = upload__xml_tag(P(x), "UploadId");
	assert_string_equal(v, "abc");
	free(v);
	assert_null(upload__xml_tag(P(x), "Bucket"));
	/* An unterminated tag is not a value. */
	assert_null(upload__xml_tag(P("<A>open"), "A"));
	v = upload__xml_tag(P("<A></A>"), "A");
	assert_string_equal(v, "");
	free(v);
}

/* The Tencent session survives save/load and signs with its credential. */
static void
test_tencent_session_roundtrip(void **state)
{
	static const char stored[] =
	    "{\"provider\":\"tencent\",\"scheme\":\"https\",\"bucket\":"
	    "\"b-1250000000\",\"region\":\"ap-guangzhou\",\"key\":"
	    "\"dir/a b.mp4\",\"vod_session_key\":\"k/+=\",\"secret_id\":"
	    "\"AKIDtmp\",\"secret_key\":\"sk\",\"token\":\"tok\","
	    "\"expires_at\":1900000000}";
	const struct upload_adapter *ad = upload__adapter_find("tencent");
	struct upload_sign_input in = {
	    .method = "PUT", .content_length = 3, .now = 1700000000};
	struct upload_session *s = NULL, *s2 = NULL;
	struct curl_slist *hdrs = NULL;
	struct err e;
	char *txt;
	bool auth = false, tok = false;

	(void)state;
	assert_non_null(ad);
	assert_null(upload__adapter_find("nope"));
	assert_int_equal(ad->load(NULL, stored, &s, &e), 0);
	assert_string_equal(s->target.host,
			    "b-1250000000.cos.ap-guangzhou.myqcloud.com");
	assert_string_equal(s->target.key, "dir/a b.mp4");
	assert_string_equal(
	    s->target.base_url,
	    "https://b-1250000000.cos.ap-guangzhou.myqcloud.com");
	assert_int_equal(s->expires_at, 1900000000);
	assert_int_equal(s->target.min_part_size, MIB);
	txt = ad->save(s);
	assert_int_equal(ad->load(NULL, txt, &s2, &e), 0);
	free(txt);
	assert_string_equal(s2->target.key, s->target.key);
	assert_int_equal(s->target.sign(s, &in, &hdrs, &e), 0);
	for (struct curl_slist *h = hdrs; h; h = h->next) {
		if (strncmp(h->data,
			    "Authorization: q-sign-algorithm=sha1&"
			    "q-ak=AKIDtmp&",
			    47) == 0 &&
		    strstr(h->data, "q-header-list=host;x-cos-security-token"))
			auth = true;
		if (strcmp(h->data, "x-cos-security-token: tok") == 0)
			tok = true;
	}
	assert_true(auth);
	assert_true(tok);
	curl_slist_free_all(hdrs);
	ad->free(s);
	ad->free(s2);
	assert_int_equal(ad->load(NULL, "{\"scheme\":\"https\"}", &s, &e),
			 ERR_INPUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_part_size),
	    cmocka_unit_test(test_store_error),
	    cmocka_unit_test(test_token_expired),
	    cmocka_unit_test(test_xml_tag),
	    cmocka_unit_test(test_tencent_session_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
