-- chat: passages of the learner's documents, indexed for full-text search,
-- and the chat sessions with their messages (docs/api.md, "Chat").
--
-- document_replica (sql/common) holds each document's text; passages are
-- built from it in the same transaction by fcgi/chat/passages.c, and dropped
-- with it on document.deleted.

-- One to three paragraphs under one heading, with where they come from.
-- config is the text search configuration of the document's language
-- ('english', 'french', ..., 'simple' when unknown); tsv weighs the section
-- path as A and the text as D, so a heading match ranks higher.
CREATE TABLE passages (
	document_id uuid NOT NULL,
	ord integer NOT NULL,                -- the passage's place in its document
	user_id text NOT NULL,
	config text NOT NULL,
	section text NOT NULL DEFAULT '',    -- "Chapter 2 > Light reactions"
	page integer NOT NULL DEFAULT 1,
	text text NOT NULL,
	tsv tsvector NOT NULL,
	PRIMARY KEY (document_id, ord)
);
-- One GIN index on the owner and the words: a search reads only the owner's
-- postings (btree_gin lets a GIN index take the text column).
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX passages_search ON passages USING gin (user_id, tsv);

-- The documents that have passages, with their configuration: the
-- configurations a search must parse the question with.
CREATE TABLE passage_documents (
	document_id uuid PRIMARY KEY,
	user_id text NOT NULL,
	config text NOT NULL,
	passages integer NOT NULL
);
CREATE INDEX passage_documents_user ON passage_documents (user_id, config);

CREATE TABLE sessions (
	id uuid PRIMARY KEY,
	user_id text NOT NULL,
	title text NOT NULL,
	title_auto boolean NOT NULL DEFAULT false, -- set from the first question
	document_ids uuid[] NOT NULL DEFAULT '{}',
	message_count integer NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user ON sessions (user_id, updated_at DESC);

CREATE TABLE messages (
	id uuid PRIMARY KEY,
	session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	seq bigserial,                       -- order within the session (ties of created_at)
	role text NOT NULL CHECK (role IN ('user', 'assistant')),
	content text NOT NULL,
	sources jsonb NOT NULL DEFAULT '[]',
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_session ON messages (session_id, seq);
