package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestPrefsRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	alice := mustUser(t, s, "alice", true)
	bob := mustUser(t, s, "bob", false)

	got, err := s.Prefs(ctx, alice.ID)
	if err != nil {
		t.Fatalf("Prefs before saving: %v", err)
	}
	if got.Density != DensityComfortable || got.Hidden != nil || got.AbsoluteTimes {
		t.Fatalf("Prefs before saving = %+v, want the defaults", got)
	}

	want := Prefs{Density: DensityCompact, Hidden: []string{"labels", "id", "labels", "created_at"}, AbsoluteTimes: true}
	if err := s.SavePrefs(ctx, alice.ID, want); err != nil {
		t.Fatalf("SavePrefs: %v", err)
	}
	got, err = s.Prefs(ctx, alice.ID)
	if err != nil {
		t.Fatalf("Prefs: %v", err)
	}
	if got.Density != DensityCompact || !got.AbsoluteTimes || !slices.Equal(got.Hidden, []string{"created_at", "id", "labels"}) {
		t.Fatalf("Prefs = %+v, want compact, absolute, hidden [created_at id labels] (sorted, once each)", got)
	}
	if !got.Compact() {
		t.Error("Compact() = false for a compact density")
	}

	// Saving again replaces, and showing every column again stores none.
	if err := s.SavePrefs(ctx, alice.ID, Prefs{}); err != nil {
		t.Fatalf("SavePrefs(defaults): %v", err)
	}
	if got, _ = s.Prefs(ctx, alice.ID); got.Density != DensityComfortable || got.Hidden != nil || got.AbsoluteTimes {
		t.Fatalf("Prefs after saving the defaults = %+v", got)
	}

	// Another person's are their own.
	if err := s.SavePrefs(ctx, alice.ID, Prefs{Density: DensityCompact}); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Prefs(ctx, bob.ID); got.Compact() {
		t.Fatalf("bob's prefs = %+v after alice saved hers", got)
	}

	// Deleting the account deletes its prefs with it.
	if err := s.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePrefs(ctx, bob.ID, Prefs{Density: DensityCompact}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SavePrefs of a deleted user: %v, want ErrNotFound", err)
	}
}

func TestPrefsDeletedWithUser(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mustUser(t, s, "admin", true)
	u := mustUser(t, s, "carol", false)
	if err := s.SavePrefs(ctx, u.ID, Prefs{Density: DensityCompact, Hidden: []string{"id"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM user_prefs WHERE user_id = ?`, u.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d prefs rows left after the user was deleted", n)
	}
}

// TestPrefsCacheIDReused: the preferences kept in memory are not served to
// a new account that is given a deleted one's id (SQLite gives the
// largest id again once its row is gone).
func TestPrefsCacheIDReused(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mustUser(t, s, "admin", true)
	carol := mustUser(t, s, "carol", false)
	if err := s.SavePrefs(ctx, carol.ID, Prefs{Density: DensityCompact, Hidden: []string{"id"}, AbsoluteTimes: true}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Prefs(ctx, carol.ID); err != nil || !p.Compact() { // now in memory
		t.Fatalf("Prefs = %+v, %v", p, err)
	}
	if err := s.DeleteUser(ctx, carol.ID); err != nil {
		t.Fatal(err)
	}
	dave := mustUser(t, s, "dave", false)
	if dave.ID != carol.ID {
		t.Logf("dave has id %d, carol had %d: the id was not given again", dave.ID, carol.ID)
	}
	p, err := s.Prefs(ctx, dave.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Compact() || p.AbsoluteTimes || p.Hidden != nil {
		t.Fatalf("dave's prefs = %+v, want the defaults, not carol's", p)
	}
}

func TestPrefsValidation(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	u := mustUser(t, s, "alice", true)
	many := make([]string, MaxHiddenColumns+1)
	for i := range many {
		many[i] = "c" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	tests := []struct {
		name string
		give Prefs
	}{
		{"unknown density", Prefs{Density: "cosy"}},
		{"density in capitals", Prefs{Density: "COMPACT"}},
		{"empty key", Prefs{Hidden: []string{""}}},
		{"key with a comma", Prefs{Hidden: []string{"id,labels"}}},
		{"key in capitals", Prefs{Hidden: []string{"Labels"}}},
		{"key with markup", Prefs{Hidden: []string{"<b>"}}},
		{"key starting with a digit", Prefs{Hidden: []string{"1id"}}},
		{"key too long", Prefs{Hidden: []string{strings.Repeat("a", maxColumnKey+1)}}},
		{"too many keys", Prefs{Hidden: many}},
	}
	if err := s.SavePrefs(ctx, u.ID, Prefs{Density: DensityCompact, Hidden: []string{"os"}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SavePrefs(ctx, u.ID, tt.give)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("SavePrefs(%+v) = %v, want ErrInvalid", tt.give, err)
			}
			// Nothing of a refused save is kept.
			got, err := s.Prefs(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Compact() || !slices.Equal(got.Hidden, []string{"os"}) {
				t.Fatalf("Prefs after a refused save = %+v, want the earlier ones", got)
			}
		})
	}
}
