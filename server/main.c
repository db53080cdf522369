/*
 * main.c: the vodhook program: subcommands, start-up and shutdown.
 *
 *   vodhook [--config FILE] serve      run the HTTP server
 *   vodhook [--config FILE] migrate    apply the database migrations
 *   vodhook [--config FILE] config     print the effective settings
 *   vodhook [--config FILE] check      check the settings, database, clouds
 *   vodhook [--config FILE] webhooks   manage webhook subscriptions
 *   vodhook config --example           print a documented example file
 *   vodhook version
 */
#include "callbacks/background.h"
#include "callbacks/ingest.h"
#include "server/config.h"
#include "server/handlers.h"
#include "server/http.h"
#include "server/retention.h"
#include "server/stream.h"
#include "server/tls.h"
#include "server/webhooks_run.h"
#include "store/store.h"
#include "upload/upload.h"
#include "cloud/cloud.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2
/* How long Tencent keeps a reliable-callback event not yet confirmed
 * (PullEvents' reference). */
#define TENCENT_PULL_KEEP_DAYS 4

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: vodhook [--config FILE] COMMAND\n"
	    "\n"
	    "commands:\n"
	    "  serve              run the HTTP server (callbacks, API)\n"
	    "  migrate            apply the database migrations and exit\n"
	    "  check              check the settings, database, spool and "
	    "clouds\n"
	    "  config             print the effective settings (secrets "
	    "masked)\n"
	    "  config --example   print an example configuration file\n"
	    "  config --markdown  print the settings as a Markdown table\n"
	    "  upload [OPTIONS] FILE|URL\n"
	    "                     upload a file or URL (\"upload --help\")\n"
	    "  webhooks ...       manage webhook subscriptions (\"webhooks "
	    "--help\")\n"
	    "  delete PROVIDER FILE_ID\n"
	    "                     ask the platform to delete a media\n"
	    "  version            print the version\n"
	    "\n"
	    "Settings come from VODHOOK_* environment variables and the "
	    "--config file;\n"
	    "see \"vodhook config --example\".\n");
}

/* The API's pool; one line on stderr when database_url does not parse. */
static int
new_pool(struct db_pool **pool)
{
	struct db_pool_opts o = {
	    .conninfo = cfg.database_url,
	    .size = (int)cfg.db_pool_size,
	    .connect_timeout_s = (int)cfg.db_connect_timeout,
	    .timeout_ms = (int)cfg.db_timeout_ms,
	    .app_name = "vodhook",
	};
	struct err e;

	err_clear(&e);
	if (db_pool_new(&o, pool, &e) != 0) {
		fprintf(stderr, "vodhook: %s\n", e.msg);
		return 1;
	}
	return 0;
}

/* Say why the database cannot be used, in one line on stderr. */
static void
report_db_error(int rc, const struct err *e)
{
	if (rc == ERR_UNAVAIL || rc == ERR_AUTH)
		fprintf(stderr,
			"vodhook: database_url (VODHOOK_DATABASE_URL): %s\n",
			e->msg);
	else
		fprintf(stderr, "vodhook: %s\n", e->msg);
}

/* Open the pool and check the database; one line on stderr on failure. */
static int
open_database(struct db_pool **pool)
{
	struct err e;
	int rc;

	if (new_pool(pool) != 0)
		return 1;
	err_clear(&e);
	if ((rc = store_ping(*pool, &e)) != 0) {
		report_db_error(rc, &e);
		db_pool_free(*pool);
		*pool = NULL;
		return 1;
	}
	return 0;
}

/*
 * The callback committer's own connection, with generic plans (its one
 * statement then stays prepared and planned for the connection's life).
 * Opened on first use, like the pool's; database_url parsed already.
 */
static struct db_pool *
open_commit_pool(void)
{
	struct db_pool_opts o = {
	    .conninfo = cfg.database_url,
	    .size = 1,
	    .connect_timeout_s = (int)cfg.db_connect_timeout,
	    .timeout_ms = (int)cfg.callback_db_timeout_ms,
	    .app_name = "vodhook-ingest",
	    .generic_plans = true,
	};
	struct db_pool *pool = NULL;
	struct err e;

	err_clear(&e);
	if (db_pool_new(&o, &pool, &e) != 0)
		fatal("could not create the committer's pool: %s", e.msg);
	return pool;
}

