// Package storetest gives other packages' tests a fresh store quickly:
// each is a copy of an empty database migrated once per test process
// (migrating takes about 250 ms under the race detector, a copy about a
// millisecond). The store's own tests do the same in package store.
package storetest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/imagedash/imagedash/store"
)

var migrated struct {
	once sync.Once
	db   []byte
	err  error
}

// Path is the path of a fresh, migrated database file in tb's temp dir.
func Path(tb testing.TB) string {
	tb.Helper()
	migrated.once.Do(func() {
		dir, err := os.MkdirTemp("", "imagedash-migrated-")
		if err != nil {
			migrated.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "imagedash.db")
		s, err := store.Open(context.Background(), path)
		if err != nil {
			migrated.err = err
			return
		}
		if err := s.Close(); err != nil { // checkpoints the log into the file
			migrated.err = err
			return
		}
		migrated.db, migrated.err = os.ReadFile(path)
	})
	if migrated.err != nil {
		tb.Fatalf("migrated database: %v", migrated.err)
	}
	path := filepath.Join(tb.TempDir(), "imagedash.db")
	if err := os.WriteFile(path, migrated.db, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
