/*
 * parse.c: cb_parse, the one entry point to the providers' parsers, so that
 * callers handling both providers (the HTTP callback path, the spool
 * replay) choose a parser in one place.
 *
 * Interface: cb_parse.
 */
#include "callbacks/parse_int.h"

int
cb_parse(enum vod_provider p, const cJSON *doc, const char *body, size_t len,
	 struct vod_event *ev, struct err *e)
{
	switch (p) {
	case VOD_TENCENT:
		return doc != NULL
			   ? cb__parse_tencent_doc(doc, body, len, ev, e)
			   : cb_parse_tencent(body, len, ev, e);
	case VOD_ALIBABA:
		return doc != NULL
			   ? cb__parse_alibaba_doc(doc, body, len, ev, e)
			   : cb_parse_alibaba(body, len, ev, e);
	}
	return err_set(e, ERR_INPUT, "unknown provider %d", (int)p);
}
