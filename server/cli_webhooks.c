/*
 * cli_webhooks.c: "vodhook webhooks ...", the webhook API from the command
 * line, straight on the database (the same checks and queries as
 * /v1/webhooks). Each command prints the API's JSON on stdout.
 *
 *   webhooks list
 *   webhooks create --url URL [--description D] [--providers P,..]
 *                   [--states S,..] [--kinds K,..]
 *   webhooks show ID
 *   webhooks update ID [--url URL] [--description D] [--providers P,..]
 *                   [--states S,..] [--kinds K,..] [--enable|--disable]
 *   webhooks delete ID
 *   webhooks rotate ID [--grace SECONDS]
 *   webhooks messages ID [--state S] [--limit N] [--cursor C]
 *   webhooks message ID MSG_ID
 *   webhooks resend ID MSG_ID | webhooks resend ID --since TIME
 *
 * Interface: cmd_webhooks.
 */
#include "server/handlers.h"

#include "server/config.h"
#include "webhooks/webhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: vodhook webhooks list\n"
		"       vodhook webhooks create --url URL [--description D] "
		"[--providers P,..]\n"
		"                               [--states S,..] [--kinds "
		"media,upload]\n"
		"       vodhook webhooks show|delete ID\n"
		"       vodhook webhooks update ID [--url URL] [--description "
		"D] [--providers P,..]\n"
		"                               [--states S,..] [--kinds K,..] "
		"[--enable|--disable]\n"
		"       vodhook webhooks rotate ID [--grace SECONDS]\n"
		"       vodhook webhooks messages ID [--state S] [--limit N] "
		"[--cursor C]\n"
		"       vodhook webhooks message ID MSG_ID\n"
		"       vodhook webhooks resend ID MSG_ID | resend ID --since "
		"TIME\n"
		"The secret is printed by create and rotate only.\n");
}

/* Options of create and update, as the API's JSON body. */
static int
body_from_args(int argc, char **argv, cJSON *doc)
{
	cJSON *filter = NULL;

	for (int i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--enable") == 0 || strcmp(o, "--disable") == 0) {
			cJSON_AddBoolToObject(doc, "enabled",
					      strcmp(o, "--enable") == 0);
			continue;
		}
		if (v == NULL)
			return -1;
		i++;
		if (strcmp(o, "--url") == 0 ||
		    strcmp(o, "--description") == 0) {
			cJSON_AddStringToObject(doc, o + 2, v);
		} else if (strcmp(o, "--providers") == 0 ||
			   strcmp(o, "--states") == 0 ||
			   strcmp(o, "--kinds") == 0) {
			cJSON *list = cJSON_CreateArray();
			char *copy = xstrdup(v), *save = NULL;

			for (char *t = strtok_r(copy, ",", &save); t != NULL;
			     t = strtok_r(NULL, ",", &save))
				cJSON_AddItemToArray(list,
						     cJSON_CreateString(t));
			free(copy);
			if (filter == NULL)
				filter = cJSON_AddObjectToObject(doc, "filter");
			cJSON_AddItemToObject(filter, o + 2, list);
		} else {
			return -1;
		}
	}
	return 0;
}

static struct db_pool *
open_pool(void)
{
	struct db_pool_opts po = {
	    .conninfo = cfg.database_url,
	    .size = 1,
	    .connect_timeout_s = (int)cfg.db_connect_timeout,
	    .timeout_ms = (int)cfg.db_timeout_ms,
	    .app_name = "vodhook-webhooks",
	};
	struct db_pool *pool = NULL;
	struct err e;

	err_clear(&e);
	if (db_pool_new(&po, &pool, &e) != 0 || store_ready(pool, &e) != 0) {
		fprintf(stderr, "vodhook webhooks: database: %s\n", e.msg);
		db_pool_free(pool);
		return NULL;
	}
	return pool;
}

/* Print json (freed) and a secret first when there is one: the status. */
static int
print(int rc, char *json, const char *secret, const struct err *e)
{
	if (rc != 0) {
		fprintf(stderr, "vodhook webhooks: %s\n", e->msg);
		return rc == ERR_INPUT || rc == ERR_FORBIDDEN ? EXIT_USAGE : 1;
	}
	if (secret != NULL)
		printf("{\"secret\":\"%s\",%s\n", secret, json + 1);
	else
		printf("%s\n", json != NULL ? json : "{}");
	free(json);
	return 0;
}

/* create (id NULL) or update id with the options. */
static int
create_or_update(struct db_pool *pool, const char *id, int argc, char **argv)
{
	struct store_webhook_sub w = {0};
	char *lists[3] = {NULL, NULL, NULL}, *json = NULL;
	char secret[WEBHOOK_SECRET_MAX] = "";
	cJSON *doc = cJSON_CreateObject();
	struct err e;
	int rc;

	err_clear(&e);
	if (body_from_args(argc, argv, doc) != 0 ||
	    (id == NULL &&
	     cJSON_GetObjectItemCaseSensitive(doc, "enabled") != NULL)) {
		usage(stderr);
		cJSON_Delete(doc);
		return EXIT_USAGE;
	}
	rc = webhook_sub_fields(doc, &w, lists, &e);
	if (rc == 0 && id == NULL && w.url == NULL)
		rc = err_set(&e, ERR_INPUT, "--url is required");
	if (rc == 0 && id == NULL && webhook_secret_new(secret) != 0)
		rc = err_set(&e, ERR_IO, "could not draw a secret");
	if (rc == 0)
		rc = id == NULL
			 ? store_webhook_create(pool, &w, secret, &json, &e)
			 : store_webhook_update(pool, id, &w, &json, &e);
	rc = print(rc, json, id == NULL ? secret : NULL, &e);
	explicit_bzero(secret, sizeof(secret));
	for (int i = 0; i < 3; i++)
		free(lists[i]);
	cJSON_Delete(doc);
	return rc;
}

