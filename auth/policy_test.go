package auth

import (
	"slices"
	"testing"

	"github.com/imagedash/imagedash/store"
)

func TestPolicyMatrix(t *testing.T) {
	const (
		teamA  = "folder-a"
		teamB  = "folder-b"
		shared = "golden"
		other  = "nobodys"
	)
	member := func(role store.Role, folders ...string) []store.Membership {
		return []store.Membership{{Team: store.Team{ID: 1, Name: "t", Folders: folders}, Role: role}}
	}
	type can struct{ view, copyInto, edit bool }
	people := []struct {
		name string
		user store.User
		ms   []store.Membership
		want map[string]can // by folder
	}{
		{"anonymous", store.User{}, nil, map[string]can{}},
		{"viewer of A", store.User{ID: 1}, member(store.RoleViewer, teamA),
			map[string]can{teamA: {view: true}, shared: {view: true}}},
		{"copier of A", store.User{ID: 2}, member(store.RoleCopier, teamA),
			map[string]can{teamA: {view: true, copyInto: true}, shared: {view: true}}},
		{"editor of A", store.User{ID: 3}, member(store.RoleEditor, teamA),
			map[string]can{teamA: {true, true, true}, shared: {view: true}}},
		{"editor of B", store.User{ID: 4}, member(store.RoleEditor, teamB),
			map[string]can{teamB: {true, true, true}, shared: {view: true}}},
		{"viewer of A, copier of A by another team", store.User{ID: 5},
			append(member(store.RoleViewer, teamA), member(store.RoleCopier, teamA)...),
			map[string]can{teamA: {view: true, copyInto: true}, shared: {view: true}}},
		{"admin", store.User{ID: 6, Admin: true}, nil,
			map[string]can{teamA: {true, true, true}, teamB: {true, true, true}, shared: {true, true, true}, other: {true, true, true}}},
		{"disabled admin", store.User{ID: 7, Admin: true, Disabled: true}, member(store.RoleEditor, teamA), map[string]can{}},
	}
	folders := []string{teamA, teamB, shared, other}
	for _, pp := range people {
		p := NewPolicy(pp.user, pp.ms, []string{shared})
		for _, f := range folders {
			want := pp.want[f]
			got := can{p.CanView(f), p.CanCopyInto(f), p.CanEdit(f)}
			if got != want {
				t.Errorf("%s on %s: got %+v, want %+v", pp.name, f, got, want)
			}
			if p.CanDelete(f) != want.edit {
				t.Errorf("%s: CanDelete(%s) = %t, want %t", pp.name, f, p.CanDelete(f), want.edit)
			}
		}
		var wantVisible, wantTargets []string
		for _, f := range folders {
			if pp.want[f].view {
				wantVisible = append(wantVisible, f)
			}
			if pp.want[f].copyInto {
				wantTargets = append(wantTargets, f)
			}
		}
		if got := p.VisibleFolders(folders); !slices.Equal(got, wantVisible) {
			t.Errorf("%s: VisibleFolders = %v, want %v", pp.name, got, wantVisible)
		}
		if got := p.CopyTargets(folders); !slices.Equal(got, wantTargets) {
			t.Errorf("%s: CopyTargets = %v, want %v", pp.name, got, wantTargets)
		}
	}
}

func TestPolicyCopy(t *testing.T) {
	copierA := NewPolicy(store.User{ID: 1},
		[]store.Membership{{Team: store.Team{Folders: []string{"a"}}, Role: store.RoleCopier}}, []string{"golden"})
	tests := []struct {
		from, to string
		want     bool
	}{
		{"golden", "a", true}, // a shared image into the team's folder
		{"a", "a", true},
		{"b", "a", false},      // another team's image is not visible
		{"golden", "b", false}, // not into another team's folder
		{"a", "golden", false}, // nor into a shared folder
	}
	for _, tt := range tests {
		if got := copierA.CanCopy(tt.from, tt.to); got != tt.want {
			t.Errorf("CanCopy(%s → %s) = %t, want %t", tt.from, tt.to, got, tt.want)
		}
	}
	if r := copierA.Role("a"); r != store.RoleCopier {
		t.Errorf("Role(a) = %q, want copier", r)
	}
	if r := copierA.Role("golden"); r != "" {
		t.Errorf("Role(golden) = %q, want none", r)
	}
}
