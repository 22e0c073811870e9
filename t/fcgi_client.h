/* fcgi_client: a small FastCGI client so tests can drive a served route
 * table over a unix socket without nginx. It speaks the record protocol
 * (BEGIN_REQUEST, PARAMS, STDIN out; STDOUT, STDERR, END_REQUEST in) for
 * one request per connection, request id 1, role RESPONDER. */
#ifndef LECTERN_FCGI_CLIENT_H
#define LECTERN_FCGI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

enum {
	FCGI_CLIENT_RECORD_MAX = 65535, /* content bytes of one record */
	FCGI_CLIENT_HEADER_MAX = 256    /* bytes of one response header value we return */
};

struct fcgi_response {
	int status; /* from "Status:", 200 when absent, 0 when nothing came */
	char *head; /* the header block of STDOUT (NUL-terminated, malloc'd) */
	char *body; /* STDOUT after the blank line (NUL-terminated, malloc'd) */
	size_t body_len;
	char *err;      /* STDERR (NUL-terminated, malloc'd) */
	bool ended;     /* END_REQUEST arrived (false: the server hung up) */
	int app_status; /* from END_REQUEST */
};

/* Connects to a unix socket; -1 on failure. */
int fcgi_connect(const char *path);
/* Sends BEGIN_REQUEST and the params (name, value pairs ending with NULL),
 * then the empty PARAMS record. */
bool fcgi_send_begin(int fd, const char *const *params);
/* Sends STDIN bytes in records; len 0 sends the end-of-stream record. */
bool fcgi_send_stdin(int fd, const void *data, size_t len);
/* Reads until END_REQUEST or end of file. Free with fcgi_response_free. */
bool fcgi_read_response(int fd, struct fcgi_response *out);
/* One whole request: connect, begin, stdin (with its end), read, close. */
bool fcgi_request(const char *path, const char *const *params, const void *body, size_t len,
                  struct fcgi_response *out);
/* Copies the value of a response header (case-insensitive name) into dst;
 * false when absent. */
bool fcgi_response_header(const struct fcgi_response *r, const char *name, char *dst,
                          size_t dst_size);
void fcgi_response_free(struct fcgi_response *r);

#endif
