/*
 * handlers.c: health and readiness.
 */
#include "server/handlers.h"

int
handle_healthz(struct http_req *r, void *arg)
{
	cJSON *doc = cJSON_CreateObject();

	(void)arg;
	cJSON_AddStringToObject(doc, "status", "ok");
	return http_reply_json(r, 200, doc);
}

int
handle_readyz(struct http_req *r, void *arg)
{
	struct app *app = arg;
	struct err e;
	cJSON *doc;
	int rc;

	err_clear(&e);
	if ((rc = store_ready(app->pool, &e)) != 0) {
		http_note(r, "%s", e.msg);
		return http_reply_error(r, 503, "not_ready", "%s", e.msg);
	}
	/* The committer has a connection of its own: until its back-off
	 * after the database was away has passed, callbacks still go to the
	 * spool, however the pool above found the database. */
	if (app->commit_pool != NULL &&
	    db_pool_backoff(app->commit_pool, &e) != 0) {
		http_note(r, "callback committer: %s", e.msg);
		return http_reply_error(r, 503, "not_ready",
					"callback committer: %s", e.msg);
	}
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "status", "ready");
	cJSON_AddNumberToObject(doc, "schema_version", store_schema_version());
	return http_reply_json(r, 200, doc);
}
