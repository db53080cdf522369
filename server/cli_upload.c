/*
 * cli_upload.c: "vodhook upload": upload one file or URL from the command
 * line with the same engine as the server, the job recorded in the
 * database; or, with --no-wait, queue it for the servers' workers.
 *
 *   vodhook upload --provider tencent|alibaba [--procedure NAME]
 *       [--source-context TEXT] [--name NAME] [--media-type EXT]
 *       [--session-context TEXT] [--class-id N] [--storage-region R]
 *       [--expire-time T] [--cover FILE] [--sub-app-id N]
 *       [--tasks-priority N]                                    (Tencent)
 *       [--workflow-id ID] [--description T] [--cover-url URL]
 *       [--cate-id N] [--tags T1,T2] [--storage-location HOST]
 *       [--media-kind video|image|attached] [--image-type default|cover]
 *       [--business-type watermark|subtitle|material] [--cate-ids N,M]
 *       [--app-id app-N]
 *       [--url-upload stream|platform]                          (Alibaba)
 *       [--no-wait] FILE|URL
 *
 * --url-upload and --cover-url apply to Tencent too (PullUpload).
 *
 * The options map to the HTTP API's fields of the same name (dashes for
 * underscores); upload_submit checks them for both.
 *
 * Prints the upload id, then FileId and MediaUrl; exit status 0 only on
 * success. With --url-upload platform the platform fetches the URL: the
 * command ends once it took the URL, printing its url_job_id, and the
 * callbacks (received by a server) finish the record. Progress goes to
 * stderr: a bar on a terminal, plain lines otherwise.
 *
 * Interface: cmd_upload, upload_config_from_cfg.
 */
#include "server/handlers.h"

#include "cloud/cloud.h"
#include "common/json.h"
#include "server/config.h"
#include "store/store.h"
#include "upload/upload.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2

void
upload_config_from_cfg(struct upload_config *uc, struct cloud_opts *co)
{
	config_cloud_opts(co);
	*uc = (struct upload_config){
	    .cloud = co,
	    .root = cfg.upload_root,
	    .tmp_dir = cfg.upload_tmp_dir,
	    .workers = (int)cfg.upload_workers,
	    .part_size = cfg.upload_part_size,
	    .parallel = (int)cfg.upload_parallel,
	    .threshold = cfg.upload_threshold,
	    .max_bytes = cfg.upload_max_bytes,
	    .lease_seconds = (int)cfg.upload_lease_seconds,
	    .allow_private_urls = cfg.upload_allow_private_urls != 0,
	    .url_proxy = cfg.upload_url_proxy,
	    .max_attempts = (int)cfg.upload_max_attempts,
	    .poll_ms = (long)cfg.upload_poll_ms,
	    .part_timeout_ms = (long)cfg.upload_part_timeout_ms,
	    .default_storage_region = cfg.tencent_storage_region,
	    .alibaba_url_upload = cfg.alibaba_url_upload,
	    .tencent_url_upload = cfg.tencent_url_upload,
	};
}

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: vodhook upload --provider tencent|alibaba [OPTIONS] "
	    "FILE|URL\n"
	    "\n"
	    "  --provider P          tencent or alibaba (required)\n"
	    "  --procedure NAME      task flow to run after the upload\n"
	    "  --source-context T    your own context, kept with the record\n"
	    "  --name NAME           media name (default: the file name)\n"
	    "  --media-type EXT      media type (default: the extension)\n"
	    "  --no-wait             queue the job for the server and exit\n"
	    "\n"
	    "Tencent only:\n"
	    "  --session-context T   SessionContext (up to 1000 characters)\n"
	    "  --class-id N          ClassId\n"
	    "  --storage-region R    StorageRegion\n"
	    "  --expire-time T       ExpireTime, ISO 8601 UTC\n"
	    "  --cover FILE          cover image uploaded with the media\n"
	    "  --sub-app-id N        SubAppId (default: tencent_subapp_id)\n"
	    "  --cover-url URL       CoverUrl of a pull (--url-upload "
	    "platform)\n"
	    "  --tasks-priority N    TasksPriority of a pull, -10 to 10\n"
	    "\n"
	    "Alibaba only (--procedure is the TemplateGroupId):\n"
	    "  --workflow-id ID      WorkflowId (wins over a TemplateGroupId)\n"
	    "  --description T       Description (up to 1024 characters)\n"
	    "  --cover-url URL       CoverURL, http(s)\n"
	    "  --cate-id N           CateId (category id)\n"
	    "  --tags T1,T2          Tags: up to 16, each up to 32 "
	    "characters\n"
	    "  --storage-location H  StorageLocation (storage address)\n"
	    "  --media-kind K        video, image or attached (default:\n"
	    "                        image for png, jpg, jpeg, gif;\n"
	    "                        CreateUploadImage; attached:\n"
	    "                        CreateUploadAttachedMedia)\n"
	    "  --image-type T        ImageType of an image: default or cover\n"
	    "  --business-type B     BusinessType of attached media:\n"
	    "                        watermark, subtitle or material\n"
	    "  --cate-ids N,M        CateIds of attached media\n"
	    "  --app-id A            AppId (default: alibaba_app_id)\n"
	    "  --url-upload W        how a URL is uploaded: stream (through\n"
	    "                        vodhook) or platform (Alibaba\n"
	    "                        UploadMediaByURL, Tencent PullUpload:\n"
	    "                        the platform fetches it; the command\n"
	    "                        ends once it took the URL); default:\n"
	    "                        the <provider>_url_upload setting\n"
	    "\n"
	    "Prints the upload id, then FileId and MediaUrl. Exit status 0\n"
	    "only when the upload succeeded.\n");
}

