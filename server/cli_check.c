/*
 * cli_check.c: "vodhook check": whether this configuration can run, tried
 * step by step the way "serve" would use it, without serving.
 *
 *   vodhook [--config FILE] check
 *
 * Each check prints one line, "ok", "skip" (not configured) or "FAIL",
 * its name and what it found; the exit status is 1 when one failed.
 * The checks are the table `checks` below: the settings, the database,
 * the spool directory, the HTTPS files, and one cheap signed read call to
 * each platform whose credentials are set, which proves the keys without
 * changing anything (a wrong key is reported with the platform's code).
 *
 * Interface: cmd_check.
 */
#include "server/handlers.h"

#include "cloud/cloud.h"
#include "server/config.h"
#include "server/tls.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Ids no media can have: the platforms answer that they do not exist,
 * which they do only once the request's signature was accepted. */
#define CHECK_TENCENT_FILE_ID  "0000000000000000000"
#define CHECK_ALIBABA_VIDEO_ID "00000000000000000000000000000000"

enum check_status { CHECK_OK, CHECK_SKIP, CHECK_FAIL };

struct check {
	const char *name;
	/* Runs the check and writes what it found into note[0..n). */
	enum check_status (*run)(char *note, size_t n);
};

static bool
is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static enum check_status
fail(char *note, size_t n, const char *msg)
{
	snprintf(note, n, "%s", msg);
	return CHECK_FAIL;
}

/* ------------------------------------------------------------ settings */

/*
 * What config_load cannot judge alone: settings that only make sense
 * together. Bounds and types were checked when the file was read.
 */
static enum check_status
check_settings(char *note, size_t n)
{
	if (!is_set(cfg.database_url))
		return fail(note, n,
			    "database_url (VODHOOK_DATABASE_URL) is "
			    "not set");
	if (is_set(cfg.tencent_secret_id) != is_set(cfg.tencent_secret_key))
		return fail(note, n,
			    "tencent_secret_id and tencent_secret_key "
			    "must be set together");
	if (is_set(cfg.alibaba_access_key_id) !=
	    is_set(cfg.alibaba_access_key_secret))
		return fail(note, n,
			    "alibaba_access_key_id and "
			    "alibaba_access_key_secret must be set "
			    "together");
	if (strcmp(cfg.tencent_event_mode, "pull") == 0 &&
	    !is_set(cfg.tencent_secret_id))
		return fail(note, n,
			    "tencent_event_mode = pull needs "
			    "tencent_secret_id");
	if (!is_set(cfg.tencent_sign_key) &&
	    !is_set(cfg.tencent_callback_token) &&
	    !cfg.tencent_allow_unverified)
		return fail(note, n,
			    "Tencent callbacks would be accepted "
			    "unverified: set tencent_sign_key or "
			    "tencent_callback_token, or "
			    "tencent_allow_unverified = 1");
	snprintf(note, n, "valid");
	return CHECK_OK;
}

/* ------------------------------------------------------------ database */

static enum check_status
check_database(char *note, size_t n)
{
	struct db_pool_opts o = {
	    .conninfo = cfg.database_url,
	    .size = 1,
	    .connect_timeout_s = (int)cfg.db_connect_timeout,
	    .timeout_ms = (int)cfg.db_timeout_ms,
	    .app_name = "vodhook-check",
	};
	struct db_pool *pool = NULL;
	enum check_status st = CHECK_OK;
	struct err e;
	int rc;

	err_clear(&e);
	if (db_pool_new(&o, &pool, &e) != 0 || store_ping(pool, &e) != 0) {
		snprintf(note, n, "database_url: %s", e.msg);
		st = CHECK_FAIL;
		goto out;
	}
	/* A pooler in transaction mode: serve and migrate would refuse it
	 * (ERR_CONFLICT's message names database_url already). */
	if ((rc = store_check_session(pool, &e)) != 0) {
		snprintf(note, n, "%s%s",
			 rc == ERR_CONFLICT ? "" : "database_url: ", e.msg);
		st = CHECK_FAIL;
		goto out;
	}
	/* A database behind this binary is not a fault: serve and migrate
	 * apply the migrations. */
	rc = store_ready(pool, &e);
	if (rc == 0)
		snprintf(note, n, "reachable, schema version %d",
			 store_schema_version());
	else if (rc == ERR_CONFLICT)
		snprintf(note, n,
			 "reachable; %s (\"vodhook migrate\" or "
			 "\"serve\" applies the migrations)",
			 e.msg);
	else
		st = fail(note, n, e.msg);
out:
	db_pool_free(pool);
	return st;
}

/* ------------------------------------------------------------ spool */

static int
mkdir_parents(const char *dir)
{
	char tmp[4096];

	if (strlen(dir) >= sizeof(tmp))
		return ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	return mkdir(tmp, 0700) != 0 && errno != EEXIST ? errno : 0;
}

