package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/imagedash/imagedash/store"
)

// Session value keys this package reads. Values are gob-encoded: a value
// of a type of your own needs gob.Register.
const (
	// UserIDKey holds the int64 id of the logged-in user; Save copies it to
	// the row so that DeleteUserSessions finds the session.
	UserIDKey = "uid"
	// createdKey holds the unix ms the session started (at its first save
	// or its last Rotate), for the absolute lifetime. Reserved.
	createdKey = "_created"
	// userGenKey, ipKey and agentKey hold what SignIn was given: the
	// user's sessions generation read with the password, and the client.
	// Reserved; write copies them to the row.
	userGenKey = "_ugen"
	ipValKey   = "_ip"
	agentKey   = "_ua"
	// signInKey marks a session SignIn has just filled, with the unix ms
	// of the password it checked, until it is written
	// (store.Session.SignIn, PasswordChangedAt); it is never stored.
	signInKey = "_signin"
)

// SignIn makes s the session of user userID (whose User.SessionsGen and
// PasswordChangedAt, read with the password that was checked, are gen and
// passwordChangedAt), signed in from ip with userAgent: every other value
// is dropped. Call Rotate next; it fails with store.ErrRevoked if the
// user's sessions were revoked, or the password changed, since they were read.
func SignIn(s *sessions.Session, userID, gen int64, passwordChangedAt time.Time, ip, userAgent string) {
	clear(s.Values)
	s.Values[UserIDKey] = userID
	s.Values[userGenKey] = gen
	s.Values[ipValKey] = ip
	s.Values[agentKey] = userAgent
	s.Values[signInKey] = passwordChangedAt.UnixMilli()
}

// RowID is the store's id of session s ("" for a session never saved):
// what store.Session.ID and the store's per-user session calls name.
func RowID(s *sessions.Session) string {
	if s.ID == "" {
		return ""
	}
	return rowID(s.ID)
}

// SessionBackend is what SessionStore needs from the store.
type SessionBackend interface {
	CreateSession(ctx context.Context, sess store.Session) error
	UpdateSession(ctx context.Context, sess store.Session) error
	ReplaceSession(ctx context.Context, oldID string, sess store.Session) error
	LoadSession(ctx context.Context, id string, now time.Time) (store.Session, error)
	TouchSession(ctx context.Context, id string, lastSeen, expires time.Time) error
	DeleteSession(ctx context.Context, id string) error
}

var (
	_ SessionBackend = (*store.Store)(nil)
	_ sessions.Store = (*SessionStore)(nil)
)

// SessionConfig configures a SessionStore. Zero durations take the defaults.
type SessionConfig struct {
	// KeyPairs are securecookie hash and block keys, newest first:
	// hash1, block1, hash2, block2... Cookies are signed with the first
	// pair and accepted with any, so adding a pair in front rotates keys
	// without logging anyone out. Hash keys are 32 or 64 bytes; a block key
	// (nil, or 16/24/32 bytes for AES) also encrypts the cookie.
	KeyPairs [][]byte
	// Idle ends a session not used for this long (default 2 h).
	Idle time.Duration
	// Absolute ends a session this long after login (default 24 h).
	Absolute time.Duration
	// Secure sets the cookie's Secure flag: serve over TLS (or behind a
	// TLS proxy) and set it.
	Secure bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger gets the warning that the store cannot be written, so a
	// session's activity is not recorded (default: discarded).
	Logger *slog.Logger
}

// SessionStore is a gorilla/sessions Store whose values live in SQLite:
// the cookie holds only a signed random id (256 bits); the row is keyed by
// its SHA-256, so a copy of the database holds no usable session id.
//
// An invalid cookie (forged, signed with a retired key, expired, of a
// deleted row) yields a new, empty session without an error; only a
// failing backend is an error.
type SessionStore struct {
	b          SessionBackend
	codecs     []securecookie.Codec
	idle       time.Duration
	absolute   time.Duration
	touchEvery time.Duration
	now        func() time.Time
	options    sessions.Options

	mu      sync.Mutex
	decoded map[string]map[any]any // see decode

	storage storageWarning // see StorageFault
}

