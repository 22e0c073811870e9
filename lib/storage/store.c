/* store: configuration, keys, and the dispatch to a backend. */
#include "storage/store.h"

#include <string.h>

#include "core/cfg.h"
#include "core/log.h"
#include "storage/store_impl.h"

enum {
	STORE_NAME_MAX = 160, /* bytes of an encoded file name segment (longer ones are cut) */
	STORE_EXT_MAX = 24    /* bytes of an encoded extension kept when a name is cut */
};

static const char *const store_kinds[] = {"file", "s3", NULL}; /* enum store_kind order */
static const char *const store_sse_kinds[] = {"", "AES256", "aws:kms", NULL};

struct cfg_table store_config_table(struct store_config *out)
{
	const struct cfg_var table[] = {
	    {"LECTERN_STORE", CFG_ENUM, "file", 0, 0, 0, &out->kind,
	     "object storage backend: file or s3", store_kinds},
	    {"LECTERN_STORE_ROOT", CFG_STRING, "/var/lib/lectern/store", 1, 1024, CFG_NONEMPTY,
	     &out->root, "directory of the file backend", NULL},
	    {"LECTERN_STORE_ACCEL_PREFIX", CFG_STRING, "/_store/", 2, 256, CFG_NONEMPTY,
	     &out->accel_prefix, "internal nginx location that serves the file backend's root",
	     NULL},
	    {"LECTERN_S3_BUCKET", CFG_STRING, "", 0, 63, 0, &out->bucket, "S3 bucket (s3 backend)",
	     NULL},
	    {"LECTERN_S3_ENDPOINT", CFG_STRING, "", 0, 512, 0, &out->s3_endpoint,
	     "S3-compatible endpoint scheme://host[:port]; empty for AWS S3", NULL},
	    {"LECTERN_S3_PATH_STYLE", CFG_BOOL, "false", 0, 0, 0, &out->path_style,
	     "address objects as endpoint/bucket/key (S3-compatible stores)", NULL},
	    {"LECTERN_S3_SSE", CFG_ENUM, "", 0, 0, 0, &out->sse_kind,
	     "server-side encryption: empty, AES256 or aws:kms", store_sse_kinds},
	    {"LECTERN_S3_SSE_KMS_KEY_ID", CFG_STRING, "", 0, 2048, 0, &out->sse_kms_key_id,
	     "KMS key for aws:kms; empty for the bucket's default", NULL},
	    {"LECTERN_S3_PART_SIZE", CFG_INT, "8388608", STORE_PART_MIN, 512L * 1024 * 1024, 0,
	     &out->part_size, "bytes per multipart part; smaller objects go in one PUT", NULL},
	    {"LECTERN_S3_PRESIGN_SECONDS", CFG_INT, "300", 1, AWS_PRESIGN_MAX_SECONDS, 0,
	     &out->presign_seconds, "lifetime of presigned download URLs", NULL},
	};
	/* Static: the table lives as long as the settings it points into. */
	static struct cfg_var vars[CFG_COUNT(table)];
	memcpy(vars, table, sizeof(table));
	return (struct cfg_table){"store", vars, CFG_COUNT(vars)};
}

enum err store_config_check(struct store_config *out)
{
	out->sse = store_sse_kinds[out->sse_kind];
	size_t plen = strlen(out->accel_prefix);
	if (out->accel_prefix[0] != '/' || out->accel_prefix[plen - 1] != '/') {
		log_error("config LECTERN_STORE_ACCEL_PREFIX: must start and end with '/'");
		return ERR_INVALID;
	}
	if (out->kind == STORE_S3) {
		if (!*out->bucket) {
			log_error("config LECTERN_S3_BUCKET: required when LECTERN_STORE=s3");
			return ERR_INVALID;
		}
		if (*out->s3_endpoint && strncmp(out->s3_endpoint, "http://", 7) != 0 &&
		    strncmp(out->s3_endpoint, "https://", 8) != 0) {
			log_error(
			    "config LECTERN_S3_ENDPOINT: must start with http:// or https://");
			return ERR_INVALID;
		}
	}
	return ERR_OK;
}

enum err store_config_load(struct store_config *out)
{
	memset(out, 0, sizeof(*out));
	struct cfg_table t = store_config_table(out);
	enum err e = cfg_load(t.vars, t.count);
	if (e == ERR_OK)
		e = store_config_check(out);
	if (e == ERR_OK && out->kind == STORE_S3)
		e = aws_config_load(&out->aws);
	return e;
}

static bool key_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* Checks text as a key (partial: a list prefix, whose last segment may be
 * cut short or empty). */
static enum err check_key(const char *text, bool partial)
{
	if (!text)
		return ERR_INVALID;
	size_t len = strnlen(text, STORE_KEY_MAX + 1);
	if (len > STORE_KEY_MAX || (!partial && len == 0))
		return ERR_INVALID;
	size_t seg_len = 0, segments = 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '/') {
			if (seg_len == 0)
				return ERR_INVALID; /* leading '/', "//" */
			seg_len = 0;
			if (++segments > STORE_DEPTH_MAX)
				return ERR_INVALID;
			continue;
		}
		if (!key_byte(c))
			return ERR_INVALID;
		/* No segment may start with '.': no ".", "..", hidden or temporary files. */
		if (seg_len == 0 && c == '.')
			return ERR_INVALID;
		if (++seg_len > STORE_SEGMENT_MAX)
			return ERR_INVALID;
	}
	if (!partial && seg_len == 0)
		return ERR_INVALID; /* trailing '/' */
	return ERR_OK;
}

enum err store_key_check(const char *key)
{
	return check_key(key, false);
}

