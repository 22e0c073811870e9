/* extract_textract: Amazon Textract as the production extraction engine.
 *
 * Images go to DetectDocumentText in the request (synchronous); PDFs (and
 * any document already in S3) go through an asynchronous text detection
 * job that is polled until it ends. Only LINE blocks are kept, in the order
 * Textract gives them; pages are separated by a form feed as the local
 * engines do. The work happens at AWS, so no sandbox is needed here: the
 * answers are JSON parsed with a depth limit by the AWS helper. */
#ifndef LECTERN_EXTRACT_TEXTRACT_H
#define LECTERN_EXTRACT_TEXTRACT_H

#include "storage/aws.h"
#include "extract/extract.h"

enum {
	EXTRACT_TEXTRACT_BYTES_MAX =
	    10 * 1024 * 1024,              /* Textract's limit for a document sent inline */
	EXTRACT_TEXTRACT_CALLS_MAX = 10000 /* result pages fetched for one job */
};

/* The text of a PNG or JPEG file through DetectDocumentText. Errors: as
 * aws_json_call (ERR_FORBIDDEN, ERR_UNAVAILABLE, ERR_TIMEOUT, ...), and
 * ERR_TOO_LARGE for a file over EXTRACT_TEXTRACT_BYTES_MAX or text over
 * l->max_text_bytes; out->error says which. Strings owned by pool. */
enum err extract_textract_image(struct aws_client *aws, const char *path,
                                const struct extract_limits *l, struct pool *pool,
                                struct extract_result *out) MUST_CHECK;

/* The text of the document s3://bucket/key through Start- and
 * GetDocumentTextDetection, polling every poll_ms for at most timeout_ms
 * (then ERR_TIMEOUT). A job that FAILED is ERR_INVALID with Textract's
 * message; more than l->max_pages pages is ERR_TOO_LARGE. */
enum err extract_textract_s3(struct aws_client *aws, const char *bucket, const char *key,
                             long poll_ms, long timeout_ms, const struct extract_limits *l,
                             struct pool *pool, struct extract_result *out) MUST_CHECK;

#endif