/*
 * Apply the migrations: 0, or the error (e says why): ERR_UNAVAIL when the
 * database cannot be reached, ERR_AUTH when it refuses the credentials.
 */
static int
migrate(struct db_pool *pool, struct err *e)
{
	int applied, rc;

	err_clear(e);
	if ((rc = store_migrate(pool, &applied, e)) != 0)
		return rc;
	log_msg(
	    LOG_INFO, "main",
	    "database schema is at version %d (%d migration(s) applied now)",
	    store_schema_version(), applied);
	return 0;
}

static int
cmd_migrate(void)
{
	struct db_pool *pool = NULL;
	struct err e;
	int rc;

	if ((rc = open_database(&pool)) != 0)
		return rc;
	if ((rc = migrate(pool, &e)) != 0) {
		report_db_error(rc, &e);
		rc = 1;
	}
	db_pool_free(pool);
	return rc;
}

/* The Tencent PULL poller and the reconciler, where configured. */
static int
start_event_sources(struct app *app, const struct cloud_opts *co,
		    struct cb_pull **puller, struct cb_reconcile **reconciler)
{
	bool tencent = cfg.tencent_secret_id[0] != '\0';
	bool alibaba = cfg.alibaba_access_key_id[0] != '\0';
	struct cb_reconcile_opts ro = {
	    .cloud = co,
	    .pool = app->pool,
	    .ingest = app->ingest,
	    .tencent = tencent,
	    .alibaba = alibaba,
	    .after_s = cfg.reconcile_after,
	    .interval_ms = cfg.reconcile_interval_ms,
	    .url_timeout_s = cfg.url_pull_timeout,
	};
	struct err e;

	err_clear(&e);
	if (strcmp(cfg.tencent_event_mode, "pull") == 0) {
		if (!tencent) {
			fprintf(stderr, "vodhook: tencent_event_mode = pull "
					"needs VODHOOK_TENCENT_SECRET_ID\n");
			return EXIT_USAGE;
		}
		if (cb_pull_start(co, cfg.tencent_pull_subapp_ids, app->ingest,
				  app->pool, puller, &e) != 0) {
			fprintf(stderr, "vodhook: %s\n", e.msg);
			return 1;
		}
		log_msg(LOG_INFO, "main",
			"pulling Tencent events (PullEvents)");
	}
	if (cfg.reconcile_after > 0 && (tencent || alibaba) &&
	    cb_reconcile_start(&ro, reconciler, &e) != 0) {
		fprintf(stderr, "vodhook: %s\n", e.msg);
		return 1;
	}
	return 0;
}

/* The retention's thread, when a retention is set. */
static struct retention *
start_retention(struct db_pool *pool)
{
	struct retention_opts o = {
	    .pool = pool,
	    .events_days = (int)cfg.retention_events_days,
	    .uploads_days = (int)cfg.retention_uploads_days,
	    .webhooks_days = (int)cfg.retention_webhooks_days,
	    .batch = (int)cfg.retention_batch,
	    .interval_ms = cfg.retention_interval_ms,
	    .pause_ms = cfg.retention_pause_ms,
	};
	struct retention *r;

	/* Not an error: the operator may accept that an event Tencent
	 * delivers again after its row was deleted is stored again. */
	if (o.events_days > 0 && o.events_days <= TENCENT_PULL_KEEP_DAYS &&
	    strcmp(cfg.tencent_event_mode, "pull") == 0)
		log_msg(LOG_WARN, "main",
			"retention_events_days = %d is within the %d days "
			"Tencent keeps an unconfirmed event: one pulled again "
			"after its row was deleted is stored again",
			o.events_days, TENCENT_PULL_KEEP_DAYS);
	retention_start(&o, &r);
	return r;
}

/*
 * Tencent callbacks are verified by a sign key or a path token; accepting
 * them without either must be asked for. False (said on stderr) when
 * neither is set and it was not asked for.
 */
