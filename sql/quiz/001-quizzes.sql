-- quiz: generated quizzes and the learner's attempts at them. Every row
-- belongs to one user; every query names the owner, so another user's id
-- finds nothing (404, exactly as a missing one). Documents come from the
-- replica (sql/common/002-document-replica.sql), never from the documents
-- service's database.

CREATE TABLE quizzes (
	id uuid PRIMARY KEY,
	user_id uuid NOT NULL,
	document_id uuid,                        -- NULL for a quiz from an uploaded file
	source_filename text,                    -- display name of that file
	title text NOT NULL,
	difficulty text NOT NULL CHECK (difficulty IN ('easy', 'medium', 'hard')),
	types text[] NOT NULL,
	num_questions integer NOT NULL CHECK (num_questions BETWEEN 1 AND 50),
	generator text NOT NULL DEFAULT 'extractive',
	-- The questions as the owner gets them (answers and explanations
	-- included); GET without include_answers strips them.
	questions jsonb NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quizzes_by_user ON quizzes (user_id, created_at DESC, id DESC);

CREATE TABLE submissions (
	id uuid PRIMARY KEY,
	quiz_id uuid NOT NULL REFERENCES quizzes (id) ON DELETE CASCADE,
	user_id uuid NOT NULL,
	score integer NOT NULL CHECK (score >= 0),
	max_score integer NOT NULL CHECK (max_score > 0),
	percentage numeric(5, 2) NOT NULL CHECK (percentage BETWEEN 0 AND 100),
	answers jsonb NOT NULL,                  -- what was sent, by 1-based position
	results jsonb NOT NULL,                  -- the graded results as answered
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX submissions_by_quiz ON submissions (quiz_id, created_at DESC, id DESC);
