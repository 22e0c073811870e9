-- tts: the learner's syntheses (the audio itself is in the object store
-- under tts/<user>/<id>/) and a copy of their documents' notes from
-- notes.generated (document text comes from sql/common's document replica).
-- Every query names the owner: another user's id finds nothing (404).

CREATE TABLE audio (
	id uuid PRIMARY KEY,
	task_id uuid NOT NULL,
	user_id text NOT NULL,
	request_key text NOT NULL,        -- SHA-256 of voice, format, speed and text: the cache
	voice_id text NOT NULL,
	format text NOT NULL CHECK (format IN ('mp3', 'wav', 'ogg')),
	speed real NOT NULL,
	characters integer NOT NULL,
	duration_ms bigint NOT NULL,
	sample_rate integer NOT NULL,
	size bigint NOT NULL,
	storage_key text NOT NULL,
	text_preview text NOT NULL,       -- the first 200 characters, for the library
	document_id uuid,                 -- set when a document was read aloud
	part text,
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (user_id, request_key)
);
CREATE INDEX audio_by_user ON audio (user_id, created_at DESC, id DESC);

-- The latest notes of each document, from notes.generated (idempotent: an
-- older or repeated event never replaces newer notes).
CREATE TABLE notes_replica (
	document_id uuid PRIMARY KEY,
	note_id uuid NOT NULL,
	user_id text NOT NULL,
	content text NOT NULL,            -- Markdown
	summary text NOT NULL DEFAULT '',
	received_at timestamptz NOT NULL DEFAULT now()
);