static bool
tencent_verification_ok(void)
{
	if (cfg.tencent_sign_key[0] != '\0' ||
	    cfg.tencent_callback_token[0] != '\0' ||
	    cfg.tencent_allow_unverified)
		return true;
	fprintf(stderr,
		"vodhook: Tencent callbacks would be accepted unverified: "
		"set VODHOOK_TENCENT_SIGN_KEY or "
		"VODHOOK_TENCENT_CALLBACK_TOKEN, or "
		"VODHOOK_TENCENT_ALLOW_UNVERIFIED=1 if that is intended\n");
	return false;
}

/*
 * Block the stop signals and SIGHUP in every thread before any is started
 * (the ingest committer too, and CivetWeb's: threads inherit the mask), so
 * that main waits for them with sigwait and shutdown and reloads run in
 * main. A thread that did not block SIGTERM could take it and end the
 * process.
 */
static void
block_stop_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Listen and serve the routes (http_start copies the table; app outlives
 * the server). 0, or 1 with the reason on stderr.
 */
static int
start_http(struct app *app, struct tls *tls, struct http_server **http)
{
	struct http_opts ho = {
	    .listen = cfg.listen,
	    .tls_listen = cfg.tls_listen,
	    .tls = tls,
	    .threads = (int)cfg.threads,
	    .request_timeout_ms = cfg.request_timeout_ms,
	    .body_timeout_ms = cfg.body_timeout_ms,
	    .api_token = cfg.api_token,
	};
	const struct http_route routes[] = {
	    {"GET", "/healthz", handle_healthz, app, 0},
	    {"HEAD", "/healthz", handle_healthz, app, 0},
	    {"GET", "/readyz", handle_readyz, app, 0},
	    {"HEAD", "/readyz", handle_readyz, app, 0},
	    {"GET", "/metrics", handle_metrics, app, 0},
	    {"POST", "/callbacks/tencent", handle_cb_tencent, app, 0},
	    {"POST", "/callbacks/tencent/*", handle_cb_tencent, app,
	     ROUTE_SECRET_PATH},
	    {"POST", "/callbacks/alibaba", handle_cb_alibaba, app, 0},
	    {"GET", "/v1/media", handle_media_list, app, ROUTE_API},
	    {"GET", "/v1/media/*/*", handle_media_get, app, ROUTE_API},
	    {"GET", "/v1/media/*/*/events", handle_media_events, app,
	     ROUTE_API},
	    {"DELETE", "/v1/media/*/*", handle_media_delete, app, ROUTE_API},
	    {"POST", "/v1/uploads", handle_upload_create, app, ROUTE_API},
	    {"GET", "/v1/uploads", handle_upload_list, app, ROUTE_API},
	    {"GET", "/v1/uploads/*", handle_upload_get, app, ROUTE_API},
	    {"DELETE", "/v1/uploads/*", handle_upload_cancel, app, ROUTE_API},
	    WEBHOOK_ROUTES(app),
	    {"GET", "/v1/summary", handle_summary, app, ROUTE_API},
	    {"GET", "/v1/failures", handle_failures, app, ROUTE_API},
	    {"GET", "/", handle_ui_index, NULL, 0},
	    {"GET", "/ui/*", handle_ui_file, NULL, 0},
	    {"GET", "/v1/stream", handle_stream, app->streams, ROUTE_API},
	};
	struct err e;

	err_clear(&e);
	if (http_start(&ho, routes, sizeof(routes) / sizeof(routes[0]), http,
		       &e) != 0) {
		fprintf(stderr, "vodhook: %s: %s\n",
			cfg.tls_listen[0]
			    ? "listen (VODHOOK_LISTEN) or tls_listen "
			      "(VODHOOK_TLS_LISTEN)"
			    : "listen (VODHOOK_LISTEN)",
			e.msg);
		return 1;
	}
	return 0;
}

/*
 * The change streams' hub and its listener (a PostgreSQL connection of its
 * own, opened in the background): 0, or 1 said on stderr.
 */
