/*
 * config.h: vodhook's settings.
 *
 * One table (config.c) gives every setting its name, type, bounds, default,
 * whether it is secret, and its documentation. Values come from, in rising
 * precedence: the defaults, an optional "key = value" file (--config FILE),
 * and VODHOOK_<NAME> environment variables. A secret can instead be read
 * from a file named by <name>_file / VODHOOK_<NAME>_FILE.
 */
#ifndef VODHOOK_SERVER_CONFIG_H
#define VODHOOK_SERVER_CONFIG_H

#include "common/common.h"

#include <stdio.h>

struct config {
	/* process and HTTP */
	char *listen;
	int64_t threads;
	int64_t http_max_body_bytes;
	int64_t request_timeout_ms;
	char *log_level;
	char *api_token;
	/* PostgreSQL */
	char *database_url;
	int64_t db_pool_size;
	int64_t db_connect_timeout;
	/* callbacks */
	int64_t callback_max_bytes;
	char *spool_dir;
	char *tencent_sign_key;
	char *tencent_callback_token;
	int64_t tencent_allow_unverified;
	char *alibaba_callback_key;
	char *alibaba_callback_key_old;
	char *alibaba_callback_url;
	int64_t alibaba_timestamp_window;
	int64_t ingest_batch_max;
};

/* The process-wide settings, filled by config_load. */
extern struct config cfg;

/*
 * Load the settings: defaults, then path (may be NULL), then the
 * environment. On failure *e says which setting, file and line, and why.
 * Not thread-safe; call once at start-up.
 */
int config_load(const char *path, struct err *e) VH_MUST_CHECK;
/* Free the strings held in cfg. */
void config_cleanup(void);
/* Print "name = value  # source" for every setting, secrets masked. */
void config_print(FILE *out);
/* Print a commented example configuration documenting every setting. */
void config_print_example(FILE *out);
/* Print the settings as a Markdown table (for README.md). */
void config_print_markdown(FILE *out);

#endif