/*
 * The options that are kept as they are in the job's options: the name of
 * the field for "--class-id" and the like (dashes for underscores), or
 * NULL. Static strings.
 */
static const char *
option_name(const char *arg)
{
	static const char *const fields[] = {
	    "session_context",	"class_id",	  "storage_region",
	    "expire_time",	"workflow_id",	  "description",
	    "cover_url",	"cate_id",	  "tags",
	    "storage_location", "media_kind",	  "image_type",
	    "sub_app_id",	"app_id",	  "business_type",
	    "cate_ids",		"tasks_priority", NULL};

	if (strncmp(arg, "--", 2) != 0)
		return NULL;
	for (size_t i = 0; fields[i] != NULL; i++) {
		const char *f = fields[i], *p = arg + 2;

		for (; *f != '\0' && *p != '\0'; f++, p++)
			if (*p != (*f == '_' ? '-' : *f))
				break;
		if (*f == '\0' && *p == '\0')
			return fields[i];
	}
	return NULL;
}

/* A URL the platform pulls: print its state and JobId. 0 or 1. */
static int
print_pull(struct db_pool *pool, const char *id)
{
	char *json = NULL;
	cJSON *doc;
	struct err e;

	err_clear(&e);
	if (store_upload_get_json(pool, id, &json, &e) != 0) {
		fprintf(stderr, "vodhook upload: %s\n", e.msg);
		return 1;
	}
	doc = json_parse(json, strlen(json));
	printf("state: %s\nurl_job_id: %s\n",
	       json_get_str(doc, "state") ? json_get_str(doc, "state") : "",
	       json_get_str(doc, "url_job_id") ? json_get_str(doc, "url_job_id")
					       : "");
	cJSON_Delete(doc);
	free(json);
	return 0;
}

static struct upload_service *running_svc;

static void
on_signal(int sig)
{
	(void)sig;
	upload_service_stop(running_svc);
}

struct progress {
	bool tty;
	int64_t start_ms;
	int64_t last_ms;
	int last_pct;
};

/* "m:ss left" (or "h:mm:ss left") at the average rate so far into out;
 * empty when it cannot be told yet. */
static void
time_left(char *out, size_t n, int64_t done, int64_t total, double secs)
{
	long long left;

	out[0] = '\0';
	if (done <= 0 || total <= done || secs < 0.5)
		return;
	left = (long long)((double)(total - done) * secs / (double)done + 0.5);
	if (left >= 3600)
		snprintf(out, n, "%lld:%02lld:%02lld left", left / 3600,
			 left / 60 % 60, left % 60);
	else
		snprintf(out, n, "%lld:%02lld left", left / 60, left % 60);
}

