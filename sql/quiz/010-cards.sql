-- cards: flashcards scheduled with FSRS (lib/text/fsrs.h), owned by the quiz
-- service. Every row belongs to one user and every query names the owner,
-- so another user's card is not found (404, exactly as a missing one).

CREATE TABLE cards (
	id uuid PRIMARY KEY,
	user_id uuid NOT NULL,
	front text NOT NULL,
	back text NOT NULL,
	tags text[] NOT NULL DEFAULT '{}',
	-- The document it came from; NULL once that document is deleted (the
	-- card stays, the link goes: the replica's document.deleted hook).
	document_id uuid,
	source_sentence text,
	origin text NOT NULL CHECK (origin IN ('manual', 'document', 'quiz', 'import')),
	-- What a generated card was made from (a document's term or sentence,
	-- a quiz question), so making cards again never repeats one.
	origin_key text,
	state text NOT NULL DEFAULT 'new'
		CHECK (state IN ('new', 'learning', 'review', 'relearning')),
	stability double precision NOT NULL DEFAULT 0,
	difficulty double precision NOT NULL DEFAULT 0,
	due timestamptz NOT NULL DEFAULT now(),
	last_review timestamptz,
	reps integer NOT NULL DEFAULT 0,
	lapses integer NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX cards_origin ON cards (user_id, origin_key) WHERE origin_key IS NOT NULL;
CREATE INDEX cards_by_user ON cards (user_id, created_at DESC, id DESC);
-- GET /cards/due reads these two: cards seen before by due date, new cards
-- by age.
CREATE INDEX cards_due ON cards (user_id, due, id) WHERE state <> 'new';
CREATE INDEX cards_new ON cards (user_id, created_at, id) WHERE state = 'new';
CREATE INDEX cards_document ON cards (document_id) WHERE document_id IS NOT NULL;

-- Every review, kept when its card is deleted (the stats measure
-- retention and streaks from it).
CREATE TABLE card_reviews (
	id bigserial PRIMARY KEY,
	card_id uuid NOT NULL,
	user_id uuid NOT NULL,
	rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 4),
	state_before text NOT NULL,
	elapsed_days double precision NOT NULL,
	stability double precision NOT NULL,   -- after the review
	difficulty double precision NOT NULL,  -- after the review
	interval_days double precision NOT NULL,
	reviewed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX card_reviews_by_user ON card_reviews (user_id, reviewed_at);

-- A learner's scheduling settings; no row means the defaults.
CREATE TABLE card_settings (
	user_id uuid PRIMARY KEY,
	desired_retention numeric(3, 2) NOT NULL DEFAULT 0.90
		CHECK (desired_retention BETWEEN 0.70 AND 0.97),
	timezone text NOT NULL DEFAULT 'UTC',    -- an IANA name, for "today"
	new_per_day integer NOT NULL DEFAULT 20 CHECK (new_per_day BETWEEN 0 AND 9999),
	reviews_per_day integer NOT NULL DEFAULT 200 CHECK (reviews_per_day BETWEEN 0 AND 99999),
	updated_at timestamptz NOT NULL DEFAULT now()
);

-- A question answered wrong becomes a card in the same transaction as the
-- submission: front the question, back its right answer (and, for a
-- true/false question, the sentence that settles it). One card per
-- question, however often it is missed.
CREATE FUNCTION cards_from_submission() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO cards (id, user_id, front, back, tags, document_id, source_sentence,
	                   origin, origin_key)
	SELECT gen_random_uuid(), NEW.user_id, q->>'question_text',
	       CASE WHEN q->>'type' = 'short_answer' THEN q->>'correct_answer'
	            WHEN q->>'type' = 'true_false' THEN
	                 (q->'options'->>((q->>'correct_answer')::int)) || ': ' ||
	                 coalesce(q->>'source_sentence', '')
	            ELSE q->'options'->>((q->>'correct_answer')::int) END,
	       ARRAY['quiz'],
	       (SELECT d.document_id FROM document_replica d
	        WHERE d.document_id = z.document_id AND d.deleted_at IS NULL),
	       q->>'source_sentence', 'quiz',
	       'quiz:' || (q->>'question_id')
	FROM jsonb_array_elements(NEW.results) WITH ORDINALITY AS r(v, pos)
	JOIN quizzes z ON z.id = NEW.quiz_id
	-- results: right or wrong by position (true/false), or, in rows written
	-- before that, one object per question with its id and is_correct.
	CROSS JOIN LATERAL (SELECT z.questions->((CASE WHEN jsonb_typeof(r.v) = 'object'
	                    THEN (r.v->>'id')::int ELSE r.pos::int END) - 1) AS q) qq
	WHERE CASE jsonb_typeof(r.v) WHEN 'object' THEN (r.v->>'is_correct')::boolean IS FALSE
	                             WHEN 'boolean' THEN r.v = 'false'::jsonb
	                             ELSE false END
	  AND q IS NOT NULL
	  AND coalesce(q->>'question_text', '') <> ''
	ON CONFLICT (user_id, origin_key) WHERE origin_key IS NOT NULL DO NOTHING;
	RETURN NULL;
END
$$;
CREATE TRIGGER submissions_make_cards AFTER INSERT ON submissions
	FOR EACH ROW EXECUTE FUNCTION cards_from_submission();
