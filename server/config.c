/*
 * config.c: the settings table and its loader.
 *
 * Interface: config_load, config_cleanup, config_print,
 * config_print_example, config_print_markdown.
 */
#include "server/config.h"

#include "cloud/cloud.h"
#include "webhooks/webhooks.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct config cfg;

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL };

#define CFG_SECRET   0x1 /* never printed; may come from <name>_file */
#define CFG_REQUIRED 0x2 /* documented as required (checked by commands) */

struct cfg_opt {
	const char *name;
	enum cfg_type type;
	size_t off; /* offsetof(struct config, field) */
	int64_t min, max;
	const char *def;
	unsigned flags;
	const char *doc;
};

#define S(f)	     CFG_STR, offsetof(struct config, f), 0, 0
#define I(f, lo, hi) CFG_INT, offsetof(struct config, f), lo, hi
#define B(f)	     CFG_BOOL, offsetof(struct config, f), 0, 1

static const struct cfg_opt opts[] = {
    {"listen", S(listen), "127.0.0.1:8080", 0,
     "plain HTTP listen address, IPv4 host:port (Debian's CivetWeb is built "
     "without IPv6); empty: none (then tls_listen must be set)"},
    {"tls_listen", S(tls_listen), "", 0,
     "HTTPS listen address, IPv4 host:port (TLS 1.2 and later); empty: no "
     "HTTPS. Needs tls_cert_file and tls_key_file"},
    {"tls_cert_file", S(tls_cert_file), "", 0,
     "certificate chain for HTTPS (PEM: the server's certificate first, "
     "then the intermediates); read again on SIGHUP"},
    {"tls_key_file", S(tls_key_file), "", 0,
     "private key of tls_cert_file's certificate (PEM, no passphrase); read "
     "again on SIGHUP"},
    {"threads", I(threads, 1, 1024), "128", 0,
     "HTTP worker threads; each serves one connection at a time, so as "
     "many clients as this that are slow to send can hold them all for "
     "up to request_timeout_ms"},
    {"http_max_body_bytes", I(http_max_body_bytes, 1024, 1 << 30), "1048576", 0,
     "largest request body accepted by the HTTP API (413 beyond)"},
    {"request_timeout_ms", I(request_timeout_ms, 100, 3600000), "5000", 0,
     "time a client has to send a request's headers (and the TLS handshake), "
     "the longest an idle kept-alive connection is kept, and the longest "
     "wait for one read or write"},
    {"body_timeout_ms", I(body_timeout_ms, 100, 3600000), "10000", 0,
     "time a client has to send a request's body once its headers are in, "
     "checked after each read of up to 16 KiB (a proxy in front bounds a "
     "trickle strictly)"},
    {"log_level", S(log_level), "info", 0,
     "least severe log level written: debug, info, warn or error"},
    {"api_token", S(api_token), "", CFG_SECRET,
     "bearer token required by /v1/*; without it /v1 answers 403"},
    {"metrics_token", S(metrics_token), "", CFG_SECRET,
     "bearer token required by /metrics; without it /metrics is open"},
    {"database_url", S(database_url), "", CFG_SECRET | CFG_REQUIRED,
     "PostgreSQL connection string or URI (libpq syntax)"},
    {"db_pool_size", I(db_pool_size, 1, 256), "8", 0,
     "PostgreSQL connections kept by each vodhook process, besides the "
     "callback committer's own"},
    {"db_connect_timeout", I(db_connect_timeout, 1, 300), "5", 0,
     "seconds allowed to open a PostgreSQL connection"},
    {"db_timeout_ms", I(db_timeout_ms, 0, 3600000), "30000", 0,
     "time PostgreSQL has to answer one call (an API query, an upload's "
     "heartbeat, a replayed batch); past it the connection is dropped, "
     "the call fails, and connections are retried after a back-off "
     "(0 = no limit; migrations have none)"},
    {"callback_db_timeout_ms", I(callback_db_timeout_ms, 100, 60000), "2000", 0,
     "time PostgreSQL has to take a batch of callbacks (connecting, "
     "writing, committing); past it the batch is spooled and answered. "
     "Keep it well under the platforms' 5 s callback timeout"},
    {"callback_max_bytes", I(callback_max_bytes, 1024, 64 << 20), "1048576", 0,
     "largest callback body accepted, chunked or not (413 beyond)"},
    {"spool_dir", S(spool_dir), "/var/lib/vodhook/spool", 0,
     "directory of the local spool that keeps verified events while "
     "PostgreSQL is unavailable"},
    {"tencent_sign_key", S(tencent_sign_key), "", CFG_SECRET,
     "Tencent VOD callback SignKey: requires Sign/T on every callback"},
    {"tencent_callback_token", S(tencent_callback_token), "", CFG_SECRET,
     "secret path segment: Tencent callbacks must use "
     "/callbacks/tencent/{token}"},
    {"tencent_allow_unverified", B(tencent_allow_unverified), "0", 0,
     "accept Tencent callbacks with neither a sign key nor a token (1 = "
     "intended)"},
    {"alibaba_callback_key", S(alibaba_callback_key), "", CFG_SECRET,
     "Alibaba VOD callback auth key (X-VOD-SIGNATURE); callbacks are "
     "refused without it"},
    {"alibaba_callback_key_old", S(alibaba_callback_key_old), "", CFG_SECRET,
     "previous Alibaba auth key, still accepted while keys are rotated"},
    {"alibaba_callback_url", S(alibaba_callback_url), "", 0,
     "public callback URL as set in the Alibaba console (signed); default: "
     "rebuilt from the request"},
    {"alibaba_timestamp_window", I(alibaba_timestamp_window, 1, 86400), "300",
     0, "seconds an Alibaba X-VOD-TIMESTAMP may differ from now"},
    {"ingest_batch_max", I(ingest_batch_max, 1, 10000), "256", 0,
     "most events written by one group-commit transaction"},
    {"upload_root", S(upload_root), "", 0,
     "local files may be uploaded only from under this directory (links "
     "resolved); empty: no local file is accepted by the HTTP API"},
    {"upload_tmp_dir", S(upload_tmp_dir), "/var/tmp", 0,
     "directory for the temporary copy of a URL source of unknown length"},
    {"upload_workers", I(upload_workers, 0, 64), "2", 0,
     "upload worker threads per server process; 0 = this process uploads "
     "nothing"},
    {"upload_part_size", I(upload_part_size, 1 << 20, 1LL << 32), "8388608", 0,
     "multipart part size in bytes (grown so that no upload needs more "
     "than 10000 parts)"},
    {"upload_parallel", I(upload_parallel, 1, 64), "16", 0,
     "parts of one upload sent at the same time at its start; always, when "
     "upload_parallel_max is 0"},
    {"upload_parallel_max", I(upload_parallel_max, 0, 64), "32", 0,
     "most parts of one upload in flight: from upload_parallel, more while "
     "the rate rises, fewer when it stops or the store throttles; 0 = "
     "always upload_parallel"},
    {"upload_connections", I(upload_connections, 1, 1024), "64", 0,
     "most parts in flight of all the uploads of one process, shared "
     "equally by the uploads running"},
    {"upload_stream_buffer", I(upload_stream_buffer, 1 << 20, 1LL << 34),
     "67108864", 0,
     "bytes of a URL source's parts held in memory at most per upload "
     "(part size x parts in flight; one part goes even when larger)"},
    {"upload_threshold", I(upload_threshold, 1 << 20, 1LL << 32), "33554432", 0,
     "files of this size or more are sent in parts, smaller ones with "
     "one PUT"},
    {"upload_max_bytes", I(upload_max_bytes, 1, 1LL << 45), "53687091200", 0,
     "largest source accepted (file or URL), in bytes"},
    {"upload_lease_seconds", I(upload_lease_seconds, 5, 3600), "60", 0,
     "a claimed job not renewed for this long is taken over by another "
     "worker"},
    {"upload_allow_private_urls", B(upload_allow_private_urls), "0", 0,
     "allow URL sources that resolve to loopback or private-use addresses "
     "(127/8, 10/8, 172.16/12, 192.168/16, ::1, fc00::/7); other "
     "special-purpose addresses are refused always"},
    {"upload_url_proxy", S(upload_url_proxy), "", CFG_SECRET,
     "proxy for downloading URL sources (http://, https://, socks5h://...; "
     "it resolves names and must refuse internal destinations itself); "
     "empty: none, whatever http_proxy or ALL_PROXY say"},
    {"upload_max_attempts", I(upload_max_attempts, 1, 100), "5", 0,
     "attempts per part, and per job after a network failure, before it "
     "fails"},
    {"upload_poll_ms", I(upload_poll_ms, 10, 60000), "1000", 0,
     "how often an idle upload worker looks for queued jobs"},
    {"upload_part_timeout_ms", I(upload_part_timeout_ms, 0, 86400000), "0", 0,
     "time allowed for one part or PUT (0 = none; a stalled transfer "
     "is still cut after 30 s)"},
    {"connect_to", S(connect_to), "", 0,
     "send every platform request to this address instead (libcurl "
     "CONNECT_TO \"HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT\"); for "
     "tests"},
    {"ca_file", S(ca_file), "", 0,
     "CA certificates (PEM) trusted for platform requests; empty: the "
     "system's"},
    {"allow_http", B(allow_http), "0", 0,
     "allow plain http to the platforms (the local emulator only)"},
    {"cloud_timeout_ms", I(cloud_timeout_ms, 100, 600000), "30000", 0,
     "time allowed for one platform API request"},
    {"tencent_secret_id", S(tencent_secret_id), "", 0,
     "Tencent Cloud API SecretId used for ApplyUpload and CommitUpload"},
    {"tencent_secret_key", S(tencent_secret_key), "", CFG_SECRET,
     "Tencent Cloud API SecretKey"},
    {"tencent_region", S(tencent_region), "ap-guangzhou", 0,
     "Tencent API region (X-TC-Region)"},
    {"tencent_subapp_id", S(tencent_subapp_id), "", 0,
     "Tencent VOD SubAppId (decimal); empty: the primary application. "
     "The default of uploads that name none (sub_app_id)"},
    {"tencent_pull_subapp_ids", S(tencent_pull_subapp_ids), "", 0,
     "SubAppIds whose events PULL mode polls, separated by commas; empty: "
     "the one of tencent_subapp_id"},
    {"tencent_api_url", S(tencent_api_url), "https://vod.tencentcloudapi.com",
     0, "Tencent VOD API endpoint"},
    {"tencent_storage_region", S(tencent_storage_region), "", 0,
     "Tencent StorageRegion for uploads; empty: the platform chooses"},
    {"alibaba_access_key_id", S(alibaba_access_key_id), "", 0,
     "Alibaba Cloud AccessKey ID used for the VOD API"},
    {"alibaba_access_key_secret", S(alibaba_access_key_secret), "", CFG_SECRET,
     "Alibaba Cloud AccessKey secret"},
    {"alibaba_region", S(alibaba_region), "cn-shanghai", 0,
     "Alibaba VOD region"},
    {"alibaba_api_url", S(alibaba_api_url), "", 0,
     "Alibaba VOD API endpoint; empty: https://vod.<region>.aliyuncs.com"},
    {"alibaba_app_id", S(alibaba_app_id), "", 0,
     "Alibaba VOD AppId; empty: the default application. The default of "
     "uploads that name none (app_id)"},
    {"alibaba_oss_signature", S(alibaba_oss_signature), "v1", 0,
     "signature of uploads to OSS: v1 (HMAC-SHA1, what the VOD SDKs send) "
     "or v4 (OSS4-HMAC-SHA256, in the region of the upload credential)"},
    {"alibaba_url_upload", S(alibaba_url_upload), "stream", 0,
     "how an Alibaba URL source is uploaded when the request does not say "
     "(url_upload): stream (vodhook downloads it and uploads the bytes) or "
     "platform (UploadMediaByURL: Alibaba fetches it; the callbacks, or the "
     "reconciler, finish the upload)"},
    {"tencent_url_upload", S(tencent_url_upload), "stream", 0,
     "how a Tencent URL source is uploaded when the request does not say "
     "(url_upload): stream (vodhook downloads it and uploads the bytes) or "
     "platform (PullUpload: Tencent fetches it; its PullComplete event, or "
     "the reconciler, finishes the upload)"},
    {"tencent_event_mode", S(tencent_event_mode), "push", 0,
     "push: Tencent posts callbacks to vodhook; pull: vodhook polls "
     "PullEvents and confirms what it stored (needs tencent_secret_id)"},
    {"reconcile_after", I(reconcile_after, 0, 30 * 86400), "1800", 0,
     "seconds a media record may stay uploaded, confirmed or processing, "
     "or a URL pull wait for its callbacks, before the platform's "
     "API is asked about it (and again after as long); 0 disables"},
    {"reconcile_interval_ms", I(reconcile_interval_ms, 100, 3600000), "30000",
     0, "how often the reconciler looks for such records"},
    {"url_pull_timeout", I(url_pull_timeout, 0, 365 * 86400), "86400", 0,
     "seconds a URL pull (Alibaba or Tencent) may stay unfinished (the "
     "platform still "
     "fetching, or not knowing the job) before the reconciler fails its "
     "upload with URLPullTimeout; 0 = wait for ever"},
    {"retention_events_days", I(retention_events_days, 0, 36500), "0", 0,
     "days raw events are kept before they are deleted (0 = for ever); "
     "keep it longer than the platforms retry a callback, or a "
     "redelivered event is stored again"},
    {"retention_uploads_days", I(retention_uploads_days, 0, 36500), "0", 0,
     "days a finished upload job (ready, failed, canceled) and its part "
     "checkpoints are kept before they are deleted (0 = for ever); media "
     "records stay"},
    {"retention_webhooks_days", I(retention_webhooks_days, 0, 36500), "0", 0,
     "days a webhook message delivered or failed is kept, with its attempts, "
     "before it is deleted (0 = for ever); pending ones stay; a failed one "
     "can be resent until then"},
    {"retention_batch", I(retention_batch, 1, 100000), "1000", 0,
     "rows the retention deletes in one statement at most"},
    {"retention_interval_ms", I(retention_interval_ms, 100, 86400000), "60000",
     0, "how often the retention looks for rows past their time"},
    {"retention_pause_ms", I(retention_pause_ms, 0, 60000), "100", 0,
     "pause between two full retention batches"},
    /* outbound webhooks */
    {"webhook_workers", I(webhook_workers, 0, 64), "2", 0,
     "webhook delivery threads per server process, each sending one message "
     "at a time; 0 = this process delivers nothing"},
    {"webhook_max_in_flight", I(webhook_max_in_flight, 1, 64), "2", 0,
     "deliveries to one subscription at the same time, all processes "
     "together, so that a slow receiver holds back only its own"},
    {"webhook_batch", I(webhook_batch, 1, 1000), "32", 0,
     "messages of one subscription a delivery thread claims at once and "
     "sends one after another (one statement to claim them, one to record "
     "how they went)"},
    {"webhook_busy_share", I(webhook_busy_share, 1, 100), "5", 0,
     "percent of the time each delivery thread works while callbacks wait "
     "for the database (100: as much as it can): the clouds give up on slow "
     "callbacks, a message waits in the outbox unharmed"},
    {"webhook_timeout_ms", I(webhook_timeout_ms, 100, 120000), "15000", 0,
     "time a receiver has to answer a delivery (connecting included); "
     "past it the attempt failed"},
    {"webhook_poll_ms", I(webhook_poll_ms, 10, 60000), "200", 0,
     "how often an idle delivery thread looks for messages due; a callback "
     "this process stores sends it at once"},
    {"webhook_retry_schedule", S(webhook_retry_schedule),
     "5s,5m,30m,2h,5h,10h,10h", 0,
     "delays before each retry of a failed delivery (units ms, s, m, h, d), "
     "each drawn within 20% of its value; once they are used up the message "
     "is failed"},
    {"webhook_disable_after", I(webhook_disable_after, 0, 31536000), "432000",
     0,
     "seconds a subscription may fail every delivery before it is disabled "
     "(0 = never)"},
    {"webhook_rotation_grace", I(webhook_rotation_grace, 0, 2592000), "86400",
     0,
     "seconds the previous secret still signs after a rotation, unless the "
     "request says otherwise"},
    {"webhook_allow_http", B(webhook_allow_http), "0", 0,
     "allow webhook URLs over plain http (otherwise https only)"},
    {"webhook_allow_private_urls", B(webhook_allow_private_urls), "0", 0,
     "allow webhook URLs that resolve to loopback or private-use addresses; "
     "other special-purpose addresses are refused always"},
    {"stream_max", I(stream_max, 0, 1024), "16", 0,
     "change streams (GET /v1/stream) open at once per process, 503 beyond; "
     "each holds an HTTP worker thread while open, so at most half of threads "
     "are given to streams whatever this says (0: no streams)"},
    {"stream_heartbeat_ms", I(stream_heartbeat_ms, 100, 3600000), "15000", 0,
     "time between two heartbeats (a \": ping\" comment) on an idle change "
     "stream, so that proxies keep it open"},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* Where each setting's value came from, for config_print. */
static const char *sources[NOPTS];

static char **
str_field(const struct cfg_opt *o)
{
	return (char **)((char *)&cfg + o->off);
}

static int64_t *
int_field(const struct cfg_opt *o)
{
	return (int64_t *)((char *)&cfg + o->off);
}

static const struct cfg_opt *
find_opt(const char *name, size_t len, bool *is_file)
{
	*is_file = false;
	for (size_t i = 0; i < NOPTS; i++) {
		size_t n = strlen(opts[i].name);

		if (len == n && strncasecmp(name, opts[i].name, n) == 0)
			return &opts[i];
		if ((opts[i].flags & CFG_SECRET) && len == n + 5 &&
		    strncasecmp(name, opts[i].name, n) == 0 &&
		    strncasecmp(name + n, "_file", 5) == 0) {
			*is_file = true;
			return &opts[i];
		}
	}
	return NULL;
}

/* Set one setting from its text; where says where it came from. */
static int
set_value(const struct cfg_opt *o, const char *value, const char *where,
	  struct err *e)
{
	int64_t v;

	switch (o->type) {
	case CFG_STR:
		free(*str_field(o));
		*str_field(o) = xstrdup(value);
		break;
	case CFG_BOOL:
		if (strcmp(value, "1") == 0 || strcasecmp(value, "true") == 0 ||
		    strcasecmp(value, "yes") == 0 ||
		    strcasecmp(value, "on") == 0)
			v = 1;
		else if (strcmp(value, "0") == 0 ||
			 strcasecmp(value, "false") == 0 ||
			 strcasecmp(value, "no") == 0 ||
			 strcasecmp(value, "off") == 0 || value[0] == '\0')
			v = 0;
		else
			return err_set(e, ERR_INPUT,
				       "%s: invalid value for \"%s\": expected "
				       "1/0, true/false, yes/no or on/off",
				       where, o->name);
		*int_field(o) = v;
		break;
	case CFG_INT:
		if (parse_i64(value, o->min, o->max, &v) != 0)
			return err_set(e, ERR_INPUT,
				       "%s: invalid value for \"%s\": expected "
				       "an integer from %lld to %lld",
				       where, o->name, (long long)o->min,
				       (long long)o->max);
		*int_field(o) = v;
		break;
	}
	return 0;
}

/* Read a secret from a file, dropping one trailing newline. */
static int
set_from_file(const struct cfg_opt *o, const char *path, const char *where,
	      struct err *e)
{
	char *data = NULL;
	size_t len = 0;
	struct err fe;
	int rc;

	if (file_slurp(path, 64 * 1024, &data, &len, &fe) != 0)
		return err_set(e, ERR_INPUT, "%s: %s_file: %s", where, o->name,
			       fe.msg);
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	rc = set_value(o, data, where, e);
	explicit_bzero(data, len);
	free(data);
	return rc;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int
load_file(const char *path, struct err *e)
{
	char where[512], line[8192];
	int lineno = 0, rc = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return err_set(e, ERR_INPUT,
			       "could not open configuration file \"%s\": %s",
			       path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		const struct cfg_opt *o;
		char *key, *value, *eq;
		bool is_file;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = err_set(e, ERR_INPUT, "%s: line too long", where);
			goto out;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			rc = err_set(e, ERR_INPUT,
				     "%s: expected \"key = value\"", where);
			goto out;
		}
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		/* A value may be quoted to keep leading or trailing blanks. */
		if (value[0] == '"' && strlen(value) >= 2 &&
		    value[strlen(value) - 1] == '"') {
			value[strlen(value) - 1] = '\0';
			value++;
		}
		o = find_opt(key, strlen(key), &is_file);
		if (o == NULL) {
			rc = err_set(e, ERR_INPUT, "%s: unknown setting \"%s\"",
				     where, key);
			goto out;
		}
		rc = is_file ? set_from_file(o, value, where, e)
			     : set_value(o, value, where, e);
		if (rc != 0)
			goto out;
		sources[o - opts] = "file";
	}
out:
	fclose(f);
	return rc;
}

extern char **environ;

static int
load_env(struct err *e)
{
	for (char **env = environ; *env != NULL; env++) {
		const char *var = *env, *eq = strchr(var, '=');
		const struct cfg_opt *o;
		char where[160];
		bool is_file;
		int rc;

		if (strncmp(var, "VODHOOK_", 8) != 0 || eq == NULL)
			continue;
		snprintf(where, sizeof(where), "environment variable %.*s",
			 (int)(eq - var), var);
		o = find_opt(var + 8, (size_t)(eq - var - 8), &is_file);
		if (o == NULL)
			return err_set(e, ERR_INPUT, "%s: unknown setting",
				       where);
		rc = is_file ? set_from_file(o, eq + 1, where, e)
			     : set_value(o, eq + 1, where, e);
		if (rc != 0)
			return rc;
		sources[o - opts] = "env";
	}
	return 0;
}

/* One address at least; the certificate and key go with tls_listen. */
static int
check_listen(struct err *e)
{
	bool tls = cfg.tls_listen[0] != '\0';

	if (cfg.listen[0] == '\0' && !tls)
		return err_set(e, ERR_INPUT,
			       "listen: empty, and so is tls_listen: vodhook "
			       "would not listen at all");
	if (tls && cfg.tls_cert_file[0] == '\0')
		return err_set(
		    e, ERR_INPUT,
		    "tls_cert_file: not set, and tls_listen needs it");
	if (tls && cfg.tls_key_file[0] == '\0')
		return err_set(
		    e, ERR_INPUT,
		    "tls_key_file: not set, and tls_listen needs it");
	if (!tls &&
	    (cfg.tls_cert_file[0] != '\0' || cfg.tls_key_file[0] != '\0'))
		return err_set(e, ERR_INPUT,
			       "tls_listen: not set, so tls_cert_file and "
			       "tls_key_file would not be used");
	return 0;
}

/* Whether a proxy URL names a scheme curl takes for a proxy. Its text is
 * never printed: it may carry a password. */
static bool
proxy_scheme_ok(const char *url)
{
	static const char *const schemes[] = {"http://",   "https://",
					      "socks4://", "socks4a://",
					      "socks5://", "socks5h://"};

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0 &&
		    url[strlen(schemes[i])] != '\0')
			return true;
	return false;
}

