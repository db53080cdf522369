/*
 * ui.h: the status page's files, compiled into the program from server/ui/
 * by cmake/embed_files.cmake, and their handlers (ui.c).
 */
#ifndef VODHOOK_SERVER_UI_H
#define VODHOOK_SERVER_UI_H

#include <stddef.h>

struct ui_file {
	const char *name; /* "index.html", "app.js", ... */
	const char *type; /* its Content-Type */
	const unsigned char *data;
	size_t len;
};

extern const struct ui_file ui_files[];
extern const size_t ui_nfiles;

/* The file called name, or NULL. */
const struct ui_file *ui_file_find(const char *name);

#endif
