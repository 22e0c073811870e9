/* store_impl: what a store backend provides (private to store*.c). */
#ifndef LECTERN_STORE_IMPL_H
#define LECTERN_STORE_IMPL_H

#include "storage/store.h"

enum { STORE_DEPTH_MAX = 16 /* segments in a key */ };

struct store_ops {
	enum err (*put)(struct store *s, const char *key, const char *content_type,
	                store_read_fn *read, void *arg, long long max_size, struct store_info *out);
	enum err (*get)(struct store *s, const char *key, store_write_fn *write, void *arg);
	enum err (*stat)(struct store *s, const char *key, struct store_info *out);
	enum err (*del)(struct store *s, const char *key);
	enum err (*list)(struct store *s, const char *prefix, store_list_fn *fn, void *arg);
	enum err (*download)(struct store *s, const char *key, const char *content_type,
	                     const char *disposition, struct pool *pool,
	                     struct store_download *out);
	void (*free)(struct store *s);
};

/* Every backend's struct starts with this. */
struct store {
	const struct store_ops *ops;
	struct store_config cfg;
};

enum err store_file_open(const struct store_config *cfg, struct store **out) MUST_CHECK;
enum err store_s3_open(const struct store_config *cfg, struct store **out) MUST_CHECK;

#endif
