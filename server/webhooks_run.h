/*
 * webhooks_run.h: the webhook routes and delivery workers as main.c wires
 * them (webhooks_run.c).
 */
#ifndef VODHOOK_SERVER_WEBHOOKS_RUN_H
#define VODHOOK_SERVER_WEBHOOKS_RUN_H

#include "server/handlers.h"
#include "webhooks/webhooks.h"

/* The /v1/webhooks routes, for main.c's table. */
#define WEBHOOK_ROUTES(app)                                                    \
	{"POST", "/v1/webhooks", handle_webhook_create, app, ROUTE_API},       \
	    {"GET", "/v1/webhooks", handle_webhook_list, app, ROUTE_API},      \
	    {"GET", "/v1/webhooks/*", handle_webhook_get, app, ROUTE_API},     \
	    {"PATCH", "/v1/webhooks/*", handle_webhook_update, app,            \
	     ROUTE_API},                                                       \
	    {"DELETE", "/v1/webhooks/*", handle_webhook_delete, app,           \
	     ROUTE_API},                                                       \
	    {"POST", "/v1/webhooks/*/rotate", handle_webhook_rotate, app,      \
	     ROUTE_API},                                                       \
	    {"GET", "/v1/webhooks/*/messages", handle_webhook_messages, app,   \
	     ROUTE_API},                                                       \
	    {"GET", "/v1/webhooks/*/messages/*", handle_webhook_message, app,  \
	     ROUTE_API},                                                       \
	    {"POST", "/v1/webhooks/*/messages/*/resend",                       \
	     handle_webhook_resend, app, ROUTE_API},                           \
	{                                                                      \
		"POST", "/v1/webhooks/*/resend", handle_webhook_resend_since,  \
		    app, ROUTE_API                                             \
	}

struct ingest;

/* Start the delivery workers the settings ask for (NULL: none); they give
 * way to ig's callbacks while those wait for the database, and look for
 * messages as soon as wake is raised (ig's callbacks stored). */
struct webhook_service *webhooks_run_start(struct db_pool *pool,
					   struct ingest *ig,
					   struct vh_signal *wake);

#endif
