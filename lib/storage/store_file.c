/* store_file: objects as files under a root directory.
 *
 * Layout: the key is the path, so "<service>/<user_id>/<id>/<name>" is
 * sharded by service, user and object, a prefix listing is a directory walk,
 * and nginx serves the root with one internal location (alias). A put writes
 * an anonymous O_TMPFILE (or, where unsupported, a ".tmp-*" file) in the
 * target directory, fsyncs it, links it under a temporary name, renames it
 * over the key and fsyncs the directory: readers see the old or the whole
 * new object, never part of one, and concurrent writers to one key end with
 * the last complete one. Keys never have dot-leading segments, so temporary
 * files are never objects. SHA-256 and content type are kept in user xattrs
 * of the file (set before the rename); where the filesystem has none they
 * are unknown. */
/* O_TMPFILE is Linux's; other systems take the named temporary file path. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/fdio.h"
#include "core/log.h"
#include "storage/store_impl.h"

enum {
	FILE_TMP_NAME_MAX = 64, /* ".tmp-<pid>-<n>-<random>" */
	FILE_RETRIES = 3,       /* tries when a concurrent delete removed a directory */
	FILE_LIST_MAX = 1000000 /* keys one listing may gather */
};

#define XATTR_SHA256 "user.lectern.sha256"
#define XATTR_TYPE "user.lectern.content_type"

struct store_file {
	struct store base;
	int root_fd;     /* the root directory; every path is resolved under it */
	bool tmpfile_ok; /* false once O_TMPFILE proved unsupported here */
};

static struct store_file *sf(struct store *s)
{
	return (struct store_file *)s;
}

static enum err errno_error(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return ERR_NOT_FOUND;
	case EISDIR:
	case EEXIST:
	case ENOTEMPTY:
		return ERR_CONFLICT;
	case ENOSPC:
	case EDQUOT:
	case EROFS:
	case EIO:
		return ERR_UNAVAILABLE;
	default:
		return ERR_INTERNAL;
	}
}

static int fsync_dir(int fd)
{
	/* Some filesystems refuse fsync on directories; that is not a failure. */
	if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
		return -1;
	return 0;
}

/* Opens the directory holding key (creating it when create); *base is the
 * last segment. Returns the fd or -1 with errno. */
static int open_parent(struct store_file *f, const char *key, bool create, const char **base)
{
	int dir = dup(f->root_fd);
	if (dir < 0)
		return -1;
	const char *seg = key;
	for (;;) {
		const char *slash = strchr(seg, '/');
		if (!slash)
			break;
		char name[STORE_SEGMENT_MAX + 1];
		size_t n = (size_t)(slash - seg);
		memcpy(name, seg, n);
		name[n] = '\0';
		bool made = false;
		if (create) {
			if (mkdirat(dir, name, 0750) == 0)
				made = true;
			else if (errno != EEXIST)
				goto fail;
		}
		/* O_NOFOLLOW: a symlink planted in the tree never leads outside it. */
		int next = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			goto fail;
		if (made && fsync_dir(dir) != 0) {
			close(next);
			goto fail;
		}
		close(dir);
		dir = next;
		seg = slash + 1;
	}
	*base = seg;
	return dir;
fail : {
	int saved = errno;
	close(dir);
	errno = saved;
	return -1;
}
}

/* A name for the temporary file that no other writer picks. */
static void tmp_name(char out[FILE_TMP_NAME_MAX])
{
	static unsigned long counter;
	unsigned long r = ((unsigned long)random() << 16) ^ (unsigned long)random();
	snprintf(out, FILE_TMP_NAME_MAX, ".tmp-%ld-%lu-%lx", (long)getpid(), ++counter, r);
}

/* Creates the file that receives the bytes: anonymous when possible, so a
 * crash leaves nothing at all; else a named temporary file. */
static int open_tmp(struct store_file *f, int dir, char name[FILE_TMP_NAME_MAX], bool *named)
{
#ifdef O_TMPFILE
	if (f->tmpfile_ok) {
		int fd = openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640);
		if (fd >= 0) {
			*named = false;
			return fd;
		}
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return -1;
		f->tmpfile_ok = false;
	}
#else
	f->tmpfile_ok = false;
#endif
	tmp_name(name);
	*named = true;
	return openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
}

