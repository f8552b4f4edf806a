package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// SyncRecord is the outcome of one sync of a folder of a service.
type SyncRecord struct {
	At    time.Time
	Err   error // nil: the sync succeeded
	Count int   // images listed; ignored on failure
}

// SyncState is how fresh the cache of a folder of a service is.
type SyncState struct {
	Service       cloud.Service
	FolderID      string
	LastAttemptAt time.Time
	LastSuccessAt time.Time // zero: never succeeded
	LastError     string    // of the last attempt; "" when it succeeded
	ImageCount    int       // listed by the last success
}

// RecordSync records a sync attempt. A failure keeps the last success
// time and count (and the cached images, which RecordSync never touches),
// so the page can say "as of <last success>, refresh failed: <error>".
func (s *Store) RecordSync(ctx context.Context, svc cloud.Service, folderID string, r SyncRecord) error {
	if !svc.Valid() || folderID == "" {
		return fmt.Errorf("store: record sync: %w: service %q, folder %q", ErrInvalid, svc, folderID)
	}
	at := ms(r.At)
	defer s.meta.invalidate()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if r.Err == nil {
			_, err := tx.ExecContext(ctx, `INSERT INTO sync_state
	(service, folder_id, last_attempt_at, last_success_at, last_error, image_count)
VALUES (?, ?, ?, ?, '', ?)
ON CONFLICT (service, folder_id) DO UPDATE SET
	last_attempt_at = excluded.last_attempt_at, last_success_at = excluded.last_success_at,
	last_error = '', image_count = excluded.image_count`,
				string(svc), folderID, at, at, r.Count)
			return err
		}
		msg := r.Err.Error()
		if msg == "" {
			msg = "unknown error"
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sync_state
	(service, folder_id, last_attempt_at, last_success_at, last_error, image_count)
VALUES (?, ?, ?, NULL, ?, 0)
ON CONFLICT (service, folder_id) DO UPDATE SET
	last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error`,
			string(svc), folderID, at, msg)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record sync of %s/%s: %w", svc, folderID, err)
	}
	return nil
}

// SyncStates lists the sync state of every folder of a service that was
// ever synced, by folder id. They are cached until the next RecordSync
// (see Folders).
func (s *Store) SyncStates(ctx context.Context, svc cloud.Service) ([]SyncState, error) {
	v, err := s.meta.get("sync\x00"+string(svc), func() (any, error) {
		return s.syncStates(ctx, svc)
	})
	if err != nil {
		return nil, fmt.Errorf("store: sync states of %s: %w", svc, err)
	}
	if out, _ := v.([]SyncState); len(out) > 0 {
		return slices.Clone(out), nil
	}
	return nil, nil
}

// syncStates is SyncStates without the cache.
func (s *Store) syncStates(ctx context.Context, svc cloud.Service) ([]SyncState, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT service, folder_id, last_attempt_at, last_success_at,
	last_error, image_count FROM sync_state WHERE service = ? ORDER BY folder_id`, string(svc))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SyncState
	for rows.Next() {
		var (
			st      SyncState
			svcName string
			attempt int64
			success sql.NullInt64
		)
		if err := rows.Scan(&svcName, &st.FolderID, &attempt, &success, &st.LastError, &st.ImageCount); err != nil {
			return nil, err
		}
		st.Service = cloud.Service(svcName)
		st.LastAttemptAt = fromMS(attempt)
		st.LastSuccessAt = nullMS(success)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
