/*
 * test_job.c: upload/job.c's rule of what is transient, which the worker,
 * the source open and upload_run share: no answer, an answer that says
 * "later" and the database away are tried again; a refusal or a fault the
 * same request would meet again is not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "upload/upload_int.h"

static void
test_transient(void **state)
{
	static const int transient[] = {ERR_NET, ERR_UNAVAIL, ERR_DB};
	static const int permanent[] = {
	    ERR_AUTH,	  ERR_REMOTE,	ERR_INPUT,   ERR_FORBIDDEN,
	    ERR_LIMIT,	  ERR_IO,	ERR_NOMEM,   ERR_NOTFOUND,
	    ERR_CONFLICT, ERR_CANCELED, ERR_INTERNAL};

	(void)state;
	for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
		assert_true(upload__error_transient(transient[i]));
	for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++)
		assert_false(upload__error_transient(permanent[i]));
	assert_false(upload__error_transient(0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