static void set_xattr(int fd, const char *key, const char *name, const char *value)
{
	if (fsetxattr(fd, name, value, strlen(value), 0) != 0 && errno != ENOTSUP)
		log_debug("store file put %s: cannot set %s: %s", key, name, strerror(errno));
}

static enum err file_put(struct store *s, const char *key, const char *content_type,
                         store_read_fn *read_fn, void *arg, long long max_size,
                         struct store_info *out)
{
	struct store_file *f = sf(s);
	enum err e = ERR_INTERNAL;
	int dir = -1, fd = -1;
	bool named = false;
	char tmp[FILE_TMP_NAME_MAX] = "";
	const char *base = NULL;
	char *chunk = xmalloc(STORE_CHUNK);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		abort();

	for (int attempt = 0; attempt < FILE_RETRIES; attempt++) {
		dir = open_parent(f, key, true, &base);
		if (dir >= 0)
			fd = open_tmp(f, dir, tmp, &named);
		if (dir >= 0 && fd >= 0)
			break;
		/* ENOENT: a delete removed a fresh, empty directory under us. */
		int saved = errno;
		if (dir >= 0)
			close(dir);
		dir = -1;
		if (saved != ENOENT || attempt + 1 == FILE_RETRIES) {
			log_error("store file put %s: cannot create: %s", key, strerror(saved));
			e = saved == ENOTDIR || saved == EEXIST ? ERR_CONFLICT : errno_error(saved);
			goto out;
		}
	}

	long long total = 0;
	for (;;) {
		ssize_t n = read_fn(arg, chunk, STORE_CHUNK);
		if (n < 0) {
			log_warn("store file put %s: the source failed after %lld bytes", key,
			         total);
			e = ERR_INVALID;
			goto out;
		}
		if (n == 0)
			break;
		total += n;
		if (total > max_size) {
			log_warn("store file put %s: over the limit of %lld bytes", key, max_size);
			e = ERR_TOO_LARGE;
			goto out;
		}
		if (!EVP_DigestUpdate(md, chunk, (size_t)n))
			abort();
		if (!fd_write_all(fd, chunk, (size_t)n)) {
			log_error("store file put %s: write: %s", key, strerror(errno));
			e = errno_error(errno);
			goto out;
		}
	}
	unsigned char digest[32];
	unsigned int dlen = 0;
	if (!EVP_DigestFinal_ex(md, digest, &dlen))
		abort();
	for (unsigned i = 0; i < 32; i++)
		snprintf(out->sha256 + 2 * i, 3, "%02x", digest[i]);
	out->size = total;
	snprintf(out->content_type, sizeof(out->content_type), "%s",
	         content_type ? content_type : "");
	set_xattr(fd, key, XATTR_SHA256, out->sha256);
	if (content_type && *content_type)
		set_xattr(fd, key, XATTR_TYPE, content_type);
	if (fsync(fd) != 0) {
		log_error("store file put %s: fsync: %s", key, strerror(errno));
		e = errno_error(errno);
		goto out;
	}
	if (!named) {
		/* Give the anonymous file a temporary name, then rename it over the key. */
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		for (int attempt = 0;; attempt++) {
			tmp_name(tmp);
			if (linkat(AT_FDCWD, proc, dir, tmp, AT_SYMLINK_FOLLOW) == 0)
				break;
			if (errno == ENOENT && attempt < FILE_RETRIES) {
				/* A delete removed the (still empty) directory: make it again. */
				int again = open_parent(f, key, true, &base);
				if (again >= 0) {
					close(dir);
					dir = again;
					continue;
				}
			}
			if (errno != EEXIST || attempt >= FILE_RETRIES) {
				log_error("store file put %s: link: %s", key, strerror(errno));
				e = errno_error(errno);
				goto out;
			}
		}
		named = true;
	}
	if (renameat(dir, tmp, dir, base) != 0) {
		log_error("store file put %s: rename: %s", key, strerror(errno));
		e = errno_error(errno);
		goto out;
	}
	named = false;
	if (fsync_dir(dir) != 0) {
		log_error("store file put %s: fsync of the directory: %s", key, strerror(errno));
		e = errno_error(errno);
		goto out;
	}
	e = ERR_OK;
out:
	if (fd >= 0)
		close(fd);
	if (named && dir >= 0)
		unlinkat(dir, tmp, 0);
	if (dir >= 0)
		close(dir);
	EVP_MD_CTX_free(md);
	free(chunk);
	return e;
}

