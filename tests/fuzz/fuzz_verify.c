/*
 * fuzz_verify.c: libFuzzer target for the callback verifiers. The input is
 * split on newlines into url, timestamp, signature and the rest (a body);
 * both verifiers run on it, and a signature the fuzzer cannot know must
 * never pass: a success is only possible with the fixed test keys.
 */
#include "callbacks/callbacks.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *parts[4] = {"", "", "", ""};
	char *copy;
	char *p;
	struct err e;
	int rc;

	if (size > 65536)
		return 0;
	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	for (int i = 0; i < 4 && p != NULL; i++) {
		char *nl = i < 3 ? strchr(p, '\n') : NULL;

		parts[i] = p;
		if (nl != NULL)
			*nl = '\0';
		p = nl != NULL ? nl + 1 : NULL;
	}
	rc = cb_verify_alibaba(parts[0], parts[1], parts[2], "test123",
			       "OldKey1", NOW, 300, &e);
	if (rc != 0 && rc != ERR_AUTH && rc != ERR_INPUT)
		abort();
	rc = cb_verify_tencent(parts[3], strlen(parts[3]), parts[2], parts[1],
			       "SignKeyExample", NOW, &e);
	if (rc != 0 && rc != ERR_AUTH && rc != ERR_INPUT)
		abort();
	rc = cb_verify_tencent((const char *)data, size, NULL, NULL,
			       "SignKeyExample", NOW, &e);
	if (rc != 0 && rc != ERR_AUTH && rc != ERR_INPUT)
		abort();
	free(copy);
	return 0;
}
