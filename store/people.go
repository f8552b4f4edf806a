package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
)

// peopleTx is tx for writes to users, teams, memberships, team folders and
// shared folders: it bumps the people generation afterwards, whether or
// not fn succeeded (a spurious bump only costs a cache miss).
func (s *Store) peopleTx(ctx context.Context, fn func(*sql.Tx) error) error {
	defer s.peopleGen.Add(1)
	return s.tx(ctx, fn)
}

// PeopleGeneration changes after every write to users, teams, memberships,
// team folders or shared folders. A value derived from them (a person's
// permissions) read at generation g is still right while the generation is
// g, so the web layer caches permissions per request without a query.
func (s *Store) PeopleGeneration() uint64 { return s.peopleGen.Load() }

// Principal reads, in one snapshot, what a person's permissions derive
// from: the account, its memberships and the shared folders.
func (s *Store) Principal(ctx context.Context, userID int64) (User, []Membership, []string, error) {
	var (
		u      User
		ms     []Membership
		shared []string
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, userID))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if ms, err = memberships(ctx, tx, userID); err != nil {
			return err
		}
		shared, err = sharedFolders(ctx, tx)
		return err
	})
	if err != nil {
		return User{}, nil, nil, fmt.Errorf("store: principal %d: %w", userID, err)
	}
	return u, ms, shared, nil
}

// secretSize is the length of a generated secret: 64 bytes serves as a
// securecookie hash key (HMAC-SHA256 accepts any length; 32 or 64 advised).
const secretSize = 64

// Secret returns the named secret, generating and storing a random one
// the first time. Two processes asking at once get the same value: the
// insert is OR IGNORE and the value is read back in the same transaction.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("store: secret: %w: empty name", ErrInvalid)
	}
	var val []byte
	err := s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&val)
	})
	if err == nil {
		return val, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	fresh := make([]byte, secretSize)
	_, _ = rand.Read(fresh) // crypto/rand.Read never fails (Go 1.24+)
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO secrets (name, value, created_at) VALUES (?, ?, ?)`,
			name, fresh, ms(s.now())); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&val)
	})
	if err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	return val, nil
}
