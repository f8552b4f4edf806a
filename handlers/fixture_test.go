package handlers_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
)

// fixtures are the databases that tests start from, each built once per
// process and copied into every test that asks for it: filling a store
// (the generated images, a sync from the emulator) was most of a test's
// setup under -race, and is the same each time. A copy is a file of its
// own, so every test still owns its store.
var fixtures struct {
	mu  sync.Mutex
	dbs map[string]*fixture
}

type fixture struct {
	once sync.Once
	db   []byte
	err  error
}

// openFixture opens a copy of the database that fill makes from a freshly
// migrated one; fill runs once per key and process. The store is closed
// when the test ends.
func openFixture(tb testing.TB, key string, fill func(*store.Store) error) *store.Store {
	tb.Helper()
	fixtures.mu.Lock()
	if fixtures.dbs == nil {
		fixtures.dbs = map[string]*fixture{}
	}
	f := fixtures.dbs[key]
	if f == nil {
		f = &fixture{}
		fixtures.dbs[key] = f
	}
	fixtures.mu.Unlock()
	f.once.Do(func() { f.db, f.err = buildFixture(tb, fill) })
	if f.err != nil {
		tb.Fatalf("fixture %s: %v", key, f.err)
	}
	path := filepath.Join(tb.TempDir(), "imagedash.db")
	if err := os.WriteFile(path, f.db, 0o600); err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// buildFixture fills a migrated database and returns its bytes.
func buildFixture(tb testing.TB, fill func(*store.Store) error) ([]byte, error) {
	path := storetest.Path(tb)
	st, err := store.Open(context.Background(), path)
	if err != nil {
		return nil, err
	}
	if err := fill(st); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.Close(); err != nil { // checkpoints the log into the file
		return nil, err
	}
	return os.ReadFile(path)
}
