package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
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

// Prefs are a person's list preferences. A person who never saved any
// has the defaults (not an error). Every list request asks, so they are
// kept in memory once read, until the next write to the preferences or to
// the people (a deleted account's id may be given again): a warm list
// request reads nothing. The Hidden slice is shared: read it, never change
// it.
func (s *Store) Prefs(ctx context.Context, userID int64) (Prefs, error) {
	gen, people := s.prefsGen.Load(), s.peopleGen.Load()
	if p, ok := s.prefs.get(userID, gen, people); ok {
		return p, nil
	}
	var (
		p      Prefs
		hidden string
	)
	err := s.r.QueryRowContext(ctx, `SELECT density, hidden_columns, absolute_times FROM user_prefs WHERE user_id = ?`, userID).
		Scan(&p.Density, &hidden, &p.AbsoluteTimes)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		p = Prefs{Density: DensityComfortable}
	case err != nil:
		return Prefs{}, fmt.Errorf("store: prefs of user %d: %w", userID, err)
	case hidden != "":
		p.Hidden = strings.Split(hidden, ",")
	}
	s.prefs.put(userID, p, gen, people)
	return p, nil
}

// prefsCache holds the preferences read at one (prefsGen, peopleGen).
type prefsCache struct {
	mu  sync.Mutex
	gen [2]uint64
	m   map[int64]Prefs
}

// maxCachedPrefs bounds the cache; past it, it starts afresh.
const maxCachedPrefs = 10000

func (c *prefsCache) get(id int64, gen, people uint64) (Prefs, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != [2]uint64{gen, people} {
		return Prefs{}, false
	}
	p, ok := c.m[id]
	return p, ok
}

// put files p read at (gen, people); a read that raced a write (the
// generations moved since) is filed under the old ones, where no later
// get looks.
func (c *prefsCache) put(id int64, p Prefs, gen, people uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != [2]uint64{gen, people} || c.m == nil || len(c.m) >= maxCachedPrefs {
		c.gen, c.m = [2]uint64{gen, people}, make(map[int64]Prefs)
	}
	c.m[id] = p
}

// SavePrefs replaces a person's list preferences. A bad density or column
// key is ErrInvalid; a user that does not exist is ErrNotFound.
func (s *Store) SavePrefs(ctx context.Context, userID int64, p Prefs) error {
	p, err := p.normalize()
	if err != nil {
		return fmt.Errorf("store: save prefs of user %d: %w", userID, err)
	}
	// The generation moves once the write is over, committed or not: a
	// read from before it is not served after.
	defer s.prefsGen.Add(1)
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