static int
rotate(struct db_pool *pool, const char *id, int argc, char **argv)
{
	char secret[WEBHOOK_SECRET_MAX], *json = NULL;
	int64_t grace = cfg.webhook_rotation_grace;
	struct err e;
	int rc;

	err_clear(&e);
	if (argc == 2 && strcmp(argv[0], "--grace") == 0) {
		if (parse_i64(argv[1], 0, 2592000, &grace) != 0) {
			fprintf(stderr, "vodhook webhooks: --grace must be 0 "
					"to 2592000 seconds\n");
			return EXIT_USAGE;
		}
	} else if (argc != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (webhook_secret_new(secret) != 0)
		rc = err_set(&e, ERR_IO, "could not draw a secret");
	else
		rc = store_webhook_rotate(pool, id, secret, grace, &json, &e);
	rc = print(rc, json, secret, &e);
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

static int
messages(struct db_pool *pool, const char *id, int argc, char **argv)
{
	const char *state = NULL;
	int64_t limit = 50, after = 0;
	char *json = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	for (int i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--state") == 0)
			state = argv[i + 1];
		else if (strcmp(argv[i], "--limit") == 0 &&
			 parse_i64(argv[i + 1], 1, 1000, &limit) == 0)
			continue;
		else if (strcmp(argv[i], "--cursor") == 0 &&
			 parse_i64(argv[i + 1], 0, INT64_MAX, &after) == 0)
			continue;
		else
			argc = -1;
	}
	if (argc % 2 != 0 || argc < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = store_webhook_messages_json(pool, id, state, after, (int)limit,
					 &json, &e);
	return print(rc, json, NULL, &e);
}

/* The commands that take the subscription id argv[1]. */
static int
on_subscription(struct db_pool *pool, int argc, char **argv)
{
	const char *cmd = argv[0], *id = argv[1];
	char *json = NULL;
	int64_t msg = 0, n = 0;
	struct err e;
	int rc;

	err_clear(&e);
	if (!webhook_id_ok(id)) {
		fprintf(stderr, "vodhook webhooks: no such webhook\n");
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "show") == 0 && argc == 2) {
		rc = store_webhook_get_json(pool, id, &json, &e);
		return print(rc, json, NULL, &e);
	}
	if (strcmp(cmd, "delete") == 0 && argc == 2) {
		rc = store_webhook_delete(pool, id, &e);
		return print(rc, NULL, NULL, &e);
	}
	if (strcmp(cmd, "update") == 0)
		return create_or_update(pool, id, argc - 2, argv + 2);
	if (strcmp(cmd, "rotate") == 0)
		return rotate(pool, id, argc - 2, argv + 2);
	if (strcmp(cmd, "messages") == 0)
		return messages(pool, id, argc - 2, argv + 2);
	if (strcmp(cmd, "resend") == 0 && argc == 4 &&
	    strcmp(argv[2], "--since") == 0) {
		rc = store_webhook_resend_since(pool, id, argv[3], &n, &e);
		if (rc == 0)
			printf("{\"resent\":%lld}\n", (long long)n);
		return rc == 0 ? 0 : print(rc, NULL, NULL, &e);
	}
	if ((strcmp(cmd, "message") == 0 || strcmp(cmd, "resend") == 0) &&
	    argc == 3) {
		const char *m =
		    strncmp(argv[2], "msg_", 4) == 0 ? argv[2] + 4 : argv[2];

		if (parse_i64(m, 1, INT64_MAX, &msg) != 0) {
			fprintf(stderr, "vodhook webhooks: no such message\n");
			return EXIT_USAGE;
		}
		return print(
		    cmd[0] == 'm'
			? store_webhook_message_json(pool, id, msg, &json, &e)
			: store_webhook_resend(pool, id, msg, &json, &e),
		    json, NULL, &e);
	}
	usage(stderr);
	return EXIT_USAGE;
}

int
cmd_webhooks(int argc, char **argv)
{
	struct db_pool *pool;
	char *json = NULL;
	struct err e;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "list") != 0 &&
	    argc < 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((pool = open_pool()) == NULL)
		return 1;
	err_clear(&e);
	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		rc = store_webhook_list_json(pool, &json, &e);
		rc = print(rc, json, NULL, &e);
	} else if (strcmp(argv[1], "create") == 0)
		rc = create_or_update(pool, NULL, argc - 2, argv + 2);
	else
		rc = on_subscription(pool, argc - 1, argv + 1);
	db_pool_free(pool);
	return rc;
}
