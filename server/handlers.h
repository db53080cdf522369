/*
 * handlers.h: the HTTP handlers and the state they share.
 */
#ifndef VODHOOK_SERVER_HANDLERS_H
#define VODHOOK_SERVER_HANDLERS_H

#include "server/http.h"
#include "store/store.h"

/* What every handler may use; owned by main.c, alive while serving. */
struct app {
	struct db_pool *pool;
	struct db_pool *commit_pool; /* the callback committer's */
	struct ingest *ingest;
	struct upload_service *uploads;
	const struct cloud_opts *cloud; /* for deletions */
	struct stream_hub *streams;	/* GET /v1/stream */
};

struct upload_config;
struct cloud_opts;

int handle_healthz(struct http_req *r, void *arg);
int handle_readyz(struct http_req *r, void *arg);
int handle_cb_tencent(struct http_req *r, void *arg);
int handle_cb_alibaba(struct http_req *r, void *arg);
int handle_media_get(struct http_req *r, void *arg);
int handle_media_events(struct http_req *r, void *arg);
int handle_media_list(struct http_req *r, void *arg);
int handle_media_delete(struct http_req *r, void *arg);
int handle_metrics(struct http_req *r, void *arg);
int handle_upload_create(struct http_req *r, void *arg);
int handle_upload_get(struct http_req *r, void *arg);
int handle_upload_list(struct http_req *r, void *arg);
int handle_upload_cancel(struct http_req *r, void *arg);
/* webhooks_http.c */
int handle_webhook_create(struct http_req *r, void *arg);
int handle_webhook_list(struct http_req *r, void *arg);
int handle_webhook_get(struct http_req *r, void *arg);
int handle_webhook_update(struct http_req *r, void *arg);
int handle_webhook_delete(struct http_req *r, void *arg);
int handle_webhook_rotate(struct http_req *r, void *arg);
int handle_webhook_messages(struct http_req *r, void *arg);
int handle_webhook_message(struct http_req *r, void *arg);
int handle_webhook_resend(struct http_req *r, void *arg);
int handle_webhook_resend_since(struct http_req *r, void *arg);
struct store_webhook_sub;
/*
 * The subscription fields of a request body doc (url, description, filter,
 * enabled) into w, checked (the URL by webhook_url_check): strings borrowed
 * from doc, the filter lists owned by lists[3] (caller frees each). 0, or
 * ERR_INPUT / ERR_FORBIDDEN with why. webhooks_http.c, for the CLI too.
 */
int webhook_sub_fields(const cJSON *doc, struct store_webhook_sub *w,
		       char *lists[3], struct err *e);
/* Whether s is a subscription id (a UUID in its text form). */
bool webhook_id_ok(const char *s);
/* "vodhook webhooks ...": argv[0] is "webhooks". cli_webhooks.c. */
int cmd_webhooks(int argc, char **argv);
int handle_summary(struct http_req *r, void *arg);
int handle_failures(struct http_req *r, void *arg);
int handle_ui_index(struct http_req *r, void *arg);
int handle_ui_file(struct http_req *r, void *arg);

/*
 * Fill the upload module's settings (and the cloud options they point to,
 * which the caller keeps alive) from cfg. cli_upload.c.
 */
void upload_config_from_cfg(struct upload_config *uc, struct cloud_opts *co);
/* "vodhook upload ...": argv[0] is "upload". Returns the exit status. */
int cmd_upload(int argc, char **argv);
/* "vodhook delete PROVIDER FILE_ID": argv[0] is "delete". cli_delete.c. */
int cmd_delete(int argc, char **argv);
/* "vodhook check": one line per check on stdout; 1 when one failed.
 * cli_check.c. */
int cmd_check(void);

#endif
