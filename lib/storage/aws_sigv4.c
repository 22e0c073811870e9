/* aws_sigv4: canonical request, string to sign and signing key of SigV4. */
#include "storage/aws_sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

enum { SHA256_LEN = 32, SCOPE_MAX = 256 };

static const char hex_digits[] = "0123456789abcdef";

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void aws_sha256_hex(const void *data, size_t len, char out[AWS_SHA256_HEX_LEN + 1])
{
	unsigned char md[SHA256_LEN];
	unsigned int md_len = 0;
	if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL))
		abort(); /* only fails when out of memory */
	hex_encode(md, SHA256_LEN, out);
}

static void hmac(const void *key, size_t key_len, const char *msg, unsigned char out[SHA256_LEN])
{
	unsigned int out_len = 0;
	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out,
	          &out_len))
		abort();
}

void aws_amz_date(time_t t, char out[AWS_AMZ_DATE_LEN + 1])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, AWS_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

void aws_uri_encode(struct buf *b, const char *s, size_t len, bool keep_slash)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
		    (keep_slash && c == '/')) {
			buf_putc(b, (char)c);
		} else {
			char esc[4] = {'%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15],
			               '\0'};
			buf_append(b, esc, 3);
		}
	}
}

/* One header or parameter ready to sort: its canonical name and value. */
struct canon_pair {
	char *name;
	char *value;
};

static int canon_pair_cmp(const void *a, const void *b)
{
	const struct canon_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

/* Header values are trimmed and inner runs of spaces collapsed to one. */
static char *canon_header_value(struct pool *pool, const char *v)
{
	struct buf b;
	buf_init(&b);
	while (*v == ' ' || *v == '\t')
		v++;
	bool space = false;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = true;
			continue;
		}
		if (space)
			buf_putc(&b, ' ');
		space = false;
		buf_putc(&b, *v);
	}
	char *out = pool_strdup(pool, b.data ? b.data : "");
	buf_clear(&b);
	return out;
}

/* Builds the canonical query of extra + req->query into out (sorted, encoded). */
static void canon_query(struct buf *out, const struct aws_pair *pairs, size_t n, struct pool *pool)
{
	struct canon_pair *cp = pool_alloc(pool, (n ? n : 1) * sizeof(*cp));
	for (size_t i = 0; i < n; i++) {
		struct buf b;
		buf_init(&b);
		aws_uri_encode(&b, pairs[i].name, strlen(pairs[i].name), false);
		cp[i].name = pool_strdup(pool, b.data ? b.data : "");
		buf_clear(&b);
		const char *v = pairs[i].value ? pairs[i].value : "";
		aws_uri_encode(&b, v, strlen(v), false);
		cp[i].value = pool_strdup(pool, b.data ? b.data : "");
		buf_clear(&b);
	}
	qsort(cp, n, sizeof(*cp), canon_pair_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(out, '&');
		buf_printf(out, "%s=%s", cp[i].name, cp[i].value);
	}
}

