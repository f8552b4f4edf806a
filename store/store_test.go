package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestOpenMigratesFromEmpty(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()

	got, err := s.appliedVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	var wantVersions []int
	for _, m := range want {
		wantVersions = append(wantVersions, m.version)
	}
	if !slices.Equal(got, wantVersions) {
		t.Errorf("applied versions = %v, want %v", got, wantVersions)
	}
	for _, table := range []string{"folders", "images", "sync_state", "schema_migrations"} {
		var n int
		if err := s.r.QueryRowContext(ctx,
			`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("table %s: got %d, want 1", table, n)
		}
	}
}

func TestOpenAgainAppliesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "imagedash.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	readApplied := func(s *Store) map[int]int64 {
		t.Helper()
		rows, err := s.r.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[int]int64{}
		for rows.Next() {
			var v int
			var at int64
			if err := rows.Scan(&v, &at); err != nil {
				t.Fatal(err)
			}
			m[v] = at
		}
		return m
	}
	before := readApplied(s)
	if err := s.SaveFolders(ctx, testFolders); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		s, err = Open(ctx, path)
		if err != nil {
			t.Fatalf("Open again: %v", err)
		}
		after := readApplied(s)
		if len(after) != len(before) {
			t.Errorf("migrations after reopen = %v, want %v", after, before)
		}
		for v, at := range before {
			if after[v] != at {
				t.Errorf("migration %d applied_at = %d, want %d (applied twice?)", v, after[v], at)
			}
		}
		fs, err := s.Folders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != len(testFolders) {
			t.Errorf("folders after reopen: got %d, want %d", len(fs), len(testFolders))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestApplyMigrations(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	base, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	last := base[len(base)-1].version
	next := append(slices.Clone(base), migration{
		version: last + 1, name: "999_widgets.sql",
		sql: "CREATE TABLE widgets (id INTEGER PRIMARY KEY);\nINSERT INTO widgets (id) VALUES (1);",
	})
	for range 2 {
		if err := s.applyMigrations(ctx, next); err != nil {
			t.Fatalf("applyMigrations: %v", err)
		}
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM widgets`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("widgets rows = %d, want 1 (migration ran more than once?)", n)
	}

	// A failing migration leaves nothing behind and is not recorded.
	broken := append(slices.Clone(next), migration{
		version: last + 2, name: "1000_broken.sql",
		sql: "CREATE TABLE gadgets (id INTEGER);\nINSERT INTO nowhere VALUES (1);",
	})
	err = s.applyMigrations(ctx, broken)
	if err == nil || !strings.Contains(err.Error(), "1000_broken.sql") {
		t.Fatalf("broken migration: got %v, want an error naming 1000_broken.sql", err)
	}
	var tables int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'gadgets'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Error("the failed migration's first statement was not rolled back")
	}
	vs, err := s.appliedVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(vs, last+2) {
		t.Errorf("applied versions %v include the failed one", vs)
	}

	// A database from a newer binary is refused.
	if err := s.applyMigrations(ctx, base); err == nil {
		t.Error("applyMigrations with a database ahead of the binary: got nil, want an error")
	}
}

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr bool
	}{
		{"sorted by number", fstest.MapFS{
			"migrations/010_c.sql": {Data: []byte("x")},
			"migrations/002_b.sql": {Data: []byte("x")},
			"migrations/001_a.sql": {Data: []byte("x")},
		}, []int{1, 2, 10}, false},
		{"no number", fstest.MapFS{"migrations/init.sql": {Data: []byte("x")}}, nil, true},
		{"zero", fstest.MapFS{"migrations/000_a.sql": {Data: []byte("x")}}, nil, true},
		{"duplicate", fstest.MapFS{
			"migrations/001_a.sql": {Data: []byte("x")},
			"migrations/1_b.sql":   {Data: []byte("x")},
		}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := loadMigrations(tt.files)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("loadMigrations error = %v, want error %v", err, tt.wantErr)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.version)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("versions = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOpenErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "imagedash.db")},
		{"a directory", dir},
		{"not a database", writeFile(t, filepath.Join(dir, "junk.db"), strings.Repeat("not sqlite ", 1000))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q): got nil error", tt.path)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("Open error %q does not name the path %q", err, tt.path)
			}
		})
	}
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if _, err := Open(context.Background(), path); !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(%q): got %v, want ErrInvalid", path, err)
		}
	}
}

func writeFile(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a?b#c%d.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not created at %q: %v", path, err)
	}
}

func TestConnectionSettings(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		db     *sql.DB
		pragma string
		want   string
	}{
		{"writer journal", s.w, "journal_mode", "wal"},
		{"writer busy timeout", s.w, "busy_timeout", "5000"},
		{"writer synchronous", s.w, "synchronous", "1"},
		{"writer foreign keys", s.w, "foreign_keys", "1"},
		{"writer not query-only", s.w, "query_only", "0"},
		{"reader journal", s.r, "journal_mode", "wal"},
		{"reader busy timeout", s.r, "busy_timeout", "5000"},
		{"reader synchronous", s.r, "synchronous", "1"},
		{"reader foreign keys", s.r, "foreign_keys", "1"},
		{"reader query-only", s.r, "query_only", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := tt.db.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
			}
		})
	}
	if _, err := s.r.ExecContext(ctx, `INSERT INTO folders (id, updated_at) VALUES ('x', 0)`); err == nil {
		t.Error("a write through the reader pool succeeded")
	}
	if got := s.w.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer max open connections = %d, want 1", got)
	}
}

func TestTxRollsBack(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO folders (id, updated_at) VALUES ('x', 0)`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("tx: got %v, want boom", err)
	}
	fs, err := s.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("folders after a failed tx: got %v, want none", fs)
	}
}
