package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Densities of the image lists.
const (
	DensityComfortable = "comfortable"
	DensityCompact     = "compact"
)

// MaxHiddenColumns bounds how many column keys a person may hide: more
// than any table has, few enough that a forged form cannot grow the row.
const MaxHiddenColumns = 32

// maxColumnKey bounds a column key's length.
const maxColumnKey = 32

// Prefs is how a person likes the image lists. The zero value is the
// defaults (comfortable, every column, relative times).
type Prefs struct {
	// Density is DensityComfortable or DensityCompact ("" reads as
	// comfortable).
	Density string
	// Hidden are the keys of the optional columns the person hid, sorted
	// and without repeats. Which keys exist is the views' to say; the store
	// checks only their shape.
	Hidden []string
	// AbsoluteTimes shows times as dates rather than "3 h ago".
	AbsoluteTimes bool
}

// Compact reports whether the lists are compact.
func (p Prefs) Compact() bool { return p.Density == DensityCompact }

// normalize checks p and returns it in its stored form: the density
// spelled out, the keys sorted without repeats. A bad value is ErrInvalid,
// naming it.
func (p Prefs) normalize() (Prefs, error) {
	switch p.Density {
	case "":
		p.Density = DensityComfortable
	case DensityComfortable, DensityCompact:
	default:
		return Prefs{}, fmt.Errorf("%w: density %q", ErrInvalid, prefsClip(p.Density))
	}
	hidden := slices.Clone(p.Hidden)
	slices.Sort(hidden)
	hidden = slices.Compact(hidden)
	if len(hidden) > MaxHiddenColumns {
		return Prefs{}, fmt.Errorf("%w: %d hidden columns, at most %d", ErrInvalid, len(hidden), MaxHiddenColumns)
	}
	for _, k := range hidden {
		if !columnKey(k) {
			return Prefs{}, fmt.Errorf("%w: column key %q", ErrInvalid, prefsClip(k))
		}
	}
	if len(hidden) == 0 {
		hidden = nil
	}
	p.Hidden = hidden
	return p, nil
}

// columnKey reports whether k has a column key's shape: a lowercase
// letter, then lowercase letters, digits and underscores. No comma can
// hide in one, so the stored list splits back as written.
func columnKey(k string) bool {
	if k == "" || len(k) > maxColumnKey || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for i := 1; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// prefsClip shortens a rejected value for an error message.
func prefsClip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Prefs are a person's list preferences: one read by primary key. A person
// who never saved any has the defaults (not an error).
func (s *Store) Prefs(ctx context.Context, userID int64) (Prefs, error) {
	var (
		p      Prefs
		hidden string
	)
	err := s.r.QueryRowContext(ctx, `SELECT density, hidden_columns, absolute_times FROM user_prefs WHERE user_id = ?`, userID).
		Scan(&p.Density, &hidden, &p.AbsoluteTimes)
	if errors.Is(err, sql.ErrNoRows) {
		return Prefs{Density: DensityComfortable}, nil
	}
	if err != nil {
		return Prefs{}, fmt.Errorf("store: prefs of user %d: %w", userID, err)
	}
	if hidden != "" {
		p.Hidden = strings.Split(hidden, ",")
	}
	return p, nil
}

// SavePrefs replaces a person's list preferences. A bad density or column
// key is ErrInvalid; a user that does not exist is ErrNotFound.
func (s *Store) SavePrefs(ctx context.Context, userID int64, p Prefs) error {
	p, err := p.normalize()
	if err != nil {
		return fmt.Errorf("store: save prefs of user %d: %w", userID, err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO user_prefs (user_id, density, hidden_columns, absolute_times, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (user_id) DO UPDATE SET density = excluded.density, hidden_columns = excluded.hidden_columns,
	absolute_times = excluded.absolute_times, updated_at = excluded.updated_at`,
			userID, p.Density, strings.Join(p.Hidden, ","), p.AbsoluteTimes, ms(s.now()))
		return err
	})
	if isForeignKey(err) {
		return fmt.Errorf("store: save prefs of user %d: %w", userID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: save prefs of user %d: %w", userID, err)
	}
	return nil
}
