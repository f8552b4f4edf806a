-- What a folder sync must not undo. A sync replaces a folder's rows with a
-- listing that began before it writes; an operation's outcome written
-- meanwhile (a copy's new image, an image deleted) is newer than that
-- listing and stays until a sync whose listing began after it.
--
-- written_at: when an operation's outcome last wrote the row (unix ms);
-- 0 when a sync did. Only such rows are spared, so a sync never defers to
-- a timestamp another sync wrote.
ALTER TABLE images ADD COLUMN written_at INTEGER NOT NULL DEFAULT 0;

-- The images an operation's outcome removed, for the syncs whose listings
-- began before (pruned after an hour: no listing takes that long).
CREATE TABLE image_removals (
	service    TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	removed_at INTEGER NOT NULL, -- unix ms
	PRIMARY KEY (service, id)
) WITHOUT ROWID;