/* Opens key's file for reading; ERR_NOT_FOUND when absent. */
static enum err open_object(struct store_file *f, const char *op, const char *key, int *out_fd,
                            struct stat *st)
{
	const char *base = NULL;
	int dir = open_parent(f, key, false, &base);
	int fd = -1;
	if (dir >= 0) {
		fd = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;
		close(dir);
		errno = saved;
	}
	if (fd < 0) {
		enum err e = errno_error(errno);
		if (errno == ELOOP || errno == EISDIR || e == ERR_CONFLICT)
			e = ERR_NOT_FOUND; /* a directory or a symlink is not an object */
		if (e != ERR_NOT_FOUND)
			log_error("store file %s %s: open: %s", op, key, strerror(errno));
		return e;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return ERR_NOT_FOUND;
	}
	*out_fd = fd;
	return ERR_OK;
}

static enum err file_get(struct store *s, const char *key, store_write_fn *write_fn, void *arg)
{
	int fd = -1;
	struct stat st;
	enum err e = open_object(sf(s), "get", key, &fd, &st);
	if (e)
		return e;
	char *chunk = xmalloc(STORE_CHUNK);
	for (;;) {
		ssize_t n = read(fd, chunk, STORE_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("store file get %s: read: %s", key, strerror(errno));
			e = errno_error(errno);
			break;
		}
		if (n == 0)
			break;
		e = write_fn(arg, chunk, (size_t)n);
		if (e)
			break;
	}
	free(chunk);
	close(fd);
	return e;
}

static enum err file_stat(struct store *s, const char *key, struct store_info *out)
{
	int fd = -1;
	struct stat st;
	enum err e = open_object(sf(s), "stat", key, &fd, &st);
	if (e)
		return e;
	out->size = (long long)st.st_size;
	ssize_t n = fgetxattr(fd, XATTR_SHA256, out->sha256, sizeof(out->sha256) - 1);
	out->sha256[n == AWS_SHA256_HEX_LEN ? n : 0] = '\0';
	n = fgetxattr(fd, XATTR_TYPE, out->content_type, sizeof(out->content_type) - 1);
	out->content_type[n > 0 ? n : 0] = '\0';
	close(fd);
	return ERR_OK;
}

static enum err file_delete(struct store *s, const char *key)
{
	struct store_file *f = sf(s);
	if (unlinkat(f->root_fd, key, 0) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ERR_OK;
		log_error("store file delete %s: %s", key, strerror(errno));
		return errno == EISDIR ? ERR_NOT_FOUND : errno_error(errno);
	}
	/* Remove directories the object leaves empty, deepest first. */
	char path[STORE_KEY_MAX + 1];
	snprintf(path, sizeof(path), "%s", key);
	for (char *slash = strrchr(path, '/'); slash; slash = strrchr(path, '/')) {
		*slash = '\0';
		if (unlinkat(f->root_fd, path, AT_REMOVEDIR) != 0)
			break; /* not empty (or raced by a put): it stays */
	}
	return ERR_OK;
}

struct list_entry {
	char *key;
	long long size;
};

struct list_state {
	const char *prefix;
	size_t prefix_len;
	struct list_entry *items;
	size_t count, cap;
	bool overflow;
};

static int list_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct list_entry *)a)->key, ((const struct list_entry *)b)->key);
}

