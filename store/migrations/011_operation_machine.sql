-- Operations become a guarded state machine (docs/operations.md):
--
--   pending (intent) → sending → running (sent, cloud id known)
--                                  → done | failed | cancelled | lost
--
-- The state names of 005 keep their meaning ('pending' is the intent,
-- 'running' is sent, 'done' is succeeded), so code that reads them still
-- reads them right; 'sending' (the lease holder is calling the cloud) and
-- 'cancelled' are new. SQLite cannot alter a CHECK, so the table is
-- rebuilt, rows copied, and the indexes of 005-007 made again with the
-- open set now ('pending', 'sending', 'running').
--
-- version: bumped by every transition; a write names the version it read
--   (UPDATE … WHERE id = ? AND state = ? AND version = ?), so of two
--   writers that read the same row, the second changes nothing.
-- claimed_until, claimed_by: the lease of the watcher working on the row
--   (unix ms, and which watcher); another may take it only once it expired.
-- cancel_requested: 0 none, 1 asked by a person, 2 sent to the cloud.
CREATE TABLE operations_new (
	id                INTEGER PRIMARY KEY,
	idempotency_key   TEXT    NOT NULL UNIQUE,
	batch_id          TEXT    NOT NULL DEFAULT '',
	action            TEXT    NOT NULL,
	service           TEXT    NOT NULL,
	folder_id         TEXT    NOT NULL,
	image_id          TEXT    NOT NULL DEFAULT '',
	image_name        TEXT    NOT NULL DEFAULT '',
	source_service    TEXT    NOT NULL DEFAULT '',
	source_id         TEXT    NOT NULL DEFAULT '',
	request           BLOB    NOT NULL,
	user_id           INTEGER,
	username          TEXT    NOT NULL DEFAULT '' COLLATE NOCASE,
	state             TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'running', 'done', 'failed', 'cancelled', 'lost')),
	cloud_id          TEXT    NOT NULL DEFAULT '',
	error_code        TEXT    NOT NULL DEFAULT '',
	error_message     TEXT    NOT NULL DEFAULT '',
	attempts          INTEGER NOT NULL DEFAULT 0,
	polls             INTEGER NOT NULL DEFAULT 0,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	done_at           INTEGER NOT NULL DEFAULT 0,
	next_poll_at      INTEGER NOT NULL DEFAULT 0,
	poll_every_ms     INTEGER NOT NULL DEFAULT 0,
	cloud_modified_at INTEGER NOT NULL DEFAULT 0,
	version           INTEGER NOT NULL DEFAULT 0,
	claimed_until     INTEGER NOT NULL DEFAULT 0,
	claimed_by        TEXT    NOT NULL DEFAULT '',
	cancel_requested  INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1, 2))
) STRICT;

INSERT INTO operations_new
	(id, idempotency_key, batch_id, action, service, folder_id, image_id, image_name, source_service, source_id,
	 request, user_id, username, state, cloud_id, error_code, error_message, attempts, polls, created_at,
	 updated_at, done_at, next_poll_at, poll_every_ms, cloud_modified_at)
SELECT id, idempotency_key, batch_id, action, service, folder_id, image_id, image_name, source_service, source_id,
	 request, user_id, username, state, cloud_id, error_code, error_message, attempts, polls, created_at,
	 updated_at, done_at, next_poll_at, poll_every_ms, cloud_modified_at
FROM operations;

DROP TABLE operations;
ALTER TABLE operations_new RENAME TO operations;

-- 005: the watcher's queue, an image's operations, the monitor's filters.
CREATE INDEX operations_open ON operations (next_poll_at) WHERE state IN ('pending', 'sending', 'running');
CREATE INDEX operations_image ON operations (service, image_id);
CREATE INDEX operations_state ON operations (state);
CREATE INDEX operations_user ON operations (username);
CREATE INDEX operations_folder ON operations (folder_id);
CREATE INDEX operations_batch ON operations (batch_id) WHERE batch_id != '';
-- 006: the open operations newest first.
CREATE INDEX operations_open_id ON operations (id) WHERE state IN ('pending', 'sending', 'running');
-- 007: one person's open operations, for the per-person limit.
CREATE INDEX operations_user_open ON operations (user_id) WHERE state IN ('pending', 'sending', 'running');
-- The watcher's cancels to send: few, looked up every step.
CREATE INDEX operations_cancel ON operations (id) WHERE cancel_requested = 1 AND state IN ('pending', 'sending', 'running');

-- The second guard (the first is the conditional UPDATE): an operation that
-- ended stays ended, whoever writes.
CREATE TRIGGER operations_terminal BEFORE UPDATE OF state ON operations
WHEN OLD.state IN ('done', 'failed', 'cancelled', 'lost') AND NEW.state IS NOT OLD.state
BEGIN
	SELECT RAISE(ABORT, 'operation already finished');
END;
