/*
 * test_sign.c: webhooks/sign.c against the Standard Webhooks reference
 * vector (the libraries' shared test: secret, id, timestamp and payload
 * from
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/libraries/javascript/src/index.test.ts),
 * both signatures during a rotation, and the secrets vodhook makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "cloud/sign.h"
#include "webhooks/webhooks.h"

#define SECRET	  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define MSG_ID	  "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define TIMESTAMP 1614265330
#define PAYLOAD	  "{\"test\": 2432232314}"
#define EXPECTED  "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void
reference_vector(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(webhook_sign(SECRET, NULL, MSG_ID, TIMESTAMP, PAYLOAD,
				      strlen(PAYLOAD), &b),
			 0);
	assert_string_equal(buf_cstr(&b), EXPECTED);
	buf_free(&b);
}

static void
rotation_signs_with_both(void **state)
{
	char fresh[WEBHOOK_SECRET_MAX];
	struct buf b, one;

	(void)state;
	buf_init(&b, 4096);
	buf_init(&one, 4096);
	assert_int_equal(webhook_secret_new(fresh), 0);
	assert_int_equal(webhook_sign(fresh, SECRET, MSG_ID, TIMESTAMP, PAYLOAD,
				      strlen(PAYLOAD), &b),
			 0);
	assert_int_equal(webhook_sign(fresh, NULL, MSG_ID, TIMESTAMP, PAYLOAD,
				      strlen(PAYLOAD), &one),
			 0);
	/* the new secret's first, then a space, then the old one's */
	assert_memory_equal(buf_cstr(&b), buf_cstr(&one), one.len);
	assert_string_equal(buf_cstr(&b) + one.len, " " EXPECTED);
	buf_free(&b);
	buf_free(&one);
}

static void
secrets_are_whsec_and_random(void **state)
{
	char a[WEBHOOK_SECRET_MAX], c[WEBHOOK_SECRET_MAX];
	struct buf key;

	(void)state;
	assert_int_equal(webhook_secret_new(a), 0);
	assert_int_equal(webhook_secret_new(c), 0);
	assert_int_equal(strncmp(a, "whsec_", 6), 0);
	assert_string_not_equal(a, c);
	buf_init(&key, 4096);
	assert_int_equal(cloud_base64_decode(a + 6, strlen(a + 6), &key, NULL),
			 0);
	assert_int_equal(key.len, WEBHOOK_SECRET_BYTES);
	buf_free(&key);
}

static void
bad_secrets_are_refused(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL,
				      MSG_ID, TIMESTAMP, "", 0, &b),
			 ERR_INPUT);
	assert_int_equal(
	    webhook_sign("whsec_***", NULL, MSG_ID, TIMESTAMP, "", 0, &b),
	    ERR_INPUT);
	assert_int_equal(
	    webhook_sign("whsec_", NULL, MSG_ID, TIMESTAMP, "", 0, &b),
	    ERR_INPUT);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reference_vector),
	    cmocka_unit_test(rotation_signs_with_both),
	    cmocka_unit_test(secrets_are_whsec_and_random),
	    cmocka_unit_test(bad_secrets_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