/* The webhook retry schedule must parse. */
static int
check_schedule(struct err *e)
{
	struct webhook_schedule sch;
	struct err why;

	err_clear(&why);
	if (webhook_schedule_parse(cfg.webhook_retry_schedule, &sch, &why) == 0)
		return 0;
	return err_set(e, ERR_INPUT,
		       "invalid value for \"webhook_retry_schedule\": %s",
		       why.msg);
}

int
config_load(const char *path, struct err *e)
{
	int rc, level;

	config_cleanup();
	for (size_t i = 0; i < NOPTS; i++) {
		if ((rc = set_value(&opts[i], opts[i].def, "default", e)) != 0)
			fatal("bad default for \"%s\"", opts[i].name);
		sources[i] = "default";
	}
	if (path != NULL && (rc = load_file(path, e)) != 0)
		return rc;
	if ((rc = load_env(e)) != 0)
		return rc;
	if (strcmp(cfg.tencent_event_mode, "push") != 0 &&
	    strcmp(cfg.tencent_event_mode, "pull") != 0)
		return err_set(e, ERR_INPUT,
			       "invalid value for \"tencent_event_mode\": "
			       "expected push or pull");
	if (strcmp(cfg.alibaba_oss_signature, "v1") != 0 &&
	    strcmp(cfg.alibaba_oss_signature, "v4") != 0)
		return err_set(e, ERR_INPUT,
			       "invalid value for \"alibaba_oss_signature\": "
			       "expected v1 or v4");
	if (strcmp(cfg.alibaba_url_upload, "stream") != 0 &&
	    strcmp(cfg.alibaba_url_upload, "platform") != 0)
		return err_set(e, ERR_INPUT,
			       "invalid value for \"alibaba_url_upload\": "
			       "expected stream or platform");
	if (strcmp(cfg.tencent_url_upload, "stream") != 0 &&
	    strcmp(cfg.tencent_url_upload, "platform") != 0)
		return err_set(e, ERR_INPUT,
			       "invalid value for \"tencent_url_upload\": "
			       "expected stream or platform");
	if ((rc = check_listen(e)) != 0)
		return rc;
	if ((rc = check_schedule(e)) != 0)
		return rc;
	if (cfg.upload_url_proxy[0] != '\0' &&
	    !proxy_scheme_ok(cfg.upload_url_proxy))
		return err_set(e, ERR_INPUT,
			       "invalid value for \"upload_url_proxy\": "
			       "expected a URL of scheme http, https, socks4, "
			       "socks4a, socks5 or socks5h");
	level = log_level_parse(cfg.log_level);
	if (level < 0)
		return err_set(e, ERR_INPUT,
			       "invalid value for \"log_level\": expected "
			       "debug, info, warn or error");
	log_set_level((enum log_level)level);
	return 0;
}

