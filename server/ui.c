/*
 * ui.c: the status page.
 *
 *   GET /             index.html
 *   GET /ui/{name}    its scripts and styles
 *
 * The files are compiled in (ui.h), so the page is the one this program's
 * API speaks to, and nothing is read from the disk or fetched from
 * elsewhere. They hold no data and no secret: the page asks for the API
 * token and reads /v1 with it, so these routes need none.
 *
 * Interface: ui_file_find, handle_ui_index, handle_ui_file.
 */
#include "server/ui.h"

#include "server/handlers.h"

#include <string.h>

const struct ui_file *
ui_file_find(const char *name)
{
	for (size_t i = 0; i < ui_nfiles; i++)
		if (strcmp(ui_files[i].name, name) == 0)
			return &ui_files[i];
	return NULL;
}

static int
reply_file(struct http_req *r, const char *name)
{
	const struct ui_file *f = ui_file_find(name);

	if (f == NULL)
		return http_reply_error(r, 404, "not_found",
					"no such file of the status page");
	return http_reply_page(r, f->type, f->data, f->len);
}

int
handle_ui_index(struct http_req *r, void *arg)
{
	(void)arg;
	return reply_file(r, "index.html");
}

int
handle_ui_file(struct http_req *r, void *arg)
{
	(void)arg;
	/* index.html is served at / only, so that the page has one address. */
	if (strcmp(r->params[0], "index.html") == 0)
		return http_reply_error(r, 404, "not_found",
					"the status page is at /");
	return reply_file(r, r->params[0]);
}
