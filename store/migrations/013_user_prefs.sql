-- How each person likes the image lists (issue 17, item 8): row density,
-- the optional columns they hid, and whether times show as absolute. One
-- row per person, read by primary key on every list request; no row is
-- the defaults. The column keys are the views' (the store checks only
-- their shape), kept as a sorted comma-separated list; hidden rather than
-- shown, so a column added later shows to everyone until they hide it.
CREATE TABLE user_prefs (
	user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	density        TEXT    NOT NULL DEFAULT 'comfortable' CHECK (density IN ('comfortable', 'compact')),
	hidden_columns TEXT    NOT NULL DEFAULT '',
	absolute_times INTEGER NOT NULL DEFAULT 0 CHECK (absolute_times IN (0, 1)),
	updated_at     INTEGER NOT NULL
) STRICT;