static int
start_streams(struct app *app)
{
	struct stream_hub_opts o = {
	    .pool = app->pool,
	    .conninfo = cfg.database_url,
	    .connect_timeout_s = (int)cfg.db_connect_timeout,
	    .timeout_ms = (int)cfg.db_timeout_ms,
	    .max = (int)cfg.stream_max,
	    .heartbeat_ms = (int)cfg.stream_heartbeat_ms,
	    .write_timeout_ms = cfg.request_timeout_ms,
	};
	struct err e;

	/* Each stream holds a worker thread: at least half of them are
	 * left to callbacks and the API, whatever stream_max says. */
	if (o.max > cfg.threads / 2)
		o.max = (int)(cfg.threads / 2);
	err_clear(&e);
	if (stream_hub_start(&o, &app->streams, &e) != 0) {
		fprintf(stderr, "vodhook: %s\n", e.msg);
		return 1;
	}
	return 0;
}

/* The HTTPS certificate, when tls_listen is set: 0, or 1 said on stderr. */
static int
load_tls(struct tls **tls)
{
	struct err e;

	*tls = NULL;
	if (cfg.tls_listen[0] == '\0')
		return 0;
	err_clear(&e);
	if (tls_new(cfg.tls_cert_file, cfg.tls_key_file, tls, &e) != 0) {
		fprintf(stderr, "vodhook: %s\n", e.msg);
		return 1;
	}
	return 0;
}

/*
 * SIGHUP: read the HTTPS certificate and key again (a renewed certificate
 * costs no restart, and a bad one is refused while the old one is still
 * served).
 */
static void
reload_tls(struct tls *tls)
{
	struct err e;

	if (tls == NULL) {
		log_msg(LOG_INFO, "main", "SIGHUP: nothing to reload");
		return;
	}
	err_clear(&e);
	if (tls_reload(tls, &e) == 0)
		log_msg(LOG_INFO, "main",
			"SIGHUP: reloaded the HTTPS certificate");
	else
		log_msg(LOG_ERROR, "main",
			"SIGHUP: kept the previous HTTPS certificate: %s",
			e.msg);
}

/* Wait for SIGTERM or SIGINT, reloading the certificate on SIGHUP. */
static int
wait_for_stop(const sigset_t *sigs, struct tls *tls)
{
	int sig = 0;

	for (;;) {
		sigwait(sigs, &sig);
		if (sig != SIGHUP)
			return sig;
		reload_tls(tls);
	}
}

/*
 * Start-up waits this long between attempts to reach the database, doubling
 * from the first: a database that is back soon is used soon, and one that
 * stays away is asked no more often than the maximum.
 */
#define DB_RETRY_MIN_MS 250
#define DB_RETRY_MAX_MS 5000

/*
 * Reach the database and apply the migrations. 0 when done; ERR_UNAVAIL
 * when the database cannot be reached now; any other error (the
 * credentials refused, a database newer than this binary, a migration
 * that fails) would stay the same however long we wait.
 */
static int
bring_up_database(struct db_pool *pool, struct err *e)
{
	int rc;

	err_clear(e);
	if ((rc = store_ping(pool, e)) != 0)
		return rc;
	return migrate(pool, e);
}

/*
 * Try the database again, with back-off, until it is up and migrated, or
 * a stop signal comes (*sig set, 0 returned; SIGHUP reloads the
 * certificate meanwhile), or it gives a permanent error (said on stderr, 1
 * returned). Meanwhile callbacks go to the spool
 * and /readyz answers 503 with the reason. A reason is logged when it
 * changes, not at every attempt.
 */
static int
wait_for_database(struct db_pool *pool, const sigset_t *sigs, struct tls *tls,
		  int *sig)
{
	int wait_ms = DB_RETRY_MIN_MS;
	struct err e;
	char last[sizeof(e.msg)] = "";
	int rc;

	for (;;) {
		struct timespec ts = {wait_ms / 1000,
				      (wait_ms % 1000) * 1000000L};
		int s = sigtimedwait(sigs, NULL, &ts);

		if (s == SIGHUP) {
			reload_tls(tls);
			continue;
		}
		if (s > 0) {
			*sig = s;
			return 0;
		}
		/* Another caller (/readyz, the replay) has just tried: the
		 * pool would only repeat its answer. */
		if (db_pool_backoff(pool, &e) != 0)
			continue;
		if ((rc = bring_up_database(pool, &e)) == 0) {
			log_msg(LOG_INFO, "main", "database is reachable");
			return 0;
		}
		if (rc != ERR_UNAVAIL) {
			report_db_error(rc, &e);
			return 1;
		}
		if (strcmp(last, e.msg) != 0)
			log_msg(LOG_WARN, "main",
				"still waiting for the database: %s", e.msg);
		snprintf(last, sizeof(last), "%s", e.msg);
		wait_ms = wait_ms * 2 > DB_RETRY_MAX_MS ? DB_RETRY_MAX_MS
							: wait_ms * 2;
	}
}

