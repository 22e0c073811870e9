/* store: object storage with one interface and two backends.
 *
 * LECTERN_STORE=file keeps objects under a root directory (store_file.c);
 * LECTERN_STORE=s3 keeps them in an S3 bucket (store_s3.c). Keys are
 * "<service>/<user_id>/<id>/<name>" (store_key), made only of
 * [A-Za-z0-9._-/]: no empty, "." or dot-leading segments, no "..", no
 * absolute paths, at most STORE_KEY_MAX bytes. A client's file name is
 * encoded into that alphabet by store_key; the display name stays in the
 * service's database. Every put computes the SHA-256 while streaming, never
 * holds more than one buffer (file) or one part (S3) in memory, and is
 * atomic: readers see the old object or the complete new one, and a failed
 * or oversize put leaves nothing behind. Downloads are not streamed by C
 * code: store_download gives nginx's X-Accel-Redirect URI (file) or a
 * presigned GET URL (S3). Not thread-safe: one store per thread. */
#ifndef LECTERN_STORE_H
#define LECTERN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/cfg.h"
#include "storage/aws.h"
#include "core/err.h"
#include "core/mem.h"

enum {
	STORE_KEY_MAX = 1024,            /* bytes in a key (S3's own limit) */
	STORE_SEGMENT_MAX = 255,         /* bytes in one key segment (a file name) */
	STORE_CONTENT_TYPE_MAX = 128,    /* bytes of a content type, with the NUL */
	STORE_CHUNK = 64 * 1024,         /* bytes moved per read/write by the file backend */
	STORE_PART_MIN = 5 * 1024 * 1024 /* S3's smallest multipart part */
};

enum store_kind { STORE_FILE, STORE_S3 };

struct store_config {
	int kind;         /* LECTERN_STORE: enum store_kind, "file" (default) or "s3" */
	const char *root; /* LECTERN_STORE_ROOT: directory of the file backend */
	const char
	    *accel_prefix;  /* LECTERN_STORE_ACCEL_PREFIX: internal nginx location, "/_store/" */
	const char *bucket; /* LECTERN_S3_BUCKET */
	const char *s3_endpoint;    /* LECTERN_S3_ENDPOINT: scheme://host[:port], "" = AWS */
	bool path_style;            /* LECTERN_S3_PATH_STYLE: endpoint/bucket/key instead of
	                               bucket.endpoint/key */
	int sse_kind;               /* LECTERN_S3_SSE: index of "", "AES256", "aws:kms" */
	const char *sse;            /* the same as text (what the header carries) */
	const char *sse_kms_key_id; /* LECTERN_S3_SSE_KMS_KEY_ID: key for aws:kms, "" = the bucket's
	                               default */
	long part_size; /* LECTERN_S3_PART_SIZE: bytes per multipart part (and the single-PUT limit)
	                 */
	long presign_seconds;  /* LECTERN_S3_PRESIGN_SECONDS: lifetime of download URLs */
	struct aws_config aws; /* region, credentials, timeouts, retries (aws.h) */
};

/* Reads LECTERN_STORE* (and, for s3, LECTERN_S3_* and the AWS settings);
 * ERR_INVALID, logged, when one is wrong. */
enum err store_config_load(struct store_config *out) MUST_CHECK;
/* The LECTERN_STORE and LECTERN_S3_* settings as a table pointing into out
 * (static: one table per process), for loading and --help/--print-config. */
struct cfg_table store_config_table(struct store_config *out);
/* Checks what one setting alone cannot (after cfg_load of the table). */
enum err store_config_check(struct store_config *out) MUST_CHECK;

struct store;

/* Opens the backend cfg names (cfg is copied; its strings must outlive the
 * store). The file backend creates its root if missing. */
enum err store_open(const struct store_config *cfg, struct store **out) MUST_CHECK;
void store_free(struct store *s);
enum store_kind store_kind(const struct store *s);

