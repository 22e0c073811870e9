-- quiz: generation requests that run as a job (many questions, a long
-- text, or a model behind LECTERN_LLM_*). The request's id is the quiz's
-- id, so GET /{id} finds the request until the worker has made the quiz.
CREATE TABLE quiz_requests (
	id uuid PRIMARY KEY,
	user_id uuid NOT NULL,
	document_id uuid,                        -- NULL for a quiz from an uploaded file
	source_filename text,
	title text NOT NULL,
	difficulty text NOT NULL CHECK (difficulty IN ('easy', 'medium', 'hard')),
	types text[] NOT NULL,
	num_questions integer NOT NULL CHECK (num_questions BETWEEN 1 AND 50),
	pages integer NOT NULL DEFAULT 1,
	-- An uploaded file's text, until the job has run; a document's text is
	-- read from the replica when the job runs (a deleted document then
	-- fails the request).
	text text,
	job_id uuid NOT NULL,
	status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'completed', 'failed')),
	error text,                              -- why it failed, for the learner
	error_status integer,                    -- and the HTTP status that says so (404, 422)
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quiz_requests_by_user ON quiz_requests (user_id, created_at DESC);
