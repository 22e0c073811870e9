-- documents: uploaded files, their extracted text and their study notes.
-- Every row belongs to one user; every query names the owner, so another
-- user's id finds nothing (404, exactly as a missing one).

CREATE TABLE documents (
	id uuid PRIMARY KEY,
	user_id uuid NOT NULL,
	filename text NOT NULL,                  -- display name only (valid_display_filename), never a path
	file_type text NOT NULL CHECK (file_type IN ('pdf', 'docx', 'txt', 'md', 'png', 'jpg')),
	content_type text NOT NULL,
	file_size bigint NOT NULL CHECK (file_size >= 0),
	sha256 text NOT NULL,
	storage_key text NOT NULL,               -- the object's key in lib/store
	status text NOT NULL DEFAULT 'uploaded'
		CHECK (status IN ('uploaded', 'processing', 'processed', 'failed')),
	error text,                              -- why processing failed, for the user
	pages integer,
	title text,
	author text,
	engine text,                             -- the extraction engine that read it
	content text,                            -- the extracted text
	summary text,                            -- short plain-text summary of the latest notes
	notes_generated boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_by_user ON documents (user_id, created_at DESC, id DESC);

CREATE TABLE notes (
	id uuid PRIMARY KEY,
	document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
	user_id uuid NOT NULL,
	content text NOT NULL,                   -- Markdown
	summary text NOT NULL DEFAULT '',
	generator text NOT NULL,                 -- "extractive" or "llm:<model>"
	created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX notes_by_document ON notes (document_id, created_at DESC, id DESC);
