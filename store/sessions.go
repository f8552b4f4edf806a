package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Session is one server-side session row. The store does not interpret ID
// or Data; package auth decides what they hold and when a session ends
// (ExpiresAt is the earlier of its idle and absolute deadlines).
type Session struct {
	ID         string
	UserID     int64 // 0: nobody logged in
	Data       []byte
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// sessionTx is tx for writes to the sessions: it moves the sessions'
// generation afterwards (and so empties the session cache).
func (s *Store) sessionTx(ctx context.Context, fn func(*sql.Tx) error) error {
	defer s.sessGen.Add(1)
	return s.tx(ctx, fn)
}

func nullUser(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

func checkSession(sess Session) error {
	switch {
	case sess.ID == "":
		return fmt.Errorf("%w: empty session id", ErrInvalid)
	case sess.CreatedAt.IsZero() || sess.LastSeenAt.IsZero() || sess.ExpiresAt.IsZero():
		return fmt.Errorf("%w: session without its times", ErrInvalid)
	}
	return nil
}

// SaveSession writes a session: a new row, or new values, user, last-seen
// time and deadline for an existing one (whose CreatedAt stays). A UserID
// that no longer exists is ErrNotFound.
func (s *Store) SaveSession(ctx context.Context, sess Session) error {
	if err := checkSession(sess); err != nil {
		return fmt.Errorf("store: save session: %w", err)
	}
	err := s.sessionTx(ctx, func(tx *sql.Tx) error { return upsertSession(ctx, tx, sess) })
	if isForeignKey(err) {
		return fmt.Errorf("store: save session: %w: user %d", ErrNotFound, sess.UserID)
	}
	if err != nil {
		return fmt.Errorf("store: save session: %w", err)
	}
	return nil
}

func upsertSession(ctx context.Context, tx *sql.Tx, sess Session) error {
	data := sess.Data
	if data == nil {
		data = []byte{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, data, created_at, last_seen_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data,
	last_seen_at = excluded.last_seen_at, expires_at = excluded.expires_at`,
		sess.ID, nullUser(sess.UserID), data, ms(sess.CreatedAt), ms(sess.LastSeenAt), ms(sess.ExpiresAt))
	return err
}

// ReplaceSession deletes the session oldID (if it exists) and writes sess
// in its place, in one transaction: the id change at login.
func (s *Store) ReplaceSession(ctx context.Context, oldID string, sess Session) error {
	if err := checkSession(sess); err != nil {
		return fmt.Errorf("store: replace session: %w", err)
	}
	err := s.sessionTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, oldID); err != nil {
			return err
		}
		return upsertSession(ctx, tx, sess)
	})
	if isForeignKey(err) {
		return fmt.Errorf("store: replace session: %w: user %d", ErrNotFound, sess.UserID)
	}
	if err != nil {
		return fmt.Errorf("store: replace session: %w", err)
	}
	return nil
}

// LoadSession reads a session that has not expired at now (the caller's
// clock). A missing or expired session is ErrNotFound.
func (s *Store) LoadSession(ctx context.Context, id string, now time.Time) (Session, error) {
	if sess, ok := s.sessions.get(id, s.sessGen.Load(), s.peopleGen.Load()); ok {
		if !sess.ExpiresAt.After(now) {
			return Session{}, fmt.Errorf("store: load session: %w", ErrNotFound)
		}
		return sess, nil
	}
	gen, people := s.sessGen.Load(), s.peopleGen.Load()
	sess := Session{ID: id}
	var (
		user                     sql.NullInt64
		created, seen, expiresAt int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT user_id, data, created_at, last_seen_at, expires_at
FROM sessions WHERE id = ? AND expires_at > ?`, id, ms(now)).Scan(&user, &sess.Data, &created, &seen, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("store: load session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: load session: %w", err)
	}
	sess.UserID = user.Int64
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expiresAt)
	s.sessions.put(sess, gen, people)
	return sess, nil
}

// sessionCache keeps the sessions read since the last write to the
// sessions (or to the accounts, whose deletion cascades to them): every
// request reads its session, while writes are rare (sign-in, sign-out, a
// touch a minute). Any write empties it, so it never answers what the
// table would not. Callers must not modify a returned Session's Data.
type sessionCache struct {
	mu  sync.Mutex
	gen [2]uint64 // sessGen, peopleGen of the entries
	m   map[string]Session
}

// maxCachedSessions bounds the cache; past it, it starts afresh.
const maxCachedSessions = 10000

func (c *sessionCache) get(id string, gen, people uint64) (Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != [2]uint64{gen, people} {
		return Session{}, false
	}
	sess, ok := c.m[id]
	return sess, ok
}

// put files sess read at (gen, people); a read that raced a write (the
// generations moved since) is not kept.
func (c *sessionCache) put(sess Session, gen, people uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != [2]uint64{gen, people} || c.m == nil || len(c.m) >= maxCachedSessions {
		c.gen, c.m = [2]uint64{gen, people}, make(map[string]Session)
	}
	c.m[sess.ID] = sess
}

// TouchSession records activity on a session without rewriting its data:
// a new last-seen time and deadline. A missing session is ErrNotFound.
func (s *Store) TouchSession(ctx context.Context, id string, lastSeen, expires time.Time) error {
	err := s.sessionTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?`,
			ms(lastSeen), ms(expires), id)
	})
	if err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSession deletes a session; deleting one that does not exist is
// not an error (logging out twice is fine).
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	err := s.sessionTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user ("log out everywhere")
// and says how many there were.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int, error) {
	var n int64
	err := s.sessionTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete sessions of user %d: %w", userID, err)
	}
	return int(n), nil
}

// SweepSessions deletes the sessions expired at now and says how many.
func (s *Store) SweepSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.sessionTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, ms(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: sweep sessions: %w", err)
	}
	return int(n), nil
}