// NewSessionStore makes a SessionStore over b.
func NewSessionStore(b SessionBackend, cfg SessionConfig) (*SessionStore, error) {
	if len(cfg.KeyPairs) == 0 {
		return nil, errors.New("auth: session store: no keys")
	}
	for i := 0; i < len(cfg.KeyPairs); i += 2 {
		if n := len(cfg.KeyPairs[i]); n != 32 && n != 64 {
			return nil, fmt.Errorf("auth: session store: hash key %d is %d bytes, want 32 or 64", i/2, n)
		}
		if i+1 < len(cfg.KeyPairs) {
			if n := len(cfg.KeyPairs[i+1]); n != 0 && n != 16 && n != 24 && n != 32 {
				return nil, fmt.Errorf("auth: session store: block key %d is %d bytes, want 0, 16, 24 or 32", i/2, n)
			}
		}
	}
	st := &SessionStore{b: b, idle: cfg.Idle, absolute: cfg.Absolute, now: cfg.Now, decoded: map[string]map[any]any{}}
	if st.idle <= 0 {
		st.idle = 2 * time.Hour
	}
	if st.absolute <= 0 {
		st.absolute = 24 * time.Hour
	}
	if st.now == nil {
		st.now = time.Now
	}
	st.storage.log = cfg.Logger
	if st.storage.log == nil {
		st.storage.log = slog.New(slog.DiscardHandler)
	}
	// Activity is written at most this often, so a page of polling
	// partials costs one write a minute, not one per request; the idle
	// deadline is thus exact to within touchEvery.
	st.touchEvery = min(st.idle/10, time.Minute)
	st.codecs = securecookie.CodecsFromPairs(cfg.KeyPairs...)
	for _, c := range st.codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(st.absolute / time.Second))
		}
	}
	st.options = sessions.Options{
		Path:     "/",
		MaxAge:   int(st.absolute / time.Second),
		Secure:   cfg.Secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	return st, nil
}

