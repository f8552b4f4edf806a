package store

import (
	"context"
	"fmt"
)

// Ping reads one row through the reader pool: the database can answer
// the pages. It is what readiness asks; the cloud is not part of it, since
// pages are served from here whether the cloud answers or not.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}
