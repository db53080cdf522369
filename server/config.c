/*
 * config.c: the settings table and its loader.
 *
 * Interface: config_load, config_cleanup, config_print,
 * config_print_example, config_print_markdown.
 */
#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct config cfg;

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL };

#define CFG_SECRET   0x1 /* never printed; may come from <name>_file */
#define CFG_REQUIRED 0x2 /* documented as required (checked by commands) */

struct cfg_opt {
	const char *name;
	enum cfg_type type;
	size_t off; /* offsetof(struct config, field) */
	int64_t min, max;
	const char *def;
	unsigned flags;
	const char *doc;
};

#define S(f) CFG_STR, offsetof(struct config, f), 0, 0
#define I(f, lo, hi) CFG_INT, offsetof(struct config, f), lo, hi
#define B(f) CFG_BOOL, offsetof(struct config, f), 0, 1

static const struct cfg_opt opts[] = {
	{"listen", S(listen), "127.0.0.1:8080", 0,
	 "HTTP listen address, host:port (use [::1]:8080 for IPv6)"},
	{"threads", I(threads, 1, 1024), "32", 0,
	 "HTTP worker threads (each serves one connection at a time)"},
	{"http_max_body_bytes", I(http_max_body_bytes, 1024, 1 << 30), "1048576",
	 0, "largest request body accepted by the HTTP API (413 beyond)"},
	{"request_timeout_ms", I(request_timeout_ms, 100, 3600000), "30000", 0,
	 "time allowed to receive a request and send its response"},
	{"log_level", S(log_level), "info", 0,
	 "least severe log level written: debug, info, warn or error"},
	{"api_token", S(api_token), "", CFG_SECRET,
	 "bearer token required by /v1/*; without it /v1 answers 403"},
	{"database_url", S(database_url), "", CFG_SECRET | CFG_REQUIRED,
	 "PostgreSQL connection string or URI (libpq syntax)"},
	{"db_pool_size", I(db_pool_size, 1, 256), "8", 0,
	 "PostgreSQL connections kept by each vodhook process"},
	{"db_connect_timeout", I(db_connect_timeout, 1, 300), "5", 0,
	 "seconds allowed to open a PostgreSQL connection"},
	{"callback_max_bytes", I(callback_max_bytes, 1024, 64 << 20), "1048576",
	 0, "largest callback body accepted, chunked or not (413 beyond)"},
	{"spool_dir", S(spool_dir), "/var/lib/vodhook/spool", 0,
	 "directory of the local spool that keeps verified events while "
	 "PostgreSQL is unavailable"},
	{"tencent_sign_key", S(tencent_sign_key), "", CFG_SECRET,
	 "Tencent VOD callback SignKey: requires Sign/T on every callback"},
	{"tencent_callback_token", S(tencent_callback_token), "", CFG_SECRET,
	 "secret path segment: Tencent callbacks must use "
	 "/callbacks/tencent/{token}"},
	{"tencent_allow_unverified", B(tencent_allow_unverified), "0", 0,
	 "accept Tencent callbacks with neither a sign key nor a token (1 = "
	 "intended)"},
	{"alibaba_callback_key", S(alibaba_callback_key), "", CFG_SECRET,
	 "Alibaba VOD callback auth key (X-VOD-SIGNATURE); callbacks are "
	 "refused without it"},
	{"alibaba_callback_key_old", S(alibaba_callback_key_old), "", CFG_SECRET,
	 "previous Alibaba auth key, still accepted while keys are rotated"},
	{"alibaba_callback_url", S(alibaba_callback_url), "", 0,
	 "public callback URL as set in the Alibaba console (signed); default: "
	 "rebuilt from the request"},
	{"alibaba_timestamp_window", I(alibaba_timestamp_window, 1, 86400), "300",
	 0, "seconds an Alibaba X-VOD-TIMESTAMP may differ from now"},
	{"ingest_batch_max", I(ingest_batch_max, 1, 10000), "256", 0,
	 "most events written by one group-commit transaction"},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* Where each setting's value came from, for config_print. */
static const char *sources[NOPTS];

static char **
str_field(const struct cfg_opt *o)
{
	return (char **)((char *)&cfg + o->off);
}

static int64_t *
int_field(const struct cfg_opt *o)
{
	return (int64_t *)((char *)&cfg + o->off);
}

static const struct cfg_opt *
find_opt(const char *name, size_t len, bool *is_file)
{
	*is_file = false;
	for (size_t i = 0; i < NOPTS; i++) {
		size_t n = strlen(opts[i].name);

		if (len == n && strncasecmp(name, opts[i].name, n) == 0)
			return &opts[i];
		if ((opts[i].flags & CFG_SECRET) && len == n + 5 &&
		    strncasecmp(name, opts[i].name, n) == 0 &&
		    strncasecmp(name + n, "_file", 5) == 0) {
			*is_file = true;
			return &opts[i];
		}
	}
	return NULL;
}

/* Set one setting from its text; where says where it came from. */
static int
set_value(const struct cfg_opt *o, const char *value, const char *where,
	  struct err *e)
{
	int64_t v;

	switch (o->type) {
	case CFG_STR:
		free(*str_field(o));
		*str_field(o) = xstrdup(value);
		break;
	case CFG_BOOL:
		if (strcmp(value, "1") == 0 || strcasecmp(value, "true") == 0 ||
		    strcasecmp(value, "yes") == 0 || strcasecmp(value, "on") == 0)
			v = 1;
		else if (strcmp(value, "0") == 0 ||
			 strcasecmp(value, "false") == 0 ||
			 strcasecmp(value, "no") == 0 ||
			 strcasecmp(value, "off") == 0 || value[0] == '\0')
			v = 0;
		else
			return err_set(e, ERR_INPUT,
				       "%s: invalid value for \"%s\": expected "
				       "1/0, true/false, yes/no or on/off",
				       where, o->name);
		*int_field(o) = v;
		break;
	case CFG_INT:
		if (parse_i64(value, o->min, o->max, &v) != 0)
			return err_set(e, ERR_INPUT,
				       "%s: invalid value for \"%s\": expected "
				       "an integer from %lld to %lld",
				       where, o->name, (long long)o->min,
				       (long long)o->max);
		*int_field(o) = v;
		break;
	}
	return 0;
}

/* Read a secret from a file, dropping one trailing newline. */
static int
set_from_file(const struct cfg_opt *o, const char *path, const char *where,
	      struct err *e)
{
	char *data = NULL;
	size_t len = 0;
	struct err fe;
	int rc;

	if (file_slurp(path, 64 * 1024, &data, &len, &fe) != 0)
		return err_set(e, ERR_INPUT, "%s: %s_file: %s", where, o->name,
			       fe.msg);
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	rc = set_value(o, data, where, e);
	explicit_bzero(data, len);
	free(data);
	return rc;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int
load_file(const char *path, struct err *e)
{
	char where[512], line[8192];
	int lineno = 0, rc = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return err_set(e, ERR_INPUT,
			       "could not open configuration file \"%s\": %s",
			       path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		const struct cfg_opt *o;
		char *key, *value, *eq;
		bool is_file;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = err_set(e, ERR_INPUT, "%s: line too long", where);
			goto out;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			rc = err_set(e, ERR_INPUT,
				     "%s: expected \"key = value\"", where);
			goto out;
		}
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		/* A value may be quoted to keep leading or trailing blanks. */
		if (value[0] == '"' && strlen(value) >= 2 &&
		    value[strlen(value) - 1] == '"') {
			value[strlen(value) - 1] = '\0';
			value++;
		}
		o = find_opt(key, strlen(key), &is_file);
		if (o == NULL) {
			rc = err_set(e, ERR_INPUT, "%s: unknown setting \"%s\"",
				     where, key);
			goto out;
		}
		rc = is_file ? set_from_file(o, value, where, e)
			     : set_value(o, value, where, e);
		if (rc != 0)
			goto out;
		sources[o - opts] = "file";
	}
out:
	fclose(f);
	return rc;
}

extern char **environ;

static int
load_env(struct err *e)
{
	for (char **env = environ; *env != NULL; env++) {
		const char *var = *env, *eq = strchr(var, '=');
		const struct cfg_opt *o;
		char where[160];
		bool is_file;
		int rc;

		if (strncmp(var, "VODHOOK_", 8) != 0 || eq == NULL)
			continue;
		snprintf(where, sizeof(where), "environment variable %.*s",
			 (int)(eq - var), var);
		o = find_opt(var + 8, (size_t)(eq - var - 8), &is_file);
		if (o == NULL)
			return err_set(e, ERR_INPUT, "%s: unknown setting",
				       where);
		rc = is_file ? set_from_file(o, eq + 1, where, e)
			     : set_value(o, eq + 1, where, e);
		if (rc != 0)
			return rc;
		sources[o - opts] = "env";
	}
	return 0;
}

int
config_load(const char *path, struct err *e)
{
	int rc, level;

	config_cleanup();
	for (size_t i = 0; i < NOPTS; i++) {
		if ((rc = set_value(&opts[i], opts[i].def, "default", e)) != 0)
			fatal("bad default for \"%s\"", opts[i].name);
		sources[i] = "default";
	}
	if (path != NULL && (rc = load_file(path, e)) != 0)
		return rc;
	if ((rc = load_env(e)) != 0)
		return rc;
	level = log_level_parse(cfg.log_level);
	if (level < 0)
		return err_set(e, ERR_INPUT,
			       "invalid value for \"log_level\": expected "
			       "debug, info, warn or error");
	log_set_level((enum log_level)level);
	return 0;
}

void
config_cleanup(void)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (opts[i].type == CFG_STR) {
			char **p = str_field(&opts[i]);

			if (*p != NULL && (opts[i].flags & CFG_SECRET))
				explicit_bzero(*p, strlen(*p));
			free(*p);
			*p = NULL;
		}
	}
}

