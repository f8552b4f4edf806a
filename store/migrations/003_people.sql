-- People: accounts, teams and their roles and folders, shared folders,
-- server-side sessions and the append-only audit log.
-- Times are INTEGER unix milliseconds, as in 001.

CREATE TABLE users (
	id                  INTEGER PRIMARY KEY,
	username            TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	password_hash       TEXT    NOT NULL,            -- PHC string; '' = cannot log in
	is_admin            INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
	disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_at          INTEGER NOT NULL,
	password_changed_at INTEGER NOT NULL
) STRICT;

CREATE TABLE teams (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE team_members (
	team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role    TEXT    NOT NULL CHECK (role IN ('viewer', 'copier', 'editor')),
	PRIMARY KEY (team_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX team_members_user ON team_members (user_id, team_id);

-- Folders a team owns. No foreign key to folders: the syncer replaces that
-- table, and an assignment outlives a folder that is briefly not listed.
CREATE TABLE team_folders (
	team_id   INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
	folder_id TEXT    NOT NULL,
	PRIMARY KEY (team_id, folder_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX team_folders_folder ON team_folders (folder_id, team_id);

-- Folders readable by everyone (for the same reason not a column of folders).
CREATE TABLE shared_folders (
	folder_id TEXT    PRIMARY KEY,
	shared_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Server-side sessions. id is the key the session store derives from the
-- random id in the cookie; data is the gob-encoded values. expires_at is
-- the earlier of the idle and the absolute deadline, set by the session
-- store at each save or touch.
CREATE TABLE sessions (
	id           TEXT    PRIMARY KEY,
	user_id      INTEGER REFERENCES users (id) ON DELETE CASCADE,
	data         BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id) WHERE user_id IS NOT NULL;

-- Who did what to which target, when, from where, and how it ended.
-- Append-only: no foreign keys (a deleted user's entries stay, with the
-- name they had), and triggers refuse every UPDATE and DELETE.
CREATE TABLE audit_log (
	id           INTEGER PRIMARY KEY,
	at           INTEGER NOT NULL,
	user_id      INTEGER,                       -- NULL: anonymous (a failed login)
	username     TEXT    NOT NULL DEFAULT '' COLLATE NOCASE,
	ip           TEXT    NOT NULL DEFAULT '',
	action       TEXT    NOT NULL,
	target_kind  TEXT    NOT NULL DEFAULT '',
	target_id    TEXT    NOT NULL DEFAULT '',
	operation_id TEXT    NOT NULL DEFAULT '',
	outcome      TEXT    NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
	detail       TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Secondary indexes end with the rowid (= id), so each serves "newest first".
CREATE INDEX audit_log_at       ON audit_log (at);
CREATE INDEX audit_log_username ON audit_log (username);
CREATE INDEX audit_log_action   ON audit_log (action);
CREATE INDEX audit_log_target   ON audit_log (target_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
