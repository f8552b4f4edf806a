package store

import (
	"context"
	"fmt"
)

// SetWritesFail makes every write fail as on a disk that can no longer be
// written (PRAGMA query_only on the writer connection: SQLITE_READONLY,
// hence ErrReadOnly), or lets writes through again. It exists for tests:
// SetMaxPages fails only the writes that need a new page, while a full disk
// also fails an update in place (the WAL cannot grow), so only this finds
// every write on the way to reading a page.
func (s *Store) SetWritesFail(ctx context.Context, fail bool) error {
	on := 0
	if fail {
		on = 1
	}
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA query_only = %d", on)); err != nil {
		return fmt.Errorf("store: set query_only: %w", err)
	}
	return nil
}
