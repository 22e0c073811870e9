-- document replica: a service's own copy of the learner's documents, kept
-- from document.processed and document.deleted by lib/events/replica.c
-- (quiz and chat read document text only from here: services share data only
-- through events). Every statement is idempotent (IF NOT EXISTS).

-- One row per document the service has heard of. A deleted document keeps
-- its row as a tombstone (deleted_at set, text gone), so a late or replayed
-- document.processed never brings it back.
CREATE TABLE IF NOT EXISTS document_replica (
	document_id uuid PRIMARY KEY,
	user_id text NOT NULL,
	filename text NOT NULL DEFAULT '',
	file_type text NOT NULL DEFAULT '',
	status text NOT NULL,                -- processed | failed
	pages integer NOT NULL DEFAULT 0,
	text text,                           -- whole, once every chunk arrived
	updated_at timestamptz NOT NULL DEFAULT now(),
	deleted_at timestamptz
);
CREATE INDEX IF NOT EXISTS document_replica_user ON document_replica (user_id)
	WHERE deleted_at IS NULL;

-- Chunks of a document.processed text until all of its count have arrived
-- (in any order, any number of times); then joined into document_replica.
CREATE TABLE IF NOT EXISTS document_replica_chunks (
	document_id uuid NOT NULL,
	idx integer NOT NULL,
	count integer NOT NULL,
	text text NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (document_id, idx)
);
