/*
 * samples.h: loading the verbatim sample payloads of the reference documents
 * (tests/unit/callbacks/samples/) in the callback unit tests.
 */
#ifndef VODHOOK_TEST_CALLBACKS_SAMPLES_H
#define VODHOOK_TEST_CALLBACKS_SAMPLES_H

#include <stddef.h>

/*
 * Read samples/<name> under $VODHOOK_SOURCE_DIR/tests/unit/callbacks; fails
 * the running cmocka test when it cannot. Caller frees with free().
 */
char *sample_load(const char *name, size_t *len);

#endif
