package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrExists: a user or team of that name exists already (a 409 or a
	// form message for the handler).
	ErrExists = errors.New("already exists")
	// ErrLastAdmin: the change would leave no enabled admin. It is also an
	// ErrInvalid.
	ErrLastAdmin = fmt.Errorf("%w: it would leave no enabled admin", ErrInvalid)
)

// maxNameLen bounds usernames and team names (in characters).
const maxNameLen = 64

// User is an account of the dashboard. PasswordHash is opaque to the store
// (package auth makes and checks it).
type User struct {
	ID                int64
	Username          string
	PasswordHash      string
	Admin             bool
	Disabled          bool
	CreatedAt         time.Time
	PasswordChangedAt time.Time
	// SessionsGen moves each time the user's sessions are revoked; a
	// sign-in passes the value it read to the session it creates
	// (Session.UserGen).
	SessionsGen int64
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Username     string
	PasswordHash string
	Admin        bool
}

// checkName validates a username or team name: 1 to 64 characters, no
// control characters, no surrounding spaces.
func checkName(what, name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return fmt.Errorf("%w: empty %s", ErrInvalid, what)
	case n > maxNameLen:
		return fmt.Errorf("%w: %s longer than %d characters", ErrInvalid, what, maxNameLen)
	case !utf8.ValidString(name) || strings.TrimSpace(name) != name:
		return fmt.Errorf("%w: %s %q has surrounding spaces or is not UTF-8", ErrInvalid, what, name)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: %s %q has control characters", ErrInvalid, what, name)
	}
	return nil
}

// sqliteCode is the extended result code of err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isForeignKey(err error) bool { return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY }

const userColumns = `id, username, password_hash, is_admin, disabled, created_at, password_changed_at, sessions_gen`

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func scanUser(sc rowScanner) (User, error) {
	var (
		u              User
		created, pwdAt int64
	)
	if err := sc.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Admin, &u.Disabled, &created, &pwdAt, &u.SessionsGen); err != nil {
		return User{}, err
	}
	u.CreatedAt, u.PasswordChangedAt = fromMS(created), fromMS(pwdAt)
	return u, nil
}

// CreateUser adds an account. Usernames are unique regardless of case
// (ErrExists).
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	if err := checkName("username", nu.Username); err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	now := ms(s.now())
	var u User
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `INSERT INTO users
	(username, password_hash, is_admin, disabled, created_at, password_changed_at)
VALUES (?, ?, ?, 0, ?, ?) RETURNING `+userColumns, nu.Username, nu.PasswordHash, nu.Admin, now, now))
		return err
	})
	if isUnique(err) {
		return User{}, fmt.Errorf("store: create user %q: %w", nu.Username, ErrExists)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: create user %q: %w", nu.Username, err)
	}
	return u, nil
}

// User is the account with that id.
func (s *Store) User(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("store: user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: user %d: %w", id, err)
	}
	return u, nil
}

// UserByName is the account with that username, compared without case.
func (s *Store) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("store: user %q: %w", username, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", username, err)
	}
	return u, nil
}

// Users lists every account by username.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username, id`)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	var us []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return us, nil
}

// CountUsers is the number of accounts (0 on a new database: time to
// create the first admin).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// SetPassword replaces the password hash of a user and records when. It
// does not end the user's sessions: the caller decides (DeleteUserSessions).
func (s *Store) SetPassword(ctx context.Context, id int64, hash string) error {
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?`,
			hash, ms(s.now()), id)
	})
	if err != nil {
		return fmt.Errorf("store: set password of user %d: %w", id, err)
	}
	return nil
}

// SetDisabled disables or enables a user. Disabling also deletes the
// user's sessions, in the same transaction. Disabling the last enabled
// admin is refused (ErrLastAdmin).
func (s *Store) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		if disabled {
			if err := keepAnAdmin(ctx, tx, id); err != nil {
				return err
			}
			if _, err := revokeSessions(ctx, tx, id); err != nil {
				return err
			}
		}
		return execOne(ctx, tx, `UPDATE users SET disabled = ? WHERE id = ?`, disabled, id)
	})
	if err != nil {
		return fmt.Errorf("store: set disabled=%t for user %d: %w", disabled, id, err)
	}
	return nil
}

// SetAdmin grants or revokes the global admin role. Revoking it from the
// last enabled admin is refused (ErrLastAdmin).
func (s *Store) SetAdmin(ctx context.Context, id int64, admin bool) error {
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		if !admin {
			if err := keepAnAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		return execOne(ctx, tx, `UPDATE users SET is_admin = ? WHERE id = ?`, admin, id)
	})
	if err != nil {
		return fmt.Errorf("store: set admin=%t for user %d: %w", admin, id, err)
	}
	return nil
}

// DeleteUser deletes an account with its memberships and sessions. Its
// audit entries stay. Deleting the last enabled admin is refused
// (ErrLastAdmin).
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		if err := keepAnAdmin(ctx, tx, id); err != nil {
			return err
		}
		return execOne(ctx, tx, `DELETE FROM users WHERE id = ?`, id)
	})
	if err != nil {
		return fmt.Errorf("store: delete user %d: %w", id, err)
	}
	return nil
}

// keepAnAdmin fails with ErrLastAdmin when user id is the only enabled
// admin.
func keepAnAdmin(ctx context.Context, tx *sql.Tx, id int64) error {
	var others, self int
	err := tx.QueryRowContext(ctx, `SELECT
	count(*) FILTER (WHERE id <> ?1),
	count(*) FILTER (WHERE id = ?1)
FROM users WHERE is_admin = 1 AND disabled = 0`, id).Scan(&others, &self)
	if err != nil {
		return err
	}
	if self > 0 && others == 0 {
		return ErrLastAdmin
	}
	return nil
}

// execOne runs a statement that must change exactly one row; none is
// ErrNotFound.
func execOne(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