/* Write, sync and remove a file there: what spooling an event does. */
static int
write_probe(const char *dir)
{
	char path[4200];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/.check-%ld", dir, (long)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	if (write(fd, "check\n", 6) != 6 || fsync(fd) != 0)
		err = errno != 0 ? errno : EIO;
	close(fd);
	unlink(path);
	return err;
}

static enum check_status
check_spool(char *note, size_t n)
{
	int err;

	if (!is_set(cfg.spool_dir))
		return fail(note, n, "spool_dir is not set");
	if ((err = mkdir_parents(cfg.spool_dir)) != 0) {
		snprintf(note, n, "spool_dir: could not create \"%s\": %s",
			 cfg.spool_dir, strerror(err));
		return CHECK_FAIL;
	}
	if ((err = write_probe(cfg.spool_dir)) != 0) {
		snprintf(note, n, "spool_dir: could not write to \"%s\": %s",
			 cfg.spool_dir, strerror(err));
		return CHECK_FAIL;
	}
	snprintf(note, n, "\"%s\" is writable", cfg.spool_dir);
	return CHECK_OK;
}

/* ------------------------------------------------------------ TLS */

/*
 * The HTTPS certificate and key, loaded and matched by the code the
 * listener uses (tls_new), so that the check and start-up agree.
 */
static enum check_status
check_tls(char *note, size_t n)
{
	struct tls *tls = NULL;
	struct err e;

	if (cfg.tls_listen[0] == '\0') {
		snprintf(note, n, "no HTTPS listener configured");
		return CHECK_SKIP;
	}
	err_clear(&e);
	if (tls_new(cfg.tls_cert_file, cfg.tls_key_file, &tls, &e) != 0)
		return fail(note, n, e.msg);
	tls_free(tls);
	snprintf(note, n, "certificate and key load and match");
	return CHECK_OK;
}

/* ------------------------------------------------------------ clouds */

static void
cloud_opts_for_check(struct cloud_opts *co)
{
	config_cloud_opts(co);
	co->max_attempts = 1; /* a check reports; it does not insist */
}

static enum check_status
check_tencent(char *note, size_t n)
{
	const char *ids[] = {CHECK_TENCENT_FILE_ID};
	struct cloud_tencent_media_infos r;
	struct cloud_opts co;
	struct err e;

	if (!is_set(cfg.tencent_secret_id)) {
		snprintf(note, n, "tencent_secret_id not set");
		return CHECK_SKIP;
	}
	cloud_opts_for_check(&co);
	err_clear(&e);
	if (cloud_tencent_describe_media_infos(&co, ids, 1, &r, &e) != 0)
		return fail(note, n, e.msg);
	snprintf(note, n,
		 "credentials accepted (DescribeMediaInfos, "
		 "RequestId %s)",
		 r.request_id != NULL ? r.request_id : "none");
	cloud_tencent_media_infos_cleanup(&r);
	return CHECK_OK;
}

static enum check_status
check_alibaba(char *note, size_t n)
{
	struct cloud_alibaba_video_info r;
	struct cloud_opts co;
	struct err e;
	int rc;

	if (!is_set(cfg.alibaba_access_key_id)) {
		snprintf(note, n, "alibaba_access_key_id not set");
		return CHECK_SKIP;
	}
	cloud_opts_for_check(&co);
	err_clear(&e);
	rc = cloud_alibaba_get_video_info(&co, CHECK_ALIBABA_VIDEO_ID, &r, &e);
	if (rc == 0) {
		cloud_alibaba_video_info_cleanup(&r);
		snprintf(note, n, "credentials accepted (GetVideoInfo)");
		return CHECK_OK;
	}
	/* Only a signed request that was accepted learns that the video
	 * does not exist. */
	if (rc == ERR_REMOTE && strncmp(e.remote, "InvalidVideo.", 13) == 0) {
		snprintf(note, n, "credentials accepted (GetVideoInfo: %s)",
			 e.remote);
		return CHECK_OK;
	}
	return fail(note, n, e.msg);
}

/* ------------------------------------------------------------ command */

static const struct check checks[] = {
    {"settings", check_settings}, {"database", check_database},
    {"spool", check_spool},	  {"tls", check_tls},
    {"tencent", check_tencent},	  {"alibaba", check_alibaba},
};

int
cmd_check(void)
{
	static const char *const words[] = {"ok", "skip", "FAIL"};
	int failed = 0;

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		char note[512] = "";
		enum check_status st = checks[i].run(note, sizeof(note));

		printf("%-4s  %-8s  %s\n", words[st], checks[i].name, note);
		fflush(stdout);
		if (st == CHECK_FAIL)
			failed++;
	}
	return failed > 0 ? 1 : 0;
}