/* Walks the directory dir (its path is path, "" or ending in '/'); closes dir. */
static int list_walk(int dir, const char *path, struct list_state *ls, int depth)
{
	DIR *d = fdopendir(dir);
	if (!d) {
		close(dir);
		return -1;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* ".", "..", temporary files */
		char full[STORE_KEY_MAX + 2];
		int n = snprintf(full, sizeof(full), "%s%s", path, de->d_name);
		if (n < 0 || (size_t)n > STORE_KEY_MAX)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* deleted meanwhile */
		if (S_ISDIR(st.st_mode)) {
			if (depth + 1 >= STORE_DEPTH_MAX)
				continue;
			full[n] = '/';
			full[n + 1] = '\0';
			size_t flen = (size_t)n + 1;
			/* Enter only directories that can hold keys with the prefix. */
			size_t cmp = flen < ls->prefix_len ? flen : ls->prefix_len;
			if (strncmp(full, ls->prefix, cmp) != 0)
				continue;
			int sub = openat(dirfd(d), de->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			if (list_walk(sub, full, ls, depth + 1) != 0) {
				rc = -1;
				break;
			}
		} else if (S_ISREG(st.st_mode) && strncmp(full, ls->prefix, ls->prefix_len) == 0 &&
		           store_key_check(full) == ERR_OK) {
			if (ls->count >= FILE_LIST_MAX) {
				ls->overflow = true;
				break;
			}
			if (ls->count == ls->cap) {
				ls->cap = ls->cap ? ls->cap * 2 : 64;
				ls->items = xrealloc(ls->items, ls->cap * sizeof(*ls->items));
			}
			ls->items[ls->count].key = xstrdup(full);
			ls->items[ls->count].size = (long long)st.st_size;
			ls->count++;
		}
	}
	closedir(d);
	return rc;
}

static enum err file_list(struct store *s, const char *prefix, store_list_fn *fn, void *arg)
{
	struct store_file *f = sf(s);
	struct list_state ls = {.prefix = prefix, .prefix_len = strlen(prefix)};
	/* Start in the deepest directory the prefix names completely. */
	char dir_path[STORE_KEY_MAX + 1];
	snprintf(dir_path, sizeof(dir_path), "%s", prefix);
	char *slash = strrchr(dir_path, '/');
	enum err e = ERR_OK;
	int dir;
	if (slash) {
		slash[1] = '\0';
		const char *base = NULL;
		char probe[STORE_KEY_MAX + 2];
		snprintf(probe, sizeof(probe), "%sx",
		         dir_path); /* open_parent wants a last segment */
		dir = open_parent(f, probe, false, &base);
	} else {
		dir_path[0] = '\0';
		dir = dup(f->root_fd);
	}
	if (dir < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ERR_OK;
		log_error("store file list %s: %s", prefix, strerror(errno));
		return errno_error(errno);
	}
	if (list_walk(dir, dir_path, &ls, 0) != 0) {
		log_error("store file list %s: %s", prefix, strerror(errno));
		e = errno_error(errno);
	} else if (ls.overflow) {
		log_error("store file list %s: over %d keys", prefix, FILE_LIST_MAX);
		e = ERR_TOO_LARGE;
	}
	if (!e) {
		if (ls.count)
			qsort(ls.items, ls.count, sizeof(*ls.items), list_entry_cmp);
		for (size_t i = 0; i < ls.count; i++)
			if (!fn(arg, ls.items[i].key, ls.items[i].size))
				break;
	}
	for (size_t i = 0; i < ls.count; i++)
		free(ls.items[i].key);
	free(ls.items);
	return e;
}

static enum err file_download(struct store *s, const char *key, const char *content_type,
                              const char *disposition, struct pool *pool,
                              struct store_download *out)
{
	/* nginx keeps the handler's own Content-Type and Content-Disposition. */
	(void)content_type;
	(void)disposition;
	/* Key bytes are all URI-safe, so the key goes into the URI as it is. */
	out->kind = STORE_DOWNLOAD_ACCEL;
	out->location = pool_printf(pool, "%s%s", s->cfg.accel_prefix, key);
	out->expires_seconds = 0;
	return ERR_OK;
}

static void file_free(struct store *s)
{
	close(sf(s)->root_fd);
	free(s);
}

static const struct store_ops file_ops = {
    .put = file_put,
    .get = file_get,
    .stat = file_stat,
    .del = file_delete,
    .list = file_list,
    .download = file_download,
    .free = file_free,
};

enum err store_file_open(const struct store_config *cfg, struct store **out)
{
	if (mkdir(cfg->root, 0750) != 0 && errno != EEXIST) {
		log_error("store file: cannot create the root %s: %s", cfg->root, strerror(errno));
		return errno_error(errno);
	}
	int fd = open(cfg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		log_error("store file: cannot open the root %s: %s", cfg->root, strerror(errno));
		return errno_error(errno);
	}
	struct store_file *f = xcalloc(1, sizeof(*f));
	f->base.ops = &file_ops;
	f->base.cfg = *cfg;
	f->root_fd = fd;
	f->tmpfile_ok = true;
	*out = &f->base;
	return ERR_OK;
}
