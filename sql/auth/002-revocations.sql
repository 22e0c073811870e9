-- Revoked access tokens: the durable record behind the gate's Redis cache
-- ("revoked:<jti>"). A logout, and a reused refresh token (for every
-- access token of its family), add rows; the gate rebuilds the cache from
-- the unexpired rows whenever Redis comes back without them. Rows are of
-- no use once the token would have expired anyway and are pruned then.
CREATE TABLE revoked_tokens (
	jti uuid PRIMARY KEY,
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);

-- The access token issued with each refresh token, so that ending a family
-- can end its access tokens too.
ALTER TABLE refresh_tokens
	ADD COLUMN access_jti uuid,
	ADD COLUMN access_expires_at timestamptz;
