-- The lists, their search and their facets are answered from the read
-- model, built in memory from the images table (package readmodel): the
-- search index, the labels table and the indexes only the list's SQL
-- planners walked go, and with them their writes on every sync.
--
-- Kept: the images primary key (doc, which the read model keys rows by)
-- and its (service, id) key; images_folder_id, the folder slice
-- ReplaceFolderImages compares; images_folder_name, which names.go reads
-- INDEXED BY for copy-name uniqueness.
DROP TABLE images_fts;
DROP TABLE image_labels;

DROP INDEX images_folder_family;
DROP INDEX images_folder_status;
DROP INDEX images_folder_os;
DROP INDEX images_folder_size;
DROP INDEX images_folder_min_disk_size;
DROP INDEX images_folder_created_at;
DROP INDEX images_created_at;
DROP INDEX images_name;

DROP INDEX images_status_family;
DROP INDEX images_family_name;
DROP INDEX images_family_created_at;

DROP INDEX images_size;
DROP INDEX images_storage_size;
DROP INDEX images_min_disk_size;
DROP INDEX images_checksum;
DROP INDEX images_os;
DROP INDEX images_family;
DROP INDEX images_status;
DROP INDEX images_folder_status_family;
