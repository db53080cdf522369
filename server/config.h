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
	char *tls_listen;
	char *tls_cert_file;
	char *tls_key_file;
	int64_t threads;
	int64_t http_max_body_bytes;
	int64_t request_timeout_ms;
	int64_t body_timeout_ms;
	char *log_level;
	char *api_token;
	char *metrics_token;
	/* PostgreSQL */
	char *database_url;
	int64_t db_pool_size;
	int64_t db_connect_timeout;
	int64_t db_timeout_ms;
	int64_t callback_db_timeout_ms;
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
	/* uploads */
	char *upload_root;
	char *upload_tmp_dir;
	int64_t upload_workers;
	int64_t upload_part_size;
	int64_t upload_parallel;
	int64_t upload_parallel_max;
	int64_t upload_connections;
	int64_t upload_stream_buffer;
	int64_t upload_threshold;
	int64_t upload_max_bytes;
	int64_t upload_lease_seconds;
	int64_t upload_allow_private_urls;
	char *upload_url_proxy;
	int64_t upload_max_attempts;
	int64_t upload_poll_ms;
	int64_t upload_part_timeout_ms;
	/* outgoing requests to the platforms */
	char *connect_to;
	char *ca_file;
	int64_t allow_http;
	int64_t cloud_timeout_ms;
	char *tencent_secret_id;
	char *tencent_secret_key;
	char *tencent_region;
	char *tencent_subapp_id;
	char *tencent_pull_subapp_ids;
	char *tencent_api_url;
	char *tencent_storage_region;
	char *alibaba_access_key_id;
	char *alibaba_access_key_secret;
	char *alibaba_region;
	char *alibaba_api_url;
	char *alibaba_app_id;
	char *alibaba_oss_signature;
	char *alibaba_url_upload;
	char *tencent_url_upload;
	/* event sources besides push */
	char *tencent_event_mode;
	int64_t reconcile_after;
	int64_t url_pull_timeout;
	int64_t reconcile_interval_ms;
	/* retention of events, finished uploads and ended webhook messages */
	int64_t retention_events_days;
	int64_t retention_uploads_days;
	int64_t retention_webhooks_days;
	int64_t retention_batch;
	int64_t retention_interval_ms;
	int64_t retention_pause_ms;
	/* outbound webhooks */
	int64_t webhook_workers;
	int64_t webhook_max_in_flight;
	int64_t webhook_batch;
	int64_t webhook_busy_share;
	int64_t webhook_timeout_ms;
	int64_t webhook_poll_ms;
	char *webhook_retry_schedule;
	int64_t webhook_disable_after;
	int64_t webhook_rotation_grace;
	int64_t webhook_allow_http;
	int64_t webhook_allow_private_urls;
	/* change streams */
	int64_t stream_max;
	int64_t stream_heartbeat_ms;
};

struct cloud_opts;

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
/*
 * Fill *o from cfg: the one place where the settings for outgoing requests
 * (TLS, connect_to, credentials, endpoints) are gathered. The strings are
 * borrowed from cfg and valid until config_cleanup.
 */
void config_cloud_opts(struct cloud_opts *o);

#endif
