package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
)

const cookieName = "imagedash"

type sessionEnv struct {
	db    *store.Store
	clock *fakeClock
	keys  [][]byte
}

func newSessionEnv(t *testing.T) *sessionEnv {
	t.Helper()
	db, err := store.Open(context.Background(), storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &sessionEnv{db: db, clock: newFakeClock(),
		keys: [][]byte{securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)}}
}

func (e *sessionEnv) store(t *testing.T, keys ...[]byte) *SessionStore {
	t.Helper()
	if len(keys) == 0 {
		keys = e.keys
	}
	st, err := NewSessionStore(e.db, SessionConfig{KeyPairs: keys, Idle: 30 * time.Minute,
		Absolute: 8 * time.Hour, Secure: true, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// request makes a request carrying cookie c (when not nil).
func request(c *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if c != nil {
		r.AddCookie(c)
	}
	return r
}

// sessionCookie is the session cookie a response set, or nil.
func sessionCookie(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

// save stores s and returns the cookie the response set.
func save(t *testing.T, st sessions.Store, r *http.Request, s *sessions.Session) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	if err := st.Save(r, w, s); err != nil {
		t.Fatal(err)
	}
	c := sessionCookie(w)
	if c == nil {
		t.Fatal("Save set no cookie")
	}
	return c
}

// load is the session that cookie c names, through a fresh request.
func load(t *testing.T, st sessions.Store, c *http.Cookie) *sessions.Session {
	t.Helper()
	s, err := st.Get(request(c), cookieName)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *sessionEnv) login(t *testing.T, st *SessionStore) (store.User, *http.Cookie) {
	t.Helper()
	u, err := e.db.CreateUser(context.Background(), store.NewUser{Username: "alice", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	r := request(nil)
	s, _ := st.Get(r, cookieName)
	s.Values[UserIDKey] = u.ID
	w := httptest.NewRecorder()
	if err := st.Rotate(r, w, s); err != nil {
		t.Fatal(err)
	}
	return u, sessionCookie(w)
}

func TestSessionRoundTripAndCookieFlags(t *testing.T) {
	e := newSessionEnv(t)
	st := e.store(t)
	r := request(nil)
	s, err := st.Get(r, cookieName)
	if err != nil || !s.IsNew || len(s.Values) != 0 {
		t.Fatalf("first Get = %+v, %v; want a new empty session", s, err)
	}
	s.Values["return_to"] = "/images?folder=a"
	s.AddFlash("saved")
	c := save(t, st, r, s)

	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 8*3600 {
		t.Errorf("cookie flags: %+v", c)
	}
	if strings.Contains(c.Value, "/images") || strings.Contains(c.Value, s.ID) {
		t.Errorf("cookie %q holds the values or the bare id", c.Value)
	}
	if len(s.ID) < 22 { // 128 bits in base64
		t.Errorf("session id %q is shorter than 128 bits", s.ID)
	}

	got := load(t, st, c)
	if got.IsNew || got.ID != s.ID || got.Values["return_to"] != "/images?folder=a" {
		t.Errorf("loaded %+v, want the saved session", got)
	}
	if f := got.Flashes(); len(f) != 1 || f[0] != "saved" {
		t.Errorf("flashes = %v, want [saved]", f)
	}
}

func TestSessionRotateChangesID(t *testing.T) {
	e := newSessionEnv(t)
	st := e.store(t)
	// A session exists before login (the attacker may have planted it).
	r := request(nil)
	s, _ := st.Get(r, cookieName)
	s.Values["return_to"] = "/ops"
	before := save(t, st, r, s)
	oldID := s.ID

	u, err := e.db.CreateUser(context.Background(), store.NewUser{Username: "alice", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	r = request(before)
	s, _ = st.Get(r, cookieName)
	s.Values[UserIDKey] = u.ID
	w := httptest.NewRecorder()
	if err := st.Rotate(r, w, s); err != nil {
		t.Fatal(err)
	}
	after := sessionCookie(w)
	if s.ID == oldID || after == nil || after.Value == before.Value {
		t.Fatalf("Rotate kept the id %q", oldID)
	}
	if got := load(t, st, before); !got.IsNew {
		t.Errorf("the pre-login cookie still loads a session: %+v", got)
	}
	got := load(t, st, after)
	if got.IsNew || got.Values[UserIDKey] != u.ID || got.Values["return_to"] != "/ops" {
		t.Errorf("after Rotate: %+v, want the values kept", got)
	}
	// The row carries the user, so "end all sessions of a user" finds it.
	if n, err := e.db.DeleteUserSessions(context.Background(), u.ID); err != nil || n != 1 {
		t.Errorf("DeleteUserSessions = %d, %v; want 1", n, err)
	}
	if got := load(t, st, after); !got.IsNew {
		t.Errorf("after DeleteUserSessions the cookie still loads a session")
	}
}

func TestSessionIdleExpiry(t *testing.T) {
	e := newSessionEnv(t)
	st := e.store(t)
	_, c := e.login(t, st)

	// Used every 20 minutes, it outlives the 30-minute idle timeout...
	for range 4 {
		e.clock.Advance(20 * time.Minute)
		if load(t, st, c).IsNew {
			t.Fatalf("active session ended at %v", e.clock.Now())
		}
	}
	// ...and ends after 30 minutes without use.
	e.clock.Advance(30 * time.Minute)
	if got := load(t, st, c); !got.IsNew || len(got.Values) != 0 {
		t.Errorf("idle session still valid: %+v", got)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	e := newSessionEnv(t)
	st := e.store(t)
	_, c := e.login(t, st)
	for e.clock.Now().Before(newFakeClock().Now().Add(8*time.Hour - 20*time.Minute)) {
		e.clock.Advance(20 * time.Minute)
		if load(t, st, c).IsNew {
			t.Fatalf("session ended before its lifetime, at %v", e.clock.Now())
		}
	}
	e.clock.Advance(20 * time.Minute) // 8 h after login
	if got := load(t, st, c); !got.IsNew {
		t.Errorf("session valid past its absolute lifetime")
	}
	// The sweep removes what is left.
	if _, err := e.db.SweepSessions(context.Background(), e.clock.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestSessionLogoutDeletesRow(t *testing.T) {
	e := newSessionEnv(t)
	st := e.store(t)
	_, c := e.login(t, st)
	r := request(c)
	s, _ := st.Get(r, cookieName)
	id := s.ID
	s.Options.MaxAge = -1
	w := httptest.NewRecorder()
	if err := st.Save(r, w, s); err != nil {
		t.Fatal(err)
	}
	if cleared := sessionCookie(w); cleared == nil || cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Errorf("logout cookie = %+v, want a cleared one", cleared)
	}
	if _, err := e.db.LoadSession(context.Background(), rowID(id), e.clock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("row after logout: %v, want ErrNotFound", err)
	}
	if got := load(t, st, c); !got.IsNew {
		t.Errorf("the old cookie still loads a session after logout")
	}
}

func TestSessionKeyRotation(t *testing.T) {
	e := newSessionEnv(t)
	oldKeys := e.keys
	_, c := e.login(t, e.store(t, oldKeys...))

	newKeys := [][]byte{securecookie.GenerateRandomKey(64), securecookie.GenerateRandomKey(32)}
	rotated := e.store(t, append(append([][]byte{}, newKeys...), oldKeys...)...)
	got := load(t, rotated, c)
	if got.IsNew {
		t.Fatal("a cookie signed with the previous key is no longer valid")
	}
	// Saving re-signs it with the new key, which the old pair alone refuses.
	resigned := save(t, rotated, request(c), got)
	if load(t, e.store(t, newKeys...), resigned).IsNew {
		t.Errorf("re-signed cookie not valid under the new key")
	}
	if !load(t, e.store(t, oldKeys...), resigned).IsNew {
		t.Errorf("re-signed cookie still signed with the old key")
	}
	// With the old key retired, old cookies end.
	if !load(t, e.store(t, newKeys...), c).IsNew {
		t.Errorf("a cookie of a retired key is still valid")
	}
}

func TestSessionForgedCookie(t *testing.T) {
	e := newSessionEnv(t)
	st := e.store(t)
	_, c := e.login(t, st)
	other := e.store(t, securecookie.GenerateRandomKey(32))
	forgedByKey := save(t, other, request(nil), func() *sessions.Session {
		s, _ := other.New(request(nil), cookieName)
		s.Values[UserIDKey] = int64(1)
		return s
	}())
	tampered := *c
	tampered.Value = c.Value[:len(c.Value)-2] + "AA"
	for name, fc := range map[string]*http.Cookie{
		"signed with another key": forgedByKey,
		"tampered":                &tampered,
		"garbage":                 {Name: cookieName, Value: "not-a-cookie"},
	} {
		s, err := st.Get(request(fc), cookieName)
		if err != nil || !s.IsNew || len(s.Values) != 0 || s.ID != "" {
			t.Errorf("%s: got %+v, %v; want a new empty session", name, s, err)
		}
	}
	// Saving a new session never adopts the id of the cookie sent.
	r := request(&tampered)
	s, _ := st.Get(r, cookieName)
	save(t, st, r, s)
	if s.ID == "" || strings.Contains(tampered.Value, s.ID) {
		t.Errorf("new session id %q", s.ID)
	}
}

func TestSessionStoreConfig(t *testing.T) {
	e := newSessionEnv(t)
	for name, keys := range map[string][][]byte{
		"none":           nil,
		"short hash key": {[]byte("short")},
		"bad block key":  {securecookie.GenerateRandomKey(32), []byte("123")},
		"short old key":  {securecookie.GenerateRandomKey(32), nil, []byte("x")},
	} {
		if _, err := NewSessionStore(e.db, SessionConfig{KeyPairs: keys}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
