-- Folder lifecycle (issue 18, item 4): the images of a folder the dashboard
-- no longer syncs (removed from its configuration, or gone from the cloud)
-- leave the images table at the next sync and wait here, with the time and
-- the reason of their removal, until the folder pruner deletes them after
-- the retention (--folder-retention). Nothing lists this table: it keeps
-- what pages about an image of a gone folder need to say so in words (its
-- name, its folder), and the rows of a folder that comes back are deleted
-- when its first sync succeeds (the listing is the truth, not the parking).
-- Same columns as images, without doc and the sync bookkeeping.
CREATE TABLE parked_images (
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
	product_ids         TEXT    NOT NULL DEFAULT '[]',
	pooled              INTEGER NOT NULL DEFAULT 0,
	hardware_generation TEXT    NOT NULL DEFAULT '',
	checksum            TEXT    NOT NULL DEFAULT '',
	created_at          INTEGER NOT NULL DEFAULT 0,
	labels              TEXT    NOT NULL DEFAULT '{}',
	parked_at           INTEGER NOT NULL, -- unix ms: when its folder stopped being synced
	reason              TEXT    NOT NULL CHECK (reason IN ('unwatched', 'not-found', 'forbidden')),
	PRIMARY KEY (service, id)
) STRICT, WITHOUT ROWID;

-- The pruner deletes by age; a folder that comes back is unparked by folder.
CREATE INDEX parked_images_parked_at ON parked_images (parked_at);
CREATE INDEX parked_images_folder    ON parked_images (service, folder_id);
