/*
 * samples.c: see samples.h.
 */
#include "samples.h"
#include "common/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

char *
sample_load(const char *name, size_t *len)
{
	const char *root = getenv("VODHOOK_SOURCE_DIR");
	struct err e = {0};
	char path[4096];
	char *data = NULL;

	if (root == NULL)
		fail_msg("VODHOOK_SOURCE_DIR is not set (run through ctest)");
	snprintf(path, sizeof(path), "%s/tests/unit/callbacks/samples/%s", root,
		 name);
	if (file_slurp(path, 1u << 20, &data, len, &e) != 0)
		fail_msg("could not load sample: %s", e.msg);
	return data;
}
