-- stt: transcriptions of uploaded audio. Every row belongs to one user;
-- every query names the owner, so another user's id finds nothing (404).

CREATE TABLE transcriptions (
	id uuid PRIMARY KEY,
	user_id uuid NOT NULL,
	status text NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'processing', 'completed', 'failed')),
	language text NOT NULL,
	format text NOT NULL,                    -- the container detected from the bytes
	content_type text NOT NULL,
	file_size bigint NOT NULL CHECK (file_size >= 0),
	storage_key text,                        -- the audio in lib/store; NULL once removed
	text text,
	confidence double precision CHECK (confidence BETWEEN 0 AND 1),
	duration_seconds double precision,
	words jsonb,                             -- [{word, start, end, confidence}]
	engine text,
	error text,                              -- why it failed, for the user
	created_at timestamptz NOT NULL DEFAULT now(),
	completed_at timestamptz
);
CREATE INDEX transcriptions_by_user ON transcriptions (user_id, created_at DESC, id DESC);
-- The retention sweep finds audio still stored by age.
CREATE INDEX transcriptions_audio_age ON transcriptions (created_at) WHERE storage_key IS NOT NULL;
