package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"
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
	// UserGen is the user's SessionsGen read at sign-in (User.SessionsGen):
	// the row is created only if it is still the user's, so a sign-in
	// that raced a revocation does not survive it.
	UserGen int64
	// UserAgent and IP are the client's at sign-in, shown to the owner.
	UserAgent string
	IP        string
	// SignIn marks the write of a sign-in that has just checked the
	// password: the row it replaces may be gone already (a double click,
	// two tabs signing in at once) without that being a revocation.
	// Never stored.
	SignIn bool
	// PasswordChangedAt, for a sign-in, is the time of the password it
	// checked (User.PasswordChangedAt): a password reset since then
	// refuses the session (ErrRevoked), even one that ends no sessions.
	// Never stored.
	PasswordChangedAt time.Time
}

// ErrRevoked: the session (or, at sign-in, every session of the user) was
// ended after the caller read it. The caller is signed out.
var ErrRevoked = errors.New("session ended")

// MaxSessionsPerUser is how many signed-in sessions a user keeps: a
// sign-in past it ends the oldest.
const MaxSessionsPerUser = 20

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

// Bounds of what a session row keeps of its client.
const (
	maxSessionAgent = 512
	maxSessionIP    = 64
)

// CreateSession writes a new session. Its id must be new (ErrExists
// otherwise: an id is never reused, so a session once ended stays ended).
// A signed-in session is written only while sess.UserGen is the user's
// SessionsGen and the account is enabled (ErrRevoked otherwise; a UserID
// that does not exist is both ErrRevoked and ErrNotFound); past MaxSessionsPerUser, the user's
// oldest sessions end in the same transaction.
func (s *Store) CreateSession(ctx context.Context, sess Session) error {
	if err := checkSession(sess); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	if err := s.sessionTx(ctx, func(tx *sql.Tx) error { return insertSession(ctx, tx, sess) }); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

func insertSession(ctx context.Context, tx *sql.Tx, sess Session) error {
	data := sess.Data
	if data == nil {
		data = []byte{}
	}
	agent, ip := truncate(sess.UserAgent, maxSessionAgent), truncate(sess.IP, maxSessionIP)
	if sess.UserID == 0 {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, data, created_at, last_seen_at, expires_at, user_gen, user_agent, ip)
VALUES (?, NULL, ?, ?, ?, ?, 0, ?, ?)`, sess.ID, data, ms(sess.CreatedAt), ms(sess.LastSeenAt), ms(sess.ExpiresAt), agent, ip)
		if isUnique(err) {
			return ErrExists
		}
		return err
	}
	var gen, pwdAt int64
	var disabled bool
	err := tx.QueryRowContext(ctx, `SELECT sessions_gen, disabled, password_changed_at FROM users WHERE id = ?`,
		sess.UserID).Scan(&gen, &disabled, &pwdAt)
	if errors.Is(err, sql.ErrNoRows) {
		// Deleted: as revoked as can be.
		return fmt.Errorf("%w: %w: user %d", ErrRevoked, ErrNotFound, sess.UserID)
	}
	if err != nil {
		return err
	}
	if gen != sess.UserGen || disabled || !sess.PasswordChangedAt.IsZero() && ms(sess.PasswordChangedAt) != pwdAt {
		return ErrRevoked
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, data, created_at, last_seen_at, expires_at, user_gen, user_agent, ip)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sess.ID, sess.UserID, data, ms(sess.CreatedAt), ms(sess.LastSeenAt), ms(sess.ExpiresAt),
		gen, agent, ip)
	if isUnique(err) {
		return ErrExists
	}
	if err != nil {
		return err
	}
	// The newest MaxSessionsPerUser stay (the new one among them).
	_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2 AND id NOT IN (
	SELECT id FROM sessions WHERE user_id = ?1 AND id <> ?2 ORDER BY created_at DESC, last_seen_at DESC LIMIT ?3)`,
		sess.UserID, sess.ID, MaxSessionsPerUser-1)
	return err
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// UpdateSession writes new values, last-seen time and deadline of an
// existing session (its user, creation time and client stay). It never
// creates a row: a session that was ended (deleted, or its user's sessions
// revoked since it was created) is ErrRevoked, as is one whose UserID is
// not the row's (a sign-in goes through CreateSession or ReplaceSession).
func (s *Store) UpdateSession(ctx context.Context, sess Session) error {
	if err := checkSession(sess); err != nil {
		return fmt.Errorf("store: update session: %w", err)
	}
	data := sess.Data
	if data == nil {
		data = []byte{}
	}
	err := s.sessionTx(ctx, func(tx *sql.Tx) error {
		// One statement: the revocation check and the write cannot be
		// split by a revocation.
		err := execOne(ctx, tx, `UPDATE sessions SET data = ?, last_seen_at = ?, expires_at = ?
WHERE id = ? AND user_id IS ? AND (user_id IS NULL OR user_gen = (SELECT sessions_gen FROM users WHERE users.id = sessions.user_id))`,
			data, ms(sess.LastSeenAt), ms(sess.ExpiresAt), sess.ID, nullUser(sess.UserID))
		if errors.Is(err, ErrNotFound) {
			return ErrRevoked
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: update session: %w", err)
	}
	return nil
}

// ReplaceSession deletes the session oldID and creates sess in its place,
// in one transaction: the id change at sign-in and sign-out. sess is
// created as by CreateSession (ErrRevoked when the user's sessions were
// revoked after sess.UserGen was read); a signed-in sess is ErrRevoked too
// when the row oldID no longer exists (it was ended after it was loaded),
// unless it is a sign-in's (sess.SignIn).
func (s *Store) ReplaceSession(ctx context.Context, oldID string, sess Session) error {
	if err := checkSession(sess); err != nil {
		return fmt.Errorf("store: replace session: %w", err)
	}
	err := s.sessionTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, oldID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 && sess.UserID != 0 && !sess.SignIn {
			// The session the caller loaded was ended meanwhile (signed
			// out, ended by its owner): it must not come back signed in
			// under a new id.
			return ErrRevoked
		}
		return insertSession(ctx, tx, sess)
	})
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
// and says how many there were. It moves the user's SessionsGen in the
// same transaction, so no request that read a session (or a sign-in that
// read the user) before it can write one back.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int, error) {
	var n int64
	err := s.sessionTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = revokeSessions(ctx, tx, userID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete sessions of user %d: %w", userID, err)
	}
	return int(n), nil
}

// revokeSessions moves the user's SessionsGen and deletes the user's
// sessions, saying how many.
func revokeSessions(ctx context.Context, tx *sql.Tx, userID int64) (int64, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET sessions_gen = sessions_gen + 1 WHERE id = ?`, userID); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
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

// UserSessions lists the user's sessions live at now, newest sign-in
// first (without their Data).
func (s *Store) UserSessions(ctx context.Context, userID int64, now time.Time) ([]Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, created_at, last_seen_at, expires_at, user_gen, user_agent, ip
FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, last_seen_at DESC`, userID, ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: sessions of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		sess := Session{UserID: userID}
		var created, seen, expires int64
		if err := rows.Scan(&sess.ID, &created, &seen, &expires, &sess.UserGen, &sess.UserAgent, &sess.IP); err != nil {
			return nil, fmt.Errorf("store: sessions of user %d: %w", userID, err)
		}
		sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sessions of user %d: %w", userID, err)
	}
	return out, nil
}

// EndUserSession ends the session id of the user userID. A session that
// does not exist or is another user's is ErrNotFound, alike: the owner is
// checked in the statement, not only by the caller.
func (s *Store) EndUserSession(ctx context.Context, userID int64, id string) error {
	err := s.sessionTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `DELETE FROM sessions WHERE id = ? AND user_id = ?`, id, userID)
	})
	if err != nil {
		return fmt.Errorf("store: end session of user %d: %w", userID, err)
	}
	return nil
}

// EndOtherUserSessions ends every session of the user but keep (the one
// the person is using) and says how many it ended.
func (s *Store) EndOtherUserSessions(ctx context.Context, userID int64, keep string) (int, error) {
	var n int64
	err := s.sessionTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keep)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: end other sessions of user %d: %w", userID, err)
	}
	return int(n), nil
}
