package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestRevocationIsFinal: a request loads a session, the session is ended
// (each way there is), then the request writes the session back (a flash,
// a touch, an id change): nothing comes back, and no signed-in row exists.
// A sign-in that read the user before the revocation does not survive it.
func TestRevocationIsFinal(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	revokes := []struct {
		name   string
		revoke func(s *Store, u User, sessID string) error
	}{
		{"end sessions", func(s *Store, u User, _ string) error {
			_, err := s.DeleteUserSessions(context.Background(), u.ID)
			return err
		}},
		{"disable", func(s *Store, u User, _ string) error { return s.SetDisabled(context.Background(), u.ID, true) }},
		{"password reset", func(s *Store, u User, _ string) error {
			if err := s.SetPassword(context.Background(), u.ID, "new-hash"); err != nil {
				return err
			}
			_, err := s.DeleteUserSessions(context.Background(), u.ID)
			return err
		}},
		{"delete account", func(s *Store, u User, _ string) error { return s.DeleteUser(context.Background(), u.ID) }},
		{"sign out", func(s *Store, _ User, id string) error { return s.DeleteSession(context.Background(), id) }},
		{"ended by its owner", func(s *Store, u User, id string) error { return s.EndUserSession(context.Background(), u.ID, id) }},
	}
	writes := []struct {
		name  string
		write func(s *Store, loaded Session) error
		want  error
	}{
		{"save", func(s *Store, l Session) error {
			l.Data, l.LastSeenAt = []byte("flash"), l.LastSeenAt.Add(time.Minute)
			return s.UpdateSession(context.Background(), l)
		}, ErrRevoked},
		{"touch", func(s *Store, l Session) error {
			return s.TouchSession(context.Background(), l.ID, l.LastSeenAt.Add(time.Minute), l.ExpiresAt.Add(time.Minute))
		}, ErrNotFound},
		{"rotate", func(s *Store, l Session) error {
			n := l
			n.ID = l.ID + "-rotated"
			return s.ReplaceSession(context.Background(), l.ID, n)
		}, nil}, // ErrRevoked, or ErrNotFound for a deleted account
	}
	for _, rv := range revokes {
		for _, wr := range writes {
			t.Run(rv.name+"/"+wr.name, func(t *testing.T) {
				s := openTest(t)
				ctx := context.Background()
				mustUser(t, s, "admin", true) // so the last admin rule never blocks
				u := mustUser(t, s, "gina", false)
				if err := s.CreateSession(ctx, Session{ID: "g1", UserID: u.ID, UserGen: u.SessionsGen, Data: []byte("v"),
					CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
				loaded, err := s.LoadSession(ctx, "g1", t0)
				if err != nil {
					t.Fatal(err)
				}
				loaded.UserGen = u.SessionsGen
				if err := rv.revoke(s, u, "g1"); err != nil {
					t.Fatal(err)
				}
				err = wr.write(s, loaded)
				switch {
				case wr.want != nil && !errors.Is(err, wr.want):
					t.Errorf("write after revocation: %v, want %v", err, wr.want)
				case wr.want == nil && !errors.Is(err, ErrRevoked) && !errors.Is(err, ErrNotFound):
					t.Errorf("rotate after revocation: %v, want ErrRevoked or ErrNotFound", err)
				}
				var n int
				if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE user_id IS NOT NULL`).Scan(&n); err != nil || n != 0 {
					t.Errorf("signed-in rows after revocation = %d, %v; want 0", n, err)
				}
				if _, err := s.LoadSession(ctx, "g1", t0); !errors.Is(err, ErrNotFound) {
					t.Errorf("the ended session loads again: %v", err)
				}
			})
		}
	}
}

// TestSignInRacingRevocation: a sign-in reads the user (and its sessions
// generation) with the password; a revocation before its session is
// written makes the write fail, whether a new row or an id change.
func TestSignInRacingRevocation(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	u := mustUser(t, s, "hank", false)
	if _, err := s.DeleteUserSessions(ctx, u.ID); err != nil { // another admin, meanwhile
		t.Fatal(err)
	}
	sess := Session{ID: "h1", UserID: u.ID, UserGen: u.SessionsGen, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); !errors.Is(err, ErrRevoked) {
		t.Errorf("create with a stale gen: %v, want ErrRevoked", err)
	}
	if err := s.CreateSession(ctx, Session{ID: "anon", CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceSession(ctx, "anon", sess); !errors.Is(err, ErrRevoked) {
		t.Errorf("replace with a stale gen: %v, want ErrRevoked", err)
	}
	if _, err := s.LoadSession(ctx, "anon", t0); err != nil {
		t.Errorf("a failed replace kept the old row: %v", err)
	}
	fresh, err := s.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	sess.UserGen = fresh.SessionsGen
	if err := s.ReplaceSession(ctx, "anon", sess); err != nil {
		t.Errorf("replace with the current gen: %v", err)
	}
	if err := s.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	fresh, _ = s.User(ctx, u.ID)
	sess.ID, sess.UserGen = "h2", fresh.SessionsGen
	if err := s.CreateSession(ctx, sess); !errors.Is(err, ErrRevoked) {
		t.Errorf("create for a disabled account: %v, want ErrRevoked", err)
	}
}

// TestSessionCapAtSignIn: the 21st signed-in session of a user ends the
// oldest in the same write; other users and anonymous sessions are not
// touched.
func TestSessionCapAtSignIn(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	u := mustUser(t, s, "ivy", false)
	v := mustUser(t, s, "jack", false)
	saveTestSession(t, s, "jack-1", v.ID, t0)
	saveTestSession(t, s, "anon", 0, t0)
	for i := range MaxSessionsPerUser + 1 {
		saveTestSession(t, s, fmt.Sprint("ivy-", i), u.ID, t0.Add(time.Duration(i)*time.Second))
	}
	ss, err := s.UserSessions(ctx, u.ID, t0)
	if err != nil || len(ss) != MaxSessionsPerUser || ss[0].ID != fmt.Sprint("ivy-", MaxSessionsPerUser) || ss[len(ss)-1].ID != "ivy-1" {
		t.Errorf("sessions = %d (%v), want the newest %d", len(ss), err, MaxSessionsPerUser)
	}
	for _, id := range []string{"jack-1", "anon"} {
		if _, err := s.LoadSession(ctx, id, t0); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if err := s.EndUserSession(ctx, u.ID, "jack-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ending another user's session: %v, want ErrNotFound", err)
	}
}

// TestDoubleSignIn: two sign-ins sent from one browser at once (a double
// click, two tabs) both replace the same anonymous row; the second finds it
// gone, which is no revocation: it signs in too. Any other id change of a
// signed-in session whose row is gone stays refused.
func TestDoubleSignIn(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	s := openTest(t)
	ctx := context.Background()
	u := mustUser(t, s, "gina", false)
	if err := s.CreateSession(ctx, Session{ID: "anon", Data: []byte("v"), CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"first", "second"} {
		sess := Session{ID: id, UserID: u.ID, UserGen: u.SessionsGen, Data: []byte("v"), SignIn: true,
			CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.ReplaceSession(ctx, "anon", sess); err != nil {
			t.Errorf("sign-in %s: %v, want it signed in", id, err)
		}
	}
	later := Session{ID: "third", UserID: u.ID, UserGen: u.SessionsGen, Data: []byte("v"),
		CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.ReplaceSession(ctx, "anon", later); !errors.Is(err, ErrRevoked) {
		t.Errorf("an id change of a session already gone, not a sign-in: %v, want ErrRevoked", err)
	}
}

// TestSignInAfterPasswordReset: a sign-in that checked the old password
// while an admin reset it (without ending sessions) is refused; one that
// checked the new password signs in.
func TestSignInAfterPasswordReset(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	s := openTest(t)
	ctx := context.Background()
	u := mustUser(t, s, "gina", false)
	if err := s.SetPassword(ctx, u.ID, "new-hash"); err != nil {
		t.Fatal(err)
	}
	now, err := s.UserByName(ctx, "gina")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		pwdAt  time.Time
		wantOK bool
	}{
		{"checked the old password", u.PasswordChangedAt.Add(-time.Millisecond), false},
		{"checked the new password", now.PasswordChangedAt, true},
	} {
		err := s.CreateSession(ctx, Session{ID: tt.name, UserID: u.ID, UserGen: now.SessionsGen, Data: []byte("v"), SignIn: true,
			PasswordChangedAt: tt.pwdAt, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)})
		if got := err == nil; got != tt.wantOK || !tt.wantOK && !errors.Is(err, ErrRevoked) {
			t.Errorf("%s: %v, want signed in %v", tt.name, err, tt.wantOK)
		}
	}
}
