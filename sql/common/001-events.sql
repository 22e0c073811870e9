-- events: the tables of lib/events/outbox.c, consumer.c and job.c.
--
-- sql/common holds what every service database shares: the migration runner
-- (lib/data/migrate.c) applies these files to each service's database before
-- its own, kept in schema_migrations_common, so no service copies them. Every
-- statement is idempotent (IF NOT EXISTS): a database that got these tables
-- from an older per-service copy takes this file without change.

-- Events waiting to be published (and, until pruned, those published).
-- The relay publishes unsent rows in id order and sets sent_at only after the
-- broker acknowledged the message.
CREATE TABLE IF NOT EXISTS outbox (
	id bigserial PRIMARY KEY,
	event_id uuid NOT NULL UNIQUE,
	topic text NOT NULL,
	msg_key text NOT NULL,
	body text NOT NULL,                  -- the envelope, exactly as published
	created_at timestamptz NOT NULL DEFAULT now(),
	sent_at timestamptz,
	attempts integer NOT NULL DEFAULT 0, -- failed publications
	last_error text
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Events this database applied, recorded in the transaction of their effect:
-- a redelivered event finds its row and is skipped.
CREATE TABLE IF NOT EXISTS processed_events (
	event_id uuid PRIMARY KEY,
	topic text NOT NULL,
	processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS processed_events_at ON processed_events (processed_at);

-- Slow work for the service's worker.
CREATE TABLE IF NOT EXISTS jobs (
	id uuid PRIMARY KEY,
	kind text NOT NULL,
	state text NOT NULL DEFAULT 'queued'
		CHECK (state IN ('queued', 'running', 'completed', 'failed')),
	attempts integer NOT NULL DEFAULT 0,     -- runs started; also the lease's fencing token
	max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
	run_after timestamptz NOT NULL DEFAULT now(),
	lease_until timestamptz,                 -- a running job whose lease passed is taken again
	worker text,
	progress smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
	input jsonb NOT NULL DEFAULT '{}',
	result jsonb,
	error text,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	started_at timestamptz,
	finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS jobs_queued ON jobs (run_after) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_running ON jobs (lease_until) WHERE state = 'running';