// Get returns the named session of the request, cached for the request
// (sessions.GetRegistry).
func (st *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New loads the session the request's cookie names, or makes a new empty
// one (IsNew) when there is no valid cookie or the session ended.
func (st *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	s := st.fresh(name)
	c, err := r.Cookie(name)
	if err != nil {
		return s, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, c.Value, &id, st.codecs...); err != nil || id == "" {
		return s, nil
	}
	ctx, now := r.Context(), st.now()
	row, err := st.b.LoadSession(ctx, rowID(id), now)
	if errors.Is(err, store.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("auth: load session: %w", err)
	}
	if !now.Before(row.LastSeenAt.Add(st.idle)) || !now.Before(row.CreatedAt.Add(st.absolute)) {
		// Over under the current settings (they may be shorter than when
		// the row was written).
		if err := st.b.DeleteSession(ctx, row.ID); err != nil && !st.StorageFault(ctx, "end an expired session", err) {
			return s, fmt.Errorf("auth: end session: %w", err)
		}
		return s, nil
	}
	values, ok := st.decode(row.Data)
	if !ok {
		return s, nil // unreadable (a type no longer registered): start over
	}
	s.Values, s.ID, s.IsNew = values, id, false
	s.Values[createdKey] = row.CreatedAt.UnixMilli()
	if now.Sub(row.LastSeenAt) >= st.touchEvery {
		// Best effort: on a full or read-only disk the session reads as
		// stored (its idle deadline a minute or so early at worst), so
		// every page still answers; writes fail on their own with 507.
		err := st.b.TouchSession(ctx, row.ID, now, st.deadline(row.CreatedAt, now))
		switch {
		case err == nil:
			st.storage.recovered(ctx)
		case errors.Is(err, store.ErrNotFound), st.StorageFault(ctx, "record session activity", err):
		default:
			return s, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	return s, nil
}

// decode is gob's decoding of a session's values, remembered by the
// encoded bytes: a gob decoder compiles the types it meets each time, which
// made decoding a third of reading a session, and the same few sessions
// are read on every request. Each caller gets its own copy of the map.
func (st *SessionStore) decode(data []byte) (map[any]any, bool) {
	st.mu.Lock()
	cached, ok := st.decoded[string(data)]
	st.mu.Unlock()
	if !ok {
		cached = make(map[any]any)
		if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&cached); err != nil {
			return nil, false
		}
		st.mu.Lock()
		if len(st.decoded) >= maxDecoded {
			clear(st.decoded)
		}
		st.decoded[string(data)] = cached
		st.mu.Unlock()
	}
	return maps.Clone(cached), true
}

// maxDecoded bounds the decoded values kept by decode.
const maxDecoded = 10000

// Save writes the session and its cookie. A new session gets a fresh
// random id (an id from the request is never adopted) and a new row; a
// loaded one only updates its row. If the row was ended meanwhile (signed
// out, ended by its owner or an admin, the account disabled or its
// password reset), nothing is written back: s becomes a new empty session,
// its cookie is cleared, and Save returns nil (the request is signed out).
// MaxAge < 0 ends the session: the row is deleted and the cookie cleared.
func (st *SessionStore) Save(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	if s.Options != nil && s.Options.MaxAge < 0 {
		if s.ID != "" {
			if err := st.b.DeleteSession(r.Context(), rowID(s.ID)); err != nil {
				return fmt.Errorf("auth: delete session: %w", err)
			}
		}
		http.SetCookie(w, sessions.NewCookie(s.Name(), "", s.Options))
		return nil
	}
	now := st.now()
	if s.ID == "" {
		s.ID = newSessionID()
		s.Values[createdKey] = now.UnixMilli()
		return st.write(r.Context(), w, s, "", true, now)
	}
	err := st.write(r.Context(), w, s, "", false, now)
	if errors.Is(err, store.ErrRevoked) {
		st.signOut(w, s)
		return nil
	}
	return err
}

// signOut turns s into a new empty session and clears its cookie.
func (st *SessionStore) signOut(w http.ResponseWriter, s *sessions.Session) {
	clear(s.Values)
	s.ID, s.IsNew = "", true
	opts := st.options
	opts.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(s.Name(), "", &opts))
}

// Rotate gives the session a new id, keeping its values, deletes the row
// of the old id and sets the new cookie: call it at login (after SignIn)
// instead of Save, so an id planted before login is worthless, and at
// logout. The absolute lifetime starts again. If the user's sessions were
// revoked after SignIn's gen was read, nothing is written, s is signed
// out, and the error is store.ErrRevoked.
func (st *SessionStore) Rotate(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	old := ""
	if s.ID != "" {
		old = rowID(s.ID)
	}
	now := st.now()
	s.ID = newSessionID()
	s.IsNew = false
	s.Values[createdKey] = now.UnixMilli()
	err := st.write(r.Context(), w, s, old, true, now)
	if errors.Is(err, store.ErrRevoked) {
		st.signOut(w, s)
	}
	return err
}

// write stores s (a new row when create, replacing the row oldRow when not
// "") and sets its cookie.
func (st *SessionStore) write(ctx context.Context, w http.ResponseWriter, s *sessions.Session, oldRow string, create bool, now time.Time) error {
	created := now
	if v, ok := s.Values[createdKey].(int64); ok {
		created = time.UnixMilli(v)
	}
	pwdAt, signIn := s.Values[signInKey].(int64)
	delete(s.Values, signInKey)
	var data bytes.Buffer
	if err := gob.NewEncoder(&data).Encode(s.Values); err != nil {
		return fmt.Errorf("auth: encode session values: %w", err)
	}
	row := store.Session{ID: rowID(s.ID), UserID: userID(s.Values[UserIDKey]), Data: data.Bytes(),
		CreatedAt: created, LastSeenAt: now, ExpiresAt: st.deadline(created, now)}
	row.UserGen, _ = s.Values[userGenKey].(int64)
	row.IP, _ = s.Values[ipValKey].(string)
	row.UserAgent, _ = s.Values[agentKey].(string)
	row.SignIn = signIn
	if signIn {
		row.PasswordChangedAt = time.UnixMilli(pwdAt)
	}
	var err error
	switch {
	case oldRow != "":
		err = st.b.ReplaceSession(ctx, oldRow, row)
	case create:
		err = st.b.CreateSession(ctx, row)
	default:
		err = st.b.UpdateSession(ctx, row)
	}
	if err != nil {
		return fmt.Errorf("auth: save session: %w", err)
	}
	encoded, err := securecookie.EncodeMulti(s.Name(), s.ID, st.codecs...)
	if err != nil {
		return fmt.Errorf("auth: sign session cookie: %w", err)
	}
	opts := s.Options
	if opts == nil {
		opts = &st.options
	}
	http.SetCookie(w, sessions.NewCookie(s.Name(), encoded, opts))
	return nil
}

// fresh is a new empty session with a copy of the store's cookie options.
func (st *SessionStore) fresh(name string) *sessions.Session {
	s := sessions.NewSession(st, name)
	opts := st.options
	s.Options = &opts
	s.IsNew = true
	return s
}

// deadline is when a session created at created and seen at now ends.
func (st *SessionStore) deadline(created, now time.Time) time.Time {
	idle, abs := now.Add(st.idle), created.Add(st.absolute)
	if abs.Before(idle) {
		return abs
	}
	return idle
}

// newSessionID is 256 random bits, URL-safe base64.
func newSessionID() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// rowID is the store key of a session id: its SHA-256.
func rowID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// userID reads UserIDKey's value, 0 when none.
func userID(v any) int64 {
	switch id := v.(type) {
	case int64:
		return id
	case int:
		return int64(id)
	}
	return 0
}
