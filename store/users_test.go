package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func mustUser(t *testing.T, s *Store, name string, admin bool) User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), NewUser{Username: name, PasswordHash: "hash-" + name, Admin: admin})
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func TestUsers(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return at }

	alice := mustUser(t, s, "alice", false)
	if alice.ID == 0 || alice.Username != "alice" || alice.Admin || alice.Disabled ||
		!alice.CreatedAt.Equal(at) || !alice.PasswordChangedAt.Equal(at) || alice.PasswordHash != "hash-alice" {
		t.Errorf("created user = %+v", alice)
	}
	if _, err := s.CreateUser(ctx, NewUser{Username: "ALICE", PasswordHash: "x"}); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate username (other case): got %v, want ErrExists", err)
	}
	for _, bad := range []string{"", " bob", "bob ", "b\x00b", strings.Repeat("x", 65)} {
		if _, err := s.CreateUser(ctx, NewUser{Username: bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateUser(%q): got %v, want ErrInvalid", bad, err)
		}
	}

	got, err := s.UserByName(ctx, "Alice")
	if err != nil || got != alice {
		t.Errorf("UserByName(Alice) = %+v, %v; want %+v", got, err, alice)
	}
	if got, err := s.User(ctx, alice.ID); err != nil || got != alice {
		t.Errorf("User(id) = %+v, %v; want %+v", got, err, alice)
	}
	if _, err := s.UserByName(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserByName(nobody): got %v, want ErrNotFound", err)
	}
	if _, err := s.User(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("User(9999): got %v, want ErrNotFound", err)
	}

	later := at.Add(time.Hour)
	s.now = func() time.Time { return later }
	if err := s.SetPassword(ctx, alice.ID, "new-hash"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.User(ctx, alice.ID)
	if got.PasswordHash != "new-hash" || !got.PasswordChangedAt.Equal(later) || !got.CreatedAt.Equal(at) {
		t.Errorf("after SetPassword: %+v", got)
	}
	if err := s.SetPassword(ctx, 9999, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPassword(9999): got %v, want ErrNotFound", err)
	}

	bob := mustUser(t, s, "bob", false)
	us, err := s.Users(ctx)
	if err != nil || len(us) != 2 || us[0].Username != "alice" || us[1].Username != "bob" {
		t.Errorf("Users = %+v, %v", us, err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 2 {
		t.Errorf("CountUsers = %d, %v; want 2", n, err)
	}
	if err := s.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, bob.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteUser twice: got %v, want ErrNotFound", err)
	}
}

func TestDisableEndsSessions(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustUser(t, s, "carol", false)
	now := time.Now()
	saveTestSession(t, s, "s1", u.ID, now)
	if err := s.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSession(ctx, "s1", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("session of a disabled user: got %v, want ErrNotFound", err)
	}
	got, _ := s.User(ctx, u.ID)
	if !got.Disabled {
		t.Errorf("Disabled = false after SetDisabled(true)")
	}
	if err := s.SetDisabled(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx, u.ID); got.Disabled {
		t.Errorf("Disabled = true after SetDisabled(false)")
	}
}

func TestLastAdminIsKept(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	root := mustUser(t, s, "admin", true)
	for name, err := range map[string]error{
		"delete":  s.DeleteUser(ctx, root.ID),
		"disable": s.SetDisabled(ctx, root.ID, true),
		"revoke":  s.SetAdmin(ctx, root.ID, false),
	} {
		if !errors.Is(err, ErrLastAdmin) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s the last admin: got %v, want ErrLastAdmin", name, err)
		}
	}
	other := mustUser(t, s, "other", false)
	if err := s.SetAdmin(ctx, other.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDisabled(ctx, root.ID, true); err != nil {
		t.Errorf("disable an admin while another is enabled: %v", err)
	}
	if err := s.DeleteUser(ctx, other.ID); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("delete the last enabled admin: got %v, want ErrLastAdmin", err)
	}
}
