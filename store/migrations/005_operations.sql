-- Operations the dashboard started, from the intent on: a row is written
-- before the cloud is called (state 'pending', with its idempotency key),
-- gets the cloud's operation id when the call answers ('running'), and
-- ends 'done', 'failed' or 'lost'. The watcher polls the open ones when
-- next_poll_at comes; start-up re-sends the pending ones with the same key.
-- Times are INTEGER unix milliseconds, as in 001.
CREATE TABLE operations (
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
	state             TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'lost')),
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
	cloud_modified_at INTEGER NOT NULL DEFAULT 0
) STRICT;

-- The watcher's queue: open operations by when they are due.
CREATE INDEX operations_open ON operations (next_poll_at) WHERE state IN ('pending', 'running');
-- An image's operations (badges, the detail page's history).
CREATE INDEX operations_image ON operations (service, image_id);
-- The monitor's filters; each ends with the rowid, so "newest first" is an index walk.
CREATE INDEX operations_state ON operations (state);
CREATE INDEX operations_user ON operations (username);
CREATE INDEX operations_folder ON operations (folder_id);
CREATE INDEX operations_batch ON operations (batch_id) WHERE batch_id != '';
