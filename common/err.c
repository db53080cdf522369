/*
 * err.c: error codes, struct err, the aborting allocators and fatal().
 */
#include "common/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
err_name(int code)
{
	switch (code) {
	case 0:
		return "OK";
#define VH_ERR_NAME(name, val, text)                                           \
	case val:                                                              \
		return #name;
		VH_ERRORS(VH_ERR_NAME)
#undef VH_ERR_NAME
	}
	return "ERR_UNKNOWN";
}

const char *
err_str(int code)
{
	switch (code) {
	case 0:
		return "success";
#define VH_ERR_STR(name, val, text)                                            \
	case val:                                                              \
		return text;
		VH_ERRORS(VH_ERR_STR)
#undef VH_ERR_STR
	}
	return "unknown error";
}

static int
err_vset(struct err *e, int code, const char *remote, const char *fmt,
	 va_list ap)
{
	if (e == NULL)
		return code;
	e->code = code;
	snprintf(e->remote, sizeof(e->remote), "%s", remote ? remote : "");
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return code;
}

int
err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int
err_set_remote(struct err *e, int code, const char *remote, const char *fmt,
	       ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, code, remote, fmt, ap);
	va_end(ap);
	return code;
}

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->remote[0] = '\0';
	e->msg[0] = '\0';
}

void
fatal(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_write(LOG_ERROR, "main", "fatal: %s", msg);
	abort();
}

static void *
check_alloc(void *p, size_t n)
{
	if (p == NULL && n != 0)
		fatal("out of memory allocating %zu bytes", n);
	return p;
}

void *
xmalloc(size_t n)
{
	return check_alloc(malloc(n ? n : 1), n ? n : 1);
}

void *
xcalloc(size_t nmemb, size_t size)
{
	return check_alloc(calloc(nmemb ? nmemb : 1, size ? size : 1), 1);
}

void *
xrealloc(void *p, size_t n)
{
	return check_alloc(realloc(p, n ? n : 1), n ? n : 1);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
