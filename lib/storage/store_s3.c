/* store_s3: objects in an S3 bucket (AWS or any S3-compatible store).
 *
 * A put reads at most one part (LECTERN_S3_PART_SIZE) into memory: an object
 * that fits is one PUT carrying its SHA-256 (x-amz-content-sha256 and the
 * x-amz-meta-sha256 metadata); a larger one is a multipart upload, part by
 * part, aborted on any failure so nothing is left behind (a multipart
 * object's stat has no SHA-256: it is only known after the last part). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/log.h"
#include "storage/store_impl.h"

enum {
	S3_ETAG_MAX = 128,       /* bytes of a part's ETag */
	S3_UPLOAD_ID_MAX = 1024, /* bytes of an upload id */
	S3_PARTS_MAX = 10000,    /* S3's limit of parts per upload */
	S3_LIST_PAGE = 1000      /* keys per ListObjectsV2 page */
};

struct store_s3 {
	struct store base;
	struct aws_client *aws;
	const char *base_url;    /* scheme://host[:port] of the bucket (owned) */
	const char *path_prefix; /* "/bucket" (path style) or "" (virtual host) (owned) */
};

static struct store_s3 *s3(struct store *s)
{
	return (struct store_s3 *)s;
}

static const char *object_path(struct store_s3 *b, const char *key, struct pool *pool)
{
	/* Key bytes are unreserved or '/', which S3 paths keep as they are. */
	return pool_printf(pool, "%s/%s", b->path_prefix, key);
}

/* The SSE and content headers of a new object; returns the count. */
static size_t object_headers(struct store_s3 *b, const char *content_type, const char *sha256,
                             struct aws_pair *h)
{
	size_t n = 0;
	if (content_type && *content_type)
		h[n++] = (struct aws_pair){"content-type", content_type};
	if (sha256)
		h[n++] = (struct aws_pair){"x-amz-meta-sha256", sha256};
	if (*b->base.cfg.sse) {
		h[n++] = (struct aws_pair){"x-amz-server-side-encryption", b->base.cfg.sse};
		if (strcmp(b->base.cfg.sse, "aws:kms") == 0 && *b->base.cfg.sse_kms_key_id)
			h[n++] = (struct aws_pair){"x-amz-server-side-encryption-aws-kms-key-id",
			                           b->base.cfg.sse_kms_key_id};
	}
	return n;
}

/* Copies the text of <tag>...</tag> at or after *from into dst; advances *from. */
static bool xml_take(const char **from, const char *end, const char *tag, char *dst, size_t cap)
{
	char open[64], close[64];
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	const char *s = strstr(*from, open);
	if (!s || (end && s >= end))
		return false;
	s += strlen(open);
	const char *e = strstr(s, close);
	if (!e || (end && e > end))
		return false;
	/* Decode the five XML entities while copying. */
	size_t n = 0;
	for (const char *p = s; p < e && n + 1 < cap; p++) {
		static const struct {
			const char *ent;
			char c;
		} ents[] = {{"&amp;", '&'},
		            {"&lt;", '<'},
		            {"&gt;", '>'},
		            {"&quot;", '"'},
		            {"&apos;", '\''}};
		char c = *p;
		if (c == '&') {
			for (size_t i = 0; i < 5; i++) {
				size_t el = strlen(ents[i].ent);
				if ((size_t)(e - p) >= el && strncmp(p, ents[i].ent, el) == 0) {
					c = ents[i].c;
					p += el - 1;
					break;
				}
			}
		}
		dst[n++] = c;
	}
	dst[n] = '\0';
	*from = e + strlen(close);
	return true;
}

/* Reads until buf is full or the source ends; updates the whole-object hash. */
static enum err fill(const char *key, store_read_fn *read_fn, void *arg, char *buf, size_t cap,
                     size_t *got, bool *eof, long long *total, long long max_size, EVP_MD_CTX *md)
{
	*got = 0;
	while (*got < cap) {
		ssize_t n = read_fn(arg, buf + *got, cap - *got);
		if (n < 0) {
			log_warn("store s3 put %s: the source failed after %lld bytes", key,
			         *total);
			return ERR_INVALID;
		}
		if (n == 0) {
			*eof = true;
			break;
		}
		*total += n;
		if (*total > max_size) {
			log_warn("store s3 put %s: over the limit of %lld bytes", key, max_size);
			return ERR_TOO_LARGE;
		}
		if (!EVP_DigestUpdate(md, buf + *got, (size_t)n))
			abort();
		*got += (size_t)n;
	}
	return ERR_OK;
}

