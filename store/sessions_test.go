package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func saveTestSession(t *testing.T, s *Store, id string, user int64, now time.Time) Session {
	t.Helper()
	sess := Session{ID: id, UserID: user, Data: []byte("data-" + id),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(context.Background(), sess); err != nil {
		t.Fatalf("CreateSession(%s): %v", id, err)
	}
	return sess
}

func TestSessions(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustUser(t, s, "dave", false)
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

	anon := saveTestSession(t, s, "anon", 0, t0)
	got, err := s.LoadSession(ctx, "anon", t0)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != 0 || !bytes.Equal(got.Data, anon.Data) || !got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("LoadSession = %+v, want %+v", got, anon)
	}
	if _, err := s.LoadSession(ctx, "anon", t0.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("at its deadline: got %v, want ErrNotFound", err)
	}
	if _, err := s.LoadSession(ctx, "missing", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: got %v, want ErrNotFound", err)
	}

	// An update keeps created_at; it never changes the user (signing in is
	// a new row) and never creates a row.
	t1 := t0.Add(10 * time.Minute)
	upd := Session{ID: "anon", Data: []byte("v2"), CreatedAt: t1, LastSeenAt: t1, ExpiresAt: t1.Add(time.Hour)}
	if err := s.UpdateSession(ctx, upd); err != nil {
		t.Fatal(err)
	}
	got, _ = s.LoadSession(ctx, "anon", t1)
	if got.UserID != 0 || string(got.Data) != "v2" || !got.CreatedAt.Equal(t0) || !got.LastSeenAt.Equal(t1) {
		t.Errorf("after update: %+v", got)
	}
	if err := s.UpdateSession(ctx, Session{ID: "anon", UserID: u.ID, CreatedAt: t1, LastSeenAt: t1, ExpiresAt: t1}); !errors.Is(err, ErrRevoked) {
		t.Errorf("update to another user: got %v, want ErrRevoked", err)
	}
	if err := s.UpdateSession(ctx, Session{ID: "never", CreatedAt: t1, LastSeenAt: t1, ExpiresAt: t1}); !errors.Is(err, ErrRevoked) {
		t.Errorf("update of a missing row: got %v, want ErrRevoked", err)
	}
	if err := s.CreateSession(ctx, Session{ID: "anon", CreatedAt: t1, LastSeenAt: t1, ExpiresAt: t1}); !errors.Is(err, ErrExists) {
		t.Errorf("create over an existing id: got %v, want ErrExists", err)
	}
	if err := s.TouchSession(ctx, "anon", t1.Add(time.Minute), t1.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.LoadSession(ctx, "anon", t1)
	if string(got.Data) != "v2" || !got.LastSeenAt.Equal(t1.Add(time.Minute)) || !got.ExpiresAt.Equal(t1.Add(2*time.Hour)) {
		t.Errorf("after touch: %+v", got)
	}
	if err := s.TouchSession(ctx, "missing", t1, t1); !errors.Is(err, ErrNotFound) {
		t.Errorf("touch missing: got %v, want ErrNotFound", err)
	}
	if err := s.CreateSession(ctx, Session{ID: "x", UserID: 9999, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("session of a missing user: got %v, want ErrNotFound", err)
	}
	if err := s.CreateSession(ctx, Session{ID: "", CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty id: got %v, want ErrInvalid", err)
	}

	// Replace: the old id is gone, the new one holds the session.
	repl := Session{ID: "new", UserID: u.ID, Data: []byte("v2"), CreatedAt: t1, LastSeenAt: t1, ExpiresAt: t1.Add(time.Hour)}
	if err := s.ReplaceSession(ctx, "anon", repl); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSession(ctx, "anon", t1); !errors.Is(err, ErrNotFound) {
		t.Errorf("old id after replace: got %v, want ErrNotFound", err)
	}
	if got, err := s.LoadSession(ctx, "new", t1); err != nil || string(got.Data) != "v2" || !got.CreatedAt.Equal(t1) {
		t.Errorf("new id after replace: %+v, %v", got, err)
	}

	if err := s.DeleteSession(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, "new"); err != nil {
		t.Errorf("delete twice: %v", err)
	}
	if _, err := s.LoadSession(ctx, "new", t1); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: got %v, want ErrNotFound", err)
	}
}

func TestDeleteAndSweepSessions(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustUser(t, s, "erin", false)
	v := mustUser(t, s, "frank", false)
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	saveTestSession(t, s, "u1", u.ID, t0)
	saveTestSession(t, s, "u2", u.ID, t0)
	saveTestSession(t, s, "v1", v.ID, t0)
	saveTestSession(t, s, "old", 0, t0.Add(-2*time.Hour))

	if n, err := s.DeleteUserSessions(ctx, u.ID); err != nil || n != 2 {
		t.Errorf("DeleteUserSessions = %d, %v; want 2", n, err)
	}
	if n, err := s.SweepSessions(ctx, t0); err != nil || n != 1 {
		t.Errorf("SweepSessions(t0) = %d, %v; want 1 (old)", n, err)
	}
	if _, err := s.LoadSession(ctx, "v1", t0); err != nil {
		t.Errorf("v1 should remain: %v", err)
	}
	if err := s.DeleteUser(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSession(ctx, "v1", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("session of a deleted user: got %v, want ErrNotFound", err)
	}
}

// TestSessionCacheFollowsWrites: LoadSession answers from memory between
// writes, and every write that can end a session (its own table, or the
// account's deletion, which cascades) is seen at once.
func TestSessionCacheFollowsWrites(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	u := mustUser(t, s, "erin", false)
	saveTestSession(t, s, "s1", u.ID, t0)
	saveTestSession(t, s, "s2", u.ID, t0)
	for _, id := range []string{"s1", "s1", "s2"} { // the second read is from memory
		if _, err := s.LoadSession(ctx, id, t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.LoadSession(ctx, "s1", t0.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("a cached session past its deadline: %v", err)
	}
	if err := s.DeleteSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSession(ctx, "s1", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("after DeleteSession: %v", err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSession(ctx, "s2", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("after the account was deleted: %v", err)
	}
}
