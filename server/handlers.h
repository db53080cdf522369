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
	struct ingest *ingest;
};

int handle_healthz(struct http_req *r, void *arg);
int handle_readyz(struct http_req *r, void *arg);
int handle_cb_tencent(struct http_req *r, void *arg);
int handle_cb_alibaba(struct http_req *r, void *arg);
int handle_media_get(struct http_req *r, void *arg);
int handle_media_events(struct http_req *r, void *arg);
int handle_media_list(struct http_req *r, void *arg);
int handle_metrics(struct http_req *r, void *arg);

#endif