/* The canonical request, and the signed header list into *signed_headers. */
static char *canon_request(const struct aws_sigv4_request *req, const struct aws_pair *query,
                           size_t query_count, bool host_only, const char **signed_headers,
                           struct pool *pool)
{
	size_t nh = host_only ? 1 : req->header_count + 1;
	struct canon_pair *h = pool_alloc(pool, nh * sizeof(*h));
	h[0].name = "host";
	h[0].value = canon_header_value(pool, req->host);
	for (size_t i = 1; i < nh; i++) {
		char *name = pool_strdup(pool, req->headers[i - 1].name);
		for (char *c = name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		h[i].name = name;
		h[i].value = canon_header_value(pool, req->headers[i - 1].value);
	}
	qsort(h, nh, sizeof(*h), canon_pair_cmp);

	struct buf b, names;
	buf_init(&b);
	buf_init(&names);
	buf_printf(&b, "%s\n", req->method);
	if (req->double_encode_path)
		aws_uri_encode(&b, req->path, strlen(req->path), true);
	else
		buf_puts(&b, req->path);
	buf_putc(&b, '\n');
	canon_query(&b, query, query_count, pool);
	buf_putc(&b, '\n');
	for (size_t i = 0; i < nh; i++) {
		buf_printf(&b, "%s:%s\n", h[i].name, h[i].value);
		if (i)
			buf_putc(&names, ';');
		buf_puts(&names, h[i].name);
	}
	buf_printf(&b, "\n%s\n%s", names.data,
	           host_only ? AWS_UNSIGNED_PAYLOAD : req->payload_sha256);
	*signed_headers = pool_strdup(pool, names.data);
	char *out = pool_strdup(pool, b.data);
	buf_clear(&b);
	buf_clear(&names);
	return out;
}

/* The hex signature of canonical under the scope date/region/service. */
static void sign(const struct aws_sigv4_request *req, const struct aws_creds *creds,
                 const char *amz_date, const char *canonical, char out[AWS_SHA256_HEX_LEN + 1],
                 struct pool *pool)
{
	char date[9];
	memcpy(date, amz_date, 8);
	date[8] = '\0';
	char canon_hash[AWS_SHA256_HEX_LEN + 1];
	aws_sha256_hex(canonical, strlen(canonical), canon_hash);
	const char *to_sign = pool_printf(pool, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
	                                  amz_date, date, req->region, req->service, canon_hash);
	/* kSecret = "AWS4" + secret; then date, region, service, "aws4_request". */
	const char *k_secret = pool_printf(pool, "AWS4%s", creds->secret_access_key);
	unsigned char k1[SHA256_LEN], k2[SHA256_LEN], k3[SHA256_LEN], k4[SHA256_LEN],
	    sig[SHA256_LEN];
	hmac(k_secret, strlen(k_secret), date, k1);
	hmac(k1, SHA256_LEN, req->region, k2);
	hmac(k2, SHA256_LEN, req->service, k3);
	hmac(k3, SHA256_LEN, "aws4_request", k4);
	hmac(k4, SHA256_LEN, to_sign, sig);
	hex_encode(sig, SHA256_LEN, out);
	/* The derived keys are secrets: do not leave them on the stack. */
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	OPENSSL_cleanse(k3, sizeof(k3));
	OPENSSL_cleanse(k4, sizeof(k4));
}

const char *aws_sigv4_authorization(const struct aws_sigv4_request *req,
                                    const struct aws_creds *creds, struct pool *pool)
{
	char amz_date[AWS_AMZ_DATE_LEN + 1];
	aws_amz_date(req->now, amz_date);
	const char *signed_headers = NULL;
	const char *canonical =
	    canon_request(req, req->query, req->query_count, false, &signed_headers, pool);
	char sig[AWS_SHA256_HEX_LEN + 1];
	sign(req, creds, amz_date, canonical, sig, pool);
	return pool_printf(
	    pool,
	    "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, "
	    "Signature=%s",
	    creds->access_key_id, amz_date, req->region, req->service, signed_headers, sig);
}

const char *aws_sigv4_presign(const struct aws_sigv4_request *req, const struct aws_creds *creds,
                              long expires, struct pool *pool)
{
	if (expires < 1)
		expires = 1;
	if (expires > AWS_PRESIGN_MAX_SECONDS)
		expires = AWS_PRESIGN_MAX_SECONDS;
	char amz_date[AWS_AMZ_DATE_LEN + 1];
	aws_amz_date(req->now, amz_date);
	size_t n = req->query_count;
	struct aws_pair *q = pool_alloc(pool, (n + 6) * sizeof(*q));
	if (n)
		memcpy(q, req->query, n * sizeof(*q));
	q[n++] = (struct aws_pair){"X-Amz-Algorithm", "AWS4-HMAC-SHA256"};
	q[n++] =
	    (struct aws_pair){"X-Amz-Credential",
	                      pool_printf(pool, "%s/%.8s/%s/%s/aws4_request", creds->access_key_id,
	                                  amz_date, req->region, req->service)};
	q[n++] = (struct aws_pair){"X-Amz-Date", pool_strdup(pool, amz_date)};
	q[n++] = (struct aws_pair){"X-Amz-Expires", pool_printf(pool, "%ld", expires)};
	q[n++] = (struct aws_pair){"X-Amz-SignedHeaders", "host"};
	if (creds->session_token && *creds->session_token)
		q[n++] = (struct aws_pair){"X-Amz-Security-Token", creds->session_token};
	const char *signed_headers = NULL;
	const char *canonical = canon_request(req, q, n, true, &signed_headers, pool);
	char sig[AWS_SHA256_HEX_LEN + 1];
	sign(req, creds, amz_date, canonical, sig, pool);
	struct buf b;
	buf_init(&b);
	canon_query(&b, q, n, pool);
	buf_printf(&b, "&X-Amz-Signature=%s", sig);
	char *out = pool_strdup(pool, b.data);
	buf_clear(&b);
	return out;
}