static void
format_value(const struct cfg_opt *o, char *out, size_t n)
{
	if (o->type != CFG_STR)
		snprintf(out, n, "%lld", (long long)*int_field(o));
	else if ((o->flags & CFG_SECRET) && **str_field(o) != '\0')
		snprintf(out, n, "********");
	else
		snprintf(out, n, "%s", *str_field(o));
}

void
config_print(FILE *out)
{
	char value[1024];

	for (size_t i = 0; i < NOPTS; i++) {
		format_value(&opts[i], value, sizeof(value));
		fprintf(out, "%s = %s  # %s\n", opts[i].name, value,
			sources[i] ? sources[i] : "default");
	}
}

static const char *
type_name(const struct cfg_opt *o)
{
	return o->type == CFG_STR ? "string" : o->type == CFG_INT ? "integer" : "boolean";
}

void
config_print_example(FILE *out)
{
	fprintf(out, "# vodhook configuration: \"key = value\" lines, read with "
		     "--config FILE.\n"
		     "# Every key can also be set as an environment variable "
		     "VODHOOK_<KEY> (upper case),\n"
		     "# which wins over this file. Secret keys can be read from "
		     "a file instead:\n"
		     "# <key>_file = /path (or VODHOOK_<KEY>_FILE).\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct cfg_opt *o = &opts[i];

		fprintf(out, "\n# %s (%s", o->doc, type_name(o));
		if (o->type == CFG_INT)
			fprintf(out, ", %lld..%lld", (long long)o->min,
				(long long)o->max);
		if (o->flags & CFG_SECRET)
			fprintf(out, ", secret");
		if (o->flags & CFG_REQUIRED)
			fprintf(out, ", required");
		fprintf(out, ")\n#%s = %s\n", o->name, o->def);
	}
}

void
config_print_markdown(FILE *out)
{
	fprintf(out, "| setting | environment | type | default | meaning |\n"
		     "|---|---|---|---|---|\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct cfg_opt *o = &opts[i];
		char env[96], range[64] = "";

		snprintf(env, sizeof(env), "VODHOOK_%s", o->name);
		for (char *p = env; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (o->type == CFG_INT)
			snprintf(range, sizeof(range), " %lld..%lld",
				 (long long)o->min, (long long)o->max);
		fprintf(out, "| `%s` | `%s`%s | %s%s | `%s` | %s |\n", o->name,
			env, (o->flags & CFG_SECRET) ? " or `_FILE`" : "",
			type_name(o), range, o->def,
			o->doc);
	}
}
