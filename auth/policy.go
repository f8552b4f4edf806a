package auth

import (
	"slices"

	"github.com/imagedash/imagedash/store"
)

// rank orders the roles: each may do what the lower ones may.
func rank(r store.Role) int {
	switch r {
	case store.RoleViewer:
		return 1
	case store.RoleCopier:
		return 2
	case store.RoleEditor:
		return 3
	}
	return 0
}

// Policy answers what one person may do with which folder. It is built
// per request from the store (user, memberships, shared folders) and is
// immutable; a zero Policy (anonymous) may do nothing.
type Policy struct {
	admin  bool
	best   map[string]int // folder → highest rank over the person's teams
	shared map[string]bool
}

// NewPolicy is the policy of user u, member of ms, with the shared folders.
// A disabled user may do nothing, admin or not.
func NewPolicy(u store.User, ms []store.Membership, shared []string) Policy {
	if u.Disabled || u.ID == 0 {
		return Policy{}
	}
	p := Policy{admin: u.Admin, best: make(map[string]int), shared: make(map[string]bool, len(shared))}
	for _, m := range ms {
		r := rank(m.Role)
		for _, f := range m.Team.Folders {
			if r > p.best[f] {
				p.best[f] = r
			}
		}
	}
	for _, f := range shared {
		p.shared[f] = true
	}
	return p
}

// Admin tells whether the person manages users, teams and folders.
func (p Policy) Admin() bool { return p.admin }

// Role is the person's highest role in folder (through any team), or "".
func (p Policy) Role(folder string) store.Role {
	for _, r := range store.Roles {
		if rank(r) == p.best[folder] {
			return r
		}
	}
	return ""
}

// CanView tells whether the person may see folder and its images: its
// team's folders (any role), the shared folders, everything for an admin.
func (p Policy) CanView(folder string) bool {
	return p.admin || p.shared[folder] || p.best[folder] >= rank(store.RoleViewer)
}

// CanCopyInto tells whether the person may copy an image into folder: a
// copier or editor of a team that owns it, or an admin.
func (p Policy) CanCopyInto(folder string) bool {
	return p.admin || p.best[folder] >= rank(store.RoleCopier)
}

// CanCopy tells whether the person may copy an image of folder from into
// folder to: the source must be visible and the target theirs to copy into.
func (p Policy) CanCopy(from, to string) bool { return p.CanView(from) && p.CanCopyInto(to) }

// CanEdit tells whether the person may change or delete images of folder:
// an editor of a team that owns it, or an admin.
func (p Policy) CanEdit(folder string) bool {
	return p.admin || p.best[folder] >= rank(store.RoleEditor)
}

// CanDelete is CanEdit: the editor role covers both.
func (p Policy) CanDelete(folder string) bool { return p.CanEdit(folder) }

// CanDeleteOwnFailedCopy tells whether the person may delete, in folder,
// the ERROR image that a failed copy of their own left: a copier (or
// above) of a team that owns it. The policy knows roles only; the caller
// must also check that the image is ERROR and that the dashboard's
// operations record this person's failed copy as having made it.
func (p Policy) CanDeleteOwnFailedCopy(folder string) bool { return p.CanCopyInto(folder) }

// VisibleFolders keeps the folders of all that the person may see, in order.
func (p Policy) VisibleFolders(all []string) []string { return filter(all, p.CanView) }

// CopyTargets keeps the folders of all the person may copy into, in order.
func (p Policy) CopyTargets(all []string) []string { return filter(all, p.CanCopyInto) }

func filter(all []string, keep func(string) bool) []string {
	var out []string
	for _, f := range all {
		if keep(f) {
			out = append(out, f)
		}
	}
	return out
}

// Folders lists the folders the person may see, sorted; all is true for an
// admin, who sees every folder (the list is then nil). A list query
// narrowed to these shows nothing the person may not see.
func (p Policy) Folders() (ids []string, all bool) {
	if p.admin {
		return nil, true
	}
	for f, r := range p.best {
		if r >= rank(store.RoleViewer) {
			ids = append(ids, f)
		}
	}
	for f := range p.shared {
		if p.best[f] < rank(store.RoleViewer) {
			ids = append(ids, f)
		}
	}
	slices.Sort(ids)
	return ids, false
}
