-- Secrets the app generates for itself when the configuration gives none:
-- the session cookie keys. A copy of the database holds them, which is why
-- the session rows are keyed by a hash of the cookie's id (see auth).
CREATE TABLE secrets (
	name       TEXT    PRIMARY KEY,
	value      BLOB    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
