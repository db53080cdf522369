/*
 * cli_delete.c: "vodhook delete PROVIDER FILE_ID": ask the platform to
 * delete a media vodhook has a record of, as DELETE
 * /v1/media/{provider}/{file_id} does, and print the record as JSON.
 *
 * Exit status: 0 when the platform accepted (or the record was deleted
 * already), 1 when it refused or could not be reached (the reason on
 * stderr, with the platform's code), 2 for a usage error or a media
 * vodhook has no record of. The deletion completes when the platform's
 * event arrives at a server, or by the reconciler.
 *
 * Interface: cmd_delete.
 */
#include "server/handlers.h"

#include "callbacks/background.h"
#include "cloud/cloud.h"
#include "server/config.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

int
cmd_delete(int argc, char **argv)
{
	struct db_pool_opts po = {
	    .conninfo = cfg.database_url,
	    .size = 1,
	    .connect_timeout_s = (int)cfg.db_connect_timeout,
	    .timeout_ms = (int)cfg.db_timeout_ms,
	    .app_name = "vodhook-delete",
	};
	struct db_pool *pool = NULL;
	struct cloud_opts co;
	char *json = NULL;
	bool asked = false;
	struct err e;
	int rc;

	if (argc != 3 || (strcmp(argv[1], "tencent") != 0 &&
			  strcmp(argv[1], "alibaba") != 0)) {
		fprintf(stderr, "usage: vodhook delete tencent|alibaba "
				"FILE_ID\n");
		return EXIT_USAGE;
	}
	err_clear(&e);
	if (db_pool_new(&po, &pool, &e) != 0 || store_ready(pool, &e) != 0) {
		fprintf(stderr, "vodhook delete: database: %s\n", e.msg);
		db_pool_free(pool);
		return 1;
	}
	config_cloud_opts(&co);
	rc = cb_delete_media(&co, pool, argv[1], argv[2], &json, &asked, &e);
	if (json != NULL)
		printf("%s\n", json);
	if (rc != 0)
		fprintf(stderr, "vodhook delete: %s %s: %s%s%s\n", argv[1],
			argv[2], e.remote, e.remote[0] ? ": " : "", e.msg);
	else if (!asked)
		fprintf(stderr, "vodhook delete: %s %s is deleted already\n",
			argv[1], argv[2]);
	free(json);
	db_pool_free(pool);
	if (rc == ERR_NOTFOUND)
		return EXIT_USAGE;
	return rc == 0 ? 0 : 1;
}
