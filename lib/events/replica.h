/* replica: a service's copy of the learner's documents, from events.
 *
 * Services share data only through events (docs/api.md, "Events"): quiz and
 * chat learn a document's text from document.processed, which carries it in
 * chunks (index, count) that may arrive in any order and more than once,
 * and forget it on document.deleted. Declaring replica_handlers among a
 * service's consumers keeps sql/common/002-document-replica.sql's tables up
 * to date, exactly once per event (lib/events/consumer.h):
 *   - a chunk is stored once (a repeat is ignored); when the last of its
 *     count is in, the text is joined in index order into document_replica
 *     and the chunks are dropped;
 *   - a failed document is recorded with its status and no text;
 *   - a deletion leaves a tombstone, so later or replayed events of that
 *     document are ignored and it never comes back.
 * A service that builds more from the text (chat's passages) passes hooks,
 * called in the same transaction as the change. */
#ifndef LECTERN_REPLICA_H
#define LECTERN_REPLICA_H

#include <stdbool.h>

#include "core/err.h"
#include "core/mem.h"
#include "data/db.h"
#include "events/consumer.h"

enum {
	REPLICA_CHUNKS_MAX = 4096 /* chunks of one document (4096 x 128 KiB = 512 MiB) */
};

/* A document as the replica holds it; strings owned by the pool given. */
struct replica_doc {
	const char *id;
	const char *user_id;
	const char *filename;
	const char *file_type;
	const char *status; /* "processed" or "failed" */
	long pages;
	const char *text; /* "" for a failed document */
	size_t text_len;
};

/* What a service does beyond the copy, in the consumer's transaction; either
 * may be NULL. An error rolls the whole event back (and it is retried). */
struct replica_hooks {
	enum err (*complete)(struct db *db, const struct replica_doc *doc, void *arg);
	enum err (*deleted)(struct db *db, const char *document_id, const char *user_id, void *arg);
	void *arg;
};

/* Applies document.processed (arg: const struct replica_hooks *, or NULL). */
enum err replica_apply_processed(struct db *db, const struct event *ev, void *arg);
/* Applies document.deleted (arg: const struct replica_hooks *, or NULL). */
enum err replica_apply_deleted(struct db *db, const struct event *ev, void *arg);

/* The two handlers, with no hooks, to list among a service's consumers. */
#define REPLICA_HANDLERS(hooks)                                                                    \
	{"document.processed", replica_apply_processed, (void *)(hooks)},                          \
	{                                                                                          \
		"document.deleted", replica_apply_deleted, (void *)(hooks)                         \
	}

/* Loads document id if user_id owns it, it is processed and not deleted:
 * ERR_NOT_FOUND otherwise (a foreign, missing, failed or deleted document
 * answer alike). */
enum err replica_load(struct db *db, struct pool *pool, const char *id, const char *user_id,
                      struct replica_doc *out) MUST_CHECK;

#endif
