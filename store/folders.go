package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/imagedash/imagedash/cloud"
)

// SaveFolders makes the cached folders equal to fs, in one transaction:
// folders not in fs are deleted. Their cached images stay until their own
// sync removes them.
func (s *Store) SaveFolders(ctx context.Context, fs []cloud.Folder) error {
	type row struct {
		f      cloud.Folder
		labels string
	}
	rows := make([]row, 0, len(fs))
	for _, f := range fs {
		if f.ID == "" {
			return fmt.Errorf("store: save folders: %w: folder without an id", ErrInvalid)
		}
		labels := "{}"
		if len(f.Labels) > 0 {
			b, err := json.Marshal(f.Labels)
			if err != nil {
				return fmt.Errorf("store: save folders: folder %q: %w", f.ID, err)
			}
			labels = string(b)
		}
		rows = append(rows, row{f, labels})
	}
	now := ms(s.now())
	defer s.meta.invalidate()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		gone, err := folderIDs(ctx, tx)
		if err != nil {
			return err
		}
		upsert, err := tx.PrepareContext(ctx, `INSERT INTO folders (id, cloud_id, name, description, labels, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	cloud_id = excluded.cloud_id, name = excluded.name, description = excluded.description,
	labels = excluded.labels, updated_at = excluded.updated_at
WHERE (cloud_id, name, description, labels) IS NOT
	(excluded.cloud_id, excluded.name, excluded.description, excluded.labels)`)
		if err != nil {
			return err
		}
		defer upsert.Close()
		for _, r := range rows {
			delete(gone, r.f.ID)
			if _, err := upsert.ExecContext(ctx, r.f.ID, r.f.CloudID, r.f.Name, r.f.Description, r.labels, now); err != nil {
				return fmt.Errorf("folder %q: %w", r.f.ID, err)
			}
		}
		for id := range gone {
			if _, err := tx.ExecContext(ctx, `DELETE FROM folders WHERE id = ?`, id); err != nil {
				return fmt.Errorf("delete folder %q: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save folders: %w", err)
	}
	return nil
}

// The folders and the sync states are cached in Store.meta (meta.go).

// Folders lists the cached folders by name (then id).
func (s *Store) Folders(ctx context.Context) ([]cloud.Folder, error) {
	v, err := s.meta.get("folders", func() (any, error) {
		return s.folders(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("store: folders: %w", err)
	}
	fs, _ := v.([]cloud.Folder)
	if len(fs) == 0 {
		return nil, nil
	}
	out := slices.Clone(fs)
	for i := range out {
		out[i].Labels = maps.Clone(out[i].Labels)
	}
	return out, nil
}

// folders is Folders without the cache.
func (s *Store) folders(ctx context.Context) ([]cloud.Folder, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT id, cloud_id, name, description, labels FROM folders ORDER BY name, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var fs []cloud.Folder
	for rows.Next() {
		var (
			f      cloud.Folder
			labels string
		)
		if err := rows.Scan(&f.ID, &f.CloudID, &f.Name, &f.Description, &labels); err != nil {
			return nil, err
		}
		if labels != "{}" && labels != "" {
			if err := json.Unmarshal([]byte(labels), &f.Labels); err != nil {
				return nil, fmt.Errorf("folder %q: labels: %w", f.ID, err)
			}
		}
		fs = append(fs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return fs, nil
}

// folderIDs is the set of cached folder ids.
func folderIDs(ctx context.Context, tx *sql.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM folders`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make(map[string]bool)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = true
	}
	return ids, rows.Err()
}