/*
 * What needs the database from the start: the upload workers, the Tencent
 * PULL poller, the reconciler and the retention. 0, or the exit status (said on
 * stderr).
 */
static int
start_workers(struct app *app, const struct cloud_opts *co,
	      struct cb_pull **puller, struct cb_reconcile **reconciler,
	      struct retention **retention)
{
	struct err e;
	int rc;

	err_clear(&e);
	if (upload_service_start(app->uploads, &e) != 0) {
		fprintf(stderr, "vodhook: %s\n", e.msg);
		return 1;
	}
	if ((rc = start_event_sources(app, co, puller, reconciler)) != 0)
		return rc;
	*retention = start_retention(app->pool);
	return 0;
}

static int
cmd_serve(void)
{
	struct app app = {0};
	struct http_server *http = NULL;
	struct upload_config uc;
	struct cloud_opts co;
	struct cb_pull *puller = NULL;
	struct cb_reconcile *reconciler = NULL;
	struct retention *retention = NULL;
	struct webhook_service *webhooks = NULL;
	struct db_pool *commit_pool = NULL;
	struct tls *tls = NULL;
	struct vh_signal stored; /* callbacks stored: webhooks may be due */
	struct ingest_opts io = {
	    .spool_dir = cfg.spool_dir,
	    .batch_max = (int)cfg.ingest_batch_max,
	    .batch_max_bytes = 8u << 20,
	    .replay_interval_ms = 1000,
	};
	sigset_t sigs;
	struct err e;
	bool db_up;
	int rc, sig = 0;

	if (!tencent_verification_ok())
		return EXIT_USAGE;
	if ((rc = load_tls(&tls)) != 0)
		return rc;
	vh_signal_init(&stored);
	io.stored = &stored;
	if ((rc = new_pool(&app.pool)) != 0)
		goto out;
	io.pool = app.pool;
	io.commit_pool = app.commit_pool = commit_pool = open_commit_pool();
	block_stop_signals(&sigs);
	/* The spool first: it is locked for this process, and a second
	 * process given the same directory stops here. */
	err_clear(&e);
	if (ingest_start(&io, &app.ingest, &e) != 0) {
		fprintf(stderr, "vodhook: %s\n", e.msg);
		rc = 1;
		goto out;
	}
	/* A database that cannot be reached now (stopped, starting after us,
	 * failing over) does not stop start-up: callbacks are verified and
	 * spooled meanwhile, and the upload workers, the poller and the
	 * reconciler start once it is back and migrated. */
	rc = bring_up_database(app.pool, &e);
	if (rc != 0 && rc != ERR_UNAVAIL) {
		report_db_error(rc, &e);
		rc = 1;
		goto out;
	}
	db_up = rc == 0;
	if (!db_up)
		log_msg(LOG_WARN, "main",
			"%s; callbacks go to the spool until it is back",
			e.msg);

	upload_config_from_cfg(&uc, &co);
	app.cloud = &co;
	err_clear(&e);
	if (upload_service_new(&uc, app.pool, &app.uploads, &e) != 0) {
		fprintf(stderr, "vodhook: %s\n", e.msg);
		rc = 1;
		goto out;
	}

	if ((rc = start_streams(&app)) != 0 ||
	    (rc = start_http(&app, tls, &http)) != 0)
		goto out;
	log_msg(LOG_INFO, "main",
		"vodhook %s listening on http=%s https=%s (%d threads)",
		VODHOOK_VERSION, cfg.listen[0] ? cfg.listen : "off",
		cfg.tls_listen[0] ? cfg.tls_listen : "off", (int)cfg.threads);
	if (!db_up && (rc = wait_for_database(app.pool, &sigs, tls, &sig)) != 0)
		goto out;
	if (sig == 0) {
		if ((rc = start_workers(&app, &co, &puller, &reconciler,
					&retention)) != 0)
			goto out;
		webhooks = webhooks_run_start(app.pool, app.ingest, &stored);
		sig = wait_for_stop(&sigs, tls);
	}
	log_msg(LOG_INFO, "main", "received %s, shutting down",
		sig == SIGTERM ? "SIGTERM" : "SIGINT");
out:
	/* Stop in this order: the event sources and the HTTP server, which
	 * hand events to ingest; the upload workers; ingest last, so that
	 * every event handed to it is committed or spooled. Each x_free
	 * stops its module first. */
	cb_pull_free(puller);
	cb_reconcile_free(reconciler);
	retention_free(retention);
	webhook_service_free(webhooks);
	stream_hub_close(app.streams); /* streams end, so that... */
	http_free(http);	       /* no request in flight after this */
	stream_hub_free(app.streams);
	upload_service_free(app.uploads); /* jobs give their lease back */
	ingest_free(app.ingest);
	db_pool_free(commit_pool);
	db_pool_free(app.pool);
	tls_free(tls); /* after the server, whose handshakes use it */
	vh_signal_cleanup(&stored);
	if (rc == 0)
		log_msg(LOG_INFO, "main", "stopped");
	return rc;
}

