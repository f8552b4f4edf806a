-- The copy planner asks, for every name it plans, "is an operation in
-- flight making an image of this name in this folder" (store/names.go).
-- operations_folder (folder_id) alone walks the folder's whole history;
-- this finds the few rows of one (folder, name) and reads their state and
-- action from the index. Not partial on the open states: which states are
-- open is the tracker's to say, and the query filters on them.
-- (The images side needs nothing new: images_folder_name is
-- (service, folder_id, name, id).)
CREATE INDEX operations_folder_name ON operations (folder_id, image_name, service, state, action);
