package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestBootstrapAdmin(t *testing.T) {
	ctx := context.Background()
	t.Run("from the environment, once", func(t *testing.T) {
		st := openStore(t)
		if err := bootstrapAdmin(ctx, st, testHasher, "the first password", slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		// A restart with another password changes nothing.
		if err := bootstrapAdmin(ctx, st, testHasher, "another password!", slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		u, err := st.UserByName(ctx, "admin")
		if err != nil || !u.Admin || auth.CheckPassword(u.PasswordHash, "the first password") != nil {
			t.Errorf("admin = %+v, %v", u, err)
		}
	})
	t.Run("random, logged once", func(t *testing.T) {
		st := openStore(t)
		var logs bytes.Buffer
		if err := bootstrapAdmin(ctx, st, testHasher, "", slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
			t.Fatal(err)
		}
		_, pw, ok := strings.Cut(logs.String(), "password=")
		pw = strings.TrimSpace(pw)
		u, err := st.UserByName(ctx, "admin")
		if !ok || err != nil || auth.CheckPassword(u.PasswordHash, pw) != nil {
			t.Errorf("the logged password %q does not sign in (%v):\n%s", pw, err, logs.String())
		}
	})
	t.Run("too short", func(t *testing.T) {
		if err := bootstrapAdmin(ctx, openStore(t), testHasher, "short", slog.New(slog.DiscardHandler)); err == nil ||
			!strings.Contains(err.Error(), "at least 12 characters") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestSessionKeyPairs(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	gen, err := sessionKeyPairs(ctx, st, "")
	if err != nil || len(gen) != 2 || len(gen[0]) < 32 {
		t.Fatalf("generated = %v, %v", gen, err)
	}
	again, _ := sessionKeyPairs(ctx, st, "")
	if !bytes.Equal(gen[0], again[0]) {
		t.Error("the generated key is not kept")
	}
	hexKey := strings.Repeat("ab", 32)
	b64Key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	got, err := sessionKeyPairs(ctx, st, hexKey+", "+b64Key)
	if err != nil || len(got) != 4 || got[0][0] != 0xab || string(got[2]) != "0123456789abcdef0123456789abcdef" {
		t.Errorf("configured = %q, %v", got, err)
	}
	for _, bad := range []string{"abcd", "not a key!"} {
		if _, err := sessionKeyPairs(ctx, st, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSeedDemo(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	folders := map[string]string{"golden-images": "fgolden", "team-alpha": "falpha", "team-beta": "fbeta"}
	for range 2 { // a second start keeps what is there
		if err := seedDemo(ctx, st, testHasher, folders, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
	}
	users, _ := st.Users(ctx)
	if len(users) != len(demoAccounts) {
		t.Errorf("%d users, want %d", len(users), len(demoAccounts))
	}
	alice, _ := st.UserByName(ctx, "alice")
	ms, _ := st.Memberships(ctx, alice.ID)
	shared, _ := st.SharedFolders(ctx)
	p := auth.NewPolicy(alice, ms, shared)
	if !p.CanEdit("falpha") || p.CanView("fbeta") || !p.CanView("fgolden") || p.CanEdit("fgolden") {
		t.Errorf("alice's policy is wrong: %+v %v", ms, shared)
	}
}
