-- Indexes for the image browser over all folders of a service.
--
-- (service, status, family) covers the facets: one pass over it counts the
-- rows per (status, family) in index order, without reading the table or
-- sorting; it also counts a status filter.
CREATE INDEX images_status_family     ON images (service, status, family);
-- A family filter, the most used one, pages by name (the default sort) or
-- newest first straight off these, and counts on the first.
CREATE INDEX images_family_name       ON images (service, family, name, id);
CREATE INDEX images_family_created_at ON images (service, family, created_at, id);
