-- jobs.owner: whose job it is (a user id), so that workers share their time
-- fairly among users and each user's queue can be bounded (lib/events/job.c).
-- NULL for jobs nobody owns (system work); those form one group of their own.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS owner text;
-- The unfinished jobs of each owner in order: counted by every job_add under
-- a bound, and walked by the claim (owner by owner, the first few each).
CREATE INDEX IF NOT EXISTS jobs_owner_open ON jobs (owner, run_after, id)
	WHERE state IN ('queued', 'running');
-- When each owner last had a job started: the claim serves the owner who
-- has waited longest since (round robin among owners, '' for no owner).
CREATE TABLE IF NOT EXISTS job_owners (
	owner text PRIMARY KEY,
	last_started timestamptz NOT NULL
);
