package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/internal/asnobody"
)

// Storage faults: a database that cannot be written fails Open with a clear
// error, a write that finds the disk full fails whole with ErrFull, and
// neither leaves the file damaged.

// integrityOK fails the test unless PRAGMA integrity_check of the file at
// path says "ok" (through a fresh connection, not the store's caches).
func integrityOK(t *testing.T, s *Store) {
	t.Helper()
	var got string
	if err := s.w.QueryRowContext(context.Background(), "PRAGMA integrity_check").Scan(&got); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if got != "ok" {
		t.Fatalf("integrity_check = %q, want ok", got)
	}
}

func TestStorageFullWriteFailsWhole(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "imagedash.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if s != nil {
			s.Close()
		}
	}()
	folders := []string{testFolders[0].ID}
	if err := s.SaveFolders(ctx, testFolders); err != nil {
		t.Fatal(err)
	}
	first := genImages(cloud.Compute, folders, 50)
	if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, folders[0], first, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSync(ctx, cloud.Compute, folders[0], SyncRecord{At: time.Now(), Count: len(first)}); err != nil {
		t.Fatal(err)
	}

	limit, err := s.SetMaxPages(ctx, 1) // no more pages than now
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("max_page_count now %d", limit)

	// A sync of 600 images needs far more pages than the file has.
	big := genImages(cloud.Compute, folders, 600)
	_, err = s.ReplaceFolderImages(ctx, cloud.Compute, folders[0], big, time.Now())
	if !errors.Is(err, ErrFull) {
		t.Fatalf("ReplaceFolderImages on a full database: got %v, want ErrFull", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "full") || !strings.Contains(msg, "free disk space") {
		t.Errorf("error %q does not say the disk is full and what to do", msg)
	}
	// The sync's failure is recorded: an update in place needs no new page.
	if err := s.RecordSync(ctx, cloud.Compute, folders[0], SyncRecord{At: time.Now(), Err: err}); err != nil {
		t.Errorf("RecordSync of the failure: %v", err)
	}
	states, serr := s.SyncStates(ctx, cloud.Compute)
	if serr != nil || len(states) != 1 || !strings.Contains(states[0].LastError, "full") || states[0].ImageCount != len(first) {
		t.Errorf("sync state after the failure = %+v, %v; want the error recorded, the count kept", states, serr)
	}
	// Nothing of the failed write is visible; what was there still reads.
	if n := len(allImages(t, s, ImageQuery{Service: cloud.Compute})); n != len(first) {
		t.Errorf("images after the failed write = %d, want %d (rolled back whole)", n, len(first))
	}
	// Small writes go on failing cleanly, whatever they are.
	var fullErr error
	for i := range 2000 {
		if _, fullErr = s.CreateTeam(ctx, fmt.Sprintf("team-%04d-%s", i, strings.Repeat("x", 40))); fullErr != nil {
			break
		}
	}
	if !errors.Is(fullErr, ErrFull) {
		t.Fatalf("teams until the disk is full: last error %v, want ErrFull", fullErr)
	}
	integrityOK(t, s)

	// Room again: the same sync goes through, and the file is sound.
	if _, err := s.SetMaxPages(ctx, 1<<30); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, folders[0], big, time.Now()); err != nil {
		t.Fatalf("ReplaceFolderImages with room again: %v", err)
	}
	if n := len(allImages(t, s, ImageQuery{Service: cloud.Compute})); n != len(big) {
		t.Errorf("images = %d, want %d", n, len(big))
	}
	integrityOK(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = nil
	// And it opens again as it was.
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after the full disk: %v", err)
	}
	defer s2.Close()
	integrityOK(t, s2)
	if n := len(allImages(t, s2, ImageQuery{Service: cloud.Compute})); n != len(big) {
		t.Errorf("images after reopen = %d, want %d", n, len(big))
	}
}

// TestReadOnlyOpen: a database file or directory this process cannot write
// fails Open with ErrReadOnly, naming the path and what is read-only, and
// leaves the file as it was. As root, whom a chmod does not stop, the test
// runs itself again as the user nobody (see asNobody).
func TestReadOnlyOpen(t *testing.T) {
	if !asnobody.Here(t) {
		return
	}
	ctx := context.Background()
	tests := []struct {
		name     string
		prepare  func(t *testing.T, dir, path string) // after a database is made at path
		wantText string
	}{
		{"file 0444", func(t *testing.T, dir, path string) { chmod(t, path, 0o444) }, "the file "},
		{"directory 0555", func(t *testing.T, dir, path string) { chmod(t, dir, 0o555) }, "the directory "},
		{"new file in a directory 0555", func(t *testing.T, dir, path string) {
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				os.Remove(p)
			}
			chmod(t, dir, 0o555)
		}, "the directory "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
			path := filepath.Join(dir, "imagedash.db")
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SaveFolders(ctx, testFolders); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, dir, path)
			before, _ := os.ReadFile(path)

			s, err = Open(ctx, path)
			if err == nil {
				s.Close()
				t.Fatal("Open of a read-only database: got nil error")
			}
			msg := err.Error()
			if !errors.Is(err, ErrReadOnly) || !strings.Contains(msg, path) || !strings.Contains(msg, "read-only") ||
				!strings.Contains(msg, tt.wantText) {
				t.Errorf("Open error %q: want ErrReadOnly naming %s and %q", msg, path, tt.wantText)
			}
			t.Logf("Open: %v", err)
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the failed Open changed the database file")
			}

			// Writable again (the journal files SQLite made beside a
			// read-only file took its mode): it opens, whole.
			chmod(t, dir, 0o755)
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if _, serr := os.Stat(p); serr == nil {
					chmod(t, p, 0o644)
				}
			}
			s, err = Open(ctx, path)
			if err != nil {
				t.Fatalf("Open once writable: %v", err)
			}
			defer s.Close()
			integrityOK(t, s)
		})
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
