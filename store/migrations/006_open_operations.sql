-- The monitor lists the open operations newest first, and polls that list
-- every 2 s: a partial index on the id of the open ones makes it a walk of
-- the first rows of a small index instead of a sort of all open rows.
CREATE INDEX operations_open_id ON operations (id) WHERE state IN ('pending', 'running');
