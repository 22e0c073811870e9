/* upload: a multipart/form-data body whose file part is streamed, never
 * held whole in memory (documents' and stt's uploads).
 *
 * The multipart parser is pushed chunks read from the request; the store
 * pulls the file's bytes through upload_read. upload_head first reads until
 * the start of the file is in hand (for type detection), then upload_read
 * pumps the request until the parser has handed over some more of the file,
 * so at most one read chunk plus that head is in memory. Text fields are
 * checked against the route's PARAM_FORM entries as they end. */
#ifndef LECTERN_UPLOAD_H
#define LECTERN_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"
#include "web/http.h"

struct upload;

/* A reader of req's body (boundary from multipart_boundary) whose file part
 * is the first part with a file name and a name in file_parts
 * (NULL-terminated, e.g. {"audio", "file", NULL}); other file parts are read
 * past. body_max bounds the whole body. Lives in req->pool. */
struct upload *upload_new(struct http_req *req, const char *boundary, const char *const *file_parts,
                          unsigned long long body_max);
/* Reads until want bytes of the file are in hand, the file part ended or
 * the body ended. ERR_OK or the first failure (upload_error answers it). */
enum err upload_head(struct upload *u, size_t want) MUST_CHECK;
/* The file's bytes read so far and not yet taken (after upload_head: its
 * head); *complete when they are the whole file. */
const char *upload_head_data(const struct upload *u, size_t *len, bool *complete);
/* True once the file part began; its display-safe file name (or NULL). */
bool upload_file_seen(const struct upload *u);
const char *upload_filename(const struct upload *u);
/* store_read_fn: the next bytes of the file part; -1 on a failure. */
ssize_t upload_read(void *arg, void *dst, size_t cap);
/* Reads the rest of the body (fields after the file, the closing
 * boundary). ERR_OK or the first failure. */
enum err upload_rest(struct upload *u) MUST_CHECK;
/* The first failure of u (ERR_OK when none). */
enum err upload_failed(const struct upload *u);
/* Answers the client with u's failure and its sentence. */
enum err upload_error(struct upload *u);

#endif