static enum err s3_put(struct store *s, const char *key, const char *content_type,
                       store_read_fn *read_fn, void *arg, long long max_size,
                       struct store_info *out)
{
	struct store_s3 *b = s3(s);
	struct pool *pool = pool_new();
	size_t part_size = (size_t)s->cfg.part_size;
	char *part = xmalloc(part_size);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		abort();
	struct buf complete;
	buf_init(&complete);
	char upload_id[S3_UPLOAD_ID_MAX] = "";
	const char *path = object_path(b, key, pool);
	struct aws_pair h[6];
	struct aws_http_response resp;
	memset(&resp, 0, sizeof(resp));
	long long total = 0;
	size_t got = 0;
	bool eof = false;
	char sha[AWS_SHA256_HEX_LEN + 1];

	enum err e = fill(key, read_fn, arg, part, part_size, &got, &eof, &total, max_size, md);
	if (e)
		goto out;
	if (eof) {
		/* The whole object fits in one part: one PUT. */
		aws_sha256_hex(part, got, sha);
		struct aws_http_request req = {
		    .method = "PUT",
		    .service = "s3",
		    .base_url = b->base_url,
		    .path = path,
		    .headers = h,
		    .header_count = object_headers(b, content_type, sha, h),
		    .body = part,
		    .body_len = got,
		    .long_transfer = true,
		};
		e = aws_http(b->aws, &req, &resp);
		buf_clear(&resp.body);
		if (e)
			goto out;
		snprintf(out->sha256, sizeof(out->sha256), "%s", sha);
	} else {
		struct aws_pair q_create[] = {{"uploads", ""}};
		struct aws_http_request create = {
		    .method = "POST",
		    .service = "s3",
		    .base_url = b->base_url,
		    .path = path,
		    .query = q_create,
		    .query_count = 1,
		    .headers = h,
		    .header_count = object_headers(b, content_type, NULL, h),
		};
		e = aws_http(b->aws, &create, &resp);
		const char *from = resp.body.data ? resp.body.data : "";
		if (!e && !xml_take(&from, NULL, "UploadId", upload_id, sizeof(upload_id))) {
			log_error("store s3 put %s: CreateMultipartUpload answered no UploadId",
			          key);
			e = ERR_UNAVAILABLE;
		}
		buf_clear(&resp.body);
		if (e)
			goto out;
		buf_puts(
		    &complete,
		    "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
		for (int number = 1;; number++) {
			if (number > S3_PARTS_MAX) {
				log_error("store s3 put %s: over %d parts", key, S3_PARTS_MAX);
				e = ERR_TOO_LARGE;
				goto out;
			}
			char num[16];
			snprintf(num, sizeof(num), "%d", number);
			struct aws_pair q_part[] = {{"partNumber", num}, {"uploadId", upload_id}};
			struct aws_http_request up = {
			    .method = "PUT",
			    .service = "s3",
			    .base_url = b->base_url,
			    .path = path,
			    .query = q_part,
			    .query_count = 2,
			    .body = part,
			    .body_len = got,
			    .long_transfer = true,
			};
			e = aws_http(b->aws, &up, &resp);
			buf_clear(&resp.body);
			if (e)
				goto out;
			if (!resp.etag[0]) {
				log_error("store s3 put %s: UploadPart %d answered no ETag", key,
				          number);
				e = ERR_UNAVAILABLE;
				goto out;
			}
			/* The ETag comes quoted; XML needs its quotes escaped. */
			buf_printf(&complete, "<Part><PartNumber>%d</PartNumber><ETag>", number);
			for (const char *c = resp.etag; *c; c++) {
				if (*c == '"')
					buf_puts(&complete, "&quot;");
				else
					buf_putc(&complete, *c);
			}
			buf_puts(&complete, "</ETag></Part>");
			if (eof)
				break;
			e = fill(key, read_fn, arg, part, part_size, &got, &eof, &total, max_size,
			         md);
			if (e)
				goto out;
			if (got == 0)
				break;
		}
		buf_puts(&complete, "</CompleteMultipartUpload>");
		struct aws_pair q_done[] = {{"uploadId", upload_id}};
		struct aws_pair h_done[] = {{"content-type", "application/xml"}};
		struct aws_http_request done = {
		    .method = "POST",
		    .service = "s3",
		    .base_url = b->base_url,
		    .path = path,
		    .query = q_done,
		    .query_count = 1,
		    .headers = h_done,
		    .header_count = 1,
		    .body = complete.data,
		    .body_len = complete.len,
		    .long_transfer = true,
		};
		e = aws_http(b->aws, &done, &resp);
		/* S3 may answer 200 and still report an error in the body. */
		if (!e && resp.body.data && strstr(resp.body.data, "<Error>")) {
			const char *from2 = resp.body.data;
			char code[AWS_FIELD_MAX] = "";
			xml_take(&from2, NULL, "Code", code, sizeof(code));
			log_error("store s3 put %s: CompleteMultipartUpload failed: %s", key, code);
			e = ERR_UNAVAILABLE;
		}
		buf_clear(&resp.body);
		if (e)
			goto out;
		upload_id[0] = '\0'; /* completed: nothing to abort */
		unsigned char digest[32];
		unsigned int dlen = 0;
		if (!EVP_DigestFinal_ex(md, digest, &dlen))
			abort();
		for (unsigned i = 0; i < 32; i++)
			snprintf(out->sha256 + 2 * i, 3, "%02x", digest[i]);
	}
	out->size = total;
	snprintf(out->content_type, sizeof(out->content_type), "%s",
	         content_type ? content_type : "");
out:
	if (upload_id[0]) {
		/* Abort so no parts linger (and cost) after a failed upload. */
		struct aws_pair q_abort[] = {{"uploadId", upload_id}};
		struct aws_http_request abort_req = {
		    .method = "DELETE",
		    .service = "s3",
		    .base_url = b->base_url,
		    .path = path,
		    .query = q_abort,
		    .query_count = 1,
		};
		if (aws_http(b->aws, &abort_req, &resp) != ERR_OK)
			log_warn("store s3 put %s: the failed upload could not be aborted", key);
		buf_clear(&resp.body);
	}
	buf_clear(&complete);
	EVP_MD_CTX_free(md);
	free(part);
	pool_free(pool);
	return e;
}

static enum err s3_get(struct store *s, const char *key, store_write_fn *write_fn, void *arg)
{
	struct store_s3 *b = s3(s);
	struct pool *pool = pool_new();
	struct aws_http_request req = {
	    .method = "GET",
	    .service = "s3",
	    .base_url = b->base_url,
	    .path = object_path(b, key, pool),
	    .long_transfer = true,
	    .sink = write_fn,
	    .sink_arg = arg,
	};
	struct aws_http_response resp;
	enum err e = aws_http(b->aws, &req, &resp);
	buf_clear(&resp.body);
	pool_free(pool);
	return e;
}

static enum err s3_stat(struct store *s, const char *key, struct store_info *out)
{
	struct store_s3 *b = s3(s);
	struct pool *pool = pool_new();
	struct aws_http_request req = {
	    .method = "HEAD",
	    .service = "s3",
	    .base_url = b->base_url,
	    .path = object_path(b, key, pool),
	};
	struct aws_http_response resp;
	enum err e = aws_http(b->aws, &req, &resp);
	if (!e) {
		out->size = resp.content_length >= 0 ? resp.content_length : 0;
		if (strlen(resp.meta_sha256) == AWS_SHA256_HEX_LEN)
			snprintf(out->sha256, sizeof(out->sha256), "%s", resp.meta_sha256);
		snprintf(out->content_type, sizeof(out->content_type), "%.*s",
		         STORE_CONTENT_TYPE_MAX - 1, resp.content_type);
	}
	buf_clear(&resp.body);
	pool_free(pool);
	return e;
}

static enum err s3_delete(struct store *s, const char *key)
{
	struct store_s3 *b = s3(s);
	struct pool *pool = pool_new();
	struct aws_http_request req = {
	    .method = "DELETE",
	    .service = "s3",
	    .base_url = b->base_url,
	    .path = object_path(b, key, pool),
	};
	struct aws_http_response resp;
	enum err e = aws_http(b->aws, &req, &resp);
	buf_clear(&resp.body);
	pool_free(pool);
	return e == ERR_NOT_FOUND ? ERR_OK : e;
}

static enum err s3_list(struct store *s, const char *prefix, store_list_fn *fn, void *arg)
{
	struct store_s3 *b = s3(s);
	char token[S3_UPLOAD_ID_MAX] = "";
	enum err e = ERR_OK;
	bool more = true;
	while (more && !e) {
		char max_keys[16];
		snprintf(max_keys, sizeof(max_keys), "%d", S3_LIST_PAGE);
		struct aws_pair q[4] = {
		    {"list-type", "2"}, {"prefix", prefix}, {"max-keys", max_keys}};
		size_t nq = 3;
		if (token[0])
			q[nq++] = (struct aws_pair){"continuation-token", token};
		struct aws_http_request req = {
		    .method = "GET",
		    .service = "s3",
		    .base_url = b->base_url,
		    .path = *b->path_prefix ? b->path_prefix : "/",
		    .query = q,
		    .query_count = nq,
		};
		struct aws_http_response resp;
		e = aws_http(b->aws, &req, &resp);
		if (e) {
			buf_clear(&resp.body);
			break;
		}
		const char *xml = resp.body.data ? resp.body.data : "";
		const char *from = xml;
		char trunc[16] = "";
		const char *t = xml;
		xml_take(&t, NULL, "IsTruncated", trunc, sizeof(trunc));
		more = strcmp(trunc, "true") == 0;
		t = xml;
		if (more && !xml_take(&t, NULL, "NextContinuationToken", token, sizeof(token))) {
			log_error("store s3 list %s: truncated answer without a continuation token",
			          prefix);
			e = ERR_UNAVAILABLE;
		}
		for (const char *c = strstr(from, "<Contents>"); c && !e;
		     c = strstr(from, "<Contents>")) {
			const char *end = strstr(c, "</Contents>");
			if (!end)
				break;
			char key[STORE_KEY_MAX + 1], size[32] = "0";
			const char *k = c, *z = c;
			from = end + 11;
			if (!xml_take(&k, end, "Key", key, sizeof(key)))
				continue;
			xml_take(&z, end, "Size", size, sizeof(size));
			if (store_key_check(key) != ERR_OK)
				continue; /* not one of ours */
			if (!fn(arg, key, strtoll(size, NULL, 10))) {
				more = false;
				break;
			}
		}
		buf_clear(&resp.body);
	}
	return e;
}

static enum err s3_download(struct store *s, const char *key, const char *content_type,
                            const char *disposition, struct pool *pool, struct store_download *out)
{
	struct store_s3 *b = s3(s);
	const char *path = object_path(b, key, pool);
	/* S3's response-* parameters: signed, so a client cannot change them. */
	struct aws_pair *overrides = pool_alloc(pool, 2 * sizeof(*overrides));
	size_t count = 0;
	if (content_type && *content_type)
		overrides[count++] = (struct aws_pair){"response-content-type", content_type};
	if (disposition && *disposition)
		overrides[count++] = (struct aws_pair){"response-content-disposition", disposition};
	struct aws_sigv4_request req = {
	    .method = "GET",
	    .host = strstr(b->base_url, "://") + 3,
	    .path = path,
	    .query = overrides,
	    .query_count = count,
	    .region = aws_client_region(b->aws),
	    .service = "s3",
	    .now = time(NULL),
	};
	const char *query =
	    aws_sigv4_presign(&req, aws_client_creds(b->aws), s->cfg.presign_seconds, pool);
	out->kind = STORE_DOWNLOAD_REDIRECT;
	out->location = pool_printf(pool, "%s%s?%s", b->base_url, path, query);
	out->expires_seconds = s->cfg.presign_seconds;
	return ERR_OK;
}

static void s3_free(struct store *s)
{
	struct store_s3 *b = s3(s);
	aws_client_free(b->aws);
	free((char *)b->base_url);
	free((char *)b->path_prefix);
	free(b);
}

static const struct store_ops s3_ops = {
    .put = s3_put,
    .get = s3_get,
    .stat = s3_stat,
    .del = s3_delete,
    .list = s3_list,
    .download = s3_download,
    .free = s3_free,
};

enum err store_s3_open(const struct store_config *cfg, struct store **out)
{
	struct aws_client *aws = NULL;
	enum err e = aws_client_new(&cfg->aws, &aws);
	if (e)
		return e;
	struct store_s3 *b = xcalloc(1, sizeof(*b));
	b->base.ops = &s3_ops;
	b->base.cfg = *cfg;
	b->aws = aws;
	struct buf url;
	buf_init(&url);
	if (*cfg->s3_endpoint)
		buf_puts(&url, cfg->s3_endpoint);
	else
		buf_printf(&url, "https://s3.%s.amazonaws.com", cfg->aws.region);
	while (url.len && url.data[url.len - 1] == '/')
		url.data[--url.len] = '\0';
	if (cfg->path_style) {
		b->base_url = buf_take(&url);
		size_t n = strlen(cfg->bucket) + 2;
		char *prefix = xmalloc(n);
		snprintf(prefix, n, "/%s", cfg->bucket);
		b->path_prefix = prefix;
	} else {
		/* Virtual-host style: the bucket becomes the first label of the host. */
		const char *sep = strstr(url.data, "://");
		size_t scheme_len = (size_t)(sep - url.data) + 3;
		struct buf vh;
		buf_init(&vh);
		buf_append(&vh, url.data, scheme_len);
		buf_printf(&vh, "%s.%s", cfg->bucket, url.data + scheme_len);
		b->base_url = buf_take(&vh);
		b->path_prefix = xstrdup("");
		buf_clear(&url);
	}
	*out = &b->base;
	return ERR_OK;
}