/* What is known about an object. */
struct store_info {
	long long size;
	char sha256[AWS_SHA256_HEX_LEN + 1];       /* hex, "" when the backend does not know it */
	char content_type[STORE_CONTENT_TYPE_MAX]; /* "" when unknown */
};

/* Fills buf with up to cap bytes; returns how many, 0 at the end, -1 on a
 * failure (which the callback logs). */
typedef ssize_t store_read_fn(void *arg, void *buf, size_t cap);
/* Takes len bytes of an object; ERR_OK to go on. */
typedef enum err store_write_fn(void *arg, const void *data, size_t len);
/* Called once per key of a listing, in byte order; return false to stop. */
typedef bool store_list_fn(void *arg, const char *key, long long size);

/* ERR_OK when key is a valid key (see the top of this file), else ERR_INVALID. */
enum err store_key_check(const char *key) MUST_CHECK;

/* Builds "<service>/<user_id>/<id>/<name>" into *out (owned by pool). service,
 * user_id and id must already be single valid segments; name is any client
 * file name: bytes outside [A-Za-z0-9._] (and a leading '.') become "-XX"
 * (hex), so distinct names stay distinct. ERR_INVALID when a part is empty or
 * invalid or the key would be too long. */
enum err store_key(struct pool *pool, const char *service, const char *user_id, const char *id,
                   const char *name, const char **out) MUST_CHECK;

/* Stores the bytes read from read() under key (replacing any object), at
 * most max_size bytes: past it ERR_TOO_LARGE and nothing is stored.
 * content_type may be NULL. out (may be NULL) gets size and SHA-256. A read
 * failure is ERR_INVALID (the client's body broke off). */
enum err store_put(struct store *s, const char *key, const char *content_type, store_read_fn *read,
                   void *arg, long long max_size, struct store_info *out) MUST_CHECK;

/* Stores len bytes of data under key; as store_put. */
enum err store_put_buf(struct store *s, const char *key, const char *content_type, const void *data,
                       size_t len, struct store_info *out) MUST_CHECK;

/* Streams the object to write(); ERR_NOT_FOUND when there is none. On a
 * failure after some bytes were written, the caller must discard them. */
enum err store_get(struct store *s, const char *key, store_write_fn *write, void *arg) MUST_CHECK;

/* Size, SHA-256 (if known) and content type of an object; ERR_NOT_FOUND. */
enum err store_stat(struct store *s, const char *key, struct store_info *out) MUST_CHECK;

/* Removes an object; removing a missing one is ERR_OK. */
enum err store_delete(struct store *s, const char *key) MUST_CHECK;

/* Calls fn for every key starting with prefix (any prefix of a valid key,
 * "" for all), in byte order. */
enum err store_list(struct store *s, const char *prefix, store_list_fn *fn, void *arg) MUST_CHECK;

enum store_download_kind {
	STORE_DOWNLOAD_ACCEL,   /* answer with "X-Accel-Redirect: location" (file backend) */
	STORE_DOWNLOAD_REDIRECT /* answer 302 "Location: location" (S3, presigned) */
};

struct store_download {
	enum store_download_kind kind;
	const char *location; /* owned by the pool given */
	long expires_seconds; /* lifetime of a presigned URL, 0 for accel */
};

/* How a handler hands the object's bytes to the client without streaming
 * them itself. Does not check that the object exists (store_stat does). */
enum err store_download(struct store *s, const char *key, struct pool *pool,
                        struct store_download *out) MUST_CHECK;

/* As store_download; a presigned URL (S3) also makes the store answer with
 * this Content-Type and Content-Disposition (either may be NULL), since the
 * client then never sees the handler's headers. With the file backend the
 * handler sets them on its X-Accel-Redirect answer, which nginx keeps. */
enum err store_download_as(struct store *s, const char *key, const char *content_type,
                           const char *disposition, struct pool *pool,
                           struct store_download *out) MUST_CHECK;

#endif
