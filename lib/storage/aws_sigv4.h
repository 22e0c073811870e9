/* aws_sigv4: AWS Signature Version 4 for request headers and presigned URLs.
 *
 * Pure computation (no I/O): callers build the request, this returns the
 * Authorization header or the presigned query string. Used by aws.c for
 * every AWS call (S3, Polly, Transcribe, Textract) and by store_s3.c for
 * presigned GET URLs. */
#ifndef LECTERN_AWS_SIGV4_H
#define LECTERN_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/mem.h"

enum {
	AWS_SHA256_HEX_LEN = 64,         /* hex digits of a SHA-256 */
	AWS_AMZ_DATE_LEN = 16,           /* "20240101T000000Z" */
	AWS_SIGV4_PAIRS_MAX = 32,        /* headers or query parameters one request may sign */
	AWS_PRESIGN_MAX_SECONDS = 604800 /* AWS refuses presigned URLs valid longer (7 days) */
};

/* The payload hash S3 accepts for presigned and unhashed requests. */
#define AWS_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

struct aws_creds {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL or "" for long-lived keys */
};

/* A header or query parameter: raw text, not yet encoded. */
struct aws_pair {
	const char *name;
	const char *value;
};

struct aws_sigv4_request {
	const char *method;           /* "GET", "PUT", ... */
	const char *host;             /* the Host header as sent: name[:port] */
	const char *path;             /* already percent-encoded, starts with '/' */
	bool double_encode_path;      /* every service but S3 encodes the path again */
	const struct aws_pair *query; /* raw names and values, any order */
	size_t query_count;
	const struct aws_pair *headers; /* signed besides host; names in any case */
	size_t header_count;
	const char *payload_sha256; /* hex digest of the body, or AWS_UNSIGNED_PAYLOAD */
	const char *region;         /* "us-east-1" */
	const char *service;        /* signing name: "s3", "polly", "textract" */
	time_t now;                 /* signing time (UTC seconds) */
};

/* Writes the x-amz-date form of t ("YYYYMMDD'T'HHMMSS'Z'") into out. */
void aws_amz_date(time_t t, char out[AWS_AMZ_DATE_LEN + 1]);

/* Lowercase hex SHA-256 of data into out (NUL-terminated). */
void aws_sha256_hex(const void *data, size_t len, char out[AWS_SHA256_HEX_LEN + 1]);

/* Appends s percent-encoded per RFC 3986 (unreserved bytes kept); '/' is kept
 * when keep_slash. */
void aws_uri_encode(struct buf *b, const char *s, size_t len, bool keep_slash);

/* The value of the Authorization header for req. The caller must send
 * x-amz-date (aws_amz_date(req->now)) and, with a session token,
 * x-amz-security-token among req->headers, exactly as signed.
 * The string is owned by pool. */
const char *aws_sigv4_authorization(const struct aws_sigv4_request *req,
                                    const struct aws_creds *creds, struct pool *pool);

/* The query string (encoded, without '?') of a presigned URL for req valid for
 * expires seconds (1..AWS_PRESIGN_MAX_SECONDS): req->query plus the X-Amz-*
 * parameters and X-Amz-Signature. Only host is signed; the payload is
 * AWS_UNSIGNED_PAYLOAD. Owned by pool. */
const char *aws_sigv4_presign(const struct aws_sigv4_request *req, const struct aws_creds *creds,
                              long expires, struct pool *pool);

#endif