/* The bar, on a terminal: a status line kept below the log lines. */
static void
draw_bar(int pct, int64_t done, int64_t total, double mibs, double secs,
	 const char *state)
{
	char bar[41], left[32] = "", text[160];
	int fill = pct * 40 / 100;

	for (int i = 0; i < 40; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[40] = '\0';
	if (strcmp(state, "uploading") == 0)
		time_left(left, sizeof(left), done, total, secs);
	snprintf(text, sizeof(text),
		 "[%s] %3d%% %8.1f MiB %7.1f MiB/s %-10s %s", bar, pct,
		 (double)done / 1048576.0, mibs, state, left);
	log_status(text);
}

static void
show_progress(void *arg, const char *state, int64_t done, int64_t total)
{
	struct progress *p = arg;
	int64_t now = time_mono_ms();
	double secs = (double)(now - p->start_ms) / 1000.0;
	double mibs = secs > 0 ? (double)done / 1048576.0 / secs : 0;
	int pct = total > 0 ? (int)(done * 100 / total) : 0;

	if (strcmp(state, "uploading") == 0 && now - p->last_ms < 200 &&
	    pct != 100)
		return;
	if (!p->tty && strcmp(state, "uploading") == 0 &&
	    now - p->last_ms < 1000 && pct == p->last_pct)
		return;
	p->last_ms = now;
	p->last_pct = pct;
	if (p->tty) {
		draw_bar(pct, done, total, mibs, secs, state);
	} else {
		fprintf(stderr,
			"progress: state=%s bytes_done=%lld bytes_total=%lld "
			"percent=%d rate_mib_s=%.1f\n",
			state, (long long)done, (long long)total, pct, mibs);
		fflush(stderr);
	}
}

/* The command line, parsed. */
struct cli_args {
	struct upload_request req;
	cJSON *opts; /* the platform's options, as the HTTP API takes them */
	const char *source;
	bool no_wait;
};

/*
 * Parse argv into a (whose req.options the caller sets from a->opts). -1
 * to go on; otherwise the exit status: 0 after --help, EXIT_USAGE after a
 * usage error, which has been printed.
 */
static int
parse_args(int argc, char **argv, struct cli_args *a)
{
	struct upload_request *req = &a->req;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char *opt;
		bool takes = true;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(arg, "--no-wait") == 0) {
			a->no_wait = true;
			takes = false;
		} else if (arg[0] == '-' && arg[1] == '-' && v == NULL) {
			fprintf(stderr, "vodhook upload: %s needs a value\n",
				arg);
			return EXIT_USAGE;
		} else if (strcmp(arg, "--provider") == 0) {
			req->provider = v;
		} else if (strcmp(arg, "--procedure") == 0) {
			req->procedure = v;
		} else if (strcmp(arg, "--source-context") == 0) {
			req->source_context = v;
		} else if (strcmp(arg, "--name") == 0) {
			req->name = v;
		} else if (strcmp(arg, "--media-type") == 0) {
			req->media_type = v;
		} else if (strcmp(arg, "--url-upload") == 0) {
			req->url_upload = v;
		} else if (strcmp(arg, "--cover") == 0) {
			json_add_str(a->opts, "cover_path", v);
		} else if ((opt = option_name(arg)) != NULL) {
			/* Checked with the HTTP API's by upload_submit. */
			cJSON_DeleteItemFromObjectCaseSensitive(a->opts, opt);
			json_add_str(a->opts, opt, v);
		} else if (arg[0] == '-' && arg[1] != '\0') {
			fprintf(stderr,
				"vodhook upload: unknown option \"%s\"\n", arg);
			usage(stderr);
			return EXIT_USAGE;
		} else if (a->source != NULL) {
			fprintf(stderr,
				"vodhook upload: give one FILE or URL\n");
			return EXIT_USAGE;
		} else {
			a->source = arg;
			takes = false;
		}
		if (takes)
			i++;
	}
	if (a->source == NULL || req->provider == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strncmp(a->source, "http://", 7) == 0 ||
	    strncmp(a->source, "https://", 8) == 0)
		req->url = a->source;
	else
		req->path = a->source;
	/* A job left for the server must obey the server's root. */
	req->confine = a->no_wait && cfg.upload_root[0] != '\0';
	return -1;
}

