/*
 * webhooks_run.c: the delivery workers started from the settings.
 *
 * Interface: webhooks_run_start.
 */
#include "server/webhooks_run.h"

#include "callbacks/ingest.h"

#include "server/config.h"

static bool
callbacks_busy(void *arg)
{
	return ingest_busy(arg);
}

struct webhook_service *
webhooks_run_start(struct db_pool *pool, struct ingest *ig,
		   struct vh_signal *wake)
{
	struct webhook_service_opts o = {
	    .pool = pool,
	    .workers = (int)cfg.webhook_workers,
	    .max_in_flight = (int)cfg.webhook_max_in_flight,
	    .batch = (int)cfg.webhook_batch,
	    .timeout_ms = cfg.webhook_timeout_ms,
	    .poll_ms = cfg.webhook_poll_ms,
	    .disable_after_s = cfg.webhook_disable_after,
	    .url = {.allow_http = cfg.webhook_allow_http,
		    .allow_private = cfg.webhook_allow_private_urls},
	    .ca_file = cfg.ca_file,
	    .busy = callbacks_busy,
	    .busy_arg = ig,
	    .busy_share = (int)cfg.webhook_busy_share,
	    .wake = wake,
	};
	struct webhook_service *s;
	struct err e;

	err_clear(&e);
	/* config_load checked it already. */
	if (webhook_schedule_parse(cfg.webhook_retry_schedule, &o.schedule,
				   &e) != 0)
		fatal("webhook_retry_schedule: %s", e.msg);
	webhook_service_start(&o, &s);
	return s;
}