void
config_cleanup(void)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (opts[i].type == CFG_STR) {
			char **p = str_field(&opts[i]);

			if (*p != NULL && (opts[i].flags & CFG_SECRET))
				explicit_bzero(*p, strlen(*p));
			free(*p);
			*p = NULL;
		}
	}
}

static void
format_value(const struct cfg_opt *o, char *out, size_t n)
{
	if (o->type != CFG_STR)
		snprintf(out, n, "%lld", (long long)*int_field(o));
	else if ((o->flags & CFG_SECRET) && **str_field(o) != '\0')
		snprintf(out, n, "********");
	else
		snprintf(out, n, "%s", *str_field(o));
}

void
config_print(FILE *out)
{
	char value[1024];

	for (size_t i = 0; i < NOPTS; i++) {
		format_value(&opts[i], value, sizeof(value));
		fprintf(out, "%s = %s  # %s\n", opts[i].name, value,
			sources[i] ? sources[i] : "default");
	}
}

static const char *
type_name(const struct cfg_opt *o)
{
	return o->type == CFG_STR   ? "string"
	       : o->type == CFG_INT ? "integer"
				    : "boolean";
}

void
config_print_example(FILE *out)
{
	fprintf(out,
		"# vodhook configuration: \"key = value\" lines, read with "
		"--config FILE.\n"
		"# Every key can also be set as an environment variable "
		"VODHOOK_<KEY> (upper case),\n"
		"# which wins over this file. Secret keys can be read from "
		"a file instead:\n"
		"# <key>_file = /path (or VODHOOK_<KEY>_FILE).\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct cfg_opt *o = &opts[i];

		fprintf(out, "\n# %s (%s", o->doc, type_name(o));
		if (o->type == CFG_INT)
			fprintf(out, ", %lld..%lld", (long long)o->min,
				(long long)o->max);
		if (o->flags & CFG_SECRET)
			fprintf(out, ", secret");
		if (o->flags & CFG_REQUIRED)
			fprintf(out, ", required");
		fprintf(out, ")\n#%s = %s\n", o->name, o->def);
	}
}

