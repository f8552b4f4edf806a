package store

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
)

func TestPrincipalAndGeneration(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()

	g0 := s.PeopleGeneration()
	alice := mustUser(t, s, "alice", false)
	if s.PeopleGeneration() == g0 {
		t.Error("CreateUser did not change the people generation")
	}
	team, err := s.CreateTeam(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, team.ID, alice.ID, RoleCopier); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignFolder(ctx, team.ID, "b1gteam"); err != nil {
		t.Fatal(err)
	}
	g1 := s.PeopleGeneration()
	if err := s.SetFolderShared(ctx, "b1ggolden", true); err != nil {
		t.Fatal(err)
	}
	if s.PeopleGeneration() == g1 {
		t.Error("SetFolderShared did not change the people generation")
	}

	u, ms, shared, err := s.Principal(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "alice" || len(ms) != 1 || ms[0].Role != RoleCopier ||
		!slices.Equal(ms[0].Team.Folders, []string{"b1gteam"}) || !slices.Equal(shared, []string{"b1ggolden"}) {
		t.Errorf("Principal = %+v, %+v, %v", u, ms, shared)
	}
	if _, _, _, err := s.Principal(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Principal(unknown) = %v, want ErrNotFound", err)
	}
}

func TestSecret(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a, err := s.Secret(ctx, "session-key")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != secretSize {
		t.Fatalf("len = %d", len(a))
	}
	b, err := s.Secret(ctx, "session-key")
	if err != nil || !bytes.Equal(a, b) {
		t.Errorf("second read = %x, %v; want the stored %x", b, err, a)
	}
	c, err := s.Secret(ctx, "other")
	if err != nil || bytes.Equal(a, c) {
		t.Errorf("another name = %x, %v; want a different secret", c, err)
	}
	if _, err := s.Secret(ctx, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty name: %v", err)
	}
}
