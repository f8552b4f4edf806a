-- The open operations of one person, counted before each start to hold
-- the per-person limit (store.CreateIntentsLimited).
CREATE INDEX operations_user_open ON operations (user_id) WHERE state IN ('pending', 'running');