static bool valid_segment(const char *s)
{
	return s && *s && !strchr(s, '/') && check_key(s, false) == ERR_OK;
}

/* Appends name encoded: [A-Za-z0-9._] kept (but a leading '.' when
 * leading), others "-XX". */
static void encode_name(struct buf *b, const char *name, size_t len, bool leading)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (key_byte(c) && c != '-' && !(leading && i == 0 && c == '.'))
			buf_putc(b, (char)c);
		else
			buf_printf(b, "-%02X", c);
	}
}

enum err store_key(struct pool *pool, const char *service, const char *user_id, const char *id,
                   const char *name, const char **out)
{
	*out = NULL;
	if (!valid_segment(service) || !valid_segment(user_id) || !valid_segment(id) || !name ||
	    !*name) {
		log_warn("store_key: invalid part (service, user id, id or empty name)");
		return ERR_INVALID;
	}
	struct buf enc;
	buf_init(&enc);
	encode_name(&enc, name, strlen(name), true);
	if (enc.len > STORE_NAME_MAX) {
		/* Cut long names but keep a short extension; the id keeps keys unique
		 * and the full name lives in the service's database. */
		const char *dot = strrchr(name, '.');
		struct buf ext;
		buf_init(&ext);
		if (dot && dot != name)
			encode_name(&ext, dot, strlen(dot), false);
		if (ext.len > STORE_EXT_MAX)
			buf_clear(&ext);
		size_t keep = STORE_NAME_MAX - ext.len;
		/* Never cut inside an escape "-XX". */
		for (size_t i = keep >= 2 ? keep - 2 : 0; i < keep; i++)
			if (enc.data[i] == '-') {
				keep = i;
				break;
			}
		enc.len = keep;
		enc.data[keep] = '\0';
		if (ext.len)
			buf_append(&enc, ext.data, ext.len);
		buf_clear(&ext);
	}
	const char *key = pool_printf(pool, "%s/%s/%s/%s", service, user_id, id, enc.data);
	buf_clear(&enc);
	if (store_key_check(key) != ERR_OK) {
		log_warn("store_key: the key would be invalid or over %d bytes", STORE_KEY_MAX);
		return ERR_INVALID;
	}
	*out = key;
	return ERR_OK;
}

enum err store_open(const struct store_config *cfg, struct store **out)
{
	*out = NULL;
	return cfg->kind == STORE_S3 ? store_s3_open(cfg, out) : store_file_open(cfg, out);
}

void store_free(struct store *s)
{
	if (s)
		s->ops->free(s);
}

enum store_kind store_kind(const struct store *s)
{
	return s->cfg.kind;
}

/* Refuses a key before any backend sees it; logged once here. */
static enum err refuse_key(const char *op, const char *key)
{
	log_warn("store %s: invalid key \"%s\"", op, key ? key : "(null)");
	return ERR_INVALID;
}

static bool valid_content_type(const char *ct)
{
	size_t n = strnlen(ct, STORE_CONTENT_TYPE_MAX);
	if (n >= STORE_CONTENT_TYPE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)ct[i] < 0x20 || (unsigned char)ct[i] > 0x7e)
			return false;
	return true;
}

enum err store_put(struct store *s, const char *key, const char *content_type, store_read_fn *read,
                   void *arg, long long max_size, struct store_info *out)
{
	if (store_key_check(key))
		return refuse_key("put", key);
	if (content_type && !valid_content_type(content_type)) {
		log_warn("store put %s: invalid content type", key);
		return ERR_INVALID;
	}
	struct store_info info;
	memset(&info, 0, sizeof(info));
	enum err e = s->ops->put(s, key, content_type, read, arg, max_size, &info);
	if (!e && out)
		*out = info;
	return e;
}

/* Reads a buffer in pieces, for store_put_buf. */
struct mem_reader {
	const char *data;
	size_t len, off;
};

static ssize_t mem_read(void *arg, void *dst, size_t cap)
{
	struct mem_reader *m = arg;
	size_t n = m->len - m->off < cap ? m->len - m->off : cap;
	memcpy(dst, m->data + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

enum err store_put_buf(struct store *s, const char *key, const char *content_type, const void *data,
                       size_t len, struct store_info *out)
{
	struct mem_reader m = {data, len, 0};
	return store_put(s, key, content_type, mem_read, &m, (long long)len, out);
}

enum err store_get(struct store *s, const char *key, store_write_fn *write, void *arg)
{
	if (store_key_check(key))
		return refuse_key("get", key);
	return s->ops->get(s, key, write, arg);
}

enum err store_stat(struct store *s, const char *key, struct store_info *out)
{
	memset(out, 0, sizeof(*out));
	if (store_key_check(key))
		return refuse_key("stat", key);
	return s->ops->stat(s, key, out);
}

enum err store_delete(struct store *s, const char *key)
{
	if (store_key_check(key))
		return refuse_key("delete", key);
	return s->ops->del(s, key);
}

enum err store_list(struct store *s, const char *prefix, store_list_fn *fn, void *arg)
{
	if (check_key(prefix, true))
		return refuse_key("list", prefix);
	return s->ops->list(s, prefix, fn, arg);
}

enum err store_download(struct store *s, const char *key, struct pool *pool,
                        struct store_download *out)
{
	return store_download_as(s, key, NULL, NULL, pool, out);
}

enum err store_download_as(struct store *s, const char *key, const char *content_type,
                           const char *disposition, struct pool *pool, struct store_download *out)
{
	memset(out, 0, sizeof(*out));
	if (store_key_check(key))
		return refuse_key("download", key);
	return s->ops->download(s, key, content_type, disposition, pool, out);
}