int
main(int argc, char **argv)
{
	const char *config_path = NULL, *cmd = NULL;
	int argi = 1, rc;
	struct err e;

	for (; argi < argc; argi++) {
		if (strcmp(argv[argi], "--config") == 0 && argi + 1 < argc) {
			config_path = argv[++argi];
		} else if (strncmp(argv[argi], "--config=", 9) == 0) {
			config_path = argv[argi] + 9;
		} else if (strcmp(argv[argi], "-h") == 0 ||
			   strcmp(argv[argi], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[argi][0] == '-') {
			fprintf(stderr, "vodhook: unknown option \"%s\"\n",
				argv[argi]);
			usage(stderr);
			return EXIT_USAGE;
		} else {
			cmd = argv[argi++];
			break;
		}
	}
	if (cmd == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "version") == 0) {
		printf("vodhook %s\n", VODHOOK_VERSION);
		return 0;
	}
	if (strcmp(cmd, "config") == 0 && argi < argc) {
		if (strcmp(argv[argi], "--example") == 0) {
			config_print_example(stdout);
			return 0;
		}
		if (strcmp(argv[argi], "--markdown") == 0) {
			config_print_markdown(stdout);
			return 0;
		}
		fprintf(stderr, "vodhook: unknown option \"%s\"\n", argv[argi]);
		return EXIT_USAGE;
	}

	err_clear(&e);
	if (config_load(config_path, &e) != 0) {
		fprintf(stderr, "vodhook: %s\n", e.msg);
		config_cleanup();
		return EXIT_USAGE;
	}
	/* libcurl first, before any thread starts (libcurl-thread.md). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "vodhook: could not initialise libcurl\n");
		return 1;
	}
	/* OpenSSL is initialised by libcurl and libpq; CivetWeb must not. */
	mg_init_library(0);

	if (strcmp(cmd, "config") == 0) {
		config_print(stdout);
		rc = 0;
	} else if (strcmp(cmd, "migrate") == 0) {
		rc = cmd_migrate();
	} else if (strcmp(cmd, "serve") == 0) {
		rc = cmd_serve();
	} else if (strcmp(cmd, "check") == 0) {
		rc = cmd_check();
	} else if (strcmp(cmd, "upload") == 0) {
		rc = cmd_upload(argc - argi + 1, argv + argi - 1);
	} else if (strcmp(cmd, "webhooks") == 0) {
		rc = cmd_webhooks(argc - argi + 1, argv + argi - 1);
	} else if (strcmp(cmd, "delete") == 0) {
		rc = cmd_delete(argc - argi + 1, argv + argi - 1);
	} else {
		fprintf(stderr, "vodhook: unknown command \"%s\"\n", cmd);
		usage(stderr);
		rc = EXIT_USAGE;
	}
	mg_exit_library();
	curl_global_cleanup();
	config_cleanup();
	return rc;
}