/* The database and an upload service with no workers of its own. 0, or 1
 * with the reason printed. */
static int
open_engine(struct db_pool **pool, struct upload_service **svc,
	    struct upload_config *uc, struct cloud_opts *co)
{
	struct db_pool_opts po = {
	    .conninfo = cfg.database_url,
	    .size = 2,
	    .connect_timeout_s = (int)cfg.db_connect_timeout,
	    .timeout_ms = (int)cfg.db_timeout_ms,
	    .app_name = "vodhook-upload",
	};
	struct err e;

	err_clear(&e);
	if (db_pool_new(&po, pool, &e) != 0 || store_ready(*pool, &e) != 0) {
		fprintf(stderr, "vodhook upload: database: %s\n", e.msg);
		return 1;
	}
	upload_config_from_cfg(uc, co);
	uc->workers = 0;
	if (upload_service_new(uc, *pool, svc, &e) != 0) {
		fprintf(stderr, "vodhook upload: %s\n", e.msg);
		return 1;
	}
	return 0;
}

/* Run job id, claimed by owner, to its end with progress on stderr, and
 * print its outcome. The exit status. */
static int
run_job(struct upload_service *svc, struct db_pool *pool, const char *id,
	const char *owner)
{
	struct progress prog = {0};
	char *file_id = NULL, *media_url = NULL;
	struct err e;
	int rc = 1;

	running_svc = svc;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	prog.tty = isatty(STDERR_FILENO);
	prog.start_ms = time_mono_ms();
	prog.last_pct = -1;
	err_clear(&e);
	rc = upload_run(svc, id, owner, show_progress, &prog, &file_id,
			&media_url, &e);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	running_svc = NULL;
	if (prog.tty)
		log_status(NULL); /* the last bar stays; then the outcome */
	if (rc != 0) {
		fprintf(stderr, "vodhook upload: upload %s failed: %s%s%s\n",
			id, e.remote[0] ? e.remote : "",
			e.remote[0] ? ": " : "", e.msg);
		rc = 1;
	} else if (file_id == NULL) {
		/* The platform pulls the URL: its callbacks finish it. */
		rc = print_pull(pool, id);
	} else {
		printf("file_id: %s\nmedia_url: %s\n", file_id,
		       media_url ? media_url : "");
	}
	free(file_id);
	free(media_url);
	return rc;
}

int
cmd_upload(int argc, char **argv)
{
	struct cli_args a = {.req = {.confine = false},
			     .opts = cJSON_CreateObject()};
	struct upload_service *svc = NULL;
	struct db_pool *pool = NULL;
	struct upload_config uc;
	struct cloud_opts co;
	char *json = NULL, *opts_txt = NULL;
	char id[37], owner[80], rnd[9];
	struct err e;
	int rc;

	if (a.opts == NULL)
		fatal("out of memory");
	if ((rc = parse_args(argc, argv, &a)) >= 0)
		goto out;
	if ((opts_txt = cJSON_PrintUnformatted(a.opts)) == NULL)
		fatal("out of memory");
	a.req.options = opts_txt;
	if ((rc = open_engine(&pool, &svc, &uc, &co)) != 0)
		goto out;
	if (random_hex(rnd, 4) != 0)
		snprintf(rnd, sizeof(rnd), "0");
	snprintf(owner, sizeof(owner), "cli:%d/%s", (int)getpid(), rnd);
	a.req.lease_owner = a.no_wait ? NULL : owner;
	err_clear(&e);
	if (upload_submit(svc, &a.req, &json, id, &e) != 0) {
		fprintf(stderr, "vodhook upload: %s\n", e.msg);
		rc = e.code == ERR_INPUT || e.code == ERR_FORBIDDEN ||
			     e.code == ERR_LIMIT
			 ? EXIT_USAGE
			 : 1;
		goto out;
	}
	printf("upload_id: %s\n", id);
	fflush(stdout);
	if (a.no_wait) {
		printf("state: queued\n");
		rc = 0;
	} else {
		rc = run_job(svc, pool, id, owner);
	}
out:
	upload_service_free(svc);
	db_pool_free(pool);
	cJSON_Delete(a.opts);
	free(opts_txt);
	free(json);
	return rc;
}
