package store

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestTeamsAndMemberships(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	alice := mustUser(t, s, "alice", false)
	bob := mustUser(t, s, "bob", false)

	red, err := s.CreateTeam(ctx, "red")
	if err != nil {
		t.Fatal(err)
	}
	blue, err := s.CreateTeam(ctx, "blue")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTeam(ctx, "RED"); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate team: got %v, want ErrExists", err)
	}
	if _, err := s.CreateTeam(ctx, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty team name: got %v, want ErrInvalid", err)
	}

	for _, f := range []string{"f-red-2", "f-red-1"} {
		if err := s.AssignFolder(ctx, red.ID, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AssignFolder(ctx, red.ID, "f-red-1"); err != nil {
		t.Errorf("assign twice: %v", err)
	}
	if err := s.AssignFolder(ctx, blue.ID, "f-blue"); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignFolder(ctx, 9999, "f"); !errors.Is(err, ErrNotFound) {
		t.Errorf("assign to a missing team: got %v, want ErrNotFound", err)
	}
	if got, err := s.TeamFolders(ctx, red.ID); err != nil || !slices.Equal(got, []string{"f-red-1", "f-red-2"}) {
		t.Errorf("TeamFolders(red) = %v, %v", got, err)
	}

	if err := s.AddMember(ctx, red.ID, alice.ID, RoleViewer); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, red.ID, alice.ID, RoleEditor); err != nil { // a role change
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, blue.ID, alice.ID, RoleCopier); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, blue.ID, bob.ID, RoleViewer); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, red.ID, bob.ID, "owner"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown role: got %v, want ErrInvalid", err)
	}
	if err := s.AddMember(ctx, red.ID, 9999, RoleViewer); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing user: got %v, want ErrNotFound", err)
	}

	ms, err := s.Memberships(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 ||
		ms[0].Team.Name != "blue" || ms[0].Role != RoleCopier || !slices.Equal(ms[0].Team.Folders, []string{"f-blue"}) ||
		ms[1].Team.Name != "red" || ms[1].Role != RoleEditor || !slices.Equal(ms[1].Team.Folders, []string{"f-red-1", "f-red-2"}) {
		t.Errorf("Memberships(alice) = %+v", ms)
	}
	members, err := s.Members(ctx, blue.ID)
	if err != nil || len(members) != 2 || members[0].User.ID != alice.ID || members[1].Role != RoleViewer {
		t.Errorf("Members(blue) = %+v, %v", members, err)
	}

	ts, err := s.Teams(ctx)
	if err != nil || len(ts) != 2 || ts[0].Name != "blue" || !slices.Equal(ts[1].Folders, []string{"f-red-1", "f-red-2"}) {
		t.Errorf("Teams = %+v, %v", ts, err)
	}
	if got, err := s.Team(ctx, red.ID); err != nil || got.Name != "red" || len(got.Folders) != 2 {
		t.Errorf("Team(red) = %+v, %v", got, err)
	}
	if _, err := s.Team(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Team(9999): got %v, want ErrNotFound", err)
	}

	if err := s.RemoveMember(ctx, blue.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(ctx, blue.ID, bob.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove twice: got %v, want ErrNotFound", err)
	}
	if err := s.UnassignFolder(ctx, red.ID, "f-red-2"); err != nil {
		t.Fatal(err)
	}
	if err := s.UnassignFolder(ctx, red.ID, "f-red-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unassign twice: got %v, want ErrNotFound", err)
	}

	// Deleting a user or a team takes its memberships with it.
	if err := s.DeleteTeam(ctx, red.ID); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.Memberships(ctx, alice.ID); len(ms) != 1 || ms[0].Team.ID != blue.ID {
		t.Errorf("Memberships after deleting red = %+v", ms)
	}
	if err := s.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if members, _ := s.Members(ctx, blue.ID); len(members) != 0 {
		t.Errorf("Members(blue) after deleting alice = %+v", members)
	}
}

func TestSharedFolders(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, f := range []string{"golden", "alpha", "golden"} {
		if err := s.SetFolderShared(ctx, f, true); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.SharedFolders(ctx); err != nil || !slices.Equal(got, []string{"alpha", "golden"}) {
		t.Errorf("SharedFolders = %v, %v", got, err)
	}
	if err := s.SetFolderShared(ctx, "alpha", false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SharedFolders(ctx); !slices.Equal(got, []string{"golden"}) {
		t.Errorf("SharedFolders after unsharing alpha = %v", got)
	}
	if err := s.SetFolderShared(ctx, "", true); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty folder id: got %v, want ErrInvalid", err)
	}
}
