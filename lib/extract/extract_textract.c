/* extract_textract: Textract's JSON 1.1 calls through the AWS helper. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "core/clock.h"
#include "extract/extract_textract.h"
#include "core/log.h"

enum { JOB_ID_MAX = 128 };

static const char *str_field(struct json_object *o, const char *name)
{
	struct json_object *v;
	if (o == NULL || !json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The text being built from the blocks of one or more answers. */
struct collect {
	struct buf text;
	long page;  /* page of the last line written */
	long pages; /* DocumentMetadata.Pages */
	size_t max;
	bool over;
};

/* Adds the LINE blocks of one answer; pages change with a form feed. */
static void collect_blocks(struct collect *c, struct json_object *answer)
{
	struct json_object *meta, *pages, *blocks;
	if (json_object_object_get_ex(answer, "DocumentMetadata", &meta) &&
	    json_object_object_get_ex(meta, "Pages", &pages))
		c->pages = (long)json_object_get_int64(pages);
	if (!json_object_object_get_ex(answer, "Blocks", &blocks) ||
	    !json_object_is_type(blocks, json_type_array))
		return;
	size_t n = json_object_array_length(blocks);
	for (size_t i = 0; i < n && !c->over; i++) {
		struct json_object *b = json_object_array_get_idx(blocks, i), *pg;
		const char *type = str_field(b, "BlockType"), *text = str_field(b, "Text");
		if (type == NULL || strcmp(type, "LINE") != 0 || text == NULL)
			continue;
		long page =
		    json_object_object_get_ex(b, "Page", &pg) ? (long)json_object_get_int64(pg) : 1;
		size_t len = strlen(text);
		if (c->text.len + len + (size_t)(page > c->page ? page - c->page : 0) + 1 >
		    c->max) {
			c->over = true;
			break;
		}
		for (; c->page < page; c->page++)
			if (c->page >= 1)
				buf_putc(&c->text, '\f');
		buf_append(&c->text, text, len);
		buf_putc(&c->text, '\n');
	}
}

static enum err finish(struct collect *c, const struct extract_limits *l, struct pool *pool,
                       struct extract_result *out)
{
	if (c->over) {
		out->error = pool_printf(pool, "the extracted text is larger than %ld bytes",
		                         l->max_text_bytes);
		return ERR_TOO_LARGE;
	}
	out->text = pool_strndup(pool, c->text.data != NULL ? c->text.data : "", c->text.len);
	out->text_len = c->text.len;
	out->pages = c->pages > 0 ? c->pages : (c->page > 0 ? c->page : 1);
	out->ocr_pages = out->pages;
	return ERR_OK;
}

static void result_init(struct extract_result *out)
{
	*out = (struct extract_result){
	    .text = "", .title = "", .author = "", .engine = "textract", .error = ""};
}

static const char *call_error(enum err e)
{
	switch (e) {
	case ERR_FORBIDDEN:
		return "Textract refused the credentials";
	case ERR_TIMEOUT:
		return "Textract did not answer in time";
	case ERR_INVALID:
		return "Textract could not read the document";
	default:
		return "Textract is not available";
	}
}

static enum err call(struct aws_client *aws, const char *target, struct json_object *req,
                     struct pool *pool, struct json_object **answer, struct extract_result *out)
{
	struct aws_json_request r = {
	    .service = "textract",
	    .method = "POST",
	    .path = "/",
	    .target = target,
	    .body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
	                                                    JSON_C_TO_STRING_NOSLASHESCAPE),
	};
	enum err e = aws_json_call(aws, &r, pool, answer);
	if (e == ERR_OK && *answer == NULL)
		e = ERR_UNAVAILABLE;
	if (e != ERR_OK)
		out->error = call_error(e);
	return e;
}

enum err extract_textract_image(struct aws_client *aws, const char *path,
                                const struct extract_limits *l, struct pool *pool,
                                struct extract_result *out)
{
	enum err e = ERR_OK;
	unsigned char *data = NULL;
	char *b64 = NULL;
	struct json_object *req = NULL, *answer = NULL;
	struct collect c = {.max = (size_t)l->max_text_bytes};
	buf_init(&c.text);
	result_init(out);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		log_error("extract: textract: cannot open the image: %s", strerror(errno));
		out->error = "the stored file could not be opened";
		e = ERR_INTERNAL;
		goto out;
	}
	if (st.st_size > EXTRACT_TEXTRACT_BYTES_MAX || st.st_size > l->max_file_bytes) {
		out->error = pool_printf(pool, "the image is larger than %d MiB",
		                         EXTRACT_TEXTRACT_BYTES_MAX / (1024 * 1024));
		e = ERR_TOO_LARGE;
		goto out;
	}
	size_t len = (size_t)st.st_size, n = 0;
	data = xmalloc(len + 1);
	while (n < len) {
		ssize_t r = read(fd, data + n, len - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (n != len) {
		log_error("extract: textract: short read of the image");
		out->error = "the stored file could not be read";
		e = ERR_INTERNAL;
		goto out;
	}
	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, data, (int)len);
	req = json_object_new_object();
	struct json_object *doc = json_object_new_object();
	json_object_object_add(doc, "Bytes", json_object_new_string(b64));
	json_object_object_add(req, "Document", doc);
	e = call(aws, "Textract.DetectDocumentText", req, pool, &answer, out);
	if (e != ERR_OK)
		goto out;
	collect_blocks(&c, answer);
	e = finish(&c, l, pool, out);
out:
	json_object_put(req);
	free(b64);
	free(data);
	if (fd >= 0)
		close(fd);
	buf_clear(&c.text);
	return e;
}

