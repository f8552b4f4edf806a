-- The image cache: folders, images of the three services, their labels,
-- a full-text index and the state of each folder's sync.
-- Times are INTEGER unix milliseconds; 0 (or NULL where nullable) is "never".

CREATE TABLE folders (
	id          TEXT PRIMARY KEY,
	cloud_id    TEXT NOT NULL DEFAULT '',
	name        TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	labels      TEXT NOT NULL DEFAULT '{}', -- JSON object
	updated_at  INTEGER NOT NULL
) STRICT;

-- images is keyed by (service, id). doc is an explicit INTEGER PRIMARY KEY
-- (the rowid) so that it never changes, VACUUM included: it is the key of
-- images_fts.
CREATE TABLE images (
	doc                 INTEGER PRIMARY KEY,
	service             TEXT    NOT NULL,
	id                  TEXT    NOT NULL,
	folder_id           TEXT    NOT NULL,
	name                TEXT    NOT NULL DEFAULT '',
	description         TEXT    NOT NULL DEFAULT '',
	family              TEXT    NOT NULL DEFAULT '',
	status              TEXT    NOT NULL DEFAULT '',
	os                  TEXT    NOT NULL DEFAULT '',
	size                INTEGER NOT NULL DEFAULT 0,
	storage_size        INTEGER NOT NULL DEFAULT 0,
	min_disk_size       INTEGER NOT NULL DEFAULT 0,
	product_ids         TEXT    NOT NULL DEFAULT '[]', -- JSON array
	pooled              INTEGER NOT NULL DEFAULT 0,
	hardware_generation TEXT    NOT NULL DEFAULT '',
	checksum            TEXT    NOT NULL DEFAULT '',
	created_at          INTEGER NOT NULL DEFAULT 0,
	labels              TEXT    NOT NULL DEFAULT '{}', -- JSON object, keys sorted
	fingerprint         INTEGER NOT NULL DEFAULT 0,    -- hash of the fields above, to skip unchanged rows
	synced_at           INTEGER NOT NULL,              -- when a sync last wrote the row
	CONSTRAINT images_key UNIQUE (service, id)
) STRICT;

-- One index per sort column, for one folder at a time: keyset pages walk
-- them in order. (service, folder_id, id) is also the folder slice that
-- ReplaceFolderImages compares.
CREATE INDEX images_folder_id            ON images (service, folder_id, id);
CREATE INDEX images_folder_name          ON images (service, folder_id, name, id);
CREATE INDEX images_folder_family        ON images (service, folder_id, family, id);
CREATE INDEX images_folder_status        ON images (service, folder_id, status, id);
CREATE INDEX images_folder_os            ON images (service, folder_id, os, id);
CREATE INDEX images_folder_size          ON images (service, folder_id, size, id);
CREATE INDEX images_folder_min_disk_size ON images (service, folder_id, min_disk_size, id);
CREATE INDEX images_folder_created_at    ON images (service, folder_id, created_at, id);
-- Views over all folders of a service: newest first, and by name (the default).
CREATE INDEX images_created_at           ON images (service, created_at, id);
CREATE INDEX images_name                 ON images (service, name, id);

-- The labels of each image, one row a label, for the label filters. Written
-- by the store in the same transaction as the image (no trigger and no
-- foreign key: either would make every write carry a statement journal).
CREATE TABLE image_labels (
	service  TEXT NOT NULL,
	image_id TEXT NOT NULL,
	key      TEXT NOT NULL,
	value    TEXT NOT NULL,
	PRIMARY KEY (service, image_id, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX image_labels_key_value ON image_labels (service, key, value);

-- Full-text index; rowid = images.doc. The search box looks at name,
-- description, id, family and labels ("key=value key2=value2"). attrs holds
-- one opaque token per filterable value (service, folder, status, family,
-- OS, label key, label key=value), so a text search with filters is counted
-- by FTS5 alone, without visiting the matching rows.
-- Contentless (the text lives in images), with contentless_delete so a row
-- can be deleted by rowid alone. Written by the store in the same
-- transaction as the image, not by a trigger: FTS5 flushes its pending terms
-- to disk at every statement savepoint, which a trigger opens for each row.
CREATE VIRTUAL TABLE images_fts USING fts5 (
	name, description, id, family, labels, attrs,
	content = '',
	contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE sync_state (
	service         TEXT    NOT NULL,
	folder_id       TEXT    NOT NULL,
	last_attempt_at INTEGER NOT NULL,
	last_success_at INTEGER,          -- NULL until a sync succeeds
	last_error      TEXT    NOT NULL DEFAULT '',
	image_count     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (service, folder_id)
) STRICT, WITHOUT ROWID;
