/*
 * stream.h: GET /v1/stream, the changes of media and uploads as
 * Server-Sent Events (stream.c), and the pure parts it is made of: the
 * filter and the SSE framing (stream_filter.c).
 */
#ifndef VODHOOK_SERVER_STREAM_H
#define VODHOOK_SERVER_STREAM_H

#include "server/http.h"
#include "store/store.h"

/* A file id in a filter: the longest any platform issues, with room. */
#define STREAM_ID_MAX 128

/* A stream's filter; empty strings: any. */
struct stream_filter {
	char provider[8];
	char kind[8];
	char upload_id[37];
	char file_id[STREAM_ID_MAX + 1];
};

/*
 * Check and set one filter parameter (provider, file_id, upload_id, kind)
 * from its decoded query value. 0; ERR_INPUT with *e naming the parameter
 * and what it accepts. An empty value leaves the parameter unset. Pure.
 */
int stream_filter_set(struct stream_filter *f, const char *name,
		      const char *value, struct err *e) VH_MUST_CHECK;
/* f as the snapshot's query takes it (borrowing f's strings). Pure. */
void stream_filter_store(const struct stream_filter *f,
			 struct change_filter *out);

/* What a change is, read from its payload: the fields filters look at. */
struct stream_change {
	char kind[8];
	char provider[8];
	char upload_id[37];
	char file_id[STREAM_ID_MAX + 1]; /* "" when null or longer */
};

/*
 * Read kind, provider, upload_id and file_id from a payload of
 * vodhook_changes (compact JSON of at most 8000 bytes). 0, or ERR_INPUT
 * when it is not such an object. Pure.
 */
int stream_change_parse(const char *payload,
			struct stream_change *c) VH_MUST_CHECK;
/* Whether change c passes filter f. Pure. */
bool stream_filter_match(const struct stream_filter *f,
			 const struct stream_change *c);

/*
 * Append one event to out: "event: NAME\ndata: DATA\n\n". ERR_INPUT when
 * data holds a line break (it would end the field), or name is not a
 * plain word; ERR_LIMIT past out's cap. Pure.
 */
int sse_frame(struct buf *out, const char *name,
	      const char *data) VH_MUST_CHECK;

struct stream_hub;

struct stream_hub_opts {
	struct db_pool *pool; /* the snapshots' (borrowed) */
	const char *conninfo; /* the listener's connection (borrowed) */
	int connect_timeout_s;
	int timeout_ms;
	int max;	  /* streams open at once; 503 beyond */
	int heartbeat_ms; /* between two ": ping" comments */
	/* CivetWeb's limit on one write (request_timeout_ms): a write that
	 * failed after this long means a client that does not read. */
	int64_t write_timeout_ms;
};

/*
 * Start the hub and its listener (a thread with a PostgreSQL connection of
 * its own). 0, or ERR_INPUT when the connection string does not parse.
 */
int stream_hub_start(const struct stream_hub_opts *o, struct stream_hub **out,
		     struct err *e) VH_MUST_CHECK;
/*
 * End every open stream and refuse new ones (503), without waiting: call
 * before stopping the HTTP server, which waits for its handlers.
 * Thread-safe.
 */
void stream_hub_close(struct stream_hub *h);
/* Close, stop the listener and free; after the HTTP server stopped.
 * NULL-safe. */
void stream_hub_free(struct stream_hub *h);

/* GET /v1/stream; arg is the struct stream_hub. */
int handle_stream(struct http_req *r, void *arg);

#endif
