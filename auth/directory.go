package auth

import (
	"context"
	"fmt"
	"sync"

	"github.com/imagedash/imagedash/store"
)

// PrincipalSource is what a Directory reads. *store.Store satisfies it.
type PrincipalSource interface {
	Principal(ctx context.Context, userID int64) (store.User, []store.Membership, []string, error)
	PeopleGeneration() uint64
}

var _ PrincipalSource = (*store.Store)(nil)

// Directory answers who a user id is and what they may do, for every
// request. Accounts and teams change rarely and pages are requested
// often, so it keeps the answers until the store's people generation
// moves: any write to users, teams or sharing empties it at once, so a
// disabled account or a removed membership takes effect on the next
// request.
type Directory struct {
	src PrincipalSource

	mu  sync.Mutex
	gen uint64
	m   map[int64]principal
}

type principal struct {
	user   store.User
	policy Policy
}

// maxDirectory bounds the cache; past it, it starts afresh (a cheap miss,
// and it cannot grow with every id a forged session might name).
const maxDirectory = 10000

// NewDirectory is a Directory over src.
func NewDirectory(src PrincipalSource) *Directory {
	return &Directory{src: src, m: make(map[int64]principal)}
}

// Lookup returns the account with id and its policy. A missing account is
// store.ErrNotFound (wrapped); the caller treats it as signed out.
func (d *Directory) Lookup(ctx context.Context, id int64) (store.User, Policy, error) {
	gen := d.src.PeopleGeneration()
	d.mu.Lock()
	if d.gen != gen || len(d.m) >= maxDirectory {
		clear(d.m)
		d.gen = gen
	}
	p, ok := d.m[id]
	d.mu.Unlock()
	if ok {
		return p.user, p.policy, nil
	}

	u, ms, shared, err := d.src.Principal(ctx, id)
	if err != nil {
		return store.User{}, Policy{}, fmt.Errorf("auth: look up user %d: %w", id, err)
	}
	p = principal{user: u, policy: NewPolicy(u, ms, shared)}
	d.mu.Lock()
	// Only cache what was read at the generation it is filed under: a write
	// between the read and here must not be hidden behind the old answer.
	if d.gen == gen && d.src.PeopleGeneration() == gen {
		d.m[id] = p
	}
	d.mu.Unlock()
	return p.user, p.policy, nil
}
