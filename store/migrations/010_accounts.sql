-- Accounts (issue 15): revocation that is final, sessions a person can see,
-- and an audit log that a flood cannot grow without bound.

-- sessions_gen moves each time a user's sessions are revoked (end sessions,
-- password reset, disable). A session row is created only while the gen
-- its sign-in read is still the user's, and updated only while its
-- user_gen is: a request that loaded a session before the revocation can
-- never write it back.
ALTER TABLE users ADD COLUMN sessions_gen INTEGER NOT NULL DEFAULT 0;

ALTER TABLE sessions ADD COLUMN user_gen   INTEGER NOT NULL DEFAULT 0;
-- Where and with what a session signed in (shown to its owner).
ALTER TABLE sessions ADD COLUMN user_agent TEXT    NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN ip         TEXT    NOT NULL DEFAULT '';

CREATE INDEX sessions_user_created ON sessions (user_id, created_at) WHERE user_id IS NOT NULL;
DROP INDEX sessions_user;

-- Repeated refusals (a locked-out address that keeps posting) are one row
-- per key and window: agg_key names what is counted (NULL: an ordinary
-- entry), count how many times it happened, last_at the last time.
ALTER TABLE audit_log ADD COLUMN agg_key TEXT;
ALTER TABLE audit_log ADD COLUMN count   INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1);
ALTER TABLE audit_log ADD COLUMN last_at INTEGER; -- NULL: at

CREATE INDEX audit_log_agg ON audit_log (agg_key, at) WHERE agg_key IS NOT NULL;

-- Still append-only in spirit: an UPDATE may only raise an aggregate row's
-- count and move its last_at forward; nothing else of an entry changes.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.agg_key IS NULL
	OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.user_id IS NOT OLD.user_id
	OR NEW.username IS NOT OLD.username OR NEW.ip IS NOT OLD.ip OR NEW.action IS NOT OLD.action
	OR NEW.target_kind IS NOT OLD.target_kind OR NEW.target_id IS NOT OLD.target_id
	OR NEW.operation_id IS NOT OLD.operation_id OR NEW.outcome IS NOT OLD.outcome
	OR NEW.detail IS NOT OLD.detail OR NEW.agg_key IS NOT OLD.agg_key
	OR NEW.count <= OLD.count OR NEW.last_at IS NULL OR NEW.last_at < coalesce(OLD.last_at, OLD.at)
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only: only an aggregate row''s count may grow');
END;

-- Retention: only entries whose last time is more than 30 days ago (the
-- shortest retention allowed) may be deleted.
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN coalesce(OLD.last_at, OLD.at) > (unixepoch('now') - 30 * 86400) * 1000
BEGIN
	SELECT RAISE(ABORT, 'audit_log keeps every entry of the last 30 days');
END;