void
config_print_markdown(FILE *out)
{
	fprintf(out, "| setting | environment | type | default | meaning |\n"
		     "|---|---|---|---|---|\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct cfg_opt *o = &opts[i];
		char env[96], range[64] = "";

		snprintf(env, sizeof(env), "VODHOOK_%s", o->name);
		for (char *p = env; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (o->type == CFG_INT)
			snprintf(range, sizeof(range), " %lld..%lld",
				 (long long)o->min, (long long)o->max);
		fprintf(out, "| `%s` | `%s`%s | %s%s | `%s` | %s |\n", o->name,
			env, (o->flags & CFG_SECRET) ? " or `_FILE`" : "",
			type_name(o), range, o->def, o->doc);
	}
}

/* An empty string setting means "not set" for the cloud options. */
static const char *
or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

void
config_cloud_opts(struct cloud_opts *o)
{
	*o = (struct cloud_opts){
	    .connect_to = or_null(cfg.connect_to),
	    .ca_file = or_null(cfg.ca_file),
	    .allow_http = cfg.allow_http != 0,
	    .timeout_ms = (long)cfg.cloud_timeout_ms,
	    .tencent_secret_id = cfg.tencent_secret_id,
	    .tencent_secret_key = cfg.tencent_secret_key,
	    .tencent_region = or_null(cfg.tencent_region),
	    .tencent_subapp_id = or_null(cfg.tencent_subapp_id),
	    .tencent_api_url = or_null(cfg.tencent_api_url),
	    .alibaba_access_key_id = cfg.alibaba_access_key_id,
	    .alibaba_access_key_secret = cfg.alibaba_access_key_secret,
	    .alibaba_region = or_null(cfg.alibaba_region),
	    .alibaba_api_url = or_null(cfg.alibaba_api_url),
	    .alibaba_app_id = or_null(cfg.alibaba_app_id),
	    .alibaba_callback_url = or_null(cfg.alibaba_callback_url),
	    .alibaba_oss_v4 = strcmp(cfg.alibaba_oss_signature, "v4") == 0,
	};
}