/* Starts the job; its id goes into job_id. */
static enum err job_start(struct aws_client *aws, const char *bucket, const char *key,
                          struct pool *pool, char job_id[JOB_ID_MAX], struct extract_result *out)
{
	struct json_object *req = json_object_new_object(), *loc = json_object_new_object(),
	                   *obj = json_object_new_object(), *answer = NULL;
	json_object_object_add(obj, "Bucket", json_object_new_string(bucket));
	json_object_object_add(obj, "Name", json_object_new_string(key));
	json_object_object_add(loc, "S3Object", obj);
	json_object_object_add(req, "DocumentLocation", loc);
	enum err e = call(aws, "Textract.StartDocumentTextDetection", req, pool, &answer, out);
	json_object_put(req);
	if (e != ERR_OK)
		return e;
	const char *id = str_field(answer, "JobId");
	if (id == NULL || strlen(id) >= JOB_ID_MAX || id[0] == '\0') {
		log_error("extract: textract: StartDocumentTextDetection answered without a JobId");
		out->error = "Textract is not available";
		return ERR_UNAVAILABLE;
	}
	memcpy(job_id, id, strlen(id) + 1);
	return ERR_OK;
}

/* One GetDocumentTextDetection call. */
static enum err job_get(struct aws_client *aws, const char *job_id, const char *next_token,
                        struct pool *pool, struct json_object **answer, struct extract_result *out)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "JobId", json_object_new_string(job_id));
	json_object_object_add(req, "MaxResults", json_object_new_int(1000));
	if (next_token != NULL)
		json_object_object_add(req, "NextToken", json_object_new_string(next_token));
	enum err e = call(aws, "Textract.GetDocumentTextDetection", req, pool, answer, out);
	json_object_put(req);
	return e;
}

enum err extract_textract_s3(struct aws_client *aws, const char *bucket, const char *key,
                             long poll_ms, long timeout_ms, const struct extract_limits *l,
                             struct pool *pool, struct extract_result *out)
{
	char job_id[JOB_ID_MAX];
	struct json_object *answer = NULL;
	struct collect c = {.max = (size_t)l->max_text_bytes};
	buf_init(&c.text);
	result_init(out);
	long long deadline = clock_ms() + timeout_ms;
	enum err e = job_start(aws, bucket, key, pool, job_id, out);
	if (e != ERR_OK)
		goto out;
	/* Wait for the job to end. */
	for (;;) {
		e = job_get(aws, job_id, NULL, pool, &answer, out);
		if (e != ERR_OK)
			goto out;
		const char *status = str_field(answer, "JobStatus");
		if (status != NULL && strcmp(status, "IN_PROGRESS") != 0)
			break;
		if (clock_ms() + poll_ms > deadline) {
			out->error = pool_printf(pool, "Textract did not finish within %ld seconds",
			                         (timeout_ms + 999) / 1000);
			log_warn("extract: textract job %s: %s", job_id, out->error);
			e = ERR_TIMEOUT;
			goto out;
		}
		clock_sleep_ms(poll_ms);
	}
	const char *status = str_field(answer, "JobStatus");
	if (strcmp(status, "SUCCEEDED") != 0 && strcmp(status, "PARTIAL_SUCCESS") != 0) {
		const char *why = str_field(answer, "StatusMessage");
		out->error = pool_printf(pool, "Textract could not read the document: %s",
		                         why != NULL ? why : status);
		log_warn("extract: textract job %s: %s", job_id, out->error);
		e = ERR_INVALID;
		goto out;
	}
	/* The results come in pages of blocks linked by NextToken. */
	for (int calls = 1;; calls++) {
		collect_blocks(&c, answer);
		if (c.pages > l->max_pages) {
			out->error =
			    pool_printf(pool, "the document has more than %ld pages", l->max_pages);
			e = ERR_TOO_LARGE;
			goto out;
		}
		const char *next = str_field(answer, "NextToken");
		if (next == NULL || c.over)
			break;
		if (calls >= EXTRACT_TEXTRACT_CALLS_MAX) {
			out->error = "Textract's answer is too long";
			e = ERR_TOO_LARGE;
			goto out;
		}
		e = job_get(aws, job_id, next, pool, &answer, out);
		if (e != ERR_OK)
			goto out;
	}
	e = finish(&c, l, pool, out);
out:
	buf_clear(&c.text);
	return e;
}
